"""The kept command-line client against a running keptd."""
import json

from conftest import unique
from helpers import kept


def test_customer_and_account_round_trip(server, role_keys):
    key = role_keys["agent"]
    ref = unique("CLI")
    made = kept(server, key, "--json", "customers", "create", "--external-ref", ref, "--name", "Zoë Quinn",
                "--time-zone", "America/New_York", "--jurisdiction", "US-MA",
                "--phone", "+16175550100:consent", "--phone", "+16175550101", "--dispute-open", "yes")
    assert made.returncode == 0, made.stderr
    customer = json.loads(made.stdout)
    assert customer["phones"][0]["consent_automated"] is True and customer["phones"][1]["consent_automated"] is False
    assert customer["contact_restrictions"]["dispute_open"] is True

    shown = kept(server, key, "customers", "show", str(customer["id"]))
    assert shown.returncode == 0
    assert "Zoë Quinn" in shown.stdout and "dispute-open" in shown.stdout and "automated calls: yes" in shown.stdout

    acct = kept(server, key, "accounts", "create", "--customer", str(customer["id"]), "--external-ref", unique("CA"),
                "--creditor", "Mass Bank", "--currency", "USD", "--balance", "1234.56")
    assert acct.returncode == 0, acct.stderr
    assert "1,234.56 USD" in acct.stdout

    jpy = kept(server, key, "--json", "accounts", "create", "--customer", str(customer["id"]), "--external-ref",
               unique("CA"), "--creditor", "Tokyo Bank", "--currency", "JPY", "--balance", "150000")
    assert json.loads(jpy.stdout)["original_balance_cents"] == 150000

    listed = kept(server, key, "accounts", "list", "--customer", str(customer["id"]), "--all")
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "CUSTOMER", "EXTERNAL"] and len(lines) == 3
    assert "150,000 JPY" in listed.stdout
    # columns line up: every row's BALANCE starts where the header's does
    col = lines[0].index("BALANCE")
    assert all(line[col - 2:col] == "  " for line in lines[1:])

    updated = kept(server, key, "customers", "update", str(customer["id"]), "--if-version", "1", "--name", "Zoe")
    assert updated.returncode == 0 and "version        2" in updated.stdout
    stale = kept(server, key, "customers", "update", str(customer["id"]), "--if-version", "1", "--name", "Z")
    assert stale.returncode == 4 and "version_mismatch" in stale.stderr


def test_exit_codes(server, role_keys):
    key = role_keys["agent"]
    assert kept(server, key, "customers", "show", "987654321").returncode == 3
    bad = kept(server, key, "customers", "create", "--external-ref", unique("X"), "--name", "N",
               "--time-zone", "Bad/Zone", "--jurisdiction", "GB")
    assert bad.returncode == 4 and "invalid_time_zone" in bad.stderr and "time_zone" in bad.stderr
    assert kept(server, None, "customers", "show", "1").returncode == 5
    assert kept(server, role_keys["finance"], "customers", "show", "1").returncode == 5
    assert kept(server, key, "customers", "show", "1", url="http://127.0.0.1:9").returncode == 6
    assert kept(server, key, "customers", "frobnicate").returncode == 2
    assert kept(server, key, "accounts", "create", "--customer", "1").returncode == 2
    assert kept(server, key, "accounts", "create", "--customer", "1", "--external-ref", "X", "--creditor", "B",
                "--currency", "USD", "--balance", "12.345").returncode == 2
    assert kept(server, key).returncode == 2


def test_json_errors_go_to_stdout_for_scripts(server, role_keys):
    r = kept(server, role_keys["agent"], "--json", "customers", "show", "987654321")
    assert r.returncode == 3 and json.loads(r.stdout)["error"]["code"] == "customer_not_found"


def test_import_with_progress_and_problems(server, admin_key, tmp_path):
    good = tmp_path / "good.csv"
    rows = ["customer_external_ref,customer_name,time_zone,jurisdiction,account_external_ref,creditor,"
            "original_balance_cents,currency"]
    prefix = unique("CLIIMP")
    rows += [f"{prefix}-{i},Person {i},Europe/London,GB,{prefix}-A{i},Bank,{1000 + i},GBP" for i in range(3000)]
    good.write_text("\n".join(rows) + "\n")
    r = kept(server, admin_key, "import", "accounts", str(good), "--progress")
    assert r.returncode == 0, r.stderr
    assert "imported 3000 lines: 3000 customers created" in r.stdout
    assert "uploading: 100%" in r.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text(rows[0] + "\nX1,Name,Nowhere/Zone,GB,XA1,Bank,1,GBP\n")
    r = kept(server, admin_key, "import", "accounts", str(bad))
    assert r.returncode == 4
    assert "LINE" in r.stderr and "invalid_time_zone" in r.stderr and "\n2 " in r.stderr


def test_keys_commands(server, admin_key):
    made = kept(server, admin_key, "keys", "create", "--role", "finance", "--name", "fin-cli")
    assert made.returncode == 0
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("kept_")
    listed = kept(server, admin_key, "keys", "list")
    assert "fin-cli" in listed.stdout and key not in listed.stdout
    key_id = next(l.split()[0] for l in listed.stdout.splitlines() if "fin-cli" in l)
    assert kept(server, admin_key, "keys", "revoke", key_id).returncode == 0
    assert kept(server, key, "keys", "list").returncode == 5


def test_users_and_their_keys(server, admin_key, role_keys):
    name = unique("Cli User")
    r = kept(server, admin_key, "--json", "users", "create", "--name", name, "--roles", "agent,finance",
             "--team", "cli-desk")
    assert r.returncode == 0, r.stderr
    uid = str(json.loads(r.stdout)["id"])
    r = kept(server, admin_key, "keys", "create", "--user", uid, "--role", "finance", "--name", "laptop")
    assert r.returncode == 0 and "it is shown only now" in r.stdout, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    listed = kept(server, admin_key, "users", "list", "--team", "cli-desk")
    assert listed.returncode == 0 and name in listed.stdout and "agent,finance" in listed.stdout
    assert kept(server, admin_key, "users", "deactivate", uid).returncode == 0
    assert kept(server, key, "accounts", "list").returncode == 5  # 401: an inactive user's key
    assert kept(server, admin_key, "users", "activate", uid).returncode == 0
    assert kept(server, key, "accounts", "list").returncode == 0
    assert kept(server, role_keys["agent"], "users", "list").returncode == 5
    assert kept(server, admin_key, "users", "create", "--name", "x").returncode == 2
