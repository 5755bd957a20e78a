"""The JSON envelope every API answer travels in, over REST and WebSocket alike.

Success: ``{"status": "OK", "result": ..., "execution": "0.000107"}`` (plus ``message`` when the
method has a human line to add); failure: ``{"status": "ERROR", "errors": [...], "execution": ...}``.
Clients branch on ``status`` only, so both shapes are built here and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any


def format_execution(seconds: float) -> str:
    """Seconds with 6 decimals, as a string: the seed's clients expect ``"0.000107"``."""
    return f"{max(float(seconds), 0.0):.6f}"


RESERVED = frozenset({"status", "result", "message", "errors", "execution"})


def ok(
    result: object, execution: float, message: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A success envelope; ``result`` is always present, even when it is ``None`` or empty.

    ``extra`` fields sit beside ``result`` (the original's ``extra_fields``); they can never
    replace one of the envelope's own fields, which clients branch on.
    """
    answer: dict[str, Any] = {"status": "OK", "result": result}
    if extra:
        clash = RESERVED.intersection(extra)
        if clash:
            raise ValueError(f"extra envelope fields may not be named {sorted(clash)}")
        answer.update(extra)
    if message is not None:
        answer["message"] = message
    answer["execution"] = format_execution(execution)
    return answer


def error(errors: list[str], execution: float) -> dict[str, Any]:
    """A failure envelope; ``errors`` are human readable reasons, never a traceback."""
    return {"status": "ERROR", "errors": [str(e) for e in errors], "execution": format_execution(execution)}


def encode(answer: object, *, pretty: bool = False) -> bytes:
    """Strict JSON (no NaN/Infinity, which browsers refuse) as UTF-8 bytes.

    Raises ``TypeError``/``ValueError`` when ``answer`` holds something JSON cannot carry; the
    registry checks results with this before they leave, so transports never meet that error.
    """
    if pretty:
        text = json.dumps(answer, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    else:
        text = json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")
