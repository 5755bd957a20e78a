"""What the parts of the ``transport`` benchmark share: its settings, and the child processes it runs.

Every figure of one side of a connection comes from its own ``transport_peer`` process
(:mod:`bitdust.bench.transport_peer`); :class:`Child` starts one, reads its JSON lines and always
reaps it.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import attrs

MIB = 1 << 20
PACKET = 4 * MIB
GOAL = 0.70
MODES = ("plain", "ours", "signed")
PEER = [sys.executable, "-m", "bitdust.bench.transport_peer"]
PING_TIMEOUT = 10
# What the baseline sends when the engines' packet stats are not available (measured: 1591 and 393 bytes).
DEFAULT_REQUEST = 1600
DEFAULT_ANSWER = 400


@attrs.frozen
class Settings:
    bulk_mib: int = 256
    repeats: int = 5
    ping_seconds: float = 5.0
    warmup_pings: int = 20
    clients: tuple[int, ...] = (1, 4)


FULL = Settings()
QUICK = Settings(bulk_mib=32, repeats=1, ping_seconds=1.0, warmup_pings=5)


def progress(text: str) -> None:
    """One line on stderr saying what the benchmark does now (stdout is for the figures)."""
    print(f"  ... {text}", file=sys.stderr, flush=True)


class Child:
    """One ``transport_peer`` process: its JSON lines on stdout, its stderr in a file, always reaped."""

    def __init__(self, args: list[str], folder: Path, name: str, timeout: float) -> None:
        self.name = name
        self.errors = folder / f"{name}.stderr"
        with open(self.errors, "wb") as errors:
            self.process = subprocess.Popen(
                [*PEER, "--timeout", f"{timeout:g}", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        assert self.process.stdout is not None
        self.stdout: IO[bytes] = self.process.stdout

    def _failure(self, what: str) -> RuntimeError:
        tail = self.errors.read_text(errors="replace").strip().splitlines()[-10:]
        return RuntimeError(f"{self.name}: {what}" + ("\n  " + "\n  ".join(tail) if tail else ""))

    def first_line(self, timeout: float = 30.0) -> dict[str, Any]:
        """The first JSON line (a listening child's ``{"port": N}``)."""
        ready, _, _ = select.select([self.stdout], [], [], timeout)
        line = self.stdout.readline() if ready else b""
        if not line.strip():
            self.stop()
            raise self._failure("printed nothing" if ready else f"printed nothing within {timeout:g} s")
        return json.loads(line)

    def result(self, timeout: float) -> dict[str, Any]:
        """The last JSON line, once the child has exited by itself with code 0."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise self._failure(f"did not finish within {timeout:g} s") from None
        lines = [line for line in self.stdout.read().splitlines() if line.strip()]
        if code != 0 or not lines:
            raise self._failure(f"exited with code {code}")
        return json.loads(lines[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stdout.close()
