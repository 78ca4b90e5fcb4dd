"""What the integration tests share beyond conftest.py's servers, clients and
fixtures: one module, so that no test module imports another (oracle.py is the
analytics model, spec_check.py the OpenAPI validator). Sections: the
customer's self-service page, driven over HTTP as a browser does (cookies, the
form token every form carries, form posts); reminder calls; the kept client;
negotiation; the analytics tests' seeded history."""
import csv
import datetime
import html
import http.client
import io
import json
import os
import random
import re
import subprocess
import time
import urllib.parse
import uuid
from zoneinfo import ZoneInfo

import pytest

from conftest import command, keptd_cmd, new_account, new_customer, set_clock, unique

# ---- the self-service page -------------------------------------------------------------------


DATE_OF_BIRTH = "1984-07-19"
POSTCODE = "SW1A 1AA"
DEBT_WORDS = ("debt", "owe", "balance", "arrears", "creditor", "acme", "collect", "payment", "$", "usd", "gbp")


class Page:
    """One answer of the page."""

    def __init__(self, status, headers, body, cookies):
        self.status, self.headers, self.body, self.cookies = status, headers, body, cookies

    @property
    def text(self):
        """What a person reads: the document without its tags."""
        return html.unescape(re.sub(r"<[^>]+>", " ", self.body))

    def form(self, action_end):
        """What a browser sends for the form whose action ends with `action_end` as it stands:
        every named input with a value (a radio button only when checked), each select's first option."""
        for m in re.finditer(r'<form [^>]*action="([^"]+)"[^>]*>(.*?)</form>', self.body, re.S):
            if not html.unescape(m.group(1)).endswith(action_end):
                continue
            fields = {}
            for tag in re.findall(r"<input [^>]*>", m.group(2)):
                attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag))
                if "name" not in attrs or "value" not in attrs:
                    continue
                if attrs.get("type") == "radio" and " checked" not in tag:
                    continue
                fields[attrs["name"]] = html.unescape(attrs["value"])
            for name, options in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', m.group(2), re.S):
                values = re.findall(r'<option value="([^"]*)"', options)
                if values:
                    fields[name] = values[0]
            return fields
        raise AssertionError(f"no form posting to {action_end} in:\n{self.body[:3000]}")

    def has_form(self, action_end):
        try:
            self.form(action_end)
            return True
        except AssertionError:
            return False

    def alert(self):
        m = re.search(r'role="alert"[^>]*><p>(.*?)</p>', self.body, re.S)
        return html.unescape(m.group(1)) if m else None

    def __repr__(self):
        return f"<{self.status} {self.text[:300]!r}>"


class Visitor:
    """A browser on one personal link: keeps its cookies, posts its forms."""

    def __init__(self, port, url, headers=None):
        self.port = port
        self.path = urllib.parse.urlparse(url).path
        self.cookies = {}
        self.headers = dict(headers or {})
        self.last = None

    def request(self, method, path, body=None, headers=None, content_type=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(self.headers)
        h.update(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            h["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        set_cookies = r.msg.get_all("Set-Cookie") or []
        for sc in set_cookies:
            name, _, rest = sc.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        c.close()
        self.last = Page(r.status, {k.lower(): v for k, v in r.getheaders()}, data, set_cookies)
        return self.last

    def get(self, suffix="", query=""):
        return self.request("GET", self.path + suffix + (f"?{query}" if query else ""))

    def post(self, suffix, fields, page=None, form=None):
        """Posts the form of `page` (default: the last one) that goes to `suffix`, with `fields` added."""
        page = page or self.last
        hidden = page.form(form or suffix) if page is not None else {}
        hidden.update(fields)
        r = self.request("POST", self.path + suffix, urllib.parse.urlencode(hidden))
        if r.status == 303:
            return self.request("GET", r.headers["location"])
        return r

    # ---- the steps a customer takes ---------------------------------------------------------

    def open(self):
        return self.get()

    def prove(self, dob=DATE_OF_BIRTH, postcode=POSTCODE):
        y, m, d = dob.split("-")
        return self.post("/verify", {"dob_day": str(int(d)), "dob_month": str(int(m)), "dob_year": y,
                                     "postcode": postcode}, form="/verify")

    def propose(self, amount, first_due=None):
        fields = {"amount": amount}
        if first_due:
            fields["first_due_date"] = first_due
        page = self.last if self.last is not None and self.last.has_form("/proposal") else self.get()
        return self.post("/proposal", fields, page=page)

    def agree(self):
        return self.post("/plan", {})


def customer_on_the_page(api, agent, tz="America/New_York", jurisdiction="US-NY", currency="USD",
                         balance=125000, number=None, texts=True, language="en", dob=DATE_OF_BIRTH,
                         postcode=POSTCODE, creditor="Acme Bank"):
    """A customer with a date of birth and postcode on file (and a number with consent to texts),
    an account, and a personal link to it. Answers (customer, account, link)."""
    number = number or "+1555%07d" % (uuid.uuid4().int % 10_000_000)
    phones = [{"number": number, "consent_automated": True, "consent_texts": texts}]
    c = new_customer(agent, time_zone=tz, jurisdiction=jurisdiction, phones=phones, language=language,
                     date_of_birth=dob, postcode=postcode)
    a = new_account(agent, c["id"], currency=currency, original_balance_cents=balance, creditor=creditor)
    r = agent.post(f"/v1/accounts/{a['id']}/self-service-links", {})
    assert r.status == 201, r
    return c, a, r.json()


def local_today(tz):
    from zoneinfo import ZoneInfo
    return datetime.datetime.now(ZoneInfo(tz)).date()


def noon(tz, days=0):
    """The next noon in `tz` (RFC 3339 UTC, `days` later): inside every calling window there."""
    from zoneinfo import ZoneInfo
    now = datetime.datetime.now(ZoneInfo(tz))
    t = now.replace(hour=12, minute=0, second=0, microsecond=0) + datetime.timedelta(days=days)
    if t < now:
        t += datetime.timedelta(days=1)
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for_texts(telsim, number, n, timeout=15):
    """The texts kept-telsim has for `number`, once there are `n`."""
    import time
    deadline = time.time() + timeout
    while True:
        texts = [m for m in telsim.control.get("/_telsim/messages").json()
                 if m["to"] == number and m["direction"] == "outbound-api"]
        if len(texts) >= n or time.time() > deadline:
            return texts
        time.sleep(0.05)

# ---- reminder calls -----------------------------------------------------------------------------

# What a reminder call must not say to anyone but the debtor.
CALL_DEBT_WORDS = ("debt", "owe", "payment", "collect", "amount", "due", "balance", "arrears", "$")


def new_number(last_digit=None):
    digits = "".join(random.choice("0123456789") for _ in range(6))
    return f"+1555{digits}{last_digit if last_digit is not None else random.choice('56789')}"


def at_local(day, hour, tz, minute=0, second=0):
    """Local `hour` on `day` in `tz`, as RFC 3339 UTC."""
    t = datetime.datetime.combine(day, datetime.time(hour, minute, second), ZoneInfo(tz))
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Debtor:
    """A customer with one number (or `phones`), one account and an imported
    weekly plan whose first installment falls `days_back` days ago; with
    `customer`, another debt of that customer."""

    def __init__(self, api, agent, tz="America/New_York", jurisdiction="US-NY", days_back=40, number=None,
                 consent=True, phones=None, creditor="Acme Bank", customer=None):
        self.tz = tz
        self.number = number or (phones[0]["number"] if phones else new_number())
        self.customer = customer or new_customer(
            agent, time_zone=tz, jurisdiction=jurisdiction,
            phones=phones or [{"number": self.number, "consent_automated": consent}])
        self.account = new_account(agent, self.customer["id"], currency="USD", original_balance_cents=100000,
                                   creditor=creditor)
        today = datetime.datetime.now(ZoneInfo(tz)).date()
        self.first_due = today - datetime.timedelta(days=days_back)
        r = api.post(f"/v1/accounts/{self.account['id']}/plans",
                     {"weekly_amount_cents": 10000, "first_due_date": self.first_due.isoformat(), "imported": True})
        assert r.status == 201, r
        self.plan = r.json()

    def due(self, seq):
        return self.first_due + datetime.timedelta(days=7 * (seq - 1))

    def before_due(self, seq, hour=10, days=1):
        """as_of: local `hour` o'clock `days` before installment `seq` is due."""
        return at_local(self.due(seq) - datetime.timedelta(days=days), hour, self.tz)


def sealed(d):
    """The debtor's number as a call holds it: sealed under their data key, its digest and its global
    digest (SQL, for number_enc, number_digest, number_gdigest)."""
    c = d.customer["id"]
    return f"kept.pii_seal({c}, '{d.number}'), kept.pii_digest({c}, '{d.number}'), kept.number_gdigest('{d.number}')"


def run_reminders(api, as_of):
    """keptd's clock to as_of, then one pass: what was due is queued, and dialled at the clock's time."""
    set_clock(api, as_of)
    r = api.post("/v1/admin/reminders", {"as_of": as_of})
    assert r.status == 200, r
    return r.json()


def calls_of(api, debtor):
    r = api.get(f"/v1/calls?account_id={debtor.account['id']}")
    assert r.status == 200, r
    return r.json()["items"]


def wait_for_call(api, debtor, pred, timeout=15):
    deadline = time.time() + timeout
    while True:
        calls = calls_of(api, debtor)
        if any(pred(c) for c in calls) or time.time() > deadline:
            return calls
        time.sleep(0.05)


def finished(c):
    return c["state"] in ("completed", "busy", "no-answer", "failed", "canceled")


# ---- the kept client ----------------------------------------------------------------------------

def kept(server, key, *args, url=None, env=None):
    """The kept client as a person runs it: only KEPT_URL and KEPT_API_KEY (and `env`) from kept."""
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
    env.update(extra)
    env["KEPT_URL"] = url or f"http://127.0.0.1:{server.port}"
    if key:
        env["KEPT_API_KEY"] = key
    return subprocess.run(command("kept", *args), env=env, capture_output=True, text=True, timeout=60)


# ---- negotiation ----------------------------------------------------------------------------

def day(offset, tz="America/New_York"):
    return (local_today(tz) + datetime.timedelta(days=offset)).isoformat()


def make_plan(client, account, weekly, first=None, **extra):
    body = {"weekly_amount_cents": weekly, "first_due_date": first or day(3)}
    body.update(extra)
    return client.post(f"/v1/accounts/{account['id']}/plans", body)


# ---- the analytics tests' seeded history ---------------------------------------------------------

# The seeded history of the analytics and dashboard tests (test_analytics.py says what it holds).
WEEKS = 12
FROM, TO = "2000-01-03", "2100-01-04"
ZONES = [("America/New_York", "US-NY", "USD"), ("Europe/London", "GB", "GBP"), ("Pacific/Auckland", "NZ", "NZD")]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_noon(day):
    return datetime.datetime.combine(day, datetime.time(12), datetime.timezone.utc)


def verify(cluster, **env):
    """keptd analytics --verify: its exit status and report."""
    done = keptd_cmd(cluster.url, "analytics", "--verify", **env)
    return done.returncode, json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else None, done.stderr


def assert_verified(cluster, **env):
    status, report, stderr = verify(cluster, **env)
    assert status == 0 and report["differences"] == 0, (report, stderr)


def weekly(first, weeks, amount):
    return [(first + datetime.timedelta(days=7 * k), amount) for k in range(weeks)]


def history_plan(ref, account, origin, agreed, agent, first, weekly_cents=None, settlement=None, installments=None):
    p = {"plan_ref": ref, "account_external_ref": account["external_ref"], "origin": origin,
         "agreed_at": iso(agreed), "agreed_by": agent, "first_due_date": first.isoformat(), "payments": []}
    if origin == "settlement":
        p.update(settlement_cents=settlement, installments=installments)
    else:
        p["weekly_amount_cents"] = weekly_cents
    return p


def pay_like(n, seq, due, amount):
    """on time, two days late, half, nothing — in turn, shifted per plan."""
    kind = (seq + n) % 4
    if kind == 0:
        return utc_noon(due) - datetime.timedelta(days=1), amount
    if kind == 1:
        return utc_noon(due) + datetime.timedelta(days=2), amount
    if kind == 2:
        return utc_noon(due), amount // 2
    return None, 0


@pytest.fixture(scope="module")
def history(phone_server, admin_key, cluster, telsim):
    api = phone_server.client(admin_key)
    set_clock(api, None)  # whatever an earlier module left keptd's simulated clock at
    names = [unique("Agent A"), unique("Agent B")]
    agents = [api.post("/v1/api-keys", {"role": "agent", "name": n}).json()["key"] for n in names]
    agent = phone_server.client(agents[0])
    today = datetime.date.today()
    agreed = utc_noon(today - datetime.timedelta(days=7 * (WEEKS + 1)))
    first = agreed.date() + datetime.timedelta(days=3)
    plans, accounts = [], []
    for n in range(9):
        zone, jurisdiction, currency = ZONES[n % 3]
        c = new_customer(agent, time_zone=zone, jurisdiction=jurisdiction)
        a = new_account(agent, c["id"], original_balance_cents=200000 + 1000 * n, currency=currency)
        accounts.append(a)
        origin = ("agent_set", "customer_proposed", "settlement")[n % 3]
        ref = unique("HP")
        if origin == "settlement":
            p = history_plan(ref, a, origin, agreed, names[n % 2], first, settlement=160000, installments=8)
            amounts = weekly(first, 8, 20000)
        else:
            p = history_plan(ref, a, origin, agreed, names[n % 2], first, weekly_cents=10000 + 500 * n)
            amounts = weekly(first, WEEKS, 10000 + 500 * n)
        for seq, (due, amount) in enumerate(amounts, start=1):
            when, cents = pay_like(n, seq, due, amount)
            if when and when < utc_noon(today) - datetime.timedelta(days=4):
                p["payments"].append({"amount_cents": cents, "received_at": iso(when), "source": "card",
                                      "source_ref": unique("hp")})
        plans.append(p)
    plans[1]["payments"][0].update(reversed_at=iso(utc_noon(first) + datetime.timedelta(days=10)),
                                   reversal_reason="returned cheque")
    plans[4].update(cancelled_at=iso(agreed + datetime.timedelta(days=8)), cancel_reason="customer moved abroad")
    # a renegotiation: account 7 agrees a smaller plan six weeks ago
    again = history_plan(unique("HP"), accounts[7], "customer_proposed", utc_noon(today - datetime.timedelta(days=42)),
                         names[0], today - datetime.timedelta(days=40), weekly_cents=8000)
    again["payments"] = [{"amount_cents": 8000, "received_at": iso(utc_noon(today - datetime.timedelta(days=40))),
                          "source": "card", "source_ref": unique("hp")}]
    plans.append(again)
    r = api.post("/v1/imports/history", {"plans": plans})
    assert r.status == 201, r.text[:3000]

    # the same through CSV: one plan with two payments
    c = new_customer(agent, time_zone="Europe/London", jurisdiction="GB")
    a = new_account(agent, c["id"], original_balance_cents=90000, currency="GBP")
    ref = unique("HC")
    rows = [["record", "plan_ref", "account_external_ref", "origin", "agreed_at", "agreed_by", "weekly_amount_cents",
             "first_due_date", "amount_cents", "received_at", "source", "source_ref"],
            ["plan", ref, a["external_ref"], "agent_set", iso(agreed), names[1], "9000", first.isoformat(), "", "", "",
             ""]]
    for seq in (1, 2):
        rows.append(["payment", ref, "", "", "", "", "", "", "9000",
                     iso(utc_noon(first + datetime.timedelta(days=7 * (seq - 1)))), "bacs", unique("hc")])
    body = io.StringIO()
    csv.writer(body).writerows(rows)
    r = api.post("/v1/imports/history", body.getvalue(), content_type="text/csv")
    assert r.status == 201, r.text[:3000]

    # an imported plan judged through as_of, paid through the API and a payment file
    c = new_customer(agent, time_zone="America/Chicago", jurisdiction="US-IL")
    a = new_account(agent, c["id"], original_balance_cents=50000, currency="USD")
    p = api.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 5000, "imported": True,
                                                   "first_due_date": first.isoformat()})
    assert p.status == 201, p
    for seq, (due, amount) in enumerate(weekly(first, 6, 5000), start=1):
        if seq % 3 == 0:
            continue
        r = api.post("/v1/payments", {"account_id": a["id"], "amount_cents": amount, "received_at": iso(utc_noon(due)),
                                      "source": "card", "source_ref": unique("ap")},
                       headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status == 201, r
    file = (f"account_external_ref,amount_cents,received_at,source,source_ref\r\n"
            f"{a['external_ref']},2500,{iso(utc_noon(first + datetime.timedelta(days=14)))},bacs,{unique('pf')}\r\n")
    r = api.post("/v1/imports/payments", file, content_type="text/csv")
    assert r.status == 201, r
    for week in range(WEEKS + 1):
        as_of = min(utc_noon(first + datetime.timedelta(days=7 * week + 5)), datetime.datetime.now(datetime.timezone.utc)
                    - datetime.timedelta(minutes=1))
        assert api.post("/v1/admin/evaluate", {"as_of": iso(as_of)}).status == 200

    # reminder calls through kept-telsim: a confirmed one and a blocked one
    d = Debtor(api, agent, days_back=7 * WEEKS)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "11"}})
    run_reminders(api, d.before_due(3))
    wait_for_call(api, d, finished)
    blocked = Debtor(api, agent, days_back=7 * WEEKS, consent=False)
    run_reminders(api, blocked.before_due(4))
    # plans customers made themselves: a weekly amount keyed in on a reminder call (channel ivr) ...
    ivr = Debtor(api, agent)
    telsim.post("/_telsim/callees", {ivr.number: {"behaviour": "human", "keys": "1,3,25#,1"}})
    run_reminders(api, ivr.before_due(1))
    wait_for_call(api, ivr, lambda c: finished(c) and c["digits"] == "1325#1")
    set_clock(api, None)  # the reminders moved keptd's simulated clock into the past
    # ... and one on the self-service page (channel self_service), beside one an agent set at the desk
    c = new_customer(agent, time_zone="America/New_York", jurisdiction="US-NY")
    a = new_account(agent, c["id"], original_balance_cents=100000, currency="USD")
    r = agent.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 20000,
                                                     "first_due_date": (today + datetime.timedelta(days=7)).isoformat()})
    assert r.status == 201 and (r.json()["status"], r.json()["channel"]) == ("active", "agent"), r
    _, _, link = customer_on_the_page(agent, agent)
    v = Visitor(phone_server.port, link["url"])
    v.open()
    v.prove()
    v.propose("150.00")
    assert "Your plan is agreed" in v.agree().text

    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    # a customer moves after their facts were loaded: their local dates move with them
    moved = agent.get(f"/v1/customers/{accounts[0]['customer_id']}").json()
    r = agent.patch(f"/v1/customers/{moved['id']}", {"time_zone": "Pacific/Kiritimati"},
                    headers={"If-Match": str(moved["version"])})
    assert r.status == 200, r
    r = api.post("/v1/admin/evaluate", {"as_of": iso(datetime.datetime.now(datetime.timezone.utc)
                                                     - datetime.timedelta(minutes=1))})
    assert r.status == 200, r
    done = keptd_cmd(cluster.url, "analytics")
    assert done.returncode == 0, done.stderr
    for client in (api, agent):
        client.close()
    yield {"agents": names}
    # whatever the module's tests did, analytics ends equal to the operational truth
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    assert_verified(cluster)
