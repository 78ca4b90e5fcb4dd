"""Integration harness: real PostgreSQL, the real keptd binary, real HTTP.

Each test session gets a throw-away PostgreSQL cluster (service/scripts/pgcluster.sh,
Unix socket only), migrated by `keptd migrate`, and one keptd listening on a free
loopback port. Tests that need to break things (stop the database, send
SIGTERM, misconfigure) start their own keptd or cluster with the helpers below.

KEPT_BIN selects the binaries (build/ or build-asan/). When keptd is stopped its
exit status must be 0: under AddressSanitizer a leak or an error makes it
non-zero, so every integration test is also a sanitizer test. KEPT_WRAP, when
set, is a command every binary runs under (`make valgrind` sets it to valgrind).
"""
import datetime
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import spec_check

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("KEPT_BIN", ROOT / "build"))
CLUSTER = ROOT / "service" / "scripts" / "pgcluster.sh"
FAST_PG = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
MIGRATIONS = len(list((ROOT / "schema").glob("*.sql")))
WRAP = shlex.split(os.environ.get("KEPT_WRAP", ""))
# The key that wraps customers' data keys, this run's (KEPT_DATA_KEY); psql
# sessions of the tests get it too, so SQL can read what keptd sealed.
DATA_KEY = os.urandom(32).hex()


def command(name, *args):
    """The argv that runs one of our binaries (keptd, kept, kept-telsim, tests/sign)."""
    return [*WRAP, str(BIN / name), *args]


def unique(prefix):
    """A reference no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Cluster:
    """A private PostgreSQL cluster in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kept-it.")
        self._run("init")
        self.url = self._run("url").strip()
        self.superuser_url = self._run("url", "kept", "postgres").strip()

    def _run(self, *args):
        env = dict(os.environ, PGCLUSTER_OPTS=FAST_PG)
        return subprocess.run([str(CLUSTER), args[0], self.dir, *args[1:]], env=env, check=True,
                              capture_output=True, text=True).stdout

    def start(self):
        self._run("start")

    def stop(self):
        self._run("stop")

    def psql(self, sql, db="kept", data_key=DATA_KEY):
        """Runs SQL as the superuser (with the data key unless data_key=None);
        returns the rows as lists of strings."""
        env = dict(os.environ, PGOPTIONS=f"-c kept.data_key={data_key}" if data_key else "")
        out = subprocess.run([str(CLUSTER), "psql", self.dir, "-d", db, "-qAt", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True, env=env).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def new_database(self, name):
        """An empty database `name` owned by kept (dropped first if it exists); answers its URL."""
        self.psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")
        self.psql(f"CREATE DATABASE {name} OWNER kept", db="postgres")
        assert self.url.startswith("postgresql:///kept?")
        return self.url.replace("postgresql:///kept?", f"postgresql:///{name}?", 1)

    def destroy(self):
        try:
            self.stop()
        finally:
            sock = Path(self.dir, "socket_dir").read_text().strip()
            if sock.startswith("/tmp/kept-pg."):
                shutil.rmtree(sock, ignore_errors=True)
            shutil.rmtree(self.dir, ignore_errors=True)


def keptd_env(database_url, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
    # background workers off: tests drive evaluation through as_of themselves
    # the per-key rate limit out of the way too (test_auth.py sets one to test it)
    env.update(KEPT_DATABASE_URL=database_url, KEPT_LISTEN="127.0.0.1:0", KEPT_THREADS="4",
               KEPT_SHUTDOWN_TIMEOUT="10", KEPT_WORKERS="none", KEPT_RATE_LIMIT="0", KEPT_DATA_KEY=DATA_KEY)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def keptd_cmd(database_url, *args, **extra):
    """Runs a keptd command to completion."""
    return subprocess.run(command("keptd", *args), env=keptd_env(database_url, **extra),
                          capture_output=True, text=True, timeout=120)


def migrate(database_url):
    done = keptd_cmd(database_url, "migrate")
    assert done.returncode == 0, done.stderr
    return done


def create_key(database_url, role, name=None):
    done = keptd_cmd(database_url, "keys", "create", "--role", role, "--name", name or unique(role))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def error(self):
        """The error object of an error answer."""
        return self.json()["error"]

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


@pytest.fixture(autouse=True)
def answers_match_the_spec():
    """Every answer a test receives through Client is one clients/openapi.yaml
    describes (spec_check.py)."""
    spec_check.take()
    yield
    found = spec_check.take()
    assert not found, "answers the spec does not describe:\n" + "\n".join(found[:20])


class Client:
    """HTTP/1.1 to keptd; one connection reused (keep-alive) until it closes."""

    def __init__(self, port, key=None):
        self.port = port
        self.key = key
        self.conn = None

    def with_key(self, key):
        return Client(self.port, key)

    def request(self, method, path, body=None, headers=None, key=None, content_type=None):
        headers = dict(headers or {})
        use_key = key if key is not None else self.key
        if use_key:
            headers.setdefault("Authorization", f"Bearer {use_key}")
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if content_type:
            headers["Content-Type"] = content_type
        if isinstance(body, str):
            body = body.encode()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                answer = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
                spec_check.check(method, path, answer.status, answer.headers, data)
                return answer
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Keptd:
    """One keptd serve process; its stderr (the log) goes to a file."""

    def __init__(self, database_url, **extra):
        self.log_path = Path(tempfile.mkstemp(prefix="keptd.", suffix=".log")[1])
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(command("keptd", "serve"), env=keptd_env(database_url, **extra),
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.port = self._wait_for_port()

    def _wait_for_port(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r"event=listening .*port=(\d+)", self.log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"keptd exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError("keptd did not start:\n" + self.log())

    def log(self):
        return self.log_path.read_text(errors="replace")

    def log_lines(self, *needles, timeout=5):
        """The log's lines holding every needle, once there is one: keptd
        writes a request's access line after its answer has gone out."""
        deadline = time.time() + timeout
        while True:
            lines = [l for l in self.log().splitlines() if all(n in l for n in needles)]
            if lines or time.time() > deadline:
                return lines
            time.sleep(0.02)

    def client(self, key=None):
        return Client(self.port, key)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops keptd and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("keptd did not stop in time:\n" + self.log())
        self.log_file.close()
        return self.proc.returncode

    def assert_clean_exit(self):
        status = self.stop()
        assert status == 0, f"keptd exited with {status}:\n{self.log()[-6000:]}"


# ---- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    migrate(c.url)
    yield c
    c.destroy()


@pytest.fixture(scope="session")
def admin_key(cluster):
    return create_key(cluster.url, "admin", "integration-admin")


@pytest.fixture(scope="session")
def server(cluster, admin_key):
    k = Keptd(cluster.url)
    yield k
    k.assert_clean_exit()


@pytest.fixture
def api(server, admin_key):
    c = server.client(admin_key)
    yield c
    c.close()


@pytest.fixture(scope="session")
def role_keys(cluster):
    """One API key per role."""
    return {role: create_key(cluster.url, role) for role in ("agent", "supervisor", "finance", "admin")}


@pytest.fixture
def agent(server, role_keys):
    c = server.client(role_keys["agent"])
    yield c
    c.close()


@pytest.fixture
def finance(server, role_keys):
    """Finance posts and reverses payments."""
    c = server.client(role_keys["finance"])
    yield c
    c.close()


def new_customer(client, **fields):
    body = {"external_ref": unique("C"), "name": "Test Customer", "time_zone": "Europe/London",
            "jurisdiction": "GB"}
    body.update(fields)
    r = client.post("/v1/customers", body)
    assert r.status == 201, r
    return r.json()


def new_account(client, customer_id, **fields):
    """An account placed three years ago (so history and backdated payments fit after it)."""
    placed = (datetime.date.today() - datetime.timedelta(days=3 * 365)).isoformat()
    body = {"customer_id": customer_id, "external_ref": unique("A"), "creditor": "Acme Bank",
            "original_balance_cents": 125000, "currency": "GBP", "placed_on": placed}
    body.update(fields)
    r = client.post("/v1/accounts", body)
    assert r.status == 201, r
    return r.json()


# ---- telephony ------------------------------------------------------------------------

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "telsim-secret-token"
CALLER_ID = "+15550000100"
CALLBACK = "+15550000199"
CONTACT_NAME = "Robin Smith"
LINK_SECRET = "integration-link-secret-0123456789abcdef"  # signs the self-service page's links


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Telsim:
    """One kept-telsim process, the stand-in telephony provider."""

    def __init__(self, **extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEPT_")}
        env.update(KEPT_TELSIM_LISTEN=f"127.0.0.1:{self.port}", KEPT_TELEPHONY_ACCOUNT_SID=ACCOUNT_SID,
                   KEPT_TELEPHONY_AUTH_TOKEN=AUTH_TOKEN, KEPT_TELSIM_CALLBACK_DELAY_MS="5")
        env.update({k: str(v) for k, v in extra.items()})
        self.log_path = Path(tempfile.mkstemp(prefix="telsim.", suffix=".log")[1])
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(command("kept-telsim"), env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while "listening" not in self.log_path.read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("kept-telsim did not start:\n" + self.log_path.read_text())
            time.sleep(0.02)
        self.control = Client(self.port)

    def post(self, path, body):
        r = self.control.post(path, body)
        assert r.status == 200, r
        return r.json()

    def requests(self):
        return self.control.get("/_telsim/requests").json()

    def calls(self, to=None):
        return [c for c in self.control.get("/_telsim/calls").json() if to is None or c["to"] == to]

    def stop(self):
        self.control.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.log_file.close()
        return self.proc.returncode


def telephony_env(telsim, keptd_port, **extra):
    """keptd wired to kept-telsim, in simulated time: a test sets the clock
    (set_clock) to the moment it plays, and every rule and record reads it."""
    env = dict(KEPT_LISTEN=f"127.0.0.1:{keptd_port}", KEPT_TELEPHONY_BASE_URL=telsim.url,
               KEPT_TELEPHONY_ACCOUNT_SID=ACCOUNT_SID, KEPT_TELEPHONY_AUTH_TOKEN=AUTH_TOKEN,
               KEPT_TELEPHONY_FROM=CALLER_ID, KEPT_CALLBACK_NUMBER=CALLBACK, KEPT_CONTACT_NAME=CONTACT_NAME,
               KEPT_PUBLIC_URL=f"http://127.0.0.1:{keptd_port}", KEPT_CLOCK="simulated",
               KEPT_TELEPHONY_CPS="50", KEPT_TELEPHONY_TIMEOUT_MS="1500", KEPT_TELEPHONY_SETTLE_MS="8000",
               KEPT_DIAL_ATTEMPTS="3", KEPT_SELF_SERVICE="on", KEPT_LINK_SECRET=LINK_SECRET)
    env.update(extra)
    return env


def set_clock(client, now):
    """Sets a simulated keptd's clock to `now` (RFC 3339), or back to the wall clock (None)."""
    r = client.put("/v1/admin/clock", {"now": now})
    assert r.status == 200, r
    return r.json()


@pytest.fixture(scope="session")
def telsim():
    t = Telsim()
    yield t
    assert t.stop() == 0


@pytest.fixture(scope="session")
def phone_server(cluster, admin_key, telsim):
    """keptd wired to kept-telsim (its own instance: the webhooks need a known public URL), with
    the self-service page on and the texter sending what requests queue."""
    port = free_port()
    k = Keptd(cluster.url, **telephony_env(telsim, port, KEPT_WORKERS="texter"))
    yield k
    k.assert_clean_exit()


@pytest.fixture
def phone_api(phone_server, admin_key):
    """An admin client of the telephony keptd, its clock back on the wall's."""
    c = phone_server.client(admin_key)
    set_clock(c, None)
    yield c
    c.close()


@pytest.fixture
def phone_agent(phone_server, role_keys):
    c = phone_server.client(role_keys["agent"])
    yield c
    c.close()
