"""An OpenAPI 3.0.3 document derived from the API method specs.

Derived, never written by hand, so it cannot drift from what the engine serves: the engine
serves it at ``GET /openapi.json`` and ``python -m bitdust.interface.openapi --output
docs/openapi.json`` writes the copy kept in the repository (deterministic, rewritten only when
the content changes, so a build that changes nothing leaves the file's timestamp alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bitdust.interface.api.spec import MethodSpec, Param

_SCHEMA_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array", "items": {}},
    "dict": {"type": "object", "additionalProperties": True},
    "any": {},
}

_ERROR_RESPONSES = {
    "400": "Invalid or missing parameters, or input the method refuses; nothing was changed",
    "401": "Missing or wrong api_secret header",
    "403": "The client is not on this machine",
    "404": "A named object (service, key, option, remote path, state machine) does not exist",
    "409": "The node's state does not allow this now (e.g. no identity yet, or one already)",
    "413": "Request body over interface/api/max-request-size",
    "414": "Request URL too long",
    "431": "Request headers too large",
    "500": "Unexpected failure (details in the engine log)",
    "502": "A remote server or peer answered with an error",
    "503": "A service this method needs is not running, or did not get there in time",
    "504": "A peer did not answer in time",
}


def param_schema(param: Param) -> dict[str, Any]:
    """JSON schema of one parameter: type by kind, constraint, nullable, default when JSON can carry it."""
    schema = json.loads(json.dumps(_SCHEMA_TYPES[param.kind]))
    if param.constraint is not None:
        schema.update(param.constraint.schema())
        if param.kind == "list":
            schema["items"] = param.constraint.item_schema()
    return _finish(param, schema)


def body_param_schema(param: Param) -> dict[str, Any]:
    """JSON schema of a parameter in a JSON body: every JSON form the decoder accepts for it.

    A body value may also be given in the text forms of :mod:`~bitdust.interface.api.params`
    (``"12"`` for a number, ``1``/``"true"`` for a boolean, ``"a,b"`` for a list): seed clients
    send ``"join_network": 1``. The document says so, so a client is never told that a value the
    engine takes is invalid. The declared constraint applies to the typed form; a text form is
    checked against it after conversion.
    """
    typed = param_schema(param)
    typed.pop("nullable", None)
    typed.pop("default", None)
    forms = _TEXT_FORMS.get(param.kind)
    if forms is None:
        return _finish(param, typed)
    schema: dict[str, Any] = {"anyOf": [typed, *json.loads(json.dumps(forms))]}
    return _finish(param, schema)


def _finish(param: Param, schema: dict[str, Any]) -> dict[str, Any]:
    if param.nullable and param.kind != "any":
        schema["nullable"] = True
    if not param.required:
        try:
            schema["default"] = json.loads(json.dumps(param.default, allow_nan=False))
        except (TypeError, ValueError):
            pass  # not JSON: leave it out rather than lie about it
    return schema


# Python's str.strip() removes exactly these; the decoder strips text forms before reading them.
_SPACE = "[" + "".join(f"\\u{code:04x}" for code in range(sys.maxunicode + 1) if chr(code).isspace()) + "]*"


def _trimmed(pattern: str) -> str:
    return f"^{_SPACE}(?:{pattern}){_SPACE}$"


_INTEGER_TEXT = "[+-]?[0-9]{1,64}"
_NUMBER_TEXT = "[+-]?(?:[0-9]{1,64}(?:\\.[0-9]{0,64})?|\\.[0-9]{1,64})(?:[eE][+-]?[0-9]{1,4})?"
_BOOLEAN_TEXT = "[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0"

_TEXT_FORMS: dict[str, list[dict[str, Any]]] = {
    "int": [
        {"type": "number", "multipleOf": 1, "description": "an integral number"},
        {"type": "string", "pattern": _trimmed(_INTEGER_TEXT), "description": "decimal text"},
    ],
    "float": [{"type": "string", "pattern": _trimmed(_NUMBER_TEXT), "description": "decimal text"}],
    "bool": [
        {"type": "integer", "enum": [0, 1]},
        {"type": "string", "pattern": _trimmed(_BOOLEAN_TEXT), "description": "true, false, 1 or 0"},
    ],
    "list": [{"type": "string", "description": "a JSON list as text, or comma-separated items"}],
    "dict": [{"type": "string", "description": "a JSON object as text"}],
}


def _description(param: Param) -> str:
    text = param.description
    if param.aliases:
        also = ", ".join(param.aliases)
        text = f"{text} (also accepted as: {also})" if text else f"also accepted as: {also}"
    return text


def _parameter(param: Param, where: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": param.name,
        "in": where,
        "required": where == "path" or param.required,
        "schema": param_schema(param),
    }
    if where == "query" and param.kind == "list":
        entry["style"] = "form"
        entry["explode"] = False
    description = _description(param)
    if description:
        entry["description"] = description
    return entry


def _links(spec: MethodSpec, by_name: dict[str, MethodSpec]) -> dict[str, Any]:
    """OpenAPI links of the success answer: a value of ``result`` feeds a parameter of another call."""
    links: dict[str, Any] = {}
    for target_name, values in spec.links:
        target = by_name.get(target_name)
        if target is None:
            raise ValueError(f"{spec.name} links to unknown method {target_name}")
        parameters: dict[str, str] = {}
        body: dict[str, str] = {}
        for name, pointer in values:
            param = target.param(name)
            if param is None:
                raise ValueError(f"{spec.name} links to unknown parameter {target_name}.{name}")
            expression = f"$response.body#/result/{pointer.strip('/')}"
            if param.in_path:
                parameters[f"path.{name}"] = expression
            elif target.verb == "GET":
                parameters[f"query.{name}"] = expression
            else:
                body[name] = expression
        link: dict[str, Any] = {"operationId": target_name}
        if parameters:
            link["parameters"] = parameters
        if body:
            link["requestBody"] = body
        links[target_name] = link
    return links


def _operation(spec: MethodSpec, by_name: dict[str, MethodSpec]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary or spec.name,
        "tags": [spec.path.split("/")[0]],
    }
    if spec.description:
        operation["description"] = spec.description
    if spec.long_poll:
        operation["x-long-poll"] = True
    parameters = [_parameter(p, "path") for p in spec.params if p.in_path]
    others = [p for p in spec.params if not p.in_path]
    if spec.verb == "GET":
        parameters += [_parameter(p, "query") for p in others]
    elif others:
        properties = {}
        for p in others:
            properties[p.name] = body_param_schema(p)
            if _description(p):
                properties[p.name]["description"] = _description(p)
        body_schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [p.name for p in others if p.required]
        if required:
            body_schema["required"] = required
        operation["requestBody"] = {
            "required": bool(required),
            "content": {"application/json": {"schema": body_schema}},
        }
    if parameters:
        operation["parameters"] = parameters
    responses: dict[str, Any] = {
        "200": {
            "description": "Success: status OK and the result",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
        }
    }
    links = _links(spec, by_name)
    if links:
        responses["200"]["links"] = links
    for status in spec.statuses:
        if status != 200:
            responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    operation["responses"] = responses
    return operation


def _components() -> dict[str, Any]:
    envelope = {
        "type": "object",
        "required": ["status", "execution"],
        "properties": {
            "status": {"type": "string", "enum": ["OK", "ERROR"]},
            "result": {"description": "The method's result (present when status is OK)"},
            "message": {"type": "string", "description": "An optional human readable line"},
            "errors": {"type": "array", "items": {"type": "string"}, "description": "Reasons (status ERROR)"},
            "execution": {"type": "string", "description": "Seconds the call took, 6 decimals", "example": "0.000107"},
        },
    }
    responses = {
        f"Error{code}": {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
        }
        for code, text in _ERROR_RESPONSES.items()
    }
    return {
        "schemas": {"Envelope": envelope},
        "responses": responses,
        "securitySchemes": {"api_secret": {"type": "apiKey", "in": "header", "name": "api_secret"}},
    }


def build_openapi(specs: Iterable[MethodSpec], *, version: str) -> dict[str, Any]:
    """The OpenAPI document of ``specs``; paths keep the order of the specs."""
    paths: dict[str, dict[str, Any]] = {}
    specs = list(specs)
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        paths.setdefault("/" + spec.path, {})[spec.verb.lower()] = _operation(spec, by_name)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "BitDust engine API",
            "version": version,
            "description": (
                "REST API of a BitDust engine; it only answers clients on the same machine. "
                "A verb a path does not serve is answered 405 with an Allow header, a path "
                "no method serves 404."
            ),
        },
        "security": [{"api_secret": []}],
        "paths": paths,
        "components": _components(),
    }


def render(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, indent 2, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds exactly it; True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the OpenAPI document of the BitDust engine API.")
    parser.add_argument("--output", default="-", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    from bitdust import __version__
    from bitdust.interface.api.catalog import all_specs

    text = render(build_openapi(all_specs(), version=__version__))
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    written = write_if_changed(Path(args.output), text)
    print(f"{args.output}: {'written' if written else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
