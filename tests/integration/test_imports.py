"""Bulk import of customers and accounts: CSV through COPY, all or nothing."""
import csv
import io
import time

from conftest import Keptd, unique

HEADER = ["customer_external_ref", "customer_name", "time_zone", "jurisdiction", "language", "phone",
          "phone_consent", "account_external_ref", "creditor", "original_balance_cents", "balance_cents",
          "currency", "placed_on"]


def to_csv(rows, header=HEADER):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def row(customer, account, **kw):
    values = {"customer_external_ref": customer, "customer_name": "Imported Person", "time_zone": "Europe/Dublin",
              "jurisdiction": "IE", "language": "", "phone": "", "phone_consent": "",
              "account_external_ref": account, "creditor": "Bank of Test", "original_balance_cents": "50000",
              "balance_cents": "", "currency": "EUR", "placed_on": "2026-03-01"}
    values.update(kw)
    return [values[h] for h in HEADER]


def test_a_good_file_is_imported(api, cluster):
    c1, c2 = unique("IC"), unique("IC")
    name = "Órla, \"Ní\" Bhriain"
    rows = [row(c1, unique("IA"), phone="+353871234567", phone_consent="yes", customer_name=name),
            row(c1, unique("IA"), original_balance_cents="1000", balance_cents="750", customer_name=name),
            row(c2, unique("IA"), time_zone="Pacific/Auckland", jurisdiction="NZ", currency="NZD")]
    r = api.post("/v1/imports/accounts", to_csv(rows), content_type="text/csv")
    assert r.status == 201, r
    assert r.json() == {"lines": 3, "customers_created": 2, "customers_existing": 0, "accounts_created": 3}
    # stored sealed under the customer's data key; read with the key
    name = cluster.psql(f"SELECT kept.customer_name(id) FROM kept.customers WHERE external_ref = '{c1}'")[0][0]
    assert name == "Órla, \"Ní\" Bhriain"
    phones = cluster.psql(f"SELECT kept.pii_open(p.customer_id, p.number_enc), consent_automated "
                          f"FROM kept.customer_phones p JOIN kept.customers c "
                          f"ON c.id = p.customer_id WHERE c.external_ref = '{c1}'")
    assert phones == [["+353871234567", "t"]]
    accounts = api.get(f"/v1/accounts?external_ref={rows[1][7]}").json()["items"]
    assert accounts[0]["balance_cents"] == 750 and accounts[0]["original_balance_cents"] == 1000


def test_existing_customers_get_new_accounts(api):
    c = unique("IC")
    assert api.post("/v1/imports/accounts", to_csv([row(c, unique("IA"))]), content_type="text/csv").status == 201
    r = api.post("/v1/imports/accounts", to_csv([row(c, unique("IA"))]), content_type="text/csv")
    assert r.json()["customers_created"] == 0 and r.json()["customers_existing"] == 1


def test_one_bad_line_rejects_the_file_and_lists_every_problem(api, cluster):
    good_ref, c = unique("IA"), unique("IC")
    rows = [row(c, good_ref),
            row(unique("IC"), unique("IA"), phone="07700 900123", currency="eu"),
            row(unique("IC"), unique("IA"), time_zone="Atlantis/Capital", original_balance_cents="-5"),
            row(unique("IC"), good_ref)]
    text = to_csv(rows) + "\"broken,line\n"
    r = api.post("/v1/imports/accounts", text, content_type="text/csv")
    assert r.status == 422 and r.error["code"] == "import_rejected"
    problems = [(p["line"], p["code"]) for p in r.error["details"]["lines"]]
    assert (3, "invalid_phone") in problems and (3, "invalid_currency") in problems
    assert (4, "invalid_time_zone") in problems and (4, "invalid_amount") in problems
    assert (5, "duplicate_in_file") in problems
    assert (6, "unterminated_quote") in problems
    assert r.error["details"]["problem_count"] == len(problems) and r.error["details"]["truncated"] is False
    # all or nothing: not even the good first line
    assert cluster.psql(f"SELECT count(*) FROM kept.customers WHERE external_ref = '{c}'") == [["0"]]
    assert cluster.psql(f"SELECT count(*) FROM kept.accounts WHERE external_ref = '{good_ref}'") == [["0"]]


def test_loading_the_same_file_twice_posts_nothing_twice(api, cluster):
    text = to_csv([row(unique("IC"), unique("IA")) for _ in range(3)])
    assert api.post("/v1/imports/accounts", text, content_type="text/csv").status == 201
    again = api.post("/v1/imports/accounts", text, content_type="text/csv")
    assert again.status == 422
    assert {p["code"] for p in again.error["details"]["lines"]} == {"duplicate_external_ref"}


def test_header_problems(api):
    for header, code in ((HEADER + ["shoe_size"], "unknown_column"),
                         (HEADER + ["phone"], "duplicate_column"),
                         ([h for h in HEADER if h != "currency"], "missing_column")):
        r = api.post("/v1/imports/accounts", to_csv([], header), content_type="text/csv")
        assert r.status == 400 and r.error["code"] == code, r
    r = api.post("/v1/imports/accounts", "", content_type="text/csv")
    assert r.status == 400 and r.error["code"] == "empty_file"
    r = api.post("/v1/imports/accounts", to_csv([]), content_type="application/json")
    assert r.status == 415


def test_wrong_field_count_is_a_line_problem(api):
    text = to_csv([row(unique("IC"), unique("IA"))]) + "only,three,fields\r\n"
    r = api.post("/v1/imports/accounts", text, content_type="text/csv")
    assert [(p["line"], p["code"]) for p in r.error["details"]["lines"]] == [(3, "wrong_field_count")]


def test_a_larger_file(api, cluster):
    n = 5000
    prefix = unique("BULK")
    rows = [row(f"{prefix}-C{i // 2}", f"{prefix}-A{i}", phone=f"+3538{i:08d}", phone_consent="no")
            for i in range(n)]
    started = time.time()
    r = api.post("/v1/imports/accounts", to_csv(rows), content_type="text/csv")
    assert r.status == 201, r
    assert r.json() == {"lines": n, "customers_created": n // 2, "customers_existing": 0, "accounts_created": n}
    assert time.time() - started < 60
    assert cluster.psql(f"SELECT count(*) FROM kept.accounts WHERE external_ref LIKE '{prefix}-%'") == [[str(n)]]


def test_the_import_cap(cluster, admin_key):
    k = Keptd(cluster.url, KEPT_MAX_IMPORT_BYTES="2k")
    try:
        text = to_csv([row(unique("IC"), unique("IA")) for _ in range(40)])
        assert len(text) > 2048
        r = k.client(admin_key).post("/v1/imports/accounts", text, content_type="text/csv")
        assert r.status == 413 and r.error["code"] == "body_too_large"
    finally:
        k.assert_clean_exit()
