"""`make run`'s script: a private cluster (or KEPT_DATABASE_URL), an admin key, Ctrl-C."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from conftest import BIN, DATA_KEY, MIGRATIONS, ROOT, unique

RUN = ROOT / "service" / "scripts" / "run.sh"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    def __init__(self, state, **env):
        self.port = free_port()
        full = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
        full.update(KEPT_STATE_DIR=state, KEPT_LISTEN=f"127.0.0.1:{self.port}", BUILD=os.path.relpath(BIN, ROOT),
                    PGCLUSTER_OPTS="-c fsync=off", KEPT_TELSIM_LISTEN=f"127.0.0.1:{free_port()}")
        full.update(env)
        self.out = tempfile.TemporaryFile()
        # its own process group, as a terminal would give it, so SIGINT reaches keptd too
        self.proc = subprocess.Popen([str(RUN)], env=full, stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.key = self._wait()

    def text(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def _wait(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            m = re.search(r"admin API key: (kept_\S+)", self.text())
            if m and "event=listening" in self.text():
                return m.group(1)
            assert self.proc.poll() is None, self.text()
            time.sleep(0.1)
        raise AssertionError(self.text())

    def request(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, data=body,
                                     headers={"Authorization": f"Bearer {self.key}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()

    def ctrl_c(self):
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=60)


def state_dir():
    """A folder the postgres user can reach (pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="kept-run.")
    os.chmod(d, 0o711)
    return d


def test_embedded_cluster_survives_restarts():
    base = state_dir()
    state = os.path.join(base, "state")
    first = Run(state)
    try:
        assert "created now" in first.text()
        ref = unique("RUN")
        status, _ = first.request("POST", "/v1/customers", ('{"external_ref":"%s","name":"Kept","time_zone":"UTC",'
                                                            '"jurisdiction":"GB"}' % ref).encode())
        assert status == 201
        # the demo plan's reminder went to kept-telsim
        deadline = time.time() + 30
        while "demo plan on account" not in first.text() and time.time() < deadline:
            time.sleep(0.1)
        account = re.search(r"demo plan on account (\d+)", first.text()).group(1)
        status, body = first.request("GET", f"/v1/calls?account_id={account}")
        assert status == 200 and '"purpose" : "pre_due"' in body.replace('":', '" :') and '"provider_sid" : "CA' in \
            body.replace('":', '" :'), body
        # where the self-service page lives, how to make a link, and the demo customer's own page
        assert f"self-service page: http://127.0.0.1:{first.port}/s/" in first.text()
        assert "kept link ACCOUNT" in first.text()
        while "self-service page (date of birth" not in first.text() and time.time() < deadline:
            time.sleep(0.1)
        page = re.search(r"self-service page \(date of birth [^)]*\): (http\S+)", first.text()).group(1)
        with urllib.request.urlopen(page, timeout=10) as r:
            assert r.status == 200 and "Demo Bank" not in r.read().decode()  # identity first
    finally:
        assert first.ctrl_c() == 0, first.text()
    assert "database stopped" in first.text()
    for secret in [p for p in os.listdir(state) if p.startswith("admin-key")] + ["data-key", "link-secret"]:
        assert oct(os.stat(os.path.join(state, secret)).st_mode)[-3:] == "600", secret
    # what it tells people to run reads the key from a file, never from the command line
    assert "curl -H @" in first.text() and f"Bearer {first.key}" not in first.text()
    secret = open(os.path.join(state, "link-secret")).read()
    assert len(secret) >= 32 and secret not in first.text()

    second = Run(state)
    try:
        assert second.key == first.key and "created now" not in second.text()
        status, body = second.request("GET", "/v1/accounts?limit=1")
        assert status == 200
        assert f"0 applied, {MIGRATIONS} already present" in second.text()
    finally:
        assert second.ctrl_c() == 0
    shutil.rmtree(base, ignore_errors=True)



def test_a_second_make_run_on_a_taken_port_leaves_the_first_one_running():
    """`make run` again while one is running (another terminal): the second keptd cannot
    take the port, and the second run leaves alone the database it did not start."""
    base = state_dir()
    state = os.path.join(base, "state")
    first = Run(state)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
        env.update(KEPT_STATE_DIR=state, KEPT_LISTEN=f"127.0.0.1:{first.port}", BUILD=os.path.relpath(BIN, ROOT),
                   KEPT_TELSIM_LISTEN=f"127.0.0.1:{free_port()}")
        second = subprocess.run([str(RUN)], env=env, capture_output=True, text=True, timeout=120,
                                start_new_session=True)
        out = second.stdout + second.stderr
        assert second.returncode != 0, out
        assert "is already running" in out and "Address already in use" in out and "database stopped" not in out, out
        assert first.request("GET", "/readyz")[0] == 200
    finally:
        assert first.ctrl_c() == 0, first.text()
    assert "database stopped" in first.text()
    shutil.rmtree(base, ignore_errors=True)

def test_make_run_stops_when_kept_telsim_cannot_take_its_address():
    """Something else listens on KEPT_TELSIM_LISTEN: make run says so and stops, rather than
    wiring keptd to whatever answers there."""
    base = state_dir()
    state = os.path.join(base, "state")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
        env.update(KEPT_STATE_DIR=state, KEPT_LISTEN=f"127.0.0.1:{free_port()}", BUILD=os.path.relpath(BIN, ROOT),
                   PGCLUSTER_OPTS="-c fsync=off", KEPT_TELSIM_LISTEN=f"127.0.0.1:{taken.getsockname()[1]}")
        done = subprocess.run([str(RUN)], env=env, capture_output=True, text=True, timeout=180,
                              start_new_session=True)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "kept-telsim could not start" in out and "database stopped" in out and "event=listening" not in out, out
    shutil.rmtree(base, ignore_errors=True)


def test_an_existing_database_is_used_when_given(cluster, tmp_path):
    run = Run(str(tmp_path / "state"), KEPT_DATABASE_URL=cluster.url, KEPT_DATA_KEY=DATA_KEY)
    try:
        assert run.request("GET", "/readyz")[0] == 200
        assert not (tmp_path / "state" / "pg").exists()
    finally:
        assert run.ctrl_c() == 0
    assert "database stopped" not in run.text()


def test_make_demo_through_the_product_with_every_worker(tmp_path):
    """`make demo` against `make run`: a year of history through the API alone, with every
    worker on; the demo's own check passes (each origin's kept rate as the generator meant
    it is what finance's report shows, and keptd analytics --verify is clean)."""
    base = state_dir()
    state = os.path.join(base, "state")
    run = Run(state, KEPT_ANALYTICS_INTERVAL="1")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
        env.update(KEPT_URL=f"http://127.0.0.1:{run.port}", KEPT_STATE_DIR=state, KEPT_DEMO_CUSTOMERS="36",
                   BUILD=os.path.relpath(BIN, ROOT))
        done = subprocess.run(["/usr/bin/python3", str(ROOT / "service" / "scripts" / "demo.py")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "keptd analytics --verify: clean" in done.stdout, done.stdout
        for origin in ("agent_set", "customer_proposed", "settlement"):
            assert origin in done.stdout
    finally:
        assert run.ctrl_c() == 0, run.text()
    shutil.rmtree(base, ignore_errors=True)
