"""The whole negotiation through the kept client."""
import datetime
import json
from zoneinfo import ZoneInfo

from conftest import create_key, new_account, new_customer
from helpers import kept


def day(offset, tz="Europe/London"):
    return (datetime.datetime.now(ZoneInfo(tz)).date() + datetime.timedelta(days=offset)).isoformat()


def test_negotiation_through_the_cli(server, cluster, role_keys):
    ann, bob, sue = create_key(cluster.url, "agent"), create_key(cluster.url, "agent"), role_keys["supervisor"]
    api = server.client(ann)
    acct = new_account(api, new_customer(api)["id"], original_balance_cents=100000, currency="GBP")
    a = str(acct["id"])

    r = kept(server, ann, "affordability", a, "--income", "earnings=2000.00", "--fixed", "home_and_contents=1200",
             "--flexible", "food_and_housekeeping=500.00")
    assert r.returncode == 0, r.stderr
    assert "weekly disposable 69.23" in r.stdout

    r = kept(server, ann, "propose", a, "--weekly", "7.00", "--first-due", day(7))
    assert r.returncode == 0, r.stderr
    assert "policy minimum  9.62 GBP a week" in r.stdout and "in policy       no" in r.stdout
    assert "below_policy_minimum" in r.stdout
    lines = r.stdout.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("SEQ"))
    assert lines[header].split() == ["SEQ", "DUE", "DATE", "AMOUNT"] and len(lines) - header - 1 == 143
    assert lines[-1].split()[2] == "6.00"  # 142 x 7.00 + 6.00 = 1,000.00

    proposal = json.loads(kept(server, ann, "--json", "propose", a, "--weekly", "7.00", "--first-due", day(7)).stdout)
    r = kept(server, ann, "plan", "create", a, "--proposal", str(proposal["id"]))
    assert r.returncode == 0 and "pending_approval" in r.stdout and "kept plan approve" in r.stdout
    plan_id = r.stdout.split()[1]

    r = kept(server, ann, "plan", "approve", plan_id)
    assert r.returncode == 5 and "self_approval" in r.stderr
    r = kept(server, bob, "plan", "approve", plan_id, "--note", "new job soon")
    assert r.returncode == 0 and "active" in r.stdout
    assert "OUTCOME" in kept(server, ann, "plan", "show", plan_id).stdout

    r = kept(server, sue, "reviews")
    row = next(l for l in r.stdout.splitlines() if l.split()[1:2] == [plan_id])
    review_id = row.split()[0]
    assert "new job soon" in kept(server, sue, "reviews", "show", review_id).stdout
    assert plan_id in [l.split()[1] for l in kept(server, ann, "reviews").stdout.splitlines()[1:]]  # her own plan
    assert kept(server, sue, "reviews", "correct", review_id).returncode == 4  # a correction needs a note
    r = kept(server, sue, "reviews", "correct", review_id, "--note", "9.62 would have been in policy")
    assert r.returncode == 0 and "corrected" in r.stdout

    r = kept(server, ann, "settle", a, "--offer", "400.00")
    assert r.returncode == 0 and "floor of 600.00 GBP" in r.stdout and "counter with 500.00 GBP" in r.stdout
    offer_id = r.stdout.split()[2].rstrip(":")
    r = kept(server, ann, "settle", "accept", offer_id, "--first-due", day(3), "--amount", "600.00",
             "--installments", "3", "--replaces", plan_id)
    assert r.returncode == 0, r.stderr
    # 200.00 a week is more than her 69.23 of weekly disposable income: a second associate decides
    assert "settlement, pending_approval" in r.stdout and "above_affordability" in r.stdout
    assert "200.00 GBP a week, 3 installments, 600.00 GBP in all" in r.stdout
    settlement_plan = r.stdout.split()[1]
    r = kept(server, bob, "plan", "approve", settlement_plan, "--note", "her brother pays half")
    assert r.returncode == 0 and "settlement, active" in r.stdout

    listed = kept(server, ann, "plan", "list", a).stdout
    assert [l.split()[2] for l in listed.splitlines()[1:]] == ["superseded", "active"]
    r = kept(server, ann, "plan", "cancel", settlement_plan, "--reason", "customer changed their mind")
    assert r.returncode == 0 and "cancelled" in r.stdout
    assert kept(server, ann, "plan", "cancel", settlement_plan, "--reason", "again").returncode == 4
    assert kept(server, ann, "propose", a, "--weekly", "7.001", "--first-due", day(7)).returncode == 2
