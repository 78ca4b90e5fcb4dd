"""The reminder call asks too: after the right party confirms, 3 ("I cannot
pay this amount"), then the weekly amount keyed in and the hash key, through
kept-telsim's callees. In policy the evaluation is read back and 1 agrees a
new plan replacing the old (origin customer_proposed, channel ivr); out of
policy the plan waits for two associates and the customer hears when they
will hear back. The same SQL as an agent's proposal and plan."""
import re

from conftest import create_key
from helpers import Debtor, finished, run_reminders, wait_for_call


def plans_of(agent, d):
    return agent.get(f"/v1/accounts/{d.account['id']}/plans").json()["items"]


def said(telsim, d):
    """Everything the call said, in order (TwiML of each answer)."""
    [tc] = telsim.calls(to=d.number)
    return [e.get("body") or "" for e in tc["events"] if e["kind"] in ("twiml", "gather")], tc


def test_an_amount_in_policy_read_back_and_agreed(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)  # 1,000.00 USD, 100.00 a week
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "1,3,25#,1"}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"].endswith("1") and "#" in c["digits"])
    assert call["digits"] == "1325#1" and call["right_party"]
    words, tc = said(telsim, d)
    assert "Press 3 if you cannot pay this amount" in words[1]
    assert 'finishOnKey="#"' in words[2] and "US Dollar" in words[2] and "/telephony/amount/" in words[2]
    assert "You offered $25.00 a week" in words[3] and "in 40 weeks" in words[3]
    assert "Your new plan of $25.00 a week is agreed" in words[4]
    assert [e["what"] for e in tc["events"] if e["kind"] == "gather"] == ["Digits=1", "Digits=3", "Digits=25#", "Digits=1"]
    plans = {p["status"]: p for p in plans_of(phone_agent, d)}
    new = plans["active"]
    assert (new["origin"], new["channel"], new["weekly_amount_cents"]) == ("customer_proposed", "ivr", 2500)
    assert new["created_by"] is None and plans["superseded"]["id"] == d.plan["id"]
    assert new["first_due_date"] == d.due(1).isoformat()


def test_an_amount_out_of_policy_goes_to_two_associates(phone_server, phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "1,3,5#"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c) and "#" in c["digits"])
    words, _ = said(telsim, d)
    assert "You offered $5.00 a week" in words[3] and "two members of our team will review it" in words[3]
    assert re.search(r"You will hear from us by \w+day, \d+ \w+ \d{4}", words[3])
    pending = [p for p in plans_of(phone_agent, d) if p["status"] == "pending_approval"]
    assert len(pending) == 1 and pending[0]["channel"] == "ivr" and pending[0]["approvals_needed"] == 2
    assert "below_policy_minimum" in pending[0]["reasons"]
    # the old plan stands until two associates agree
    assert any(p["id"] == d.plan["id"] and p["status"] == "active" for p in plans_of(phone_agent, d))
    assert phone_agent.post(f"/v1/plans/{pending[0]['id']}/approvals", {}).json()["approvals_needed"] == 1
    other = phone_server.client(create_key(cluster.url, "agent"))
    assert other.post(f"/v1/plans/{pending[0]['id']}/approvals", {}).json()["status"] == "active"


def test_an_amount_that_cannot_be_used_is_asked_again(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "1,3,0#,30#,1"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"].count("#") == 2)
    words, _ = said(telsim, d)
    assert "Sorry, we could not use that amount" in words[3] and 'finishOnKey="#"' in words[3]
    assert "You offered $30.00 a week" in words[4]
    assert any(p["status"] == "active" and p["weekly_amount_cents"] == 3000 for p in plans_of(phone_agent, d))
