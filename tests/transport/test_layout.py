"""The transport package stays in small modules (issue 12: connections.py had 700 lines, framing.py 493)."""

from __future__ import annotations

from pathlib import Path

import bitdust.transport

PACKAGE = Path(bitdust.transport.__file__).parent


def test_every_transport_module_is_under_400_lines() -> None:
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert "tcp/connection.py" in sizes and "tcp/connections.py" in sizes
    assert {name: size for name, size in sizes.items() if size >= 400} == {}
