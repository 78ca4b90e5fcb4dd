"""POST /v1/imports/history: a client's book with its past, replayed by kept.
Bad input refuses the whole file with every problem listed and writes
nothing; a good one ends with the outcomes kept's own rules give at each
moment, and nothing left for the background evaluator to judge."""
import csv
import datetime
import io

import pytest

from conftest import new_account, new_customer, unique

TODAY = datetime.date.today()


def ts(days_ago, hour=12):
    t = datetime.datetime.combine(TODAY - datetime.timedelta(days=days_ago), datetime.time(hour),
                                  datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(days_ago):
    return (TODAY - datetime.timedelta(days=days_ago)).isoformat()


@pytest.fixture
def agent_name(api):
    name = unique("History Agent")
    assert api.post("/v1/api-keys", {"role": "agent", "name": name}).status == 201
    return name


def account(agent, **fields):
    return new_account(agent, new_customer(agent, time_zone="Europe/London", jurisdiction="GB")["id"],
                       original_balance_cents=100000, currency="GBP", **fields)


def plan(acct, agent_name, **fields):
    p = {"plan_ref": unique("H"), "account_external_ref": acct["external_ref"], "origin": "agent_set",
         "agreed_at": ts(60), "agreed_by": agent_name, "weekly_amount_cents": 10000, "first_due_date": day(57),
         "payments": []}
    p.update(fields)
    return p


def counts(cluster, account_id):
    return cluster.psql(f"""SELECT (SELECT count(*) FROM kept.plans WHERE account_id = {account_id}),
                                   (SELECT count(*) FROM kept.payments WHERE account_id = {account_id})""")[0]


def test_a_history_is_replayed_at_its_own_times(api, agent, agent_name, cluster):
    a = account(agent)
    p = plan(a, agent_name)
    # paid on time for two weeks, then nothing: two misses break it on the fourth week's grace end
    p["payments"] = [{"amount_cents": 10000, "received_at": ts(57 - 7 * k, 9), "source": "card",
                      "source_ref": unique("hi")} for k in range(2)]
    again = plan(a, agent_name, origin="customer_proposed", agreed_at=ts(20), first_due_date=day(18),
                 weekly_amount_cents=8000,
                 payments=[{"amount_cents": 8000, "received_at": ts(18 - 7 * k, 8), "source": "bacs",
                            "source_ref": unique("hi")} for k in range(3)])
    r = api.post("/v1/imports/history", {"plans": [p, again]})
    assert r.status == 201, r
    summary = r.json()
    assert summary["plans"] == 2 and summary["payments"] == 5 and summary["accounts"] == 1
    first, second = (api.get(f"/v1/plans/{summary['plan_ids'][x['plan_ref']]}").json() for x in (p, again))
    assert first["status"] == "broken" and first["channel"] == "import" and first["created_by_user"] is not None
    assert [i["outcome"] for i in first["installments"][:5]] == ["kept", "kept", "missed", "missed", "waived"]
    assert first["created_at"].startswith(ts(60)[:10])             # agreed when the history says
    assert second["origin"] == "customer_proposed" and second["status"] == "active"
    assert [i["outcome"] for i in second["installments"][:3]] == ["kept", "kept", "kept"]
    # judged as of now, in the same transaction: nothing left for the evaluator
    pending = cluster.psql(f"""SELECT count(*) FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
                               WHERE p.account_id = {a['id']} AND i.outcome = 'scheduled'
                                 AND i.grace_end_at <= now()""")
    assert pending == [["0"]]
    # the replay opened no escalation, and the import is audited
    assert agent.get(f"/v1/escalations?account_id={a['id']}&status=all").json()["items"] == []
    audit = cluster.psql(f"SELECT count(*) FROM kept.audit_events WHERE action = 'history.imported' "
                         f"AND entity_id = {summary['import_id']}")
    assert audit == [["1"]]


def test_a_csv_history(api, agent, agent_name, cluster):
    a = account(agent)
    ref = unique("HC")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["record", "plan_ref", "account_external_ref", "origin", "agreed_at", "agreed_by", "first_due_date",
                "settlement_cents", "installments", "amount_cents", "received_at", "source", "source_ref",
                "reversed_at", "reversal_reason"])
    w.writerow(["plan", ref, a["external_ref"], "settlement", ts(40), agent_name, day(38), "70000", "2", "", "", "", "",
                "", ""])
    w.writerow(["payment", ref, "", "", "", "", "", "", "", "35000", ts(38, 8), "card", unique("hc"), "", ""])
    w.writerow(["payment", ref, "", "", "", "", "", "", "", "35000", ts(31, 8), "card", unique("hc"), ts(29),
                "returned by the bank"])
    r = api.post("/v1/imports/history", out.getvalue(), content_type="text/csv")
    assert r.status == 201, r
    s = api.get(f"/v1/plans/{r.json()['plan_ids'][ref]}").json()
    assert s["origin"] == "settlement" and [i["outcome"] for i in s["installments"]] == ["kept", "missed"]
    assert r.json()["reversals"] == 1


def test_a_bad_file_is_refused_whole_with_every_problem(api, agent, agent_name, cluster):
    a, placed_late = account(agent), account(agent, placed_on=day(10))
    good = plan(a, agent_name)
    bad = [
        plan(a, "Nobody At All", plan_ref=good["plan_ref"]),                                   # unknown agent, duplicate
        plan(placed_late, agent_name),                                                         # before the account
        plan(account(agent), agent_name, currency="USD"),                                      # another currency
        plan(account(agent), agent_name, weekly_amount_cents=500),                              # outside policy
        plan(account(agent), agent_name, payments=[{"amount_cents": 100, "received_at": ts(90), "source": "card",
                                                    "source_ref": unique("hb")}]),             # before its plan
        plan(account(agent), agent_name, agreed_at=ts(-3)),                                    # in the future
        {"plan_ref": unique("H"), "account_external_ref": "NO-SUCH-ACCOUNT", "origin": "bartered",
         "agreed_at": "last tuesday", "agreed_by": agent_name, "first_due_date": "2026-02-30", "colour": "red"},
    ]
    before = cluster.psql("SELECT (SELECT count(*) FROM kept.plans), (SELECT count(*) FROM kept.payments)")
    r = api.post("/v1/imports/history", {"plans": [good] + bad})
    assert r.status == 422 and r.error["code"] == "import_rejected", r
    found = {(p["path"], p["code"]) for p in r.error["details"]["lines"]}
    for want in [("plans[1]", "unknown_agent"), ("plans[1]", "duplicate_in_file"), ("plans[2]", "before_placed"),
                 ("plans[3]", "currency_mismatch"), ("plans[5].payments[0]", "payment_before_plan"),
                 ("plans[6]", "in_future"), ("plans[7]", "unknown_account"), ("plans[7]", "invalid_origin"),
                 ("plans[7]", "invalid_timestamp"), ("plans[7]", "invalid_date"), ("plans[7]", "unknown_field")]:
        assert want in found, (want, sorted(found))
    assert cluster.psql("SELECT (SELECT count(*) FROM kept.plans), (SELECT count(*) FROM kept.payments)") == before
    # with the shape right, what only the replay can find is listed too, and still nothing is written
    r = api.post("/v1/imports/history", {"plans": [plan(account(agent), agent_name),
                                                   plan(account(agent), agent_name, weekly_amount_cents=500)]})
    assert r.status == 422, r
    [problem] = r.error["details"]["lines"]
    assert problem["code"] == "out_of_policy" and problem["path"] == "plans[1]" and "second associate" in problem["message"]
    assert cluster.psql("SELECT (SELECT count(*) FROM kept.plans), (SELECT count(*) FROM kept.payments)") == before


def test_history_comes_before_anything_else_and_only_once(api, agent, agent_name, cluster):
    a = account(agent)
    p = plan(a, agent_name)
    assert api.post("/v1/imports/history", {"plans": [p]}).status == 201
    again = api.post("/v1/imports/history", {"plans": [plan(a, agent_name)]})
    assert again.status == 422 and again.error["details"]["lines"][0]["code"] == "account_has_activity"


@pytest.mark.parametrize("body, content_type, code", [
    ("{not json", "application/json", "invalid_json"),
    ('{"plans": {}}', "application/json", "invalid_document"),
    ('{"plans": [], "extra": 1}', "application/json", "invalid_document"),
    ('{"plans": [7]}', "application/json", "invalid_record"),
    ("record,plan_ref\r\nplanet,X1\r\n", "text/csv", "invalid_record"),
])
def test_malformed_files(api, body, content_type, code):
    r = api.post("/v1/imports/history", body, content_type=content_type)
    assert r.status == 422 and r.error["details"]["lines"][0]["code"] == code, r


def test_who_may_import_history(server, role_keys):
    for role in ("agent", "supervisor", "finance"):
        r = server.client(role_keys[role]).post("/v1/imports/history", {"plans": []})
        assert r.status == 403, (role, r)
    r = server.client(role_keys["admin"]).post("/v1/imports/history", "<plans/>", content_type="application/xml")
    assert r.status == 415
