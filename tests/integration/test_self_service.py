"""The customer's self-service page, over real HTTP against the real keptd:
personal links (made, listed, revoked, stored hashed, never logged), the
identity step before anything about the debt, the page's defences (tampered,
expired, revoked and replayed tokens and codes, brute force, rate limits,
cross-site form posts, security headers), and the negotiation through the
same SQL as an agent's (policy, two associates for the customer's own
out-of-policy plan, audit with the link's id)."""
import datetime
import re
import urllib.parse

from conftest import (LINK_SECRET, Keptd, create_key, free_port, set_clock, telephony_env, unique)
from helpers import (DATE_OF_BIRTH, DEBT_WORDS, POSTCODE, Visitor, customer_on_the_page, local_today, noon,
                         wait_for_texts)


def visitor(server, link, **kw):
    return Visitor(server.port, link["url"], **kw)


def audit_actions(cluster, link_id):
    rows = cluster.psql(f"SELECT action, after::text FROM kept.audit_events WHERE entity_type = 'self_service_link' "
                        f"AND entity_id = {link_id} ORDER BY chain_seq")
    return [r[0] for r in rows], [r[1] for r in rows]


def no_debt_in(text):
    low = text.lower()
    return [w for w in DEBT_WORDS if w in low]


# ---- links -----------------------------------------------------------------------------------

def test_a_link_is_shown_once_stored_hashed_listed_and_never_logged(phone_server, phone_agent, cluster):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    token = link["url"].rsplit("/", 1)[1]
    assert link["url"].startswith(f"http://127.0.0.1:{phone_server.port}/s/") and len(token) == 54
    assert link["status"] == "active" and link["account_id"] == a["id"] and link["customer_id"] == c["id"]
    expires = datetime.datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    created = datetime.datetime.fromisoformat(link["created_at"].replace("Z", "+00:00"))
    assert datetime.timedelta(days=7) - (expires - created) < datetime.timedelta(seconds=1)
    listed = phone_agent.get(f"/v1/accounts/{a['id']}/self-service-links").json()["items"]
    assert [l["id"] for l in listed] == [link["id"]] and all("url" not in l for l in listed)
    stored = cluster.psql(f"SELECT encode(token_hash, 'hex') FROM kept.self_service_links WHERE id = {link['id']}")
    assert token not in stored[0][0] and len(stored[0][0]) == 64
    v = visitor(phone_server, link)
    assert v.open().status == 200
    assert phone_server.log_lines("path=/s/...") and token not in phone_server.log()
    everything = cluster.psql("SELECT coalesce(string_agg(after::text, ' '), '') FROM kept.audit_events")[0][0]
    assert token not in everything and LINK_SECRET not in phone_server.log()
    # another expiry, a refusal for a bad one
    r = phone_agent.post(f"/v1/accounts/{a['id']}/self-service-links", {"expires_in_days": 2})
    assert r.status == 201 and r.json()["url"] != link["url"]
    assert phone_agent.post(f"/v1/accounts/{a['id']}/self-service-links",
                            {"expires_in_days": 31}).error["code"] == "out_of_range"
    assert phone_agent.post("/v1/accounts/987654321/self-service-links", {}).status == 404


def test_nothing_about_the_debt_before_verification(phone_server, phone_agent):
    c, a, link = customer_on_the_page(phone_agent, phone_agent, creditor="Acme Bank")
    v = visitor(phone_server, link)
    page = v.open()
    assert page.status == 200 and page.has_form("/verify") and page.has_form("/code")
    assert no_debt_in(page.text) == [], page.text
    assert a["external_ref"] not in page.body and c["name"].split()[0] not in page.body
    wrong = v.prove(dob="1990-01-01")
    assert no_debt_in(wrong.text) == [] and "don't match" in wrong.alert()
    for path in ("/budget", "/settlement"):  # the account's other pages ask who you are first
        assert no_debt_in(v.get(path).text) == [] and v.last.has_form("/verify")
    bad = Visitor(phone_server.port, link["url"][:-3] + "abc")
    assert bad.open().status == 404 and no_debt_in(bad.last.text) == []
    # proven: now the account
    page = v.prove()
    assert page.status == 200 and "Acme Bank" in page.text and "1,250.00 USD" in page.text


# ---- the defences ----------------------------------------------------------------------------

def test_tampered_expired_revoked_and_replayed_tokens(phone_server, phone_api, phone_agent, cluster):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    token = link["url"].rsplit("/", 1)[1]
    # tampered: every position changed refuses, before the database is asked
    for i in (0, 20, 53):
        t = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        page = Visitor(phone_server.port, link["url"].replace(token, t)).open()
        assert page.status == 404 and "isn't valid" in page.text
    assert Visitor(phone_server.port, link["url"] + "x").open().status == 404
    # replayed: a session cookie of one link does not open another's account
    v = visitor(phone_server, link)
    v.open()
    assert "Hello" in v.prove().text
    _, _, other = customer_on_the_page(phone_agent, phone_agent)
    thief = Visitor(phone_server.port, other["url"])
    thief.cookies = dict(v.cookies)
    assert thief.open().has_form("/verify") and no_debt_in(thief.last.text) == []
    # replayed: the same plan form twice makes one plan
    proposal = v.propose("50.00")
    first = v.post("/plan", {}, page=proposal)
    second = v.post("/plan", {}, page=proposal)
    assert first.status == second.status == 200 and "agreed" in first.text and "agreed" in second.text
    plans = phone_agent.get(f"/v1/accounts/{a['id']}/plans").json()["items"]
    assert len(plans) == 1
    # revoked: the page and the session are over at once
    r = phone_agent.post(f"/v1/self-service-links/{link['id']}/revoke", {"reason": "customer asked"})
    assert r.status == 200 and r.json()["status"] == "revoked"
    assert phone_agent.post(f"/v1/self-service-links/{link['id']}/revoke", {}).json()["revoked_at"] == \
        r.json()["revoked_at"]
    page = v.get()
    assert page.status == 410 and no_debt_in(page.text) == []
    # expired: seven days on (keptd's simulated clock)
    _, _, fresh = customer_on_the_page(phone_agent, phone_agent)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7, minutes=1)
    set_clock(phone_api, later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        page = visitor(phone_server, fresh).open()
        assert page.status == 410 and "expired" in page.text and no_debt_in(page.text) == []
    finally:
        set_clock(phone_api, None)


def test_a_one_time_code_works_once(phone_server, phone_api, phone_agent, telsim, cluster):
    set_clock(phone_api, noon("America/New_York"))
    c, a, link = customer_on_the_page(phone_agent, phone_agent, tz="America/New_York")
    v = visitor(phone_server, link)
    v.open()
    page = v.post("/code", {})
    # the page names the number by its last two digits, never more
    assert page.alert() is None and page.has_form("/verify") and not re.search(r"ending \d{3}", page.text)
    assert f"ending {c['phones'][0]['number'][-2:]}" in page.text
    number = c["phones"][0]["number"]
    texts = wait_for_texts(telsim, number, 1)
    code = re.search(r"\b(\d{6})\b", texts[-1]["body"]).group(1)
    assert code not in str(cluster.psql(f"SELECT kept.pii_open(customer_id, body_enc), coalesce(encode(sealed, 'hex'), '') "
                                         f"FROM kept.messages WHERE link_id = {link['id']}"))
    ok = v.post("/verify", {"method": "code", "code": code}, form="/verify")
    assert "Hello" in ok.text
    # the same code again, in a new visit: a wrong answer
    w = visitor(phone_server, link)
    w.open()
    again = w.post("/code", {}) and w.post("/verify", {"method": "code", "code": code}, form="/verify")
    assert again.has_form("/verify") and "don't match" in (again.alert() or "")
    set_clock(phone_api, None)


def test_five_wrong_answers_lock_the_link_and_open_an_escalation(phone_server, phone_agent, cluster):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    v = visitor(phone_server, link)
    v.open()
    for left in (4, 3, 2, 1):
        page = v.prove(postcode="N1 9GU")
        assert page.status == 200 and f"try {left} more times" in page.alert()
    form = v.last.form("/verify")
    locked = v.prove(postcode="N1 9GU")
    assert locked.status == 403 and "locked" in locked.text and no_debt_in(locked.text) == []
    # even the right answer now
    right = dict(form, dob_day="19", dob_month="7", dob_year="1984", postcode=POSTCODE)
    assert v.request("POST", v.path + "/verify", urllib.parse.urlencode(right)).status == 403
    assert v.open().status == 403
    escalations = phone_agent.get(f"/v1/escalations?account_id={a['id']}").json()["items"]
    assert [e["reason"] for e in escalations] == ["self_service_locked"]
    actions, afters = audit_actions(cluster, link["id"])
    assert actions.count("self_service.identity_failed") == 5 and "self_service.locked" in actions
    assert all(f'"link_id": {link["id"]}' in after for action, after in zip(actions, afters)
               if action.startswith("self_service."))
    assert not any(DATE_OF_BIRTH in after or "N1 9GU" in after for after in afters)  # no answer in the log
    listed = phone_agent.get(f"/v1/accounts/{a['id']}/self-service-links").json()["items"]
    assert listed[0]["status"] == "locked" and listed[0]["failures"] == 5


def test_rate_limits_per_link_and_per_address(cluster, telsim):
    # a keptd of its own: its secret of its own makes its address buckets its own
    port = free_port()
    k = Keptd(cluster.url, **telephony_env(telsim, port, KEPT_LINK_SECRET="rate-limit-test-secret-0123456789abcd"))
    try:
        agent = k.client(create_key(cluster.url, "agent"))
        # per link: 60 page views a minute
        _, _, link = customer_on_the_page(agent, agent)
        v = Visitor(port, link["url"])
        statuses = [v.open().status for _ in range(61)]
        assert statuses[:60] == [200] * 60 and statuses[60] == 429
        assert int(v.last.headers["retry-after"]) > 0 and "Too many attempts" in v.last.text
        # per address: 100 identity answers an hour, whatever the link
        answers = 0
        while answers < 100:
            _, _, link = customer_on_the_page(agent, agent)
            w = Visitor(port, link["url"])
            w.open()
            for _ in range(4):
                assert w.prove(postcode="E1 6AN").status == 200
                answers += 1
                if answers == 100:
                    break
        _, _, last = customer_on_the_page(agent, agent)
        x = Visitor(port, last["url"])
        x.open()
        limited = x.prove()
        assert limited.status == 429 and no_debt_in(limited.text) == []
        assert "Hello" not in limited.text
        agent.close()
    finally:
        k.assert_clean_exit()


def test_cross_site_form_posts_are_refused_and_change_nothing(phone_server, phone_agent, cluster):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    v = visitor(phone_server, link)
    good = v.open().form("/verify")
    right = {"method": "date_of_birth_postcode", "dob_day": "19", "dob_month": "7", "dob_year": "1984",
             "postcode": POSTCODE}
    path = v.path + "/verify"
    # another site's form: no cookie (SameSite=Strict keeps it home), or a token not made for it
    stranger = Visitor(phone_server.port, link["url"])
    assert stranger.request("POST", path, urllib.parse.urlencode(dict(right, csrf=good["csrf"]))).status == 403
    forged = Visitor(phone_server.port, link["url"])
    forged.open()
    assert forged.request("POST", path, urllib.parse.urlencode(dict(right, csrf="A" * 32))).status == 403
    assert forged.request("POST", path, urllib.parse.urlencode(right)).status == 403
    # the right token, sent from another origin
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = v.request("POST", path, urllib.parse.urlencode(dict(right, csrf=good["csrf"])), headers=headers)
        assert r.status == 403 and "expired" in r.text
    # a body a form of another kind makes
    r = v.request("POST", path, "csrf=x", content_type="text/plain")
    assert r.status == 415
    # nothing happened: no session, no failure counted
    assert cluster.psql(f"SELECT count(*) FROM kept.self_service_sessions WHERE link_id = {link['id']}") == [["0"]]
    assert cluster.psql(f"SELECT failures FROM kept.self_service_links WHERE id = {link['id']}") == [["0"]]
    # and the page's own form works
    v.open()
    assert "Hello" in v.prove().text


def test_every_answer_is_safe_by_default(phone_server, phone_agent):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    v = visitor(phone_server, link)
    page = v.open()
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "<script" not in page.body and "https://" not in page.body
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "same-origin"
    for cookie in page.cookies:
        assert all(attr in cookie for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/s/"))
    proven = v.request("POST", v.path + "/verify", urllib.parse.urlencode(dict(
        page.form("/verify"), dob_day="19", dob_month="7", dob_year="1984", postcode=POSTCODE)))
    assert proven.status == 303 and proven.headers["location"] == v.path
    [session] = [c for c in proven.cookies if c.startswith("kept_session=")]
    assert all(attr in session for attr in ("Secure", "HttpOnly", "SameSite=Strict"))
    css = v.request("GET", "/self-service/style.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def test_the_page_speaks_spanish(phone_server, phone_agent):
    c, a, link = customer_on_the_page(phone_agent, phone_agent)
    v = visitor(phone_server, link, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    page = v.open()
    assert '<html lang="es">' in page.body and "Confirme que es usted" in page.text
    assert 'lang="en" hreflang="en">English</a>' in page.body
    page = v.get(query="lang=en")
    assert '<html lang="en">' in page.body and any(c.startswith("kept_lang=en") for c in page.cookies)
    assert "Hola" in v.get(query="lang=es").text or v.last.has_form("/verify")
    assert "Hola" in v.prove().text and "1.250,00 USD" in v.last.text


# ---- the negotiation, through the agent's own SQL ---------------------------------------------

def test_in_policy_is_active_at_once_out_of_policy_waits_for_two_associates(phone_server, phone_agent, cluster,
                                                                           role_keys):
    c, a, link = customer_on_the_page(phone_agent, phone_agent, balance=104000)
    v = visitor(phone_server, link)
    v.open()
    v.prove()
    page = v.propose("5.00")
    assert "can't agree this plan straight away" in page.text and "less than 10.00 USD a week" in page.text
    made = v.agree()
    assert "an associate will confirm within one business day" in made.text
    [plan] = phone_agent.get(f"/v1/accounts/{a['id']}/plans").json()["items"]
    assert (plan["status"], plan["origin"], plan["channel"]) == ("pending_approval", "customer_proposed",
                                                                 "self_service")
    assert plan["created_by"] is None and plan["approvals_needed"] == 2 and plan["in_policy"] is False
    # two associates, two different people
    first = phone_agent.post(f"/v1/plans/{plan['id']}/approvals", {"note": "hardship"}).json()
    assert first["status"] == "pending_approval" and first["approvals_needed"] == 1
    same = phone_agent.post(f"/v1/plans/{plan['id']}/approvals", {})
    assert same.status == 403 and same.error["code"] == "self_approval"
    second = phone_server.client(create_key(cluster.url, "agent")).post(f"/v1/plans/{plan['id']}/approvals", {})
    assert second.status == 200 and second.json()["status"] == "active"
    reviews = phone_server.client(role_keys["supervisor"]).get("/v1/reviews?status=all").json()["items"]
    assert any(r["plan_id"] == plan["id"] and r["first_approved_by"] is not None for r in reviews)
    # the customer renegotiates an in-policy amount: active at once, the old plan superseded
    v.get()
    page = v.propose("40.00")
    assert "We can agree this plan straight away" in page.text and "It replaces your current plan" in page.text
    assert "Your plan is agreed" in v.agree().text
    plans = {p["id"]: p for p in phone_agent.get(f"/v1/accounts/{a['id']}/plans").json()["items"]}
    assert plans[plan["id"]]["status"] == "superseded"
    [new] = [p for p in plans.values() if p["status"] == "active"]
    assert new["weekly_amount_cents"] == 4000 and new["channel"] == "self_service"
    # each plan the customer made is confirmed by text too (waiting for an associate, then agreed)
    texts = [m for m in phone_agent.get(f"/v1/messages?account_id={a['id']}").json()["items"]
             if m["purpose"] == "confirmation"]
    assert len(texts) == 2 and "An associate will confirm your proposal by" in texts[0]["body"], texts
    assert "Your weekly plan of 40.00 USD from" in texts[1]["body"]
    assert all(m["body"].endswith("Reply STOP to opt out.") for m in texts)
    actions, afters = audit_actions(cluster, link["id"])
    for step in ("self_service.opened", "self_service.verified", "self_service.proposed", "self_service.plan_made"):
        assert step in actions, (step, actions)
    who = cluster.psql(f"SELECT DISTINCT actor FROM kept.audit_events WHERE entity_type = 'plan' "
                       f"AND entity_id = {new['id']}")
    assert who == [[f"customer (self-service link {link['id']})"]]


def test_the_budget_helper_and_a_settlement_offer(phone_server, phone_agent):
    c, a, link = customer_on_the_page(phone_agent, phone_agent, balance=100000)
    v = visitor(phone_server, link)
    v.open()
    v.prove()
    form = v.get("/budget")
    assert form.has_form("/budget") and "Food and housekeeping" in form.text
    bad = v.post("/budget", {"income.earnings": "lots"})
    assert bad.alert() and 'aria-invalid="true"' in bad.body
    page = v.post("/budget", {"income.earnings": "2,100.00", "fixed_costs.home_and_contents": "1400",
                              "flexible_costs.food_and_housekeeping": "400"}, page=v.get("/budget"))
    assert "you could afford 69.23 USD a week" in page.text  # 300 a month x 12 / 52
    assessment = phone_agent.get(f"/v1/accounts/{a['id']}/affordability").json()
    assert assessment["weekly_disposable_cents"] == 6923 and assessment["assessed_by"] is None
    # "what would be fair?": at or above the floor (60%) it is accepted at once (in twelve weekly
    # payments within what the budget allows: one payment of 650.00 would be above it)
    v.get("/settlement")
    offer = v.post("/settlement", {"amount": "650"})
    assert "We can accept 650.00 USD" in offer.text
    done = v.post("/settlement/accept", {"installments": "12",
                                         "first_due_date": (local_today(c["time_zone"]) + datetime.timedelta(days=3)).isoformat()})
    assert "Your plan is agreed" in done.text
    [plan] = [p for p in phone_agent.get(f"/v1/accounts/{a['id']}/plans").json()["items"] if p["status"] == "active"]
    assert (plan["origin"], plan["channel"], plan["total_cents"]) == ("settlement", "self_service", 65000)


def test_date_of_birth_and_postcode_are_kept_by_the_api_and_the_import_not_in_the_audit_log(api, cluster):
    ref = unique("DOB")
    r = api.post("/v1/customers", {"external_ref": ref, "name": "Ida Example", "time_zone": "Europe/London",
                                   "jurisdiction": "GB", "date_of_birth": "1970-01-02", "postcode": "EC1A 1BB"})
    assert r.status == 201 and r.json()["date_of_birth"] == "1970-01-02" and r.json()["postcode"] == "EC1A 1BB"
    cid = r.json()["id"]
    assert api.patch(f"/v1/customers/{cid}", {"postcode": "!!"}).error["code"] == "invalid_postcode"
    future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    assert api.patch(f"/v1/customers/{cid}", {"date_of_birth": future}).error["code"] == "invalid_date_of_birth"
    assert api.patch(f"/v1/customers/{cid}", {"date_of_birth": None}).json()["date_of_birth"] is None
    logged = cluster.psql(f"SELECT after::text FROM kept.audit_events WHERE entity_type = 'customer' "
                          f"AND entity_id = {cid}")
    assert logged and not any("1970-01-02" in row[0] or "EC1A" in row[0] for row in logged)
    csv = ("customer_external_ref,customer_name,time_zone,jurisdiction,account_external_ref,creditor,"
           "original_balance_cents,currency,date_of_birth,postcode,phone,phone_consent,phone_texts_consent\n"
           f"{ref}-2,Ona Example,Europe/London,GB,{ref}-A,Acme Bank,10000,GBP,1961-12-31,SW1A 2AA,+447700900123,"
           "true,true\n")
    r = api.post("/v1/imports/accounts", csv, content_type="text/csv")
    assert r.status == 201, r
    # sealed under the customer's data key, as the name is
    [row] = cluster.psql(f"SELECT kept.pii_open(c.id, c.date_of_birth_enc), kept.pii_open(c.id, c.postcode_enc), "
                         f"p.consent_texts FROM kept.customers c "
                         f"JOIN kept.customer_phones p ON p.customer_id = c.id WHERE c.external_ref = '{ref}-2'")
    assert row == ["1961-12-31", "SW1A 2AA", "t"]
    bad = csv.replace("1961-12-31", "1961-13-31").replace(f"{ref}-2", f"{ref}-3").replace(f"{ref}-A", f"{ref}-B")
    r = api.post("/v1/imports/accounts", bad, content_type="text/csv")
    assert r.status == 422 and r.error["details"]["lines"][0]["code"] == "invalid_date_of_birth"


def test_the_page_is_off_unless_configured(server, api):
    # the plain keptd of the suite runs without KEPT_SELF_SERVICE
    c = server.client()
    assert c.get("/s/" + "A" * 54).status == 404
    assert api.post("/v1/accounts/1/self-service-links", {}).error["code"] in ("self_service_off",
                                                                             "account_not_found")
