"""The customer's whole journey on the self-service page in a real browser
(Debian's headless Chromium driven by playwright-core, at a phone's
viewport, typing and pressing buttons): a wrong identity then the lock-out,
a plan in policy, one out of policy then its approval by two associates, a
renegotiation, a settlement offer, the page in Spanish. axe-core's WCAG 2.1
A/AA rules find no serious or critical violation on any page; the
screenshots are kept in tests/artifacts/ (selfservice-*.png)."""
import json
import subprocess

from conftest import ROOT, create_key
from helpers import DATE_OF_BIRTH, DEBT_WORDS, POSTCODE, customer_on_the_page

JOURNEY = ROOT / "tests" / "dashboard" / "journey.mjs"
ARTIFACTS = ROOT / "tests" / "artifacts"


def prove(dob=DATE_OF_BIRTH, postcode=POSTCODE):
    y, m, d = dob.split("-")
    return [["fill", "#dob_day", str(int(d))], ["fill", "#dob_month", str(int(m))], ["fill", "#dob_year", y],
            ["fill", "#postcode", postcode], ["press", 'form[action$="/verify"] button']]


def propose(amount):
    return [["fill", "#amount", amount], ["press", 'form[action$="/proposal"] button']]


AGREE = [["press", 'form[action$="/plan"] button']]


def walk(journeys, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    spec = tmp_path / "journeys.json"
    spec.write_text(json.dumps(journeys))
    done = subprocess.run(["node", str(JOURNEY), str(spec), str(ARTIFACTS / "selfservice")], capture_output=True,
                          text=True, timeout=300, cwd=JOURNEY.parent)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout.strip().splitlines()[-1])


def plans(agent, account):
    return agent.get(f"/v1/accounts/{account['id']}/plans").json()["items"]


def test_the_whole_journey_in_a_phone_browser(phone_server, phone_agent, cluster, tmp_path):
    _, locked_acct, locked = customer_on_the_page(phone_agent, phone_agent)
    _, in_acct, in_policy = customer_on_the_page(phone_agent, phone_agent, balance=104000)
    _, out_acct, out_policy = customer_on_the_page(phone_agent, phone_agent, balance=104000)
    _, fair_acct, fair = customer_on_the_page(phone_agent, phone_agent, balance=100000)
    _, es_acct, spanish = customer_on_the_page(phone_agent, phone_agent)
    page = walk({
        "locked": [["goto", locked["url"]], ["check", "identity"]]
        + prove(postcode="ZZ9 9ZZ") + [["check", "identity-wrong"]]
        + prove(postcode="ZZ9 9ZZ") * 4 + [["check", "locked"]],
        "in-policy": [["goto", in_policy["url"]]] + prove() + [["check", "account"]]
        + propose("40.00") + [["check", "proposal"]] + AGREE + [["check", "agreed"]]
        # "I can't pay this week": the customer comes back and renegotiates
        + [["goto", in_policy["url"]]] + propose("20.00") + [["check", "renegotiation"]] + AGREE,
        "out-of-policy": [["goto", out_policy["url"]]] + prove() + propose("5.00") + AGREE
        + [["check", "for-approval"]],
        "settlement": [["goto", fair["url"]]] + prove() + [["goto", fair["url"] + "/settlement"], ["check", "settlement"],
                                                           ["fill", "#amount", "650"],
                                                           ["press", 'form[action$="/settlement"] button'],
                                                           ["check", "settlement-offer"],
                                                           ["press", 'form[action$="/settlement/accept"] button']],
        "spanish": [["goto", spanish["url"], {"Accept-Language": "es-MX,es;q=0.9"}], ["check", "identity-es"]]
        + prove() + [["check", "account-es"], ["press", "a.lang"]],
    }, tmp_path)
    # the console stays clean but for the locked link's own answers (its status is the page's)
    assert [e for e in page["errors"] if not e.startswith("locked: Failed to load resource")] == [], page["errors"]
    serious = [v for v in page["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious

    # nothing about the debt before the visitor proved who they are
    for name, steps in page["journeys"].items():
        first = steps[0]["text"].lower()
        assert [w for w in DEBT_WORDS if w in first] == [], (name, first)
    # a wrong identity says so; the fifth locks the link and opens an escalation
    steps = page["journeys"]["locked"]
    assert "Acme" not in "".join(s["text"] for s in steps)
    assert "locked" in steps[-1]["text"].lower(), steps[-1]["text"]
    assert phone_agent.get(f"/v1/accounts/{locked_acct['id']}/self-service-links").json()["items"][0]["status"] \
        == "locked"
    escalations = phone_agent.get(f"/v1/escalations?account_id={locked_acct['id']}").json()["items"]
    assert len(escalations) == 1
    # in policy: active at once; then a renegotiation replaces it
    steps = page["journeys"]["in-policy"]
    assert "Acme Bank" in steps[1]["text"] and "How much can you afford to pay each week?" in steps[1]["text"]
    assert "Your plan is agreed" in steps[3]["text"] and "It replaces your current plan" in steps[5]["text"]
    assert "Your plan is agreed" in steps[6]["text"]
    made = {p["status"]: p for p in plans(phone_agent, in_acct)}
    assert (made["active"]["weekly_amount_cents"], made["active"]["channel"], made["active"]["origin"]) == \
        (2000, "self_service", "customer_proposed") and made["superseded"]["weekly_amount_cents"] == 4000
    # out of policy: two associates, exactly as an agent's plan
    assert "an associate will confirm within one business day" in page["journeys"]["out-of-policy"][-1]["text"]
    [pending] = plans(phone_agent, out_acct)
    assert (pending["status"], pending["channel"], pending["approvals_needed"]) == ("pending_approval",
                                                                                    "self_service", 2)
    assert phone_agent.post(f"/v1/plans/{pending['id']}/approvals", {}).json()["approvals_needed"] == 1
    other = phone_server.client(create_key(cluster.url, "agent"))
    assert other.post(f"/v1/plans/{pending['id']}/approvals", {}).json()["status"] == "active"
    # a settlement: "what would be fair?"
    steps = page["journeys"]["settlement"]
    assert "We can accept 650.00 USD" in steps[-2]["text"] and "Your plan is agreed" in steps[-1]["text"]
    [settled] = [p for p in plans(phone_agent, fair_acct) if p["status"] == "active"]
    assert (settled["origin"], settled["channel"], settled["total_cents"]) == ("settlement", "self_service", 65000)
    # Spanish from Accept-Language, and the switch back to English
    steps = page["journeys"]["spanish"]
    assert steps[0]["lang"] == "es" and steps[1]["lang"] == "es" and steps[2]["lang"] == "en"
    assert "¿Cuánto puede pagar cada semana?" in steps[1]["text"]
    for shot in ("identity", "agreed", "for-approval", "settlement-offer", "account-es"):
        assert (ARTIFACTS / f"selfservice-{shot}.png").stat().st_size > 5000
