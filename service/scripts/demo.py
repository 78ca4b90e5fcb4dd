#!/usr/bin/env python3
"""make demo: a realistic year of history, loaded into a running kept through its API.

Talks to the keptd that `make run` started (KEPT_URL, default
http://127.0.0.1:8080; its admin key from .kept/, or KEPT_API_KEY), with every
background worker running, and writes nothing by SQL:

  1. four agents and a supervisor (API keys);
  2. a few hundred customers and accounts in six time zones, placed with the
     agency over the past year (POST /v1/imports/accounts);
  3. their history (POST /v1/imports/history): plans of every origin agreed
     over the past year by those agents, weekly payments — on time, late,
     partial, missing, some returned — and renegotiations after a plan broke;
     kept replays it at its own times and judges it as of now;
  4. today's reminder run through kept-telsim (POST /v1/admin/reminders).

The generator decides, installment by installment, what each customer does,
with a reliability that depends on how the plan was agreed, and keeps the
outcome it means each installment to have under kept's rules (kept by the
due day, within the three days' grace, partly paid, missed; two misses in a
row break a plan). When the analytics loader has caught up, the demo prints,
per origin, the kept rate it intended beside the one finance's origin report
shows, and runs `keptd analytics --verify` when it can reach the database.
"""
import csv
import datetime
import glob
import io
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from zoneinfo import ZoneInfo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URL = os.environ.get("KEPT_URL", "http://127.0.0.1:8080")
CUSTOMERS = int(os.environ.get("KEPT_DEMO_CUSTOMERS", "300"))
ZONES = [("America/New_York", "US-NY", "USD"), ("America/Chicago", "US-IL", "USD"),
         ("America/Los_Angeles", "US-CA", "USD"), ("Europe/London", "GB", "GBP"),
         ("Pacific/Auckland", "NZ", "NZD"), ("Asia/Kolkata", "IN", "INR")]
# how reliably each kind of plan is kept: the practice kept exists to measure
RELIABILITY = {"customer_proposed": 0.86, "settlement": 0.80, "agent_set": 0.70}
GRACE_DAYS = 3            # the default policy's
BREAKS_AFTER = 2          # misses in a row
AGENTS = ["Alex Morgan", "Blair Chen", "Casey Okafor", "Dana Silva"]
rng = random.Random(int(os.environ.get("KEPT_DEMO_SEED", "20261122")))


# ---- talking to kept ------------------------------------------------------------------------

def admin_key():
    if os.environ.get("KEPT_API_KEY"):
        return os.environ["KEPT_API_KEY"]
    state = os.environ.get("KEPT_STATE_DIR", os.path.join(ROOT, ".kept"))
    keys = sorted((k for k in glob.glob(os.path.join(state, "admin-key-*")) if not k.endswith(".header")),
                  key=os.path.getmtime)
    if not keys:
        sys.exit("kept demo: no admin key in .kept/; start `make run` first (or set KEPT_API_KEY)")
    return open(keys[-1]).read().strip()


def call(key, method, path, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(result, what):
    status, body = result
    if status >= 300:
        detail = json.dumps(body)[:3000]
        sys.exit(f"kept demo: {what} failed with {status}: {detail}")
    return body


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the generator -------------------------------------------------------------------------------

def schedule(total, weekly, first):
    """kept.schedule: weekly installments, the last carrying the remainder."""
    n = -(-total // weekly)
    return [(first + datetime.timedelta(days=7 * k), weekly if k < n - 1 else total - weekly * (n - 1))
            for k in range(n)]


def day_end(day, zone):
    """The instant a local day ends (kept.local_day_end)."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), ZoneInfo(zone))


def local(day, hour, zone):
    return datetime.datetime.combine(day, datetime.time(hour), ZoneInfo(zone))


class Plan:
    """One plan and what its customer does, week by week, until now or its end."""

    def __init__(self, account, origin, agent, agreed, first, total, weekly, reliability, now):
        self.account, self.origin, self.agent, self.agreed = account, origin, agent, agreed
        self.first, self.total, self.weekly = first, total, weekly
        self.ref = f"DEMO-P-{uuid.uuid4().hex[:10]}"
        self.payments, self.outcomes = [], []   # outcomes: the judged installments' intended outcomes
        self.broken_at = None
        self.paid = 0
        self._live(reliability, now)

    def _pay(self, when, cents):
        self.payments.append({"amount_cents": cents, "received_at": iso(when),
                              "source": rng.choice(["card", "bacs", "processor:stripe"]),
                              "source_ref": uuid.uuid4().hex})
        self.paid += cents
        return self.payments[-1]

    def _live(self, reliability, now):
        zone = self.account["zone"]
        arrears = 0          # due before and not paid: each payment settles it first (oldest first)
        returns = []         # (when, amount): returned payments not yet counted in arrears
        misses = 0
        for seq, (due, amount) in enumerate(schedule(self.total, self.weekly, self.first), start=1):
            due_end, grace_end = day_end(due, zone), day_end(due + datetime.timedelta(days=GRACE_DAYS), zone)
            roll = rng.random()
            if roll < reliability:
                intent, when, share = "kept", local(due - datetime.timedelta(days=rng.randrange(0, 3)), 12, zone), 1
            elif roll < reliability + (1 - reliability) * 0.35:
                intent, when, share = "kept_late", local(due + datetime.timedelta(days=rng.randrange(1, 3)), 12, zone), 1
            elif roll < reliability + (1 - reliability) * 0.65:
                intent, when, share = "partial", local(due, 9, zone), rng.randrange(30, 80) / 100
            else:
                intent, when, share = "missed", None, 0
            judged_at = due_end if intent == "kept" else grace_end
            if judged_at > now or (when and when > now):
                break                                 # its time has not come: no more history
            for at, cents in [r for r in returns if when and r[0] < when]:
                arrears += cents
                returns.remove((at, cents))
            if when:
                when = max(when, self.agreed + datetime.timedelta(hours=1))  # never before the plan was agreed
                cents = int(amount * share) if intent == "partial" else amount
                p = self._pay(when, arrears + cents)
                arrears = 0
                if intent == "partial":
                    arrears += amount - cents
                elif rng.random() < 0.012 and seq > 1 and grace_end <= now:  # returned: the week is missed after all
                    back = when + datetime.timedelta(days=1)
                    p.update(reversed_at=iso(back), reversal_reason="returned by the bank")
                    self.paid -= p["amount_cents"]
                    returns.append((back, p["amount_cents"]))
                    intent = "missed"
            else:
                arrears += amount
            self.outcomes.append(intent)
            misses = misses + 1 if intent == "missed" else 0
            if misses == BREAKS_AFTER:
                self.broken_at = grace_end
                return

    def record(self):
        p = {"plan_ref": self.ref, "account_external_ref": self.account["ref"], "origin": self.origin,
             "agreed_at": iso(self.agreed), "agreed_by": self.agent, "first_due_date": self.first.isoformat(),
             "payments": self.payments}
        if self.origin == "settlement":
            p.update(settlement_cents=self.total, installments=-(-self.total // self.weekly))
        else:
            p["weekly_amount_cents"] = self.weekly
        return p


def plans_for(account, now):
    """The account's plans: one agreed some time in the past year and, after a
    break, perhaps a renegotiation."""
    plans = []
    balance = account["balance"]
    agreed = account["placed"] + datetime.timedelta(days=rng.randrange(1, 40), hours=rng.randrange(8, 18))
    origin = account["origin"]
    while agreed < now - datetime.timedelta(days=8) and balance > 0:
        first = agreed.astimezone(ZoneInfo(account["zone"])).date() + datetime.timedelta(days=rng.randrange(1, 8))
        if origin == "settlement":
            total = balance * rng.randrange(61, 90) // 100  # above the policy's 60% floor
            weekly = -(-total // rng.randrange(4, 13))
        else:
            total, weekly = balance, max(-(-balance // rng.randrange(15, 100)), 500)
        reliability = min(0.99, max(0.3, rng.gauss(RELIABILITY[origin], 0.06)))
        plan = Plan(account, origin, account["agent"], agreed, first, total, weekly, reliability, now)
        plans.append(plan)
        balance -= plan.paid
        if not plan.broken_at or rng.random() < 0.4:
            break
        # renegotiated a week or three after it broke: the customer names a new amount
        agreed = plan.broken_at + datetime.timedelta(days=rng.randrange(7, 22), hours=rng.randrange(1, 6))
        origin = "customer_proposed"
    return plans


def generate(now):
    accounts, plans = [], []
    for n in range(CUSTOMERS):
        zone, jurisdiction, currency = ZONES[n % len(ZONES)]
        placed = now - datetime.timedelta(days=rng.randrange(30, 380))
        phone = f"+1555{rng.randrange(10**6, 10**7)}"
        if phone[-1] in "1234":  # kept-telsim: those endings are busy, no answer, machine, failed
            phone = phone[:-1] + rng.choice("1234" if rng.random() < 0.25 else "5678")
        a = {"ref": f"DEMO-{uuid.uuid4().hex[:10]}", "zone": zone, "jurisdiction": jurisdiction,
             "currency": currency, "balance": rng.randrange(40000, 400000, 100), "placed": placed,
             "phone": phone, "consent": rng.random() < 0.9, "agent": AGENTS[n % len(AGENTS)],
             "origin": ("agent_set", "customer_proposed", "settlement")[n % 3], "name": f"Demo Customer {n}"}
        accounts.append(a)
        plans += plans_for(a, now)
    return accounts, plans


def accounts_csv(accounts):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["customer_external_ref", "customer_name", "time_zone", "jurisdiction", "phone", "phone_consent",
                "account_external_ref", "creditor", "original_balance_cents", "currency", "placed_on"])
    for a in accounts:
        w.writerow([a["ref"] + "-C", a["name"], a["zone"], a["jurisdiction"], a["phone"],
                    "true" if a["consent"] else "false", a["ref"],
                    rng.choice(["Acme Bank", "Northwind Energy", "Contoso Telecom"]), a["balance"], a["currency"],
                    a["placed"].astimezone(ZoneInfo(a["zone"])).date().isoformat()])
    return out.getvalue()


# ---- checking what finance sees --------------------------------------------------------------

def intended(plans):
    by_origin = {}
    for p in plans:
        judged, kept = by_origin.get(p.origin, (0, 0))
        by_origin[p.origin] = (judged + len(p.outcomes), kept + sum(o in ("kept", "kept_late") for o in p.outcomes))
    return by_origin


def wait_for_the_loader(key, since):
    """Until analytics holds everything recorded before `since` (an RFC 3339 time, whole seconds)."""
    deadline = time.time() + 300
    while time.time() < deadline:
        fresh = must(call(key, "GET", "/v1/reports/summary?from=2000-01-03&to=2100-01-04"), "the summary")["analytics"]
        if (fresh["caught_up_at"] or "") >= since:
            return True
        time.sleep(1)
    return False


def verify():
    """keptd analytics --verify against make run's database (or KEPT_DATABASE_URL), when reachable."""
    url = os.environ.get("KEPT_DATABASE_URL")
    if not url:
        state = os.environ.get("KEPT_STATE_DIR", os.path.join(ROOT, ".kept"))
        if not os.path.isdir(os.path.join(state, "pg")):
            return None
        url = subprocess.run([os.path.join(ROOT, "service/scripts/pgcluster.sh"), "url", os.path.join(state, "pg")],
                             capture_output=True, text=True).stdout.strip()
    keptd = os.path.join(ROOT, os.environ.get("BUILD", "build"), "keptd")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
    env.update(KEPT_DATABASE_URL=url, KEPT_LOG_LEVEL="warn")
    # the key that protects customers' personal data: make run's, unless given
    state = os.environ.get("KEPT_STATE_DIR", os.path.join(ROOT, ".kept"))
    data_key = os.environ.get("KEPT_DATA_KEY") or (open(os.path.join(state, "data-key")).read().strip()
                                                   if os.path.exists(os.path.join(state, "data-key")) else "")
    env.update(KEPT_DATA_KEY=data_key)
    return subprocess.run([keptd, "analytics", "--verify"], env=env, capture_output=True, text=True)


def main():
    key = admin_key()
    try:
        urllib.request.urlopen(URL + "/healthz", timeout=5)
    except OSError:
        sys.exit(f"kept demo: nothing answers at {URL}; start `make run` in another terminal first")
    for name in AGENTS:
        must(call(key, "POST", "/v1/api-keys", {"role": "agent", "name": name}), "an agent's key")
    must(call(key, "POST", "/v1/api-keys", {"role": "supervisor", "name": "Demo Supervisor"}), "a key")
    finance = must(call(key, "POST", "/v1/api-keys", {"role": "finance", "name": "Demo Finance"}), "a key")["key"]
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    accounts, plans = generate(now)
    print(f"kept demo: {len(accounts)} customers and accounts, placed over the past year …", flush=True)
    must(call(key, "POST", "/v1/imports/accounts", accounts_csv(accounts), "text/csv"), "the accounts import")
    payments = sum(len(p.payments) for p in plans)
    print(f"kept demo: their history — {len(plans)} plans, {payments} payments — replayed by kept …", flush=True)
    t = time.time()
    done = must(call(key, "POST", "/v1/imports/history", {"plans": [p.record() for p in plans]}), "the history import")
    print(f"kept demo: history {done['import_id']} in {time.time() - t:.0f}s; "
          f"{done['installments_judged_now']} installments judged as of now", flush=True)
    status, run = call(key, "POST", "/v1/admin/reminders", {})
    if status == 200:
        print(f"kept demo: today's reminder run: {json.dumps(run)}", flush=True)

    written = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)  # after the last write
    if not wait_for_the_loader(finance, iso(written)):
        print("kept demo: the analytics loader has not caught up after five minutes; is the loader worker on?")
    rows = must(call(finance, "GET", "/v1/reports/origin?from=2000-01-03&to=2100-01-04"), "the origin report")["rows"]
    print("\nkept rate by origin: what the demo meant, and what finance's report shows")
    print(f"  {'origin':<18} {'judged':>7} {'intended':>9} {'report':>7}")
    worst = 0.0
    for origin, (judged, kept) in sorted(intended(plans).items()):
        got = [r for r in rows if r["origin"] == origin]
        r_judged, r_kept = sum(r["judged"] for r in got), sum(r["kept_any"] for r in got)
        want = kept / judged if judged else 0
        have = r_kept / r_judged if r_judged else 0
        worst = max(worst, abs(want - have))
        print(f"  {origin:<18} {judged:>7} {want:>9.1%} {have:>7.1%}")
    checked = verify()
    if checked is not None:
        print(f"\nkeptd analytics --verify: {'clean' if checked.returncode == 0 else 'DIFFERENCES'} "
              f"{checked.stdout.strip()[:300]}")
    print(f"\nkept demo: done. {URL}/dashboard (finance key: {finance})", flush=True)
    if worst > 0.01 or (checked is not None and checked.returncode != 0):
        sys.exit("kept demo: the reports do not show what the generator intended")


if __name__ == "__main__":
    main()
