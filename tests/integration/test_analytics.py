"""Analytics: the loader, every report against figures computed here from the
operational tables (oracle.py), CSV, a separate analytics database, the lag
and the continuous check in /metrics, `keptd analytics --verify` and
`--repair`. Each test that loads analytics ends with a clean check.

The seeded history goes through the product only: plans of every origin
agreed over twelve past weeks come in through the history import (JSON and
CSV, with payments on time, late, partial or missing, a returned payment, a
cancellation and a renegotiation); an imported plan gets backdated payments
through the API and a payment file and is judged through as_of; reminder
calls go through kept-telsim; a customer moves time zone."""
import csv
import datetime
import io
import json
import time
import uuid

import pytest

import oracle
from conftest import Keptd, create_key, keptd_cmd, new_account, new_customer, set_clock, unique
from selfservice import Visitor, customer_on_the_page
from test_calls import Debtor, finished, run_reminders, wait_for_call

WEEKS = 12
FROM, TO = "2000-01-03", "2100-01-04"
REPORTS = ["summary", "weekly-adherence", "cohorts", "origin", "agents", "reminders", "compliance"]
ZONES = [("America/New_York", "US-NY", "USD"), ("Europe/London", "GB", "GBP"), ("Pacific/Auckland", "NZ", "NZD")]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def noon(day):
    return datetime.datetime.combine(day, datetime.time(12), datetime.timezone.utc)


def verify(cluster, **env):
    """keptd analytics --verify: its exit status and report."""
    done = keptd_cmd(cluster.url, "analytics", "--verify", **env)
    return done.returncode, json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else None, done.stderr


def assert_verified(cluster, **env):
    status, report, stderr = verify(cluster, **env)
    assert status == 0 and report["differences"] == 0, (report, stderr)


def weekly(first, weeks, amount):
    return [(first + datetime.timedelta(days=7 * k), amount) for k in range(weeks)]


def history_plan(ref, account, origin, agreed, agent, first, weekly_cents=None, settlement=None, installments=None):
    p = {"plan_ref": ref, "account_external_ref": account["external_ref"], "origin": origin,
         "agreed_at": iso(agreed), "agreed_by": agent, "first_due_date": first.isoformat(), "payments": []}
    if origin == "settlement":
        p.update(settlement_cents=settlement, installments=installments)
    else:
        p["weekly_amount_cents"] = weekly_cents
    return p


def pay_like(n, seq, due, amount):
    """on time, two days late, half, nothing — in turn, shifted per plan."""
    kind = (seq + n) % 4
    if kind == 0:
        return noon(due) - datetime.timedelta(days=1), amount
    if kind == 1:
        return noon(due) + datetime.timedelta(days=2), amount
    if kind == 2:
        return noon(due), amount // 2
    return None, 0


@pytest.fixture(scope="module")
def history(phone_server, admin_key, cluster, telsim):
    api = phone_server.client(admin_key)
    set_clock(api, None)  # whatever an earlier module left keptd's simulated clock at
    names = [unique("Agent A"), unique("Agent B")]
    agents = [api.post("/v1/api-keys", {"role": "agent", "name": n}).json()["key"] for n in names]
    agent = phone_server.client(agents[0])
    today = datetime.date.today()
    agreed = noon(today - datetime.timedelta(days=7 * (WEEKS + 1)))
    first = agreed.date() + datetime.timedelta(days=3)
    plans, accounts = [], []
    for n in range(9):
        zone, jurisdiction, currency = ZONES[n % 3]
        c = new_customer(agent, time_zone=zone, jurisdiction=jurisdiction)
        a = new_account(agent, c["id"], original_balance_cents=200000 + 1000 * n, currency=currency)
        accounts.append(a)
        origin = ("agent_set", "customer_proposed", "settlement")[n % 3]
        ref = unique("HP")
        if origin == "settlement":
            p = history_plan(ref, a, origin, agreed, names[n % 2], first, settlement=160000, installments=8)
            amounts = weekly(first, 8, 20000)
        else:
            p = history_plan(ref, a, origin, agreed, names[n % 2], first, weekly_cents=10000 + 500 * n)
            amounts = weekly(first, WEEKS, 10000 + 500 * n)
        for seq, (due, amount) in enumerate(amounts, start=1):
            when, cents = pay_like(n, seq, due, amount)
            if when and when < noon(today) - datetime.timedelta(days=4):
                p["payments"].append({"amount_cents": cents, "received_at": iso(when), "source": "card",
                                      "source_ref": unique("hp")})
        plans.append(p)
    plans[1]["payments"][0].update(reversed_at=iso(noon(first) + datetime.timedelta(days=10)),
                                   reversal_reason="returned cheque")
    plans[4].update(cancelled_at=iso(agreed + datetime.timedelta(days=8)), cancel_reason="customer moved abroad")
    # a renegotiation: account 7 agrees a smaller plan six weeks ago
    again = history_plan(unique("HP"), accounts[7], "customer_proposed", noon(today - datetime.timedelta(days=42)),
                         names[0], today - datetime.timedelta(days=40), weekly_cents=8000)
    again["payments"] = [{"amount_cents": 8000, "received_at": iso(noon(today - datetime.timedelta(days=40))),
                          "source": "card", "source_ref": unique("hp")}]
    plans.append(again)
    r = api.post("/v1/imports/history", {"plans": plans})
    assert r.status == 201, r.text[:3000]

    # the same through CSV: one plan with two payments
    c = new_customer(agent, time_zone="Europe/London", jurisdiction="GB")
    a = new_account(agent, c["id"], original_balance_cents=90000, currency="GBP")
    ref = unique("HC")
    rows = [["record", "plan_ref", "account_external_ref", "origin", "agreed_at", "agreed_by", "weekly_amount_cents",
             "first_due_date", "amount_cents", "received_at", "source", "source_ref"],
            ["plan", ref, a["external_ref"], "agent_set", iso(agreed), names[1], "9000", first.isoformat(), "", "", "",
             ""]]
    for seq in (1, 2):
        rows.append(["payment", ref, "", "", "", "", "", "", "9000",
                     iso(noon(first + datetime.timedelta(days=7 * (seq - 1)))), "bacs", unique("hc")])
    body = io.StringIO()
    csv.writer(body).writerows(rows)
    r = api.post("/v1/imports/history", body.getvalue(), content_type="text/csv")
    assert r.status == 201, r.text[:3000]

    # an imported plan judged through as_of, paid through the API and a payment file
    c = new_customer(agent, time_zone="America/Chicago", jurisdiction="US-IL")
    a = new_account(agent, c["id"], original_balance_cents=50000, currency="USD")
    p = api.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 5000, "imported": True,
                                                   "first_due_date": first.isoformat()})
    assert p.status == 201, p
    for seq, (due, amount) in enumerate(weekly(first, 6, 5000), start=1):
        if seq % 3 == 0:
            continue
        r = api.post("/v1/payments", {"account_id": a["id"], "amount_cents": amount, "received_at": iso(noon(due)),
                                      "source": "card", "source_ref": unique("ap")},
                       headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status == 201, r
    file = (f"account_external_ref,amount_cents,received_at,source,source_ref\r\n"
            f"{a['external_ref']},2500,{iso(noon(first + datetime.timedelta(days=14)))},bacs,{unique('pf')}\r\n")
    r = api.post("/v1/imports/payments", file, content_type="text/csv")
    assert r.status == 201, r
    for week in range(WEEKS + 1):
        as_of = min(noon(first + datetime.timedelta(days=7 * week + 5)), datetime.datetime.now(datetime.timezone.utc)
                    - datetime.timedelta(minutes=1))
        assert api.post("/v1/admin/evaluate", {"as_of": iso(as_of)}).status == 200

    # reminder calls through kept-telsim: a confirmed one and a blocked one
    d = Debtor(api, agent, days_back=7 * WEEKS)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    run_reminders(api, d.before_due(3))
    wait_for_call(api, d, finished)
    blocked = Debtor(api, agent, days_back=7 * WEEKS, consent=False)
    run_reminders(api, blocked.before_due(4))
    # plans customers made themselves: a weekly amount keyed in on a reminder call (channel ivr) ...
    ivr = Debtor(api, agent)
    telsim.post("/_telsim/callees", {ivr.number: {"behaviour": "human", "keys": "1,3,25#,1"}})
    run_reminders(api, ivr.before_due(1))
    wait_for_call(api, ivr, lambda c: finished(c) and c["digits"] == "1325#1")
    set_clock(api, None)  # the reminders moved keptd's simulated clock into the past
    # ... and one on the self-service page (channel self_service), beside one an agent set at the desk
    c = new_customer(agent, time_zone="America/New_York", jurisdiction="US-NY")
    a = new_account(agent, c["id"], original_balance_cents=100000, currency="USD")
    r = agent.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 20000,
                                                     "first_due_date": (today + datetime.timedelta(days=7)).isoformat()})
    assert r.status == 201 and (r.json()["status"], r.json()["channel"]) == ("active", "agent"), r
    _, _, link = customer_on_the_page(agent, agent)
    v = Visitor(phone_server.port, link["url"])
    v.open()
    v.prove()
    v.propose("150.00")
    assert "Your plan is agreed" in v.agree().text

    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    # a customer moves after their facts were loaded: their local dates move with them
    moved = agent.get(f"/v1/customers/{accounts[0]['customer_id']}").json()
    r = agent.patch(f"/v1/customers/{moved['id']}", {"time_zone": "Pacific/Kiritimati"},
                    headers={"If-Match": str(moved["version"])})
    assert r.status == 200, r
    r = api.post("/v1/admin/evaluate", {"as_of": iso(datetime.datetime.now(datetime.timezone.utc)
                                                     - datetime.timedelta(minutes=1))})
    assert r.status == 200, r
    done = keptd_cmd(cluster.url, "analytics")
    assert done.returncode == 0, done.stderr
    for client in (api, agent):
        client.close()
    yield {"agents": names}
    # whatever the module's tests did, analytics ends equal to the operational truth
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    assert_verified(cluster)


def finance(server, role_keys):
    return server.client(role_keys["finance"])


def report(client, name, fmt="json", frm=FROM, to=TO):
    r = client.get(f"/v1/reports/{name}?from={frm}&to={to}" + ("&format=csv" if fmt == "csv" else ""))
    assert r.status == 200, r
    return r.json()["rows"] if fmt == "json" else r


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_equals_the_operational_tables(history, phone_server, role_keys, cluster, name):
    truth = oracle.Truth(cluster)
    rows = report(finance(phone_server, role_keys), name)
    assert oracle.differences(name, rows, oracle.expected(truth, name, FROM, TO)) == []
    assert rows, name


def test_report_semantics(history, phone_server, role_keys, cluster):
    fin = finance(phone_server, role_keys)
    weeks = report(fin, "weekly-adherence")
    # every outcome is there, and waived installments are counted apart, never as due
    assert all(sum(r[k] for r in weeks) > 0 for k in ("kept", "kept_late", "partial", "missed", "waived"))
    waived = int(cluster.psql("SELECT count(*) FROM kept.installments WHERE outcome = 'waived'")[0][0])
    assert sum(r["waived"] for r in weeks) == waived > 0
    # a week with nothing judged has no rate (not 0%); the current week says it is partial
    future = [r for r in weeks if r["week_state"] == "future"]
    assert future and all(r["judged"] == 0 and r["kept_rate"] is None and r["collection_rate"] is None for r in future)
    monday = oracle.monday(oracle.today_utc()).isoformat()
    assert {r["week_state"] for r in weeks if r["week"] == monday} == {"current"}  # the history runs through this week
    # money is per currency: every row is one currency
    assert {r["currency"] for r in weeks} >= {"USD", "GBP", "NZD"}
    # every rate is beside its count
    for r in report(fin, "origin"):
        assert {"plans", "judged", "due_judged_cents"} <= set(r)
    # the origin report is split by the channel each plan was made through
    channels = {(r["origin"], r["channel"]) for r in report(fin, "origin")}
    assert {("customer_proposed", "self_service"), ("customer_proposed", "ivr"), ("agent_set", "agent"),
            ("agent_set", "import"), ("customer_proposed", "import")} <= channels


def test_loading_again_changes_nothing_and_a_rebuild_gives_the_same_reports(history, phone_server, role_keys,
                                                                            cluster):
    fin = finance(phone_server, role_keys)
    before = {name: report(fin, name) for name in REPORTS}
    again = keptd_cmd(cluster.url, "analytics")
    assert again.returncode == 0 and '"events":0' in again.stdout
    assert {name: report(fin, name) for name in REPORTS} == before
    rebuilt = keptd_cmd(cluster.url, "analytics", "--rebuild")
    assert rebuilt.returncode == 0 and json.loads(rebuilt.stdout)["rebuilt"], rebuilt.stderr
    assert {name: report(fin, name) for name in REPORTS} == before
    assert_verified(cluster)


def test_verify_finds_what_sql_changed_and_repair_mends_it(history, cluster):
    assert_verified(cluster)
    plan = cluster.psql("SELECT plan_id FROM analytics.fact_installment WHERE outcome = 'kept' LIMIT 1")[0][0]
    # an operator's correction by SQL, no event: the facts no longer tell the truth
    cluster.psql(f"UPDATE kept.installments SET due_date = due_date + 1 WHERE plan_id = {plan}")
    # and an aggregate changed by hand
    cluster.psql("UPDATE analytics.agg_week SET kept = kept + 3 WHERE due_week = (SELECT min(due_week) FROM analytics.agg_week)")
    status, found, stderr = verify(cluster)
    assert status == 1 and found["differences"] > 0
    columns = {(d["entity"], d["column"]) for d in found["first"]}
    assert ("fact_installment", "due_date") in columns and ("agg_week", "kept") in columns, found
    assert f'"plan_id": {plan}' in stderr and "due_date: analytics" in stderr
    mended = keptd_cmd(cluster.url, "analytics", "--repair")
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert json.loads(mended.stdout)["differences"] == 0 and json.loads(mended.stdout)["repaired"] > 0
    assert_verified(cluster)
    audit = cluster.psql("SELECT after->>'plans' FROM kept.audit_events WHERE action = 'analytics.repaired' "
                         "ORDER BY id DESC LIMIT 1")
    assert audit and int(plan) in json.loads(audit[0][0])
    cluster.psql(f"UPDATE kept.installments SET due_date = due_date - 1 WHERE plan_id = {plan}")
    assert keptd_cmd(cluster.url, "analytics", "--repair").returncode == 0


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
    assert accept.status == 200 and accept.body.decode().startswith("agent_user_id,agent_name,")
    names = [row["agent_name"] for row in csv.DictReader(io.StringIO(accept.body.decode()))]
    assert set(history["agents"]) <= set(names)


def test_a_report_says_how_fresh_it_is(history, phone_server, role_keys):
    doc = finance(phone_server, role_keys).get(f"/v1/reports/summary?from={FROM}&to={TO}").json()
    assert doc["analytics"]["loaded_through"] and doc["analytics"]["rebuild_pending"] is False
    assert doc["analytics"]["caught_up_at"] >= doc["analytics"]["loaded_at"]


def test_report_refusals(phone_server, role_keys):
    fin = finance(phone_server, role_keys)
    assert fin.get(f"/v1/reports/nope?from={FROM}&to={TO}").status == 404
    assert fin.get("/v1/reports/origin?from=2026-13-01&to=2027-01-01").error["code"] == "invalid_date"
    assert fin.get("/v1/reports/origin?to=2027-01-01").error["code"] == "missing_value"
    assert fin.get("/v1/reports/origin?from=2027-01-01&to=2026-01-01").error["code"] == "invalid_range"
    assert fin.get(f"/v1/reports/origin?from={FROM}&to={TO}&format=xml").error["code"] == "invalid_format"
    assert phone_server.client(role_keys["agent"]).get(f"/v1/reports/origin?from={FROM}&to={TO}").status == 403
    assert phone_server.client(role_keys["admin"]).get(f"/v1/reports/origin?from={FROM}&to={TO}").status == 200


def test_a_separate_analytics_database(history, phone_server, role_keys, cluster, admin_key):
    other = cluster.new_database("kept_analytics_it")
    assert keptd_cmd(cluster.url, "migrate", KEPT_ANALYTICS_DATABASE_URL=other).returncode == 0
    # a new analytics database starts with a rebuild: the operational one may have run for years
    loaded = keptd_cmd(cluster.url, "analytics", KEPT_ANALYTICS_DATABASE_URL=other, KEPT_ANALYTICS_BATCH="7")
    assert loaded.returncode == 0 and json.loads(loaded.stdout)["rebuilt"], loaded.stdout + loaded.stderr
    assert int(cluster.psql("SELECT count(*) FROM analytics.fact_installment", db="kept_analytics_it")[0][0]) > 0
    # then batches travel as JSON, seven events at a time
    agent = phone_server.client(role_keys["agent"])
    for _ in range(3):
        new_account(agent, new_customer(agent, time_zone="Europe/Paris", jurisdiction="FR")["id"], currency="EUR")
    plan = json.loads(cluster.psql("SELECT kept.plan_json(p) FROM kept.plans p WHERE status = 'active' "
                                   "ORDER BY id DESC LIMIT 1")[0][0])
    money = phone_server.client(role_keys["finance"])  # money is finance's
    r = money.post("/v1/payments", {"account_id": plan["account_id"], "amount_cents": 100, "source": "card",
                                      "source_ref": unique("sep")}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 201, r
    loaded = keptd_cmd(cluster.url, "analytics", KEPT_ANALYTICS_DATABASE_URL=other, KEPT_ANALYTICS_BATCH="7")
    assert loaded.returncode == 0 and json.loads(loaded.stdout)["events"] > 0, loaded.stdout + loaded.stderr
    # a batch that does not start at the cursor (applied twice, or by a second loader) is refused
    cursor = cluster.psql("SELECT last_tx_id, last_event_id FROM analytics.loader_state", db="kept_analytics_it")[0]
    stale = cluster.psql(f"SELECT analytics.apply('0'::xid8, 0, '{cursor[0]}'::xid8, {cursor[1]}, 1, now(), "
                         "'[]', '[]', '[]', '[]')", db="kept_analytics_it")
    assert stale == [["-1"]]
    assert cluster.psql("SELECT last_tx_id, last_event_id FROM analytics.loader_state", db="kept_analytics_it")[0] == cursor
    assert keptd_cmd(cluster.url, "analytics").returncode == 0  # the operational database's own analytics too
    k = Keptd(cluster.url, KEPT_ANALYTICS_DATABASE_URL=other)
    try:
        fin = k.client(role_keys["finance"])
        assert {n: report(fin, n) for n in REPORTS} == {n: report(finance(phone_server, role_keys), n) for n in REPORTS}
    finally:
        k.assert_clean_exit()
    assert_verified(cluster, KEPT_ANALYTICS_DATABASE_URL=other)
    cluster.psql("UPDATE analytics.fact_payment SET amount_cents = amount_cents + 1 "
                 "WHERE payment_id = (SELECT min(payment_id) FROM analytics.fact_payment)", db="kept_analytics_it")
    assert verify(cluster, KEPT_ANALYTICS_DATABASE_URL=other)[0] == 1
    assert keptd_cmd(cluster.url, "analytics", "--repair", KEPT_ANALYTICS_DATABASE_URL=other).returncode == 0
    assert_verified(cluster, KEPT_ANALYTICS_DATABASE_URL=other)


def metric(text, name):
    lines = [l for l in text.splitlines() if l.startswith(name + " ")]
    return float(lines[0].split()[1]) if lines else None


def test_the_loader_worker_reports_its_lag_and_its_check(history, cluster, admin_key, role_keys):
    k = Keptd(cluster.url, KEPT_WORKERS="loader", KEPT_ANALYTICS_INTERVAL="1")
    try:
        agent = k.client(role_keys["agent"])
        new_account(agent, new_customer(agent)["id"])
        deadline = time.time() + 20
        while True:
            text = k.client().get("/metrics").body.decode()
            if metric(text, "kept_analytics_lag_events") == 0 and metric(text, "kept_analytics_mismatches") is not None:
                break
            assert time.time() < deadline, text[-2000:]
            time.sleep(0.2)
        assert "kept_analytics_lag_seconds " in text
        assert metric(text, "kept_analytics_mismatches") == 0
        # a fact changed by hand: the continuous check finds it within a sweep
        cluster.psql("UPDATE analytics.fact_installment SET amount_paid_cents = amount_paid_cents + 7 "
                     "WHERE (plan_id, seq) = (SELECT plan_id, seq FROM analytics.fact_installment "
                     "ORDER BY plan_id, seq LIMIT 1)")
        deadline = time.time() + 30
        while metric(k.client().get("/metrics").body.decode(), "kept_analytics_mismatches") == 0:
            assert time.time() < deadline, k.log()[-3000:]
            time.sleep(0.3)
        assert k.log_lines("event=analytics_mismatch", "column=amount_paid_cents")
        agent.close()
    finally:
        k.assert_clean_exit()
    assert keptd_cmd(cluster.url, "analytics", "--repair").returncode == 0
    assert_verified(cluster)
