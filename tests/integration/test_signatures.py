"""Webhook signatures: kept's HMAC-SHA1 against Debian's python3-twilio
RequestValidator over generated URLs and parameters, and keptd's webhooks
accepting what the reference library signs and refusing the rest."""
import json
import random
import subprocess
import urllib.parse

from twilio.request_validator import RequestValidator

from conftest import AUTH_TOKEN, Client, command
from helpers import Debtor

ALPHABET = ["a", "Z", "0", " ", "+", "&", "=", "%", "?", "/", "é", "€", "😀", "-", "_", ".", "~", "\"", "'", ""]


def text(rng, n_max=12):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n_max)))


def url(rng):
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["kept.example", "127.0.0.1", "a.b.example"])
    port = rng.choice(["", ":80", ":443", ":8443", ":1234"])
    path = "/" + "/".join(urllib.parse.quote(text(rng, 6), safe="") for _ in range(rng.randint(0, 3)))
    query = ""
    if rng.random() < 0.5:
        query = "?" + urllib.parse.urlencode([(text(rng, 4) or "k", text(rng, 6)) for _ in range(rng.randint(1, 3))])
    return f"{scheme}://{host}{port}{path}{query}"


def cases(n=400, seed=20261122):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        names = set()
        while len(names) < rng.randint(0, 6):
            names.add(text(rng, 8) or "Digits")
        params = {name: text(rng) for name in names}
        out.append((rng.choice(["12345", AUTH_TOKEN, "tøken"]), url(rng), params))
    return out


def run_sign(lines):
    done = subprocess.run(command("tests/sign"), input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [l.split(" ") for l in done.stdout.splitlines()]


def test_signatures_match_the_reference_library():
    generated = cases()
    lines = []
    for token, u, params in generated:
        expected = RequestValidator(token).compute_signature(u, params)
        lines.append(json.dumps({"token": token, "url": u, "params": list(params.items()), "signature": expected}))
    results = run_sign(lines)
    assert len(results) == len(generated)
    for (token, u, params), (ours, valid) in zip(generated, results):
        assert ours == RequestValidator(token).compute_signature(u, params), (u, params)
        assert valid == "1"


def test_both_port_spellings_validate_like_the_reference():
    rng = random.Random(7)
    lines, expected = [], []
    for _ in range(200):
        token, u, params = "12345", url(rng), {"CallSid": "CA" + "1" * 32, "Digits": text(rng)}
        other = u.replace(":443", "", 1) if ":443" in u else u.replace(".example", ".example:443", 1)
        signature = RequestValidator(token).compute_signature(other, params)
        lines.append(json.dumps({"token": token, "url": u, "params": list(params.items()), "signature": signature}))
        expected.append("1" if RequestValidator(token).validate(u, params, signature) else "0")
    assert [v for _, v in run_sign(lines)] == expected
    assert "1" in expected


def test_tampered_signatures_are_refused():
    token, u, params = "12345", "https://kept.example/telephony/status/1", {"CallSid": "CA1", "CallStatus": "busy"}
    good = RequestValidator(token).compute_signature(u, params)
    bad = [good[:-2] + ("A=" if good[-2] != "A" else "B="), good.lower(), "", "x" * 28]
    lines = [json.dumps({"token": token, "url": u, "params": list(params.items()), "signature": s}) for s in bad]
    lines.append(json.dumps({"token": token, "url": u, "params": [["CallSid", "CA1"], ["CallStatus", "completed"]],
                             "signature": good}))
    lines.append(json.dumps({"token": "12346", "url": u, "params": list(params.items()), "signature": good}))
    assert [v for _, v in run_sign(lines)] == ["0"] * len(lines)


def post_form(port, path, params, signature=None):
    c = Client(port)
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    body = urllib.parse.urlencode(params)
    r = c.request("POST", path, body.encode(), headers=headers, content_type="application/x-www-form-urlencoded")
    c.close()
    return r


def insert_call(cluster, d, state, seq=1):
    """A call of the debtor's in `state`, its number sealed as keptd seals it."""
    c = d.customer["id"]
    return cluster.psql(f"""
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at, state)
        VALUES ({d.account['id']}, {c}, {d.plan['id']}, {seq}, 'missed', kept.pii_seal({c}, '{d.number}'),
                kept.pii_digest({c}, '{d.number}'), kept.number_gdigest('{d.number}'), now(), '{state}')
        RETURNING id""")[0][0]


def test_a_key_press_counts_only_while_the_call_is_in_progress(phone_server, cluster, admin_key, role_keys):
    admin, agent = phone_server.client(admin_key), phone_server.client(role_keys["agent"])
    d = Debtor(admin, agent)
    admin.close()
    agent.close()
    for seq, state, status in ((2, "completed", 409), (3, "no-answer", 409), (4, "in-progress", 200)):
        call_id = insert_call(cluster, d, state, seq)
        path = f"/telephony/gather/{call_id}"
        params = {"CallSid": "CA" + str(seq) * 32, "AccountSid": "AC" + "0" * 32, "Digits": "1"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://127.0.0.1:{phone_server.port}{path}",
                                                                   params)
        r = post_form(phone_server.port, path, params, signature)
        assert r.status == status, (state, r)
        if status == 409:
            assert r.json()["error"]["code"] == "call_not_in_progress"
        digits, right_party = cluster.psql(f"SELECT digits, right_party FROM kept.calls WHERE id = {call_id}")[0]
        assert (digits, right_party) == (("1", "t") if status == 200 else ("", "f")), state


def test_keptd_accepts_webhooks_signed_by_the_reference_and_refuses_tampering(phone_server, cluster, admin_key,
                                                                              role_keys):
    admin, agent = phone_server.client(admin_key), phone_server.client(role_keys["agent"])
    d = Debtor(admin, agent)
    admin.close()
    agent.close()
    call_id = insert_call(cluster, d, "placed")
    path = f"/telephony/status/{call_id}"
    u = f"http://127.0.0.1:{phone_server.port}{path}"
    sid = "CA" + "e" * 32
    state_before = cluster.psql(f"SELECT state FROM kept.calls WHERE id = {call_id}")[0][0]
    params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "CallStatus": "ringing", "SequenceNumber": "1",
              "From": "+15550000100", "To": "+15550009999 & = é"}
    good = RequestValidator(AUTH_TOKEN).compute_signature(u, params)
    # refused: no signature, a wrong one, one for other parameters, one for another URL
    assert post_form(phone_server.port, path, params).status == 403
    assert post_form(phone_server.port, path, params, "A" * 27 + "=").status == 403
    tampered = dict(params, CallStatus="completed")
    r = post_form(phone_server.port, path, tampered, good)
    assert r.status == 403 and r.json()["error"]["code"] == "invalid_signature"
    other = RequestValidator(AUTH_TOKEN).compute_signature(u + "0", params)
    assert post_form(phone_server.port, path, params, other).status == 403
    assert cluster.psql(f"SELECT state FROM kept.calls WHERE id = {call_id}")[0][0] == state_before
    # accepted, with the URL as signed or with the default port spelled out
    r = post_form(phone_server.port, path, params, good)
    assert r.status == 200, r
    assert cluster.psql(f"SELECT state, provider_sid FROM kept.calls WHERE id = {call_id}")[0] == ["ringing", sid]
    # the same callback again is a no-op; the form must be a form
    again = post_form(phone_server.port, path, params, good)
    assert again.status == 200 and again.json()["applied"] is False
    c = Client(phone_server.port)
    assert c.request("POST", path, b"{}", headers={"X-Twilio-Signature": good},
                     content_type="application/json").status == 415
    c.close()
