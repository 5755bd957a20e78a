from __future__ import annotations

import pytest

from bitdust.main.errors import InvalidInput
from bitdust.raid.eccmap import ECC_MAPS, eccmap


def test_the_seven_maps_and_their_arithmetic() -> None:
    assert list(ECC_MAPS) == ["ecc/2x2", "ecc/4x4", "ecc/7x7", "ecc/13x13", "ecc/18x18", "ecc/26x26", "ecc/64x64"]
    for name, ecc in ECC_MAPS.items():
        assert ecc.name == name
        assert ecc.required == -(-ecc.suppliers // 2)
        assert ecc.tolerated == ecc.suppliers // 2
    assert eccmap("ecc/7x7").required == 4


@pytest.mark.parametrize("name", ["ecc/3x3", "", "4x4", None])
def test_unknown_map_is_a_bad_request(name: object) -> None:
    with pytest.raises(InvalidInput):
        eccmap(name)  # type: ignore[arg-type]
