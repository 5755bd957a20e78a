"""The ECC maps a customer can choose: N suppliers, any K = ceil(N/2) of which rebuild a block.

The names are the original BitDust ones (``ecc/4x4`` means four suppliers), kept so existing
configurations and user habits still work; the arithmetic is new: K = ceil(N/2) caps storage at 2x
the data and lets any floor(N/2) suppliers vanish.
"""

from __future__ import annotations

import attrs

from bitdust.main.errors import InvalidInput


@attrs.frozen
class EccMap:
    """One erasure coding layout: ``suppliers`` shares per block, ``required`` of them rebuild it."""

    name: str
    suppliers: int
    required: int

    @property
    def tolerated(self) -> int:
        """How many positions may be lost and the block still be rebuilt."""
        return self.suppliers - self.required


def _make(count: int) -> EccMap:
    return EccMap(name=f"ecc/{count}x{count}", suppliers=count, required=(count + 1) // 2)


ECC_MAPS: dict[str, EccMap] = {m.name: m for m in map(_make, (2, 4, 7, 13, 18, 26, 64))}


def supplier_positions() -> dict[str, int]:
    """ECC map name -> supplier positions: what the DHT's ``suppliers`` record check is given."""
    return {name: layout.suppliers for name, layout in ECC_MAPS.items()}


def eccmap(name: str) -> EccMap:
    """The map called ``name``; an unknown name is the caller's mistake, hence InvalidInput."""
    try:
        return ECC_MAPS[name]
    except (KeyError, TypeError):
        known = ", ".join(ECC_MAPS)
        raise InvalidInput(f"unknown ECC map {name!r} (known: {known})") from None
