"""The customer's family file: written atomically, read back, and anything else is no family."""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.customer.collaborators import Family
from bitdust.services.customer_parts import read_family, write_family

A, B = "http://127.0.0.1:8084/a.xml", "http://127.0.0.1:8084/b.xml"


def test_a_family_written_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "metadata" / "family.json"
    family = Family("ecc/2x2", (A, ""), 7)
    write_family(path, family)
    assert read_family(path) == family
    write_family(path, Family("ecc/2x2", (A, B), 8))
    assert read_family(path) == Family("ecc/2x2", (A, B), 8)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff",
        b"[1, 2]",
        b'{"ecc_map": "ecc/2x2", "suppliers": ["a"], "revision": 1}',
        b'{"ecc_map": "ecc/9x9", "suppliers": ["a", "b"], "revision": 1}',
        b'{"ecc_map": "ecc/2x2", "suppliers": [1, 2], "revision": 1}',
        b'{"ecc_map": "ecc/2x2", "suppliers": ["a", "b"], "revision": true}',
        b'{"ecc_map": "ecc/2x2", "suppliers": ["a", "b"]}',
    ],
)
def test_an_unreadable_family_file_is_no_family(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "family.json"
    path.write_bytes(content)
    assert read_family(path) is None


def test_a_missing_family_file_is_no_family(tmp_path: Path) -> None:
    assert read_family(tmp_path / "nothing.json") is None
