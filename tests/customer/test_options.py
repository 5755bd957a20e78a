"""The customer side's config options: keys, defaults and the values they accept."""

from __future__ import annotations

import pytest

from bitdust.customer.options import (
    CANDIDATES_KEY,
    HIRE_RETRY_KEY,
    NEEDED_SPACE_KEY,
    OFFLINE_SECONDS_KEY,
    SUPPLIERS_NUMBER_KEY,
    SUPPLIERS_NUMBERS,
    customer_options,
    ecc_map_name,
    employer_options,
)
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import ConfigValueError
from bitdust.raid.eccmap import eccmap


def options() -> dict[str, Option]:
    return {option.key: option for option in (*customer_options(), *employer_options())}


def test_the_defaults_are_the_original_ones() -> None:
    found = {key: option.default for key, option in options().items()}
    assert found == {
        SUPPLIERS_NUMBER_KEY: 2,
        NEEDED_SPACE_KEY: 256 * 1024 * 1024,
        CANDIDATES_KEY: (),
        OFFLINE_SECONDS_KEY: 300,
        HIRE_RETRY_KEY: 60,
    }


def test_suppliers_number_is_an_ecc_map_size() -> None:
    option = options()[SUPPLIERS_NUMBER_KEY]
    assert SUPPLIERS_NUMBERS == (2, 4, 7, 13, 18, 26, 64)
    for number in SUPPLIERS_NUMBERS:
        assert option.type.parse(number) == number
        assert eccmap(ecc_map_name(number)).suppliers == number
    for bad in (0, 3, 5, 65, "x", True):
        with pytest.raises(ConfigValueError):
            option.type.parse(bad)


def test_candidates_are_a_comma_list() -> None:
    option = options()[CANDIDATES_KEY]
    assert option.type.parse("http://a/x.xml, http://b/y.xml") == ("http://a/x.xml", "http://b/y.xml")
