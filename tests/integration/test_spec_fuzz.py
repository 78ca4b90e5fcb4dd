"""Property-based fuzzing of the API from its own description.

For every operation clients/openapi.yaml describes, requests are generated
from the operation's schemas: values the schema allows, and values just
outside it (a wrong type, a field too many or missing, numbers past their
bounds, empty, huge and hostile strings, ids that name nothing), through an
admin key and an agent key, against a keptd of its own database with its
background workers on. What must hold for every answer:

- never a 5xx, never a hang (the client's timeout), never a dropped connection;
- the answer is one the spec describes (status, media type, schema): conftest's
  autouse fixture checks every answer through spec_check;
and afterwards: the audit chain verifies, analytics equals the operational
truth (`keptd analytics --verify`), and keptd exits cleanly (under ASan: no
leak, no error).

Seeded and reproducible: FUZZ_SEED (printed on failure); FUZZ_ROUNDS per
operation (default 12).
"""
import json
import os
import random
import string
import urllib.parse

import pytest

import spec_check
from conftest import Keptd, create_key, keptd_cmd, migrate, new_account, new_customer

SEED = int(os.environ.get("FUZZ_SEED", random.SystemRandom().randrange(1 << 32)))
ROUNDS = int(os.environ.get("FUZZ_ROUNDS", "12"))

HOSTILE = ["", " ", "0", "-1", "1e309", "null", "true", "[]", "{}", "%00", "%", "\\", "'", "\"", "'; --",
           "<script>", "=HYPERLINK(\"x\")", "é", "日本語", "\U0001F600", "\u202e", "a" * 5000, "\t\n",
           "9" * 40, "2026-02-30", "2026-01-01T25:00:00Z", "+", "+1", "../../etc/passwd"]


class Gen:
    """Values from (a subset of) JSON Schema 2020-12, right or just wrong."""

    def __init__(self, rng, ids):
        self.rng = rng
        self.ids = ids

    def value(self, schema, depth=0, wrong=0.15):
        schema = spec_check.resolve(schema)
        if self.rng.random() < wrong:
            return self.wrong(schema)
        if "allOf" in schema:
            return self.value(self.merge(schema), depth, wrong)
        if "properties" in schema and "oneOf" in schema:
            return self.value(self.branch(schema), depth, wrong)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.value(self.rng.choice(schema[key]), depth + 1, wrong)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = self.rng.choice(kind)
        return getattr(self, "make_" + kind)(schema, depth, wrong)

    @staticmethod
    def merge(schema):
        """allOf folded into one schema: properties merged, required joined."""
        out = {"properties": {}, "required": []}
        for part in [*schema["allOf"], {k: v for k, v in schema.items() if k != "allOf"}]:
            part = spec_check.resolve(part)
            if "allOf" in part:
                part = Gen.merge(part)
            for name, sub in part.get("properties", {}).items():
                out["properties"][name] = {**spec_check.resolve(out["properties"].get(name, {})),
                                           **spec_check.resolve(sub)}
            out["required"] += part.get("required", [])
            out.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        if not out["properties"]:
            del out["properties"]
        return out

    def branch(self, schema):
        """An object with one of its oneOf shapes: that shape's fields required, the others left out."""
        shape = self.rng.choice(schema["oneOf"])
        banned = set()
        for clause in [shape.get("not", {})] + shape.get("not", {}).get("anyOf", []):
            banned.update(clause.get("required", []))
        return {**{k: v for k, v in schema.items() if k != "oneOf"},
                "properties": {k: v for k, v in schema["properties"].items() if k not in banned},
                "required": list(schema.get("required", [])) + shape.get("required", [])}

    def make_null(self, schema, depth, wrong):
        return None

    def make_boolean(self, schema, depth, wrong):
        return self.rng.random() < 0.5

    def make_integer(self, schema, depth, wrong):
        lo = schema.get("minimum", -10)
        hi = schema.get("maximum", max(lo + 10, 100000))
        pick = self.rng.random()
        if pick < 0.3:
            return self.rng.choice([lo, hi])
        if pick < 0.5 and self.ids:
            return self.rng.choice(self.ids)
        return self.rng.randint(lo, min(hi, lo + 10 ** self.rng.randint(1, 9)))

    def make_number(self, schema, depth, wrong):
        return self.make_integer(schema, depth, wrong) + self.rng.choice([0, 0.5, 0.25])

    def make_string(self, schema, depth, wrong):
        fmt = schema.get("format")
        if fmt == "date":
            return f"{self.rng.randint(2019, 2028)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        if fmt == "date-time":
            return f"{self.rng.randint(2019, 2026)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}" \
                   f"T{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00Z"
        pattern = schema.get("pattern", "")
        if pattern.startswith("^[A-Za-z0-9][A-Za-z0-9._:/-]"):
            return self.rng.choice(string.ascii_letters) + "".join(
                self.rng.choice(string.ascii_letters + "._:/-0123456789") for _ in range(self.rng.randint(0, 20)))
        if pattern.startswith("^[A-Z]{2}"):
            return self.rng.choice(["GB", "US-NY", "US-MA", "US-CA", "FR"])
        if pattern and schema.get("examples"):
            return self.rng.choice(schema["examples"])
        if "\\+[1-9]" in pattern:
            return "+1" + self.rng.choice(["212", "213", "415", "617"]) + "555" + f"{self.rng.randint(0, 9999):04d}"
        if pattern.startswith("^[A-Z]{3}"):
            return self.rng.choice(["USD", "EUR", "GBP", "JPY", "KWD"])
        if "zone" in schema.get("description", "").lower():
            return self.rng.choice(["Europe/London", "America/New_York", "America/Los_Angeles"])
        lo = schema.get("minLength", 1)
        hi = min(schema.get("maxLength", 24), 24)
        n = self.rng.randint(lo, max(lo, hi))
        return "".join(self.rng.choice(string.ascii_letters + string.digits + " -_.é") for _ in range(n))

    def make_array(self, schema, depth, wrong):
        if depth > 4:
            return []
        n = self.rng.randint(schema.get("minItems", 0), min(schema.get("maxItems", 3), 3))
        return [self.value(schema.get("items", {}), depth + 1, wrong) for _ in range(n)]

    def make_object(self, schema, depth, wrong):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        out = {}
        for name, sub in props.items():
            if name in required or self.rng.random() < 0.5 or not wrong:
                if depth < 5:
                    out[name] = self.value(sub, depth + 1, wrong)
        return out

    def wrong(self, schema):
        """A value just outside the schema, or plainly hostile."""
        pick = self.rng.random()
        if pick < 0.25:
            return self.rng.choice(HOSTILE)
        if pick < 0.4:
            return self.rng.choice([None, True, 0, -1, 1.5, 10 ** 16, -(10 ** 16), [], {}, [1, "a"], {"x": 1}])
        if "minimum" in schema or "maximum" in schema:
            return self.rng.choice([schema.get("minimum", 0) - 1, schema.get("maximum", 0) + 1])
        if "maxLength" in schema:
            return "x" * (schema["maxLength"] + 1)
        if "enum" in schema:
            return str(self.rng.choice(schema["enum"])).upper() + "_"
        if schema.get("type") == "object" or "properties" in schema:
            v = self.make_object(schema, 0, 0)
            if v and self.rng.random() < 0.5:
                v.pop(self.rng.choice(list(v)))
            else:
                v["unknown_" + str(self.rng.randint(0, 9))] = 1
            return v
        return self.rng.choice(HOSTILE)


def operations():
    spec = spec_check.spec()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                params = [spec_check.resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
                yield method.upper(), path, op, params


@pytest.fixture(scope="module")
def fuzz_server(cluster):
    url = cluster.new_database("fuzz")
    migrate(url)
    keys = {role: create_key(url, role, f"fuzz-{role}") for role in ("admin", "agent")}
    for n in range(3):  # keys the fuzz may revoke; its own two it must not
        create_key(url, "agent")
    ours = {int(r[0]) for r in cluster.psql("SELECT id FROM kept.api_keys WHERE name LIKE 'fuzz-%'", db="fuzz")}
    k = Keptd(url, KEPT_WORKERS="evaluator,auditor,loader", KEPT_EVALUATE_INTERVAL="1")
    api = k.client(keys["admin"])
    ids = []
    for n in range(3):  # a few real rows, so generated ids sometimes name something
        customer = new_customer(api, phones=[{"number": f"+1212555{n:04d}", "consent_automated": True}])
        account = new_account(api, customer["id"])
        ids += [customer["id"], account["id"]]
    print("fuzz ids", ids, "our keys", ours)
    yield k, url, keys, ids, ours
    k.client().close()
    assert k.stop() == 0, k.log()[-3000:]


def path_value(rng, gen, ids):
    pick = rng.random()
    if pick < 0.6:
        return str(rng.choice(ids))
    return urllib.parse.quote(str(rng.choice(["0", "-1", "999999999999", "9" * 30, "abc", "1.5", "1e3", " 1",
                                              "%", "é", "\U0001F600", ""])), safe="")


def request_for(rng, gen, ids, method, path, op, params):
    target = path
    query = {}
    headers = {}
    for p in params:
        schema = p.get("schema", {})
        if p["in"] == "path":
            value = path_value(rng, gen, ids)
            if "enum" in schema and rng.random() < 0.7:
                value = urllib.parse.quote(str(rng.choice(schema["enum"])), safe="")
            target = target.replace("{" + p["name"] + "}", value)
        elif p["in"] == "query" and (p.get("required") or rng.random() < 0.6):
            v = gen.value(schema)
            query[p["name"]] = v if isinstance(v, str) else json.dumps(v)
        elif p["in"] == "header" and (p.get("required") or rng.random() < 0.7):
            v = gen.value(schema)
            headers[p["name"]] = (v if isinstance(v, str) else json.dumps(v)).encode("utf-8")[:200] \
                .decode("latin-1").replace("\r", "").replace("\n", "")
    if rng.random() < 0.04:
        target += "%00"  # a NUL escape in the path
    if query:
        target += "?" + urllib.parse.urlencode(query)
    body = None
    content = op.get("requestBody", {}).get("content", {})
    if content:
        media = rng.choice(sorted(content))
        schema = content[media].get("schema", {"type": "string"})
        if media == "application/json":
            v = gen.value(schema, wrong=rng.choice([0, 0, 0.05, 0.2]))
            body = json.dumps(v) if rng.random() < 0.95 else json.dumps(v)[:-1]
        else:
            body = "\n".join(",".join(str(gen.value({"type": "string"}, wrong=0.3)) for _ in range(4))
                             for _ in range(rng.randint(0, 4)))
        headers["Content-Type"] = media
    return target, body, headers


@pytest.mark.parametrize("method,path", [(m, p) for m, p, _, _ in operations()])
def test_every_answer_is_described_and_never_a_server_error(fuzz_server, method, path):
    k, url, keys, ids, ours = fuzz_server
    if path.startswith("/v1/api-keys/"):
        ids = [i for i in ids if i not in ours]
    op = next(o for m, p, o, _ in operations() if (m, p) == (method, path))
    params = next(ps for m, p, _, ps in operations() if (m, p) == (method, path))
    rng = random.Random(f"{SEED}:{method}:{path}")
    gen = Gen(rng, ids)
    clients = {role: k.client(key) for role, key in keys.items()}
    try:
        for n in range(ROUNDS):
            target, body, headers = request_for(rng, gen, ids, method, path, op, params)
            role = rng.choice(["admin", "admin", "agent"])
            r = clients[role].request(method, target, body=body, headers=headers)
            if os.environ.get("FUZZ_LOG") and (r.status != 400 or "valid" in os.environ.get("FUZZ_LOG")):
                with open(os.environ["FUZZ_LOG"], "a") as f:
                    f.write(f"{method} {path} {r.status} {target} {r.text[:150]!r}\n")
            assert r.status < 500, f"FUZZ_SEED={SEED} round {n}: {method} {target} as {role} " \
                                   f"body={str(body)[:300]!r} → {r}"
    finally:
        for c in clients.values():
            c.close()


def test_after_the_fuzz_the_records_still_hold(fuzz_server, cluster):
    k, url, keys, ids, ours = fuzz_server
    assert cluster.psql("SELECT ok FROM kept.audit_verify()", db="fuzz") == [["t"]]
    done = keptd_cmd(url, "analytics", "--verify")
    assert done.returncode == 0, f"FUZZ_SEED={SEED}\n{done.stdout}\n{done.stderr[-3000:]}"
