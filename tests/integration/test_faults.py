"""Faults: keptd killed with SIGKILL in the middle of 10,000 payments sent by a
client that retries with the same Idempotency-Keys; every payment is recorded
exactly once, and every balance and installment outcome equals a clean run's."""
import datetime
import signal
import threading
import time
import uuid

import pytest

from conftest import Keptd, create_key, free_port, keptd_cmd, migrate

PAYMENTS = 10000
ACCOUNTS = 40
WORKERS = 8
AS_OF = "2026-03-01T00:00:00Z"


def workload():
    """The same payments for both runs: per account, in order."""
    rng_keys = uuid.UUID("00000000-0000-4000-8000-000000000000").int
    per_account = {n: [] for n in range(ACCOUNTS)}
    for i in range(PAYMENTS):
        n = i % ACCOUNTS
        day = datetime.datetime(2026, 1, 5, 12, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=3 * (i // ACCOUNTS))
        per_account[n].append({"amount_cents": 100 + (i * 37) % 900, "received_at": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "source": "card", "source_ref": f"fault-{i}", "key": str(uuid.UUID(int=rng_keys + i))})
    return per_account


def seed(client, admin):
    """ACCOUNTS customers with a weekly plan from 2026-01-05; answers account ids by index."""
    ids = []
    for n in range(ACCOUNTS):
        c = client.post("/v1/customers", {"external_ref": f"FC-{n}", "name": f"Fault {n}", "time_zone": "Europe/London",
                                          "jurisdiction": "GB"}).json()
        a = client.post("/v1/accounts", {"customer_id": c["id"], "external_ref": f"FA-{n}", "creditor": "Acme",
                                         "original_balance_cents": 2_000_000, "currency": "GBP",
                                         "placed_on": "2025-12-01"}).json()
        p = admin.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 20000, "first_due_date": "2026-01-05",
                                                         "imported": True})
        assert p.status == 201, p
        ids.append(a["id"])
    return ids


def send_all(port, key, ids, per_account, on_progress=None):
    """Sends every payment, retrying each (same key, same body) until keptd answers 201."""
    from conftest import Client
    done = [0]
    lock = threading.Lock()

    def worker(accounts):
        c = Client(port, key)
        for n in accounts:
            for p in per_account[n]:
                body = {k: v for k, v in p.items() if k != "key"} | {"account_id": ids[n]}
                while True:
                    try:
                        r = c.post("/v1/payments", body, headers={"Idempotency-Key": p["key"]})
                        if r.status in (200, 201):  # 200: the same key again, answered as before
                            break
                        assert r.status == 503, r
                    except OSError:
                        c.close()
                    time.sleep(0.05)
                with lock:
                    done[0] += 1
                    if on_progress:
                        on_progress(done[0])
        c.close()

    threads = [threading.Thread(target=worker, args=(range(w, ACCOUNTS, WORKERS),)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0]


def state(cluster, db):
    balances = cluster.psql("SELECT external_ref, balance_cents FROM kept.accounts WHERE external_ref LIKE 'FA-%' ORDER BY 1", db=db)
    outcomes = cluster.psql("""SELECT a.external_ref, i.seq, i.amount_paid_cents, i.paid_by_due_cents, i.outcome
                               FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
                               JOIN kept.accounts a ON a.id = p.account_id WHERE a.external_ref LIKE 'FA-%'
                               ORDER BY 1, 2""", db=db)
    payments = cluster.psql("SELECT count(*), count(DISTINCT source_ref), sum(amount_cents) FROM kept.payments "
                            "WHERE source_ref LIKE 'fault-%'", db=db)
    return balances, outcomes, payments


def run(cluster, url, kill):
    migrate(url)
    admin_key, agent_key = create_key(url, "admin"), create_key(url, "agent")
    finance_key = create_key(url, "finance")
    port = free_port()
    k = Keptd(url, KEPT_LISTEN=f"127.0.0.1:{port}")
    ids = seed(k.client(agent_key), k.client(admin_key))
    per_account = workload()
    restarted = []

    def maybe_kill(n):
        if kill and n == PAYMENTS // 3 and not restarted:
            restarted.append(True)
            k.proc.send_signal(signal.SIGKILL)  # no drain, no goodbye
            k.proc.wait()
            threading.Thread(target=lambda: restarted.append(Keptd(url, KEPT_LISTEN=f"127.0.0.1:{port}"))).start()

    sent = send_all(port, finance_key, ids, per_account, maybe_kill)
    assert sent == PAYMENTS
    ev = keptd_cmd(url, "evaluate", "--as-of", AS_OF)
    assert ev.returncode == 0, ev.stderr
    if kill:
        assert k.proc.returncode == -signal.SIGKILL and isinstance(restarted[-1], Keptd)
        restarted[-1].assert_clean_exit()
    else:
        k.assert_clean_exit()


def test_a_killed_keptd_loses_nothing_and_posts_nothing_twice(cluster):
    killed_url = cluster.new_database("kept_fault_killed")
    clean_url = cluster.new_database("kept_fault_clean")
    run(cluster, killed_url, kill=True)
    run(cluster, clean_url, kill=False)
    killed, clean = state(cluster, "kept_fault_killed"), state(cluster, "kept_fault_clean")
    expected_total = sum(p["amount_cents"] for ps in workload().values() for p in ps)
    assert killed[2] == [[str(PAYMENTS), str(PAYMENTS), str(expected_total)]]
    assert killed == clean


def test_postgres_restarted_under_load_with_workers_on(tmp_path):
    """PostgreSQL stops and starts again while clients post payments and every
    worker runs: keptd answers 201 or 503 with Retry-After (never anything
    else, never a hang), serves again within 5 s of the database coming back,
    and its workers carry on (the analytics loader catches up)."""
    from conftest import Client, Cluster, new_account, new_customer, unique
    c = Cluster()
    try:
        migrate(c.url)
        agent_key, finance_key = create_key(c.url, "agent"), create_key(c.url, "finance")
        k = Keptd(c.url, KEPT_WORKERS="all", KEPT_ANALYTICS_INTERVAL="1", KEPT_EVALUATE_INTERVAL="1",
                  KEPT_RETRY_AFTER="1")
        try:
            agent = k.client(agent_key)
            accounts = [new_account(agent, new_customer(agent)["id"])["id"] for _ in range(4)]
            stop, statuses, lock = threading.Event(), [], threading.Lock()

            def load(account):
                w = Client(k.port, finance_key)
                while not stop.is_set():
                    try:
                        r = w.post("/v1/payments", {"account_id": account, "amount_cents": 1,
                                                    "received_at": "2026-01-06T12:00:00Z", "source": "card",
                                                    "source_ref": unique("pg")},
                                   headers={"Idempotency-Key": str(uuid.uuid4())})
                        with lock:
                            statuses.append(r.status)
                        if r.status == 503:
                            assert r.headers.get("retry-after") == "1"
                    except OSError:
                        w.close()
                w.close()

            threads = [threading.Thread(target=load, args=(a,)) for a in accounts]
            for t in threads:
                t.start()
            time.sleep(1.5)
            c.stop()
            time.sleep(2)
            c.start()
            back = time.time()
            while True:
                with lock:
                    recent = statuses[-5:]
                if len(recent) == 5 and all(s == 201 for s in recent):
                    break
                assert time.time() - back < 5, f"keptd did not recover within 5 s: {recent}"
                time.sleep(0.05)
            time.sleep(1)
            stop.set()
            for t in threads:
                t.join(timeout=30)
                assert not t.is_alive(), "a client hung"
            assert set(statuses) <= {201, 503} and 503 in statuses and statuses.count(201) > 10
            # the workers carried on: the loader catches up with every payment posted
            posted = int(c.psql("SELECT count(*) FROM kept.outbox_events")[0][0])
            deadline = time.time() + 20
            while time.time() < deadline:
                loaded = int(c.psql("SELECT events_loaded FROM analytics.loader_state")[0][0])
                if loaded >= posted:
                    break
                time.sleep(0.2)
            assert loaded >= posted, (loaded, posted)
            assert k.proc.poll() is None
            agent.close()
        finally:
            k.assert_clean_exit()
    finally:
        c.destroy()


def test_two_instances_with_every_worker_do_each_job_once(cluster, telsim):
    """Two keptd with every worker on, one database, reminders due and plans to
    judge; one instance is stopped half-way. Each reminder is dialled once,
    each installment judged once, each outbox event loaded once."""
    from conftest import Client, telephony_env
    from helpers import Debtor
    db = "kept_two_instances"
    url = cluster.new_database(db)
    migrate(url)
    admin_key, agent_key = create_key(url, "admin"), create_key(url, "agent")
    ports = [free_port(), free_port()]
    common = dict(KEPT_WORKERS="all", KEPT_REMINDER_INTERVAL="1", KEPT_EVALUATE_INTERVAL="1",
                  KEPT_ANALYTICS_INTERVAL="1", KEPT_DIAL_BATCH="4")
    seeder = Keptd(url, KEPT_WORKERS="none")
    api, agent = seeder.client(admin_key), seeder.client(agent_key)
    # due now in a zone where it is daytime, so the workers (as_of = now) dial them
    now = datetime.datetime.now(datetime.timezone.utc)
    zone = next(z for z in ("America/New_York", "Europe/London", "Asia/Tokyo", "Pacific/Auckland", "America/Los_Angeles",
                            "Asia/Kolkata", "Pacific/Honolulu")
                if 9 <= now.astimezone(__import__("zoneinfo").ZoneInfo(z)).hour < 19)
    debtors = [Debtor(api, agent, tz=zone, jurisdiction="US-NY", days_back=6) for _ in range(16)]
    for d in debtors:
        telsim.post("/_telsim/callees", {d.number: {"behaviour": "no-answer"}})
    seeder.assert_clean_exit()
    a = Keptd(url, **telephony_env(telsim, ports[0], **common))
    b = Keptd(url, **telephony_env(telsim, ports[1], **common))
    try:
        time.sleep(2)
        a.stop()  # half-way: b carries on alone
        deadline = time.time() + 30
        while time.time() < deadline:
            # due calls (a debtor's second reminder is spaced to the next day, and is not due)
            pending = int(cluster.psql("SELECT count(*) FROM kept.calls WHERE state = 'dialing' "
                                       "OR (state = 'queued' AND scheduled_at <= now())", db=db)[0][0])
            events = int(cluster.psql("SELECT count(*) FROM kept.outbox_events", db=db)[0][0])
            loaded = int(cluster.psql("SELECT events_loaded FROM analytics.loader_state", db=db)[0][0])
            if pending == 0 and loaded == events:
                break
            time.sleep(0.3)
        for d in debtors:
            placed = int(cluster.psql(f"SELECT count(*) FROM kept.calls WHERE customer_id = {d.customer['id']} "
                                      f"AND number_digest = kept.pii_digest({d.customer['id']}, '{d.number}') "
                                      "AND provider_sid IS NOT NULL", db=db)[0][0])
            assert placed >= 1 and len(telsim.calls(to=d.number)) == placed, d.number
        twice = cluster.psql("""SELECT count(*) FROM (SELECT aggregate_id, payload->>'seq' FROM kept.outbox_events
                                WHERE event_type = 'installment_evaluated' GROUP BY 1, 2 HAVING count(*) > 1) x""", db=db)
        assert twice == [["0"]]
        judged = int(cluster.psql("SELECT count(*) FROM kept.installments WHERE outcome <> 'scheduled'", db=db)[0][0])
        assert judged >= len(debtors)  # every first installment was due six days ago
        assert loaded == events, (loaded, events)
        facts = cluster.psql("SELECT count(*), count(DISTINCT (plan_id, seq)) FROM analytics.fact_installment", db=db)
        assert facts[0][0] == facts[0][1] and int(facts[0][0]) > 0
    finally:
        assert a.proc.returncode == 0 or a.stop() == 0
        b.assert_clean_exit()
    assert keptd_cmd(url, "analytics").returncode == 0
    checked = keptd_cmd(url, "analytics", "--verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_provider_faults_during_a_reminder_run(phone_api, phone_agent, telsim):
    """429, 503, slow answers and dropped connections (before and after the
    call was made), duplicate and out-of-order callbacks, all in one run: every
    due reminder ends placed exactly once or failed after its bounded
    attempts, never placed twice."""
    from helpers import Debtor, calls_of, run_reminders
    debtors = [Debtor(phone_api, phone_agent) for _ in range(12)]
    for d in debtors:
        telsim.post("/_telsim/callees", {d.number: {"behaviour": "busy"}})
    faults = ["429", "503", "slow_created", "drop", "drop_created", "503_created", "429", "drop", "503"] * 3
    # slow answers (2 s) outlast kept's 1.5 s timeout, and hold the other
    # requests on that kept-telsim thread as a provider's queue would: three
    # in a row hold one 6 s, inside the 8 s settle time of telephony_env
    telsim.post("/_telsim/faults", {"create": faults, "slow_ms": 2000, "duplicate_callbacks": True,
                                    "reverse_callbacks": True})
    try:
        # the same local day for all of them: one pass dials them all
        result = run_reminders(phone_api, debtors[0].before_due(1))
        assert result["claimed"] >= len(debtors)
    finally:
        telsim.post("/_telsim/faults", {})
    for d in debtors:
        [call] = calls_of(phone_api, d)
        made = telsim.calls(to=d.number)
        assert len(made) <= 1, (d.number, made)
        if call["provider_sid"]:
            assert [m["sid"] for m in made] == [call["provider_sid"]]
        else:
            assert call["state"] in ("failed", "unknown") and made == [] and call["dial_attempts"] <= 3, call


@pytest.mark.timing
def test_keptd_asked_to_stop_leaves_a_long_backlog_to_the_next_instance(cluster):
    """SIGTERM while the loader is working through a long outbox backlog:
    keptd stops between two batches within seconds (it does not wait for
    the backlog), every loaded batch is complete, and the next keptd loads
    the rest exactly once."""
    from conftest import new_account, new_customer
    db = "kept_stopping"
    url = cluster.new_database(db)
    migrate(url)
    admin_key, agent_key = create_key(url, "admin"), create_key(url, "agent")
    seeder = Keptd(url)
    agent, admin = seeder.client(agent_key), seeder.client(admin_key)
    for _ in range(3):
        account = new_account(agent, new_customer(agent)["id"])["id"]
        assert admin.post(f"/v1/accounts/{account}/plans", {"weekly_amount_cents": 5000,
                                                            "first_due_date": "2026-01-05",
                                                            "imported": True}).status == 201
    seeder.assert_clean_exit()
    # a backlog: the plans' events again and again (the loader re-reads each touched plan's facts)
    cluster.psql("""INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
                    SELECT e.event_type, e.aggregate_type, e.aggregate_id, e.payload
                    FROM kept.outbox_events e, generate_series(1, 40000)""", db=db)
    events = int(cluster.psql("SELECT count(*) FROM kept.outbox_events", db=db)[0][0])
    loaded = lambda: int(cluster.psql("SELECT events_loaded FROM analytics.loader_state", db=db)[0][0])

    first = Keptd(url, KEPT_WORKERS="loader", KEPT_ANALYTICS_INTERVAL="1", KEPT_ANALYTICS_BATCH="20")
    deadline = time.time() + 30
    while loaded() < 2000:
        assert time.time() < deadline, first.log()
        time.sleep(0.05)
    asked = time.time()
    assert first.stop() == 0, first.log()
    took = time.time() - asked
    left = events - loaded()
    # at 20 events a batch the rest would take far longer than this
    assert took < 3 and left > events // 2, (took, left)

    second = Keptd(url, KEPT_WORKERS="loader", KEPT_ANALYTICS_INTERVAL="1", KEPT_ANALYTICS_BATCH="5000")
    try:
        deadline = time.time() + 60
        while loaded() < events:
            assert time.time() < deadline, (loaded(), events)
            time.sleep(0.2)
        assert loaded() == events
        facts = cluster.psql("SELECT count(*), count(DISTINCT (plan_id, seq)) FROM analytics.fact_installment", db=db)
        plans = cluster.psql("SELECT count(*) FROM analytics.fact_plan", db=db)
        assert facts[0][0] == facts[0][1] and int(facts[0][0]) > 0 and plans == [["3"]]
    finally:
        second.assert_clean_exit()
    checked = keptd_cmd(url, "analytics", "--verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
