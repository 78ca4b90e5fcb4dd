"""GET /dashboard in a real browser (Debian's headless Chromium driven by
playwright-core): for every currency the page offers, every figure it shows
— the headline's and every table's — equals what the report API answers;
rates over small samples are flagged, the partial week is marked, nothing
overflows a laptop's or a phone's screen, the console stays clean. The
screenshots are kept in tests/artifacts/."""
import json
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import oracle
from conftest import ROOT, keptd_cmd
from helpers import FROM, history  # noqa: F401  (the seeded history fixture)

CHECK = ROOT / "tests" / "dashboard" / "check.mjs"
ARTIFACTS = ROOT / "tests" / "artifacts"
TO = "2100-01-04"


def api_rows(client, name):
    r = client.get(f"/v1/reports/{name}?from={FROM}&to={TO}")
    assert r.status == 200, r
    return r.json()["rows"]


def value(v):
    """A figure as the page holds it (data-value), compared with the API's JSON value."""
    if v in ("null", None):
        return None
    try:
        return json.loads(v)
    except ValueError:
        return v


def shown_rate(v):
    """A rate as the page writes it (JavaScript's toFixed(1): a tie goes up)."""
    if v is None:
        return "—"
    return f"{Decimal(v * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def shown_money_units(text):
    """The amount in a money text, in minor units (its digits: "$1,234.50" -> 123450)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else None


def by_channel(truth, frm, to, creditors):
    """The plans of each channel and currency as the oracle counts them, in the page's order: those of
    `creditors` only (finance reads its team's)."""
    import datetime
    groups = truth._plan_groups(datetime.date.fromisoformat(frm), datetime.date.fromisoformat(to),
                                lambda p: p["channel"] if p["creditor"] in creditors else None)
    groups = {k: v for k, v in groups.items() if k[0] is not None}
    order = ["agent", "self_service", "ivr", "import"]
    return [dict(v, channel=ch, currency=cur) for (ch, cur), v in sorted(groups.items(),
                                                                       key=lambda kv: (order.index(kv[0][0]),
                                                                                       kv[0][1]))]


def test_the_dashboard_shows_what_the_api_answers(history, phone_server, role_keys, cluster):
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    ARTIFACTS.mkdir(exist_ok=True)
    done = subprocess.run(["node", str(CHECK), f"http://127.0.0.1:{phone_server.port}/dashboard",
                           role_keys["finance"], FROM, TO, str(ARTIFACTS / "dashboard")],
                          capture_output=True, text=True, timeout=180, cwd=CHECK.parent)
    assert done.returncode == 0, done.stderr + done.stdout
    page = json.loads(done.stdout.strip().splitlines()[-1])
    assert page["errors"] == [], page["errors"]
    assert page["overflow"] == {"laptop": 0, "phone": 0}, page["overflow"]
    assert all(n > 0 for n in page["points"].values()), page["points"]
    assert "Figures include everything recorded up to" in page["freshness"]

    fin = phone_server.client(role_keys["finance"])
    api = {name: api_rows(fin, name) for name in ("summary", "weekly-adherence", "origin", "agents")}
    # kept rates by channel: what the page shows is what the operational tables say, channel by channel
    team = cluster.psql("SELECT u.team FROM kept.users u JOIN kept.api_keys k ON k.user_id = u.id "
                        f"WHERE k.key_hash = sha256('{role_keys['finance']}'::bytea)")[0][0]
    creditors = {r[0] for r in cluster.psql(f"SELECT name FROM kept.creditors WHERE team = '{team}'")}
    api["channel"] = by_channel(oracle.Truth(cluster), FROM, TO, creditors)
    assert {r["channel"] for r in api["channel"]} >= {"agent", "self_service", "ivr", "import"}
    currencies = sorted({r["currency"] for rows in api.values() for r in rows})
    assert sorted(page["currencies"]) == currencies and len(currencies) >= 3
    flagged = partial = 0
    for cur, shown in page["currencies"].items():
        [summary] = [r for r in api["summary"] if r["currency"] == cur] or [None]
        for figure, cell in shown["headline"].items():
            want = summary[figure] if summary else None
            assert value(cell["value"]) == want, (cur, figure, cell)
            # and what a person reads is that figure
            if want is None:
                assert cell["text"] == "—", (cur, figure, cell)
            elif figure.startswith(("kept_rate", "collection_rate")):
                assert cell["text"] == shown_rate(want), (cur, figure, cell)
            elif figure == "arrears_cents":
                assert shown_money_units(cell["text"]) == want, (cur, figure, cell)
            else:
                assert cell["text"] == str(want), (cur, figure, cell)
        for table, name, key in (("weekly-table", "weekly-adherence", lambda r: str(r["week"])),
                                 ("origin-table", "origin", lambda r: f"{r['origin']}/{r['channel']}"),
                                 ("agents-table", "agents", lambda r: str(r["agent_user_id"])),
                                 ("channel-table", "channel", lambda r: r["channel"])):
            rows = {key(r): r for r in api[name] if r["currency"] == cur}
            got = shown["tables"][table]
            if not rows:
                assert isinstance(got, str) and cur in got, (cur, table, got)  # the empty state says so
                continue
            assert [row["key"] for row in got] == [key(r) for r in api[name] if r["currency"] == cur]
            for row in got:
                want = rows[row["key"]]
                for field, v in row["cells"].items():
                    if field in want:
                        assert value(v) == want[field], (cur, table, row["key"], field)
                    if field.endswith("_rate") and field in want:
                        assert row["texts"][field] == shown_rate(want[field]), (cur, table, row["key"], field)
                    elif field in ("judged", "plans", "installments_due") and field in want:
                        assert row["texts"][field] == str(want[field]), (cur, table, row["key"], field)
                small = [v for f, v in row["cells"].items() if f == "judged" and value(v) < 30]
                flagged += bool(small) and "small sample" in row["flags"]
                partial += "partial week" in row["flags"]
    assert flagged > 0 and partial > 0
    # counts-only reports: the same in every currency view, equal to the API
    any_view = next(iter(page["currencies"].values()))
    reminders = {r["reminder"]: r for r in api_rows(fin, "reminders")}
    assert {row["key"] for row in any_view["tables"]["reminders-table"]} == set(reminders)
    for row in any_view["tables"]["reminders-table"]:
        assert value(row["cells"]["kept_rate"]) == reminders[row["key"]]["kept_rate"]
    calls = {}
    for r in api_rows(fin, "compliance"):
        calls[f"{r['status']}/{r['rule']}"] = calls.get(f"{r['status']}/{r['rule']}", 0) + r["calls"]
    assert {row["key"]: value(row["cells"]["calls"]) for row in any_view["tables"]["compliance-table"]} == calls
    for shot in ("dashboard-1366x768.png", "dashboard-phone.png"):
        assert (ARTIFACTS / shot).stat().st_size > 10000


def test_the_page_and_its_files_are_served_without_a_key(server):
    c = server.client()
    page = c.get("/dashboard")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert b"/dashboard/chart.umd.js" in page.body and b"https://" not in page.body  # nothing from a CDN
    lib = c.get("/dashboard/chart.umd.js")
    assert lib.status == 200 and b"Chart" in lib.body and len(lib.body) > 100000
    assert c.get("/dashboard/nope.js").status == 404
    # the reports it draws still need a finance or admin key
    assert c.get("/v1/reports/origin?from=2026-01-05&to=2027-01-04").status == 401
