"""What every ``transport_peer`` mode shares: its reactor and deadline, its JSON output, and the
figures of this process (peak memory, page faults, CPU time) that belong to one side only.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from twisted.internet.interfaces import IListeningPort

from bitdust.bench.listening import port_number

HOST = "127.0.0.1"
MIB = 1 << 20
CHUNK = 64 * 1024
SOURCE_SIZE = 4 * MIB
SENDER_IDURL = "http://127.0.0.1:1/sender.xml"
RECEIVER_IDURL = "http://127.0.0.1:1/receiver.xml"
IN_FLIGHT = 2


def peak_rss_mib() -> float:
    """This process's peak RSS. ``ru_maxrss`` survives ``exec`` on Linux (the forked parent's pages
    count), so the per-address-space ``VmHWM`` is preferred where /proc has it."""
    value = _status_kib("VmHWM")
    if value is None:
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(value / 1024, 1)


def rss_mib() -> float | None:
    value = _status_kib("VmRSS")
    return round(value / 1024, 1) if value is not None else None


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def minor_faults() -> int:
    """Page faults served without I/O so far: each is a fresh page of memory touched for the first time."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 3)


def emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def source_chunks() -> list[bytes]:
    """One pre-built 4 MiB buffer, as 64 KiB pieces that every transfer reuses (no per-byte allocation)."""
    source = os.urandom(SOURCE_SIZE)
    return [source[offset : offset + CHUNK] for offset in range(0, SOURCE_SIZE, CHUNK)]


class Run:
    """The reactor of one mode, its deadline and its exit code."""

    def __init__(self, timeout: float) -> None:
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.code = 0
        self.deadline = reactor.callLater(timeout, self.fail, f"timed out after {timeout:g} s")

    def fail(self, why: str) -> None:
        print(f"transport_peer: {why}", file=sys.stderr, flush=True)
        self.code = 1
        self.stop()

    def stop(self) -> None:
        if self.deadline.active():
            self.deadline.cancel()
        if self.reactor.running:
            self.reactor.stop()

    def run(self) -> int:
        self.reactor.run()
        return self.code


def listen_port(port: IListeningPort) -> int:
    """Print the port ``port`` listens on as the first stdout line, and return it."""
    number = port_number(port)
    emit({"port": number})
    return number
