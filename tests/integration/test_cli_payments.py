"""Payments, reversals, payment files and escalations through the kept client."""
import json
import time

from conftest import new_account, new_customer, unique
from helpers import kept


def test_pay_reverse_and_escalate(server, role_keys, admin_key, tmp_path):
    agent_key, key = role_keys["agent"], role_keys["finance"]  # agents negotiate; finance posts money
    api = server.client(agent_key)
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000, currency="GBP")
    a = str(acct["id"])

    r = kept(server, key, "pay", a, "--amount", "125.50", "--source", "card", "--ref", unique("cli"))
    assert r.returncode == 0, r.stderr
    assert "125.50 GBP on account" in r.stdout and "balance 374.50 GBP" in r.stdout
    payment_id = r.stdout.split()[1].rstrip(":")

    # the same command again with the same Idempotency-Key, a moment later (a retry), posts once
    ref = unique("cli")
    once = kept(server, key, "--json", "pay", a, "--amount", "1.00", "--ref", ref, "--idempotency-key", "cli-key-" + ref)
    time.sleep(1.1)
    twice = kept(server, key, "--json", "pay", a, "--amount", "1.00", "--ref", ref, "--idempotency-key", "cli-key-" + ref)
    assert once.returncode == 0 and twice.returncode == 0, (once.stdout, once.stderr, twice.stdout, twice.stderr)
    assert json.loads(once.stdout)["id"] == json.loads(twice.stdout)["id"]
    assert kept(server, key, "pay", a, "--amount", "1000.00").returncode == 4  # above the balance

    listed = kept(server, key, "payments", a)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 3

    r = kept(server, key, "reverse", payment_id, "--reason", "chargeback")
    assert r.returncode == 0 and "reversed" in r.stdout
    assert kept(server, key, "reverse", payment_id, "--reason", "again").returncode == 4

    queue = kept(server, key, "escalations", "--account", a)
    assert "payment_reversed" in queue.stdout and "payments" in queue.stdout
    r = kept(server, key, "escalations", "open", a, "--reason", "dispute", "--note", "says it is not theirs")
    assert r.returncode == 0 and "dispute" in r.stdout
    esc_id = r.stdout.split()[1]
    assert kept(server, key, "escalations", "assign", esc_id).returncode == 0
    assert kept(server, key, "escalations", "resolve", esc_id).returncode == 4  # a note is needed
    assert kept(server, key, "escalations", "resolve", esc_id, "--note", "sent proof of debt").returncode == 0
    assert kept(server, key, "escalations", "open", a, "--reason", "whim").returncode == 4


def test_import_payments_file(server, admin_key, tmp_path):
    api = server.client(admin_key)
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=50000)
    f = tmp_path / "bacs.csv"
    prefix = unique("bacs")
    f.write_text("account_external_ref,amount_cents,received_at,source,source_ref\n" +
                 "".join(f"{acct['external_ref']},100,2026-01-05T09:00:00Z,bacs,{prefix}-{i}\n" for i in range(5)))
    r = kept(server, admin_key, "import", "payments", str(f))
    assert r.returncode == 0, r.stderr
    assert "5 payments posted (5.00)" in r.stdout and "0 duplicates" in r.stdout
    r = kept(server, admin_key, "import", "payments", str(f))
    assert "0 payments posted" in r.stdout and "5 duplicates" in r.stdout
