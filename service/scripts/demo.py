#!/usr/bin/env python3
"""make demo: a realistic year of history loaded into a running kept.

Talks to the keptd that `make run` started (KEPT_URL, default
http://127.0.0.1:8080; its admin key from .kept/, or KEPT_API_KEY), through
the API: a few hundred customers in several time zones, plans of every origin
agreed over the past year, a year of weekly payments (on time, late, partial,
missing), some returned, the evaluation week by week through as_of, reminder
calls through the telephony provider for the last eight weeks, day by day with
keptd's simulated clock moved to each day. Plans are agreed "now" through the
API and then moved back in time in the database (the API refuses first due
dates in the past, rightly), so psql reaches the same database: the private
cluster of `make run`, or KEPT_DATABASE_URL.
"""
import datetime
import glob
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URL = os.environ.get("KEPT_URL", "http://127.0.0.1:8080")
CUSTOMERS = int(os.environ.get("KEPT_DEMO_CUSTOMERS", "300"))
ZONES = [("America/New_York", "US-NY", "USD"), ("America/Chicago", "US-IL", "USD"),
         ("America/Los_Angeles", "US-CA", "USD"), ("Europe/London", "GB", "GBP"),
         ("Pacific/Auckland", "NZ", "NZD"), ("Asia/Kolkata", "IN", "INR")]
rng = random.Random(20261122)


def admin_key():
    if os.environ.get("KEPT_API_KEY"):
        return os.environ["KEPT_API_KEY"]
    state = os.environ.get("KEPT_STATE_DIR", os.path.join(ROOT, ".kept"))
    keys = sorted(glob.glob(os.path.join(state, "admin-key-*")), key=os.path.getmtime)
    if not keys:
        sys.exit("kept demo: no admin key in .kept/; start `make run` first (or set KEPT_API_KEY)")
    return open(keys[-1]).read().strip()


def call(key, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(result, what):
    status, body = result
    if status >= 300:
        sys.exit(f"kept demo: {what} failed with {status}: {body}")
    return body


def psql(sql):
    if os.environ.get("KEPT_DATABASE_URL"):
        cmd = ["psql", os.environ["KEPT_DATABASE_URL"], "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql]
    else:
        state = os.environ.get("KEPT_STATE_DIR", os.path.join(ROOT, ".kept"))
        cmd = [os.path.join(ROOT, "service/scripts/pgcluster.sh"), "psql", os.path.join(state, "pg"), "-d", "kept",
               "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_clock(key, at):
    """Moves keptd's clock to `at` (None: back to the wall clock). make run's keptd runs in
    simulated time with kept-telsim; a keptd on the wall clock refuses, and then the demo places
    no past reminder calls: a reminder is dialled only at keptd's own time."""
    status, _ = call(key, "PUT", "/v1/admin/clock", {"now": iso(at) if at else None})
    return status == 200


def remind(key, at):
    """One reminder pass with keptd's clock at `at`: what was due is queued and dialled then, by the
    rules of that moment; the calls' lives (a few hundred milliseconds at kept-telsim) end before
    the clock moves on."""
    call(key, "POST", "/v1/admin/reminders", {"as_of": iso(at)})
    time.sleep(0.5)


def main():
    key = admin_key()
    try:
        urllib.request.urlopen(URL + "/healthz", timeout=5)
    except OSError:
        sys.exit(f"kept demo: nothing answers at {URL}; start `make run` in another terminal first")
    agents = [must(call(key, "POST", "/v1/api-keys", {"role": "agent", "name": f"demo agent {n}"}), "key")["key"]
              for n in ("Alex", "Blair", "Casey", "Dana")]
    supervisor = must(call(key, "POST", "/v1/api-keys", {"role": "supervisor", "name": "demo supervisor"}), "key")["key"]
    today = datetime.date.today()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    plans = []
    print(f"kept demo: {CUSTOMERS} customers, their accounts and plans …", flush=True)
    for n in range(CUSTOMERS):
        zone, jurisdiction, currency = ZONES[n % len(ZONES)]
        agent = agents[n % len(agents)]
        ref = f"DEMO-{uuid.uuid4().hex[:10]}"
        phone = f"+1555{rng.randrange(10**6, 10**7)}"
        if phone[-1] in "1234":  # kept-telsim: those endings are busy, no answer, machine, failed
            phone = phone[:-1] + rng.choice("1234" if rng.random() < 0.25 else "5678")
        customer = must(call(agent, "POST", "/v1/customers", {
            "external_ref": ref, "name": f"Demo Customer {n}", "time_zone": zone, "jurisdiction": jurisdiction,
            "phones": [{"number": phone, "consent_automated": rng.random() < 0.9}]}), "customer")
        balance = rng.randrange(40000, 400000, 100)
        account = must(call(agent, "POST", "/v1/accounts", {
            "customer_id": customer["id"], "external_ref": ref + "-A", "creditor": rng.choice(["Acme Bank", "Northwind Energy", "Contoso Telecom"]),
            "original_balance_cents": balance, "currency": currency}), "account")
        origin = ("agent_set", "customer_proposed", "settlement")[n % 3]
        if origin == "agent_set":
            plan = must(call(agent, "POST", f"/v1/accounts/{account['id']}/plans",
                             {"weekly_amount_cents": max(balance // rng.randrange(20, 60), 500), "first_due_date": tomorrow}), "plan")
        elif origin == "customer_proposed":
            proposal = must(call(agent, "POST", f"/v1/accounts/{account['id']}/proposals",
                                 {"weekly_amount_cents": max(balance // rng.randrange(15, 110), 500), "first_due_date": tomorrow}), "proposal")
            plan = must(call(agent, "POST", f"/v1/accounts/{account['id']}/plans", {"proposal_id": proposal["id"]}), "plan")
        else:
            offer = must(call(agent, "POST", f"/v1/accounts/{account['id']}/settlement-offers",
                              {"offer_cents": balance * rng.randrange(60, 90) // 100}), "offer")
            plan = must(call(agent, "POST", f"/v1/settlement-offers/{offer['id']}/accept",
                             {"first_due_date": tomorrow, "installments": rng.randrange(4, 13)}), "settlement")
        if plan["status"] == "pending_approval":
            plan = must(call(supervisor, "POST", f"/v1/plans/{plan['id']}/approvals", {}), "approval")
        weeks_back = rng.randrange(4, 53)
        days = 7 * weeks_back + 1
        psql(f"""UPDATE kept.plans SET first_due_date = first_due_date - {days}, created_at = created_at - interval '{days} days'
                 WHERE id = {plan['id']};
                 UPDATE kept.installments i SET due_date = i.due_date - {days},
                        due_end_at = kept.local_day_end(i.due_date - {days}, c.time_zone),
                        grace_end_at = kept.local_day_end(i.due_date - {days} + p.grace_days, c.time_zone)
                 FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers c ON c.id = a.customer_id
                 WHERE p.id = i.plan_id AND i.plan_id = {plan['id']};""")
        plans.append((plan["id"], account["id"], agent, rng.uniform(0.6, 0.98)))

    print("kept demo: a year of payments …", flush=True)
    payments = 0
    now = datetime.datetime.now(datetime.timezone.utc)
    for plan_id, account_id, agent, reliability in plans:
        rows = psql(f"SELECT due_date, amount_due_cents FROM kept.installments WHERE plan_id = {plan_id} ORDER BY seq")
        for line in rows.splitlines():
            due, amount = datetime.date.fromisoformat(line.split("|")[0]), int(line.split("|")[1])
            noon = datetime.datetime.combine(due, datetime.time(12), datetime.timezone.utc)
            roll = rng.random()
            if roll < reliability:
                when, cents = noon - datetime.timedelta(days=rng.randrange(0, 3)), amount
            elif roll < reliability + (1 - reliability) * 0.45:
                when, cents = noon + datetime.timedelta(days=rng.randrange(1, 4)), amount
            elif roll < reliability + (1 - reliability) * 0.75:
                when, cents = noon, amount * rng.randrange(30, 80) // 100
            else:
                continue
            if when > now - datetime.timedelta(minutes=5):
                break
            status, p = call(agent, "POST", "/v1/payments", {
                "account_id": account_id, "amount_cents": cents, "received_at": iso(when),
                "source": rng.choice(["card", "bacs", "processor:stripe"]), "source_ref": uuid.uuid4().hex},
                headers={"Idempotency-Key": str(uuid.uuid4())})
            if status == 201:
                payments += 1
                if rng.random() < 0.015:
                    call(agent, "POST", f"/v1/payments/{p['id']}/reversal", {"reason": "returned by the bank"})

    print(f"kept demo: {payments} payments; evaluating week by week, then day by day with reminder calls "
          f"for the last eight weeks …", flush=True)
    day = today - datetime.timedelta(days=7 * 53)
    while day <= today:
        recent = day >= today - datetime.timedelta(days=56)
        as_of = min(datetime.datetime.combine(day, datetime.time(16), datetime.timezone.utc),
                    now - datetime.timedelta(minutes=2))
        simulated = recent and set_clock(key, as_of)
        must(call(key, "POST", "/v1/admin/evaluate", {"as_of": iso(as_of)}), "evaluate")
        if simulated:
            remind(key, as_of)
        day += datetime.timedelta(days=1 if recent else 7)
    set_clock(key, None)
    must(call(key, "POST", "/v1/admin/evaluate", {"as_of": iso(now - datetime.timedelta(minutes=1))}), "evaluate")
    print(f"kept demo: done. The loader brings it into analytics within seconds:\n"
          f"      {URL}/dashboard  (API key: {key})", flush=True)


if __name__ == "__main__":
    main()
