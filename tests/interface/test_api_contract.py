"""The registered API matches the user's contract (the seed's api-routes.tsv) and the OpenAPI doc."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bitdust import __version__
from bitdust.interface.api.catalog import all_specs
from bitdust.interface.openapi import build_openapi

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ROUTES_COPY = HERE / "data" / "api-routes.tsv"
ROUTES_SHARED = ROOT.parent / "shared" / "seed" / "api-routes.tsv"


def split_params(signature: str) -> list[str]:
    """Parameter names of ``name(a, b=[], c="x,y")``: split on top-level commas only."""
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    names, depth, quote, current = [], 0, None, ""
    for char in inner:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        names.append(current)
    return [n.split("=")[0].strip() for n in names]


def load_routes() -> dict[str, dict]:
    with open(ROUTES_COPY, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {
        row["method"]: {
            "verb": row["http_verb"],
            "path": row["path"],
            "params": split_params(row["signature_as_documented"].split("  [")[0]),
        }
        for row in rows
    }


ROUTES = load_routes()
SPECS = all_specs()


def test_split_params_handles_defaults_with_commas() -> None:
    assert split_params('f(a, b=[], c="x,y", d=None)') == ["a", "b", "c", "d"]
    assert split_params("f()") == []


def test_the_copy_of_the_contract_is_current() -> None:
    if not ROUTES_SHARED.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert ROUTES_COPY.read_text() == ROUTES_SHARED.read_text()
    assert len(ROUTES) == 98


def test_registered_names_are_unique() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    routes = [(spec.verb, spec.path) for spec in SPECS]
    assert len(routes) == len(set(routes))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.name in ROUTES], ids=lambda s: s.name)
def test_method_matches_the_contract(spec) -> None:
    route = ROUTES[spec.name]
    assert spec.verb == route["verb"]
    assert spec.path == route["path"]
    assert [p.name for p in spec.params] == route["params"]


def test_the_issue_2_methods_are_registered() -> None:
    names = {spec.name for spec in SPECS}
    expected = {
        "process_stop", "process_restart", "process_health", "process_info", "process_debug",
        "config_get", "config_set", "configs_list", "configs_tree",
        "services_list", "service_info", "service_start", "service_stop", "service_restart",
        "event_send", "event_listen", "automats_list", "automat_info",
    }  # fmt: skip
    assert expected <= names


def test_openapi_document_covers_every_method() -> None:
    doc = build_openapi(SPECS, version=__version__)
    assert doc["openapi"].startswith("3.")
    operations = {}
    for path, item in doc["paths"].items():
        for verb, operation in item.items():
            if verb in ("get", "post", "put", "delete"):
                operations[operation["operationId"]] = (verb.upper(), path, operation)
    for spec in SPECS:
        verb, path, operation = operations[spec.name]
        assert verb == spec.verb
        assert path == "/" + spec.path
        declared = {p["name"] for p in operation.get("parameters", [])}
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        declared |= set(body.get("properties", {}))
        assert declared == {p.name for p in spec.params}, spec.name


def test_committed_openapi_json_is_current() -> None:
    committed = ROOT / "docs" / "openapi.json"
    doc = build_openapi(SPECS, version=__version__)
    assert json.loads(committed.read_text()) == json.loads(json.dumps(doc)), "run `make openapi`"
