"""identity_backup: a new file or a 400 with the reason, never an overwrite, never a 500."""

from __future__ import annotations

import stat
import types
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.logger import Logger

from bitdust.interface.api import identity
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput

IDURL = "http://127.0.0.1:8084/alice.xml"
PRIVATE = "-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n-----END RSA PRIVATE KEY-----\n"


@pytest.fixture
def engine() -> Any:
    master = types.SimpleNamespace(key=types.SimpleNamespace(private_text=lambda: PRIVATE))
    keys = types.SimpleNamespace(master=lambda: master)
    return types.SimpleNamespace(
        local_identity=types.SimpleNamespace(current=types.SimpleNamespace(idurl=types.SimpleNamespace(url=IDURL))),
        services=types.SimpleNamespace(is_on=lambda name: name == "service_keys_registry"),
        keys=keys,
        run_blocking=lambda fn, *a, **kw: defer.maybeDeferred(fn, *a, **kw),
        logger=lambda namespace: Logger(namespace=namespace),
    )


def backup(engine: Any, destination: str) -> Any:
    box: list[Any] = []
    defer.maybeDeferred(identity.identity_backup, engine, destination_filepath=destination).addBoth(box.append)
    if hasattr(box[0], "raiseException"):
        box[0].raiseException()
    return box[0]


def test_a_backup_goes_to_a_new_file(engine: Any, tmp_path: Path) -> None:
    target = tmp_path / "alice.key"
    answer = backup(engine, str(target))
    assert answer == {"destination_filepath": str(target), "idurl": IDURL, "size": len(IDURL) + 1 + len(PRIVATE)}
    assert target.read_text() == f"{IDURL}\n{PRIVATE}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def destination(kind: str, folder: Path) -> str:
    """A destination of ``kind`` inside ``folder`` (made on disk when it must exist)."""
    if kind == "existing-file":
        (folder / "old.key").write_text("older backup")
        return str(folder / "old.key")
    if kind == "symlink":
        (folder / "ln").symlink_to(folder / "victim")
        return str(folder / "ln")
    if kind == "folder":
        (folder / "sub").mkdir()
        return str(folder / "sub")
    return {
        "trailing-slash": str(folder) + "/newname/",
        "missing-parent": str(folder / "missing" / "alice.key"),
        "nul": str(folder / "nul\x00.key"),
        "long-name": str(folder / ("x" * 300)),
        "relative": "alice.key",
    }[kind]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("existing-file", "already exists"),
        ("symlink", "already exists"),
        ("folder", "already exists"),
        ("trailing-slash", "ends with '/'"),
        ("missing-parent", "does not exist"),
        ("nul", "NUL"),
        ("long-name", "longer than 255"),
        ("relative", "absolute"),
    ],
)
def test_bad_destinations_are_400_and_nothing_is_written(engine: Any, tmp_path: Path, kind: str, reason: str) -> None:
    (tmp_path / "victim").write_text("somebody's file")
    target = destination(kind, tmp_path)
    before = {p.name: (p.is_symlink(), p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir()}
    with pytest.raises(InvalidInput, match=reason) as caught:
        backup(engine, target)
    assert status_of(caught.value) == 400
    after = {p.name: (p.is_symlink(), p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir()}
    assert after == before
    assert (tmp_path / "victim").read_text() == "somebody's file"
    assert not any(PRIVATE.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
