"""Negotiation over HTTP: policy, affordability, proposals, plans, two associates,
reviews, settlements — every rule and error of the issue."""
import concurrent.futures
import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import new_account, new_customer, unique
from helpers import day, make_plan

TZ = "America/New_York"


def local_today(tz=TZ):
    return datetime.datetime.now(ZoneInfo(tz)).date()


@pytest.fixture
def account(agent):
    """A fresh £1,000.00 account for a customer in New York."""
    c = new_customer(agent, time_zone=TZ, jurisdiction="US-NY")
    return new_account(agent, c["id"], original_balance_cents=100000, currency="USD")


@pytest.fixture
def second_agent(server, cluster):
    from conftest import create_key
    c = server.client(create_key(cluster.url, "agent"))
    yield c
    c.close()


@pytest.fixture
def supervisor(server, role_keys):
    c = server.client(role_keys["supervisor"])
    yield c
    c.close()


def propose(client, account, weekly, first=None):
    return client.post(f"/v1/accounts/{account['id']}/proposals",
                       {"weekly_amount_cents": weekly, "first_due_date": first or day(3)})


# ---- policy -------------------------------------------------------------------------

def test_policies_default_and_per_creditor(api):
    items = api.get("/v1/policies").json()["items"]
    default = next(p for p in items if p["creditor"] is None)
    assert (default["max_weeks"], default["grace_days"], default["kept_threshold_percent"],
            default["breaks_after_misses"], default["min_settlement_percent"]) == (104, 3, 100, 2, 60)
    creditor = unique("Creditor")
    r = api.post("/v1/policies", {"creditor": creditor, "max_weeks": 52})
    assert r.status == 201, r
    p = r.json()
    assert p["max_weeks"] == 52 and p["grace_days"] == default["grace_days"]
    assert api.post("/v1/policies", {"creditor": creditor}).error["code"] == "duplicate_policy"
    settings = {"max_weeks": 26, "grace_days": 5, "kept_threshold_percent": 90, "breaks_after_misses": 3,
                "min_settlement_percent": 70, "reminder_lead_days": 1}
    r = api.request("PUT", f"/v1/policies/{p['id']}", settings, headers={"If-Match": '"1"'})
    assert r.status == 200 and r.json()["max_weeks"] == 26 and r.json()["version"] == 2
    stale = api.request("PUT", f"/v1/policies/{p['id']}", settings, headers={"If-Match": '"1"'})
    assert stale.status == 412
    bad = api.request("PUT", f"/v1/policies/{p['id']}", dict(settings, max_weeks=600))
    assert bad.status == 400 and bad.error["code"] == "invalid_policy" and bad.error["details"]["field"] == "max_weeks"
    partial = api.request("PUT", f"/v1/policies/{p['id']}", {"max_weeks": 10})
    assert partial.error["code"] == "missing_field"


def test_a_creditors_policy_judges_its_accounts(api, agent):
    creditor = unique("Strict Bank")
    assert api.post("/v1/policies", {"creditor": creditor, "max_weeks": 10}).status == 201
    c = new_customer(agent, time_zone=TZ)
    acct = new_account(agent, c["id"], original_balance_cents=100000, currency="USD", creditor=creditor)
    ev = propose(agent, acct, 9999).json()["evaluation"]
    assert ev["max_weeks"] == 10 and ev["policy_minimum_weekly_cents"] == 10000 and ev["in_policy"] is False


# ---- affordability --------------------------------------------------------------------

def test_affordability_weekly_disposable_is_monthly_times_12_over_52_rounded_down(agent, account):
    body = {"income": [{"category": "earnings", "monthly_cents": 210000},
                       {"category": "benefits", "monthly_cents": 15000}],
            "fixed_costs": [{"category": "home_and_contents", "monthly_cents": 95000},
                            {"category": "utilities", "monthly_cents": 12001}],
            "flexible_costs": [{"category": "food_and_housekeeping", "monthly_cents": 40000,
                                "description": "family of three"}]}
    r = agent.post(f"/v1/accounts/{account['id']}/affordability", body)
    assert r.status == 201, r
    a = r.json()
    assert a["monthly_income_cents"] == 225000 and a["monthly_expenditure_cents"] == 147001
    assert a["monthly_disposable_cents"] == 77999
    assert a["weekly_disposable_cents"] == 77999 * 12 // 52 == 17999
    assert agent.get(f"/v1/accounts/{account['id']}/affordability").json()["id"] == a["id"]


def test_negative_disposable_rounds_down(agent, account):
    r = agent.post(f"/v1/accounts/{account['id']}/affordability",
                   {"income": [{"category": "earnings", "monthly_cents": 100000}],
                    "fixed_costs": [{"category": "home_and_contents", "monthly_cents": 100001}], "flexible_costs": []})
    assert r.json()["weekly_disposable_cents"] == -1  # floor(-12/52)


@pytest.mark.parametrize("body,code,field", [
    ({"income": [{"category": "lottery", "monthly_cents": 1}], "fixed_costs": [], "flexible_costs": []},
     "invalid_category", "income[0].category"),
    ({"income": [], "fixed_costs": [{"category": "utilities", "monthly_cents": -5}], "flexible_costs": []},
     "invalid_amount", "fixed_costs[0].monthly_cents"),
    ({"income": [], "fixed_costs": []}, "missing_field", "flexible_costs"),
    ({"income": [{"category": "earnings", "monthly_cents": 1.5}], "fixed_costs": [], "flexible_costs": []},
     "invalid_type", "income[0].monthly_cents"),
])
def test_affordability_refusals(agent, account, body, code, field):
    r = agent.post(f"/v1/accounts/{account['id']}/affordability", body)
    assert r.status == 400 and r.error["code"] == code and r.error["details"]["field"] == field, r


def test_no_assessment_yet_is_404(agent, account):
    assert agent.get(f"/v1/accounts/{account['id']}/affordability").status == 404


# ---- proposals -------------------------------------------------------------------------

def test_proposal_evaluation_and_schedule(agent, account, cluster):
    r = propose(agent, account, 962, day(7))
    assert r.status == 201, r
    p = r.json()
    ev = p["evaluation"]
    assert ev["policy_minimum_weekly_cents"] == 962 and ev["weeks_to_clear"] == 104
    assert ev["in_policy"] is True and ev["reasons"] == [] and ev["weekly_disposable_cents"] is None
    sched = p["schedule"]
    assert len(sched) == 104 and sum(s["amount_due_cents"] for s in sched) == 100000
    assert sched[-1]["amount_due_cents"] == 100000 - 962 * 103
    dates = [datetime.date.fromisoformat(s["due_date"]) for s in sched]
    assert dates[0].isoformat() == day(7) and all((b - a).days == 7 for a, b in zip(dates, dates[1:]))
    assert p["asked_by"] is not None
    rows = cluster.psql(f"SELECT action, actor LIKE 'key:%' FROM kept.audit_events WHERE entity_type = 'proposal' AND entity_id = {p['id']}")
    assert rows == [["proposal.recorded", "t"]]


def test_out_of_policy_reasons(agent, account):
    assert propose(agent, account, 961).json()["evaluation"]["reasons"] == ["below_policy_minimum", "longer_than_max_weeks"]
    agent.post(f"/v1/accounts/{account['id']}/affordability",
               {"income": [{"category": "earnings", "monthly_cents": 43334}], "fixed_costs": [], "flexible_costs": []})
    ev = propose(agent, account, 10001).json()["evaluation"]
    assert ev["weekly_disposable_cents"] == 10000 and ev["reasons"] == ["above_affordability"]


def test_weekly_above_the_balance_is_one_installment(agent, account):
    p = propose(agent, account, 500000).json()
    assert p["schedule"] == [{"seq": 1, "due_date": day(3), "amount_due_cents": 100000}]


@pytest.mark.parametrize("weekly,first,status,code", [
    (0, 3, 400, "invalid_amount"),
    (-100, 3, 400, "invalid_amount"),
    (192, 3, 422, "plan_too_long"),       # 521 weeks
    (1000, -1, 422, "first_due_date_in_past"),
    (1000, 61, 422, "first_due_date_too_far"),
])
def test_proposal_refusals(agent, account, cluster, weekly, first, status, code):
    r = propose(agent, account, weekly, day(first))
    assert r.status == status and r.error["code"] == code, r
    assert cluster.psql(f"SELECT count(*) FROM kept.proposals WHERE account_id = {account['id']}") == [["0"]]


def test_absurd_and_odd_amounts(agent, account):
    assert propose(agent, account, 10.5).error["code"] == "invalid_type"
    assert propose(agent, account, 10 ** 18).error["code"] == "out_of_range"
    assert agent.post(f"/v1/accounts/{account['id']}/proposals", {"weekly_amount_cents": 100}).error["code"] == "missing_field"
    assert agent.post("/v1/accounts/987654321/proposals",
                      {"weekly_amount_cents": 100, "first_due_date": day(3)}).error["code"] == "account_not_found"


def test_520_weeks_is_the_most(agent, account):
    assert propose(agent, account, 193).json()["evaluation"]["weeks_to_clear"] == 519
    big = new_account(agent, account["customer_id"], original_balance_cents=520, currency="USD")
    assert len(propose(agent, big, 1).json()["schedule"]) == 520


def test_paid_accounts_cannot_be_arranged(agent, account, cluster):
    cluster.psql(f"UPDATE kept.accounts SET status = 'paid', balance_cents = 0 WHERE id = {account['id']}")
    for r in (propose(agent, account, 1000), make_plan(agent, account, 1000),
              agent.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 10})):
        assert r.status == 422 and r.error["code"] == "account_not_open", r


# ---- plans --------------------------------------------------------------------------------

def test_plan_from_a_proposal(agent, account, cluster):
    prop = propose(agent, account, 5000, day(5)).json()
    r = agent.post(f"/v1/accounts/{account['id']}/plans", {"proposal_id": prop["id"]})
    assert r.status == 201, r
    plan = r.json()
    assert r.headers["location"] == f"/v1/plans/{plan['id']}"
    assert plan["origin"] == "customer_proposed" and plan["status"] == "active" and plan["proposal_id"] == prop["id"]
    assert plan["installment_count"] == 20 and sum(i["amount_due_cents"] for i in plan["installments"]) == 100000
    assert all(i["outcome"] == "scheduled" and i["amount_paid_cents"] == 0 for i in plan["installments"])
    assert plan["policy"] == {"id": plan["policy"]["id"], "grace_days": 3, "kept_threshold_percent": 100,
                              "breaks_after_misses": 2}
    assert agent.get(f"/v1/plans/{plan['id']}").json() == plan
    assert agent.get(f"/v1/accounts/{account['id']}").json()["status"] == "in_plan"
    again = agent.post(f"/v1/accounts/{account['id']}/plans", {"proposal_id": prop["id"], "replaces_plan_id": plan["id"]})
    assert again.status == 409 and again.error["code"] == "proposal_used"
    events = cluster.psql(f"SELECT event_type FROM kept.outbox_events WHERE aggregate_type = 'plan' "
                          f"AND aggregate_id = {plan['id']} ORDER BY id")
    assert [e[0] for e in events] == ["plan_created", "plan_activated"]


def test_agent_set_plan(agent, account):
    plan = make_plan(agent, account, 2500).json()
    assert plan["origin"] == "agent_set" and plan["status"] == "active" and plan["proposal_id"] is None


def test_plan_refusals(agent, account, cluster):
    other = new_account(agent, account["customer_id"], currency="USD")
    prop = propose(agent, other, 5000).json()
    assert agent.post(f"/v1/accounts/{account['id']}/plans", {"proposal_id": prop["id"]}).error["code"] == "unknown_proposal"
    assert agent.post(f"/v1/accounts/{account['id']}/plans",
                      {"proposal_id": prop["id"], "weekly_amount_cents": 5}).error["code"] == "conflicting_fields"
    assert agent.post(f"/v1/accounts/{account['id']}/plans", {"weekly_amount_cents": 5}).error["code"] == "missing_field"
    assert make_plan(agent, account, 0).error["code"] == "invalid_amount"
    assert make_plan(agent, account, 1000, day(-2)).error["code"] == "first_due_date_in_past"
    assert make_plan(agent, account, 100).error["code"] == "plan_too_long"
    assert cluster.psql(f"SELECT count(*) FROM kept.plans WHERE account_id = {account['id']}") == [["0"]]


def test_due_dates_follow_the_local_calendar_across_dst(agent, api, cluster):
    """An imported plan across the spring change: due dates keep their weekday."""
    c = new_customer(agent, time_zone="Europe/London")
    acct = new_account(agent, c["id"], original_balance_cents=60000, currency="GBP")
    first = local_today("Europe/London") - datetime.timedelta(days=7 * 40)
    plan = make_plan(api, acct, 1000, first.isoformat(), imported=True).json()
    weekdays = {datetime.date.fromisoformat(i["due_date"]).weekday() for i in plan["installments"]}
    assert weekdays == {first.weekday()} and plan["imported"] is True and len(plan["installments"]) == 60


def test_imported_plans_are_for_admins(agent, account):
    r = make_plan(agent, account, 1000, day(-30), imported=True)
    assert r.status == 403 and r.error["code"] == "imported_plan_admin_only"


def test_cease_communication_does_not_stop_a_plan(agent):
    c = new_customer(agent, time_zone=TZ, contact_restrictions={"cease_communication": True})
    acct = new_account(agent, c["id"], original_balance_cents=10000, currency="USD")
    assert make_plan(agent, acct, 1000).status == 201


def test_renegotiation_names_the_plan_it_replaces(agent, account, cluster):
    first = make_plan(agent, account, 2000).json()
    r = make_plan(agent, account, 3000)
    assert r.status == 409 and r.error["code"] == "plan_exists" and str(first["id"]) in r.error["message"]
    assert make_plan(agent, account, 3000, replaces_plan_id=first["id"] + 100000).error["code"] == "plan_changed"
    second = make_plan(agent, account, 3000, replaces_plan_id=first["id"]).json()
    assert second["status"] == "active"
    old = agent.get(f"/v1/plans/{first['id']}").json()
    assert old["status"] == "superseded" and old["superseded_by"] == second["id"]
    assert {i["outcome"] for i in old["installments"]} == {"waived"}
    assert cluster.psql(f"SELECT count(*) FROM kept.plans WHERE account_id = {account['id']} AND status = 'active'") == [["1"]]
    assert [p["id"] for p in agent.get(f"/v1/accounts/{account['id']}/plans").json()["items"]] == [first["id"], second["id"]]


def test_two_agents_at_the_same_moment(server, role_keys, cluster, agent, account):
    def create(_):
        c = server.client(role_keys["agent"])
        try:
            return make_plan(c, account, 2500).status
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(create, range(6)))
    assert statuses == [201] + [409] * 5
    assert cluster.psql(f"SELECT count(*) FROM kept.plans WHERE account_id = {account['id']}") == [["1"]]


def test_cancel(agent, account, cluster):
    plan = make_plan(agent, account, 2000).json()
    assert agent.post(f"/v1/plans/{plan['id']}/cancel", {}).error["code"] == "missing_field"
    r = agent.post(f"/v1/plans/{plan['id']}/cancel", {"reason": "customer lost their job"})
    assert r.status == 200
    p = r.json()
    assert p["status"] == "cancelled" and p["cancel_reason"] == "customer lost their job"
    assert {i["outcome"] for i in p["installments"]} == {"waived"}
    assert agent.get(f"/v1/accounts/{account['id']}").json()["status"] == "open"
    again = agent.post(f"/v1/plans/{plan['id']}/cancel", {"reason": "again"})
    assert again.status == 409 and again.error["code"] == "plan_not_open"
    assert agent.post("/v1/plans/987654321/cancel", {"reason": "x"}).status == 404
    rows = cluster.psql(f"SELECT action FROM kept.audit_events WHERE entity_type = 'plan' AND entity_id = {plan['id']} ORDER BY id")
    assert [r[0] for r in rows] == ["plan.created", "plan.cancelled"]
    assert make_plan(agent, account, 2000).status == 201  # nothing open any more


# ---- two associates and the review queue ------------------------------------------------------

def test_out_of_policy_needs_a_second_associate(agent, second_agent, supervisor, account, cluster):
    plan = make_plan(agent, account, 500).json()
    assert plan["status"] == "pending_approval" and plan["in_policy"] is False
    assert agent.get(f"/v1/accounts/{account['id']}").json()["status"] == "open"
    own = agent.post(f"/v1/plans/{plan['id']}/approvals", {})
    assert own.status == 403 and own.error["code"] == "self_approval"
    r = second_agent.post(f"/v1/plans/{plan['id']}/approvals", {"note": "she starts a new job next month"})
    assert r.status == 200 and r.json()["status"] == "active" and r.json()["approved_by"] is not None
    twice = second_agent.post(f"/v1/plans/{plan['id']}/approvals", {})
    assert twice.status == 409 and twice.error["code"] == "plan_not_pending"

    review = next(x for x in supervisor.get("/v1/reviews?limit=500").json()["items"] if x["plan_id"] == plan["id"])
    assert review["status"] == "open" and review["reasons"] == ["below_policy_minimum", "longer_than_max_weeks"]
    assert review["approval_note"] == "she starts a new job next month"
    # the agent who made the plan sees its review (how it was judged); deciding is the supervisors'
    assert review["id"] in [x["id"] for x in agent.get("/v1/reviews?limit=500").json()["items"]]
    assert agent.post(f"/v1/reviews/{review['id']}", {"decision": "upheld"}).status == 403
    assert supervisor.post(f"/v1/reviews/{review['id']}", {"decision": "corrected"}).error["code"] == "note_required"
    assert supervisor.post(f"/v1/reviews/{review['id']}", {"decision": "maybe"}).error["code"] == "invalid_decision"
    d = supervisor.post(f"/v1/reviews/{review['id']}", {"decision": "corrected", "note": "should be 9.62 a week"})
    assert d.status == 200 and d.json()["status"] == "corrected"
    assert supervisor.post(f"/v1/reviews/{review['id']}", {"decision": "upheld"}).error["code"] == "review_closed"
    # the review never touched the customer's plan
    assert agent.get(f"/v1/plans/{plan['id']}").json()["status"] == "active"
    actions = cluster.psql(f"SELECT action FROM kept.audit_events WHERE (entity_type = 'plan' AND entity_id = {plan['id']}) "
                           f"OR (entity_type = 'review' AND entity_id = {review['id']}) ORDER BY id")
    assert [a[0] for a in actions] == ["plan.created", "plan.approved", "review.decided"]


def test_approving_a_cancelled_plan(agent, second_agent, account):
    plan = make_plan(agent, account, 500).json()
    agent.post(f"/v1/plans/{plan['id']}/cancel", {"reason": "changed mind"})
    r = second_agent.post(f"/v1/plans/{plan['id']}/approvals", {})
    assert r.status == 409 and r.error["code"] == "plan_not_pending"


def test_pending_renegotiation_keeps_the_active_plan_until_approved(agent, second_agent, account):
    active = make_plan(agent, account, 2000).json()
    pending = make_plan(agent, account, 500, replaces_plan_id=active["id"]).json()
    assert pending["status"] == "pending_approval"
    assert agent.get(f"/v1/plans/{active['id']}").json()["status"] == "active"
    assert make_plan(agent, account, 600, replaces_plan_id=active["id"]).error["code"] == "plan_changed"
    second_agent.post(f"/v1/plans/{pending['id']}/approvals", {})
    assert agent.get(f"/v1/plans/{active['id']}").json()["status"] == "superseded"
    assert agent.get(f"/v1/plans/{pending['id']}").json()["status"] == "active"


def test_review_queue_pages(supervisor):
    r = supervisor.get("/v1/reviews?status=all&limit=1")
    assert r.status == 200
    assert supervisor.get("/v1/reviews?status=lost").error["code"] == "invalid_status"


# ---- settlements ----------------------------------------------------------------------------------

def test_settlement_below_the_floor_gets_a_counter(agent, second_agent, account, cluster):
    r = agent.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 40001, "note": "all I can raise"})
    assert r.status == 201, r
    o = r.json()
    assert o["floor_cents"] == 60000 and o["within_policy"] is False
    assert o["counter_cents"] == 40001 + (60000 - 40001 + 1) // 2 == 50001  # splits the difference, rounded up
    accepted = agent.post(f"/v1/settlement-offers/{o['id']}/accept", {"first_due_date": day(2)})
    assert accepted.status == 201, accepted
    plan = accepted.json()
    assert plan["origin"] == "settlement" and plan["total_cents"] == 50001 and plan["installment_count"] == 1
    assert plan["status"] == "pending_approval" and plan["reasons"] == ["below_settlement_floor"]
    assert plan["balance_at_start_cents"] == 100000
    assert second_agent.post(f"/v1/plans/{plan['id']}/approvals", {}).json()["status"] == "active"
    again = agent.post(f"/v1/settlement-offers/{o['id']}/accept", {"first_due_date": day(2)})
    assert again.status == 409 and again.error["code"] == "offer_closed"
    rows = cluster.psql(f"SELECT action FROM kept.audit_events WHERE entity_type = 'settlement_offer' AND entity_id = {o['id']} ORDER BY id")
    assert [r[0] for r in rows] == ["settlement.offered", "settlement.accepted"]


def test_settlement_at_or_above_the_floor_is_in_policy(agent, account):
    o = agent.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 60000}).json()
    assert o["within_policy"] is True and o["counter_cents"] is None
    other = agent.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 61000}).json()
    plan = agent.post(f"/v1/settlement-offers/{o['id']}/accept",
                      {"first_due_date": day(1), "installments": 4}).json()
    assert plan["status"] == "active" and plan["weekly_amount_cents"] == 15000 and plan["installment_count"] == 4
    # accepting one offer withdraws the account's other open offers
    assert agent.post(f"/v1/settlement-offers/{other['id']}/accept", {"first_due_date": day(1)}).error["code"] == "offer_closed"


@pytest.mark.parametrize("body,status,code", [
    ({"offer_cents": 0}, 400, "invalid_amount"),
    ({"offer_cents": 100001}, 422, "offer_above_balance"),
    ({"offer_cents": "500"}, 400, "invalid_type"),
    ({}, 400, "missing_field"),
])
def test_settlement_offer_refusals(agent, account, body, status, code):
    r = agent.post(f"/v1/accounts/{account['id']}/settlement-offers", body)
    assert r.status == status and r.error["code"] == code, r


def test_settlement_accept_refusals(agent, account):
    o = agent.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 70000}).json()
    url = f"/v1/settlement-offers/{o['id']}/accept"
    assert agent.post(url, {"first_due_date": day(1), "installments": 13}).error["code"] == "too_many_installments"
    assert agent.post(url, {"first_due_date": day(1), "amount_cents": 100001}).error["code"] == "amount_above_balance"
    assert agent.post(url, {"first_due_date": day(-1)}).error["code"] == "first_due_date_in_past"
    assert agent.post("/v1/settlement-offers/987654321/accept", {"first_due_date": day(1)}).status == 404
