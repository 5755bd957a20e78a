"""The tunables of a DHT node: Kademlia's k and alpha, timers, and the budgets peers get."""

from __future__ import annotations

import attrs

from bitdust.dht import messages


@attrs.frozen
class DhtSettings:
    k: int = 8
    alpha: int = 3
    rpc_timeout: float = 5.0
    default_ttl: int = 24 * 3600
    max_ttl: int = messages.MAX_TTL
    refresh_interval: float = 3600.0
    republish_interval: float = 3600.0
    expire_interval: float = 60.0
    rate_limit: float = 200.0
    rate_burst: float = 400.0
    backoff_min: float = 1.0
    backoff_max: float = 300.0
    max_items: int = 50_000
    #: values passed on to one newly seen node at most (the rest waits for the next republish)
    max_handover: int = 200
    #: bytes of values passed on to the nodes of one sender host per ``handover_window`` (a host
    #: that announces new ids again and again gets no more; the rest comes with republishing)
    handover_bytes_per_sender: int = 64 * 1024
    handover_window: float = 3600.0
    #: bytes of values passed on per second to all newcomers together (bursts up to 1 MiB)
    handover_bytes_rate: float = 64 * 1024
    handover_bytes_burst: int = 1024 * 1024
    #: one verification ping per address at most this often, and at most this many per second
    verify_interval: float = 30.0
    verify_rate: float = 20.0
    #: STOREs accepted per second from one sender host (bursts up to ``store_burst``)
    store_rate: float = 20.0
    store_burst: float = 200.0
    #: values kept for one sender host
    max_items_per_sender: int = 1000
    #: the longest a value of a record type nobody signs lives here (its publisher republishes it)
    unsigned_max_ttl: int = 24 * 3600
