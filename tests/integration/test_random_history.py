"""A randomized history, seeded and reproducible, with the evaluator and the
auditor running all along: history imports (JSON and CSV), imported plans
judged through advancing as_of, live plans of every origin, renegotiations,
cancellations, settlements, payments on time, late, backdated, out of order
and by file, reversals, customers moving time zone; the analytics loader run
at random moments with batches of 1 to 10,000 events, two keptd loaders at
once (one waits its turn: the advisory lock), two loaders that skip the lock
and meet at the cursor row, and a rebuild. At the end, once nothing is left
to load, `keptd analytics --verify` is clean and every report equals the
figures oracle.py computes from the operational tables.

Small in `make test`; `make soak` runs it large (KEPT_RANDOM_ACCOUNTS,
KEPT_RANDOM_STEPS). A failure prints its seed: KEPT_RANDOM_SEED=... replays it."""
import csv
import datetime
import io
import json
import os
import random
import subprocess
import uuid

import oracle
from conftest import CLUSTER, Keptd, command, create_key, keptd_env, migrate, unique

ACCOUNTS = int(os.environ.get("KEPT_RANDOM_ACCOUNTS", "16"))
STEPS = int(os.environ.get("KEPT_RANDOM_STEPS", "160"))
SEED = int(os.environ.get("KEPT_RANDOM_SEED", "20261202"))
ZONES = [("America/New_York", "US-NY", "USD"), ("Europe/London", "GB", "GBP"), ("Pacific/Auckland", "NZ", "NZD"),
         ("Asia/Kolkata", "IN", "INR")]
ALLOWED = {200, 201, 409, 422}  # a refused step is part of a random history; a 500 never is


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class History:
    def __init__(self, url, rng):
        self.url, self.rng = url, rng
        self.now = lambda: datetime.datetime.now(datetime.timezone.utc)
        admin = create_key(url, "admin")
        self.k = Keptd(url, KEPT_WORKERS="evaluator,auditor", KEPT_EVALUATE_INTERVAL="2")
        self.api = self.k.client(admin)
        self.finance = self.k.client(create_key(url, "finance"))  # reversals are finance's (or a supervisor's)
        self.agents = [unique("Random Agent") for _ in range(3)]
        for name in self.agents:
            assert self.api.post("/v1/api-keys", {"role": "agent", "name": name}).status == 201
        self.accounts = []       # {id, ref, customer, zone, currency}
        self.payments = []       # ids posted
        self.as_of = self.now() - datetime.timedelta(weeks=20)
        self.log = []

    def check(self, r, what):
        self.log.append((what, r.status))
        assert r.status in ALLOWED, (what, r)
        return r

    # ---- accounts ---------------------------------------------------------------------------------

    def new_account(self):
        zone, jurisdiction, currency = self.rng.choice(ZONES)
        ref = unique("R")
        c = self.check(self.api.post("/v1/customers", {"external_ref": ref + "-C", "name": "Random " + ref,
                                                       "time_zone": zone, "jurisdiction": jurisdiction}), "customer")
        placed = (self.now() - datetime.timedelta(days=800)).date().isoformat()
        a = self.check(self.api.post("/v1/accounts", {
            "customer_id": c.json()["id"], "external_ref": ref, "creditor": "Random Bank", "currency": currency,
            "original_balance_cents": self.rng.randrange(50000, 500000, 100), "placed_on": placed}), "account").json()
        acct = {"id": a["id"], "ref": ref, "customer": c.json()["id"], "zone": zone, "currency": currency}
        self.accounts.append(acct)
        return acct

    def account(self):
        return self.rng.choice(self.accounts) if self.accounts else self.new_account()

    def open_plan(self, acct):
        plans = self.api.get(f"/v1/accounts/{acct['id']}/plans").json()["items"]
        open_ = [p for p in plans if p["status"] in ("active", "pending_approval")]
        return open_[-1] if open_ else None

    # ---- steps ------------------------------------------------------------------------------------

    def history_import(self):
        acct = self.new_account()
        agreed = self.now() - datetime.timedelta(days=self.rng.randrange(20, 140), hours=self.rng.randrange(0, 24))
        first = (agreed + datetime.timedelta(days=self.rng.randrange(1, 10))).date()
        origin = self.rng.choice(["customer_proposed", "agent_set", "settlement"])
        plan = {"plan_ref": unique("RP"), "account_external_ref": acct["ref"], "origin": origin,
                "agreed_at": iso(agreed), "agreed_by": self.rng.choice(self.agents), "first_due_date": first.isoformat(),
                "payments": []}
        balance = self.api.get(f"/v1/accounts/{acct['id']}").json()["balance_cents"]
        if origin == "settlement":
            plan.update(settlement_cents=balance * 7 // 10, installments=self.rng.randrange(1, 13))
            weekly = -(-(balance * 7 // 10) // plan["installments"])
        else:
            weekly = -(-balance // self.rng.randrange(8, 60))
            plan["weekly_amount_cents"] = weekly
        t, paid = agreed, 0
        while True:
            t += datetime.timedelta(days=self.rng.choice([3, 6, 7, 7, 8, 10, 15]), hours=self.rng.randrange(-5, 6))
            cents = min(self.rng.choice([weekly, weekly, weekly // 2, weekly * 2]), balance - paid)
            if t > self.now() - datetime.timedelta(hours=1) or cents <= 0:
                break
            payment = {"amount_cents": cents, "received_at": iso(t), "source": "card", "source_ref": unique("rh")}
            if self.rng.random() < 0.05 and t < self.now() - datetime.timedelta(days=3):
                payment.update(reversed_at=iso(t + datetime.timedelta(days=2)), reversal_reason="returned")
            plan["payments"].append(payment)
            paid += cents
        fmt = self.rng.choice(["json", "csv"])
        if fmt == "json":
            r = self.api.post("/v1/imports/history", {"plans": [plan]})
        else:
            r = self.api.post("/v1/imports/history", self.history_csv(plan), content_type="text/csv")
        self.check(r, f"history import {fmt}")

    @staticmethod
    def history_csv(plan):
        fields = ["record", "plan_ref", "account_external_ref", "origin", "agreed_at", "agreed_by",
                  "weekly_amount_cents", "first_due_date", "settlement_cents", "installments", "amount_cents",
                  "received_at", "source", "source_ref", "reversed_at", "reversal_reason"]
        out = io.StringIO()
        w = csv.DictWriter(out, fields, extrasaction="ignore")
        w.writeheader()
        w.writerow(dict(plan, record="plan"))
        for p in plan["payments"]:
            w.writerow(dict(p, record="payment", plan_ref=plan["plan_ref"]))
        return out.getvalue()

    def imported_plan(self):
        acct = self.new_account()
        first = (self.as_of - datetime.timedelta(days=self.rng.randrange(0, 30))).date()
        self.check(self.api.post(f"/v1/accounts/{acct['id']}/plans", {
            "weekly_amount_cents": self.rng.randrange(2000, 20000, 100), "first_due_date": first.isoformat(),
            "imported": True}), "imported plan")

    def live_plan(self, acct=None, replaces=None):
        acct = acct or self.new_account()
        first = (self.now() + datetime.timedelta(days=self.rng.randrange(1, 20))).date().isoformat()
        extra = {"replaces_plan_id": replaces} if replaces else {}
        kind = self.rng.choice(["proposal", "agent", "settlement"])
        if kind == "proposal":
            r = self.check(self.api.post(f"/v1/accounts/{acct['id']}/proposals", {
                "weekly_amount_cents": self.rng.randrange(1000, 30000, 100), "first_due_date": first}), "proposal")
            if r.status == 201:
                self.check(self.api.post(f"/v1/accounts/{acct['id']}/plans", {"proposal_id": r.json()["id"], **extra}),
                           "plan from proposal")
        elif kind == "agent":
            self.check(self.api.post(f"/v1/accounts/{acct['id']}/plans", {
                "weekly_amount_cents": self.rng.randrange(1000, 30000, 100), "first_due_date": first, **extra}),
                "agent plan")
        else:
            balance = self.api.get(f"/v1/accounts/{acct['id']}").json()["balance_cents"]
            if balance < 100:
                return
            o = self.check(self.api.post(f"/v1/accounts/{acct['id']}/settlement-offers",
                                         {"offer_cents": max(balance * self.rng.randrange(50, 95) // 100, 1)}), "offer")
            if o.status == 201:
                self.check(self.api.post(f"/v1/settlement-offers/{o.json()['id']}/accept", {
                    "first_due_date": first, "installments": self.rng.randrange(1, 13), **extra}), "settlement")

    def renegotiate(self):
        acct = self.account()
        plan = self.open_plan(acct)
        if plan:
            self.live_plan(acct, plan["id"])

    def cancel(self):
        plan = self.open_plan(self.account())
        if plan:
            self.check(self.api.post(f"/v1/plans/{plan['id']}/cancel", {"reason": "random"}), "cancel")

    def pay(self):
        acct = self.account()
        balance = self.api.get(f"/v1/accounts/{acct['id']}").json()["balance_cents"]
        if balance <= 0:
            return
        when = self.rng.choice([self.now() - datetime.timedelta(minutes=3), self.as_of,
                                self.as_of - datetime.timedelta(days=self.rng.randrange(1, 60)),
                                self.as_of + datetime.timedelta(days=self.rng.randrange(1, 5))])
        when = min(when, self.now() - datetime.timedelta(minutes=1))
        r = self.check(self.api.post("/v1/payments", {
            "account_id": acct["id"], "amount_cents": self.rng.randrange(1, max(2, min(balance, 40000)) + 1),
            "received_at": iso(when), "source": "card", "source_ref": unique("rp")},
            headers={"Idempotency-Key": str(uuid.uuid4())}), "payment")
        if r.status == 201:
            self.payments.append(r.json()["id"])

    def pay_file(self):
        lines = ["account_external_ref,amount_cents,received_at,source,source_ref"]
        for acct in self.rng.sample(self.accounts, min(len(self.accounts), 4)):
            when = min(self.as_of, self.now() - datetime.timedelta(minutes=1))
            lines.append(f"{acct['ref']},{self.rng.randrange(100, 3000)},{iso(when)},bacs,{unique('rf')}")
        self.check(self.api.post("/v1/imports/payments", "\r\n".join(lines) + "\r\n", content_type="text/csv"),
                   "payment file")

    def reverse(self):
        if self.payments:
            pid = self.payments.pop(self.rng.randrange(len(self.payments)))
            self.check(self.finance.post(f"/v1/payments/{pid}/reversal", {"reason": "returned"}), "reversal")

    def evaluate(self):
        self.as_of = min(self.as_of + datetime.timedelta(days=self.rng.randrange(1, 12)),
                         self.now() - datetime.timedelta(minutes=1))
        self.check(self.api.post("/v1/admin/evaluate", {"as_of": iso(self.as_of)}), "evaluate")

    def move(self):
        acct = self.account()
        c = self.api.get(f"/v1/customers/{acct['customer']}").json()
        zone = self.rng.choice([z for z, _, _ in ZONES] + ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
        self.check(self.api.patch(f"/v1/customers/{c['id']}", {"time_zone": zone},
                                  headers={"If-Match": str(c["version"])}), "move")

    def load(self, *args, batch=None):
        env = keptd_env(self.url, KEPT_ANALYTICS_BATCH=str(batch or self.rng.choice([1, 3, 17, 100, 10000])))
        return subprocess.Popen(command("keptd", "analytics", *args), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def loaders(self, n):
        procs = [self.load() for _ in range(n)]
        ran = 0
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            ran += json.loads(out)["ran"]
        assert ran >= 1, "no loader ran"
        self.log.append((f"{n} loader(s)", 0))

    def loaders_at_the_cursor(self, cluster):
        """Two loaders that skip the advisory lock: the cursor row makes them take turns."""
        procs = [subprocess.Popen([str(CLUSTER), "psql", cluster.dir, "-d", "kept_random", "-qAt", "-c",
                                   f"SELECT kept.analytics_load_local({self.rng.choice([5, 50, 500])})"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        self.log.append(("two at the cursor", 0))

    def drain(self):
        """Loads until nothing is left; answers how many runs it took."""
        for runs in range(1, 100):
            out, err = self.load(batch=10000).communicate(timeout=300)
            if json.loads(out)["events"] == 0 and json.loads(out)["lag_events"] == 0:
                return runs
        raise AssertionError("the loader never caught up")

    def rebuild(self):
        out, err = self.load("--rebuild").communicate(timeout=300)
        assert '"rebuilt":true' in out, err
        self.log.append(("rebuild", 0))


STEP_WEIGHTS = [("history_import", 6), ("imported_plan", 3), ("live_plan", 4), ("renegotiate", 3), ("cancel", 2),
                ("pay", 14), ("pay_file", 2), ("reverse", 2), ("evaluate", 8), ("move", 2), ("load1", 3),
                ("load2", 1), ("cursor2", 1), ("rebuild", 1)]


def test_a_random_history_ends_with_analytics_equal_to_the_operational_truth(cluster):
    rng = random.Random(SEED)
    url = cluster.new_database("kept_random")
    migrate(url)
    h = History(url, rng)
    try:
        for _ in range(ACCOUNTS // 2):
            h.history_import()
        for _ in range(ACCOUNTS // 4):
            h.imported_plan()
        names, weights = zip(*STEP_WEIGHTS)
        for i in range(STEPS):
            step = rng.choices(names, weights)[0]
            if i == STEPS // 4:
                step = "cursor2"     # every history has each kind of concurrent load and a rebuild
            elif i == STEPS // 3:
                step = "load2"
            elif i == STEPS // 2:
                step = "rebuild"
            if step == "load1":
                h.loaders(1)
            elif step == "load2":
                h.loaders(2)
            elif step == "cursor2":
                h.loaders_at_the_cursor(cluster)
            else:
                getattr(h, step)()
        h.as_of = h.now()
        h.evaluate()
        h.drain()
        done = subprocess.run(command("keptd", "analytics", "--verify"), env=keptd_env(url), capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"seed {SEED}: {done.stdout}\n{done.stderr}"
        assert json.loads(done.stdout)["entities_checked"] > 0
        fin = h.k.client(create_key(url, "finance"))
        truth = oracle.Truth(cluster, db="kept_random")
        frm, to = "2000-01-03", "2100-01-04"
        for name in oracle.REPORT_KEYS:
            rows = fin.get(f"/v1/reports/{name}?from={frm}&to={to}").json()["rows"]
            assert oracle.differences(name, rows, oracle.expected(truth, name, frm, to)) == [], f"seed {SEED}: {name}"
        steps = {what for what, _ in h.log}
        assert {"payment", "evaluate", "rebuild", "2 loader(s)", "two at the cursor"} <= steps, steps
        done = {(what, status) for what, status in h.log}
        assert {("history import json", 201), ("history import csv", 201)} <= done, sorted(done)
        imported = cluster.psql("SELECT count(*) FROM kept.plans WHERE channel = 'import'", db="kept_random")
        assert int(imported[0][0]) >= ACCOUNTS // 4, imported
        loaded = cluster.psql("SELECT (SELECT count(*) FROM kept.outbox_events), events_loaded "
                              "FROM analytics.loader_state", db="kept_random")[0]
        assert int(loaded[1]) > 0
    finally:
        h.k.assert_clean_exit()
