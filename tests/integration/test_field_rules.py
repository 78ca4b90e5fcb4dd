"""Each field rule is declared once, in keptd (service/src/rules/rules.c), and
written into kept.field_rules by `keptd migrate`. These tests fail on any
drift from it: the OpenAPI description of every request property a rule
governs, and the database constraints (with the predicates they call) that
enforce it, must state the same pattern, length, bounds and values; and the
API must answer a broken rule with the rule's code, field and message."""
import json
import re

import pytest
import yaml

from conftest import ROOT, new_account, new_customer

SPEC = yaml.safe_load((ROOT / "clients" / "openapi.yaml").read_text())


@pytest.fixture(scope="module")
def rules(cluster):
    rows = cluster.psql("SELECT row_to_json(r) FROM kept.field_rules r")
    return {r["name"]: r for r in (json.loads(row[0]) for row in rows)}


def resolve(schema):
    while "$ref" in schema:
        node = SPEC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def request_properties():
    """(where, name, schema) of every property of every JSON request body, nested ones too."""
    found, seen = [], set()

    def walk(schema, where):
        if "$ref" in schema:
            if schema["$ref"] in seen:
                return
            seen.add(schema["$ref"])
            where = schema["$ref"].rsplit("/", 1)[-1]
        schema = resolve(schema)
        for key in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(key, []):
                walk(part, where)
        for name, prop in schema.get("properties", {}).items():
            found.append((where, name, resolve(prop)))
            walk(prop, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}[]")

    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}) if isinstance(op, dict) else {}
            media = body.get("content", {}).get("application/json")
            if media:
                walk(media["schema"], f"{method.upper()} {path}")
    return found


PROPERTIES = request_properties()


def governed(rule):
    return [(where, schema) for where, name, schema in PROPERTIES if name == rule["property"]]


def described_shape(schema):
    """What the description says of a value: its own keywords, or its items' for a list."""
    if schema.get("type") == "array" and "items" in schema:
        return resolve(schema["items"])
    return schema


def test_the_rules_are_in_the_database_as_keptd_declares_them(rules):
    assert len(rules) > 20
    assert rules["source"]["pattern"] == "^[a-z0-9][a-z0-9_.:-]{0,39}$"
    assert rules["source"]["code"] == "invalid_source" and rules["source"]["max_chars"] == 40
    assert rules["max_weeks"]["minimum"] == 1 and rules["max_weeks"]["maximum"] == 520


def test_openapi_states_each_rule_where_it_applies(rules):
    drift = []
    for rule in rules.values():
        shaped = rule["pattern"] or rule["max_chars"] or rule["minimum"] is not None or rule["vals"]
        places = governed(rule)
        if shaped and not places:
            drift.append(f"{rule['name']}: no request property {rule['property']!r} in openapi.yaml")
        for where, prop in places:
            shape = described_shape(prop)
            want = {}
            if rule["pattern"]:
                want["pattern"] = rule["pattern"]
            if rule["max_chars"] and not rule["pattern"]:
                want["maxLength"] = rule["max_chars"]
            if rule["minimum"] is not None:
                want["minimum"] = rule["minimum"]
            if rule["maximum"] is not None:
                want["maximum"] = rule["maximum"]
            if rule["vals"]:
                want["enum"] = rule["vals"]
            for key, value in want.items():
                got = shape.get(key)
                if key == "enum" and got is not None:
                    got = sorted(got)
                    value = sorted(value)
                if got != value:
                    drift.append(f"{rule['name']}: {where}.{rule['property']} has {key} {got!r}, the rule {value!r}")
            if rule["pattern"] and "maxLength" in shape and shape["maxLength"] != rule["max_chars"]:
                drift.append(f"{rule['name']}: {where}.{rule['property']} maxLength {shape['maxLength']}, "
                             f"the rule {rule['max_chars']}")
    assert drift == [], "\n".join(drift)


def test_the_database_enforces_each_rule_as_declared(cluster, rules):
    defs = dict(cluster.psql("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE connamespace = 'kept'::regnamespace"))
    preds = dict(cluster.psql("SELECT proname, replace(pg_get_functiondef(oid), E'\\n', ' ') FROM pg_proc "
                              "WHERE pronamespace = 'kept'::regnamespace AND proname LIKE 'is\\_%'"))
    raisers = cluster.psql("SELECT prosrc FROM pg_proc WHERE pronamespace = 'kept'::regnamespace "
                           "AND prosrc LIKE '%kept.fail_rule(%'")
    raised = " ".join(row[0] for row in raisers)
    drift = []
    for rule in rules.values():
        # a sealed value has no constraint: its SQL checks it before sealing it
        if not rule["constraints"] and f"kept.fail_rule('{rule['name']}')" not in raised:
            drift.append(f"{rule['name']}: neither a constraint nor SQL's kept.fail_rule enforces it")
        for name in rule["constraints"]:
            if name not in defs:
                drift.append(f"{rule['name']}: no constraint {name}")
                continue
            text = defs[name] + (preds.get(rule["predicate"], "") if rule["predicate"] else "")
            if rule["predicate"] and rule["predicate"] not in defs[name]:
                drift.append(f"{rule['name']}: {name} does not call kept.{rule['predicate']}")
            if rule["pattern"] and f"'{rule['pattern']}'" not in text:
                drift.append(f"{rule['name']}: {name} does not check {rule['pattern']}")
            if rule["max_chars"] and not rule["pattern"] and f"<= {rule['max_chars']})" not in text:
                drift.append(f"{rule['name']}: {name} does not bound the length at {rule['max_chars']}")
            low = rule["minimum"]
            if low is not None and f">= {low})" not in text and f"> {low - 1})" not in text:
                drift.append(f"{rule['name']}: {name} does not bound it from {low}")
            high = rule["maximum"]
            if high is not None and f"<= {high})" not in text:
                drift.append(f"{rule['name']}: {name} does not bound it at {high}")
            for value in rule["vals"] or []:
                if f"'{value}'" not in text:
                    drift.append(f"{rule['name']}: {name} does not allow {value!r}")
    assert drift == [], "\n".join(drift)


def test_a_broken_rule_answers_its_code_field_and_message(api, rules):
    account = new_account(api, new_customer(api)["id"])
    r = api.post("/v1/payments", {"account_id": account["id"], "amount_cents": 100, "source": "Not A Source",
                                  "source_ref": "x"}, headers={"Idempotency-Key": "rules-1"})
    assert r.status == 400, r.body
    source = rules["source"]
    assert r.json()["error"]["code"] == source["code"]
    assert r.json()["error"]["message"] == source["message"]
    assert r.json()["error"]["details"]["field"] == source["field"]


def test_sql_names_only_rules_keptd_declares(rules):
    """A misspelt rule name in SQL would be a 500 on the first bad line of an import."""
    used = set()
    for path in (ROOT / "sql" / "functions").glob("*.sql"):
        used |= set(re.findall(r"kept\.(?:rule_message|fail_rule)\('([a-z_]+)'\)", path.read_text()))
    assert len(used) >= 10
    assert used - set(rules) == set()
