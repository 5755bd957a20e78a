"""Where a node keeps its files: one home folder, resolved once and passed around."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

HOME_ENV = "BITDUST_HOME"

SUBFOLDERS = (
    "config",
    "metadata",
    "keys",
    "identitycache",
    "logs",
    "catalog",
    "customers",
    "temp",
    "messages",
    "dht",
)


def default_home(basedir: str | os.PathLike[str] | None = None) -> Path:
    """``--basedir`` wins, then ``BITDUST_HOME``, then ``~/.bitdust``."""
    if basedir:
        return Path(basedir).expanduser().absolute()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".bitdust"


@attrs.frozen
class HomePaths:
    """The folders and well-known files of one node's home folder."""

    home: Path

    @property
    def config(self) -> Path:
        return self.home / "config"

    @property
    def metadata(self) -> Path:
        return self.home / "metadata"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def temp(self) -> Path:
        return self.home / "temp"

    @property
    def api_secret(self) -> Path:
        return self.metadata / "apisecret"

    @property
    def pid_file(self) -> Path:
        return self.metadata / "processid"

    @property
    def lock_file(self) -> Path:
        return self.metadata / "engine.lock"

    @property
    def ports_file(self) -> Path:
        """Where a running engine says which API ports it listens on (for the CLI)."""
        return self.metadata / "apiports"

    @property
    def replay_state(self) -> Path:
        """The gateway's replay memory, kept across restarts (:mod:`bitdust.p2p.replay_store`)."""
        return self.metadata / "replayguard"

    @property
    def event_log(self) -> Path:
        return self.logs / "event.log"

    def sub(self, name: str) -> Path:
        return self.home / name

    def create(self) -> None:
        """Create the home folder and its sub-folders; the home itself is private to the user."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        for name in SUBFOLDERS:
            (self.home / name).mkdir(exist_ok=True)
