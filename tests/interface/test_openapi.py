"""The OpenAPI document derived from the fake API module, and the file writer."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

from bitdust.interface import openapi
from bitdust.interface.api.constraints import between, each, one_of, text
from bitdust.interface.api.spec import Param, api_method
from bitdust.interface.openapi import build_openapi, render, write_if_changed
from tests.interface import fake_api

DOC = build_openapi(fake_api.specs(), version="9.9.9")


@api_method(
    "POST",
    "limits/{name}/v1",
    constraints={
        "mode": one_of("fast", "slow"),
        "timeout": between(0, 60, exclusive_minimum=True),
        "protocols": each(one_of("tcp", "udp")),
        "label": text(max_length=8, pattern="[a-z]+"),
    },
    answers=(404, 409, 503),
)
def limited(
    engine: Any, name: str, mode: str = "fast", timeout: float = 5, protocols: list[str] | None = None, label: str = "a"
) -> None:
    """A method whose parameters carry constraints."""


CONSTRAINED = build_openapi([limited.__bitdust_api__], version="1")  # type: ignore[attr-defined]


def operation(path: str, verb: str) -> dict:
    return DOC["paths"][path][verb]


def test_top_level() -> None:
    assert DOC["openapi"] == "3.0.3"
    assert DOC["info"]["version"] == "9.9.9"
    assert DOC["components"]["securitySchemes"]["api_secret"] == {
        "type": "apiKey",
        "in": "header",
        "name": "api_secret",
    }
    assert DOC["security"] == [{"api_secret": []}]
    assert set(DOC["components"]["schemas"]["Envelope"]["properties"]) == {
        "status",
        "result",
        "message",
        "errors",
        "execution",
    }
    json.dumps(DOC, allow_nan=False)


def test_one_path_item_per_path_with_an_operation_per_verb() -> None:
    assert list(DOC["paths"])[:2] == ["/fake/echo/v1", "/fake/health/v1"]
    assert set(DOC["paths"]["/fake/items/add/v1"]) == {"post", "delete"}
    ids = [op["operationId"] for item in DOC["paths"].values() for op in item.values()]
    assert sorted(ids) == sorted(spec.name for spec in fake_api.specs())


def test_get_parameters_are_query_parameters() -> None:
    op = operation("/fake/echo/v1", "get")
    assert op["summary"] == "Echo a text back."
    assert op["description"] == "Synchronous; the simplest method there is."
    assert op["parameters"] == [
        {"name": "text", "in": "query", "required": True, "schema": {"type": "string"}, "description": "what to echo"},
        {
            "name": "times",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "default": 1},
            "description": "how many times",
        },
        {"name": "loud", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}},
    ]
    assert "requestBody" not in op


def test_path_parameters() -> None:
    op = operation("/fake/listen/{consumer_id}/v1", "get")
    assert op["parameters"] == [
        {
            "name": "consumer_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": "who listens",
        }
    ]
    assert op["x-long-poll"] is True


def test_body_parameters_are_a_json_request_body() -> None:
    op = operation("/fake/items/add/v1", "post")
    assert "parameters" not in op
    body = op["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert schema["required"] == ["items"]
    props = schema["properties"]
    assert props["items"] == {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "string", "description": "a JSON list as text, or comma-separated items"},
        ],
        "description": "what to add (also accepted as: entries)",
    }
    assert props["tags"]["default"] == ["default"]
    assert props["options"] == {
        "anyOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "string", "description": "a JSON object as text"},
        ],
        "nullable": True,
        "default": None,
        "description": "extra settings",
    }
    assert props["ratio"]["anyOf"][0] == {"type": "number"}
    assert props["ratio"]["default"] == 0.5


def test_put_with_path_and_body() -> None:
    op = operation("/fake/service/{service_name}/v1", "put")
    assert [p["name"] for p in op["parameters"]] == ["service_name"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"enabled", "value"}
    assert schema["properties"]["value"] == {"default": None}


def test_a_body_method_without_required_parameters() -> None:
    assert operation("/fake/items/add/v1", "delete")["requestBody"]["required"] is False


def test_responses_are_the_common_ones_plus_what_the_method_declares() -> None:
    responses = operation("/fake/echo/v1", "get")["responses"]
    assert set(responses) == {"200", "400", "401", "403", "413", "414", "431", "500"}
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Envelope"}
    assert responses["413"] == {"$ref": "#/components/responses/Error413"}
    declared = CONSTRAINED["paths"]["/limits/{name}/v1"]["post"]["responses"]
    assert set(declared) - set(responses) == {"404", "409", "503"}
    assert declared["409"] == {"$ref": "#/components/responses/Error409"}
    for document in (DOC, CONSTRAINED):
        codes = {code for item in document["paths"].values() for op in item.values() for code in op["responses"]}
        assert {f"Error{code}" for code in codes - {"200"}} <= set(document["components"]["responses"])


def test_defaults_json_cannot_carry_are_left_out() -> None:
    spec = fake_api.specs()[0]
    odd = Param(name="when", kind="any", default=object())
    doc = build_openapi([attrs.evolve(spec, params=(odd,))], version="1")
    assert doc["paths"]["/fake/echo/v1"]["get"]["parameters"][0]["schema"] == {}


def test_render_is_deterministic() -> None:
    text = render(DOC)
    assert text.endswith("}\n")
    assert text == render(json.loads(text))
    assert text.index('"components"') < text.index('"paths"')


def test_write_only_when_changed(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "openapi.json"
    assert write_if_changed(target, "a\n")
    before = target.stat().st_mtime_ns
    assert not write_if_changed(target, "a\n")
    assert target.stat().st_mtime_ns == before
    assert write_if_changed(target, "b\n")
    assert target.read_text() == "b\n"


def test_main_writes_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    catalog = types.ModuleType("bitdust.interface.api.catalog")
    catalog.all_specs = fake_api.specs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bitdust.interface.api.catalog", catalog)
    target = tmp_path / "openapi.json"
    assert openapi.main(["--output", str(target)]) == 0
    assert "written" in capsys.readouterr().out
    assert json.loads(target.read_text())["paths"]["/fake/echo/v1"]["get"]["operationId"] == "fake_echo"
    assert openapi.main(["--output", str(target)]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_constraints_are_schema_keywords() -> None:
    op = CONSTRAINED["paths"]["/limits/{name}/v1"]["post"]
    assert op["parameters"][0]["schema"] == {"type": "string", "minLength": 1}
    props = op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"], "default": "fast"}
    assert props["label"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 8,
        "pattern": "^(?:[a-z]+)$",
        "default": "a",
    }
    number = props["timeout"]["anyOf"][0]
    assert number == {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 60}
    assert props["protocols"]["anyOf"][0] == {"type": "array", "items": {"enum": ["tcp", "udp"]}}
    assert props["protocols"]["nullable"] is True


def test_query_parameters_carry_constraints_too() -> None:
    spec = attrs.evolve(limited.__bitdust_api__, verb="GET")  # type: ignore[attr-defined]
    params = {
        p["name"]: p for p in build_openapi([spec], version="1")["paths"]["/limits/{name}/v1"]["get"]["parameters"]
    }
    assert params["timeout"]["schema"] == {
        "type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 60, "default": 5
    }  # fmt: skip
    assert params["protocols"]["schema"]["items"] == {"enum": ["tcp", "udp"]}
    assert params["protocols"]["style"] == "form"


@api_method("POST", "maker/v1", links={"limited": {"name": "made/name", "mode": "mode"}, "fake_echo": {"text": "said"}})
def maker(engine: Any) -> None:
    """Makes something other calls can use."""


def test_links_feed_a_result_field_into_another_call() -> None:
    specs = [maker.__bitdust_api__, limited.__bitdust_api__, fake_api.fake_echo.__bitdust_api__]  # type: ignore[attr-defined]
    links = build_openapi(specs, version="1")["paths"]["/maker/v1"]["post"]["responses"]["200"]["links"]
    assert links == {
        "fake_echo": {"operationId": "fake_echo", "parameters": {"query.text": "$response.body#/result/said"}},
        "limited": {
            "operationId": "limited",
            "parameters": {"path.name": "$response.body#/result/made/name"},
            "requestBody": {"mode": "$response.body#/result/mode"},
        },
    }


def test_a_link_to_an_unknown_method_or_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown method limited"):
        build_openapi([maker.__bitdust_api__, fake_api.fake_echo.__bitdust_api__], version="1")  # type: ignore[attr-defined]
    wrong = api_method("POST", "wrong/v1", links={"fake_echo": {"nope": "x"}})(lambda engine: None)
    with pytest.raises(ValueError, match="unknown parameter fake_echo.nope"):
        build_openapi([wrong.__bitdust_api__, fake_api.fake_echo.__bitdust_api__], version="1")
