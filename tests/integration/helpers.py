"""Driving the customer's self-service page over HTTP, as a browser does:
cookies, the form token every form carries, form posts. Used by the
self-service, texts, analytics and random-history tests."""
import datetime
import html
import http.client
import re
import urllib.parse
import uuid

from conftest import new_account, new_customer

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
