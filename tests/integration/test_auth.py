"""Keys, roles and teams: 401 without a good key, 403 with the wrong role, 404
for what another team owns — every route against README.md's privilege table,
which must be the routing table; and the per-key rate limit."""
import datetime
import re
import urllib.parse
import uuid

import pytest

from conftest import ROOT, Keptd, create_key, keptd_cmd, new_account, new_customer, unique

ROLES = ("agent", "supervisor", "finance", "admin")
README = ROOT / "README.md"
ROUTES_C = ROOT / "service" / "src" / "api" / "routes.c"
INTERNAL_H = ROOT / "service" / "src" / "api" / "internal.h"


def readme_table():
    """README's privilege table: {(method, path): (roles or "open"/"signed", scope)}."""
    text = README.read_text()
    section = text[text.index("### Who may do what"):]
    rows = {}
    for m in re.finditer(r"^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \| ([^|]+) \| ([^|]+) \|$", section, re.M):
        roles = m.group(3).strip()
        if roles == "open":
            who = "open"
        elif roles.startswith("provider"):
            who = "signed"
        elif roles.startswith("customer"):
            who = "link"  # the customer's page: the personal link's signed token, no API key
        else:
            who = frozenset(r.strip() for r in roles.split(","))
            assert who <= set(ROLES), m.group(0)
        rows[(m.group(1), m.group(2))] = (who, m.group(4).strip())
    return rows


def routing_table():
    """routes.c as {(method, pattern): (roles, scope, pii)}, role macros resolved."""
    macros = {"AUTH_AGENT": {"agent"}, "AUTH_SUPERVISOR": {"supervisor"}, "AUTH_FINANCE": {"finance"},
              "AUTH_ADMIN": {"admin"}}
    for name, expr in re.findall(r"#define (API_[A-Z_]+)\s+\(([A-Z_ |]+)\)", INTERNAL_H.read_text()):
        macros[name] = set().union(*(macros[p.strip()] for p in expr.split("|")))
    rows = {}
    scopes = {"NO_SCOPE": "API_SCOPE_NONE", "NO_PII": ""}
    for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)", ([A-Z_ |0]+), API_BODY_[A-Z]+,\s*([A-Z_]+),'
                         r'\s*([A-Z_]+),', ROUTES_C.read_text()):
        roles = m.group(3).strip()
        who = frozenset() if roles == "0" else frozenset(set().union(*(macros[p.strip()] for p in roles.split("|"))))
        rows[(m.group(1), m.group(2))] = (who, scopes.get(m.group(4), m.group(4)), scopes.get(m.group(5), m.group(5)))
    return rows


TABLE = readme_table()


def test_the_readme_table_is_the_routing_table():
    routed = routing_table()
    assert len(routed) >= 55
    assert set(routed) == set(TABLE), set(routed) ^ set(TABLE)
    for route, (roles, scope, pii) in routed.items():
        who, documented_scope = TABLE[route]
        if who in ("open", "signed", "link"):
            assert roles == frozenset(), route
            assert (who == "signed") == route[1].startswith("/telephony/"), route
            assert (who == "link") == route[1].startswith("/s/"), route
        else:
            assert roles == who, (route, roles, who)
        # what the dispatcher scopes by id, README says is scoped; lists say so too
        if scope and scope != "API_SCOPE_NONE":
            assert documented_scope.startswith("team"), route
        if pii == "API_LISTS_PII":
            assert documented_scope == "team (list)", route


# ---- every route, every role, two teams ----------------------------------------------------

@pytest.fixture(scope="module")
def teams(server, admin_key, cluster):
    """Users of every role in two teams, alpha and beta, and in alpha one of
    everything a route can name: a customer, an account, plans (one waiting for
    approval, one under review), a payment, an offer, an escalation."""
    api = server.client(admin_key)
    suffix = uuid.uuid4().hex[:8]
    names = {"alpha": f"alpha-{suffix}", "beta": f"beta-{suffix}"}
    clients = {}
    for team, name in names.items():
        for role in ("agent", "supervisor", "finance"):
            u = api.post("/v1/users", {"name": f"{team} {role} {suffix}", "team": name, "roles": [role]})
            assert u.status == 201, u
            k = api.post("/v1/api-keys", {"user_id": u.json()["id"]})
            assert k.status == 201, k
            clients[(team, role)] = server.client(k.json()["key"])
    second = api.post("/v1/users", {"name": f"alpha agent two {suffix}", "team": names["alpha"], "roles": ["agent"]})
    clients[("alpha", "agent2")] = server.client(api.post("/v1/api-keys", {"user_id": second.json()["id"]}).json()["key"])
    creditor = f"Alpha Creditor {suffix}"
    assert api.post("/v1/creditors", {"name": creditor, "team": names["alpha"]}).status == 200
    agent2 = clients[("alpha", "agent2")]
    customer = new_customer(agent2, name=f"Alpha Person {suffix}")
    account = new_account(agent2, customer["id"], creditor=creditor, original_balance_cents=1000000, currency="GBP")
    first = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    # an out-of-policy plan under review (approved by a supervisor), then one waiting for approval
    # (made by alpha's agent: an agent reads the reviews of their own plans)
    reviewed = clients[("alpha", "agent")].post(f"/v1/accounts/{account['id']}/plans",
                                                {"weekly_amount_cents": 2500, "first_due_date": first})
    assert reviewed.status == 201 and reviewed.json()["status"] == "pending_approval", reviewed
    assert clients[("alpha", "supervisor")].post(f"/v1/plans/{reviewed.json()['id']}/approvals", {}).status == 200
    review = clients[("alpha", "supervisor")].get("/v1/reviews").json()["items"]
    review = [r for r in review if r["plan_id"] == reviewed.json()["id"]][0]
    pending = agent2.post(f"/v1/accounts/{account['id']}/plans",
                          {"weekly_amount_cents": 2500, "first_due_date": first,
                           "replaces_plan_id": reviewed.json()["id"]})
    assert pending.status == 201, pending
    payment = clients[("alpha", "finance")].post(
        "/v1/payments", {"account_id": account["id"], "amount_cents": 100, "source": "card", "source_ref": unique("t")},
        headers={"Idempotency-Key": str(uuid.uuid4())})
    assert payment.status == 201, payment
    assert agent2.post(f"/v1/accounts/{account['id']}/affordability",
                       {"income": [{"category": "earnings", "monthly_cents": 200000}], "fixed_costs": [],
                        "flexible_costs": []}).status == 201
    offer = agent2.post(f"/v1/accounts/{account['id']}/settlement-offers", {"offer_cents": 500000})
    escalation = agent2.post("/v1/escalations", {"account_id": account["id"], "reason": "other", "note": "n"})
    assert offer.status == 201 and escalation.status == 201, (offer, escalation)
    spare_key = api.post("/v1/api-keys", {"user_id": second.json()["id"], "name": "spare"}).json()["id"]
    ids = {"customer": customer["id"], "account": account["id"], "plan": pending.json()["id"],
           "review": review["id"], "payment": payment.json()["id"], "offer": offer.json()["id"],
           "escalation": escalation.json()["id"], "user": second.json()["id"], "key": spare_key,
           "policy": api.get("/v1/policies").json()["items"][0]["id"],
           # a personal link of alpha's (this keptd has the page off: made as the page would)
           "link": cluster.psql(f"INSERT INTO kept.self_service_links (account_id, customer_id, token_hash, expires_at, "
                                f"language) VALUES ({account['id']}, {customer['id']}, sha256(random()::text::bytea), "
                                f"now() + interval '1 day', 'en') RETURNING id")[0][0]}
    yield {"clients": clients, "ids": ids, "names": names, "account": account, "customer_name": customer["name"]}
    for c in list(clients.values()) + [api]:
        c.close()


def concrete(path, ids):
    """A route's path with alpha's ids (or ids nothing has, where the route is not about a customer)."""
    resource = {"/v1/customers/": "customer", "/v1/accounts/": "account", "/v1/plans/": "plan",
                "/v1/reviews/": "review", "/v1/payments/": "payment", "/v1/settlement-offers/": "offer",
                "/v1/escalations/": "escalation", "/v1/users/": "user", "/v1/api-keys/": "key",
                "/v1/policies/": "policy", "/v1/self-service-links/": "link"}
    for prefix, kind in resource.items():
        if path.startswith(prefix + "{id}"):
            path = path.replace("{id}", str(ids[kind]), 1)
    path = path.replace("{id}", "999999").replace("{jurisdiction}", "XX").replace("{file}", "chart.umd.js")
    path = path.replace("{name}", "origin")
    if path.startswith("/self-service/"):
        path = "/self-service/style.css"
    if path in ("/v1/calls", "/v1/messages"):
        path += f"?account_id={ids['account']}"
    if path == "/v1/reports/origin":
        path += "?from=2026-01-05&to=2027-01-04"
    return path


def body_for(method, path, ids):
    if method not in ("POST", "PATCH", "PUT"):
        return None, None
    if "imports" in path:
        return "not,a,valid,header\n", "text/csv"
    if path == "/v1/payments":
        return {"account_id": ids["account"], "amount_cents": 1, "source": "card", "source_ref": unique("t")}, None
    if path == "/v1/escalations":
        return {"account_id": ids["account"], "reason": "dispute"}, None
    if path == "/v1/accounts":
        return {"customer_id": ids["customer"], "external_ref": unique("A"), "creditor": unique("Creditor"),
                "original_balance_cents": 100, "currency": "GBP"}, None
    return "{}", "application/json"


def call(client, method, path, ids):
    body, ctype = body_for(method, path, ids)
    headers = {"Idempotency-Key": str(uuid.uuid4())} if path == "/v1/payments" else None
    return client.request(method, path, body, content_type=ctype, headers=headers)


@pytest.mark.parametrize("method,path", sorted(TABLE))
def test_every_route_for_every_role_and_team(server, teams, role_keys, method, path):
    who, scope = TABLE[(method, path)]
    ids, clients = teams["ids"], teams["clients"]
    url = concrete(path, ids)
    if who == "link":
        # a token no keptd signed is refused whoever asks (and this keptd has the page off)
        body = "csrf=x" if method == "POST" else None
        for key in [None] + [role_keys[r] for r in ROLES]:
            r = server.client().request(method, path.replace("{token}", "A" * 54), body, key=key,
                                        content_type="application/x-www-form-urlencoded" if body else None)
            assert r.status == 404 and r.headers["content-type"].startswith("text/html"), (key, r)
        return
    if who == "signed":
        for key in [None] + [role_keys[r] for r in ROLES]:
            r = server.client().request(method, url, "CallSid=CA1&CallStatus=completed&SequenceNumber=1", key=key,
                                        content_type="application/x-www-form-urlencoded")
            assert r.status == 403, (key, r)
        return
    anonymous = call(server.client(), method, url, ids)
    if who == "open":
        assert anonymous.status == 200, anonymous
        return
    assert anonymous.status == 401, anonymous
    # the team that owns the data: allowed roles get past the door, the others 403
    for role in ROLES:
        c = server.client(role_keys["admin"]) if role == "admin" else clients[("alpha", role)]
        r = call(c, method, url, ids)
        if role in who:
            assert r.status not in (401, 403, 404), (role, r)
        else:
            assert r.status == 403 and r.error["code"] == "forbidden_role", (role, r)
    # another team: what names alpha's data is as if it did not exist
    for role in ("agent", "supervisor", "finance"):
        r = call(clients[("beta", role)], method, url, ids)
        if role not in who:
            assert r.status == 403, (role, r)
        elif scope == "team" and ("{id}" in path or "?" in url):
            assert r.status == 404, (role, r)
        elif scope == "team":
            # a write naming alpha's customer or account in its body
            assert r.status == 422 and r.error["code"] in ("unknown_account", "unknown_customer"), (role, r)
        else:
            assert r.status not in (401, 403, 404), (role, r)


def test_lists_show_only_the_teams_own(teams, api):
    ids, clients, account = teams["ids"], teams["clients"], teams["account"]
    for team, seen in (("alpha", True), ("beta", False)):
        for role in ("agent", "supervisor", "finance"):
            c = clients[(team, role)]
            accounts = c.get(f"/v1/accounts?external_ref={account['external_ref']}").json()["items"]
            assert [a["id"] for a in accounts] == ([ids["account"]] if seen else []), (team, role)
            queue = c.get("/v1/escalations?status=all&limit=500").json()["items"]
            assert (ids["escalation"] in [e["id"] for e in queue]) == seen, (team, role)
        reviews = clients[(team, "supervisor")].get("/v1/reviews?status=all&limit=500").json()["items"]
        assert (ids["review"] in [r["id"] for r in reviews]) == seen, team
        # the search looks among the team's customers only: by reference and by name
        for q in (account["external_ref"], teams["customer_name"]):
            r = clients[(team, "agent")].get("/v1/customers?" + urllib.parse.urlencode({"q": q}))
            assert r.status == 200 and (ids["customer"] in [f["id"] for f in r.json()["items"]]) == seen, (team, q)
    # admins see everything
    assert [a["id"] for a in api.get(f"/v1/accounts?external_ref={account['external_ref']}").json()["items"]] == \
        [ids["account"]]


def test_a_customer_of_another_team_is_404_to_an_agent(teams):
    beta = teams["clients"][("beta", "agent")]
    r = beta.get(f"/v1/customers/{teams['ids']['customer']}")
    assert r.status == 404 and r.error["code"] == "customer_not_found", r
    assert beta.get("/v1/customers/987654321").error["code"] == "customer_not_found"  # the same answer
    r = beta.get(f"/v1/accounts?customer_id={teams['ids']['customer']}")
    assert r.status == 404, r
    # and a beta finance user's payment file cannot reach alpha's account
    file = ("account_external_ref,amount_cents,received_at,source,source_ref\r\n"
            f"{teams['account']['external_ref']},100,2026-01-05T10:00:00Z,bacs,{unique('x')}\r\n")
    r = teams["clients"][("beta", "finance")].post("/v1/imports/payments", file, content_type="text/csv")
    assert r.status == 422 and r.json()["error"]["details"]["lines"][0]["code"] == "unknown_account", r
    # an account for a creditor of another team cannot be placed
    r = beta.post("/v1/accounts", {"customer_id": new_customer(beta)["id"], "external_ref": unique("A"),
                                   "creditor": teams["account"]["creditor"], "original_balance_cents": 100,
                                   "currency": "GBP"})
    assert r.status == 422 and r.error["code"] == "creditor_of_another_team", r


def test_reads_of_personal_data_are_logged_for_admins(teams, api):
    c = teams["clients"][("alpha", "agent")]
    cid = teams["ids"]["customer"]
    def newest():
        return api.get(f"/v1/access-log?customer_id={cid}&limit=1").json()["items"][0]["id"]

    last = newest()
    assert c.get(f"/v1/customers/{cid}").status == 200
    assert c.get(f"/v1/accounts/{teams['ids']['account']}/payments").status == 200
    assert c.get(f"/v1/accounts?customer_id={cid}").status == 200
    assert c.get(f"/v1/accounts/{teams['ids']['account']}/overview").status == 200
    assert c.get("/v1/customers?" + urllib.parse.urlencode({"q": teams["account"]["external_ref"]})).status == 200
    new = [e for e in api.get(f"/v1/access-log?customer_id={cid}&limit=10").json()["items"] if e["id"] > last]
    assert [(e["method"], e["route"]) for e in new] == [
        ("GET", "/v1/customers"), ("GET", "/v1/accounts/{id}/overview"), ("GET", "/v1/accounts"),
        ("GET", "/v1/accounts/{id}/payments"), ("GET", "/v1/customers/{id}")], new
    assert all(e["user"]["name"].startswith("alpha agent") and e["customer_id"] == cid for e in new)
    # a refused read is no read
    last = newest()
    teams["clients"][("beta", "agent")].get(f"/v1/customers/{cid}")
    assert newest() == last
    assert c.get("/v1/access-log").status == 403
    assert api.get("/v1/access-log?user_id=x").error["code"] == "invalid_id"


def test_a_rate_limited_key_gets_429_with_retry_after(cluster, role_keys):
    k = Keptd(cluster.url, KEPT_RATE_LIMIT="2", KEPT_RATE_BURST="3")
    try:
        c, other = k.client(role_keys["agent"]), k.client(role_keys["supervisor"])
        statuses = [c.get("/v1/accounts?limit=1") for _ in range(8)]
        limited = [r for r in statuses if r.status == 429]
        assert limited and statuses[0].status == 200, statuses
        assert limited[0].error["code"] == "rate_limited" and int(limited[0].headers["retry-after"]) >= 1
        assert other.get("/v1/accounts?limit=1").status == 200  # per key
        assert k.client().get("/healthz").status == 200         # open routes are not limited
    finally:
        k.assert_clean_exit()


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
    assert created["role"] == "agent" and created["revoked_at"] is None and created["user"]["name"] == "alice"
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
    assert api.post("/v1/api-keys", {"user_id": 987654321}).error["code"] == "unknown_user"
    assert api.post("/v1/api-keys", {"name": "x", "role": "agent", "expires_at": "soon"}).error["code"] == "invalid_time"
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
