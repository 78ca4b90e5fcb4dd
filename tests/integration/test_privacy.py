"""Personal data: sealed at rest, erased once the retention period of closed
accounts has passed (leaving no name or number anywhere in the database, the
audit chain whole and the reports' figures unchanged), refused before, erased
by the retention job, and readable again after the key is rotated."""
import json
import os
import subprocess
import uuid

import pytest

from conftest import Cluster, Keptd, create_key, keptd_cmd, new_account, new_customer, unique
from helpers import Debtor, assert_verified, finished, run_reminders, wait_for_call

PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
REPORTS = ["summary", "weekly-adherence", "cohorts", "origin", "agents", "reminders", "compliance"]


def dump(cluster):
    """Every row of every table of the database (and so the audit log), as pg_dump writes it."""
    sock = open(cluster.dir + "/socket_dir").read().strip()
    out = subprocess.run(["runuser", "-u", "postgres", "--", PG_DUMP, "-h", sock, "-U", "postgres", "--data-only",
                          "kept"], capture_output=True, text=True, check=True).stdout
    assert "COPY kept.audit_events" in out and "COPY kept.customers" in out
    return out


def pay(finance, account_id, cents):
    r = finance.post("/v1/payments", {"account_id": account_id, "amount_cents": cents, "source": "card",
                                      "source_ref": unique("erase")}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status == 201, r
    return r.json()


@pytest.fixture(scope="module")
def no_retention(server, admin_key):
    """Jurisdiction ZZ keeps nothing once closed (a test's own; GB keeps six years)."""
    api = server.client(admin_key)
    r = api.request("PUT", "/v1/retention-policies/ZZ", {"retain_days": 0, "citation": "tests: erase as soon as closed"})
    assert r.status == 200, r
    yield
    api.close()


def test_names_and_numbers_are_sealed_at_rest(agent, cluster):
    name, number = f"Sealed {uuid.uuid4().hex[:10]}", "+4477009" + str(uuid.uuid4().int)[:5]
    c = new_customer(agent, name=name, phones=[{"number": number, "consent_automated": True}])
    assert agent.get(f"/v1/customers/{c['id']}").json()["name"] == name
    text = dump(cluster)
    assert name not in text and number[1:] not in text
    # readable only with the key: the database alone does not know it
    assert cluster.psql(f"SELECT kept.customer_name({c['id']})") == [[name]]
    for other in ("11" * 32, None):
        with pytest.raises(subprocess.CalledProcessError) as refused:
            cluster.psql(f"SELECT kept.customer_name({c['id']})", data_key=other)
        assert "data key" in refused.value.stderr


def test_erasure_before_the_retention_period_is_refused(api, agent, finance):
    c = new_customer(agent, jurisdiction="GB")
    a = new_account(agent, c["id"], original_balance_cents=5000)
    r = api.post(f"/v1/customers/{c['id']}/erasure", {})
    assert r.status == 422 and r.error["code"] == "accounts_open", r
    pay(finance, a["id"], 5000)  # paid: closed, and kept for six years from today
    r = api.post(f"/v1/customers/{c['id']}/erasure", {"reason": "asked by letter"})
    assert r.status == 422 and r.error["code"] == "retention_not_passed", r
    assert "2190 days" in r.error["message"]
    assert agent.get(f"/v1/customers/{c['id']}").json()["name"] == "Test Customer"
    assert agent.post(f"/v1/customers/{c['id']}/erasure", {}).status == 403
    assert api.post("/v1/customers/987654321/erasure", {}).status == 404


def test_an_erasure_leaves_no_name_or_number_and_keeps_the_chain_and_the_figures(
        phone_server, phone_api, phone_agent, role_keys, telsim, cluster, no_retention):
    fin = phone_server.client(role_keys["finance"])
    supervisor = phone_server.client(role_keys["supervisor"])
    # the suffix is letters that are not hex digits: ciphertext in the dump is hex, and eight hex
    # digits of the name were once found by chance in another customer's sealed name
    name = "Erasmus Quillfeather-" + "".join("ghijklmnopqrstuv"[int(c, 16)] for c in uuid.uuid4().hex[:8])
    d = Debtor(phone_api, phone_agent, jurisdiction="ZZ", tz="America/New_York")
    assert phone_agent.patch(f"/v1/customers/{d.customer['id']}", {"name": name}).status == 200
    number, customer_ref, account_ref = d.number, d.customer["external_ref"], d.account["external_ref"]
    # a reminder call to the number, free text that names them, a returned payment
    telsim.post("/_telsim/callees", {number: {"behaviour": "human", "keys": "1"}})
    run_reminders(phone_api, d.before_due(1))
    wait_for_call(phone_api, d, lambda c: finished(c))
    esc = phone_agent.post("/v1/escalations", {"account_id": d.account["id"], "reason": "other",
                                               "note": f"{name} rang about {number}"})
    assert esc.status == 201, esc
    logged = phone_agent.post(f"/v1/accounts/{d.account['id']}/contacts",
                              {"channel": "phone", "direction": "inbound", "outcome": "conversation", "number": number,
                               "note": f"{name} called in"})
    assert logged.status == 201, logged
    assert [f["id"] for f in phone_agent.get("/v1/customers?q=" + name.split("-")[-1]).json()["items"]] == \
        [d.customer["id"]]
    # a personal link texted to them (issue 17): the number and the words of the text are theirs too
    link = phone_agent.post(f"/v1/accounts/{d.account['id']}/self-service-links", {"send": "sms"})
    assert link.status == 201, link
    returned = pay(fin, d.account["id"], 100)
    assert supervisor.post(f"/v1/payments/{returned['id']}/reversal", {"reason": f"{name}'s bank"}).status == 200
    balance = phone_api.get(f"/v1/accounts/{d.account['id']}").json()["balance_cents"]
    pay(fin, d.account["id"], balance)
    assert phone_api.get(f"/v1/accounts/{d.account['id']}").json()["status"] == "paid"
    before = dump(cluster)
    assert name in before and customer_ref in before  # in the note and the references, until erased
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    figures = {n: phone_api.get(f"/v1/reports/{n}?from=2000-01-03&to=2100-01-04").json()["rows"] for n in REPORTS}
    cluster.psql("SELECT kept.audit_seal(100000)")
    assert cluster.psql("SELECT ok FROM kept.audit_verify()") == [["t"]]
    sealed = cluster.psql(f"SELECT after->>'name' FROM kept.audit_events WHERE entity_type = 'customer' "
                          f"AND entity_id = {d.customer['id']} AND action = 'customer.updated'")[0][0]
    assert sealed.startswith("pii:") and cluster.psql(
        f"SELECT kept.pii_open_text({d.customer['id']}, '{sealed}')") == [[name]]

    r = phone_api.post(f"/v1/customers/{d.customer['id']}/erasure", {"reason": "the customer asked"})
    assert r.status == 200, r
    assert r.json()["phones"] == 1 and r.json()["calls"] >= 1 and r.json()["notes"] >= 2
    after = dump(cluster)
    for needle in (name, name.split("-")[-1], number, number[1:], number[-10:], customer_ref, account_ref):
        assert needle not in after, needle
    # no digest of the number, no search line: nothing left to compare or find them by
    cid = d.customer["id"]
    assert cluster.psql(f"SELECT (SELECT count(*) FROM kept.calls WHERE customer_id = {cid} AND number_gdigest IS NOT NULL)"
                        f" + (SELECT count(*) FROM kept.contacts WHERE customer_id = {cid}"
                        f"    AND (number_gdigest IS NOT NULL OR note IS NOT NULL))"
                        f" + (SELECT count(*) FROM kept.customer_search WHERE customer_id = {cid})"
                        f" + (SELECT count(*) FROM kept.messages WHERE customer_id = {cid}"
                        f"    AND (number_enc IS NOT NULL OR body_enc IS NOT NULL OR number_gdigest IS NOT NULL))"
                        f" + (SELECT count(*) FROM kept.self_service_links WHERE customer_id = {cid}"
                        f"    AND sent_to_enc IS NOT NULL)") == [["0"]]
    assert phone_agent.get("/v1/customers?q=" + name.split("-")[-1]).json()["items"] == []
    # what was sealed under the customer's key cannot be opened any more
    assert cluster.psql(f"SELECT kept.pii_open_text({d.customer['id']}, '{sealed}') IS NULL") == [["t"]]
    assert cluster.psql(f"SELECT count(*) FROM kept.customer_keys WHERE customer_id = {d.customer['id']}") == [["0"]]
    # the audit chain verifies, with the erasure on it
    cluster.psql("SELECT kept.audit_seal(100000)")
    assert cluster.psql("SELECT ok FROM kept.audit_verify()") == [["t"]]
    assert cluster.psql(f"SELECT count(*) FROM kept.audit_events WHERE action = 'customer.erased' "
                        f"AND entity_id = {d.customer['id']}") == [["1"]]
    # the customer is a shell; the figures are what they were
    shown = phone_api.get(f"/v1/customers/{d.customer['id']}").json()
    assert shown["name"] is None and shown["phones"] == [] and shown["erased_at"]
    assert phone_api.post(f"/v1/customers/{d.customer['id']}/erasure", {}).error["code"] == "customer_erased"
    assert phone_agent.patch(f"/v1/customers/{d.customer['id']}", {"name": "Back"}).error["code"] == "customer_erased"
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    for n in REPORTS:
        assert phone_api.get(f"/v1/reports/{n}?from=2000-01-03&to=2100-01-04").json()["rows"] == figures[n], n
    assert_verified(cluster)
    fin.close()
    supervisor.close()


def test_the_retention_job_erases_whom_it_may(api, agent, finance, cluster, no_retention):
    closed = new_customer(agent, jurisdiction="ZZ", name="Closed Long Ago")
    pay(finance, new_account(agent, closed["id"], original_balance_cents=700)["id"], 700)
    still_owing = new_customer(agent, jurisdiction="ZZ")
    new_account(agent, still_owing["id"], original_balance_cents=700)
    kept_six_years = new_customer(agent, jurisdiction="GB")
    pay(finance, new_account(agent, kept_six_years["id"], original_balance_cents=700)["id"], 700)
    done = keptd_cmd(cluster.url, "retention")
    assert done.returncode == 0, done.stderr
    assert closed["id"] in json.loads(done.stdout)["customers"]
    assert api.get(f"/v1/customers/{closed['id']}").json()["erased_at"]
    for c in (still_owing, kept_six_years):
        assert api.get(f"/v1/customers/{c['id']}").json()["erased_at"] is None
    # a past as_of erases no one whose time had not come then
    assert keptd_cmd(cluster.url, "retention", "--as-of", "2001-01-01T00:00:00Z").returncode == 0
    assert keptd_cmd(cluster.url, "retention", "--as-of", "yesterday").returncode == 1


def test_rotating_the_data_key_rewraps_every_data_key():
    c = Cluster()
    old, new = os.urandom(32).hex(), os.urandom(32).hex()
    try:
        assert keptd_cmd(c.url, "migrate", KEPT_DATA_KEY=old).returncode == 0
        key = create_key(c.url, "agent")
        k = Keptd(c.url, KEPT_DATA_KEY=old)
        try:
            agent = k.client(key)
            ids = [new_customer(agent, name=f"Rotated {n}")["id"] for n in range(3)]
        finally:
            k.assert_clean_exit()
        # the new key alone cannot read; with the old one as previous it can, and a rotation re-wraps
        k = Keptd(c.url, KEPT_DATA_KEY=new)
        try:
            assert k.client(key).get(f"/v1/customers/{ids[0]}").status == 500
        finally:
            k.assert_clean_exit()
        done = keptd_cmd(c.url, "data-key", "rotate", KEPT_DATA_KEY=new, KEPT_DATA_KEY_PREVIOUS=old)
        # three data keys and kept's index key (the search's and the numbers' global digests)
        assert done.returncode == 0 and '"rewrapped":4' in done.stdout and '"remaining":0' in done.stdout, done
        k = Keptd(c.url, KEPT_DATA_KEY=new)
        try:
            assert [k.client(key).get(f"/v1/customers/{i}").json()["name"] for i in ids] == \
                [f"Rotated {n}" for n in range(3)]
            # the search's tokens were made under the index key, which the rotation kept
            found = k.client(key).get("/v1/customers?q=rotated").json()["items"]
            assert sorted(f["id"] for f in found) == ids, found
        finally:
            k.assert_clean_exit()
        assert old not in k.log() and new not in k.log()
    finally:
        c.destroy()


def test_migrate_and_serve_need_the_data_key(cluster):
    done = keptd_cmd(cluster.url, "migrate", KEPT_DATA_KEY="")
    assert done.returncode == 2 and "KEPT_DATA_KEY: is required" in done.stderr
