"""Customers: the debtor with phones, consent, time zone and restrictions."""
import concurrent.futures

import pytest

from conftest import new_customer, unique

GOOD = {"name": "Ann Example", "time_zone": "America/Los_Angeles", "jurisdiction": "US-CA",
        "language": "es-US",
        "phones": [{"number": "+14155550123", "consent_automated": True},
                   {"number": "+14155550124", "consent_automated": False}],
        "contact_restrictions": {"attorney_represented": True, "moratorium_until": "2027-03-01"}}


def test_create_and_read_back(agent, cluster):
    ref = unique("C")
    r = agent.post("/v1/customers", dict(GOOD, external_ref=ref))
    assert r.status == 201, r
    c = r.json()
    assert c["external_ref"] == ref and c["language"] == "es-US" and c["version"] == 1
    assert [p["number"] for p in c["phones"]] == ["+14155550123", "+14155550124"]
    assert c["phones"][0]["consent_automated"] is True and c["phones"][1]["consent_automated"] is False
    assert c["contact_restrictions"] == {"cease_communication": False, "attorney_represented": True,
                                         "bankruptcy": False, "dispute_open": False, "vulnerable": False,
                                         "moratorium_until": "2027-03-01"}
    got = agent.get(f"/v1/customers/{c['id']}")
    assert got.status == 200 and got.json() == c
    assert got.headers["etag"] == '"1"'
    rows = cluster.psql(f"SELECT action, actor LIKE 'key:%' FROM kept.audit_events "
                        f"WHERE entity_type = 'customer' AND entity_id = {c['id']}")
    assert rows == [["customer.created", "t"]]


def test_unknown_customer_is_404(agent):
    for path in ("/v1/customers/987654321", "/v1/customers/abc", "/v1/customers/0", "/v1/customers/-1"):
        r = agent.get(path)
        assert r.status == 404 and r.error["code"] == "customer_not_found", path


@pytest.mark.parametrize("change,status,code,field", [
    ({"time_zone": "Mars/Olympus_Mons"}, 400, "invalid_time_zone", "time_zone"),
    ({"time_zone": "EST5EDT+junk"}, 400, "invalid_time_zone", "time_zone"),
    ({"jurisdiction": "usa"}, 400, "invalid_jurisdiction", "jurisdiction"),
    ({"language": "English"}, 400, "invalid_language", "language"),
    ({"name": "   "}, 400, "invalid_name", "name"),
    ({"name": "x" * 201}, 400, "too_long", "name"),
    ({"external_ref": "has spaces"}, 400, "invalid_external_ref", "external_ref"),
    ({"external_ref": "x" * 65}, 400, "too_long", "external_ref"),
    ({"phones": [{"number": "4155550123", "consent_automated": True}]}, 400, "invalid_phone", "phones"),
    ({"phones": [{"number": "+1 415 555", "consent_automated": True}]}, 400, "invalid_phone", "phones"),
    ({"phones": [{"number": "+14155550123"}]}, 400, "missing_field", "phones[0].consent_automated"),
    ({"phones": [{"number": "+14155550123", "consent_automated": "yes"}]}, 400, "invalid_type",
     "phones[0].consent_automated"),
    ({"phones": [{"number": "+14155550123", "consent_automated": True}] * 2}, 400, "duplicate_phone", "phones"),
    ({"contact_restrictions": {"bankrupt": True}}, 400, "unknown_field", "contact_restrictions.bankrupt"),
    ({"contact_restrictions": {"moratorium_until": "2026-02-30"}}, 400, "invalid_date",
     "contact_restrictions.moratorium_until"),
    ({"nickname": "A"}, 400, "unknown_field", "nickname"),
    ({"name": 12}, 400, "invalid_type", "name"),
])
def test_bad_input_names_the_field(agent, cluster, change, status, code, field):
    ref = unique("BAD")
    body = dict(GOOD, external_ref=ref)
    body.update(change)
    r = agent.post("/v1/customers", body)
    assert r.status == status, r
    assert r.error["code"] == code and r.error["details"].get("field") == field, r
    # nothing half-written
    assert cluster.psql(f"SELECT count(*) FROM kept.customers WHERE external_ref = '{body['external_ref'][:64]}'") == [["0"]]


def test_required_fields(agent):
    for missing in ("external_ref", "name", "time_zone", "jurisdiction"):
        body = dict(GOOD, external_ref=unique("R"))
        del body[missing]
        r = agent.post("/v1/customers", body)
        assert r.status == 400 and r.error["code"] == "missing_field" and r.error["details"]["field"] == missing


def test_duplicate_external_ref_is_409_and_writes_nothing(agent, cluster):
    c = new_customer(agent)
    before = cluster.psql("SELECT count(*) FROM kept.audit_events")[0][0]
    r = agent.post("/v1/customers", dict(GOOD, external_ref=c["external_ref"]))
    assert r.status == 409 and r.error["code"] == "duplicate_external_ref"
    assert cluster.psql("SELECT count(*) FROM kept.audit_events")[0][0] == before


def test_concurrent_creates_of_one_reference(server, role_keys):
    ref = unique("RACE")

    def create(_):
        c = server.client(role_keys["agent"])
        try:
            return c.post("/v1/customers", dict(GOOD, external_ref=ref, phones=[])).status
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(create, range(8)))
    assert statuses == [201] + [409] * 7


def test_update_changes_only_what_is_given(agent, cluster):
    c = new_customer(agent, **{k: v for k, v in GOOD.items()})
    r = agent.patch(f"/v1/customers/{c['id']}", {"contact_restrictions": {"cease_communication": True,
                                                                          "moratorium_until": None}})
    assert r.status == 200, r
    u = r.json()
    assert u["version"] == 2 and r.headers["etag"] == '"2"'
    assert u["contact_restrictions"]["cease_communication"] is True
    assert u["contact_restrictions"]["attorney_represented"] is True
    assert u["contact_restrictions"]["moratorium_until"] is None
    assert u["name"] == c["name"] and u["phones"] == c["phones"]
    rows = cluster.psql(f"SELECT before->'contact_restrictions'->>'cease_communication', "
                        f"after->'contact_restrictions'->>'cease_communication' FROM kept.audit_events "
                        f"WHERE action = 'customer.updated' AND entity_id = {c['id']}")
    assert rows == [["false", "true"]]


def test_update_with_if_match(agent):
    c = new_customer(agent)
    path = f"/v1/customers/{c['id']}"
    assert agent.patch(path, {"name": "First"}, headers={"If-Match": '"1"'}).status == 200
    stale = agent.patch(path, {"name": "Second"}, headers={"If-Match": '"1"'})
    assert stale.status == 412 and stale.error["code"] == "version_mismatch"
    assert agent.get(path).json()["name"] == "First"
    assert agent.patch(path, {"name": "x"}, headers={"If-Match": "banana"}).error["code"] == "invalid_if_match"


def test_update_refusals(agent):
    c = new_customer(agent)
    path = f"/v1/customers/{c['id']}"
    assert agent.patch(path, {}).error["code"] == "empty_update"
    assert agent.patch(path, {"external_ref": "NEW"}).error["code"] == "unknown_field"
    assert agent.patch(path, {"time_zone": "Nowhere/Land"}).error["code"] == "invalid_time_zone"
    assert agent.patch("/v1/customers/987654321", {"name": "x"}).status == 404
    assert agent.get(path).json()["version"] == 1  # refused updates changed nothing


def test_hostile_strings_are_stored_exactly(agent):
    name = "Robert'); DROP TABLE kept.customers;-- $(rm -rf /) `id` \\ \" Zoë 😀"
    c = new_customer(agent, name=name)
    assert agent.get(f"/v1/customers/{c['id']}").json()["name"] == name
