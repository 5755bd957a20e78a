"""The API secret: the token every local API client must present."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from bitdust.main.process.fileutil import atomic_write

SECRET_BYTES = 32


def ensure_secret(path: Path) -> str:
    """Read the secret, creating it (mode 0600, 32 random bytes, base64) when missing or empty.

    URL-safe base64 without padding, so the same text works in a header and in the
    WebSocket query string without escaping.
    """
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        text = ""
    if not text:
        text = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")
        atomic_write(path, text + "\n", mode=0o600)
    return text


def read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
