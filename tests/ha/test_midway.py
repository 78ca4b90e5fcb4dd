"""A failover in the middle of each long piece of work: a payment file, an
evaluation batch, a loader batch, a reminder claim. Each ends done once or
not at all, never half, and the next run (on the new primary) finishes it.

Each test takes its own database on the session's Patroni cluster, fills it
with tests/bench's generator, starts the work, and SIGKILLs the primary's
postmaster once the work is seen running on it (pg_stat_activity, or its
first batch committed).
"""
import datetime
import subprocess
import time
import urllib.parse
from pathlib import Path

import it
from patroni_cluster import wait_for

BENCH = Path(__file__).resolve().parents[1] / "bench"
PLANS = 4000


def generated(ha, db, plans=PLANS):
    """A migrated database with `plans` active plans of ten weekly installments
    (tests/bench/generate.sql: accounts BA-0.., first due dates over the week
    starting 30 days ago); answers its URL."""
    url = ha.new_database(db)
    it.migrate(url)
    start = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    ha.primary().psql_file(BENCH / "generate.sql", db=db, plans=plans, start=start)
    return url


def one(ha, db, sql):
    return ha.primary().psql(sql, db=db)[0][0]


def running(ha, db, pattern):
    """True while a statement matching `pattern` runs on the primary."""
    return one(ha, db, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND state = 'active' "
                       f"AND query LIKE '{pattern}'") != "0"


def test_failover_in_the_middle_of_a_payment_file(ha):
    ha.wait_synchronous()
    db = "kept_ha_file"
    url = generated(ha, db)
    admin = it.create_key(url, "admin")
    lines = 40000
    received = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = "account_external_ref,amount_cents,received_at,source,source_ref\n" + "".join(
        f"BA-{n % PLANS},100,{received},ha-file,F-{n}\n" for n in range(lines))
    before = one(ha, db, "SELECT sum(balance_cents) FROM kept.accounts")
    k = it.Keptd(url, KEPT_RETRY_AFTER="1")
    try:
        c = k.client(admin)
        import threading
        answer = []
        t = threading.Thread(target=lambda: answer.append(
            c.post("/v1/imports/payments", body, content_type="text/csv")))
        t.start()
        wait_for("the file to be posting", lambda: running(ha, db, "%import_payments_write%"), timeout=60,
                 interval=0.02)
        ha.fail_over()
        t.join(timeout=120)
        [r] = answer
        assert r.status in (201, 503), r
        # all of it or none of it
        posted = int(one(ha, db, "SELECT count(*) FROM kept.payments WHERE source = 'ha-file'"))
        assert posted in (0, lines), posted
        after = one(ha, db, "SELECT sum(balance_cents) FROM kept.accounts")
        assert int(before) - int(after) == posted * 100
        # sent again: posted once in all
        r2 = wait_for("keptd to take the file again", lambda: (
            x := c.post("/v1/imports/payments", body, content_type="text/csv")).status != 503 and x, timeout=60)
        assert r2.status == 201, r2
        assert r2.json()["posted"] + r2.json()["duplicates"] == lines and r2.json()["posted"] == lines - posted
        assert one(ha, db, "SELECT count(*) FROM kept.payments WHERE source = 'ha-file'") == str(lines)
        assert one(ha, db, "SELECT sum(balance_cents) FROM kept.accounts") == str(int(before) - lines * 100)
        allocated = one(ha, db, "SELECT sum(a.amount_cents) FROM kept.allocations a JOIN kept.payments p "
                                "ON p.id = a.payment_id WHERE p.source = 'ha-file'")
        assert allocated == str(lines * 100)
        c.close()
    finally:
        k.assert_clean_exit()


def test_failover_in_the_middle_of_an_evaluation(ha):
    ha.wait_synchronous()
    db = "kept_ha_eval"
    url = generated(ha, db, plans=30000)
    # every first installment has matured (its grace too): six batches of 5,000
    as_of = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    due = int(one(ha, db, f"SELECT count(*) FROM kept.installments WHERE grace_end_at <= '{as_of}' "
                          "AND outcome = 'scheduled'"))
    assert due >= 30000
    judged = f"SELECT count(*) FROM kept.installments WHERE outcome NOT IN ('scheduled', 'waived')"
    events = "SELECT count(*), count(DISTINCT (aggregate_id, payload->>'seq')) FROM kept.outbox_events " \
             "WHERE event_type = 'installment_evaluated'"
    proc = subprocess.Popen(it.command("keptd", "evaluate", "--as-of", as_of), env=it.keptd_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for("a first batch", lambda: int(one(ha, db, judged)) > 0, timeout=60, interval=0.02)
    ha.fail_over()
    out, errs = proc.communicate(timeout=60)
    # every batch committed whole: each judged installment has its one event, and no more
    n, distinct = ha.primary().psql(events, db=db)[0]
    assert n == distinct == one(ha, db, judged), (n, distinct, out, errs)
    half = int(n)
    # the next run finishes the walk
    done = it.keptd_cmd(url, "evaluate", "--as-of", as_of)
    assert done.returncode == 0, done.stderr
    n, distinct = ha.primary().psql(events, db=db)[0]
    assert n == distinct == one(ha, db, judged) and int(n) >= due, (n, due)
    print(f"evaluation: {half} of {n} installments judged before the failover (exit {proc.returncode})")


def test_failover_in_the_middle_of_a_loader_batch(ha):
    ha.wait_synchronous()
    db = "kept_ha_loader"
    url = generated(ha, db)
    # a backlog: one event per plan, each loading its plan's ten installment facts (a plan_*
    # event loads the plan whole; installment_evaluated loads only the installment it names)
    ha.primary().psql("INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload) "
                      "SELECT 'plan_created', 'plan', id, '{}' FROM kept.plans", db=db)
    total = int(one(ha, db, "SELECT count(*) FROM kept.outbox_events"))
    loaded = lambda: int(one(ha, db, "SELECT events_loaded FROM analytics.loader_state"))
    proc = subprocess.Popen(it.command("keptd", "analytics"), env=it.keptd_env(url, KEPT_ANALYTICS_BATCH="200"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for("a first batch", lambda: loaded() > 0, timeout=60, interval=0.02)
    ha.fail_over()
    proc.communicate(timeout=60)
    half = loaded()
    facts = ha.primary().psql("SELECT count(*), count(DISTINCT plan_id) FROM analytics.fact_installment", db=db)[0]
    # what was applied is whole batches, each with its facts (ten per plan)
    assert half % 200 == 0 and int(facts[0]) == 10 * int(facts[1]) and int(facts[1]) >= half, (half, facts)
    done = it.keptd_cmd(url, "analytics")
    assert done.returncode == 0, done.stderr
    assert loaded() == total
    facts = ha.primary().psql("SELECT count(*), count(DISTINCT (plan_id, seq)) FROM analytics.fact_installment",
                              db=db)[0]
    assert facts == [str(10 * PLANS)] * 2
    print(f"loader: {half} of {total} events loaded before the failover")


def test_failover_in_the_middle_of_a_reminder_claim(ha):
    ha.wait_synchronous()
    db = "kept_ha_dial"
    url = generated(ha, db)
    zone = subprocess.run([str(it.ROOT / "service" / "scripts" / "daytime-zone.sh")], capture_output=True,
                          text=True, check=True).stdout.strip()
    ha.primary().psql_file(BENCH / "dial.sql", db=db, calls=PLANS, zone=zone)
    telsim = it.Telsim(KEPT_TELSIM_LIFE="off")
    port = it.free_port()
    k = it.Keptd(url, **it.telephony_env(telsim, port, KEPT_WORKERS="dispatcher", KEPT_REMINDER_INTERVAL="1",
                                         KEPT_DIAL_BATCH="64", KEPT_DIAL_CONCURRENCY="16"))
    try:
        dialing = "SELECT count(*) FROM kept.calls WHERE state <> 'queued'"
        wait_for("the first claims", lambda: int(one(ha, db, dialing)) > 0, timeout=60, interval=0.02)
        ha.fail_over()
        wait_for("the queue to drain", lambda: one(ha, db, "SELECT count(*) FROM kept.calls WHERE state = 'queued'")
                 == "0", timeout=120, interval=0.3)
        creates = [r for r in telsim.requests() if r["method"] == "POST" and r["path"].endswith("/Calls.json")]
        ids = [urllib.parse.parse_qs(r["body"])["Url"][0].rsplit("/", 1)[-1] for r in creates]
        assert len(ids) == len(set(ids)), "a call was created twice"
        states = dict(ha.primary().psql("SELECT state, count(*) FROM kept.calls GROUP BY 1", db=db))
        placed = set(x for [x] in ha.primary().psql("SELECT id FROM kept.calls WHERE provider_sid IS NOT NULL", db=db))
        # every call placed was created once; a claim whose result the failover lost is left
        # 'dialing' (it becomes 'unknown' later, never dialled again), never claimed again
        assert placed <= set(ids) and set(ids) <= placed | set(
            x for [x] in ha.primary().psql("SELECT id FROM kept.calls WHERE state = 'dialing'", db=db)), states
        assert sum(int(v) for v in states.values()) == PLANS
        print(f"reminders: {states}")
    finally:
        k.assert_clean_exit()
        telsim.stop()
