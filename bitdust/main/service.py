"""The base class of every BitDust service.

A service wires one subsystem into the engine: it names the services it needs, the config
options it owns and the DHT layers it joins, and it knows how to start and stop. The
:class:`~bitdust.main.service_manager.ServiceManager` decides when that happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

if TYPE_CHECKING:
    from bitdust.main.config_options import Option
    from bitdust.main.engine import Engine


class BitDustService:
    """Subclass and set the class attributes; override ``start``/``stop``/``installed``."""

    #: ``service_<name>``; the enable flag is ``services/<name-with-dashes>/enabled``.
    name: str = ""
    #: Names of the services that must be ON before this one starts.
    depends_on: tuple[str, ...] = ()
    enabled_by_default: bool = True
    #: DHT layers this service attaches the node to (used once the DHT exists).
    layers: tuple[int, ...] = ()
    description: str = ""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def config_prefix(self) -> str:
        """``service_private_groups`` -> ``services/private-groups``."""
        short = self.name.removeprefix("service_")
        return "services/" + short.replace("_", "-")

    def enabled_key(self) -> str:
        return self.config_prefix() + "/enabled"

    def options(self) -> tuple[Option, ...]:
        """Config options of this service besides its enable flag."""
        return ()

    def installed(self) -> bool:
        """Whether the service can run on this node at all (e.g. it needs an identity)."""
        return True

    def start(self) -> defer.Deferred[Any] | None:
        """Start the service; a Deferred that fails means the start failed."""
        return None

    def stop(self) -> defer.Deferred[Any] | None:
        return None
