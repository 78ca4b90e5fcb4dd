"""Payments over HTTP: idempotency, allocation, refusals, reversals, files."""
import concurrent.futures
import csv
import datetime
import io
import time
import uuid

import pytest

from conftest import new_account, new_customer, unique
from helpers import day, make_plan


def pay(client, account_id, cents, key=None, received_at=None, source="card", source_ref=None):
    body = {"account_id": account_id, "amount_cents": cents,
            "received_at": received_at or datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "source": source, "source_ref": source_ref or unique("ref")}
    return client.post("/v1/payments", body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


@pytest.fixture
def account(agent):
    c = new_customer(agent, time_zone="America/New_York")
    return new_account(agent, c["id"], original_balance_cents=30000, currency="USD")


def test_the_same_key_and_body_answer_the_same_result(agent, account, cluster, finance):
    key = str(uuid.uuid4())
    body = {"account_id": account["id"], "amount_cents": 1000, "received_at": "2026-01-05T10:00:00Z",
            "source": "card", "source_ref": unique("ref")}
    first = finance.post("/v1/payments", body, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    # the same body, written differently, is the same request
    again = finance.post("/v1/payments", '{ "source_ref": "%s", "account_id": %d, "amount_cents": 1000, '
                       '"received_at": "2026-01-05T10:00:00Z", "source": "card" }' % (body["source_ref"], account["id"]),
                       headers={"Idempotency-Key": key}, content_type="application/json")
    assert first.json()["replayed"] is False and "idempotent-replayed" not in first.headers
    assert again.status == 201 and again.json() == dict(first.json(), replayed=True)
    assert again.headers["idempotent-replayed"] == "true"
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE account_id = {account['id']}") == [["1"]]
    other = finance.post("/v1/payments", dict(body, amount_cents=2000), headers={"Idempotency-Key": key})
    assert other.status == 422 and other.error["code"] == "idempotency_key_reused"
    assert agent.get(f"/v1/accounts/{account['id']}").json()["balance_cents"] == 29000


def test_received_at_left_out_is_when_it_was_first_posted(agent, account, cluster, finance):
    """A payment without received_at was received when it is posted; a retry
    under the same key a moment later is the same request, not a new one."""
    key = str(uuid.uuid4())
    body = {"account_id": account["id"], "amount_cents": 500, "source": "agent", "source_ref": unique("ref")}
    before = datetime.datetime.now(datetime.timezone.utc)
    first = finance.post("/v1/payments", body, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    received = datetime.datetime.fromisoformat(first.json()["received_at"].replace("Z", "+00:00"))
    assert before - datetime.timedelta(seconds=2) <= received <= datetime.datetime.now(datetime.timezone.utc)
    time.sleep(1.1)
    again = finance.post("/v1/payments", body, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.json() == dict(first.json(), replayed=True)
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE account_id = {account['id']}") == [["1"]]


def test_concurrent_retries_post_once(server, role_keys, account, cluster):
    key, ref = str(uuid.uuid4()), unique("ref")

    def retry(_):
        c = server.client(role_keys["finance"])
        try:
            r = pay(c, account["id"], 700, key=key, received_at="2026-01-05T10:00:00Z", source_ref=ref)
            return r.status, r.json()["id"]
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = set(pool.map(retry, range(8)))
    assert len(results) == 1 and next(iter(results))[0] == 201
    assert cluster.psql(f"SELECT count(*), sum(amount_cents) FROM kept.payments WHERE account_id = {account['id']}") == [["1", "700"]]


def test_a_key_belongs_to_the_api_key_that_sent_it(agent, second_agent_client, account, cluster, finance):
    key = str(uuid.uuid4())
    assert pay(finance, account["id"], 100, key=key).status == 201
    assert pay(second_agent_client, account["id"], 100, key=key).status == 201
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE idempotency_key = '{key}'") == [["2"]]


@pytest.fixture
def second_agent_client(server, cluster):
    from conftest import create_key
    c = server.client(create_key(cluster.url, "finance"))
    yield c
    c.close()


def test_allocation_oldest_first_and_completion(agent, account, finance):
    plan = make_plan(agent, account, 10000, day(2, "America/New_York")).json()
    r = pay(finance, account["id"], 15000)
    assert r.status == 201
    p = r.json()
    assert [(a["seq"], a["amount_cents"]) for a in p["allocations"]] == [(1, 10000), (2, 5000)]
    assert p["plan_id"] == plan["id"] and p["balance_after_cents"] == 15000
    paid = [i["amount_paid_cents"] for i in agent.get(f"/v1/plans/{plan['id']}").json()["installments"]]
    assert paid == [10000, 5000, 0]
    pay(finance, account["id"], 15000)
    assert agent.get(f"/v1/plans/{plan['id']}").json()["status"] == "completed"
    acct = agent.get(f"/v1/accounts/{account['id']}").json()
    assert acct["status"] == "paid" and acct["balance_cents"] == 0
    assert [x["amount_cents"] for x in agent.get(f"/v1/accounts/{account['id']}/payments").json()["items"]] == [15000, 15000]


def test_payment_without_a_plan_reduces_the_balance(agent, account, finance):
    r = pay(finance, account["id"], 1234)
    assert r.status == 201 and r.json()["allocations"] == [] and r.json()["plan_id"] is None
    assert agent.get(f"/v1/accounts/{account['id']}").json()["balance_cents"] == 30000 - 1234


@pytest.mark.parametrize("change,status,code", [
    ({"amount_cents": 0}, 400, "invalid_amount"),
    ({"amount_cents": -100}, 400, "invalid_amount"),
    ({"amount_cents": 10.5}, 400, "invalid_type"),
    ({"amount_cents": 30001}, 422, "payment_above_balance"),
    ({"account_id": 987654321}, 422, "unknown_account"),
    ({"received_at": "2999-01-01T00:00:00Z"}, 422, "received_at_in_future"),
    ({"received_at": "yesterday"}, 400, "invalid_received_at"),
    ({"received_at": "2026-02-30T10:00:00Z"}, 400, "invalid_received_at"),
    ({"source": "Card Payments!"}, 400, "invalid_source"),
    ({"source_ref": ""}, 400, "invalid_source_ref"),
    ({"extra": 1}, 400, "unknown_field"),
])
def test_refusals(agent, account, cluster, change, status, code, finance):
    body = {"account_id": account["id"], "amount_cents": 100, "received_at": "2026-01-05T10:00:00Z",
            "source": "card", "source_ref": unique("ref")}
    body.update(change)
    r = finance.post("/v1/payments", body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == status and r.error["code"] == code, r
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE account_id = {account['id']}") == [["0"]]


def test_idempotency_key_is_required_and_checked(agent, account, finance):
    body = {"account_id": account["id"], "amount_cents": 100, "received_at": "2026-01-05T10:00:00Z",
            "source": "card", "source_ref": unique("ref")}
    assert finance.post("/v1/payments", body).error["code"] == "missing_idempotency_key"
    assert finance.post("/v1/payments", body, headers={"Idempotency-Key": "has space"}).error["code"] == "invalid_idempotency_key"
    assert finance.post("/v1/payments", body, headers={"Idempotency-Key": "x" * 201}).error["code"] == "invalid_idempotency_key"


def test_duplicate_source_ref(agent, account, finance):
    ref = unique("ref")
    assert pay(finance, account["id"], 100, source_ref=ref).status == 201
    r = pay(finance, account["id"], 100, source_ref=ref)
    assert r.status == 409 and r.error["code"] == "duplicate_source_ref"
    assert pay(finance, account["id"], 100, source_ref=ref, source="bank_transfer").status == 201  # unique per source


def test_reversal(agent, account, cluster, finance):
    plan = make_plan(agent, account, 10000, day(2, "America/New_York")).json()
    p = pay(finance, account["id"], 10000).json()
    r = finance.post(f"/v1/payments/{p['id']}/reversal", {"reason": "chargeback"})
    assert r.status == 200 and r.json()["status"] == "reversed" and r.json()["reversal_reason"] == "chargeback"
    assert agent.get(f"/v1/accounts/{account['id']}").json()["balance_cents"] == 30000
    assert agent.get(f"/v1/plans/{plan['id']}").json()["installments"][0]["amount_paid_cents"] == 0
    again = finance.post(f"/v1/payments/{p['id']}/reversal", {"reason": "again"})
    assert again.status == 409 and again.error["code"] == "payment_already_reversed"
    assert finance.post("/v1/payments/987654321/reversal", {"reason": "x"}).status == 404
    assert agent.post(f"/v1/payments/{p['id']}/reversal", {"reason": "x"}).error["code"] == "forbidden_role"
    esc = agent.get(f"/v1/escalations?account_id={account['id']}").json()["items"]
    assert [(e["reason"], e["payment_id"], e["priority"]) for e in esc] == [("payment_reversed", p["id"], 1)]


# ---- payment files ------------------------------------------------------------------------

def payment_file(rows, header=("account_external_ref", "amount_cents", "received_at", "source", "source_ref")):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def test_payment_file_posts_once(api, agent, cluster):
    accounts = [new_account(agent, new_customer(agent)["id"], original_balance_cents=50000) for _ in range(3)]
    prefix = unique("bacs")
    rows = [(a["external_ref"], 1000 * (i + 1), "2026-01-05T09:00:00Z", "bacs", f"{prefix}-{i}")
            for i, a in enumerate(accounts)]
    rows.append((accounts[0]["external_ref"], 500, "2026-01-05T09:00:00+01:00", "bacs", f"{prefix}-x"))
    text = payment_file(rows)
    r = api.post("/v1/imports/payments", text, content_type="text/csv")
    assert r.status == 201, r
    s = r.json()
    assert (s["lines"], s["posted"], s["duplicates"], s["rejected"], s["amount_cents"]) == (4, 4, 0, 0, 6500)
    assert agent.get(f"/v1/accounts/{accounts[0]['id']}").json()["balance_cents"] == 50000 - 1500
    again = api.post("/v1/imports/payments", text, content_type="text/csv").json()
    assert (again["posted"], again["duplicates"], again["amount_cents"]) == (0, 4, 0)
    assert agent.get(f"/v1/accounts/{accounts[0]['id']}").json()["balance_cents"] == 50000 - 1500
    audit = cluster.psql(f"SELECT after->>'posted' FROM kept.audit_events WHERE action = 'payments.imported' "
                         f"AND entity_id = {s['import_id']}")
    assert audit == [["4"]]


def test_a_broken_line_in_the_middle_posts_nothing(api, agent, cluster):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=50000)
    prefix = unique("f")
    good = [(a["external_ref"], 100, "2026-01-05T09:00:00Z", "bacs", f"{prefix}-{i}") for i in range(4)]
    text = payment_file(good[:2]) + 'a stray "quote,100\n' + payment_file(good[2:]).split("\n", 1)[1]
    text += "no-such-account,100,2026-01-05T09:00:00Z,bacs,%s-u\n" % prefix
    text += "%s,12.5,2026-13-01T00:00:00Z,Bad Source,%s-0\n" % (a["external_ref"], prefix)
    text += "%s,100,2026-01-05T09:00:00Z,bacs,%s-1\n" % (a["external_ref"], prefix)
    r = api.post("/v1/imports/payments", text, content_type="text/csv")
    assert r.status == 422 and r.error["code"] == "import_rejected"
    problems = {(p["line"], p["code"]) for p in r.error["details"]["lines"]}
    assert (4, "stray_quote") in problems
    assert any(code == "unknown_account" for _, code in problems)
    assert {"invalid_amount", "invalid_received_at", "invalid_source", "duplicate_in_file"} <= {c for _, c in problems}
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE source_ref LIKE '{prefix}-%'") == [["0"]]


def test_file_conflicts_and_balances(api, agent):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=1000)
    prefix = unique("c")
    assert api.post("/v1/imports/payments", payment_file([(a["external_ref"], 300, "2026-01-05T09:00:00Z", "bacs",
                                                            f"{prefix}-1")]), content_type="text/csv").status == 201
    r = api.post("/v1/imports/payments", payment_file([
        (a["external_ref"], 400, "2026-01-05T09:00:00Z", "bacs", f"{prefix}-1"),   # same ref, other amount
        (a["external_ref"], 600, "2026-01-05T09:00:00Z", "bacs", f"{prefix}-2"),
        (a["external_ref"], 600, "2026-01-05T09:00:00Z", "bacs", f"{prefix}-3")]), content_type="text/csv")
    codes = {(p["line"], p["code"]) for p in r.error["details"]["lines"]}
    assert codes == {(2, "source_ref_conflict"), (4, "payment_above_balance")}


# keptd checks file lines in C (service/src/text/) and single payments in SQL
# (kept.is_timestamp, the payments CHECKs): the two must draw the same line.
FORMAT_CASES = [
    ("received_at", "2026-01-05T10:00:00Z"), ("received_at", "2026-01-05 10:00Z"),
    ("received_at", "2026-01-05T10:00:00.123456+05:30"), ("received_at", "2026-01-05T10:00:00-0330"),
    ("received_at", "2026-01-05T10:00:00+15:59"), ("received_at", "2026-01-05T10:00:00+16:00"),
    ("received_at", "0000-01-05T10:00:00Z"), ("received_at", "2023-02-29T10:00:00Z"),
    ("received_at", "2024-02-29T10:00:00Z"), ("received_at", "2026-01-05T10:00:00"),
    ("received_at", "2026-01-05T10:00:00.1234567Z"), ("received_at", "2026-01-05T24:00:00Z"),
    ("received_at", "epoch"), ("received_at", "2026-01-05T10:00:00+1"),
    ("source", "bacs"), ("source", "processor:stripe"), ("source", "Bacs"), ("source", "-bacs"),
    ("source", "a" * 40), ("source", "a" * 41),
    ("source_ref", "r" * 128), ("source_ref", "r" * 129), ("source_ref", "é" * 128), ("source_ref", "tab\there"),
    ("source_ref", "del\x7f"),
]


def test_file_lines_and_single_payments_follow_the_same_format_rules(api, agent, finance):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=10_000_000)
    prefix = unique("fmt")
    single, rows = {}, []
    for i, (field, value) in enumerate(FORMAT_CASES):
        if field == "source_ref" and len(value) > 40:  # unique, the same length and kind of characters
            value = f"{prefix}-{i}-" + value[len(prefix) + 4:]
        body = {"received_at": "2026-01-05T10:00:00Z", "source": "card", "source_ref": f"{prefix}-s{i}"}
        body[field] = value
        r = pay(finance, a["id"], 1, received_at=body["received_at"], source=body["source"],
                source_ref=body["source_ref"])
        assert r.status in (201, 400), (field, value, r)
        single[i] = r.status == 201
        line = {"received_at": "2026-01-05T10:00:00Z", "source": "card", "source_ref": f"{prefix}-f{i}"}
        line[field] = value
        rows.append((a["external_ref"], 1, line["received_at"], line["source"], line["source_ref"]))
    r = api.post("/v1/imports/payments", payment_file(rows), content_type="text/csv")
    bad_lines = {p["line"] for p in r.error["details"]["lines"]} if r.status == 422 else set()
    in_file = {i: (i + 2) not in bad_lines for i in range(len(FORMAT_CASES))}
    disagree = [FORMAT_CASES[i] for i in single if single[i] != in_file[i]]
    assert not disagree, disagree
    assert sum(single.values()) not in (0, len(FORMAT_CASES))  # the cases hold both kinds


def test_a_line_that_is_not_utf8_is_reported_and_nothing_posted(api, agent, cluster):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=50000)
    prefix = unique("u")
    text = payment_file([(a["external_ref"], 100, "2026-01-05T09:00:00Z", "bacs", f"{prefix}-1")])
    body = text.encode() + f"{a['external_ref']},100,2026-01-05T09:00:00Z,bacs,{prefix}-\xff\n".encode("latin-1")
    r = api.post("/v1/imports/payments", body, content_type="text/csv")
    assert r.status == 422, r
    assert [(p["line"], p["code"]) for p in r.error["details"]["lines"]] == [(3, "invalid_utf8")]
    assert cluster.psql(f"SELECT count(*) FROM kept.payments WHERE source_ref LIKE '{prefix}-%'") == [["0"]]


def test_every_problem_of_a_line_is_listed(api, agent):
    a = new_account(agent, new_customer(agent)["id"], original_balance_cents=50000)
    text = payment_file([(a["external_ref"], "0", "2026-02-30T09:00:00Z", "", "")])
    r = api.post("/v1/imports/payments", text, content_type="text/csv")
    assert r.status == 422
    got = [(p["line"], p["code"], p.get("field")) for p in r.error["details"]["lines"]]
    assert got == [(2, "invalid_amount", "amount_cents"), (2, "invalid_received_at", "received_at"),
                   (2, "missing_value", "source"), (2, "missing_value", "source_ref")]
    assert all(p["message"] for p in r.error["details"]["lines"])
