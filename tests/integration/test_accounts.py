"""Accounts: one debt each; integer cents with a currency; paging."""
import pytest

from conftest import new_account, new_customer, unique


def test_create_read_and_audit(agent, cluster):
    c = new_customer(agent)
    a = new_account(agent, c["id"], original_balance_cents=250075, balance_cents=100000,
                    currency="USD", placed_on="2026-01-15", creditor="First National")
    assert a["customer_id"] == c["id"] and a["status"] == "open"
    assert a["original_balance_cents"] == 250075 and a["balance_cents"] == 100000
    assert a["placed_on"] == "2026-01-15"
    assert agent.get(f"/v1/accounts/{a['id']}").json() == a
    assert cluster.psql(f"SELECT action FROM kept.audit_events WHERE entity_type = 'account' "
                        f"AND entity_id = {a['id']}") == [["account.created"]]


def test_balance_defaults_to_original(agent):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=999)
    assert a["balance_cents"] == 999


@pytest.mark.parametrize("change,status,code,field", [
    ({"original_balance_cents": 0}, 400, "invalid_amount", "original_balance_cents"),
    ({"original_balance_cents": -100}, 400, "invalid_amount", "original_balance_cents"),
    ({"original_balance_cents": 10.5}, 400, "invalid_type", "original_balance_cents"),
    ({"original_balance_cents": "100"}, 400, "invalid_type", "original_balance_cents"),
    ({"original_balance_cents": 10 ** 15}, 400, "out_of_range", "original_balance_cents"),
    ({"original_balance_cents": 1e30}, 400, "out_of_range", "original_balance_cents"),
    ({"balance_cents": -1}, 400, "invalid_amount", "balance_cents"),
    ({"currency": "usd"}, 400, "invalid_currency", "currency"),
    ({"currency": "DOLLARS"}, 400, "too_long", "currency"),
    ({"placed_on": "2026-13-01"}, 400, "invalid_date", "placed_on"),
    ({"creditor": ""}, 400, "invalid_creditor", "creditor"),
    ({"customer_id": 987654321}, 422, "unknown_customer", "customer_id"),
    ({"customer_id": "1"}, 400, "invalid_type", "customer_id"),
    ({"status": "paid"}, 400, "unknown_field", "status"),
])
def test_bad_input(agent, cluster, change, status, code, field):
    c = new_customer(agent)
    body = {"customer_id": c["id"], "external_ref": unique("A"), "creditor": "Bank",
            "original_balance_cents": 1000, "currency": "GBP"}
    body.update(change)
    r = agent.post("/v1/accounts", body)
    assert r.status == status, r
    assert r.error["code"] == code and r.error["details"].get("field") == field, r
    assert cluster.psql(f"SELECT count(*) FROM kept.accounts WHERE external_ref = '{body['external_ref']}'") == [["0"]]


def test_largest_amount_round_trips_exactly(agent):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=999999999999999)
    assert agent.get(f"/v1/accounts/{a['id']}").json()["original_balance_cents"] == 999999999999999


def test_duplicate_reference(agent):
    c = new_customer(agent)
    a = new_account(agent, c["id"])
    r = agent.post("/v1/accounts", {"customer_id": c["id"], "external_ref": a["external_ref"], "creditor": "B",
                                    "original_balance_cents": 1, "currency": "GBP"})
    assert r.status == 409 and r.error["code"] == "duplicate_external_ref"


def test_list_by_customer_with_cursor_pages(agent):
    c = new_customer(agent)
    made = [new_account(agent, c["id"], original_balance_cents=100 * (i + 1))["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        path = f"/v1/accounts?customer_id={c['id']}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = agent.get(path).json()
        seen += [a["id"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == made and pages == 3


def test_list_by_external_ref(agent):
    a = new_account(agent, new_customer(agent)["id"])
    page = agent.get(f"/v1/accounts?external_ref={a['external_ref']}").json()
    assert [x["id"] for x in page["items"]] == [a["id"]] and page["next_cursor"] is None
    assert agent.get("/v1/accounts?external_ref=nothing-like-this").json()["items"] == []


def test_list_refusals(agent):
    assert agent.get("/v1/accounts?cursor=garbage!").error["code"] == "invalid_cursor"
    assert agent.get("/v1/accounts?limit=0").error["code"] == "invalid_limit"
    assert agent.get("/v1/accounts?limit=501").error["code"] == "invalid_limit"
    assert agent.get("/v1/accounts?limit=").error["code"] == "invalid_limit"  # empty is not "the default"
    assert agent.get("/v1/accounts?customer_id=abc").error["code"] == "invalid_id"
    assert agent.get("/v1/accounts?external_ref=%FF").status == 400
