"""Adherence over HTTP: twelve weeks of a plan's life through as_of, escalations,
the evaluator from the command line and as a background worker."""
import datetime
import json
import time
import uuid
from zoneinfo import ZoneInfo

import pytest

from conftest import Cluster, Keptd, create_key, keptd_cmd, migrate, new_account, new_customer, unique

TZ = ZoneInfo("Pacific/Auckland")


def local_noon(d):
    """Noon on local date d in Auckland, as RFC 3339 UTC."""
    return datetime.datetime.combine(d, datetime.time(12), TZ).astimezone(datetime.timezone.utc).isoformat()


def grace_end(d, grace_days=3):
    """Just after the end of local day d + grace, as RFC 3339 UTC."""
    end = datetime.datetime.combine(d + datetime.timedelta(days=grace_days + 1), datetime.time(0), TZ)
    return (end + datetime.timedelta(hours=1)).astimezone(datetime.timezone.utc).isoformat()


def pay(client, account_id, cents, received_at):
    r = client.post("/v1/payments", {"account_id": account_id, "amount_cents": cents, "received_at": received_at,
                                     "source": "card", "source_ref": unique("w")},
                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 201, r
    return r.json()


def test_twelve_weeks_of_a_plan(api, agent, cluster):
    c = new_customer(agent, time_zone="Pacific/Auckland", jurisdiction="NZ")
    acct = new_account(agent, c["id"], original_balance_cents=120000, currency="NZD")
    today = datetime.datetime.now(TZ).date()
    first = today - datetime.timedelta(days=7 * 12)
    plan = api.post(f"/v1/accounts/{acct['id']}/plans", {"weekly_amount_cents": 10000, "first_due_date": first.isoformat(),
                                                         "imported": True}).json()
    assert plan["status"] == "active" and plan["installment_count"] == 12
    due = [first + datetime.timedelta(days=7 * k) for k in range(12)]

    # what the customer does in each week, and what kept should make of it
    script = [
        (10000, 0, "kept"),        # paid at noon on the due day
        (10000, 0, "kept"),
        (10000, 2, "kept_late"),   # two days late, within the three days of grace
        (5000, 0, "partial"),      # half
        (15000, 0, "kept"),        # the rest of week 4 (too late for it) and week 5 on time
        (0, 0, "missed"),
        (20000, 0, "kept"),        # week 6 caught up late, week 7 on time
        (0, 0, "missed"),
        (0, 0, "missed"),          # a second miss in a row: the plan breaks
    ]
    for week, (cents, days_late, expected) in enumerate(script):
        if cents:
            pay(agent, acct["id"], cents, local_noon(due[week] + datetime.timedelta(days=days_late)))
        r = api.post("/v1/admin/evaluate", {"as_of": grace_end(due[week])})
        assert r.status == 200, r
        outcomes = [i["outcome"] for i in agent.get(f"/v1/plans/{plan['id']}").json()["installments"]]
        assert outcomes[week] == expected, (week + 1, outcomes)

    assert [o[2] for o in script] == outcomes[:9]
    p = agent.get(f"/v1/plans/{plan['id']}").json()
    assert p["status"] == "broken"
    assert [i["outcome"] for i in p["installments"][9:]] == ["waived"] * 3
    assert agent.get(f"/v1/accounts/{acct['id']}").json()["status"] == "open"
    esc = agent.get(f"/v1/escalations?account_id={acct['id']}").json()["items"]
    assert [(e["reason"], e["plan_id"], e["team"]) for e in esc] == [("plan_broken_after_kept", plan["id"], "collections")]

    # the same as_of again changes nothing
    again = api.post("/v1/admin/evaluate", {"as_of": grace_end(due[8])}).json()
    assert again["installments_evaluated"] == 0 and again["plans_broken"] == 0
    events = cluster.psql(f"SELECT count(*) FROM kept.outbox_events WHERE event_type = 'installment_evaluated' "
                          f"AND aggregate_id = {plan['id']}")
    assert events == [["9"]]
    assert cluster.psql(f"SELECT count(*) FROM kept.outbox_events WHERE event_type = 'plan_broken' "
                        f"AND aggregate_id = {plan['id']}") == [["1"]]


def test_evaluate_refusals(api):
    assert api.post("/v1/admin/evaluate", {"as_of": "2999-01-01T00:00:00Z"}).error["code"] == "as_of_in_future"
    assert api.post("/v1/admin/evaluate", {"as_of": "soon"}).error["code"] == "invalid_as_of"
    # an empty as_of is not "now": leave it out for now
    for path in ("/v1/admin/evaluate", "/v1/admin/reminders"):
        r = api.post(path, {"as_of": ""})
        assert (r.status, r.error["code"], r.error["details"]["field"]) == (400, "invalid_as_of", "as_of"), path
    r = api.post("/v1/admin/evaluate", {})
    assert r.status == 200 and set(r.json()) == {"as_of", "installments_evaluated", "accounts_checked",
                                                 "plans_broken", "plans_completed"}


def test_keptd_evaluate(cluster):
    done = keptd_cmd(cluster.url, "evaluate", "--as-of", "2026-01-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["as_of"].startswith("2026-01-01T00:00:00")
    future = keptd_cmd(cluster.url, "evaluate", "--as-of", "2999-01-01T00:00:00Z")
    assert future.returncode == 1 and "as_of cannot be in the future" in future.stderr


# ---- escalations ----------------------------------------------------------------------------

def test_escalation_queue(agent, supervisor_client, cluster):
    acct = new_account(agent, new_customer(agent)["id"])
    made = []
    for reason, priority in (("other", None), ("dispute", None), ("vulnerability", 2), ("other", 1)):
        body = {"account_id": acct["id"], "reason": reason, "note": f"{reason} raised by hand"}
        if priority:
            body["priority"] = priority
        r = agent.post("/v1/escalations", body)
        assert r.status == 201, r
        made.append(r.json())
    assert made[0]["priority"] == 3 and made[0]["team"] == "collections"
    assert made[1]["team"] == "disputes" and made[2]["priority"] == 2
    queue = agent.get(f"/v1/escalations?account_id={acct['id']}").json()["items"]
    # by priority, then due-by
    assert [e["id"] for e in queue] == [made[1]["id"], made[3]["id"], made[2]["id"], made[0]["id"]]
    pages, cursor, seen = 0, None, []
    while True:
        page = agent.get(f"/v1/escalations?account_id={acct['id']}&limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in queue] and pages == 2
    assert [e["id"] for e in agent.get(f"/v1/escalations?account_id={acct['id']}&team=disputes").json()["items"]] == [made[1]["id"]]

    e = made[0]
    assigned = agent.post(f"/v1/escalations/{e['id']}/assign", {}).json()
    assert assigned["assigned_to"] is not None
    mine = agent.get(f"/v1/escalations?assigned_to={assigned['assigned_to']}&account_id={acct['id']}").json()["items"]
    assert [x["id"] for x in mine] == [e["id"]]
    assert agent.post(f"/v1/escalations/{e['id']}/resolve", {"note": ""}).error["code"] == "note_required"
    done = supervisor_client.post(f"/v1/escalations/{e['id']}/resolve", {"note": "called the customer back"})
    assert done.status == 200 and done.json()["status"] == "resolved"
    again = agent.post(f"/v1/escalations/{e['id']}/resolve", {"note": "again"})
    assert again.status == 409 and again.error["code"] == "escalation_resolved"
    assert agent.get(f"/v1/escalations?status=resolved&account_id={acct['id']}").json()["items"][0]["id"] == e["id"]


def test_escalation_refusals(agent):
    acct = new_account(agent, new_customer(agent)["id"])
    assert agent.post("/v1/escalations", {"account_id": acct["id"], "reason": "boredom"}).error["code"] == "invalid_reason"
    assert agent.post("/v1/escalations", {"account_id": 987654321, "reason": "other"}).error["code"] == "unknown_account"
    assert agent.post("/v1/escalations", {"account_id": acct["id"], "reason": "other", "priority": 9}).error["code"] == "invalid_priority"
    assert agent.get("/v1/escalations?status=maybe").error["code"] == "invalid_status"
    assert agent.get("/v1/escalations?cursor=!!").error["code"] == "invalid_cursor"
    assert agent.post("/v1/escalations/987654321/resolve", {"note": "x"}).status == 404
    e = agent.post("/v1/escalations", {"account_id": acct["id"], "reason": "other"}).json()
    assert agent.post(f"/v1/escalations/{e['id']}/assign", {"assignee_key_id": 987654321}).error["code"] == "unknown_assignee"


@pytest.fixture
def supervisor_client(server, role_keys):
    c = server.client(role_keys["supervisor"])
    yield c
    c.close()


# ---- the background workers ---------------------------------------------------------------------

def test_the_workers_evaluate_and_seal_by_themselves():
    scratch = Cluster()
    try:
        migrate(scratch.url)
        admin = create_key(scratch.url, "admin")
        k = Keptd(scratch.url, KEPT_WORKERS="all", KEPT_EVALUATE_INTERVAL="1")
        try:
            api = k.client(admin)
            c = new_customer(api, time_zone="Europe/Lisbon")
            acct = new_account(api, c["id"], original_balance_cents=3000)
            first = datetime.datetime.now(ZoneInfo("Europe/Lisbon")).date() - datetime.timedelta(days=16)
            plan = api.post(f"/v1/accounts/{acct['id']}/plans", {"weekly_amount_cents": 1000,
                                                                 "first_due_date": first.isoformat(),
                                                                 "imported": True}).json()
            deadline = time.time() + 15
            while time.time() < deadline:
                outcomes = [i["outcome"] for i in api.get(f"/v1/plans/{plan['id']}").json()["installments"]]
                sealed = scratch.psql("SELECT unsealed FROM kept.audit_verify()") == [["0"]]
                if outcomes == ["missed", "missed", "waived"] and sealed:
                    break
                time.sleep(0.2)
            assert outcomes == ["missed", "missed", "waived"]
            assert api.get(f"/v1/plans/{plan['id']}").json()["status"] == "broken"
            assert scratch.psql("SELECT ok, unsealed FROM kept.audit_verify()") == [["t", "0"]]
            assert "event=evaluated" in k.log() and "worker_started" in k.log()
        finally:
            k.assert_clean_exit()
        assert "worker_stopped" in k.log()
    finally:
        scratch.destroy()
