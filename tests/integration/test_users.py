"""People, not keys: users own keys (several, each with an expiry), two keys
of one person are one associate, an inactive user's keys stop, existing keys
became users, and the command lines that made keys still do."""
import datetime
import hashlib
import json
import time

from conftest import ROOT, Cluster, Keptd, create_key, keptd_cmd, migrate, new_account, new_customer, unique
from helpers import day


def user(api, roles, **fields):
    r = api.post("/v1/users", {"name": unique("Person"), "roles": roles, **fields})
    assert r.status == 201, r
    return r.json()


def key_of(api, user_id, **fields):
    r = api.post("/v1/api-keys", {"user_id": user_id, **fields})
    assert r.status == 201, r
    return r.json()


def out_of_policy_plan(client, agent):
    c = new_customer(agent)
    a = new_account(agent, c["id"], original_balance_cents=1000000)
    r = client.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 2500, "first_due_date": day(7)})
    assert r.status == 201 and r.json()["status"] == "pending_approval", r
    return r.json()


def test_two_keys_of_one_user_cannot_make_two_associates(server, api):
    ann = user(api, ["agent"])
    first, second = key_of(api, ann["id"], name="laptop"), key_of(api, ann["id"], name="phone")
    assert first["user"] == second["user"] == {"id": ann["id"], "name": ann["name"]}
    ann1, ann2 = server.client(first["key"]), server.client(second["key"])
    plan = out_of_policy_plan(ann1, ann1)
    assert plan["created_by_user"] == {"id": ann["id"], "name": ann["name"]}
    r = ann2.post(f"/v1/plans/{plan['id']}/approvals", {"note": "looks fine to me"})
    assert r.status == 403 and r.error["code"] == "self_approval", r
    assert ann1.post(f"/v1/plans/{plan['id']}/approvals", {}).error["code"] == "self_approval"
    # another person, with their own key, is a second associate
    bob = user(api, ["agent"])
    r = server.client(key_of(api, bob["id"])["key"]).post(f"/v1/plans/{plan['id']}/approvals", {"note": "ok"})
    assert r.status == 200 and r.json()["status"] == "active", r
    assert r.json()["approved_by_user"] == {"id": bob["id"], "name": bob["name"]}
    assert r.json()["created_by_user"]["id"] == ann["id"]


def test_a_key_expires_and_an_inactive_user_has_no_key(server, api):
    u = user(api, ["agent", "supervisor"])
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)).isoformat()
    short = key_of(api, u["id"], expires_at=expires)
    lasting = key_of(api, u["id"])
    c = server.client(short["key"])
    assert c.get("/v1/accounts").status == 200
    deadline = time.time() + 30
    while (r := c.get("/v1/accounts")).status == 200 and time.time() < deadline:
        time.sleep(0.2)
    assert r.status == 401 and r.error["code"] == "expired_api_key", r
    # a key without a role acts in every role its user holds
    other = server.client(lasting["key"])
    # (deciding a review is a supervisor's: past the role check, a review that does not exist)
    assert other.post("/v1/reviews/999999", {"decision": "upheld"}).error["code"] == "review_not_found"
    assert other.get("/v1/accounts").status == 200
    # an inactive user's keys stop; active again, they work again
    assert api.patch(f"/v1/users/{u['id']}", {"active": False}).status == 200
    r = other.get("/v1/accounts")
    assert r.status == 401 and r.error["code"] == "invalid_api_key", r
    assert api.patch(f"/v1/users/{u['id']}", {"active": True}).status == 200
    assert other.get("/v1/accounts").status == 200
    # a role taken away is taken from the user's keys
    assert api.patch(f"/v1/users/{u['id']}", {"roles": ["agent"]}).status == 200
    assert other.post("/v1/reviews/999999", {"decision": "upheld"}).error["code"] == "forbidden_role"
    assert api.post("/v1/api-keys", {"user_id": u["id"], "role": "finance"}).error["code"] == "role_not_held"
    assert api.post("/v1/api-keys", {"user_id": u["id"], "expires_at": "2001-01-01T00:00:00Z"}).error["code"] == \
        "expiry_in_past"


def test_users_are_checked_and_listed(api):
    email = unique("ann") + "@example.com"
    u = user(api, ["finance"], email=email, team="north")
    assert u["team"] == "north" and u["roles"] == ["finance"] and u["active"] and u["keys"] == []
    for body, code in [({"name": "x", "roles": ["root"]}, "invalid_roles"),
                       ({"name": "x", "roles": []}, "invalid_roles"),
                       ({"name": "x", "roles": ["agent", "agent"]}, "invalid_roles"),
                       ({"name": "x", "roles": ["agent"], "email": "not-an-address"}, "invalid_email"),
                       ({"name": "x", "roles": ["agent"], "team": "North Team"}, "invalid_team"),
                       ({"name": "", "roles": ["agent"]}, "invalid_name"),
                       ({"name": "x", "roles": ["agent"], "email": email.upper()}, "duplicate_email")]:
        r = api.post("/v1/users", body)
        assert r.status in (400, 409) and r.error["code"] == code, (body, r)
    assert api.get(f"/v1/users/{u['id']}").json()["email"] == email
    listed = api.get("/v1/users?team=north").json()["items"]
    assert [x["id"] for x in listed] == [u["id"]]
    r = api.patch(f"/v1/users/{u['id']}", {"name": "Ann Renamed"}, headers={"If-Match": '"1"'})
    assert r.status == 200 and r.json()["version"] == 2
    assert api.patch(f"/v1/users/{u['id']}", {"team": "south"}, headers={"If-Match": '"1"'}).status == 412
    assert api.get("/v1/users/987654321").error["code"] == "user_not_found"


def test_the_last_administrator_stays(cluster):
    c = Cluster()
    try:
        migrate(c.url)
        only = create_key(c.url, "admin", "the only admin")
        k = Keptd(c.url)
        try:
            api = k.client(only)
            me = api.get("/v1/users").json()["items"][0]
            r = api.patch(f"/v1/users/{me['id']}", {"active": False})
            assert r.status == 409 and r.error["code"] == "last_admin", r
            assert api.patch(f"/v1/users/{me['id']}", {"roles": ["agent"]}).error["code"] == "last_admin"
            assert api.delete(f"/v1/api-keys/{api.get('/v1/api-keys').json()['items'][0]['id']}").error["code"] == \
                "last_admin_key"
        finally:
            k.assert_clean_exit()
    finally:
        c.destroy()


def test_the_command_lines_make_users_and_keys(cluster, server, api):
    name = unique("Cli Person")
    done = keptd_cmd(cluster.url, "users", "create", "--name", name, "--roles", "agent,supervisor",
                     "--email", unique("cli") + "@example.com", "--team", "cli-team")
    assert done.returncode == 0, done.stderr
    uid = json.loads(done.stdout)["id"]
    k = keptd_cmd(cluster.url, "keys", "create", "--user", str(uid), "--role", "supervisor")
    assert k.returncode == 0, k.stderr
    key = k.stdout.strip().splitlines()[-1]
    assert server.client(key).get("/v1/reviews").status == 200
    # --role/--name as before users: the user of that name, given the role
    again = keptd_cmd(cluster.url, "keys", "create", "--role", "finance", "--name", name)
    assert again.returncode == 0, again.stderr
    u = api.get(f"/v1/users/{uid}").json()
    assert set(u["roles"]) == {"agent", "supervisor", "finance"} and len(u["keys"]) == 2
    assert keptd_cmd(cluster.url, "users", "create", "--name", "x").returncode == 2
    listed = keptd_cmd(cluster.url, "users", "list")
    assert listed.returncode == 0 and name in listed.stdout


def sql_function(path, name, end):
    """The text of one CREATE FUNCTION of a file of sql/functions, up to the line `end`."""
    text = path.read_text()
    start = text.index(f"CREATE OR REPLACE FUNCTION {name}(")
    return text[start:text.index("\n" + end + "\n", start) + len(end) + 1]


def old_database(c):
    """A database at the schema before users (and before the customers' data was sealed)."""
    old = [f for f in sorted((ROOT / "schema").glob("*.sql")) if f.name < "0020"]
    as_kept = "SET ROLE kept;\n"  # the owner keptd connects as
    for f in old:
        c.psql(as_kept + f.read_text(), data_key=None)
    c.psql(as_kept + "CREATE TABLE kept.schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())", data_key=None)
    for f in old:
        c.psql(f"INSERT INTO kept.schema_migrations (name, checksum) VALUES "
               f"('{f.name}', '{hashlib.sha256(f.read_bytes()).hexdigest()}')", data_key=None)
    audit = ROOT / "sql" / "functions" / "10_audit.sql"
    c.psql(as_kept + sql_function(audit, "kept.audit_seal", "END $$;"), data_key=None)
    c.psql(as_kept + sql_function(audit, "kept.audit_verify", "$$;"), data_key=None)


def test_sealing_the_audit_log_refuses_when_partitions_were_archived():
    """0021 rewrites old events and their chain: a partition archived before it records the hash
    the live chain linked to, so the migration refuses, says why, and changes nothing."""
    c = Cluster()
    try:
        old_database(c)
        c.psql("""SET ROLE kept;
            INSERT INTO kept.time_zones VALUES ('Europe/London');
            INSERT INTO kept.customers (external_ref, name, time_zone, jurisdiction)
                VALUES ('OLD-1', 'Archived Era Name', 'Europe/London', 'GB');
            INSERT INTO kept.audit_events (actor, action, entity_type, entity_id, after)
                VALUES ('test', 'customer.created', 'customer', 1, '{"name": "Archived Era Name"}');
            SELECT kept.audit_seal(10);
            INSERT INTO kept.audit_archives (name, range_from, range_to, events, seqs, tail_hashes, digest)
                VALUES ('audit_events_y2020m01', '2020-01-01', '2020-02-01', 0, '{}', '{}', '\\x00');""",
               data_key=None)
        migrated = keptd_cmd(c.url, "migrate")
        assert migrated.returncode != 0 and "archived before it" in migrated.stderr, migrated.stderr
        assert c.psql("SELECT count(*) FROM kept.schema_migrations WHERE name >= '0021'", data_key=None) == [["0"]]
        assert c.psql("SELECT after->>'name' FROM kept.audit_events", data_key=None) == [["Archived Era Name"]]
    finally:
        c.destroy()


def test_existing_keys_become_one_user_each():
    """A database at the schema before users, with keys and a customer whose
    record the audit log holds in clear, migrated: a user per key, the name and
    number sealed, the audit log's personal values sealed and its chain still whole."""
    c = Cluster()
    try:
        old_database(c)
        as_kept = "SET ROLE kept;\n"  # the owner keptd connects as
        c.psql(as_kept + """
            INSERT INTO kept.api_keys (name, role, key_hash) VALUES
                ('Old Agent', 'agent', sha256('a')), ('Old Admin', 'admin', sha256('b'));
            INSERT INTO kept.time_zones VALUES ('Europe/London');
            INSERT INTO kept.customers (external_ref, name, time_zone, jurisdiction)
                VALUES ('OLD-1', 'Old Customer Name', 'Europe/London', 'GB');
            INSERT INTO kept.customer_phones (customer_id, number, position, consent_automated)
                VALUES (1, '+447700900555', 1, true);
            INSERT INTO kept.accounts (customer_id, external_ref, creditor, original_balance_cents, balance_cents,
                                       currency, placed_on)
                VALUES (1, 'OLD-A', 'Old Bank', 100, 100, 'GBP', '2020-01-01');
            INSERT INTO kept.contacts (account_id, customer_id, channel, direction, number, occurred_at, outcome)
                VALUES (1, 1, 'phone', 'outbound', '+447700900555', now(), 'no_answer');
            INSERT INTO kept.audit_events (actor, action, entity_type, entity_id, after)
                VALUES ('test', 'customer.created', 'customer', 1,
                        '{"name": "Old Customer Name", "phones": [{"number": "+447700900555"}]}');
            SELECT kept.audit_seal(10);""", data_key=None)
        assert c.psql("SELECT ok FROM kept.audit_verify()", data_key=None) == [["t"]]
        migrated = keptd_cmd(c.url, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        users = c.psql("SELECT u.name, u.roles::text, u.team FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id "
                       "ORDER BY k.id")
        assert users == [["Old Agent", "{agent}", "default"], ["Old Admin", "{admin}", "default"]]
        assert c.psql("SELECT kept.customer_name(1)") == [["Old Customer Name"]]
        assert c.psql("SELECT kept.pii_open(1, number_enc) FROM kept.customer_phones") == [["+447700900555"]]
        # an agent's logged call: sealed, with the global digest the contact rules compare across customers
        assert c.psql("SELECT kept.pii_open(1, t.number_enc), t.number_gdigest = p.number_gdigest "
                      "FROM kept.contacts t, kept.customer_phones p") == [["+447700900555", "t"]]
        stored = c.psql("SELECT (SELECT string_agg(t::text, ' ') FROM kept.customers t) || "
                        "(SELECT string_agg(t::text, ' ') FROM kept.customer_phones t) || "
                        "(SELECT string_agg(t::text, ' ') FROM kept.contacts t) || "
                        "(SELECT string_agg(t::text, ' ') FROM kept.customer_search t) || "
                        "(SELECT string_agg(t::text, ' ') FROM kept.audit_events t)", data_key=None)[0][0]
        assert "Old Customer" not in stored and "7700900555" not in stored
        assert c.psql("SELECT ok FROM kept.audit_verify()") == [["t"]]
        assert c.psql("SELECT events, old_chain_ok FROM kept.audit_rechains") == [["1", "t"]]
        assert c.psql("SELECT kept.pii_open_text(1, after->>'name') FROM kept.audit_events") == [["Old Customer Name"]]
    finally:
        c.destroy()

