"""Hostile input stored or refused exactly, never executed; secrets and full
phone numbers kept out of the logs."""
import re

from conftest import new_account, new_customer
from helpers import Debtor, finished, run_reminders, wait_for_call

HOSTILE = [
    "Robert'); DROP TABLE kept.customers; --",
    "$(rm -rf /) `reboot` && echo pwned | sh; ${IFS}",
    "%s%n%x \\\\ \" ' < > & | ;",
    "Zoë 😀 \u202e right-to-left",
]


def test_sql_and_shell_metacharacters_are_stored_exactly(agent, cluster):
    for name in HOSTILE:
        c = new_customer(agent, name=name)
        got = agent.get(f"/v1/customers/{c['id']}").json()
        assert got["name"] == name
        a = new_account(agent, c["id"], creditor=name[:200])
        assert agent.get(f"/v1/accounts/{a['id']}").json()["creditor"] == name[:200]
    # control characters are refused, with the field named
    r = agent.post("/v1/customers", {"external_ref": "CTRL-1", "name": "tab\there", "time_zone": "UTC",
                                     "jurisdiction": "GB"})
    assert r.status == 400 and r.error["code"] == "invalid_name", r
    # nothing was executed: the tables are all there
    assert cluster.psql("SELECT count(*) > 0 FROM kept.customers") == [["t"]]


def test_huge_numbers_are_refused_not_rounded(agent):
    c = new_customer(agent)
    for amount, code in [(10 ** 15, "out_of_range"), (1e300, "out_of_range"), (12.5, "invalid_type"),
                         (-1, None), ("100", "invalid_type")]:
        r = agent.post("/v1/accounts", {"customer_id": c["id"], "external_ref": f"HUGE-{id(amount)}-{c['id']}",
                                        "creditor": "Acme", "original_balance_cents": amount, "currency": "USD"})
        assert r.status in (400, 422), (amount, r)
        if code:
            assert r.error["code"] == code, (amount, r)


def test_invalid_utf8_in_a_query_or_a_csv_line_is_refused(api, agent):
    r = agent.get("/v1/accounts?external_ref=%FF%FE")
    assert r.status in (200, 400), r  # refused, or matched nothing: never a 500
    bad = b"account_external_ref,amount_cents,received_at,source,source_ref\n\xff\xfe,100,2026-01-01T00:00:00Z,card,x\n"
    r = api.post("/v1/imports/payments", bad, content_type="text/csv")
    assert r.status == 422, r
    assert any(l["code"] == "invalid_utf8" for l in r.json()["error"]["details"]["lines"]), r


def test_keys_and_full_phone_numbers_never_reach_the_log(phone_server, phone_api, phone_agent, telsim, role_keys,
                                                        admin_key):
    d = Debtor(phone_api, phone_agent)
    telsim.post("/_telsim/callees", {d.number: {"behaviour": "human", "keys": "19"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c) and c["digits"] == "19")
    log = phone_server.log()
    for key in list(role_keys.values()) + [admin_key]:
        assert key not in log and key[6:20] not in log
    assert d.number not in log and d.number[1:] not in log and d.number[-10:] not in log
    # no E.164 number in full anywhere in keptd's log (the caller id is configuration, shown masked too)
    assert not re.search(r"\+\d{8,15}\b", log), re.search(r".{60}\+\d{8,15}.{20}", log)
    assert "telsim-secret-token" not in log
