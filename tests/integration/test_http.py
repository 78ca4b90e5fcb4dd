"""The HTTP layer: health, metrics, request ids, error shape, limits, keep-alive."""
import re
import socket
import subprocess

from conftest import Keptd, command, free_port, keptd_env, new_customer, unique


def test_health_endpoints_are_open(server):
    c = server.client()
    r = c.get("/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}
    r = c.get("/readyz")
    assert r.status == 200 and r.json() == {"status": "ready"}


def test_every_response_has_a_request_id(server):
    c = server.client()
    ids = {c.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    # a sane id from the caller is kept, so logs line up across services
    assert c.get("/healthz", headers={"X-Request-Id": "abc-123.x_y"}).headers["x-request-id"] == "abc-123.x_y"
    # an unsafe one is replaced
    r = c.get("/healthz", headers={"X-Request-Id": "bad id\" with=stuff"})
    assert r.headers["x-request-id"] != "bad id\" with=stuff"
    # errors too
    assert "x-request-id" in c.get("/nowhere").headers


def test_one_access_log_line_per_request_with_its_id(server, api):
    r = api.get("/v1/customers/1", headers={"X-Request-Id": unique("trace")})
    rid = r.headers["x-request-id"]
    lines = server.log_lines(f"req={rid}", "event=request")
    assert len(lines) == 1
    assert "method=GET" in lines[0] and "path=/v1/customers/1" in lines[0] and f"status={r.status}" in lines[0]
    assert "actor=key:" in lines[0]


def test_error_shape_and_unknown_routes(server):
    c = server.client()
    r = c.get("/v1/nothing-here")
    assert r.status == 404
    assert r.error["code"] == "route_not_found" and r.error["message"] and "details" in r.error
    assert r.headers["content-type"] == "application/json"


def test_wrong_method_is_405_with_allow(api):
    r = api.request("PUT", "/v1/customers")
    assert r.status == 405
    assert r.error["code"] == "method_not_allowed"
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    r = api.request("DELETE", "/v1/customers/1")
    assert r.status == 405 and set(r.headers["allow"].split(", ")) == {"GET", "PATCH"}


def test_json_bodies_need_the_json_media_type(api):
    r = api.post("/v1/customers", '{"name":"x"}', content_type="text/plain")
    assert r.status == 415 and r.error["code"] == "unsupported_media_type"
    r = api.post("/v1/customers", b'{"name":"x"}')
    assert r.status == 415


def test_malformed_and_hostile_json(api):
    cases = [
        (b"{not json", "invalid_json"),
        (b"", "empty_body"),
        (b"[]", "not_an_object"),
        (b'{"name": "\xff\xfe"}', "invalid_utf8"),
        (b'{"name": "a\\u0000b"}', "invalid_string"),
        (b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}", "too_deep"),
        (b'{"external_ref":"x"} {"more":1}', "invalid_json"),
    ]
    for body, code in cases:
        r = api.post("/v1/customers", body, content_type="application/json")
        assert r.status == 400, (body[:40], r)
        assert r.error["code"] == code, (body[:40], r)


def test_a_nul_escape_in_a_path_or_query_is_refused(api):
    """%00 would cut a C string short: /v1/customers/1%00junk must not name customer 1."""
    customer = new_customer(api)
    assert api.get(f"/v1/customers/{customer['id']}").status == 200
    for target in (f"/v1/customers/{customer['id']}%00junk", f"/v1/customers/{customer['id']}%00",
                   "/v1/customers?q=smi%00th", "/v1/customers?q=smith&cursor=%00", "/v1/customers?q%00=smith"):
        r = api.get(target)
        assert (r.status, r.error["code"]) == (400, "invalid_escape"), target
    # other escapes still decode
    assert api.get(f"/v1/customers/%3{str(customer['id'])[0]}{str(customer['id'])[1:]}").status == 200


def test_body_over_the_cap_is_413(cluster, admin_key):
    k = Keptd(cluster.url, KEPT_MAX_BODY_BYTES="4k")
    try:
        c = k.client(admin_key)
        big = '{"external_ref":"' + "x" * 5000 + '"}'
        r = c.post("/v1/customers", big, content_type="application/json")
        assert r.status == 413 and r.error["code"] == "body_too_large"
        # without Content-Length (chunked), the server counts as it reads
        raw = socket.create_connection(("127.0.0.1", k.port), timeout=10)
        chunk = b"x" * 3000
        raw.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_key.encode() +
                    b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 3 + b"0\r\n\r\n")
        answer = raw.recv(65536).decode()
        raw.close()
        assert answer.startswith("HTTP/1.1 413"), answer
        # and the server is fine afterwards
        assert c.get("/healthz").status == 200
    finally:
        k.assert_clean_exit()


def test_keep_alive_survives_errors(server, api):
    first = api.get("/v1/customers/999999999")
    assert first.status == 404
    conn = api.conn
    assert conn is not None
    assert api.get("/healthz").status == 200
    assert api.conn is conn  # the same TCP connection answered both


def test_metrics_count_requests_by_route(server, api):
    api.get("/v1/customers/424242")
    api.get("/v1/customers/424243")
    text = server.client().get("/metrics").text
    m = re.search(r'kept_http_requests_total\{route="/v1/customers/\{id\}",method="GET",status="404"\} (\d+)', text)
    assert m and int(m.group(1)) >= 2
    assert 'kept_http_request_duration_seconds_bucket{route="/v1/customers/{id}",method="GET",le="+Inf"}' in text
    assert "kept_db_events_total{kind=\"unavailable\"}" in text
    # one series per name and label set: no duplicates confuse a scraper
    series = [l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")]
    assert len(series) == len(set(series))


def test_slow_clients_are_cut_off(cluster, admin_key):
    k = Keptd(cluster.url, KEPT_CONNECTION_TIMEOUT="1")
    try:
        raw = socket.create_connection(("127.0.0.1", k.port), timeout=10)
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        raw.settimeout(5)
        assert raw.recv(1024) == b""  # the server closed it
        raw.close()
    finally:
        k.assert_clean_exit()


def test_created_resources_have_a_location(api):
    c = new_customer(api)
    r = api.get(f"/v1/customers/{c['id']}")
    assert r.status == 200
    created = api.post("/v1/customers", {"external_ref": unique("L"), "name": "L", "time_zone": "UTC",
                                         "jurisdiction": "GB"})
    assert created.headers["location"] == f"/v1/customers/{created.json()['id']}"


def test_a_second_keptd_on_a_port_in_use_refuses_to_start(cluster, server):
    """Two keptd on one address do not share it (no SO_REUSEPORT): the second one says
    the address is in use and exits, and the first keeps every request."""
    done = subprocess.run(command("keptd", "serve"),
                          env=keptd_env(cluster.url, KEPT_LISTEN=f"127.0.0.1:{server.port}"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "event=start_failed" in done.stderr and "Address already in use" in done.stderr, done.stderr
    c = server.client()
    assert all(c.get("/healthz").status == 200 for _ in range(5))


def test_a_keptd_restarted_on_its_port_binds_at_once(cluster, admin_key):
    """A stopped keptd's connections linger in TIME_WAIT; the next keptd on the same
    port still binds (SO_REUSEADDR), so a restart never waits a minute."""
    port = free_port()
    first = Keptd(cluster.url, KEPT_LISTEN=f"127.0.0.1:{port}")
    clients = [first.client(admin_key) for _ in range(3)]
    assert all(c.get("/v1/policies").status == 200 for c in clients)
    assert first.stop() == 0  # keptd closes the kept-alive connections first: TIME_WAIT is on its side
    for c in clients:
        c.close()
    second = Keptd(cluster.url, KEPT_LISTEN=f"127.0.0.1:{port}")
    try:
        assert second.port == port and second.client().get("/healthz").status == 200
    finally:
        assert second.stop() == 0
