"""twistd plugin: ``twistd -n bitdust --basedir DIR`` runs one BitDust engine."""

from __future__ import annotations

from typing import Any

from twisted.application.service import ServiceMaker

bitdust_engine = ServiceMaker(
    "BitDust engine",
    "bitdust.node.twistd_service",
    "a BitDust peer-to-peer node (local API on 127.0.0.1)",
    "bitdust",
)

__all__: list[Any] = ["bitdust_engine"]
