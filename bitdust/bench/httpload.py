"""A lean keep-alive HTTP/1.1 GET client and the load loops built on it.

The client sends one pre-built request and parses just enough of the answer (status line,
``Content-Length`` or chunked body), so the client side costs little next to the server being
measured. The same client measures the engine and the baseline server, so their ratio is fair.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from typing import Any


class HttpError(Exception):
    pass


class KeepAliveClient:
    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._buffer = bytearray()
        self.sock: socket.socket | None = None
        self.reconnects = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer.clear()
        self.sock = sock
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _recv(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise HttpError("connection closed by the server")
        self._buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (index := self._buffer.find(marker)) < 0:
            self._recv()
        data = bytes(self._buffer[:index])
        del self._buffer[: index + len(marker)]
        return data

    def _read_exact(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._recv()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def get(self) -> tuple[int, bytes]:
        """One request on the kept-alive connection: ``(status, body)``."""
        sock = self.sock or self._connect()
        sock.sendall(self.request)
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                parts.append(self._read_exact(size))
                self._read_exact(2)
            self._read_until(b"\r\n")
            body = b"".join(parts)
        else:
            raise HttpError("answer without Content-Length on a keep-alive connection")
        if headers.get("connection") == "close":
            self.close()
            self.reconnects += 1
        return status, body


def latency_run(port: int, path: str, headers: dict[str, str], requests: int, warmup: int) -> list[int]:
    """Request times in nanoseconds over one kept-alive connection, after ``warmup`` requests."""
    client = KeepAliveClient(port, path, headers)
    try:
        for _ in range(warmup):
            _checked(client)
        samples = []
        clock = time.perf_counter_ns
        for _ in range(requests):
            start = clock()
            _checked(client)
            samples.append(clock() - start)
        return samples
    finally:
        client.close()


def _checked(client: KeepAliveClient) -> None:
    status, _ = client.get()
    if status != 200:
        raise HttpError(f"HTTP {status} from 127.0.0.1:{client.port}")


def _load_worker(port: int, path: str, headers: dict[str, str], start: Any, duration: float, out: Any) -> None:
    client = KeepAliveClient(port, path, headers)
    count = errors = 0
    try:
        for _ in range(20):  # warm the connection up before the common start
            _checked(client)
        start.wait()
        end = time.monotonic() + duration
        while time.monotonic() < end:
            try:
                _checked(client)
                count += 1
            except (HttpError, OSError):
                errors += 1
                client.close()
    finally:
        client.close()
        out.put((count, errors))


def throughput_run(
    port: int, path: str, headers: dict[str, str], clients: int, duration: float, *, processes: bool
) -> dict[str, Any]:
    """Requests per second with ``clients`` concurrent keep-alive clients (processes or threads)."""
    if processes:
        context = multiprocessing.get_context("spawn")
        start: Any = context.Event()
        out: Any = context.Queue()
        workers: list[Any] = [
            context.Process(target=_load_worker, args=(port, path, headers, start, duration, out), daemon=True)
            for _ in range(clients)
        ]
    else:
        import queue

        start = threading.Event()
        out = queue.Queue()
        workers = [
            threading.Thread(target=_load_worker, args=(port, path, headers, start, duration, out), daemon=True)
            for _ in range(clients)
        ]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.5 if processes else 0.05)  # let the workers connect and warm up; not part of the figure
        start.set()
        results = [out.get(timeout=duration + 60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if processes and worker.is_alive():
                worker.terminate()
    total = sum(count for count, _ in results)
    return {
        "clients": clients,
        "mode": "processes" if processes else "threads",
        "duration_s": duration,
        "requests": total,
        "errors": sum(errors for _, errors in results),
        "rps": round(total / duration, 1),
    }
