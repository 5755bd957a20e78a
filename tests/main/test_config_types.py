from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.main.settings.config_types import (
    GB,
    KB,
    MB,
    TB,
    Bool,
    ConfigValueError,
    Enum,
    Float,
    Int,
    Port,
    PositiveInt,
    Size,
    String,
    StringList,
)


def expected_of(option_type, raw) -> str:
    with pytest.raises(ConfigValueError) as caught:
        option_type.parse(raw)
    return caught.value.expected


# -- Bool --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("OFF", False),
        ("0", False),
        ("false\n", False),
    ],
)
def test_bool_parses(raw, value):
    assert Bool().parse(raw) is value


@pytest.mark.parametrize("raw", [2, -1, 1.0, "", "maybe", "tru", None, [], {}])
def test_bool_rejects(raw):
    assert expected_of(Bool(), raw) == "boolean (true or false)"


def test_bool_serializes_and_json():
    assert Bool().serialize(True) == "true"
    assert Bool().serialize(False) == "false"
    assert Bool().to_json(True) is True
    assert Bool.name == "boolean"


# -- Int, PositiveInt, Port ---------------------------------------------------------------------


@pytest.mark.parametrize("raw, value", [(0, 0), (20, 20), ("7", 7), (" 12 ", 12), ("+3", 3), (5.0, 5)])
def test_int_parses_within_bounds(raw, value):
    assert Int(min=0, max=20).parse(raw) == value


@pytest.mark.parametrize("raw", [-1, 21, "21", "-1", "abc", "1.5", 1.5, "1_000", "", True, False, None, "١"])
def test_int_rejects_with_range(raw):
    assert expected_of(Int(min=0, max=20), raw) == "integer from 0 to 20"


def test_int_descriptions():
    assert Int().describe() == "integer"
    assert Int(min=3).describe() == "integer of at least 3"
    assert Int(max=3).describe() == "integer of at most 3"
    assert Int().parse("-123456789012345678901234567890") == -123456789012345678901234567890
    assert expected_of(Int(), "9" * 5000) == "integer"
    assert Int.name == "integer"


def test_positive_int():
    assert PositiveInt().parse(1) == 1
    assert PositiveInt().parse("60") == 60
    assert expected_of(PositiveInt(), 0) == "positive integer (1 or more)"
    assert expected_of(PositiveInt(), "-5") == "positive integer (1 or more)"
    assert PositiveInt(max=10).parse(10) == 10
    assert expected_of(PositiveInt(max=10), 11) == "integer from 1 to 10"
    assert PositiveInt.name == "positive integer"


@pytest.mark.parametrize("raw, value", [(1, 1), (65535, 65535), ("8180", 8180)])
def test_port_parses(raw, value):
    assert Port().parse(raw) == value


@pytest.mark.parametrize("raw", [0, 65536, -80, "http", "80.5", True])
def test_port_rejects(raw):
    assert expected_of(Port(), raw) == "port number from 1 to 65535"


# -- Float -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, value", [(2, 2.0), (2.5, 2.5), ("2.0", 2.0), (" -1e3 ", -1000.0), (".5", 0.5)])
def test_float_parses(raw, value):
    result = Float().parse(raw)
    assert result == value and isinstance(result, float)


@pytest.mark.parametrize("raw", ["nan", "inf", float("nan"), float("inf"), "1,5", "", True, None, 10**400])
def test_float_rejects(raw):
    assert expected_of(Float(), raw) == "number"


def test_float_bounds():
    assert Float(min=0.0, max=1.0).parse("1") == 1.0
    assert expected_of(Float(min=0.0, max=1.0), 1.01) == "number from 0.0 to 1.0"
    assert Float.name == "float"


# -- String ------------------------------------------------------------------------------------


def test_string_keeps_text_exactly():
    assert String().parse("  host name ") == "  host name "
    assert String().parse("") == ""
    assert String(max_length=3).parse("abc") == "abc"


@pytest.mark.parametrize("raw", ["two\nlines", "cr\r", 12, None, True, ["a"], "\ud800"])
def test_string_rejects(raw):
    assert expected_of(String(), raw) == "single-line string"


def test_string_max_length():
    assert expected_of(String(max_length=3), "abcd") == "single-line string of at most 3 characters"


# -- Size --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("10 MB", 10 * MB),
        ("10MB", 10 * MB),
        ("512 KB", 512 * KB),
        ("4 GB", 4 * GB),
        ("2 TB", 2 * TB),
        ("4 MiB", 4 * MB),
        ("4 mb", 4 * MB),
        ("1.5 GB", 3 * GB // 2),
        ("100", 100),
        ("100 B", 100),
        ("100 bytes", 100),
        (100, 100),
        (0, 0),
        (1024.0, 1024),
    ],
)
def test_size_parses(raw, value):
    assert Size().parse(raw) == value


@pytest.mark.parametrize("raw", ["10 XB", "MB", "-1", -1, "1.5 B", "0.3 KB", "ten", True, None, 1.5, "1 M B"])
def test_size_rejects(raw):
    assert expected_of(Size(), raw) == 'size (such as "10 MB" or a number of bytes)'


def test_size_bounds_in_message():
    assert expected_of(Size(min=KB), "1000") == 'size of at least 1 KB (such as "10 MB" or a number of bytes)'
    assert expected_of(Size(max=GB), "2 GB") == 'size of at most 1 GB (such as "10 MB" or a number of bytes)'


def test_size_serializes_in_the_largest_exact_unit():
    size = Size()
    assert size.serialize(4 * MB) == "4 MB"
    assert size.serialize(1536 * KB) == "1536 KB"
    assert size.serialize(1024 * GB) == "1 TB"
    assert size.serialize(1000) == "1000 B"
    assert size.serialize(0) == "0 B"
    assert size.to_json(10 * MB) == "10 MB"


# -- Enum --------------------------------------------------------------------------------------


def test_enum_of_strings():
    colors = Enum(("red", "green"))
    assert colors.parse("red") == "red"
    assert colors.parse(" green\n") == "green"
    assert expected_of(colors, "Red") == 'one of "red", "green"'
    assert expected_of(colors, 1) == 'one of "red", "green"'
    assert Enum(["1024", "2048"]).parse(2048) == "2048"


def test_enum_of_ints():
    sizes = Enum((1024, 2048, 4096))
    assert sizes.parse(2048) == 2048
    assert sizes.parse("4096") == 4096
    assert expected_of(sizes, 512) == "one of 1024, 2048, 4096"
    assert expected_of(sizes, True) == "one of 1024, 2048, 4096"
    assert expected_of(sizes, 2048.0) == "one of 1024, 2048, 4096"
    assert sizes.serialize(2048) == "2048"
    assert sizes.to_json(2048) == 2048


@pytest.mark.parametrize("choices", [(), ("a", 1), ("a", "a"), (True, False)])
def test_enum_refuses_bad_choices(choices):
    with pytest.raises(ValueError):
        Enum(choices)


# -- StringList --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("a, b,c", ("a", "b", "c")),
        ("", ()),
        (" , a ,, ", ("a",)),
        (["x", " y ", ""], ("x", "y")),
        (("x",), ("x",)),
        ([], ()),
    ],
)
def test_string_list_parses(raw, value):
    assert StringList().parse(raw) == value


@pytest.mark.parametrize("raw", [["a,b"], [1], ["a\nb"], "a\nb", 5, None, {"a": 1}])
def test_string_list_rejects(raw):
    assert expected_of(StringList(), raw).startswith("list of strings")


def test_string_list_forms():
    assert StringList().serialize(("a", "b")) == "a, b"
    assert StringList().to_json(("a", "b")) == ["a", "b"]
    assert StringList.name == "list of strings"


# -- round trips -------------------------------------------------------------------------------

single_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"))
list_item = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=",\r\n")).map(str.strip)


def check_round_trip(option_type, value) -> None:
    text = option_type.serialize(value)
    assert "\n" not in text and "\r" not in text
    assert option_type.parse(text) == value
    assert option_type.parse(option_type.to_json(value)) == value
    assert option_type.parse(value) == value


def round_trip_test(option_type, values):
    """One hypothesis test per type (pytest-twisted cannot wrap a parametrized @given test)."""

    @given(value=values)
    def test(value):
        check_round_trip(option_type, value)

    return test


test_round_trip_bool = round_trip_test(Bool(), st.booleans())
test_round_trip_int = round_trip_test(Int(), st.integers())
test_round_trip_bounded_int = round_trip_test(Int(min=0, max=20), st.integers(0, 20))
test_round_trip_positive_int = round_trip_test(PositiveInt(), st.integers(min_value=1))
test_round_trip_port = round_trip_test(Port(), st.integers(1, 65535))
test_round_trip_float = round_trip_test(Float(), st.floats(allow_nan=False, allow_infinity=False))
test_round_trip_string = round_trip_test(String(), single_line)
test_round_trip_size = round_trip_test(Size(), st.integers(min_value=0, max_value=2**62))
test_round_trip_size_in_units = round_trip_test(
    Size(), st.sampled_from([KB, MB, GB, TB]).flatmap(lambda unit: st.integers(0, 10**6).map(lambda n: n * unit))
)
test_round_trip_enum = round_trip_test(Enum(("a", "b", "c")), st.sampled_from(["a", "b", "c"]))
test_round_trip_int_enum = round_trip_test(Enum((1024, 2048, 4096)), st.sampled_from([1024, 2048, 4096]))
test_round_trip_string_list = round_trip_test(StringList(), st.lists(list_item.filter(bool)).map(tuple))
