"""The typed option tree: what the engine can be configured with, and the defaults.

Keys keep the names the original BitDust gave them (``logs/debug-level``,
``interface/api/rest-http-port``), so users' habits and scripts carry over. Each key is also a
path under ``config/``, which is why keys are restricted to ``/``-separated lowercase segments
of ``a-z0-9-``: no key can climb out of the folder or collide with another by case.
Services add their own options (``services/<name>/enabled`` and more) when they are registered.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from bitdust.main.settings.config_types import (
    MB,
    Bool,
    ConfigValueError,
    Enum,
    Int,
    OptionType,
    Port,
    PositiveInt,
    Size,
    String,
    StringList,
)

KEY_RE = re.compile(r"[a-z0-9-]+(?:/[a-z0-9-]+)*")


def check_key(key: str) -> str:
    """Return ``key`` when it is a valid option key (or folder prefix); raise ``ValueError`` otherwise."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise ValueError(f"bad option key {key!r}: use /-separated segments of a-z, 0-9 and -")
    return key


@attrs.frozen
class Option:
    """One option: its key, type, default (as a parsed Python value) and a one-line description.

    A ``readonly`` option is shown but cannot be changed through :meth:`Config.set`; the engine
    itself decides its value (for example, a value recorded at first start).
    """

    key: str = attrs.field(validator=lambda _inst, _attr, value: check_key(value))
    type: OptionType
    default: Any
    description: str
    readonly: bool = False

    def __attrs_post_init__(self) -> None:
        # A bad default would only surface when a user first reads the option; fail at definition.
        try:
            parsed = self.type.parse(self.default)
        except ConfigValueError as error:
            raise ValueError(f"default of {self.key} does not fit its type: {error}") from None
        if parsed != self.default or type(parsed) is not type(self.default):
            raise ValueError(f"default of {self.key} must be the parsed value {parsed!r}, not {self.default!r}")
        if "\n" in self.description:
            raise ValueError(f"description of {self.key} must be one line")


DEFAULT_OPTIONS: tuple[Option, ...] = (
    Option(
        "interface/api/auth-secret-enabled",
        Bool(),
        True,
        "require the API secret from metadata/apisecret on every REST and WebSocket call",
    ),
    Option("interface/api/rest-http-enabled", Bool(), True, "serve the REST API on 127.0.0.1"),
    Option("interface/api/rest-http-port", Port(), 8180, "local TCP port of the REST API"),
    Option("interface/api/web-socket-enabled", Bool(), True, "serve the WebSocket API on 127.0.0.1"),
    Option("interface/api/web-socket-port", Port(), 8280, "local TCP port of the WebSocket API"),
    Option(
        "interface/api/long-poll-timeout",
        PositiveInt(max=3600),
        60,
        "seconds an event_listen or message_receive call waits for something to arrive",
    ),
    Option(
        "interface/api/consumer-idle-seconds",
        PositiveInt(max=7 * 24 * 3600),
        600,
        "seconds an event_listen consumer is kept without polling before it is dropped",
    ),
    Option(
        "interface/api/max-request-size",
        Size(min=1024),
        1 * MB,
        "largest REST request body or WebSocket frame the API accepts",
    ),
    Option("logs/debug-level", Int(min=0, max=20), 0, "log detail: 0 logs info and above, higher values log more"),
    Option("logs/max-size", Size(min=1024), 10 * MB, "size a log file reaches before it is rotated"),
    Option("logs/max-files", PositiveInt(), 5, "how many rotated log files are kept"),
    Option("logs/api-enabled", Bool(), False, "log every API call with its parameters"),
    Option("logs/automat-transitions-enabled", Bool(), False, "log every state machine transition"),
    Option(
        "personal/private-key-size",
        Enum((1024, 2048, 4096)),
        2048,
        "size in bits of newly generated RSA keys",
    ),
    Option(
        "services/network/network-config",
        String(max_length=4096),
        "",
        "path of the network config (identity servers, DHT seeds); empty: metadata/networkconfig.json",
    ),
    Option(
        "services/identity-propagate/preferred-servers",
        StringList(),
        (),
        "identity servers to register on first, as host:port; empty: those of the network config",
    ),
    Option(
        "services/identity-propagate/min-servers",
        Int(min=1, max=6),
        2,
        "on how many identity servers a new identity is registered",
    ),
    Option(
        "services/network/receive-limit",
        Int(min=0),
        125000000,
        "incoming traffic limit of the TCP transport in bytes per second (0: none); read when it starts",
    ),
    Option(
        "services/network/send-limit",
        Int(min=0),
        12500000,
        "outgoing traffic limit of the TCP transport in bytes per second (0: none); read when it starts",
    ),
)
