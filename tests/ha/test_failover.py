"""Failover and switchover under load (make ha-test).

keptd reaches the primary through a multi-host connection string
(target_session_attrs=read-write) and reads reports through the standby
(prefer-standby). Clients post payments with retries (the same
Idempotency-Key and body until the answer is 201, or 200 for a replay) with
every worker on, including the dispatcher ringing kept-telsim. The primary's
postmaster is killed with SIGKILL: Patroni promotes the synchronous standby,
keptd answers 503 with Retry-After meanwhile and then serves again without a
restart, every payment answered 201 exists exactly once, balances and
outcomes equal a clean run's on the same cluster, the workers and the loader
carry on, and the old primary rejoins as the synchronous standby (pg_rewind
when its WAL went further than the new primary's). Then a planned
switchover under the same load refuses nothing but with 503s.

The figures (seconds without service, requests refused, payments lost) are
printed and written to tests/artifacts/ha-figures.txt.
"""
import datetime
import threading
import time
import urllib.parse
import uuid
import zoneinfo
from pathlib import Path

import it
from patroni_cluster import wait_for

ACCOUNTS = 24
PER_ACCOUNT = 100
CLIENTS = 8
DEBTORS = 4
FIGURES = Path(__file__).resolve().parents[1] / "artifacts" / "ha-figures.txt"


def first_due():
    """Due days four days before today's weekday: nothing comes due or ends its
    grace (three days) while the test runs, whenever it runs."""
    return datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=144)


def workload():
    """The same payments for every run: per account, in the order sent."""
    base = uuid.UUID("00000000-0000-4000-8000-000000000000").int
    start = datetime.datetime.combine(first_due(), datetime.time(12), datetime.timezone.utc)
    per_account = {n: [] for n in range(ACCOUNTS)}
    for i in range(ACCOUNTS * PER_ACCOUNT):
        n = i % ACCOUNTS
        at = start + datetime.timedelta(hours=3 * (i // ACCOUNTS))
        per_account[n].append({"amount_cents": 100 + (i * 37) % 900, "received_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "source": "card", "source_ref": f"ha-{i}", "key": str(uuid.UUID(int=base + i))})
    return per_account


def daytime_zone():
    now = datetime.datetime.now(datetime.timezone.utc)
    return next(z for z in ("America/New_York", "Europe/London", "Asia/Tokyo", "Pacific/Auckland",
                            "America/Los_Angeles", "Asia/Kolkata", "Pacific/Honolulu")
                if 9 <= now.astimezone(zoneinfo.ZoneInfo(z)).hour < 19)


def seed(ha, db, url):
    """ACCOUNTS accounts with a weekly plan that never breaks (so that the
    evaluator, judging at now while payments arrive, cannot change where later
    payments go), and DEBTORS customers with a number in a daytime zone whose
    first installment was missed: the scheduler queues their reminders and the
    dispatcher rings kept-telsim. Answers the account ids by index, and the keys."""
    it.migrate(url)
    ha.primary().psql("UPDATE kept.policies SET breaks_after_misses = 52", db=db)
    admin_key, agent_key = it.create_key(url, "admin"), it.create_key(url, "agent")
    finance_key = it.create_key(url, "finance")  # money is finance's: the load posts with it
    k = it.Keptd(url)
    try:
        agent, admin = k.client(agent_key), k.client(admin_key)
        ids = []
        for n in range(ACCOUNTS):
            c = agent.post("/v1/customers", {"external_ref": f"HC-{n}", "name": f"Failover {n}",
                                             "time_zone": "Europe/London", "jurisdiction": "GB"}).json()
            a = agent.post("/v1/accounts", {"customer_id": c["id"], "external_ref": f"HA-{n}", "creditor": "Acme",
                                            "original_balance_cents": 2_000_000, "currency": "GBP",
                                            "placed_on": (first_due() - datetime.timedelta(days=30)).isoformat()}).json()
            p = admin.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 20000,
                                                             "first_due_date": first_due().isoformat(),
                                                             "imported": True})
            assert p.status == 201, p
            ids.append(a["id"])
        zone = daytime_zone()
        today = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()
        for n in range(DEBTORS):
            c = agent.post("/v1/customers", {"external_ref": f"HR-{n}", "name": f"Reminded {n}", "time_zone": zone,
                                             "jurisdiction": "US-NY",
                                             "phones": [{"number": f"+1555020{n:04d}", "consent_automated": True}]})
            assert c.status == 201, c
            a = agent.post("/v1/accounts", {"customer_id": c.json()["id"], "external_ref": f"HRA-{n}",
                                            "creditor": "Acme", "original_balance_cents": 100000, "currency": "USD",
                                            "placed_on": (today - datetime.timedelta(days=30)).isoformat()})
            p = admin.post(f"/v1/accounts/{a.json()['id']}/plans",
                           {"weekly_amount_cents": 10000, "imported": True,
                            "first_due_date": (today - datetime.timedelta(days=6)).isoformat()})
            assert p.status == 201, p
        agent.close()
        admin.close()
    finally:
        k.assert_clean_exit()
    return ids, admin_key, finance_key


class Load:
    """CLIENTS threads sending every payment of the workload, each retried with
    the same key and body until keptd answers 201 (or 200, a replay). Every
    answer is recorded with its time; anything but 201, 200 or 503 with
    Retry-After is a failure."""

    def __init__(self, port, key, ids, per_account):
        self.port, self.key, self.ids, self.per_account = port, key, ids, per_account
        self.stop = threading.Event()  # set: each client finishes the payment in hand and stops
        self.answers, self.failures, self.created = [], [], []
        self.sent = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(range(w, ACCOUNTS, CLIENTS),))
                        for w in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _client(self, accounts):
        c = it.Client(self.port, self.key)
        for n in accounts:
            for p in self.per_account[n]:
                if self.stop.is_set():
                    break
                body = {k: v for k, v in p.items() if k != "key"} | {"account_id": self.ids[n]}
                while True:
                    try:
                        r = c.post("/v1/payments", body, headers={"Idempotency-Key": p["key"]})
                    except OSError as e:  # keptd itself never goes away here
                        with self.lock:
                            self.failures.append(repr(e))
                        c.close()
                        time.sleep(0.05)
                        continue
                    with self.lock:
                        self.answers.append((time.time(), r.status))
                        if r.status == 201:
                            self.created.append(p["source_ref"])
                        elif r.status not in (200, 503) or (r.status == 503 and not r.headers.get("retry-after")):
                            self.failures.append(repr(r))
                    if r.status in (200, 201):
                        break
                    time.sleep(0.05)
                with self.lock:
                    self.sent += 1
        c.close()

    def wait_sent(self, n, timeout=120):
        wait_for(f"{n} payments answered", lambda: self.sent >= n, timeout=timeout, interval=0.02)

    def join(self, timeout=300):
        for t in self.threads:
            t.join(timeout=timeout)
            assert not t.is_alive(), "a client hung"

    def outage(self, since):
        """(the longest time without a 201 from `since` on, the 503s answered after it)."""
        with self.lock:
            after = [(t, s) for t, s in self.answers if t >= since]
        ok = [since] + [t for t, s in after if s == 201]
        gap = max((b - a for a, b in zip(ok, ok[1:])), default=None)
        return gap, sum(1 for _, s in after if s == 503)


def state(ha, db):
    node = ha.primary()
    balances = node.psql("SELECT external_ref, balance_cents, status FROM kept.accounts "
                         "WHERE external_ref LIKE 'HA-%' ORDER BY 1", db=db)
    outcomes = node.psql("""SELECT a.external_ref, i.seq, i.amount_paid_cents, i.paid_by_due_cents,
                                   i.paid_by_grace_cents, i.outcome
                            FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
                            JOIN kept.accounts a ON a.id = p.account_id WHERE a.external_ref LIKE 'HA-%'
                            ORDER BY 1, 2""", db=db)
    payments = node.psql("SELECT count(*), count(DISTINCT source_ref), sum(amount_cents) FROM kept.payments "
                         "WHERE source_ref LIKE 'ha-%'", db=db)
    return balances, outcomes, payments


def serve(ha, url, telsim, admin_key, **extra):
    """keptd with every worker on, reports through the standby, ringing kept-telsim."""
    port = it.free_port()
    env = it.telephony_env(telsim, port, KEPT_WORKERS="all", KEPT_EVALUATE_INTERVAL="1",
                           KEPT_ANALYTICS_INTERVAL="1", KEPT_REMINDER_INTERVAL="1", KEPT_RETRY_AFTER="1",
                           KEPT_THREADS="8", KEPT_REPORTS_DATABASE_URL=url.replace("read-write", "prefer-standby"))
    env.update(extra)
    return it.Keptd(url, **env)


def evaluate(url):
    done = it.keptd_cmd(url, "evaluate")
    assert done.returncode == 0, done.stderr


def wait_loaded(ha, db, timeout=60):
    """Until the loader has applied every outbox event (there are no writers left)."""
    def caught_up():
        node = ha.primary()
        events = node.psql("SELECT count(*) FROM kept.outbox_events", db=db)[0][0]
        loaded = node.psql("SELECT events_loaded FROM analytics.loader_state", db=db)[0][0]
        return events == loaded and int(events) > 0
    wait_for("the loader to catch up", caught_up, timeout=timeout, interval=0.3)


def calls_once(ha, db, telsim):
    """No reminder call was created at kept-telsim twice (kept's call id is in
    each create's Url); answers how many were created."""
    creates = [r for r in telsim.requests() if r["method"] == "POST" and r["path"].endswith("/Calls.json")]
    ids = [urllib.parse.parse_qs(r["body"])["Url"][0].rsplit("/", 1)[-1] for r in creates]
    assert len(ids) == len(set(ids)), "a reminder call was created twice"
    placed = ha.primary().psql("SELECT count(*) FROM kept.calls WHERE provider_sid IS NOT NULL", db=db)[0][0]
    assert int(placed) <= len(ids)
    return len(ids)


def record(lines):
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def test_failover_and_switchover_under_load(ha):
    telsim = it.Telsim()
    per_account = workload()
    try:
        # the clean run: the same workload and workers, no fault
        clean_url = ha.new_database("kept_ha_clean")
        ids, admin_key, finance_key = seed(ha, "kept_ha_clean", clean_url)
        k = serve(ha, clean_url, telsim, admin_key)
        load = Load(k.port, finance_key, ids, per_account).start()
        load.join()
        assert load.failures == [], load.failures[:5]
        evaluate(clean_url)
        wait_loaded(ha, "kept_ha_clean")
        k.assert_clean_exit()
        clean = state(ha, "kept_ha_clean")
        telsim.control.post("/_telsim/reset", {})

        # the run with a failover a third of the way through
        url = ha.new_database("kept_ha")
        ids, admin_key, finance_key = seed(ha, "kept_ha", url)
        k = serve(ha, url, telsim, admin_key)
        old = ha.primary()
        ha.wait_synchronous()
        load = Load(k.port, finance_key, ids, per_account).start()
        load.wait_sent(ACCOUNTS * PER_ACCOUNT // 3)
        killed_at = time.time()
        old.kill_postmaster()
        new = wait_for("Patroni to promote the standby", lambda: (p := ha.primary()) is not None and p is not old and p,
                       timeout=60)
        promoted = time.time() - killed_at
        load.join()
        down, refused = load.outage(killed_at)
        assert load.failures == [], load.failures[:5]
        assert refused > 0 and down is not None, "the failover was not seen by the clients"
        assert k.proc.poll() is None, "keptd exited"

        # every payment answered 201 exists exactly once; the rest of the state equals the clean run's
        node = ha.primary()
        created = set(load.created)
        rows = node.psql("SELECT source_ref, count(*) FROM kept.payments WHERE source_ref LIKE 'ha-%' GROUP BY 1",
                         db="kept_ha")
        counts = {ref: int(n) for ref, n in rows}
        lost = [ref for ref in created if ref not in counts]
        doubled = [ref for ref, n in counts.items() if n > 1]
        assert lost == [] and doubled == [], (lost[:5], doubled[:5])
        evaluate(url)
        wait_loaded(ha, "kept_ha")
        assert state(ha, "kept_ha") == clean
        facts = node.psql("SELECT count(*), count(DISTINCT payment_id) FROM analytics.fact_payment", db="kept_ha")
        assert facts[0][0] == facts[0][1] == clean[2][0][0], facts
        rung = calls_once(ha, "kept_ha", telsim)

        # the old primary comes back as the synchronous standby of the new one
        leader, sync = ha.wait_synchronous()
        assert (leader, sync) == (new.name, old.name)
        rejoined = time.time() - killed_at
        rewound = "pg_rewind" in (old.dir / "patroni.log").read_text(errors="replace")
        finance = it.create_key(url, "finance")
        r = k.client(finance).get("/v1/reports/weekly-adherence?from=2026-01-05&to=2027-01-04")
        assert r.status == 200, r

        # a planned switchover back under the same kind of load, which goes on until
        # keptd has answered on the new primary for a while: nothing refused but with 503s
        more = {n: [p | {"source_ref": "sw-" + p["source_ref"], "key": "sw-" + p["key"]} for p in ps]
                for n, ps in per_account.items()}
        load2 = Load(k.port, finance_key, ids, more).start()
        load2.wait_sent(ACCOUNTS * 4)
        switch_at = time.time()
        done = ha.patronictl("switchover", "--force", "--candidate", old.name)
        assert done.returncode == 0, done.stdout + done.stderr
        wait_for("the switchover", lambda: ha.primary() is old, timeout=60)
        switched = time.time()
        wait_for("payments on the new primary", lambda: sum(1 for t, s in load2.answers if s == 201 and t > switched)
                 >= 50, timeout=60, interval=0.05)
        load2.stop.set()
        load2.join()
        down2, refused2 = load2.outage(switch_at)
        assert load2.failures == [], load2.failures[:5]
        assert load2.sent < ACCOUNTS * PER_ACCOUNT, "the load ended before the switchover"
        rows = ha.primary().psql("SELECT count(*), count(DISTINCT source_ref) FROM kept.payments "
                                 "WHERE source_ref LIKE 'sw-%'", db="kept_ha")
        # each payment a client finished (201, or 200 for a replay) exists exactly once
        assert rows == [[str(load2.sent), str(load2.sent)]], (rows, load2.sent)
        ha.wait_synchronous()
        assert k.proc.poll() is None
        k.assert_clean_exit()
        record([
            f"ha-test {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}: "
            f"{ACCOUNTS * PER_ACCOUNT} payments from {CLIENTS} retrying clients, every worker on",
            f"  failover (SIGKILL of the primary's postmaster): promoted after {promoted:.1f} s, "
            f"no 201 for {down:.1f} s, {refused} requests answered 503, payments lost 0, doubled 0, "
            f"old primary rejoined as sync standby after {rejoined:.1f} s (pg_rewind {'ran' if rewound else 'not needed'})",
            f"  switchover (patronictl): no 201 for {down2 or 0:.1f} s, {refused2} requests answered 503, "
            f"payments lost 0; reminder calls placed {rung}, none twice",
        ])
    finally:
        telsim.stop()
