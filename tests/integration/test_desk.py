"""The agent's and supervisor's desk (issue 16): find the customer, the account on
one screen, money in each currency's own units, payments that cannot double,
settlements that honour affordability, reviews with people — through the API
and through the kept client."""
import datetime
import http.server
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from zoneinfo import ZoneInfo

import pytest

from conftest import create_key, new_account, new_customer, unique
from helpers import kept

NY = "America/New_York"


def day(offset, tz=NY):
    return (datetime.datetime.now(ZoneInfo(tz)).date() + datetime.timedelta(days=offset)).isoformat()


def pay(client, account_id, cents, **extra):
    body = {"account_id": account_id, "amount_cents": cents, "source": "card", "source_ref": unique("p")}
    body.update(extra)
    r = client.post("/v1/payments", body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 201, r
    return r.json()


# ---- find ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def people(server, role_keys):
    """Customers whose names, numbers and references the searches aim at."""
    agent = server.client(role_keys["agent"])
    tag = unique("f").replace("-", "").lower()[-8:]
    made = {
        "zoe": new_customer(agent, name=f"Zoë Ångström {tag}", external_ref=unique("FZ"), time_zone=NY,
                            jurisdiction="US-NY", phones=[{"number": "+12125550199", "consent_automated": True}]),
        "zora": new_customer(agent, name=f"Zora Angstrom-Lee {tag}", external_ref=unique("FZ"), time_zone=NY,
                             jurisdiction="US-NY"),
        "pct": new_customer(agent, name=f"Per%cent_Under {tag}", external_ref=unique("FP")),
    }
    made["acct"] = new_account(agent, made["zora"]["id"], external_ref=unique("FA"))
    made["tag"] = tag
    yield made
    agent.close()


def found(client, q, **params):
    query = urllib.parse.urlencode({"q": q, **params})
    r = client.get(f"/v1/customers?{query}")
    assert r.status == 200, (q, r)
    return r.json()


def test_find_by_name_ignores_accents_and_case_and_takes_parts(agent, people):
    tag = people["tag"]
    ids = [c["id"] for c in found(agent, f"ZOE ANGSTROM {tag}")["items"]]
    assert ids[0] == people["zoe"]["id"]
    ids = {c["id"] for c in found(agent, f"angstr {tag}")["items"]} | {c["id"] for c in found(agent, "ngström")["items"]}
    assert {people["zoe"]["id"], people["zora"]["id"]} <= ids
    hit = found(agent, f"zoë {tag}")["items"][0]  # words in any order, each a part of one
    assert hit["id"] == people["zoe"]["id"]
    assert hit["matched"] == "name" and hit["phones_last4"] == ["0199"]
    assert found(agent, f"{tag} STROM zo")["items"][0]["id"] in (people["zoe"]["id"], people["zora"]["id"])
    assert found(agent, f"zoe {tag} nobody")["items"] == []
    assert "number" not in json.dumps(hit)  # a search never hands out whole numbers


def test_find_by_phone_digits_written_any_way(agent, people):
    for q in ("2125550199", "(212) 555-0199", "555 01 99", "+1 212 555 0199", "50199"):
        items = found(agent, q)["items"]
        assert people["zoe"]["id"] in [c["id"] for c in items], q
        assert next(c for c in items if c["id"] == people["zoe"]["id"])["matched"] == "phone"


def test_find_by_reference_ranks_the_exact_one_first(agent, people):
    for ref, who in ((people["zoe"]["external_ref"], "zoe"), (people["acct"]["external_ref"], "zora")):
        first = found(agent, ref)["items"][0]
        assert first["id"] == people[who]["id"] and first["matched"] == "reference"
    zora = found(agent, people["acct"]["external_ref"])["items"][0]
    assert [a["id"] for a in zora["accounts"]] == [people["acct"]["id"]]


def test_find_ranks_a_whole_word_before_a_word_that_holds_it(agent):
    """The blind index ranks without opening a name: by the query words' edges
    held (a word whole, then a word's start or end, then a part inside one)."""
    tag = unique("r").replace("-", "").lower()[-8:]
    inside = new_customer(agent, name=f"Ann Bradfordson {tag}", external_ref=unique("FR"))
    start = new_customer(agent, name=f"Ann Fordham {tag}", external_ref=unique("FR"))
    whole = new_customer(agent, name=f"Ann Ford {tag}", external_ref=unique("FR"))
    ids = [c["id"] for c in found(agent, f"ford {tag}")["items"]]
    assert ids == [whole["id"], start["id"], inside["id"]]
    ids = [c["id"] for c in found(agent, f"{tag} ordh")["items"]]  # a part inside a word is found
    assert ids == [start["id"]]


def test_find_takes_metacharacters_literally(agent, people):
    assert [c["id"] for c in found(agent, "per%cent_under")["items"]] == [people["pct"]["id"]]
    for q in ("%%%", "___", ".*.*", "[a-z]+", "'; DROP TABLE kept.customers; --", "\\\\\\", "a|b|c", "(?i)zo"):
        got = found(agent, q)
        assert all(q.lower() in json.dumps(c, ensure_ascii=False).lower() or c["matched"] != "name"
                   for c in got["items"]), (q, got)
    assert found(agent, "%%%")["items"] == [] and found(agent, "___")["items"] == []


def test_find_refuses_empty_short_and_huge_queries(agent):
    for q, code in (("", "query_too_short"), ("  ", "query_too_short"), ("ab", "query_too_short"),
                    ("x" * 10000, "query_too_long"), ("x" * 201, "query_too_long")):
        r = agent.get("/v1/customers?" + urllib.parse.urlencode({"q": q}))
        assert r.status == 400 and r.error["code"] == code, (len(q), r)
    r = agent.get("/v1/customers")
    assert r.status == 400 and r.error["code"] == "missing_value"


def test_find_pages_with_a_cursor(agent, people, server):
    tag = people["tag"]
    first = found(agent, tag, limit=1)
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = found(agent, tag, limit=1, cursor=first["next_cursor"])
    assert second["items"][0]["id"] != first["items"][0]["id"]
    r = agent.get("/v1/customers?" + urllib.parse.urlencode({"q": tag, "cursor": "garbage!"}))
    assert r.status == 400


def test_kept_find(server, role_keys, people):
    key = role_keys["agent"]
    r = kept(server, key, "find", f"zoe {people['tag']}")
    assert r.returncode == 0, r.stderr
    assert "Zoë Ångström" in r.stdout and "…0199" in r.stdout and "+12125550199" not in r.stdout
    r = kept(server, key, "find", people["tag"], "--limit", "1")
    assert r.returncode == 0 and f"more: kept find {people['tag']} --limit 1 --cursor " in r.stderr
    assert kept(server, key, "find", "no-such-person-anywhere").stdout.strip() == "no customer matches"
    r = kept(server, key, "find", "ab")
    assert r.returncode == 4 and "query_too_short" in r.stderr


# ---- the account on one screen -------------------------------------------------------------------

@pytest.fixture
def busy_account(api, agent, finance, cluster):
    """A New York customer's plan two and a half weeks old: the first week paid, the second missed
    (past its grace), the third to come; a reversed payment, an open escalation, two calls."""
    c = new_customer(agent, name="Maya Overview", time_zone=NY, jurisdiction="US-NY",
                     phones=[{"number": "+12125550142", "consent_automated": True}])
    acct = new_account(agent, c["id"], original_balance_cents=100000, currency="USD")
    first = datetime.datetime.now(ZoneInfo(NY)).date() - datetime.timedelta(days=11)
    plan = api.post(f"/v1/accounts/{acct['id']}/plans", {"weekly_amount_cents": 10000,
                                                         "first_due_date": first.isoformat(), "imported": True}).json()
    noon = datetime.datetime.combine(first, datetime.time(12), ZoneInfo(NY)).astimezone(datetime.timezone.utc)
    pay(finance, acct["id"], 10000, received_at=noon.isoformat())  # money is finance's
    wrong = pay(finance, acct["id"], 500)
    assert finance.post(f"/v1/payments/{wrong['id']}/reversal", {"reason": "keyed twice"}).status == 200
    assert api.post("/v1/admin/evaluate", {}).status == 200
    r = agent.post(f"/v1/accounts/{acct['id']}/contacts", {"channel": "letter", "direction": "outbound",
                                                           "outcome": "no_answer", "note": "statement sent"})
    assert r.status == 201, r
    cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state, dialed_at, answered_by, right_party, digits,
                                provider_sid)
        SELECT {acct['id']}, {c['id']}, {plan['id']}, v.seq, v.purpose, kept.pii_seal({c['id']}, v.number),
               kept.pii_digest({c['id']}, v.number), kept.number_gdigest(v.number), v.scheduled_at, v.state,
               v.dialed_at, v.answered_by, v.right_party, v.digits, 'CA' || md5(random()::text)
        FROM (VALUES (2, 'missed', '+12125550142', now() - interval '2 days', 'completed',
                      '2026-11-30 15:04:05+00'::timestamptz, 'human', true, '12'),
                     (3, 'pre_due', '+12125550142', now() - interval '1 day', 'no-answer',
                      '2026-12-01 14:00:00+00'::timestamptz, NULL, false, '')) v(seq, purpose, number, scheduled_at,
                                                                               state, dialed_at, answered_by,
                                                                               right_party, digits)""")
    return {"customer": c, "account": acct, "plan": plan, "first": first}


def test_account_overview_in_one_request(agent, busy_account):
    a = busy_account
    r = agent.get(f"/v1/accounts/{a['account']['id']}/overview")
    assert r.status == 200, r
    o = r.json()
    assert o["customer"]["name"] == "Maya Overview" and o["customer"]["time_zone"] == NY
    assert o["customer"]["phones"] == [{"last4": "0142", "consent_automated": True}]
    assert o["account"]["balance_cents"] == 90000
    assert o["plan"]["id"] == a["plan"]["id"] and o["plan"]["paid_cents"] == 10000
    third = a["first"] + datetime.timedelta(days=14)
    assert o["plan"]["next_due"]["due_date"] == third.isoformat()  # the customer's date
    assert o["plan"]["next_due"]["seq"] == 3
    assert o["arrears"] == {"cents": 10000, "installments": 1, "currency": "USD"}
    assert [p["status"] for p in o["last_payments"]] == ["reversed", "posted"]
    assert [c["what_happened"] for c in o["recent_calls"]] == ["no answer", "spoke to the customer, who asked for an agent"]
    assert [e["reason"] for e in o["open_escalations"]] == ["payment_reversed"]
    assert [(c["channel"], c["outcome"]) for c in o["recent_contacts"]] == [("letter", "no_answer")]
    assert agent.get("/v1/accounts/987654321/overview").error["code"] == "account_not_found"


def test_a_waiting_call_says_when_on_the_customers_clock(agent, busy_account, cluster):
    """A held call's words give its time as an agent reads it: the customer's day, hour and zone."""
    a = busy_account
    cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state, deferred_rule)
        VALUES ({a['account']['id']}, {a['customer']['id']}, {a['plan']['id']}, 4, 'pre_due',
                kept.pii_seal({a['customer']['id']}, '+12125550142'), kept.pii_digest({a['customer']['id']}, '+12125550142'),
                kept.number_gdigest('+12125550142'), '2030-01-03 13:00:00+00', 'queued', 'calling_window')""")
    o = agent.get(f"/v1/accounts/{a['account']['id']}/overview").json()
    assert o["recent_calls"][0]["what_happened"] == "waiting (calling window) until Thu 2030-01-03 08:00 America/New_York"


def test_kept_account(server, role_keys, busy_account):
    a = busy_account
    r = kept(server, role_keys["agent"], "account", str(a["account"]["id"]))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    third = a["first"] + datetime.timedelta(days=14)
    assert "Maya Overview" in out and "balance:   900.00 USD of 1,000.00 USD" in out
    assert f"next due:  100.00 USD on {third.isoformat()} (customer's date" in out
    assert "arrears:   100.00 USD over 1 judged installment not kept" in out
    assert "escalation" in out and "payment_reversed" in out
    # calls in the customer's zone, to the second: 15:04:05 UTC is 10:04:05 in New York
    assert "2026-11-30 10:04:05 EST" in out and "who asked for an agent" in out
    assert "letter" in out and "statement sent" in out
    assert ".000" not in out and "+00" not in out
    assert kept(server, role_keys["agent"], "account", "987654321").returncode == 3


# ---- money and currencies -------------------------------------------------------------------------

def test_currencies_are_the_iso_list_with_their_minor_units(agent, cluster):
    c = new_customer(agent)
    for code in ("XYZ", "ABC"):
        r = agent.post("/v1/accounts", {"customer_id": c["id"], "external_ref": unique("A"), "creditor": "X",
                                        "original_balance_cents": 1000, "currency": code})
        assert r.status == 422 and r.error["code"] == "unknown_currency", r  # well-formed; not a currency
    for code, error in (("usd", "invalid_currency"), ("US", "invalid_currency"), ("U$D", "invalid_currency"),
                        ("USDX", "too_long")):
        r = agent.post("/v1/accounts", {"customer_id": c["id"], "external_ref": unique("A"), "creditor": "X",
                                        "original_balance_cents": 1000, "currency": code})
        assert r.status == 400 and r.error["code"] == error, (code, r)
    units = dict(cluster.psql("SELECT code, minor_units FROM kept.currencies WHERE code IN ('JPY','KWD','USD','CLF')"))
    assert units == {"JPY": "0", "KWD": "3", "USD": "2", "CLF": "4"}


def test_money_in_messages_is_in_the_currencys_units(agent, finance):
    c = new_customer(agent)
    jpy = new_account(agent, c["id"], original_balance_cents=150000, currency="JPY")
    r = agent.post(f"/v1/accounts/{jpy['id']}/proposals", {"weekly_amount_cents": 1, "first_due_date": day(3)})
    assert r.status == 422 and r.error["code"] == "plan_too_long"
    assert "1 JPY a week" in r.error["message"]
    kwd = new_account(agent, c["id"], original_balance_cents=1234567, currency="KWD")
    r = finance.post("/v1/payments", {"account_id": kwd["id"], "amount_cents": 9999999, "source": "card",
                                      "source_ref": unique("k")}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 422 and "1,234.567 KWD" in r.error["message"], r


def test_cli_amounts_follow_the_currency(server, role_keys):
    key, money = role_keys["agent"], role_keys["finance"]  # agents negotiate; finance posts money
    api = server.client(key)
    c = new_customer(api)
    jpy = new_account(api, c["id"], original_balance_cents=150000, currency="JPY")
    kwd = new_account(api, c["id"], original_balance_cents=1234567, currency="KWD")
    r = kept(server, money, "pay", str(jpy["id"]), "--amount", "10.50")
    assert r.returncode == 2 and "like 1250 in JPY" in r.stderr
    r = kept(server, money, "pay", str(kwd["id"]), "--amount", "1.0001")
    assert r.returncode == 2 and "like 1250.000 in KWD" in r.stderr
    r = kept(server, money, "pay", str(kwd["id"]), "--amount", "1.234")
    assert r.returncode == 0 and "1.234 KWD on account" in r.stdout and "balance 1,233.333 KWD" in r.stdout
    r = kept(server, key, "accounts", "create", "--customer", str(c["id"]), "--external-ref", unique("A"),
             "--creditor", "X", "--currency", "XYZ", "--balance", "10.00")
    assert r.returncode == 4 and "unknown_currency" in r.stderr and "--currency" in r.stderr


def test_the_accounts_import_names_an_unknown_currency(api):
    body = ("customer_external_ref,customer_name,time_zone,jurisdiction,account_external_ref,creditor,"
            "original_balance_cents,currency\n"
            f"{unique('C')},Ann,Europe/London,GB,{unique('A')},Acme,1000,XYZ\n")
    r = api.post("/v1/imports/accounts", body, content_type="text/csv")
    assert r.status == 422, r
    assert [(p["line"], p["code"]) for p in r.error["details"]["lines"]] == [(2, "unknown_currency")]


# ---- payments that cannot double -------------------------------------------------------------------

def test_a_replay_is_marked(agent, finance):
    acct = new_account(agent, new_customer(agent)["id"], original_balance_cents=50000, currency="USD")
    body = {"account_id": acct["id"], "amount_cents": 1000, "source": "card", "source_ref": unique("r")}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = finance.post("/v1/payments", body, headers=key)
    again = finance.post("/v1/payments", body, headers=key)
    assert first.status == 201 and first.json()["replayed"] is False
    assert "idempotent-replayed" not in first.headers
    assert again.status == 201 and again.json()["replayed"] is True and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["account_balance_cents"] == 49000


class Flaky:
    """A loopback proxy in front of keptd: the first POST /v1/payments gets `first` (an HTTP status,
    or 'slow': keptd gets it but the answer comes after the client has given up)."""

    def __init__(self, port, first):
        self.posts, self.first, self.port = 0, first, port
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "POST" and self.path == "/v1/payments":
                    outer.posts += 1
                    if outer.posts == 1 and outer.first != "slow":
                        self.send_response(outer.first)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                req = urllib.request.Request(f"http://127.0.0.1:{outer.port}{self.path}", data=body,
                                             method=self.command,
                                             headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        status, headers, data = resp.status, resp.headers, resp.read()
                except urllib.error.HTTPError as e:
                    status, headers, data = e.code, e.headers, e.read()
                if self.command == "POST" and outer.posts == 1 and outer.first == "slow":
                    time.sleep(3)  # keptd has posted it; the client times out first
                self.send_response(status)
                for k in ("Content-Type", "Idempotent-Replayed"):
                    if headers.get(k):
                        self.send_header(k, headers[k])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = relay

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.mark.parametrize("first", [503, 500, "slow"])
def test_kept_pay_retries_with_the_same_key_and_posts_once(server, role_keys, first):
    key = role_keys["finance"]  # finance posts money
    api = server.client(role_keys["agent"])
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000, currency="USD")
    proxy = Flaky(server.port, first)
    try:
        r = kept(server, key, "pay", str(acct["id"]), "--amount", "12.34", url=proxy.url, env={"KEPT_TIMEOUT": "1"})
    finally:
        proxy.close()
    assert r.returncode == 0, r.stderr
    assert "sending again with the same key" in r.stderr and proxy.posts == 2
    printed = r.stderr.split("idempotency key ")[1].split()[0]
    items = api.get(f"/v1/accounts/{acct['id']}/payments").json()["items"]
    assert len(items) == 1 and items[0]["amount_cents"] == 1234 and items[0]["source_ref"] == printed
    if first == "slow":
        assert "already posted with this key" in r.stdout  # the retry found the first attempt's payment


def test_kept_pay_asks_before_the_same_payment_twice(server, role_keys):
    key = role_keys["finance"]  # finance posts money
    api = server.client(role_keys["agent"])
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000, currency="USD")
    a = str(acct["id"])
    refused = kept(server, role_keys["agent"], "pay", a, "--amount", "10.00")  # an agent posts no payment
    assert refused.returncode == 5 and "forbidden_role" in refused.stderr, refused.stderr
    assert kept(server, key, "pay", a, "--amount", "10.00").returncode == 0
    again = kept(server, key, "pay", a, "--amount", "10.00")
    assert again.returncode == 4 and "--again" in again.stderr and "nothing posted" in again.stderr
    assert kept(server, key, "pay", a, "--amount", "11.00").returncode == 0  # another amount is another payment
    assert kept(server, key, "pay", a, "--amount", "10.00", "--source", "bank").returncode == 0
    assert kept(server, key, "pay", a, "--amount", "10.00", "--again").returncode == 0
    assert [p["amount_cents"] for p in api.get(f"/v1/accounts/{a}/payments").json()["items"]] == [1000, 1100, 1000,
                                                                                                  1000]


def test_reversal_and_a_paid_off_settlement_show_the_real_balance(server, role_keys):
    key = role_keys["finance"]  # finance posts and reverses money; the agent settles
    api = server.client(role_keys["agent"])
    acct = new_account(api, new_customer(api, time_zone=NY, jurisdiction="US-NY")["id"],
                       original_balance_cents=125000, currency="USD")
    a = str(acct["id"])
    r = kept(server, key, "--json", "pay", a, "--amount", "266.67")
    payment = json.loads(r.stdout)
    r = kept(server, key, "reverse", str(payment["id"]), "--reason", "returned by the bank")
    assert r.returncode == 0 and "balance 1,250.00 USD" in r.stdout, r.stdout

    offer = api.post(f"/v1/accounts/{a}/settlement-offers", {"offer_cents": 90000}).json()
    plan = api.post(f"/v1/settlement-offers/{offer['id']}/accept", {"first_due_date": day(0)}).json()
    assert plan["status"] == "active", plan
    r = kept(server, key, "pay", a, "--amount", "900.00")
    assert r.returncode == 0, r.stderr
    assert "balance 0.00 USD, settled" in r.stdout and "350.00 USD written off" in r.stdout


# ---- settlements honour affordability ---------------------------------------------------------------

def test_a_settlement_above_affordability_is_out_of_policy(agent, server, cluster):
    acct = new_account(agent, new_customer(agent, time_zone=NY, jurisdiction="US-NY")["id"],
                       original_balance_cents=100000, currency="USD")
    body = {"income": [{"category": "earnings", "monthly_cents": 200000}],
            "fixed_costs": [{"category": "home_and_contents", "monthly_cents": 152000}], "flexible_costs": []}
    assert agent.post(f"/v1/accounts/{acct['id']}/affordability", body).status == 201  # 110.76 a week
    offer = agent.post(f"/v1/accounts/{acct['id']}/settlement-offers", {"offer_cents": 80000}).json()
    plan = agent.post(f"/v1/settlement-offers/{offer['id']}/accept",
                      {"first_due_date": day(1), "installments": 3}).json()
    assert plan["status"] == "pending_approval" and plan["reasons"] == ["above_affordability"], plan
    other = server.client(create_key(cluster.url, "agent"))
    assert other.post(f"/v1/plans/{plan['id']}/approvals", {"note": "family will help"}).json()["status"] == "active"


# ---- the CLI explains itself --------------------------------------------------------------------------

COMMANDS = ["find", "account", "customers", "accounts", "affordability", "propose", "plan", "reviews", "settle", "calls", "contact",
            "pay", "payments", "reverse", "escalations", "policies", "report", "import", "keys", "users", "link"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(server, command):
    for args in (["help", command], [command, "--help"], [command, "show", "--help"], [command, "-h"]):
        r = kept(server, None, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stdout.startswith(f"kept {command}: ") and "example: kept " + command in r.stdout, (args, r.stdout)
    assert kept(server, None, "help", "nope").returncode == 2


def test_every_flag_a_command_takes_is_in_its_help(server, role_keys):
    """The flags each command's parser takes (from the source) appear in its help."""
    import re
    from conftest import ROOT
    src = "".join(p.read_text() for p in (ROOT / "clients" / "kept").glob("*.c") if p.name != "help.c")
    flags = set(re.findall(r'\{"(--[a-z-]+)", (?:true|false)', src)) - {"--help"}
    helps = "".join(kept(server, None, "help", c).stdout for c in COMMANDS)
    assert {f for f in flags if f not in helps} == set()


def test_find_help_gives_the_page_size_the_api_uses(server, role_keys):
    """kept help find says what a page is: 20 by default, 100 at most (GET /v1/customers)."""
    agent = server.client(role_keys["agent"])
    tag = unique("p").replace("-", "").lower()[-8:]
    for i in range(22):
        new_customer(agent, name=f"Page Probe {tag} {i}")
    page = agent.get(f"/v1/customers?q={tag}").json()
    assert len(page["items"]) == 20 and page["next_cursor"]
    assert len(agent.get(f"/v1/customers?q={tag}&limit=100").json()["items"]) == 22
    # past the spec's maximum is refused, not quietly cut to it
    for bad in ("101", "300", "0", ""):
        r = agent.get(f"/v1/customers?q={tag}&limit={bad}")
        assert (r.status, r.error["code"]) == (400, "invalid_limit"), bad
    assert "(1-100, default 20)" in kept(server, None, "help", "find").stdout


def test_paging_errors_name_the_flags_and_help_names_the_timeout(server, role_keys):
    r = kept(server, role_keys["agent"], "find", "abc", "--limit", "600")
    assert r.returncode == 4 and "kept: --limit must be a whole number" in r.stderr, r.stderr
    assert "[invalid_limit, --limit]" in r.stderr, r.stderr
    r = kept(server, role_keys["agent"], "find", "abc", "--cursor", "bm9wZTox")
    assert r.returncode == 4 and "[invalid_cursor, --cursor]" in r.stderr, r.stderr
    assert "KEPT_TIMEOUT" in kept(server, None, "help").stdout


def test_errors_name_flags_and_exit_codes_are_one_per_kind(server, role_keys):
    key = role_keys["agent"]
    api = server.client(key)
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000, currency="GBP")
    r = kept(server, key, "propose", str(acct["id"]), "--weekly", "10.00", "--first-due", "2001-01-01")
    message = r.stderr.split(" [")[0]  # the words; the stable code in brackets stays the API's
    assert r.returncode == 4 and "--first-due" in r.stderr and "first_due_date" not in message, r.stderr
    # an id that names nothing is 3 whatever the command
    assert kept(server, key, "plan", "show", "987654321").returncode == 3
    assert kept(server, role_keys["finance"], "pay", "987654321", "--amount", "1.00").returncode == 3
    assert kept(server, key, "propose", "987654321", "--weekly", "1.00", "--first-due", day(2)).returncode == 3
    assert kept(server, key, "escalations", "show", "987654321").returncode == 3
    assert kept(server, key, "reviews", "show", "987654321").returncode == 3
    r = kept(server, None, "account", str(acct["id"]))
    assert r.returncode == 5 and "KEPT_API_KEY" in r.stderr
    assert kept(server, key, "pay", "--amount").returncode == 2


def test_paging_hints_keep_the_filters(server, role_keys):
    key = role_keys["agent"]
    api = server.client(key)
    c = new_customer(api)
    for _ in range(3):
        new_account(api, c["id"])
    r = kept(server, key, "accounts", "list", "--customer", str(c["id"]), "--limit", "2")
    assert r.returncode == 0
    hint = next(l for l in r.stderr.splitlines() if l.startswith("more: "))
    assert hint.startswith(f"more: kept accounts list --customer {c['id']} --limit 2 --cursor ")
    nxt = kept(server, key, *hint[len("more: kept "):].split())
    assert nxt.returncode == 0 and len(nxt.stdout.splitlines()) == 2 and "more:" not in nxt.stderr


def test_times_are_local_to_the_second(server, role_keys, finance):
    key = role_keys["agent"]
    api = server.client(key)
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000, currency="GBP")
    pay(finance, acct["id"], 100, received_at="2026-07-01T09:08:07.654321Z")
    r = kept(server, key, "payments", str(acct["id"]), env={"TZ": "Asia/Tokyo"})
    assert "2026-07-01 18:08:07 JST" in r.stdout and ".654321" not in r.stdout


def test_escalations_show_and_policies(server, role_keys):
    key = role_keys["agent"]
    api = server.client(key)
    acct = new_account(api, new_customer(api)["id"])
    e = api.post("/v1/escalations", {"account_id": acct["id"], "reason": "dispute", "note": "not mine"}).json()
    r = kept(server, key, "escalations", "show", str(e["id"]))
    assert r.returncode == 0 and f"escalation {e['id']} (dispute" in r.stdout and "note: not mine" in r.stdout
    for role in ("agent", "supervisor", "finance"):
        r = kept(server, role_keys[role], "policies")
        assert r.returncode == 0 and "(default)" in r.stdout and "MAX WEEKS" in r.stdout, (role, r.stderr)


def test_kept_report_defaults_to_twelve_weeks_and_writes_csv(server, role_keys):
    key = role_keys["finance"]
    r = kept(server, key, "--json", "report", "origin")
    doc = json.loads(r.stdout)
    from_day, to_day = datetime.date.fromisoformat(doc["from"]), datetime.date.fromisoformat(doc["to"])
    assert from_day.weekday() == 0 and (to_day - from_day).days == 13 * 7
    assert datetime.date.today() < to_day <= datetime.date.today() + datetime.timedelta(days=7)
    r = kept(server, key, "report", "summary")
    assert r.returncode == 0 and r.stdout.startswith("summary, weeks from ")
    r = kept(server, key, "report", "origin", "--from", "2026-01-05", "--to", "2026-03-02", "--csv")
    assert r.returncode == 0 and r.stdout.startswith("origin,channel,currency,")
    assert kept(server, key, "report", "nope").returncode == 3
    assert kept(server, key, "report", "origin", "--from", "2026-13-01").returncode == 4


# ---- reviews with people --------------------------------------------------------------------------------

def test_reviews_name_people_and_agents_see_their_own(server, cluster, role_keys):
    names = {who: unique(who) for who in ("ann", "bob", "cat")}
    keys = {who: create_key(cluster.url, "agent", name) for who, name in names.items()}
    sue_name = unique("sue")
    sue = create_key(cluster.url, "supervisor", sue_name)
    ann, bob, cat = (server.client(keys[w]) for w in ("ann", "bob", "cat"))
    acct = new_account(ann, new_customer(ann)["id"], original_balance_cents=100000, currency="GBP")
    plan = ann.post(f"/v1/accounts/{acct['id']}/plans", {"weekly_amount_cents": 700, "first_due_date": day(7, "Europe/London")}).json()
    assert plan["status"] == "pending_approval"
    assert bob.post(f"/v1/plans/{plan['id']}/approvals", {"note": "new job next month"}).status == 200
    sup = server.client(sue)
    review = next(r for r in sup.get("/v1/reviews?status=open").json()["items"] if r["plan_id"] == plan["id"])
    assert review["plan_created_by_name"] == names["ann"] and review["approved_by_name"] == names["bob"]
    assert review["approval_note"] == "new job next month" and review["review_note"] is None
    decided = sup.post(f"/v1/reviews/{review['id']}", {"decision": "corrected", "note": "9.62 was in policy"}).json()
    assert decided["review_note"] == "9.62 was in policy" and decided["approval_note"] == "new job next month"
    assert decided["decided_by_name"] == sue_name

    for who in ("ann", "bob"):
        c = server.client(keys[who])
        assert c.get(f"/v1/reviews/{review['id']}").json()["status"] == "corrected"
        assert review["id"] in [r["id"] for r in c.get("/v1/reviews?status=all").json()["items"]]
    assert cat.get(f"/v1/reviews/{review['id']}").status == 404
    assert review["id"] not in [r["id"] for r in cat.get("/v1/reviews?status=all").json()["items"]]
    assert cat.post(f"/v1/reviews/{review['id']}", {"decision": "upheld"}).status == 403
    # a review is the person's, not the key's: another key of ann's user reads it too
    admin = server.client(role_keys["admin"])
    ann2 = admin.post("/v1/api-keys", {"user_id": review["plan_created_by_user"]["id"], "name": "ann's second"})
    assert server.client(ann2.json()["key"]).get(f"/v1/reviews/{review['id']}").status == 200

    r = kept(server, keys["ann"], "reviews", "show", str(review["id"]))
    assert r.returncode == 0, r.stderr
    assert f"created by:  {names['ann']}" in r.stdout
    assert f"approved by: {names['bob']}" in r.stdout and "new job next month" in r.stdout
    assert f"reviewed by: {sue_name}" in r.stdout and "corrected - 9.62 was in policy" in r.stdout
    listed = kept(server, sue, "reviews", "--status", "all").stdout
    assert names["ann"] in listed and names["bob"] in listed and sue_name in listed
