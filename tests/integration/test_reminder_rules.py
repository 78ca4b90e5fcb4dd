"""Reminder calls a compliance officer can sign off on, end to end through
kept-telsim with keptd in simulated time: the limited-content message and
the script's words, wrong party and opt-out before confirmation, one clock,
spacing, conversations from every channel, every known time zone and the
times a customer says are inconvenient, Massachusetts' two limits, the
provider's pace, triage. Each rule's test fails without the rule."""
import datetime
import json
import os
import re
import subprocess
import threading
import time
import uuid

import pytest
from zoneinfo import ZoneInfo

from conftest import (CALLBACK, CONTACT_NAME, Keptd, Telsim, command, create_key, free_port, keptd_env, migrate,
                      new_account, new_customer, set_clock, telephony_env)
from helpers import (CALL_DEBT_WORDS, Debtor, at_local, calls_of, finished, new_number, parse_time, run_reminders,
                        wait_for_call)

DAY = datetime.timedelta(days=1)


def spoken(twiml):
    """What a TwiML document says, its <Say> texts joined."""
    return " ".join(re.findall(r"<Say>(.*?)</Say>", twiml)).replace("&amp;", "&").replace("  ", " ")


def limited_content(customer_name="Test Customer"):
    """12 CFR 1006.2(j): the salutation, the natural person and the business, the request to reply, the number."""
    return (f"Hello, {customer_name}. This is {CONTACT_NAME} calling from Kept Customer Services. "
            f"Please call me back at {CALLBACK}.")


def twiml_of(telsim, number, kinds=("twiml", "gather")):
    [tc] = telsim.calls(to=number)
    return [e for e in tc["events"] if e["kind"] in kinds]


def creates_to(telsim, number):
    return [r for r in telsim.requests() if r["method"] == "POST" and number.replace("+", "%2B") in r["body"]]


def escalations(agent, account_id, reason):
    r = agent.get(f"/v1/escalations?account_id={account_id}&reason={reason}&status=all")
    assert r.status == 200, r
    return r.json()["items"]


def wait_until(pred, timeout=15):
    deadline = time.time() + timeout
    while not pred():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


# ---- 1. the script --------------------------------------------------------------------------

def test_a_machine_with_a_long_greeting_gets_the_whole_limited_content_message(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "machine", "greeting_ms": 25000}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, finished)
    assert call["answered_by"] == "machine_end_beep" and not call["right_party"] and not call["conversation"]
    creates = creates_to(telsim, d.number)
    assert creates and all("MachineDetection=DetectMessageEnd" in c["body"] for c in creates)
    [machine] = twiml_of(telsim, d.number, kinds=("machine",))
    # detection waited for the greeting's beep, so the machine recorded the message whole
    assert machine["detection"] == "DetectMessageEnd" and machine["recorded_whole"], machine
    [twiml] = twiml_of(telsim, d.number, kinds=("twiml",))
    assert spoken(twiml["body"]) == limited_content(), twiml["body"]
    assert "<Gather" not in twiml["body"] and not any(w in twiml["body"].lower() for w in CALL_DEBT_WORDS)


def test_an_answer_detection_could_not_classify_gets_only_the_limited_content_message(phone_api, phone_agent,
                                                                                      telsim):
    silent = Debtor(phone_api, phone_agent)
    endless = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {silent.number: {"behaviour": "silent"},
                                     endless.number: {"behaviour": "machine", "greeting_ms": 50000}})
    run_reminders(phone_api, silent.before_due(1))
    for d in (silent, endless):
        [call] = wait_for_call(phone_api, d, finished)
        assert call["answered_by"] == "unknown" and not call["right_party"], call
        [twiml] = twiml_of(telsim, d.number, kinds=("twiml",))
        # no opening that names the debt's owner and asks for a key: the message, twice, in case a greeting plays on
        assert spoken(twiml["body"]) == limited_content() + " " + limited_content(), twiml["body"]
        assert "<Gather" not in twiml["body"]


def test_the_right_party_hears_who_calls_the_disclosure_and_a_number_on_the_1_1_path(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "11")
    opening, disclose, confirmed = [spoken(e["body"]) for e in twiml_of(telsim, d.number)]
    assert f"Hello, this is {CONTACT_NAME} calling from Kept Customer Services." in opening
    assert "If you are not Test Customer, please press 2." in opening and "press 9" in opening
    assert disclose.index("This is an attempt to collect a debt") < disclose.index("$100.00")
    # 47 CFR 64.1200(b)(2): the path that confirms at once says a number too
    assert CALLBACK in confirmed


def test_keptd_refuses_names_that_would_disclose_debt_collection(cluster, telsim):
    env = keptd_env(cluster.url, **telephony_env(telsim, free_port(), KEPT_BUSINESS_NAME="Acme Debt Recovery",
                                                 KEPT_CONTACT_NAME="Collections Desk"))
    done = subprocess.run(command("keptd", "serve"), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert 'KEPT_BUSINESS_NAME: must not suggest debt collection ("debt")' in done.stderr
    assert "KEPT_CONTACT_NAME: must not suggest debt collection" in done.stderr
    no_contact = {k: v for k, v in env.items() if k != "KEPT_CONTACT_NAME"}
    no_contact["KEPT_BUSINESS_NAME"] = "Kept Customer Services"
    done = subprocess.run(command("keptd", "serve"), env=no_contact, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "KEPT_CONTACT_NAME: is required with KEPT_TELEPHONY_BASE_URL" in done.stderr


# ---- 2. wrong party and opt-out before confirmation ---------------------------------------------

def test_key_2_before_confirmation_marks_the_number_wrong_party(phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "2"}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "2")
    assert not call["right_party"] and not call["conversation"]
    after = spoken(twiml_of(telsim, d.number)[-1]["body"])
    assert "sorry to have troubled you" in after and CALLBACK in after
    assert not any(w in after.lower() for w in CALL_DEBT_WORDS if w != "$")
    customer = phone_agent.get(f"/v1/customers/{d.customer['id']}").json()
    assert customer["phones"][0]["wrong_party_at"] is not None
    [escalation] = escalations(phone_agent, d.account["id"], "wrong_party")
    assert escalation["status"] == "open" and d.number[-4:] in escalation["note"]
    audited = cluster.psql(f"SELECT actor FROM kept.audit_events WHERE action = 'phone.wrong_party' "
                           f"AND entity_id = {d.customer['id']}")
    assert audited == [["the person who answered (key 2 on a reminder call)"]]
    # no automated call goes to that number again
    run_reminders(phone_api, d.before_due(2))
    [later] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert later["state"] == "blocked" and later["blocked_rule"] == "wrong_party"
    assert later["decision"].startswith("Blocked, never dialled: the number ending " + d.number[-4:])
    assert len(telsim.calls(to=d.number)) == 1


def test_key_9_before_confirmation_stops_automated_calls(phone_api, phone_agent, telsim, cluster):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "9"}})
    run_reminders(phone_api, d.before_due(1))
    [call] = wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "9")
    assert not call["right_party"]
    assert "no more automated calls" in spoken(twiml_of(telsim, d.number)[-1]["body"])
    customer = phone_agent.get(f"/v1/customers/{d.customer['id']}").json()
    assert customer["phones"][0]["consent_automated"] is False
    assert cluster.psql(f"SELECT count(*) FROM kept.audit_events WHERE action = 'consent.revoked' "
                        f"AND entity_id = {d.customer['id']}") == [["1"]]
    run_reminders(phone_api, d.before_due(2))
    [later] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert later["blocked_rule"] == "no_consent" and len(telsim.calls(to=d.number)) == 1


# ---- 3. one clock ------------------------------------------------------------------------------------

def test_a_past_as_of_schedules_but_the_dial_waits_for_keptds_clock(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    eve = d.due(1) - DAY
    # 03:00 in New York on keptd's clock; the request asks about noon the day before
    set_clock(phone_api, at_local(eve, 3, d.tz))
    r = phone_api.post("/v1/admin/reminders", {"as_of": at_local(eve - DAY, 12, d.tz)})
    assert r.status == 200 and r.json()["placed"] == 0, r
    [call] = calls_of(phone_api, d)
    assert call["state"] == "queued" and call["rule"] == "calling_window" and call["dialed_at"] is None
    assert parse_time(call["next_attempt_at"]) == parse_time(at_local(eve, 8, d.tz))
    judged = parse_time(call["judged_at"]).astimezone(ZoneInfo(d.tz))
    assert judged.date() == eve and judged.hour == 3, call
    assert telsim.calls(to=d.number) == []
    # at 08:05 on keptd's clock, with no as_of at all, it goes, and the record says 08:05
    set_clock(phone_api, at_local(eve, 8, d.tz, minute=5))
    r = phone_api.post("/v1/admin/reminders", {})
    # this debtor's call is placed (the shared keptd may place other tests' calls due by now too)
    assert r.status == 200 and r.json()["placed"] >= 1, r
    [call] = wait_for_call(phone_api, d, finished)
    dialed = parse_time(call["dialed_at"]).astimezone(ZoneInfo(d.tz))
    assert dialed.date() == eve and (dialed.hour, dialed.minute) == (8, 5), call


def test_simulated_time_is_for_the_simulator_only(cluster, admin_key, telsim, server, phone_server):
    env = keptd_env(cluster.url, **telephony_env(telsim, free_port(), KEPT_TELEPHONY_BASE_URL="https://api.twilio.com"))
    done = subprocess.run(command("keptd", "serve"), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "KEPT_CLOCK: simulated time is allowed only with the telephony simulator" in done.stderr
    # a keptd on the wall clock cannot be moved
    wall = server.client(admin_key)
    assert wall.get("/v1/admin/clock").json()["mode"] == "wall"
    r = wall.put("/v1/admin/clock", {"now": "2026-01-05T10:00:00Z"})
    assert r.status == 409 and r.error["code"] == "clock_not_simulated"
    wall.close()
    # a simulated keptd whose loopback "provider" is not kept-telsim dials nothing
    port = free_port()
    k = Keptd(cluster.url, **telephony_env(telsim, port, KEPT_TELEPHONY_BASE_URL=f"http://127.0.0.1:{phone_server.port}"))
    try:
        api = k.client(admin_key)
        r = api.post("/v1/admin/reminders", {})
        assert r.status == 422 and r.error["code"] == "clock_needs_simulator", r
        r = api.put("/v1/admin/clock", {"now": "yesterday"})
        assert r.status == 400 and r.error["code"] == "invalid_now"
        api.close()
    finally:
        k.assert_clean_exit()


def test_a_create_retried_after_retry_after_is_judged_against_the_window_again(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    eve = d.due(1) - DAY
    telsim.post("/_telsim/faults", {"clear": True, "create": ["429"], "to": d.number, "retry_after_s": 20})
    try:
        # ten seconds before the last moment a create may go (20:59:00): the 429 asks for twenty
        result = run_reminders(phone_api, at_local(eve, 20, d.tz, minute=58, second=50))
    finally:
        telsim.post("/_telsim/faults", {"retry_after_s": 1})
    assert result["not_sent"] >= 1, result
    assert len(creates_to(telsim, d.number)) == 1 and telsim.calls(to=d.number) == []
    # back in the queue for when the provider said it may be asked again, and judged then
    [call] = calls_of(phone_api, d)
    assert call["state"] == "queued" and call["dialed_at"] is None and call["dial_attempts"] == 1
    assert call["decision"].startswith("Not sent: the calling window closed before a create could be sent")
    retry = parse_time(call["next_attempt_at"])
    assert datetime.timedelta(seconds=15) < retry - parse_time(result["clock"]) < datetime.timedelta(seconds=25)
    run_reminders(phone_api, (retry + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    [call] = calls_of(phone_api, d)
    assert call["state"] == "queued" and call["rule"] == "calling_window"
    assert parse_time(call["next_attempt_at"]) == parse_time(at_local(d.due(1), 8, d.tz))
    assert len(creates_to(telsim, d.number)) == 1


# ---- 4. spacing -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("whose", ["the same customer's", "another customer's"])
def test_two_debts_on_one_number_are_never_rung_the_same_day(phone_api, phone_agent, telsim, whose):
    """Per number, whoever's debt: two customers sharing a landline are compared by the number's
    global digest (each customer's number is sealed under their own key)."""
    first = Debtor(phone_api, phone_agent)
    second = Debtor(phone_api, phone_agent, number=first.number,
                    customer=first.customer if whose == "the same customer's" else None)
    telsim.post("/_telsim/callees", {first.number: {"behaviour": "no-answer"}})
    run_reminders(phone_api, first.before_due(1))
    calls = calls_of(phone_api, first) + calls_of(phone_api, second)
    [held] = [c for c in calls if c["state"] == "queued"]
    assert held["rule"] == "spacing" and first.number[-4:] in held["decision"]
    assert parse_time(held["next_attempt_at"]) == parse_time(at_local(first.due(1), 8, first.tz))
    wait_until(lambda: len(telsim.calls(to=first.number)) == 1)
    run_reminders(phone_api, at_local(first.due(1), 8, first.tz, minute=1))
    wait_until(lambda: len(telsim.calls(to=first.number)) == 2)
    times = sorted(parse_time(c["dialed_at"]) for c in calls_of(phone_api, first) + calls_of(phone_api, second))
    assert times[1] - times[0] >= datetime.timedelta(minutes=240)
    assert times[0].astimezone(ZoneInfo(first.tz)).date() != times[1].astimezone(ZoneInfo(first.tz)).date()


# ---- 5. conversations from every channel ------------------------------------------------------------------

def test_an_agents_telephone_conversation_holds_kepts_reminder(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    path = f"/v1/accounts/{d.account['id']}/contacts"
    email = phone_agent.post(path, {"channel": "email", "direction": "outbound", "outcome": "conversation",
                                    "occurred_at": d.before_due(1, days=3)})
    assert email.status == 201 and email.json()["counts_as"].startswith("not a telephone contact")
    r = phone_agent.post(path, {"channel": "phone", "direction": "inbound", "outcome": "conversation",
                                "number": d.number, "occurred_at": d.before_due(1, days=2), "note": "called in"})
    assert r.status == 201, r
    assert r.json()["counts_as"].startswith("a telephone conversation") and r.json()["number_last4"] == d.number[-4:]
    listed = phone_agent.get(path).json()["items"]
    assert [c["channel"] for c in listed] == ["email", "phone"]
    run_reminders(phone_api, d.before_due(1))
    [call] = calls_of(phone_api, d)
    assert call["rule"] == "reg_f_conversation" and "1006.14(b)(2)(i)(B)" in call["decision"]
    assert telsim.calls(to=d.number) == []


def test_an_agents_outbound_attempts_count_in_7_in_7(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    path = f"/v1/accounts/{d.account['id']}/contacts"
    for days in range(1, 7):
        r = phone_agent.post(path, {"channel": "phone", "direction": "outbound", "outcome": "no_answer",
                                    "number": d.number, "occurred_at": d.before_due(1, days=days + 1, hour=11)})
        assert r.status == 201 and "counts in 7-in-7" in r.json()["counts_as"], r
    r = phone_agent.post(path, {"channel": "phone", "direction": "outbound", "outcome": "left_message",
                                "number": d.number, "occurred_at": d.before_due(1, hour=9)})
    assert r.status == 201
    inbound = phone_agent.post(path, {"channel": "phone", "direction": "inbound", "outcome": "no_answer",
                                      "occurred_at": d.before_due(1, hour=9)})
    assert inbound.json()["counts_as"] == "an inbound call that reached nobody: counts in no rule"
    run_reminders(phone_api, d.before_due(1))
    [call] = calls_of(phone_api, d)
    assert call["rule"] == "reg_f_7_in_7" and "7 calls about this debt" in call["decision"], call
    assert telsim.calls(to=d.number) == []


def test_contacts_are_checked(phone_agent):
    customer = new_customer(phone_agent, time_zone="America/Chicago", jurisdiction="US-IL")
    account = new_account(phone_agent, customer["id"], currency="USD")
    path = f"/v1/accounts/{account['id']}/contacts"
    cases = [({"channel": "fax", "direction": "inbound", "outcome": "conversation"}, 400, "invalid_contact_channel"),
             ({"channel": "phone", "direction": "sideways", "outcome": "conversation"}, 400, "invalid_direction"),
             ({"channel": "phone", "direction": "inbound", "outcome": "chat"}, 400, "invalid_outcome"),
             ({"channel": "phone", "direction": "outbound", "outcome": "no_answer"}, 400, "missing_value"),
             ({"channel": "phone", "direction": "inbound", "outcome": "conversation", "number": "555"}, 400,
              "invalid_phone"),
             ({"channel": "phone", "direction": "inbound", "outcome": "conversation",
               "occurred_at": "2999-01-01T00:00:00Z"}, 422, "contact_in_future"),
             ({"channel": "phone", "direction": "inbound", "outcome": "conversation", "occurred_at": "soon"}, 400,
              "invalid_occurred_at"),
             ({"direction": "inbound", "outcome": "conversation"}, 400, "missing_field")]
    for body, status, code in cases:
        r = phone_agent.post(path, body)
        assert (r.status, r.error["code"]) == (status, code), (body, r)
    assert phone_agent.post("/v1/accounts/999999999/contacts", cases[0][0]).status in (400, 404)
    r = phone_agent.post("/v1/accounts/999999999/contacts", {"channel": "phone", "direction": "inbound",
                                                             "outcome": "conversation"})
    assert r.status == 404 and r.error["code"] == "account_not_found"
    assert phone_agent.get(f"{path}?limit=0").status == 400


def test_a_plan_agreed_by_telephone_is_a_conversation_unless_the_customer_consents_to_the_reminder(
        phone_api, phone_agent, telsim):
    tz = "America/New_York"
    today = datetime.datetime.now(ZoneInfo(tz)).date()
    set_clock(phone_api, at_local(today, 10, tz))
    debtors = []
    for body in ({}, {"reminder_consent": True}, {"contact_channel": "email"}):
        number = new_number()
        customer = new_customer(phone_agent, time_zone=tz, jurisdiction="US-NY",
                                phones=[{"number": number, "consent_automated": True}])
        account = new_account(phone_agent, customer["id"], currency="USD", original_balance_cents=50000)
        r = phone_agent.post(f"/v1/accounts/{account['id']}/plans",
                             {"weekly_amount_cents": 10000, "first_due_date": (today + 2 * DAY).isoformat(), **body})
        assert r.status == 201, r
        debtors.append((account, number, r.json()))
    assert debtors[1][2]["reminder_consent_at"] is not None and debtors[0][2]["reminder_consent_at"] is None
    telsim.post("/_telsim/callees", {n: {"behaviour": "no-answer"} for _, n, _ in debtors})
    run_reminders(phone_api, at_local(today, 10, tz, minute=5))

    def call_of(i):
        r = phone_agent.get(f"/v1/calls?account_id={debtors[i][0]['id']}")
        [c] = r.json()["items"]
        return c

    by_phone, consented, by_email = call_of(0), call_of(1), call_of(2)
    assert by_phone["rule"] == "reg_f_conversation" and by_phone["dialed_at"] is None
    assert consented["dialed_at"] is not None and "1006.14(b)(3)(i)" in consented["excluded"]
    assert "an excluded call" in consented["decision"]
    assert by_email["dialed_at"] is not None and by_email["excluded"] is None
    contacts = phone_agent.get(f"/v1/accounts/{debtors[0][0]['id']}/contacts").json()["items"]
    assert [(c["source"], c["channel"], c["direction"]) for c in contacts] == [("plan", "phone", None)]


# ---- 6. every known location -----------------------------------------------------------------------------

def test_a_new_york_address_with_a_los_angeles_number_waits_for_los_angeles(phone_api, phone_agent, telsim,
                                                                           role_keys, phone_server):
    number = "+1213" + new_number()[5:]
    d = Debtor(phone_api, phone_agent, number=number)
    customer = phone_agent.get(f"/v1/customers/{d.customer['id']}").json()
    assert customer["time_zones"] == ["America/Los_Angeles", "America/New_York"]
    assert customer["phones"][0]["time_zones"] == ["America/Los_Angeles"]
    eve = d.due(1) - DAY
    run_reminders(phone_api, at_local(eve, 9, d.tz))  # 06:00 in Los Angeles
    [call] = calls_of(phone_api, d)
    assert call["rule"] == "calling_window" and call["zones"] == ["America/Los_Angeles", "America/New_York"]
    assert parse_time(call["next_attempt_at"]) == parse_time(at_local(eve, 8, "America/Los_Angeles"))
    assert "America/Los_Angeles" in call["decision"] and "12 CFR 1006.6(b)(1)(i)" in call["decision"]
    assert telsim.calls(to=number) == []
    # kept calls ACCOUNT says it in plain words
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
    env.update(KEPT_URL=f"http://127.0.0.1:{phone_server.port}", KEPT_API_KEY=role_keys["agent"])
    shown = subprocess.run(command("kept", "calls", str(d.account["id"])), env=env, capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "calling_window" in shown.stdout and f"call {call['id']}: Held by the calling window" in shown.stdout
    assert "it may go at" in shown.stdout and "****" + number[-4:] in shown.stdout
    run_reminders(phone_api, at_local(eve, 8, "America/Los_Angeles", minute=1))
    [call] = wait_for_call(phone_api, d, finished)
    assert parse_time(call["dialed_at"]).astimezone(ZoneInfo("America/Los_Angeles")).hour == 8


def test_times_the_customer_says_are_inconvenient_are_honoured(phone_api, phone_agent, telsim):
    d = Debtor(phone_api, phone_agent)
    eve = d.due(1) - DAY
    day = eve.strftime("%a").lower()
    path = f"/v1/customers/{d.customer['id']}"
    bad = phone_agent.patch(path, {"inconvenient_times": [{"days": [day], "from": "17:00", "to": "09:00"}]},
                            headers={"If-Match": str(d.customer["version"])})
    assert bad.status == 400 and bad.error["code"] == "invalid_inconvenient_times", bad
    r = phone_agent.patch(path, {"inconvenient_times": [{"days": [day], "from": "09:00", "to": "17:00",
                                                         "note": "at work"}]},
                          headers={"If-Match": str(d.customer["version"])})
    assert r.status == 200 and r.json()["inconvenient_times"][0]["note"] == "at work", r
    run_reminders(phone_api, at_local(eve, 10, d.tz))
    [call] = calls_of(phone_api, d)
    assert call["rule"] == "inconvenient_time" and f"{day} 09:00-17:00" in call["decision"]
    assert parse_time(call["next_attempt_at"]) == parse_time(at_local(eve, 17, d.tz))
    assert telsim.calls(to=d.number) == []


def test_phone_types_are_checked(phone_agent):
    r = phone_agent.post("/v1/customers", {"external_ref": f"PT-{uuid.uuid4().hex[:8]}", "name": "Type Case",
                                           "time_zone": "America/New_York", "jurisdiction": "US-NY",
                                           "phones": [{"number": "+15550001234", "consent_automated": True,
                                                       "type": "pager"}]})
    assert r.status == 400 and r.error["code"] == "invalid_phone_type", r


def test_massachusetts_allows_two_calls_in_thirty_days_to_a_work_number(phone_api, phone_agent, telsim, cluster):
    work = new_number()
    d = Debtor(phone_api, phone_agent, jurisdiction="US-MA",
               phones=[{"number": work, "consent_automated": True, "type": "work"}])
    as_of = d.before_due(2)
    cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state, dialed_at)
        SELECT {d.account['id']}, {d.customer['id']}, {d.plan['id']}, 5 + n, 'pre_due',
               kept.pii_seal({d.customer['id']}, '{work}'), kept.pii_digest({d.customer['id']}, '{work}'),
               kept.number_gdigest('{work}'), t, 'no-answer', t
        FROM (VALUES (0, 20), (1, 12)) v(n, days),
             LATERAL (SELECT '{as_of}'::timestamptz - v.days * interval '1 day') x(t)""")
    run_reminders(phone_api, as_of)
    [call] = [c for c in calls_of(phone_api, d) if c["seq"] == 2]
    assert call["rule"] == "jurisdiction_cap" and "940 CMR 7.04(1)(f)" in call["decision"]
    assert "other numbers in 30 days" in call["decision"]
    assert telsim.calls(to=work) == []


# ---- 7. the provider's pace -------------------------------------------------------------------------------

def seed_due_calls(cluster, db, tag, n, due_date, scheduled_at):
    """n customers in New York, each with its own number, an imported plan and a pre_due call due at scheduled_at."""
    base = int(uuid.uuid4().int % 9_000_000)
    cluster.psql(f"""
        DO $$ DECLARE c json; a json; p json; v_number text; BEGIN
        FOR i IN 1..{n} LOOP
            v_number := '+1555' || lpad((({base} + i) % 10000000)::text, 7, '0');
            c := kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'PACE-{tag}-' || i,
                 'name', 'Pace Case', 'time_zone', 'America/New_York', 'jurisdiction', 'US-NY',
                 'phones', jsonb_build_array(jsonb_build_object('number', v_number, 'consent_automated', true))));
            a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', c->>'id',
                 'external_ref', 'PACEA-{tag}-' || i, 'creditor', 'Pace Bank', 'original_balance_cents', 30000,
                 'currency', 'USD'));
            p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object(
                 'weekly_amount_cents', 10000, 'first_due_date', '{due_date.isoformat()}', 'imported', true));
            INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                    number_gdigest, scheduled_at)
            VALUES ((a->>'id')::bigint, (c->>'id')::bigint, (p->>'id')::bigint, 1, 'pre_due',
                    kept.pii_seal((c->>'id')::bigint, v_number), kept.pii_digest((c->>'id')::bigint, v_number),
                    kept.number_gdigest(v_number),
                    '{scheduled_at}');
        END LOOP; END $$""", db=db)


def test_the_providers_pace_is_kept_across_keptds_and_never_queues_past_a_window(cluster):
    db = "kept_pace"
    url = cluster.new_database(db)
    migrate(url)
    key = create_key(url, "admin")
    tz = "America/New_York"
    today = datetime.datetime.now(ZoneInfo(tz)).date()
    telsim = Telsim(KEPT_TELSIM_CPS="20", KEPT_TELSIM_LIFE="off")
    ports = [free_port(), free_port()]
    # claims of 20 calls, so that the two instances take turns and each books its own slots
    keptds = [Keptd(url, **telephony_env(telsim, p, KEPT_TELEPHONY_CPS="20", KEPT_DIAL_BATCH="20")) for p in ports]
    apis = [k.client(key) for k in keptds]
    try:
        # two keptd dialling 80 due calls at once share 20 calls per second between them
        seed_due_calls(cluster, db, "A", 80, today + DAY, at_local(today, 10, tz))
        for api in apis:
            set_clock(api, at_local(today, 10, tz, minute=1))
        results = []
        threads = [threading.Thread(target=lambda a=a: results.append(a.post("/v1/admin/reminders", {}).json()))
                   for a in apis]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r["placed"] for r in results) == 80, results
        calls = telsim.calls()
        assert len(calls) == 80 and len({c["to"] for c in calls}) == 80
        # the provider queues what exceeds its pace: nothing waited there
        waits = sorted(int(c["queue_time"]) for c in calls)
        assert waits[-1] <= 250, waits[-10:]
        arrived = sorted(c["arrived_ms"] for c in calls)
        assert arrived[-1] - arrived[0] >= (80 - 1) * 50 - 250

        # a burst of 300 at 20:58:52: the last create may go at 20:59:00, so most wait for the morning
        seed_due_calls(cluster, db, "B", 300, today + DAY, at_local(today, 20, tz, minute=50))
        evening = at_local(today, 20, tz, minute=58, second=52)
        clock = set_clock(apis[0], evening)
        offset_ms = clock["offset_seconds"] * 1000
        burst = apis[0].post("/v1/admin/reminders", {}).json()
        calls = telsim.calls()[80:]
        assert 40 <= burst["placed"] == len(calls) <= 8 * 20 + 1, burst
        window_closes = parse_time(at_local(today, 21, tz)).timestamp() * 1000
        for c in calls:
            assert int(c["queue_time"]) <= 250, c
            assert c["started_ms"] + offset_ms < window_closes - 59_000, c
        held = [row for row in cluster.psql(
            "SELECT deferred_rule, scheduled_at AT TIME ZONE 'America/New_York', decision FROM kept.calls "
            "WHERE state = 'queued'", db=db)]
        assert len(held) == 300 - burst["placed"]
        assert all(r[0] == "calling_window" and r[1].endswith("08:00:00") for r in held), held[:3]
    finally:
        for a in apis:
            a.close()
        for k in keptds:
            k.assert_clean_exit()
        assert telsim.stop() == 0


# ---- 8. triage ----------------------------------------------------------------------------------------------

def test_calls_that_keep_reaching_nobody_open_one_escalation_and_stop(phone_api, phone_agent, telsim):
    creditor = f"Triage Bank {uuid.uuid4().hex[:8]}"
    r = phone_api.post("/v1/policies", {"creditor": creditor, "failed_calls_before_triage": 2})
    assert r.status == 201 and r.json()["failed_calls_before_triage"] == 2, r
    d = Debtor(phone_api, phone_agent, creditor=creditor)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "no-answer"}})
    for seq in (1, 2):
        run_reminders(phone_api, d.before_due(seq))
        wait_for_call(phone_api, d, lambda c, s=seq: c["seq"] == s and finished(c))
    wait_until(lambda: escalations(phone_agent, d.account["id"], "repeated_call_failures"))
    run_reminders(phone_api, d.before_due(3))
    [third] = [c for c in calls_of(phone_api, d) if c["seq"] == 3]
    assert third["state"] == "blocked" and third["blocked_rule"] == "repeated_call_failures"
    assert "keep reaching nobody" in third["decision"]
    [escalation] = escalations(phone_agent, d.account["id"], "repeated_call_failures")
    assert escalation["status"] == "open" and len(telsim.calls(to=d.number)) == 2
    # resolved: automated calls may try again
    r = phone_agent.post(f"/v1/escalations/{escalation['id']}/resolve", {"note": "customer gave a new time to call"})
    assert r.status == 200, r
    customer = phone_agent.get(f"/v1/customers/{d.customer['id']}").json()
    assert customer["phones"][0]["failed_attempts"] == 0
    run_reminders(phone_api, d.before_due(4))
    wait_for_call(phone_api, d, lambda c: c["seq"] == 4 and finished(c))
    assert len(telsim.calls(to=d.number)) == 3
