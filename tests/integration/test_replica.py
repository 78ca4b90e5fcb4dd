"""Reports from a hot standby: KEPT_REPORTS_DATABASE_URL names a streaming
replica (set up here on local sockets with pg_basebackup); reports are served
from it while the primary takes writes. (API keys are still checked on the
primary, so reports need it up.)"""
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from conftest import CLUSTER, Keptd, create_key, keptd_cmd, migrate, new_account, new_customer, unique


def test_reports_are_served_from_the_standby(tmp_path):
    base = Path(tempfile.mkdtemp(prefix="kept-rep."))
    base.chmod(0o711)
    primary, standby = base / "primary", base / "standby"
    run = lambda *a: subprocess.run([str(CLUSTER), *map(str, a)], check=True, capture_output=True, text=True)
    try:
        run("init", primary)
        url = run("url", primary).stdout.strip()
        migrate(url)
        run("standby", primary, standby)
        standby_url = run("url", standby).stdout.strip()
        assert run("psql", standby, "-d", "kept", "-qAt", "-c", "SELECT pg_is_in_recovery()").stdout.strip() == "t"
        admin, finance, agent_key = (create_key(url, r) for r in ("admin", "finance", "agent"))
        k = Keptd(url, KEPT_REPORTS_DATABASE_URL=standby_url, KEPT_WORKERS="loader", KEPT_ANALYTICS_INTERVAL="1")
        try:
            agent, fin = k.client(agent_key), k.client(finance)
            c = new_customer(agent)
            a = new_account(agent, c["id"], currency="USD")
            plan = k.client(admin).post(f"/v1/accounts/{a['id']}/plans",
                                        {"weekly_amount_cents": 2000, "first_due_date": "2026-01-05", "imported": True})
            assert plan.status == 201, plan
            # the primary takes writes while finance reads from the standby
            stop, errors = threading.Event(), []

            def write():
                w = k.client(finance)
                while not stop.is_set():
                    r = w.post("/v1/payments", {"account_id": a["id"], "amount_cents": 1, "received_at": "2026-01-06T12:00:00Z",
                                                "source": "card", "source_ref": unique("rep")},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
                    if r.status != 201:
                        errors.append(r)
                w.close()

            t = threading.Thread(target=write)
            t.start()
            deadline, rows = time.time() + 30, []
            while time.time() < deadline and not rows:
                r = fin.get("/v1/reports/origin?from=2025-12-29&to=2027-01-04")
                assert r.status == 200, r
                rows = r.json()["rows"]
                time.sleep(0.2)
            sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'keptd reports'"
            commits = "SELECT xact_commit FROM pg_stat_database WHERE datname = 'kept'"
            stat = lambda d, q: int(run("psql", d, "-d", "kept", "-qAt", "-c", "SELECT pg_stat_clear_snapshot()", "-c", q).stdout.split()[-1])
            before = stat(standby, commits)
            reads = [fin.get("/v1/reports/weekly-adherence?from=2025-12-29&to=2027-01-04").status for _ in range(20)]
            stop.set()
            t.join()
            assert rows and rows[0]["origin"] == "agent_set" and reads == [200] * 20 and errors == []
            # the twenty reports ran on the standby (its own transaction counter moved)
            time.sleep(1)  # statistics are flushed at most once a second
            assert stat(standby, commits) - before >= 20
            assert stat(primary, sessions) == 0
            for client in (agent, fin):
                client.close()
        finally:
            k.stop()
        assert keptd_cmd(url, "analytics").returncode == 0
        checked = keptd_cmd(url, "analytics", "--verify")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        for d in (standby, primary):
            subprocess.run([str(CLUSTER), "stop", str(d)], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
