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
import io
import json
import time
import uuid

import pytest

import oracle
from conftest import Keptd, keptd_cmd, new_account, new_customer, unique
from helpers import FROM, TO, assert_verified, history, verify  # noqa: F401  (history: the seeded history fixture)

REPORTS = ["summary", "weekly-adherence", "cohorts", "origin", "agents", "reminders", "compliance"]

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
