"""A Patroni-managed PostgreSQL pair on loopback, for `make ha-test`.

One etcd (Debian's etcd-server) is Patroni's store; two Patroni processes
(Debian's patroni) each run one PostgreSQL 15 node: a primary and a
synchronous standby (synchronous_mode), with pg_rewind so that a failed
primary rejoins as a standby. Everything listens on 127.0.0.1, in a
throw-away folder; PostgreSQL (which refuses root) runs as `postgres` when the
tests run as root. `primary_start_timeout: 0` makes Patroni fail over at once
when the primary's postmaster dies instead of restarting it in place.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
AS_ROOT = os.geteuid() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql_env():
    """The environment of a superuser psql: the data key keptd seals
    customers' data under (the integration suite's, it.DATA_KEY), as
    tests/bench/generate.sql needs to write customers."""
    import it  # loaded by conftest.py before any test runs
    return dict(os.environ, PGOPTIONS=f"-c kept.data_key={it.DATA_KEY}")


def as_postgres(argv):
    return ["runuser", "-u", "postgres", "--", *argv] if AS_ROOT else argv


def wait_for(what, check, timeout=60, interval=0.1):
    """Polls check() until it answers something true; answers that."""
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Etcd:
    def __init__(self, base):
        self.dir = base / "etcd"
        self.dir.mkdir()
        self.client_port, peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        self.log = open(base / "etcd.log", "w")
        self.proc = subprocess.Popen(
            ["etcd", "--name", "kept-ha", "--data-dir", str(self.dir),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"kept-ha=http://127.0.0.1:{peer}",
             "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("etcd", self._healthy, timeout=30)

    def _healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return json.load(r).get("health") == "true"
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.log.close()


CONFIG = """\
scope: kept
namespace: /kept-ha/
name: {name}
log:
  level: INFO
  dir: {dir}
restapi:
  listen: 127.0.0.1:{api_port}
  connect_address: 127.0.0.1:{api_port}
etcd3:
  hosts: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    primary_start_timeout: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        max_connections: 100
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:{pg_port}
  connect_address: 127.0.0.1:{pg_port}
  data_dir: {dir}/data
  bin_dir: {bin_dir}
  pgpass: {dir}/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
    rewind:
      username: postgres
  parameters:
    unix_socket_directories: '{dir}'
    fsync: 'on'
    shared_buffers: 128MB
tags:
  nofailover: false
  noloadbalance: false
"""


class Node:
    """One Patroni process and the PostgreSQL it manages."""

    def __init__(self, base, name, etcd):
        self.name = name
        self.dir = base / name
        self.dir.mkdir(mode=0o700)
        self.api_port, self.pg_port = free_port(), free_port()
        self.config = self.dir / "patroni.yml"
        self.config.write_text(CONFIG.format(name=name, dir=self.dir, api_port=self.api_port,
                                             etcd_port=etcd.client_port, pg_port=self.pg_port,
                                             bin_dir=PG_BINDIR))
        if AS_ROOT:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.config, "postgres", "postgres")
        self.proc = None
        self.start()

    def start(self):
        self.out = open(self.dir / "patroni.out", "a")
        self.proc = subprocess.Popen(as_postgres(["patroni", str(self.config)]), stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def api(self, path="/patroni"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}{path}", timeout=2) as r:
                return json.load(r)
        except OSError:
            return None

    def role(self):
        s = self.api()
        return s and s.get("state") == "running" and s.get("role")

    def postmaster_pid(self):
        """The postmaster's pid from its pid file, or None."""
        try:
            return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill_postmaster(self):
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def psql(self, sql, db="kept", check=True):
        out = subprocess.run(as_postgres([f"{PG_BINDIR}/psql", "-h", str(self.dir), "-p", str(self.pg_port),
                                          "-U", "postgres", "-d", db, "-qAtX", "-F", "\t",
                                          "-v", "ON_ERROR_STOP=1", "-c", sql]),
                             capture_output=True, text=True, check=check, env=psql_env())
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def psql_file(self, path, db="kept", **variables):
        """Runs a psql script with -v variables as the superuser."""
        args = [a for k, v in variables.items() for a in ("-v", f"{k}={v}")]
        subprocess.run(as_postgres([f"{PG_BINDIR}/psql", "-h", str(self.dir), "-p", str(self.pg_port),
                                    "-U", "postgres", "-d", db, "-qAtX", "-v", "ON_ERROR_STOP=1", *args,
                                    "-f", str(path)]), capture_output=True, text=True, check=True,
                       env=psql_env())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # Patroni stops PostgreSQL on the way out
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        pid = self.postmaster_pid()
        if pid:  # a postmaster left behind (a test killed Patroni first)
            subprocess.run(as_postgres([f"{PG_BINDIR}/pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate",
                                        "stop"]), capture_output=True)
        self.out.close()


class PatroniCluster:
    """etcd + two Patroni nodes; the first one bootstraps and becomes the primary."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="kept-ha."))
        self.base.chmod(0o711)
        self.etcd = Etcd(self.base)
        self.nodes = []
        try:
            self.nodes.append(Node(self.base, "pg1", self.etcd))
            wait_for("pg1 to lead", lambda: self.nodes[0].role() in ("master", "primary"), timeout=90)
            self.nodes.append(Node(self.base, "pg2", self.etcd))
            self.wait_synchronous()
            self.primary().psql("CREATE ROLE kept LOGIN", db="postgres")
            self.primary().psql("CREATE DATABASE kept OWNER kept", db="postgres")
        except BaseException:
            self.destroy()
            raise

    def members(self):
        for n in self.nodes:
            c = n.api("/cluster")
            if c:
                return c.get("members", [])
        return []

    def primary(self):
        for n in self.nodes:
            if n.role() in ("master", "primary"):
                return n
        return None

    def standby(self):
        p = self.primary()
        return next(n for n in self.nodes if n is not p)

    def wait_synchronous(self, timeout=120):
        """Until one node leads and the other streams as its synchronous standby."""
        def ok():
            ms = self.members()
            leader = [m for m in ms if m.get("role") == "leader" and m.get("state") == "running"]
            sync = [m for m in ms if m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming")]
            return leader and sync and (leader[0]["name"], sync[0]["name"])
        return wait_for("a leader with a synchronous standby", ok, timeout=timeout, interval=0.2)

    def new_database(self, name):
        """An empty database `name` owned by kept on the current primary; answers its URL."""
        self.primary().psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")
        self.primary().psql(f"CREATE DATABASE {name} OWNER kept", db="postgres")
        # A standby must have replayed it too: libpq tries the next host after a
        # refused connection, but not after a FATAL such as "database does not exist".
        for n in self.nodes:
            wait_for(f"{name} on {n.name}", lambda: n.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
                                                           db="postgres", check=False), timeout=60)
        return self.url(db=name)

    def url(self, db="kept", user="kept", attrs="read-write"):
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgresql://{user}@{hosts}/{db}?target_session_attrs={attrs}&connect_timeout=2"

    def fail_over(self, timeout=60):
        """SIGKILLs the primary's postmaster and waits until Patroni has
        promoted the other node; answers (old primary, new primary)."""
        old = self.primary()
        old.kill_postmaster()
        new = wait_for("Patroni to promote the standby",
                       lambda: (p := self.primary()) is not None and p is not old and p, timeout=timeout)
        return old, new

    def patronictl(self, *args):
        return subprocess.run(as_postgres(["patronictl", "-c", str(self.nodes[0].config), *args]),
                              capture_output=True, text=True, timeout=120)

    def destroy(self):
        for n in self.nodes:
            n.stop()
        self.etcd.stop()
        if os.environ.get("KEPT_HA_KEEP") is None:
            shutil.rmtree(self.base, ignore_errors=True)
