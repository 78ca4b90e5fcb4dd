"""API keys and roles: 401 without a good key, 403 with the wrong role."""
import re

import pytest

from conftest import ROOT, create_key, keptd_cmd, unique

STAFF = {"agent", "supervisor", "admin"}

# Every route of this version and the roles that may use it (None = open).
ROUTES = [
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    ("GET", "/metrics", None),
    ("POST", "/v1/api-keys", {"admin"}),
    ("GET", "/v1/api-keys", {"admin"}),
    ("DELETE", "/v1/api-keys/999999", {"admin"}),
    ("POST", "/v1/customers", STAFF),
    ("GET", "/v1/customers?q=nobody", STAFF),
    ("GET", "/v1/customers/999999", {"agent", "supervisor", "admin"}),
    ("PATCH", "/v1/customers/999999", {"agent", "supervisor", "admin"}),
    ("POST", "/v1/accounts", {"agent", "supervisor", "admin"}),
    ("GET", "/v1/accounts", {"agent", "supervisor", "admin"}),
    ("GET", "/v1/accounts/999999", {"agent", "supervisor", "admin"}),
    ("GET", "/v1/accounts/999999/overview", STAFF),
    ("POST", "/v1/imports/accounts", {"admin"}),
    ("GET", "/v1/policies", {"agent", "supervisor", "finance", "admin"}),
    ("POST", "/v1/policies", {"admin"}),
    ("PUT", "/v1/policies/999999", {"admin"}),
    ("POST", "/v1/accounts/999999/affordability", STAFF),
    ("GET", "/v1/accounts/999999/affordability", STAFF),
    ("POST", "/v1/accounts/999999/proposals", STAFF),
    ("POST", "/v1/accounts/999999/plans", STAFF),
    ("GET", "/v1/accounts/999999/plans", STAFF),
    ("GET", "/v1/plans/999999", STAFF),
    ("POST", "/v1/plans/999999/approvals", STAFF),
    ("POST", "/v1/plans/999999/cancel", STAFF),
    ("GET", "/v1/reviews", STAFF),
    ("GET", "/v1/reviews/999999", STAFF),
    ("POST", "/v1/reviews/999999", {"supervisor", "admin"}),
    ("POST", "/v1/accounts/999999/settlement-offers", STAFF),
    ("GET", "/v1/settlement-offers/999999", STAFF),
    ("POST", "/v1/settlement-offers/999999/accept", STAFF),
    ("POST", "/v1/payments", STAFF),
    ("GET", "/v1/payments/999999", STAFF),
    ("POST", "/v1/payments/999999/reversal", STAFF),
    ("GET", "/v1/accounts/999999/payments", STAFF),
    ("POST", "/v1/imports/payments", {"admin"}),
    ("POST", "/v1/imports/history", {"admin"}),
    ("GET", "/v1/escalations", STAFF),
    ("POST", "/v1/escalations", STAFF),
    ("GET", "/v1/escalations/999999", STAFF),
    ("POST", "/v1/escalations/999999/assign", STAFF),
    ("POST", "/v1/escalations/999999/resolve", STAFF),
    ("POST", "/v1/admin/evaluate", {"admin"}),
    ("GET", "/v1/calls?account_id=999999", STAFF),
    ("GET", "/v1/messages?account_id=999999", STAFF),
    ("POST", "/v1/accounts/999999/self-service-links", STAFF),
    ("GET", "/v1/accounts/999999/self-service-links", STAFF),
    ("POST", "/v1/self-service-links/999999/revoke", STAFF),
    ("POST", "/v1/accounts/999999/contacts", STAFF),
    ("GET", "/v1/accounts/999999/contacts", STAFF),
    ("POST", "/v1/admin/reminders", {"admin"}),
    ("GET", "/v1/admin/clock", {"admin"}),
    ("PUT", "/v1/admin/clock", {"admin"}),
    ("GET", "/v1/reports/origin?from=2026-01-05&to=2027-01-04", {"finance", "admin"}),
    ("GET", "/dashboard", None),
    ("GET", "/dashboard/chart.umd.js", None),
    ("GET", "/self-service/style.css", None),
]
# The provider's webhooks take no API key: a valid X-Twilio-Signature or 403, whoever asks.
SIGNED = [
    ("POST", "/telephony/twiml/999999"),
    ("POST", "/telephony/gather/999999"),
    ("POST", "/telephony/status/999999"),
    ("POST", "/telephony/amount/999999"),
    ("POST", "/telephony/messages"),
    ("POST", "/telephony/messages/999999/status"),
]
# The customer's self-service page takes no API key either: a personal link's signed token
# (and a session cookie, a form token) instead; test_self_service.py holds it to that.
PAGE = [
    ("GET", "/s/{token}"), ("GET", "/s/{token}/budget"), ("GET", "/s/{token}/settlement"),
    ("POST", "/s/{token}/verify"), ("POST", "/s/{token}/code"), ("POST", "/s/{token}/proposal"),
    ("POST", "/s/{token}/plan"), ("POST", "/s/{token}/budget"), ("POST", "/s/{token}/settlement"),
    ("POST", "/s/{token}/settlement/accept"), ("POST", "/s/{token}/signout"),
]
ROLES = ("agent", "supervisor", "finance", "admin")


def as_pattern(path):
    """/v1/plans/999999/cancel?x=1 -> /v1/plans/{id}/cancel"""
    path = path.split("?")[0].replace("999999", "{id}")
    if path.startswith("/self-service/"):
        return "/self-service/{file}"
    return "/dashboard/{file}" if path.startswith("/dashboard/") else \
        path.replace("/reports/origin", "/reports/{name}")


def test_the_table_covers_every_route():
    text = (ROOT / "service" / "src" / "api" / "routes.c").read_text()
    routed = set(re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"', text))
    tabled = {(m, as_pattern(p)) for m, p, _ in ROUTES} | {(m, as_pattern(p)) for m, p in SIGNED} | set(PAGE)
    assert routed == tabled


@pytest.mark.parametrize("method,path", PAGE)
def test_the_page_needs_a_link_not_a_key(server, role_keys, method, path):
    # a token no keptd signed is refused whoever asks (and this keptd has the page off)
    c = server.client()
    body = "csrf=x" if method == "POST" else None
    for key in [None] + [role_keys[r] for r in ROLES]:
        r = c.request(method, path.replace("{token}", "A" * 54), body, key=key,
                      content_type="application/x-www-form-urlencoded" if body else None)
        assert r.status == 404 and r.headers["content-type"].startswith("text/html"), (key, r)


@pytest.mark.parametrize("method,path", SIGNED)
def test_webhooks_need_a_signature_not_a_key(server, role_keys, method, path):
    c = server.client()
    for key in [None] + [role_keys[r] for r in ROLES]:
        r = c.request(method, path, "CallSid=CA1&CallStatus=completed&SequenceNumber=1", key=key,
                      content_type="application/x-www-form-urlencoded")
        assert r.status == 403, (key, r)


def body_for(method, path):
    if method in ("POST", "PATCH", "PUT"):
        if "imports" in path:
            return "not,a,valid,header\n", "text/csv"
        return "{}", "application/json"
    return None, None


@pytest.mark.parametrize("method,path,allowed", ROUTES)
def test_every_route_for_every_role(server, role_keys, method, path, allowed):
    body, ctype = body_for(method, path)
    c = server.client()
    for role in ROLES:
        r = c.request(method, path, body, key=role_keys[role], content_type=ctype)
        if allowed is None or role in allowed:
            assert r.status not in (401, 403), (role, r)
        else:
            assert r.status == 403, (role, r)
            assert r.error["code"] == "forbidden_role"
    r = c.request(method, path, body, content_type=ctype)
    assert r.status == (200 if allowed is None else 401), r


def test_roles_are_checked_before_the_body(server, role_keys):
    c = server.client(role_keys["agent"])
    r = c.post("/v1/policies", "not json", content_type="text/plain")
    assert r.status == 403  # not 415: nothing about the endpoint is told to who may not use it
    assert server.client().post("/v1/customers", "x", content_type="text/plain").status == 401


def test_missing_malformed_unknown_and_revoked_keys(server, api, cluster):
    c = server.client()
    assert c.get("/v1/accounts").error["code"] == "missing_api_key"
    for header in ("Bearer", "Bearer ", "Basic abc", "Bearer kept_short", "bearer " + "x" * 48,
                   "Bearer kept_" + "A" * 43 + "!"):
        r = c.get("/v1/accounts", headers={"Authorization": header})
        assert r.status == 401 and r.error["code"] == "invalid_api_key", header
    # well-formed but never issued
    r = c.get("/v1/accounts", key="kept_" + "A" * 42 + "A")
    assert r.status == 401
    # revoked
    created = api.post("/v1/api-keys", {"name": unique("gone"), "role": "agent"}).json()
    key = created["key"]
    assert c.get("/v1/accounts", key=key).status == 200
    assert api.delete(f"/v1/api-keys/{created['id']}").status == 200
    r = c.get("/v1/accounts", key=key)
    assert r.status == 401 and r.error["code"] == "invalid_api_key"


def test_keys_are_shown_once_and_stored_hashed(api, cluster, server):
    r = api.post("/v1/api-keys", {"name": "alice", "role": "agent"})
    assert r.status == 201
    created = r.json()
    key = created["key"]
    assert key.startswith("kept_") and len(key) == 48
    assert created["role"] == "agent" and created["revoked_at"] is None
    listed = api.get("/v1/api-keys").json()["items"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert any(k["id"] == created["id"] for k in listed)
    stored = cluster.psql(f"SELECT encode(key_hash, 'hex') FROM kept.api_keys WHERE id = {created['id']}")[0][0]
    assert key not in stored and len(stored) == 64
    # the new key works, and the key never reached the log
    assert server.client(key).get("/v1/accounts").status == 200
    assert key not in server.log()
    audit = cluster.psql(f"SELECT action, after::text FROM kept.audit_events WHERE entity_type = 'api_key' "
                         f"AND entity_id = {created['id']}")
    assert audit[0][0] == "api_key.created" and key not in audit[0][1]


def test_key_requests_are_checked(api):
    assert api.post("/v1/api-keys", {"name": "x", "role": "root"}).error["code"] == "invalid_role"
    assert api.post("/v1/api-keys", {"role": "agent"}).error["code"] == "missing_field"
    assert api.post("/v1/api-keys", {"name": "", "role": "agent"}).error["code"] == "invalid_name"
    assert api.delete("/v1/api-keys/abc").status == 404
    assert api.delete("/v1/api-keys/987654321").error["code"] == "api_key_not_found"


def test_revoking_is_idempotent_and_audited(api, cluster):
    key_id = api.post("/v1/api-keys", {"name": unique("tmp"), "role": "finance"}).json()["id"]
    first = api.delete(f"/v1/api-keys/{key_id}")
    second = api.delete(f"/v1/api-keys/{key_id}")
    assert first.status == second.status == 200
    assert first.json()["revoked_at"] == second.json()["revoked_at"]
    rows = cluster.psql(f"SELECT count(*) FROM kept.audit_events WHERE action = 'api_key.revoked' AND entity_id = {key_id}")
    assert rows == [["1"]]


def test_command_line_key_creation(cluster, server):
    done = keptd_cmd(cluster.url, "keys", "create", "--role", "supervisor", "--name", "sam")
    assert done.returncode == 0
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("kept_") and len(key) == 48
    assert server.client(key).get("/v1/accounts").status == 200
    bad = keptd_cmd(cluster.url, "keys", "create", "--role", "emperor", "--name", "x")
    assert bad.returncode == 2
