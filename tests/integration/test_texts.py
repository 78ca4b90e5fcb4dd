"""Text messages end to end through kept-telsim's Messages API: a personal
link texted, delivered, ending with how to opt out; the contact rules texts
obey (consent to texts per number, the calling window in every known zone,
an opt-out); STOP, START and HELP from the customer's phone, at once and
audited; a provider's refusal for a number that opted out at the carrier,
recorded and never retried. keptd runs in simulated time: each test sets
its clock to the moment it plays."""
import datetime
import time
from zoneinfo import ZoneInfo

from conftest import CALLBACK, free_port, set_clock
from helpers import DEBT_WORDS, customer_on_the_page, noon, wait_for_texts


def messages_of(agent, account):
    r = agent.get(f"/v1/messages?account_id={account['id']}")
    assert r.status == 200, r
    return r.json()["items"]


def wait_for_state(agent, account, states, timeout=15):
    deadline = time.time() + timeout
    while True:
        items = messages_of(agent, account)
        if (items and items[-1]["state"] in states) or time.time() > deadline:
            return items
        time.sleep(0.05)


def text_link(agent, account, **fields):
    r = agent.post(f"/v1/accounts/{account['id']}/self-service-links", dict(fields, send="sms"))
    assert r.status == 201, r
    return r.json()


def inbound(telsim, server, number, body):
    return telsim.post("/_telsim/inbound", {"from": number, "to": "+15550000100", "body": body,
                                            "url": f"http://127.0.0.1:{server.port}/telephony/messages"})


def creates_to(telsim, number):
    return [r for r in telsim.requests() if r["method"] == "POST" and r["path"].endswith("/Messages.json")
            and "To=" + number.replace("+", "%2B") in r["body"]]


def test_a_link_by_text_is_sent_delivered_and_says_how_to_opt_out(phone_server, phone_api, phone_agent, telsim,
                                                                  cluster):
    set_clock(phone_api, noon("America/New_York"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent)
    number = c["phones"][0]["number"]
    link = text_link(phone_agent, a)
    assert link["message"]["state"] == "queued" and link["message"]["rule"] is None
    assert link["sent_to_last4"] == number[-4:]
    [text] = wait_for_texts(telsim, number, 1)
    assert link["url"] in text["body"] and text["body"].endswith("Reply STOP to opt out.")
    assert [w for w in DEBT_WORDS if w in text["body"].replace(link["url"], "").lower()] == []
    assert 0 < text["validity_period"] <= 9 * 3600 + 60  # no later than the window's end (21:00 from noon)
    # the provider's callbacks: sent, then delivered; staff see the text without the link
    items = wait_for_state(phone_agent, a, ("delivered",))
    assert items[-1]["state"] == "delivered" and items[-1]["provider_sid"] == text["sid"]
    assert link["url"] not in items[-1]["body"] and "/s/..." in items[-1]["body"] or "/s/…" in items[-1]["body"]
    assert cluster.psql(f"SELECT sealed IS NULL FROM kept.messages WHERE id = {items[-1]['id']}") == [["t"]]
    [create] = creates_to(telsim, number)
    assert create["auth_ok"] and "StatusCallback=" in create["body"] and "ValidityPeriod=" in create["body"]
    assert number not in phone_server.log()
    # in the customer's language
    c2, a2, _ = customer_on_the_page(phone_agent, phone_agent, language="es")
    text_link(phone_agent, a2)
    [es] = wait_for_texts(telsim, c2["phones"][0]["number"], 1)
    assert "Hola" in es["body"] and es["body"].endswith("Responda STOP para no recibir más mensajes.")
    set_clock(phone_api, None)


def test_texts_obey_consent_and_the_window_in_every_known_zone(phone_server, phone_api, phone_agent, telsim):
    set_clock(phone_api, noon("America/New_York"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent, texts=False)
    link = text_link(phone_agent, a)
    assert link["message"]["state"] == "blocked" and link["message"]["rule"] == "no_consent"
    # a New York address and a Los Angeles number: 09:00 in New York is 06:00 there
    tz = ZoneInfo("America/New_York")
    morning = datetime.datetime.now(tz).replace(hour=9, minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    set_clock(phone_api, morning.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent, number="+12135550142")
    link = text_link(phone_agent, a)
    held = link["message"]
    assert held["state"] == "queued" and held["rule"] == "calling_window"
    assert "America/Los_Angeles" in held["decision"]
    assert held["next_attempt_at"].startswith(morning.astimezone(datetime.timezone.utc).replace(hour=16)
                                              .strftime("%Y-%m-%dT%H:00"))
    r = phone_api.post("/v1/admin/reminders", {})
    assert r.status == 200 and r.json()["texts"]["sent"] == 0 and creates_to(telsim, "+12135550142") == []
    # 08:00 in Los Angeles: it goes
    set_clock(phone_api, held["next_attempt_at"])
    r = phone_api.post("/v1/admin/reminders", {})
    assert r.status == 200, r
    assert len(wait_for_texts(telsim, "+12135550142", 1)) == 1
    set_clock(phone_api, None)


def test_stop_start_and_help_at_once_and_audited(phone_server, phone_api, phone_agent, telsim, cluster):
    set_clock(phone_api, noon("America/New_York"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent)
    number = c["phones"][0]["number"]
    help_ = inbound(telsim, phone_server, number, "help")
    assert help_["status"] == 200 and "Kept Customer Services" in help_["reply"] and CALLBACK in help_["reply"]
    assert help_["reply"].endswith("Reply STOP to opt out.")
    stop = inbound(telsim, phone_server, number, " Stop ")
    assert stop["status"] == 200 and stop["reply"] is None and "<Response/>" in stop["twiml"]
    phone = phone_agent.get(f"/v1/customers/{c['id']}").json()["phones"][0]
    assert phone["consent_texts"] is False and phone["texts_opted_out"] is True
    audited = cluster.psql(f"SELECT action FROM kept.audit_events WHERE entity_type = 'customer' "
                           f"AND entity_id = {c['id']} AND action LIKE 'texts.%'")
    assert audited == [["texts.opted_out"]]
    # no text goes to it now, whatever consent staff give back
    phone_agent.patch(f"/v1/customers/{c['id']}", {"phones": [{"number": number, "consent_automated": True,
                                                               "consent_texts": True}]})
    link = text_link(phone_agent, a)
    assert link["message"]["state"] == "blocked" and link["message"]["rule"] == "opted_out"
    assert creates_to(telsim, number) == []
    # START: back in, answered
    start = inbound(telsim, phone_server, number, "START")
    assert "receive texts from us again" in start["reply"]
    phone = phone_agent.get(f"/v1/customers/{c['id']}").json()["phones"][0]
    assert phone["consent_texts"] is True and phone["texts_opted_out"] is False
    link = text_link(phone_agent, a)
    assert link["message"]["state"] == "queued" and len(wait_for_texts(telsim, number, 1)) == 1
    # the same webhook twice acts once
    again = telsim.post("/_telsim/inbound", {"from": number, "to": "+15550000100", "body": "HELP",
                                             "url": f"http://127.0.0.1:{phone_server.port}/telephony/messages"})
    assert again["status"] == 200
    # in Spanish for a Spanish speaker
    c2, _, _ = customer_on_the_page(phone_agent, phone_agent, language="es")
    ayuda = inbound(telsim, phone_server, c2["phones"][0]["number"], "HELP")
    assert "para obtener ayuda, llame al" in ayuda["reply"]
    set_clock(phone_api, None)


def test_a_refusal_after_stop_at_the_carrier_is_recorded_and_never_retried(phone_server, phone_api, phone_agent,
                                                                          telsim, cluster):
    set_clock(phone_api, noon("America/New_York"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent)
    number = c["phones"][0]["number"]
    # STOP reached the provider, but kept never heard it (the webhook went nowhere)
    lost = telsim.post("/_telsim/inbound", {"from": number, "to": "+15550000100", "body": "STOP",
                                            "url": f"http://127.0.0.1:{free_port()}/telephony/messages"})
    assert lost["status"] == 0
    text_link(phone_agent, a)
    items = wait_for_state(phone_agent, a, ("refused",))
    assert items[-1]["state"] == "refused" and items[-1]["error_code"] == 21610
    assert cluster.psql(f"SELECT how FROM kept.text_opt_outs WHERE number_gdigest = kept.number_gdigest('{number}')") == [["provider_refused"]]
    phone = phone_agent.get(f"/v1/customers/{c['id']}").json()["phones"][0]
    assert phone["consent_texts"] is False and phone["texts_opted_out"] is True
    # never again: another pass sends nothing, another link's text is blocked before the provider
    assert phone_api.post("/v1/admin/reminders", {}).status == 200
    assert text_link(phone_agent, a)["message"]["rule"] == "opted_out"
    assert len(creates_to(telsim, number)) == 1
    set_clock(phone_api, None)


def test_webhooks_for_texts_need_the_signature(phone_server):
    c = phone_server.client()
    for path in ("/telephony/messages", "/telephony/messages/1/status"):
        r = c.request("POST", path, "MessageSid=SM1&From=%2B15550000001&Body=STOP&MessageStatus=delivered",
                      content_type="application/x-www-form-urlencoded",
                      headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="})
        assert r.status == 403 and r.error["code"] == "invalid_signature"


def test_kept_link_makes_texts_and_revokes_a_link(phone_server, phone_api, phone_agent, role_keys, telsim):
    from helpers import kept
    set_clock(phone_api, noon("America/New_York"))
    c, a, first = customer_on_the_page(phone_agent, phone_agent)
    number = c["phones"][0]["number"]
    made = kept(phone_server, role_keys["agent"], "link", str(a["id"]), "--sms", "--days", "3")
    assert made.returncode == 0, made.stderr
    url = made.stdout.splitlines()[0]
    assert url.startswith(f"http://127.0.0.1:{phone_server.port}/s/") and "shown now and never again" in made.stdout
    assert f"****{number[-4:]}: queued" in made.stdout
    [text] = wait_for_texts(telsim, number, 1)
    assert url in text["body"]
    gone = kept(phone_server, role_keys["agent"], "--json", "link", "revoke", str(first["id"]), "--reason", "test")
    assert gone.returncode == 0 and '"status":"revoked"' in gone.stdout.replace(" ", ""), gone.stdout
    assert kept(phone_server, role_keys["agent"], "link", "revoke", "999999999").returncode == 3
    assert kept(phone_server, role_keys["agent"], "link", "x").returncode == 2
    assert kept(phone_server, role_keys["agent"], "link", str(a["id"]), "--days", "31").returncode == 2
    set_clock(phone_api, None)
