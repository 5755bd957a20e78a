"""The config options of service_entangled_dht, apart from the service that reads them.

The declarations (type, default, help text) are data the API's ``config_list`` shows; keeping
them here leaves ``service_entangled_dht.py`` to the service's life cycle.
"""

from __future__ import annotations

from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Bool, Int, Port, PositiveInt, String, StringList

NICKNAME_KEY = "personal/nickname"


def entangled_dht_options(prefix: str, *, with_nickname: bool) -> tuple[Option, ...]:
    """The options under ``prefix`` (``services/entangled-dht``), and ``personal/nickname`` when
    ``with_nickname`` (the option is declared once, by whoever registers it first)."""
    options = [
        Option(f"{prefix}/udp-port", Port(), 14441, "UDP port of the DHT"),
        Option(f"{prefix}/interface", String(max_length=253), "", "address the UDP port binds to; empty means all"),
        Option(f"{prefix}/bucket-size", Int(min=2, max=20), 8, "k: contacts per k-bucket and copies of each value"),
        Option(f"{prefix}/parallel-lookups", Int(min=1, max=8), 3, "alpha: requests in flight per lookup"),
        Option(
            f"{prefix}/attached-layers",
            StringList(),
            (),
            "extra DHT layers (0-9) this node announces itself on, e.g. 3 for suppliers",
        ),
        Option(
            f"{prefix}/known-nodes",
            String(max_length=4096),
            "",
            "host:port of DHT nodes to join through (empty: the network config's seeds; genesis: none)",
        ),
        Option(f"{prefix}/seed-mode", Bool(), False, "route every layer as a DHT seed does"),
        Option(
            f"{prefix}/default-expire-seconds",
            PositiveInt(max=30 * 24 * 3600),
            24 * 3600,
            "how long a value lives when dht_value_set gives no expire",
        ),
        Option(
            f"{prefix}/rate-limit-per-second",
            PositiveInt(max=100000),
            200,
            "datagrams per second accepted from one host (on loopback: from one port)",
        ),
    ]
    if with_nickname:
        options.append(
            Option(NICKNAME_KEY, String(max_length=64), "", "the name others find us by (empty: the identity's name)")
        )
    return tuple(options)
