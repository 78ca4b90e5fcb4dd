"""Reminder calls end to end: keptd schedules and dials through kept-telsim,
which acts out the callee and posts signed callbacks and key presses back.
keptd runs in simulated time: a test sets its clock to the moment it plays
(run_reminders does, to the as_of it schedules at); every call the provider
received is checked against what kept recorded."""
import datetime
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from conftest import CALLBACK, Keptd, free_port, telephony_env
from helpers import CALL_DEBT_WORDS, Debtor, at_local, calls_of, finished, run_reminders, sealed, wait_for_call

def test_a_reminder_answered_and_confirmed(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    result = run_reminders(phone_api, d.before_due(1))
    assert result["placed"] >= 1
    [call] = wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "11")
    assert call["state"] == "completed" and call["purpose"] == "pre_due" and call["seq"] == 1
    assert call["right_party"] and call["conversation"] and call["answered_by"] == "human"
    assert call["number_last4"] == d.number[-4:] and "number" not in call
    [tc] = telsim.calls(to=d.number)
    assert tc["sid"] == call["provider_sid"]
    twiml = [e for e in tc["events"] if e["kind"] in ("twiml", "gather")]
    # nothing about the debt before the right party pressed 1; amount and date after
    assert "Gather" in twiml[0]["body"] and not any(w in twiml[0]["body"].lower() for w in CALL_DEBT_WORDS)
    assert "$100.00" in twiml[1]["body"] and str(d.due(1).day) in twiml[1]["body"]
    assert "Thank you for confirming" in twiml[2]["body"]
    # every callback was accepted
    callbacks = [e for e in tc["events"] if e["kind"] == "callback"]
    assert [e["status"] for e in callbacks] == [200] * len(callbacks) and len(callbacks) == 4
    # the create request had the provider's shape
    [create] = [r for r in telsim.requests() if r["method"] == "POST" and d.number.replace("+", "%2B") in r["body"]]
    assert create["auth_ok"] and "StatusCallbackEvent=initiated&StatusCallbackEvent=ringing" in create["body"]


def test_key_2_opens_an_escalation(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "12"}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "12")
    r = phone_agent.get(f"/v1/escalations?account_id={d.account['id']}")
    assert r.status == 200, r
    reasons = [e["reason"] for e in r.json()["items"]]
    assert reasons == ["customer_requested_agent"]
    [tc] = telsim.calls(to=d.number)
    assert "An agent will call you back" in tc["events"][-2]["body"] or any(
        "An agent will call you back" in (e.get("body") or "") for e in tc["events"])


def test_key_9_stops_automated_calls_at_once(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "19"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "19")
    customer = phone_agent.get(f"/v1/customers/{d.customer['id']}").json()
    assert customer["phones"][0]["consent_automated"] is False
    # next week's reminder (after the 7 days that follow the conversation) is blocked by consent
    run_reminders(phone_api, d.before_due(3))
    calls = calls_of(phone_api, d)
    later = [c for c in calls if c["seq"] == 3]
    assert later and later[0]["state"] == "blocked" and later[0]["blocked_rule"] == "no_consent"
    assert len(telsim.calls(to=d.number)) == 1


def test_an_answering_machine_hears_nothing_about_the_debt(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "machine", "keys": ""}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    assert call["answered_by"].startswith("machine") and not call["right_party"] and not call["conversation"]
    [tc] = telsim.calls(to=d.number)
    [twiml] = [e["body"] for e in tc["events"] if e["kind"] == "twiml"]
    lowered = twiml.lower()
    assert not any(w in lowered for w in CALL_DEBT_WORDS), twiml
    assert str(d.due(1).year) not in twiml and "100.00" not in twiml
    assert CALLBACK in twiml and "<Gather" not in twiml


def test_an_eighth_attempt_in_seven_days_is_held_back(phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent)
    as_of = d.before_due(2)
    t = datetime.datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    # seven attempts on this debt in the last seven days, as an older history would hold them
    cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state, dialed_at)
        SELECT {d.account['id']}, {d.customer['id']}, {d.plan['id']}, s, p, {sealed(d)}, t, 'completed', t
        FROM (VALUES (3, 'pre_due'), (3, 'missed'), (4, 'pre_due'), (4, 'missed'), (5, 'pre_due'), (5, 'missed'),
                     (6, 'pre_due')) v(s, p),
             LATERAL (SELECT '{t.isoformat()}'::timestamptz - (v.s * 13 + length(v.p)) * interval '1 hour') x(t)""")
    before = len(telsim.calls(to=d.number))
    run_reminders(phone_api, as_of)
    [call] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert call["state"] in ("queued", "blocked")
    assert "reg_f_7_in_7" in (call["deferred_rule"], call["blocked_rule"])
    assert len(telsim.calls(to=d.number)) == before == 0


def test_a_massachusetts_debt_is_called_at_most_twice_in_seven_days(phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent, jurisdiction="US-MA")
    as_of = d.before_due(2)
    cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state, dialed_at)
        VALUES ({d.account['id']}, {d.customer['id']}, {d.plan['id']}, 1, 'pre_due', {sealed(d)}, '{as_of}'::timestamptz - interval '3 days', 'completed', '{as_of}'::timestamptz - interval '3 days'),
               ({d.account['id']}, {d.customer['id']}, {d.plan['id']}, 1, 'missed', {sealed(d)}, '{as_of}'::timestamptz - interval '2 days', 'no-answer', '{as_of}'::timestamptz - interval '2 days')""")
    run_reminders(phone_api, as_of)
    [call] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert "jurisdiction_cap" in (call["deferred_rule"], call["blocked_rule"])
    assert telsim.calls(to=d.number) == []


def test_no_call_within_seven_days_after_a_conversation(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    run_reminders(phone_api, d.before_due(1, days=1))
    wait_for_call(phone_api, d, lambda c: finished(c) and c["conversation"])
    # installment 2's reminder falls on the seventh day from the conversation's date: held to the eighth's window
    run_reminders(phone_api, d.before_due(2, days=2, hour=20))
    [second] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert second["state"] == "queued" and second["deferred_rule"] == "reg_f_conversation"
    assert second["scheduled_at"] == at_local(d.due(2) - datetime.timedelta(days=1), 8, d.tz).replace("Z", ".000000Z")
    assert "1006.14(b)(2)(i)(B)" in second["decision"] and "it may go at" in second["decision"]
    assert len(telsim.calls(to=d.number)) == 1
    # on the eighth day it goes out
    run_reminders(phone_api, d.before_due(2, days=1, hour=11))
    calls = wait_for_call(phone_api, d, lambda c: c["seq"] == 2 and finished(c))
    assert [c["state"] for c in calls if c["seq"] == 2] == ["completed"]
    assert len(telsim.calls(to=d.number)) == 2


def test_customers_are_called_only_inside_their_own_calling_windows(phone_api, phone_agent, telsim):
    auckland = Debtor(phone_api, phone_agent, tz="Pacific/Auckland", jurisdiction="NZ")
    la = Debtor(phone_api, phone_agent, tz="America/Los_Angeles", jurisdiction="US-CA")
    for d in (auckland, la):
        telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": ""}})
    # 19:30 in Auckland the day before Auckland's due date; early morning or late night in Los Angeles
    as_of = auckland.before_due(1, hour=19, days=1)
    utc = datetime.datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    la_local = utc.astimezone(ZoneInfo("America/Los_Angeles"))
    assert not (8 <= la_local.hour < 21)
    run_reminders(phone_api, as_of)
    [a_call] = wait_for_call(phone_api, auckland, finished)
    assert a_call["state"] == "completed"
    assert 8 <= datetime.datetime.fromisoformat(a_call["dialed_at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("Pacific/Auckland")).hour < 21
    la_calls = calls_of(phone_api, la)
    if la_calls:  # due within its lead days: queued, moved to 08:00 Los Angeles time
        [held] = la_calls
        assert held["state"] == "queued" and held["deferred_rule"] == "calling_window"
        moved = datetime.datetime.fromisoformat(held["scheduled_at"].replace("Z", "+00:00"))
        assert moved.astimezone(ZoneInfo("America/Los_Angeles")).time() == datetime.time(8, 0)
    assert telsim.calls(to=la.number) == []
    # Los Angeles, 10:00 the next morning there (still before its due day ends)
    run_reminders(phone_api, at_local(la_local.date() + datetime.timedelta(days=1), 10, "America/Los_Angeles"))
    [l_call] = wait_for_call(phone_api, la, finished)
    local = datetime.datetime.fromisoformat(l_call["dialed_at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("America/Los_Angeles"))
    assert 8 <= local.hour < 21 and len(telsim.calls(to=la.number)) == 1


def test_429_then_success_places_exactly_one_call(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/faults", {"create": ["429"]})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    assert call["dial_attempts"] == 2 and not call["reconciled"]
    assert len(telsim.calls(to=d.number)) == 1
    creates = [r for r in telsim.requests() if r["method"] == "POST" and d.number.replace("+", "%2B") in r["body"]]
    assert len(creates) == 2


@pytest.mark.parametrize("fault", ["slow_created", "503_created", "drop_created"])
def test_an_ambiguous_create_is_reconciled_not_repeated(phone_api, phone_agent, telsim, fault):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/faults", {"create": [fault], "slow_ms": 2500})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    assert call["reconciled"] and call["dial_attempts"] == 1
    [tc] = telsim.calls(to=d.number)
    assert tc["sid"] == call["provider_sid"]
    lists = [r for r in telsim.requests() if r["method"] == "GET" and r["path"].endswith("Calls.json")]
    assert lists


def test_a_create_held_at_the_provider_is_found_not_repeated(phone_api, phone_agent, telsim):
    """The provider holds the create 5 s before acting on it (a request
    queued behind others): kept's request times out at 1.5 s and two lists
    1.5 s apart (at 3 s and 4.5 s) would both miss the call, so a retry then
    would ring twice. The second list waits for the settle time (8 s here)."""
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/faults", {"create": ["held"], "slow_ms": 5000})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    [tc] = telsim.calls(to=d.number)
    assert tc["sid"] == call["provider_sid"]
    assert call["reconciled"] and call["dial_attempts"] == 1
    lists = [r for r in telsim.requests() if r["method"] == "GET" and r["path"].endswith("Calls.json")
             and r["to"] == d.number]
    assert len(lists) == 2, lists


def test_a_create_that_never_arrived_is_retried(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/faults", {"create": ["503", "drop"]})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    assert call["dial_attempts"] == 3 and len(telsim.calls(to=d.number)) == 1


def test_duplicate_and_out_of_order_callbacks_move_a_call_forward_only(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "busy"}})
    telsim.post("/_telsim/faults", {"duplicate_callbacks": True, "reverse_callbacks": True})
    try:
        run_reminders(phone_api, d.before_due(1))
        deadline = time.time() + 15
        while time.time() < deadline:
            [tc] = telsim.calls(to=d.number)
            if len([e for e in tc["events"] if e["kind"] == "callback"]) == 6:
                break
            time.sleep(0.05)
    finally:
        telsim.post("/_telsim/faults", {})
    [call] = calls_of(phone_api, d)
    assert call["state"] == "busy"  # busy arrived first; ringing and initiated after it changed nothing
    callbacks = [e for e in tc["events"] if e["kind"] == "callback"]
    assert [e["what"] for e in callbacks][:2] == ["busy #2", "busy #2"]
    assert all(e["status"] == 200 for e in callbacks)


def test_two_instances_dial_each_call_once(cluster, admin_key, role_keys, telsim):
    port_a, port_b = free_port(), free_port()
    a = Keptd(cluster.url, **telephony_env(telsim, port_a, KEPT_DIAL_CONCURRENCY="4"))
    b = Keptd(cluster.url, **telephony_env(telsim, port_b, KEPT_DIAL_CONCURRENCY="4"))
    try:
        api_a, api_b = a.client(admin_key), b.client(admin_key)
        agent = a.client(role_keys["agent"])
        debtors = [Debtor(api_a, agent, tz="America/Chicago", jurisdiction="US-IL", days_back=60) for _ in range(24)]
        for d in debtors:
            telsim.post("/_telsim/callees", {d.number: {"behaviour": "no-answer"}})
        as_of = debtors[0].before_due(1)
        results = []
        threads = [threading.Thread(target=lambda c=c: results.append(run_reminders(c, as_of))) for c in (api_a, api_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r["claimed"] for r in results) >= 24
        for d in debtors:
            assert len(telsim.calls(to=d.number)) == 1, d.number
            [call] = calls_of(api_a, d)
            assert call["provider_sid"]
        agent.close()
        api_a.close()
        api_b.close()
    finally:
        a.assert_clean_exit()
        b.assert_clean_exit()


def test_calls_need_an_account_id_and_a_staff_key(phone_server, role_keys):
    agent = phone_server.client(role_keys["agent"])
    assert agent.get("/v1/calls").status == 400
    assert agent.get("/v1/calls?account_id=999999999").status == 404
    assert phone_server.client(role_keys["finance"]).get("/v1/calls?account_id=1").status == 403
    assert phone_server.client().get("/v1/calls?account_id=1").status == 401


@pytest.mark.parametrize("restriction,rule", [
    ({"cease_communication": True}, "cease_communication"),
    ({"attorney_represented": True}, "attorney"),
    ({"bankruptcy": True}, "bankruptcy"),
    ({"dispute_open": True}, "dispute"),
    ({"moratorium_until": "2099-01-01"}, "moratorium"),
])
def test_a_contact_restriction_drops_the_call_with_its_rule(phone_api, phone_agent, telsim, restriction, rule):
    d = Debtor(phone_api, phone_agent)
    r = phone_agent.patch(f"/v1/customers/{d.customer['id']}", {"contact_restrictions": restriction},
                          headers={"If-Match": str(d.customer["version"])})
    assert r.status == 200, r
    run_reminders(phone_api, d.before_due(1))
    [call] = calls_of(phone_api, d)
    assert call["state"] == "blocked" and call["blocked_rule"] == rule
    assert telsim.calls(to=d.number) == []


def test_a_number_without_consent_is_never_dialled(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent, consent=False)
    run_reminders(phone_api, d.before_due(1))
    [call] = calls_of(phone_api, d)
    assert call["state"] == "blocked" and call["blocked_rule"] == "no_consent"
    assert telsim.calls(to=d.number) == []


def test_one_reminder_per_installment_and_purpose(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "no-answer"}})
    run_reminders(phone_api, d.before_due(1, days=2))
    again = run_reminders(phone_api, d.before_due(1, days=1))
    assert again["scheduled"]["pre_due_queued"] == 0
    assert len(calls_of(phone_api, d)) == 1 and len(telsim.calls(to=d.number)) == 1


def test_a_missed_installment_gets_a_missed_call_the_day_after(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "1"}})
    after_grace = at_local(d.due(1) + datetime.timedelta(days=4), 11, d.tz)
    r = phone_api.post("/v1/admin/evaluate", {"as_of": after_grace})
    assert r.status == 200, r
    run_reminders(phone_api, after_grace)
    calls = wait_for_call(phone_api, d, lambda c: c["purpose"] == "missed" and finished(c))
    [missed] = [c for c in calls if c["purpose"] == "missed"]
    assert missed["seq"] == 1 and missed["state"] == "completed"
    [tc] = telsim.calls(to=d.number)
    said = " ".join(e.get("body") or "" for e in tc["events"])
    assert "We have not received your payment of $100.00" in said


def test_a_call_whose_callbacks_went_quiet_is_fetched_from_the_provider(phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "no-answer"}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    # as if every callback after the create had been lost, a while ago
    cluster.psql(f"UPDATE kept.calls SET state = 'placed', updated_at = now() - interval '1 hour' WHERE id = {call['id']}")
    result = run_reminders(phone_api, d.before_due(1, hour=11))
    assert result["polled"] >= 1
    [again] = calls_of(phone_api, d)
    assert again["state"] == "no-answer"
    fetches = [r for r in telsim.requests() if r["method"] == "GET" and r["path"].endswith(f"/{call['provider_sid']}.json")]
    assert len(fetches) == 1
