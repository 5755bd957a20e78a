"""A small synchronous client of the engine's REST API, for the CLI, the sandbox and benchmarks.

It reads the port from the home folder's config and the secret from ``metadata/apisecret``,
exactly as a user would, so it needs nothing but the home folder.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

from bitdust.main.process.api_secret import read_secret
from bitdust.main.process.home_lock import read_pid
from bitdust.main.process.paths import HomePaths

DEFAULT_REST_PORT = 8180
DEFAULT_WS_PORT = 8280


class EngineNotRunning(Exception):
    """Nothing answers on the engine's API port."""


def _read_option(home: Path, key: str) -> str | None:
    try:
        return (home / "config" / key).read_text().strip() or None
    except OSError:
        return None


def rest_port_of(home: Path) -> int:
    value = _read_option(home, "interface/api/rest-http-port")
    return int(value) if value and value.isdigit() else DEFAULT_REST_PORT


def ws_port_of(home: Path) -> int:
    value = _read_option(home, "interface/api/web-socket-port")
    return int(value) if value and value.isdigit() else DEFAULT_WS_PORT


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def engine_pid(home: Path) -> int | None:
    """The pid of the engine running on ``home``, or None."""
    pid = read_pid(HomePaths(home).pid_file)
    return pid if pid_alive(pid) else None


class ApiClient:
    """Calls ``verb path`` with parameters and returns ``(http_status, envelope)``."""

    def __init__(self, home: Path, *, port: int | None = None, secret: str | None = None, timeout: float = 30) -> None:
        self.home = Path(home)
        self.port = port if port is not None else rest_port_of(self.home)
        self.secret = secret if secret is not None else read_secret(HomePaths(self.home).api_secret)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, verb: str, path: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """One call over a kept-alive connection; raises EngineNotRunning when nothing listens."""
        verb = verb.upper()
        params = dict(params or {})
        url = "/" + path.strip("/")
        body = None
        headers = {"Connection": "keep-alive"}
        if self.secret:
            headers["api_secret"] = self.secret
        if verb == "GET":
            if params:
                url += "?" + urllib.parse.urlencode({k: _as_query(v) for k, v in params.items()})
        else:
            body = json.dumps(params).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self._conn.request(verb, url, body=body, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except (ConnectionRefusedError, FileNotFoundError) as exc:
                self.close()
                raise EngineNotRunning(f"no BitDust engine answers on 127.0.0.1:{self.port}") from exc
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # a kept-alive connection the server closed; retry once on a new one
                if attempt == 2:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            envelope = {"status": "ERROR", "errors": [raw.decode("utf-8", "replace")[:500]]}
        return response.status, envelope

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_query(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
