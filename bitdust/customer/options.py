"""The config options of the customer side, declared once so the services that wire it register them.

``service_customer`` owns ``services/customer/...`` (how big the family is and how much space it
asks for), ``service_employer`` owns ``services/employer/...`` (whom to try first and how long an
offline supplier is kept). The defaults are the original BitDust's where it had the option.
"""

from __future__ import annotations

from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Enum, PositiveInt, Size, StringList
from bitdust.raid.eccmap import ECC_MAPS

SUPPLIERS_NUMBER_KEY = "services/customer/suppliers-number"
NEEDED_SPACE_KEY = "services/customer/needed-space"
CANDIDATES_KEY = "services/employer/candidates"
OFFLINE_SECONDS_KEY = "services/employer/offline-seconds"
HIRE_RETRY_KEY = "services/employer/hire-retry-seconds"

#: The family sizes a customer may choose: the sizes of the ECC maps (2, 4, 7, 13, 18, 26, 64).
SUPPLIERS_NUMBERS: tuple[int, ...] = tuple(sorted(layout.suppliers for layout in ECC_MAPS.values()))

DEFAULT_SUPPLIERS_NUMBER = 2
DEFAULT_NEEDED_SPACE = 256 * 1024 * 1024
DEFAULT_OFFLINE_SECONDS = 300
DEFAULT_HIRE_RETRY_SECONDS = 60

#: The DHT layer suppliers attach to, where the finder looks for random live ones.
SUPPLIERS_DHT_LAYER = 3


def ecc_map_name(suppliers_number: int) -> str:
    """The ECC map of a family of ``suppliers_number`` (``ecc/4x4`` for 4)."""
    return f"ecc/{suppliers_number}x{suppliers_number}"


def customer_options() -> tuple[Option, ...]:
    """The options of ``service_customer``."""
    return (
        Option(
            SUPPLIERS_NUMBER_KEY,
            Enum(SUPPLIERS_NUMBERS),
            DEFAULT_SUPPLIERS_NUMBER,
            "how many suppliers hold this node's data (the size of an ECC map)",
        ),
        Option(
            NEEDED_SPACE_KEY,
            Size(min=1),
            DEFAULT_NEEDED_SPACE,
            "the space this node asks of its family, in total",
        ),
    )


def employer_options() -> tuple[Option, ...]:
    """The options of ``service_employer``."""
    return (
        Option(CANDIDATES_KEY, StringList(), (), "IDURLs of nodes to hire first, before random ones from the DHT"),
        Option(
            OFFLINE_SECONDS_KEY,
            PositiveInt(max=30 * 24 * 3600),
            DEFAULT_OFFLINE_SECONDS,
            "how long a supplier may stay offline before it is replaced",
        ),
        Option(
            HIRE_RETRY_KEY,
            PositiveInt(max=24 * 3600),
            DEFAULT_HIRE_RETRY_SECONDS,
            "how long to wait before searching again when no supplier could be hired for an empty position",
        ),
    )
