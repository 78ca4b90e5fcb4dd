"""The migrations that convert a table (0015/0016: the audit log partitioned
by month) run online on a populated database: a database left by the keptd
before them (its migrations and functions, taken from git) is filled with
plans, payments and a sealed audit chain; pgbench posts payments through
kept's own function the whole time `keptd migrate` runs; no payment fails,
none waits long, and afterwards every event is there, the chain verifies,
and the log is partitioned."""
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import io
from pathlib import Path

import pytest

from conftest import CLUSTER, ROOT, Cluster, keptd_cmd

FIRST_NEW = "schema/0015_audit_partition_bound.sql"
PLANS = 20000
AUDIT_EVENTS = 200000
WRITER = """\\set account random(:first, :last)
\\set n :n + 1
SELECT online.payment_post(:account::bigint, 'on-' || :client_id || '-' || :n);
"""
# The writers post through kept's own kept.payment_post as the database has it
# at that moment: the old tree's takes the actor as three arguments, today's as
# one kept.actor (schema/0032_actor.sql), and `keptd migrate` swaps one for the
# other when it reloads the functions. A call that meets the swap (the one it
# looked for is gone, or one it calls is) is rolled back and made again.
POST = """CREATE SCHEMA online;
CREATE FUNCTION online.payment_post(p_account bigint, p_ref text) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_body jsonb := jsonb_build_object('account_id', p_account, 'amount_cents', 1, 'source', 'online',
                                       'received_at', (now() - interval '1 day')::text, 'source_ref', p_ref);
    v_answer json;
BEGIN
    FOR attempt IN 1..3 LOOP
        BEGIN
            IF to_regprocedure('kept.payment_post(bigint, text, text, jsonb, text)') IS NOT NULL THEN
                EXECUTE $q$SELECT kept.payment_post(NULL, 'pgbench', 'migrate-online', $1, NULL)$q$
                    INTO v_answer USING v_body;
            ELSE
                EXECUTE $q$SELECT kept.payment_post(ROW(NULL, 'pgbench', 'migrate-online')::kept.actor, $1, NULL)$q$
                    INTO v_answer USING v_body;
            END IF;
            RETURN v_answer;
        EXCEPTION WHEN undefined_function THEN
            IF attempt = 3 THEN
                RAISE;
            END IF;
        END;
    END LOOP;
END $$;
"""


def old_tree(dest):
    """schema/, sql/functions/ and the bench's data generator as they were before FIRST_NEW was added."""
    added = subprocess.run(["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "-1", "--", FIRST_NEW],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert added, f"{FIRST_NEW} is not in git history"
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", f"{added}^", "schema", "sql/functions",
                          "tests/bench/generate.sql"],
                         capture_output=True, check=True).stdout
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(dest)
    return Path(dest)


def migrate_as_before(cluster, tree):
    """What `keptd migrate` of that commit did: each migration in its own
    transaction, recorded with its SHA-256; the time zones; the functions."""
    cluster.psql("""SET ROLE kept;
                    CREATE SCHEMA IF NOT EXISTS kept;
                    CREATE TABLE kept.schema_migrations (name text PRIMARY KEY, checksum text NOT NULL,
                                                         applied_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE kept.schema_state (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                                                    bundle text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""")
    for f in sorted((tree / "schema").glob("*.sql")):
        text = f.read_text()
        sql = f"SET ROLE kept;\nSET TIME ZONE 'UTC';\n{text}\nINSERT INTO kept.schema_migrations VALUES ('{f.name}', " \
              f"'{hashlib.sha256(text.encode()).hexdigest()}');"
        psql_file(cluster, sql)
    cluster.psql("INSERT INTO kept.time_zones (name) SELECT name FROM pg_timezone_names ON CONFLICT DO NOTHING")
    for f in sorted((tree / "sql" / "functions").glob("*.sql")):
        psql_file(cluster, "SET ROLE kept;\n" + f.read_text())


def psql_file(cluster, sql, single=True, **variables):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(sql)
    os.chmod(f.name, 0o644)
    args = [a for k, v in variables.items() for a in ("-v", f"{k}={v}")]
    try:
        subprocess.run([str(CLUSTER), "psql", cluster.dir, "-d", "kept", "-qAtX", *(["-1"] if single else []), "-v", "ON_ERROR_STOP=1",
                        *args, "-f", f.name], check=True, capture_output=True, text=True)
    finally:
        os.unlink(f.name)


@pytest.mark.timing
def test_the_audit_log_is_partitioned_online_under_writers(tmp_path):
    c = Cluster()
    try:
        migrate_as_before(c, old_tree(tmp_path / "before"))
        psql_file(c, POST)
        start = c.psql("SELECT current_date - 30")[0][0]
        tree = tmp_path / "before"
        psql_file(c, (tree / "tests" / "bench" / "generate.sql").read_text(), single=False, plans=PLANS, start=start)
        c.psql(f"""INSERT INTO kept.audit_events (actor, action, entity_type, entity_id, after)
                   SELECT 'seed', 'seed.event', 'plan', g, jsonb_build_object('n', g)
                   FROM generate_series(1, {AUDIT_EVENTS}) g""")
        c.psql(f"SELECT kept.audit_seal({AUDIT_EVENTS})")
        c.psql("ANALYZE")
        first, last = c.psql("SELECT min(id), max(id) FROM kept.accounts")[0]
        files = "SELECT pg_relation_filenode('kept.{0}'), pg_relation_filenode('kept.{0}_pkey'), " \
                "pg_relation_filenode('kept.{0}_entity_idx'), pg_relation_filenode('kept.{0}_unsealed_idx')"
        before = c.psql(files.format("audit_events"))
        sock = Path(c.dir, "socket_dir").read_text().strip()
        shared = Path(tempfile.mkdtemp(prefix="kept-online."))  # pgbench runs as postgres
        script = shared / "writer.sql"
        script.write_text(WRITER)
        logs = shared / "pgbench"
        logs.mkdir()
        for p in (shared, script, logs):
            os.chmod(p, 0o777 if p.is_dir() else 0o644)
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        writers = subprocess.Popen([*as_pg, "/usr/lib/postgresql/15/bin/pgbench", "-h", sock, "-p", "5432",
                                    "-U", "postgres", "-n", "-c", "4", "-j", "2", "-T", "12", "-D", f"first={first}",
                                    "-D", f"last={last}", "-D", "n=0", "-l", f"--log-prefix={logs}/w", "-f",
                                    str(script), "kept"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)  # writers going
        done = keptd_cmd(c.url, "migrate")
        assert done.returncode == 0, done.stderr
        out, _ = writers.communicate(timeout=60)
        assert writers.returncode == 0, out
        assert "number of failed transactions: 0" in out, out
        latencies = [int(line.split()[2]) for f in logs.iterdir() for line in f.read_text().splitlines()]
        posted = int(c.psql("SELECT count(*) FROM kept.payments WHERE source = 'online'")[0][0])
        assert posted == len(latencies) > 100
        worst = max(latencies) / 1e6
        # no writer waited long (a loaded machine alone can hold a payment a second);
        # that nothing was copied or rebuilt under a lock is checked exactly below
        assert worst < 5.0, f"a payment waited {worst:.2f} s"
        assert c.psql("SELECT relkind FROM pg_class WHERE oid = 'kept.audit_events'::regclass") == [["p"]]
        # the table and its indexes became the first partition as they were: nothing copied or rebuilt
        assert c.psql(files.format("audit_events_legacy")) == before
        assert c.psql("SELECT count(*) FROM kept.audit_events WHERE action = 'seed.event'") == [[str(AUDIT_EVENTS)]]
        assert c.psql("SELECT count(*) FROM kept.audit_events WHERE action = 'payment.posted'") == [[str(posted)]]
        c.psql("SELECT kept.audit_seal(1000000)")
        assert c.psql("SELECT ok FROM kept.audit_verify()") == [["t"]]
        assert int(c.psql("SELECT count(*) FROM kept.audit_partitions")[0][0]) >= 4
        print(f"migrated under {len(latencies)} payments from 4 writers; the slowest took {worst * 1000:.0f} ms")
    finally:
        c.destroy()
        if "shared" in locals():
            shutil.rmtree(shared, ignore_errors=True)
