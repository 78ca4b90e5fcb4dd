"""Analytics: the loader, the reports against figures computed here from the
operational tables, CSV, a separate analytics database, the lag in /metrics.

The seeded history: plans of every origin over twelve past weeks (made
through the API, then moved back in time), payments on time, late, partial
or missing, a reversal, reminder calls through kept-telsim, evaluation
through as_of."""
import csv
import datetime
import io
import time
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import Keptd, keptd_cmd, new_account, new_customer, set_clock, unique
from test_calls import Debtor, run_reminders, wait_for_call, finished

WEEKS = 12
SHIFT_DAYS = 7 * (WEEKS + 1)
FROM, TO = "2000-01-03", "2100-01-04"
REPORTS = ["weekly-adherence", "cohorts", "origin", "agents", "reminders", "compliance"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def shift_back(cluster, plan_id, days):
    """Moves a plan made today into the past, as if it had been agreed `days` ago."""
    cluster.psql(f"""
        UPDATE kept.plans SET first_due_date = first_due_date - {days} WHERE id = {plan_id};
        UPDATE kept.installments i SET due_date = i.due_date - {days},
               due_end_at = kept.local_day_end(i.due_date - {days}, c.time_zone),
               grace_end_at = kept.local_day_end(i.due_date - {days} + p.grace_days, c.time_zone)
        FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers c ON c.id = a.customer_id
        WHERE p.id = i.plan_id AND i.plan_id = {plan_id};""")


def pay(client, account_id, cents, when):
    r = client.post("/v1/payments", {"account_id": account_id, "amount_cents": cents, "received_at": iso(when),
                                     "source": "card", "source_ref": unique("an")},
                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 201, r
    return r.json()


def installments(cluster, plan_id):
    rows = cluster.psql(f"SELECT seq, due_date, amount_due_cents FROM kept.installments WHERE plan_id = {plan_id} ORDER BY seq")
    return [(int(s), datetime.date.fromisoformat(d), int(a)) for s, d, a in rows]


@pytest.fixture(scope="module")
def history(phone_server, admin_key, role_keys, cluster, telsim):
    api = phone_server.client(admin_key)
    agent = phone_server.client(role_keys["agent"])
    second = phone_server.client(role_keys["supervisor"])
    today = datetime.date.today()
    plans = []
    for k in range(3):
        # agent_set: imported history
        c = new_customer(agent, time_zone="America/New_York", jurisdiction="US-NY")
        a = new_account(agent, c["id"], original_balance_cents=300000 + k * 1000, currency="USD")
        first = today - datetime.timedelta(days=SHIFT_DAYS)
        p = api.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 10000 + k * 500,
                                                       "first_due_date": first.isoformat(), "imported": True})
        assert p.status == 201, p
        plans.append(p.json())
        # customer_proposed: agreed today, then moved back
        c = new_customer(agent, time_zone="Europe/London", jurisdiction="GB")
        a = new_account(agent, c["id"], original_balance_cents=200000, currency="GBP")
        prop = agent.post(f"/v1/accounts/{a['id']}/proposals",
                          {"weekly_amount_cents": 5000 + k * 100, "first_due_date": (today + datetime.timedelta(days=1)).isoformat()})
        assert prop.status == 201, prop
        p = agent.post(f"/v1/accounts/{a['id']}/plans", {"proposal_id": prop.json()["id"]})
        assert p.status == 201, p
        if p.json()["status"] == "pending_approval":
            assert second.post(f"/v1/plans/{p.json()['id']}/approvals", {}).status in (200, 201)
        shift_back(cluster, p.json()["id"], SHIFT_DAYS + 1)
        plans.append(p.json())
        # settlement: four weekly payments, moved back
        c = new_customer(agent, time_zone="Pacific/Auckland", jurisdiction="NZ")
        a = new_account(agent, c["id"], original_balance_cents=100000, currency="NZD")
        o = agent.post(f"/v1/accounts/{a['id']}/settlement-offers", {"offer_cents": 70000}).json()
        p = agent.post(f"/v1/settlement-offers/{o['id']}/accept",
                       {"first_due_date": (today + datetime.timedelta(days=1)).isoformat(), "installments": 4})
        assert p.status == 201, p
        shift_back(cluster, p.json()["id"], SHIFT_DAYS + 1)
        plans.append(p.json())

    # reminder calls for the first plan's customer-to-be: a debtor with a number, through kept-telsim
    d = Debtor(api, agent, days_back=SHIFT_DAYS)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    run_reminders(api, d.before_due(3))
    wait_for_call(api, d, finished)
    blocked = Debtor(api, agent, days_back=SHIFT_DAYS, consent=False)
    run_reminders(api, blocked.before_due(4))
    plans += [d.plan, blocked.plan]

    # each week: on time, two days late, half, nothing — in turn, shifted per plan
    reversed_one = False
    for n, plan in enumerate(plans):
        acct = plan["account_id"]
        for seq, due, amount in installments(cluster, plan["id"]):
            due_noon = datetime.datetime.combine(due, datetime.time(12), datetime.timezone.utc)
            if due_noon > datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=4):
                break
            kind = (seq + n) % 4
            if kind == 0:
                p = pay(agent, acct, amount, due_noon - datetime.timedelta(days=1))
                if not reversed_one and n == 1:
                    rev = agent.post(f"/v1/payments/{p['id']}/reversal", {"reason": "returned cheque"})
                    assert rev.status in (200, 201), rev
                    reversed_one = True
            elif kind == 1:
                pay(agent, acct, amount, due_noon + datetime.timedelta(days=2))
            elif kind == 2:
                pay(agent, acct, amount // 2, due_noon)
    set_clock(api, None)  # the reminders above moved keptd's simulated clock into the past
    r = api.post("/v1/admin/evaluate", {"as_of": iso(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1))})
    assert r.status == 200, r
    done = keptd_cmd(cluster.url, "analytics")
    assert done.returncode == 0, done.stderr
    for c in (api, agent, second):
        c.close()
    return plans


def finance(server, role_keys):
    return server.client(role_keys["finance"])


def report(client, name, fmt="json"):
    r = client.get(f"/v1/reports/{name}?from={FROM}&to={TO}" + ("&format=csv" if fmt == "csv" else ""))
    assert r.status == 200, r
    return r.json()["rows"] if fmt == "json" else r


def rate(num, den):
    """num / den as the reports round it (4 places, half up); None without a denominator."""
    if not den:
        return None
    return float((Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def monday(d):
    return d - datetime.timedelta(days=d.weekday())


JUDGED = ("kept", "kept_late", "partial", "missed")


def operational(cluster):
    rows = cluster.psql("""
        SELECT i.plan_id, i.seq, i.due_date, i.amount_due_cents, i.amount_paid_cents, i.outcome, p.origin,
               p.first_due_date, p.currency, coalesce(p.created_by, 0), p.status, p.weekly_amount_cents,
               p.balance_at_start_cents,
               EXISTS (SELECT 1 FROM kept.calls c WHERE c.plan_id = i.plan_id AND c.seq = i.seq AND c.provider_sid IS NOT NULL),
               coalesce((SELECT string_agg(DISTINCT c.purpose, '+' ORDER BY c.purpose) FROM kept.calls c
                         WHERE c.plan_id = i.plan_id AND c.seq = i.seq AND c.provider_sid IS NOT NULL), '')
        FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id""")
    out = []
    for r in rows:
        out.append(dict(plan=int(r[0]), seq=int(r[1]), due=datetime.date.fromisoformat(r[2]), amount_due=int(r[3]),
                        paid=int(r[4]), outcome=r[5], origin=r[6], first=datetime.date.fromisoformat(r[7]),
                        currency=r[8], agent=int(r[9]), status=r[10], weekly=int(r[11]), balance=int(r[12]),
                        reminded=r[13] == "t", purposes=r[14]))
    return out


def test_weekly_adherence_matches_the_operational_tables(history, phone_server, role_keys, cluster):
    expect = defaultdict(lambda: defaultdict(int))
    for i in operational(cluster):
        e = expect[(monday(i["due"]).isoformat(), i["currency"])]
        e["installments_due"] += 1
        e["judged"] += i["outcome"] in JUDGED
        if i["outcome"] in JUDGED:
            e[i["outcome"]] += 1
        e["amount_due_cents"] += i["amount_due"]
        e["amount_collected_cents"] += i["paid"]
    rows = report(finance(phone_server, role_keys), "weekly-adherence")
    assert len(rows) == len(expect)
    for row in rows:
        e = expect[(row["week"], row["currency"])]
        for k in ("installments_due", "judged", "kept", "kept_late", "partial", "missed", "amount_due_cents",
                  "amount_collected_cents"):
            assert row[k] == e[k], (row, k)
        assert row["kept_rate"] == rate(e["kept"] + e["kept_late"], e["judged"])
        assert row["collection_rate"] == rate(e["amount_collected_cents"], e["amount_due_cents"])
    # the seeded history holds every outcome
    assert all(sum(r[k] for r in rows) > 0 for k in ("kept", "kept_late", "partial", "missed"))


def test_cohorts_match(history, phone_server, role_keys, cluster):
    expect = defaultdict(lambda: [set(), 0, 0])
    for i in operational(cluster):
        if i["outcome"] not in JUDGED:
            continue
        e = expect[(monday(i["first"]).isoformat(), (i["due"] - i["first"]).days // 7 + 1)]
        e[0].add(i["plan"])
        e[1] += 1
        e[2] += i["outcome"] in ("kept", "kept_late")
    rows = report(finance(phone_server, role_keys), "cohorts")
    assert len(rows) == len(expect)
    for row in rows:
        plans, judged, kept = expect[(row["cohort_week"], row["week"])]
        assert (row["plans"], row["judged"], row["kept"]) == (len(plans), judged, kept)
        assert row["kept_share"] == rate(kept, judged)


def plan_figures(cluster, key):
    plans = {}
    for i in operational(cluster):
        p = plans.setdefault(i["plan"], dict(i, judged=0, kept_any=0, due_judged=0, collected=0))
        p["judged"] += i["outcome"] in JUDGED
        p["kept_any"] += i["outcome"] in ("kept", "kept_late")
        p["due_judged"] += i["amount_due"] if i["outcome"] in JUDGED else 0
        p["collected"] += i["paid"] if i["outcome"] in JUDGED else 0
    groups = defaultdict(list)
    for p in plans.values():
        groups[(key(p), p["currency"])].append(p)
    return groups


def check_plan_rows(rows, groups, key_of_row):
    assert len(rows) == len(groups)
    for row in rows:
        ps = groups[(key_of_row(row), row["currency"])]
        assert row["plans"] == len(ps)
        assert row["kept_rate"] == rate(sum(p["kept_any"] for p in ps), sum(p["judged"] for p in ps))
        assert row["collection_rate"] == rate(sum(p["collected"] for p in ps), sum(p["due_judged"] for p in ps))
        assert row["completion_rate"] == rate(sum(p["status"] == "completed" for p in ps), len(ps))
        assert row["broken_rate"] == rate(sum(p["status"] == "broken" for p in ps), len(ps))
        shares = sum(Decimal(p["weekly"]) / Decimal(p["balance"]) for p in ps)
        assert abs(Decimal(str(row["avg_weekly_share"])) - shares / len(ps)) < Decimal("0.0001")


def test_origin_matches(history, phone_server, role_keys, cluster):
    rows = report(finance(phone_server, role_keys), "origin")
    assert {r["origin"] for r in rows} == {"customer_proposed", "agent_set", "settlement"}
    check_plan_rows(rows, plan_figures(cluster, lambda p: p["origin"]), lambda r: r["origin"])


def test_agents_match(history, phone_server, role_keys, cluster):
    rows = report(finance(phone_server, role_keys), "agents")
    check_plan_rows(rows, plan_figures(cluster, lambda p: p["agent"]), lambda r: r["agent_key_id"])


def test_reminders_match(history, phone_server, role_keys, cluster):
    expect = defaultdict(lambda: defaultdict(int))
    for i in operational(cluster):
        if i["outcome"] in JUDGED:
            e = expect[i["purposes"] if i["reminded"] else "none"]
            e["judged"] += 1
            e[i["outcome"]] += 1
    rows = report(finance(phone_server, role_keys), "reminders")
    assert {r["reminder"] for r in rows} == set(expect) and "none" in expect and len(expect) > 1
    for row in rows:
        e = expect[row["reminder"]]
        assert [row[k] for k in ("judged",) + JUDGED] == [e[k] for k in ("judged",) + JUDGED]
        assert row["kept_rate"] == rate(e["kept"] + e["kept_late"], e["judged"])


def test_compliance_matches(history, phone_server, role_keys, cluster):
    rows = cluster.psql("""
        SELECT (coalesce(c.dialed_at, c.updated_at) AT TIME ZONE cu.time_zone)::date, c.provider_sid IS NOT NULL,
               c.state, coalesce(c.blocked_rule, ''), coalesce(c.deferred_rule, '')
        FROM kept.calls c JOIN kept.customers cu ON cu.id = c.customer_id""")
    expect = defaultdict(int)
    for day, placed, state, blocked, deferred in rows:
        status = "placed" if placed == "t" else "blocked" if state == "blocked" else "deferred" if state == "queued" else "failed"
        rule = blocked if status == "blocked" else deferred if status == "deferred" else ""
        expect[(monday(datetime.date.fromisoformat(day)).isoformat(), status, rule)] += 1
    got = report(finance(phone_server, role_keys), "compliance")
    assert {(r["week"], r["status"], r["rule"]): r["calls"] for r in got} == dict(expect)
    assert any(r["status"] == "blocked" and r["rule"] == "no_consent" for r in got)
    assert any(r["status"] == "placed" for r in got)


def test_csv_is_rfc_4180_with_a_file_name(history, phone_server, role_keys):
    fin = finance(phone_server, role_keys)
    r = report(fin, "weekly-adherence", fmt="csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="weekly-adherence_2000-01-03_2100-01-04.csv"' in r.headers["content-disposition"]
    text = r.body.decode()
    assert text.endswith("\r\n") and "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    json_rows = report(fin, "weekly-adherence")
    assert len(rows) == len(json_rows) and rows[0]["week"] == json_rows[0]["week"]
    accept = fin.get(f"/v1/reports/agents?from={FROM}&to={TO}", headers={"Accept": "text/csv"})
    assert accept.status == 200 and accept.body.decode().startswith("agent_key_id,agent_name,")
    # an agent name with a comma and a quote survives the round trip
    names = [row["agent_name"] for row in csv.DictReader(io.StringIO(accept.body.decode()))]
    assert all(n is not None for n in names)


def test_report_refusals(phone_server, role_keys):
    fin = finance(phone_server, role_keys)
    assert fin.get(f"/v1/reports/nope?from={FROM}&to={TO}").status == 404
    assert fin.get("/v1/reports/origin?from=2026-13-01&to=2027-01-01").error["code"] == "invalid_date"
    assert fin.get("/v1/reports/origin?to=2027-01-01").error["code"] == "missing_value"
    assert fin.get("/v1/reports/origin?from=2027-01-01&to=2026-01-01").error["code"] == "invalid_range"
    assert phone_server.client(role_keys["agent"]).get(f"/v1/reports/origin?from={FROM}&to={TO}").status == 403
    assert phone_server.client(role_keys["admin"]).get(f"/v1/reports/origin?from={FROM}&to={TO}").status == 200


def all_reports(client):
    return {name: report(client, name) for name in REPORTS}


def test_loading_again_changes_nothing_and_a_rebuild_gives_the_same_reports(history, phone_server, role_keys,
                                                                            cluster):
    fin = finance(phone_server, role_keys)
    before = all_reports(fin)
    again = keptd_cmd(cluster.url, "analytics")
    assert again.returncode == 0 and '"events":0' in again.stdout
    assert all_reports(fin) == before
    rebuilt = keptd_cmd(cluster.url, "analytics", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert all_reports(fin) == before


def test_a_separate_analytics_database(history, phone_server, role_keys, cluster, admin_key):
    other = cluster.new_database("kept_analytics_it")
    assert keptd_cmd(cluster.url, "migrate", KEPT_ANALYTICS_DATABASE_URL=other).returncode == 0
    loaded = keptd_cmd(cluster.url, "analytics", KEPT_ANALYTICS_DATABASE_URL=other)
    assert loaded.returncode == 0 and '"events":0' not in loaded.stdout, loaded.stdout + loaded.stderr
    assert int(cluster.psql("SELECT count(*) FROM analytics.fact_installment", db="kept_analytics_it")[0][0]) > 0
    k = Keptd(cluster.url, KEPT_ANALYTICS_DATABASE_URL=other)
    try:
        assert all_reports(k.client(role_keys["finance"])) == all_reports(finance(phone_server, role_keys))
    finally:
        k.assert_clean_exit()


def test_the_loader_worker_reports_its_lag(history, cluster, admin_key, role_keys):
    k = Keptd(cluster.url, KEPT_WORKERS="loader", KEPT_ANALYTICS_INTERVAL="1")
    try:
        agent = k.client(role_keys["agent"])
        c = new_customer(agent)
        new_account(agent, c["id"])
        deadline = time.time() + 15
        while True:
            text = k.client().get("/metrics").body.decode()
            lines = [l for l in text.splitlines() if l.startswith("kept_analytics_lag_events ")]
            if lines and lines[0].endswith(" 0") or time.time() > deadline:
                break
            time.sleep(0.2)
        assert lines == ["kept_analytics_lag_events 0"], text[-2000:]
        assert "kept_analytics_lag_seconds " in text
        agent.close()
    finally:
        k.assert_clean_exit()
