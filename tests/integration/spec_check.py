"""clients/openapi.yaml as a contract: every answer the suite receives from keptd
is checked against it.

For a request whose path and method the spec describes, the answer's status
must be one of the operation's responses (or its `default`), its media type one
the response lists, and a JSON body must satisfy the response's schema
(JSON Schema 2020-12, as OpenAPI 3.1 says, through Debian's python3-jsonschema).
Paths the spec does not describe (a 404 for an unknown route, /dashboard's
assets, the self-service page) and methods it does not list (405) are not
checked here; test_openapi.py holds the routing table to the spec.

check() records what it finds in VIOLATIONS; conftest's autouse fixture fails
the test that received an answer the spec does not describe."""
import json
import re
from functools import lru_cache

from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "clients" / "openapi.yaml"

VIOLATIONS = []


@lru_cache(maxsize=1)
def spec():
    return yaml.safe_load(SPEC_PATH.read_text())


@lru_cache(maxsize=1)
def templates():
    """(regex, template) for every path, literal paths before templated ones
    and fewer parameters first, so /v1/plans/pending wins over /v1/plans/{id}."""
    out = []
    for template in spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        out.append((template.count("{"), re.compile(pattern), template))
    out.sort(key=lambda t: t[0])
    return [(rx, template) for _, rx, template in out]


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = spec()
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@lru_cache(maxsize=None)
def validator(pointer):
    """A validator for the schema at a JSON pointer into the spec; $refs
    inside it resolve against the whole document."""
    schema = {"$ref": pointer}
    resolver = jsonschema.RefResolver("", spec())
    return jsonschema.Draft202012Validator(schema, resolver=resolver,
                                           format_checker=jsonschema.FormatChecker())


def escape(part):
    return str(part).replace("~", "~0").replace("/", "~1")


def find_operation(method, target):
    path = target.split("?", 1)[0]
    for rx, template in templates():
        if rx.match(path):
            op = spec()["paths"][template].get(method.lower())
            return template, op
    return None, None


def check(method, target, status, headers, body):
    """Records every way this answer differs from the spec."""
    if method == "HEAD":
        return
    template, op = find_operation(method, target)
    if op is None:
        return
    where = f"{method} {target} → {status}"
    responses = op.get("responses", {})
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    if key not in responses:
        key = "default" if "default" in responses else None
    if key is None:
        VIOLATIONS.append(f"{where}: status not described for {method} {template}")
        return
    response = resolve(responses[key])
    content = response.get("content")
    if not body:
        if content and status not in (204, 304):
            VIOLATIONS.append(f"{where}: empty body where the spec describes one")
        return
    if not content:
        VIOLATIONS.append(f"{where}: a body where the spec describes none")
        return
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in content:
        VIOLATIONS.append(f"{where}: content type {media!r} not in {sorted(content)}")
        return
    if "schema" not in content[media] or not media.endswith("json"):
        return
    try:
        document = json.loads(body)
    except ValueError as e:
        VIOLATIONS.append(f"{where}: not JSON ({e})")
        return
    ref = response_pointer(template, method, key, responses[key], media)
    errors = sorted(validator(ref).iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors[:3]:
        at = "/".join(str(p) for p in e.absolute_path) or "(body)"
        VIOLATIONS.append(f"{where}: {at}: {e.message[:300]}")


def response_pointer(template, method, key, response, media):
    """The JSON pointer of the response's schema (through a $ref'd response)."""
    if isinstance(response, dict) and "$ref" in response:
        base = response["$ref"]
    else:
        base = f"#/paths/{escape(template)}/{method.lower()}/responses/{escape(key)}"
    return f"{base}/content/{escape(media)}/schema"


def take():
    """The violations so far, cleared."""
    found = list(VIOLATIONS)
    VIOLATIONS.clear()

    return found
