"""The provider contract: the requests keptd sends, validated against the
provider's published OpenAPI description by @stoplight/prism-cli 5.14.2
(tests/contract/), which answers 422 for any request that breaks it."""
import base64
import datetime
import http.client
import os
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, ROOT, Keptd, create_key, free_port, migrate, telephony_env
from helpers import Debtor, calls_of, run_reminders

SPEC = Path(os.environ.get("KEPT_SHARED", ROOT.parent / "shared")) / "telephony" / "twilio-calls.openapi.json"
MESSAGES_SPEC = SPEC.with_name("twilio-messages.openapi.json")
PRISM = ROOT / "tests" / "contract" / "node_modules" / ".bin" / "prism"


class Prism:
    def __init__(self, spec=SPEC):
        assert spec.exists(), f"the provider's OpenAPI description is missing: {spec}"
        assert PRISM.exists(), "run `make deps` (make test does): it installs the mock from tests/contract's lockfile"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(ROOT / "build" / f"prism.{self.port}.log"), "w") if (ROOT / "build").exists() else None
        self.proc = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(self.port), str(spec)],
                                     stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=1).request("GET", "/")
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise AssertionError("prism did not start")
                time.sleep(0.2)

    def post(self, path, body, auth=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        c.request("POST", path, body=body.encode(), headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        c.request("GET", path, headers={"Authorization": auth, "Accept": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.log:
            self.log.close()


@pytest.fixture(scope="module")
def prism():
    p = Prism()
    yield p
    p.stop()


def test_the_mock_refuses_a_broken_request(prism):
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    status, _ = prism.post(path, "From=%2B15550000100&Url=https%3A%2F%2Fk.example%2Ft&Timeout=soon")
    assert status == 422  # no To, a Timeout that is not a number: the mock does check
    status, _ = prism.post(path, "To=%2B15550000101&From=%2B15550000100&Url=https%3A%2F%2Fk.example", auth=False)
    assert status == 401


def test_every_create_keptd_sent_to_telsim_passes_the_contract(prism, telsim, phone_api, phone_agent):
    # at least one reminder of our own, whatever ran before
    d = Debtor(phone_api, phone_agent)
    run_reminders(phone_api, d.before_due(1))
    creates = [r for r in telsim.requests() if r["method"] == "POST" and r["path"].endswith("/Calls.json")]
    assert creates
    for r in creates:
        status, body = prism.post(r["path"], r["body"])
        assert status == 201, (status, body, r["body"])


def test_every_text_keptd_sent_to_telsim_passes_the_messages_contract(telsim, phone_api, phone_agent):
    # at least one text of our own (a link, at noon in the customer's zone), whatever ran before
    from helpers import customer_on_the_page, noon, wait_for_texts
    from conftest import set_clock
    set_clock(phone_api, noon("America/New_York"))
    c, a, _ = customer_on_the_page(phone_agent, phone_agent)
    r = phone_agent.post(f"/v1/accounts/{a['id']}/self-service-links", {"send": "sms"})
    assert r.status == 201, r
    assert len(wait_for_texts(telsim, c["phones"][0]["number"], 1)) == 1
    set_clock(phone_api, None)
    creates = [r for r in telsim.requests() if r["method"] == "POST" and r["path"].endswith("/Messages.json")]
    lists = [r for r in telsim.requests() if r["method"] == "GET" and "/Messages" in r["path"]]
    assert creates
    mock = Prism(MESSAGES_SPEC)
    try:
        status, _ = mock.post(creates[0]["path"], "To=%2B15550000101&Body=x&ValidityPeriod=soon")
        assert status == 422  # no From or MessagingServiceSid, a ValidityPeriod that is no number: it does check
        for r in creates:
            status, body = mock.post(r["path"], r["body"])
            assert status == 201, (status, body, r["body"])
        for r in lists:
            status = mock.get(r["path"])
            assert status == 200, (status, r["path"])
    finally:
        mock.stop()


def daytime_zone():
    """A zone where it is now well inside the calling window."""
    for zone in ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo", "Asia/Kolkata",
                 "Europe/London", "Pacific/Auckland", "America/Sao_Paulo"):
        if 10 <= datetime.datetime.now(ZoneInfo(zone)).hour < 18:
            return zone
    raise AssertionError("no daytime zone in the list")


def test_keptd_dialling_the_mock_places_its_call(prism, cluster):
    # the mock is no simulator: this keptd runs on the wall clock, in a database of its own, and
    # dials a customer where it is daytime now, about an installment due tomorrow there
    url = cluster.new_database("kept_contract")
    migrate(url)
    port = free_port()
    k = Keptd(url, **telephony_env(prism, port, KEPT_CLOCK="wall"))
    try:
        api, agent = k.client(create_key(url, "admin")), k.client(create_key(url, "agent"))
        d = Debtor(api, agent, tz=daytime_zone(), jurisdiction="US-NY", days_back=-1)
        r = api.post("/v1/admin/reminders", {})
        assert r.status == 200, r
        result = r.json()
        assert result["placed"] == 1 and result["failed"] == 0, result
        [call] = calls_of(api, d)
        assert call["state"] == "placed" and call["provider_sid"].startswith("CA") and call["error"] is None
        api.close()
        agent.close()
    finally:
        k.assert_clean_exit()
