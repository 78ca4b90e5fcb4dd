"""keptd's life: configuration, migrations, readiness, database outages, SIGTERM."""
import concurrent.futures
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import CLUSTER, MIGRATIONS, Cluster, Keptd, command, create_key, keptd_cmd, keptd_env, migrate, new_customer


@pytest.fixture
def scratch():
    """A cluster of its own, for tests that break things."""
    c = Cluster()
    yield c
    c.destroy()


def test_bad_configuration_lists_every_problem_and_exits_2():
    env = keptd_env("", KEPT_LISTEN="nowhere", KEPT_THREADS="-3", KEPT_LOG_LEVEL="chatty",
                    KEPT_CONNECTION_TIMEOUT="forever")
    del env["KEPT_DATABASE_URL"]
    done = subprocess.run(command("keptd", "serve"), env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    for name in ("KEPT_DATABASE_URL", "KEPT_LISTEN", "KEPT_THREADS", "KEPT_LOG_LEVEL", "KEPT_CONNECTION_TIMEOUT"):
        assert name in done.stderr, name
    assert "5 configuration problems" in done.stderr



def test_the_documented_settings_of_other_kept_programs_are_not_called_misspelt(cluster):
    """One shell for all of kept: the client's, kept-telsim's and make demo's settings
    (README) are not keptd's typos; a real typo still is."""
    done = keptd_cmd(cluster.url, "migrate", KEPT_TIMEOUT="30", KEPT_TELSIM_LIFE="off", KEPT_TELSIM_RECORD="off",
                     KEPT_DEMO_CUSTOMERS="36", KEPT_DEMO_SEED="7", KEPT_TELSIM_LISTN="127.0.0.1:1")
    assert done.returncode == 0, done.stderr
    unknown = [l for l in done.stderr.splitlines() if "event=config_unknown" in l]
    assert len(unknown) == 1 and "name=KEPT_TELSIM_LISTN" in unknown[0], unknown

def test_secrets_are_redacted_in_the_logged_configuration(cluster):
    sock = cluster.url.split("host=")[1].split("&")[0]
    url = f"postgresql://kept:Sup3r-S3cret@/kept?host={sock}&port=5432"
    k = Keptd(url)
    try:
        assert k.client().get("/readyz").status == 200  # trust auth: the password is not needed
        log = k.log()
        assert "Sup3r-S3cret" not in log
        assert "postgresql://kept:****@/kept" in log
    finally:
        k.assert_clean_exit()


def test_migrate_twice_and_from_two_hosts_at_once(scratch):
    procs = [subprocess.Popen(command("keptd", "migrate"), env=keptd_env(scratch.url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    assert sum(f"{MIGRATIONS} applied" in out for _, out, _ in results) == 1
    rows = scratch.psql("SELECT name, count(*) FROM kept.schema_migrations GROUP BY name HAVING count(*) > 1")
    assert rows == []
    again = migrate(scratch.url)
    assert "0 applied" in again.stdout


def test_a_changed_migration_is_refused(scratch):
    migrate(scratch.url)
    scratch.psql("UPDATE kept.schema_migrations SET checksum = repeat('0', 64) WHERE name = '0001_foundation.sql'")
    done = keptd_cmd(scratch.url, "migrate")
    assert done.returncode == 1 and "was changed after it was applied" in done.stderr


def test_a_database_newer_than_keptd_is_refused(scratch):
    migrate(scratch.url)
    scratch.psql("INSERT INTO kept.schema_migrations (name, checksum) VALUES ('9999_from_the_future.sql', 'x')")
    done = keptd_cmd(scratch.url, "migrate")
    assert done.returncode == 1 and "9999_from_the_future.sql" in done.stderr


def test_readiness_follows_the_schema(scratch):
    k = Keptd(scratch.url)
    try:
        c = k.client()
        r = c.get("/readyz")
        assert r.status == 503 and r.error["code"] == "schema_not_current"
        assert c.get("/healthz").status == 200
        migrate(scratch.url)
        assert c.get("/readyz").status == 200
        scratch.psql("UPDATE kept.schema_state SET bundle = 'another version'")
        assert c.get("/readyz").error["code"] == "schema_not_current"
    finally:
        k.assert_clean_exit()


def test_database_outage_gives_503_then_recovers_by_itself(scratch):
    migrate(scratch.url)
    key = create_key(scratch.url, "agent")
    k = Keptd(scratch.url, KEPT_RETRY_AFTER="1")
    try:
        c = k.client(key)
        assert c.get("/v1/accounts").status == 200
        scratch.stop()
        for _ in range(3):
            r = c.get("/v1/accounts")
            assert r.status == 503 and r.error["code"] == "database_unavailable"
            assert r.headers["retry-after"] == "1"
        assert c.get("/readyz").status == 503
        assert c.get("/healthz").status == 200  # alive, so nobody restarts it
        scratch.start()
        back = time.time()
        while c.get("/v1/accounts").status != 200:
            assert time.time() - back < 5, "keptd did not recover within 5 s"
            time.sleep(0.05)
        assert k.proc.poll() is None
        assert "event=db_down" in k.log() and "event=db_up" in k.log()
    finally:
        k.assert_clean_exit()


def test_sigterm_finishes_requests_in_flight(cluster, admin_key, request):
    k = Keptd(cluster.url)
    request.addfinalizer(lambda: k.proc.poll() is not None or k.proc.kill())  # a failure leaves no keptd behind
    api = k.client(admin_key)
    customer = new_customer(api)
    # Hold the customer's row so the update below waits inside keptd.
    locker = subprocess.Popen([str(CLUSTER), "psql", cluster.dir, "-d", "kept", "-q"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    request.addfinalizer(lambda: locker.poll() is not None or locker.kill())
    locker.stdin.write(f"BEGIN; SELECT 1 FROM kept.customers WHERE id = {customer['id']} FOR UPDATE;\n")
    locker.stdin.flush()
    result = {}
    deadline = time.time() + 30
    while cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                       "AND query LIKE '%FOR UPDATE%'")[0][0] == "0":
        assert time.time() < deadline, "the locker never held the row"
        time.sleep(0.05)

    def waiting_for_the_lock():
        """keptd's update is in flight: its session waits for the locker's row lock."""
        rows = cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE '%customer_update%'")
        return rows[0][0] != "0"

    def update():
        c = k.client(admin_key)
        result["r"] = c.patch(f"/v1/customers/{customer['id']}", {"name": "Finished During Shutdown"})

    t = threading.Thread(target=update)
    t.start()
    deadline = time.time() + 30
    while not waiting_for_the_lock():
        assert time.time() < deadline and t.is_alive(), "the update never waited for the lock"
        time.sleep(0.05)
    k.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert k.proc.poll() is None, "keptd quit with a request in flight"
    locker.stdin.write("COMMIT;\n")
    locker.stdin.close()
    locker.wait(timeout=30)
    t.join(timeout=30)
    assert result["r"].status == 200 and result["r"].json()["name"] == "Finished During Shutdown"
    assert k.proc.wait(timeout=30) == 0
    assert "event=stopped" in k.log() and "all requests finished" in k.log()


def test_many_concurrent_requests(server, role_keys):
    def work(i):
        c = server.client(role_keys["agent"])
        try:
            customer = new_customer(c)
            return c.get(f"/v1/customers/{customer['id']}").status
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert list(pool.map(work, range(64))) == [200] * 64


def test_database_connections_are_opened_at_start_and_stay_fixed(scratch):
    """One connection per HTTP thread, all opened before the first request:
    a burst of clients on new connections does not change their number."""
    migrate(scratch.url)
    key = create_key(scratch.url, "agent")
    count = lambda: int(scratch.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'kept' "
                                     "AND backend_type = 'client backend'", db="postgres")[0][0])
    k = Keptd(scratch.url, KEPT_THREADS="6")
    try:
        assert count() == 6

        def work(i):
            c = k.client(key)
            try:
                return new_customer(c)["id"] > 0
            finally:
                c.close()

        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            assert all(pool.map(work, range(96)))
        assert count() == 6
    finally:
        k.assert_clean_exit()
    assert count() == 0
