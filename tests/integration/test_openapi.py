"""clients/openapi.yaml and the routing table describe the same API."""
import re

import yaml

from conftest import ROOT

ROUTES = ROOT / "service" / "src" / "api" / "routes.c"
SPEC = ROOT / "clients" / "openapi.yaml"


def routing_table():
    text = ROUTES.read_text()
    return {(m.group(1), m.group(2)) for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"', text)}


def spec_operations():
    spec = yaml.safe_load(SPEC.read_text())
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")}, spec


def test_every_route_is_described_and_nothing_else():
    routes = routing_table()
    ops, _ = spec_operations()
    assert len(routes) >= 13
    assert routes - ops == set(), "routes missing from openapi.yaml"
    assert ops - routes == set(), "openapi.yaml describes routes keptd does not have"


def test_security_matches_the_routing_table():
    _, spec = spec_operations()
    text = ROUTES.read_text()
    for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)", ([A-Z_ |0]+),', text):
        method, path, roles = m.group(1), m.group(2), m.group(3).strip()
        op = spec["paths"][path][method.lower()]
        is_open = op.get("security", spec["security"]) == []
        assert is_open == (roles == "0"), (method, path)
        if roles != "0":
            assert "401" in op["responses"] and "403" in op["responses"], (method, path)


def test_documented_error_codes_include_what_the_api_maps():
    spec_text = SPEC.read_text()
    support = (ROOT / "service" / "src" / "api" / "support.c").read_text()
    table = support[support.index("constraint_errors[]"):]
    codes = re.findall(r'\{"[a-z_]+", KEPT_ERR_[A-Z]+, "([a-z_]+)"', table)
    rules = (ROOT / "service" / "src" / "rules" / "rules.c").read_text()
    codes += re.findall(r'\.code = "([a-z_]+)"', rules)
    assert len(set(codes)) >= 20
    for code in codes:
        assert f"`{code}`" in spec_text, code
