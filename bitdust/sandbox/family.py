"""The suppliers and customers of a sandbox: how many suppliers, how big each customer's family is.

A sandbox with ``--suppliers K`` starts K supplier nodes (``supplier-1``, ...) that donate space,
and its plain nodes become customers that hire a family of ``suppliers_number`` of them. The
family size must be one of the ECC map sizes (2, 4, 7, ...) and no larger than K, or the customers
could never hire a whole family; by default it is the largest such size up to 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from bitdust.customer.options import SUPPLIERS_NUMBERS
from bitdust.sandbox.errors import SandboxError
from bitdust.sandbox.roles import CUSTOMER, NODE, SUPPLIER

MB = 1024 * 1024
#: What each sandbox supplier donates unless told otherwise: small next to the original's 8 GB,
#: since a sandbox runs many suppliers on one disk, and enough for several customers.
DEFAULT_DONATED_SPACE = 256 * MB
#: The smallest donation ``service_supplier`` accepts (its ``donated-space`` minimum).
MIN_DONATED_SPACE = 64 * MB
#: What each sandbox customer asks of its family in all: a family of 4 asks each supplier for a
#: share of it, so several customers fit in one supplier's donation.
DEFAULT_NEEDED_SPACE = 32 * MB
#: The family size the default rounds down from.
DEFAULT_FAMILY_CAP = 4


def default_suppliers_number(suppliers: int) -> int | None:
    """The largest ECC map size not above ``min(suppliers, 4)``; None when there is none (K < 2)."""
    fitting = [size for size in SUPPLIERS_NUMBERS if size <= min(suppliers, DEFAULT_FAMILY_CAP)]
    return max(fitting) if fitting else None


@attrs.frozen
class FamilyPlan:
    """The supplier/customer settings of one sandbox (``suppliers`` 0: no suppliers, plain nodes)."""

    suppliers: int = 0
    suppliers_number: int | None = None
    donated_space: int = DEFAULT_DONATED_SPACE
    needed_space: int = DEFAULT_NEEDED_SPACE

    @property
    def plain_role(self) -> str:
        """The role of the sandbox's plain nodes: customers when there are suppliers to hire."""
        return CUSTOMER.name if self.suppliers else NODE.name

    def extras(self) -> Mapping[str, Mapping[str, Any]]:
        """The fields each role's records carry (their option functions read them)."""
        if not self.suppliers:
            return {}
        return {
            SUPPLIER.name: {"donated_space": self.donated_space},
            CUSTOMER.name: {"suppliers_number": self.suppliers_number, "needed_space": self.needed_space},
        }


def plan_family(
    suppliers: int,
    suppliers_number: int | None = None,
    *,
    donated_space: int = DEFAULT_DONATED_SPACE,
    needed_space: int = DEFAULT_NEEDED_SPACE,
) -> FamilyPlan:
    """Check the numbers and fill in the default family size; ``SandboxError`` says what is wrong."""
    if suppliers < 0:
        raise SandboxError("the number of suppliers cannot be negative")
    if donated_space < MIN_DONATED_SPACE:
        raise SandboxError(f"a supplier donates at least {MIN_DONATED_SPACE // MB} MB, not {donated_space} bytes")
    if needed_space < 1:
        raise SandboxError("a customer needs a positive amount of space")
    sizes = ", ".join(map(str, SUPPLIERS_NUMBERS))
    if not suppliers:
        if suppliers_number is not None:
            raise SandboxError("--suppliers-number needs suppliers to hire (--suppliers K)")
        return FamilyPlan(donated_space=donated_space, needed_space=needed_space)
    if suppliers_number is None:
        suppliers_number = default_suppliers_number(suppliers)
        if suppliers_number is None:
            raise SandboxError(f"a family has at least {SUPPLIERS_NUMBERS[0]} suppliers; the sandbox has {suppliers}")
    if suppliers_number not in SUPPLIERS_NUMBERS:
        raise SandboxError(f"a family of {suppliers_number} suppliers has no ECC map; one of {sizes}")
    if suppliers_number > suppliers:
        raise SandboxError(
            f"a family of {suppliers_number} suppliers needs at least {suppliers_number} suppliers in the sandbox, "
            f"it has {suppliers}"
        )
    return FamilyPlan(
        suppliers=suppliers, suppliers_number=suppliers_number, donated_space=donated_space, needed_space=needed_space
    )
