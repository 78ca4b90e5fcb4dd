"""The edges: slow clients cut off, connections per client capped, security
headers on every answer, the provider only over https, the private cluster
closed to other local users."""
import socket
import subprocess
import time

import pytest

from conftest import CLUSTER, Keptd, keptd_cmd

HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
           "x-frame-options": "DENY"}


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(10)
    return s


def closed_within(s, seconds, trickle=None):
    """True when the server closes `s` within `seconds`; `trickle` (bytes) is
    sent every half second meanwhile, as a slow client would."""
    deadline = time.time() + seconds
    s.settimeout(0.5)
    while time.time() < deadline:
        try:
            if trickle:
                s.sendall(trickle)
            if s.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


@pytest.fixture(scope="module")
def edge(cluster):
    k = Keptd(cluster.url, KEPT_HEADER_TIMEOUT="2", KEPT_BODY_TIMEOUT="2", KEPT_CONNECTION_TIMEOUT="30",
              KEPT_MAX_CONNECTIONS_PER_CLIENT="4")
    yield k
    k.assert_clean_exit()


def test_a_slow_header_client_is_cut_off(edge):
    s = connect(edge.port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: kept\r\n")
    # a header line every half second keeps the idle timeout (30 s) happy for ever
    assert closed_within(s, 15, trickle=b"X-Slow: yes\r\n"), "the slow client was never cut off"
    s.close()
    assert edge.log_lines("slow_client_cut")
    # a prompt client on the same keptd is served
    assert edge.client().get("/healthz").status == 200


def test_a_slow_body_is_cut_off(edge, role_keys):
    s = connect(edge.port)
    s.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: kept\r\nContent-Type: application/json\r\n"
              b"Authorization: Bearer " + role_keys["agent"].encode() + b"\r\nContent-Length: 5000\r\n\r\n")
    assert closed_within(s, 15, trickle=b" "), "the slow body was never cut off"
    s.close()


def test_connections_per_client_are_capped(edge):
    held = [connect(edge.port) for _ in range(4)]
    try:
        extra = connect(edge.port)
        assert closed_within(extra, 10), "a fifth connection from the same address was kept"
        extra.close()
        # the four still work
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: kept\r\n\r\n")
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()


def test_security_headers_on_every_answer(server, role_keys):
    c = server.client(role_keys["agent"])
    for r in (c.get("/healthz"), c.get("/v1/accounts"), c.get("/v1/nothing"), server.client().get("/v1/accounts"),
              c.get("/dashboard")):
        for name, value in HEADERS.items():
            assert r.headers.get(name) == value, (r, name)
        assert r.headers.get("strict-transport-security", "").startswith("max-age=")
        assert "cache-control" in r.headers
    assert c.get("/v1/accounts").headers["cache-control"] == "no-store"


def test_the_provider_url_must_be_https_unless_it_is_local(cluster):
    env = dict(KEPT_TELEPHONY_BASE_URL="http://api.twilio.example", KEPT_TELEPHONY_ACCOUNT_SID="AC" + "0" * 32,
               KEPT_TELEPHONY_AUTH_TOKEN="secret-token", KEPT_TELEPHONY_FROM="+15550000100",
               KEPT_PUBLIC_URL="https://kept.example")
    done = keptd_cmd(cluster.url, "serve", **env)
    assert done.returncode == 2 and "KEPT_TELEPHONY_BASE_URL: must be https://" in done.stderr, done.stderr
    assert "secret-token" not in done.stderr


def test_the_private_cluster_refuses_another_local_user(cluster):
    sock = (cluster.dir + "/socket_dir")
    sock = open(sock).read().strip()
    psql = "/usr/lib/postgresql/15/bin/psql"
    other = subprocess.run(["runuser", "-u", "nobody", "--", psql, "-h", sock, "-U", "kept", "-d", "kept", "-Atc",
                            "SELECT 1"], capture_output=True, text=True)
    assert other.returncode != 0, other.stdout
    hba = subprocess.run(["runuser", "-u", "postgres", "--", "cat", cluster.dir + "/data/pg_hba.conf"],
                         capture_output=True, text=True).stdout
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert rules and all(r[0] == "local" and r[3] == "peer" and "map=owner" in r for r in rules), hba
    # even through the socket, peer authentication maps only the cluster's owner
    ident = subprocess.run(["runuser", "-u", "postgres", "--", "cat", cluster.dir + "/data/pg_ident.conf"],
                           capture_output=True, text=True).stdout
    assert "nobody" not in ident and "root" in ident
    # the owner still gets in
    assert cluster.psql("SELECT 1") == [["1"]]
    assert subprocess.run([str(CLUSTER), "url", cluster.dir], capture_output=True).returncode == 0


def test_no_script_puts_a_key_on_a_command_line():
    """make run, make demo and the benchmarks pass API keys in files or the
    environment: a command line is visible to every local user (ps)."""
    from conftest import ROOT
    scripts = list((ROOT / "service" / "scripts").glob("*.sh")) + list((ROOT / "tests" / "bench").glob("*.sh"))
    for path in scripts:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "curl" in line or "wrk" in line:
                assert "Bearer" not in line, f"{path.name}:{n}: {line.strip()}"
