"""Option types: how a configuration value is parsed, checked, stored and shown.

A value reaches the engine in three forms: a JSON value (REST body, WebSocket call), a string
(query string, CLI argument) and the one-line text of the option's file under ``config/``. So every
type's :meth:`parse` accepts both the JSON value and its text form, and :meth:`serialize` writes
the text that :meth:`parse` reads back to the very same value. A value that does not fit raises
:class:`ConfigValueError` describing what would have fit, so the user learns how to fix it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any, ClassVar, Protocol

import attrs

KB = 1024
MB = 1024 * KB
GB = 1024 * MB
TB = 1024 * GB

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# Powers of 1024 as the original BitDust used them (DefaultBackupBlockSize "4 MB" = 4 * 1024**2).
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": KB,
    "kib": KB,
    "mb": MB,
    "mib": MB,
    "gb": GB,
    "gib": GB,
    "tb": TB,
    "tib": TB,
}
_SIZE_CANONICAL = (("TB", TB), ("GB", GB), ("MB", MB), ("KB", KB))


class ConfigValueError(ValueError):
    """A value does not fit an option type; ``expected`` is a human description of what would."""

    def __init__(self, expected: str) -> None:
        super().__init__(f"expected {expected}")
        self.expected = expected


class OptionType(Protocol):
    """What the config needs from a type; every class in this module provides it."""

    name: ClassVar[str]

    def describe(self) -> str: ...

    def parse(self, raw: Any) -> Any: ...

    def serialize(self, value: Any) -> str: ...

    def to_json(self, value: Any) -> Any: ...


def _range_text(noun: str, low: Any, high: Any, show: Callable[[Any], str] = str) -> str:
    if low is not None and high is not None:
        return f"{noun} from {show(low)} to {show(high)}"
    if low is not None:
        return f"{noun} of at least {show(low)}"
    if high is not None:
        return f"{noun} of at most {show(high)}"
    return noun


def _in_range(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _as_int(raw: Any) -> int | None:
    """An integer from a JSON number or decimal text; ``None`` when it is not one.

    Booleans are refused although Python counts them as integers: ``true`` is no port number.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
        try:
            return int(raw.strip())
        except ValueError:  # more digits than Python converts
            return None
    return None


def _is_single_line(text: str) -> bool:
    """The option file holds one line of UTF-8, so neither line breaks nor lone surrogates fit."""
    if "\n" in text or "\r" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Type:
    """Shared behaviour: the JSON form is the value itself unless a type says otherwise."""

    name: ClassVar[str] = ""

    def describe(self) -> str:
        return self.name

    def fail(self) -> ConfigValueError:
        return ConfigValueError(self.describe())

    def to_json(self, value: Any) -> Any:
        return value


@attrs.frozen
class Bool(_Type):
    """``true/false/1/0/yes/no/on/off`` in any case, or a JSON boolean, 0 or 1."""

    name: ClassVar[str] = "boolean"

    def describe(self) -> str:
        return "boolean (true or false)"

    def parse(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            text = raw.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise self.fail()

    def serialize(self, value: bool) -> str:
        return "true" if value else "false"


@attrs.frozen
class Int(_Type):
    """A whole number, optionally bounded on either side (bounds included)."""

    name: ClassVar[str] = "integer"
    min: int | None = None
    max: int | None = None

    def describe(self) -> str:
        return _range_text("integer", self.min, self.max)

    def parse(self, raw: Any) -> int:
        value = _as_int(raw)
        if value is None or not _in_range(value, self.min, self.max):
            raise self.fail()
        return value

    def serialize(self, value: int) -> str:
        return str(value)


@attrs.frozen
class PositiveInt(_Type):
    """A count or a duration: 1 or more, optionally capped."""

    name: ClassVar[str] = "positive integer"
    max: int | None = None

    def describe(self) -> str:
        if self.max is None:
            return "positive integer (1 or more)"
        return _range_text("integer", 1, self.max)

    def parse(self, raw: Any) -> int:
        value = _as_int(raw)
        if value is None or not _in_range(value, 1, self.max):
            raise self.fail()
        return value

    def serialize(self, value: int) -> str:
        return str(value)


@attrs.frozen
class Port(_Type):
    """A TCP or UDP port number."""

    name: ClassVar[str] = "port"

    def describe(self) -> str:
        return "port number from 1 to 65535"

    def parse(self, raw: Any) -> int:
        value = _as_int(raw)
        if value is None or not _in_range(value, 1, 65535):
            raise self.fail()
        return value

    def serialize(self, value: int) -> str:
        return str(value)


@attrs.frozen
class Float(_Type):
    """A finite number; infinities and NaN are refused because no option means them."""

    name: ClassVar[str] = "float"
    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        return _range_text("number", self.min, self.max)

    def parse(self, raw: Any) -> float:
        value: float | None = None
        try:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                value = float(raw)
            elif isinstance(raw, str) and _FLOAT_RE.fullmatch(raw.strip()):
                value = float(raw.strip())
        except OverflowError:
            value = None
        if value is None or not math.isfinite(value) or not _in_range(value, self.min, self.max):
            raise self.fail()
        return value

    def serialize(self, value: float) -> str:
        return repr(float(value))


@attrs.frozen
class String(_Type):
    """One line of text, kept exactly as given (no stripping), optionally length-limited."""

    name: ClassVar[str] = "string"
    max_length: int | None = None

    def describe(self) -> str:
        if self.max_length is None:
            return "single-line string"
        return f"single-line string of at most {self.max_length} characters"

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str) or not _is_single_line(raw):
            raise self.fail()
        if self.max_length is not None and len(raw) > self.max_length:
            raise self.fail()
        return raw

    def serialize(self, value: str) -> str:
        return value


@attrs.frozen
class Size(_Type):
    """A number of bytes, written by people as ``"10 MB"``, ``"512KB"`` or plain bytes.

    Units are powers of 1024 (KB/KiB, MB/MiB, GB/GiB, TB/TiB, case-insensitive) as in the original
    BitDust. The Python value is an ``int``; the stored and shown form is the largest unit that
    divides it exactly (``"4 MB"``), else bytes (``"1000 B"``). Fractions such as ``"1.5 GB"`` are
    accepted when they come to a whole number of bytes.
    """

    name: ClassVar[str] = "size"
    min: int | None = 0
    max: int | None = None

    def describe(self) -> str:
        noun = _range_text("size", self.min or None, self.max, self.serialize)
        return f'{noun} (such as "10 MB" or a number of bytes)'

    def parse(self, raw: Any) -> int:
        value = _as_int(raw) if not isinstance(raw, str) else self._parse_text(raw)
        if value is None or value < 0 or not _in_range(value, self.min, self.max):
            raise self.fail()
        return value

    @staticmethod
    def _parse_text(text: str) -> int | None:
        match = _SIZE_RE.fullmatch(text.strip())
        if not match:
            return None
        number, unit = match.groups()
        factor = _SIZE_UNITS.get(unit.lower())
        if factor is None:
            return None
        try:
            exact = Fraction(number) * factor
        except ValueError:  # more digits than Python converts
            return None
        return exact.numerator if exact.denominator == 1 else None

    def serialize(self, value: int) -> str:
        for unit, factor in _SIZE_CANONICAL:
            if value and value % factor == 0:
                return f"{value // factor} {unit}"
        return f"{value} B"

    def to_json(self, value: int) -> str:
        return self.serialize(value)


def _as_choices(choices: Iterable[str | int]) -> tuple[str | int, ...]:
    """``Enum``'s converter: any iterable of choices, kept as a tuple (typed, unlike ``tuple`` itself)."""
    return tuple(choices)


@attrs.frozen
class Enum(_Type):
    """One of a fixed set of choices, all strings or all integers; strings match case-sensitively.

    Integer choices (``Enum((1024, 2048, 4096))``) give an ``int`` value and also accept the text
    ``"2048"``; string choices also accept a JSON number whose text is a choice.
    """

    name: ClassVar[str] = "enum"
    choices: tuple[str | int, ...] = attrs.field(converter=_as_choices)

    @choices.validator
    def _check_choices(self, _attribute: Any, choices: tuple[str | int, ...]) -> None:
        kinds = {type(choice) for choice in choices}
        if not choices or not (kinds == {str} or kinds == {int}) or len(set(choices)) != len(choices):
            raise ValueError(f"Enum needs distinct choices, all str or all int, not {choices!r}")

    def describe(self) -> str:
        return "one of " + ", ".join(json.dumps(choice) for choice in self.choices)

    def parse(self, raw: Any) -> str | int:
        if isinstance(raw, bool):
            raise self.fail()
        for choice in self.choices:
            if type(raw) is type(choice) and raw == choice:
                return choice
        if isinstance(raw, str | int):
            text = raw.strip() if isinstance(raw, str) else str(raw)
            for choice in self.choices:
                if str(choice) == text:
                    return choice
        raise self.fail()

    def serialize(self, value: str | int) -> str:
        return str(value)


@attrs.frozen
class StringList(_Type):
    """A JSON list of strings or comma-separated text; items are stripped and empty ones dropped.

    The Python value is a tuple (config values are shared, so they must not be mutable) and the
    stored form is ``"a, b, c"``, which is why an item can contain neither a comma nor a line break.
    """

    name: ClassVar[str] = "list of strings"

    def describe(self) -> str:
        return "list of strings (a JSON list or comma-separated text; no commas or line breaks in items)"

    def parse(self, raw: Any) -> tuple[str, ...]:
        if isinstance(raw, str):
            items = raw.split(",")
        elif isinstance(raw, list | tuple):
            items = list(raw)
            if not all(isinstance(item, str) and "," not in item for item in items):
                raise self.fail()
        else:
            raise self.fail()
        if not all(_is_single_line(item) for item in items):
            raise self.fail()
        return tuple(item.strip() for item in items if item.strip())

    def serialize(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)

    def to_json(self, value: tuple[str, ...]) -> list[str]:
        return list(value)
