"""``python -m bitdust.bench codec``: upload/download speed of the storage codec, and its memory.

End to end (file -> fragments on a local store -> file) for ecc/4x4 and ecc/18x18, next to the raw
single-thread speed of each stage on the same data in the same run (zstd, AES-256-GCM, zfec,
SHA-256). The ratio end-to-end / slowest raw stage says how much the pipeline costs over its
slowest part (above 1 means the two workers overlap stages well). Each end-to-end run happens in a
fresh child process so its peak RSS (``ru_maxrss``) is the pipeline's alone: bounded memory shows
as a figure that does not grow with the file size.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bitdust.bench.registry import Benchmark

if TYPE_CHECKING:
    import zfec

_Result = TypeVar("_Result")

MIB = 1 << 20
ECCS = ("ecc/4x4", "ecc/18x18")
BLOCK = 4 * MIB


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def _chunks(size: int, seed: int = 7) -> Iterator[bytes]:
    """Deterministic, half-compressible data (random halves, text-like halves), 1 MiB at a time."""
    rng = random.Random(seed)
    text = b"".join(b"line %06d of a fairly ordinary log file\n" % i for i in range(20_000))
    done = 0
    while done < size:
        offset = rng.randrange(len(text) - MIB // 2)
        chunk = (rng.randbytes(MIB // 2) + text[offset : offset + MIB // 2])[: size - done]
        done += len(chunk)
        yield chunk


def _rate(size: int, seconds: float) -> float:
    return round(size / MIB / seconds, 1) if seconds > 0 else float("inf")


def _timed(work: Callable[[], _Result]) -> tuple[float, _Result]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def raw_stages(sample: bytes) -> dict[str, float]:
    """MB/s of each stage alone, one thread, on ``sample`` cut in pipeline-sized blocks."""
    import zfec
    import zstandard

    from bitdust.crypt import symmetric
    from bitdust.raid.eccmap import eccmap

    size = len(sample)
    blocks = [sample[i : i + BLOCK] for i in range(0, size, BLOCK)]
    out: dict[str, float] = {}
    seconds, _ = _timed(lambda: hashlib.sha256(sample).digest())
    out["sha256"] = _rate(size, seconds)
    from bitdust.storage.codec.pipeline import ZSTD_LEVEL

    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    seconds, packed = _timed(lambda: b"".join([*(compressor.compress(b) for b in blocks), compressor.flush()]))
    out["zstd_compress"] = _rate(size, seconds)
    seconds, _ = _timed(lambda: zstandard.ZstdDecompressor().decompressobj().decompress(packed))
    out["zstd_decompress"] = _rate(size, seconds)
    # raw AES-GCM from cryptography, not our wrapper: the baseline must not carry our overheads
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(symmetric.new_data_key())
    nonce = os.urandom(12)
    seconds, sealed = _timed(lambda: [aead.encrypt(nonce, b, b"aad") for b in blocks])
    out["aes_gcm_encrypt"] = _rate(size, seconds)
    seconds, _ = _timed(lambda: [aead.decrypt(nonce, s, b"aad") for s in sealed])
    out["aes_gcm_decrypt"] = _rate(size, seconds)
    for name in ECCS:
        ecc = eccmap(name)
        k, n = ecc.required, ecc.suppliers
        pieces = []
        for block in sealed:
            share = -(-len(block) // k)
            padded = block + bytes(share * k - len(block))
            pieces.append(tuple(padded[i * share : (i + 1) * share] for i in range(k)))
        encoder = zfec.Encoder(k, n)
        seconds, shares = _timed(partial(_encode_all, encoder, pieces))
        out[f"zfec_encode {name}"] = _rate(size, seconds)
        decoder = zfec.Decoder(k, n)
        last = tuple(range(n - k, n))
        seconds, _ = _timed(partial(_decode_all, decoder, shares, last))
        out[f"zfec_decode {name}"] = _rate(size, seconds)
    return out


def _encode_all(encoder: zfec.Encoder, pieces: list[tuple[bytes, ...]]) -> list[list[bytes]]:
    return [encoder.encode(p) for p in pieces]


def _decode_all(decoder: zfec.Decoder, shares: list[list[bytes]], last: tuple[int, ...]) -> list[list[bytes]]:
    """Decode each block from its last ``len(last)`` shares (the parity ones where there are any)."""
    return [decoder.decode(tuple(s[-len(last) :]), last) for s in shares]


def _child(params: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: upload then download the source file, report times and peak RSS."""
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.storage.codec import pipeline
    from bitdust.storage.codec.store import LocalFragmentStore

    work = Path(params["work"])
    key = RsaKey.generate(2048)
    store = LocalFragmentStore(work / "store")
    upload_s, manifest = _timed(
        lambda: pipeline.upload(
            params["source"], key_id="bench$x@y", rsa_key=key, ecc=params["ecc"], customer="x@y",
            path_id="bench", version="v1", sink=store, block_size=BLOCK,
        )
    )  # fmt: skip
    target = work / "restored"
    download_s, _ = _timed(
        lambda: pipeline.download(manifest, rsa_key=key, source=store, destination_path=target)
    )  # fmt: skip
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return {
        "upload_s": upload_s,
        "download_s": download_s,
        "identical": digest.hexdigest() == manifest.source_sha256,
        "stored_ratio": round(manifest.stored_size / max(1, manifest.total_size), 3),
        "peak_rss_mib": _peak_rss_mib(),
    }


def _peak_rss_mib() -> float:
    """This process's peak RSS. Linux carries ``ru_maxrss`` across ``exec`` (the forked parent's
    pages count), so the per-address-space ``VmHWM`` is preferred where /proc has it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(quick: bool = False) -> dict[str, Any]:
    size = (16 if quick else 256) * MIB
    figures: dict[str, Any] = {"benchmark": "codec", "quick": quick, "cpus": os.cpu_count(), "size_mib": size // MIB}
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-codec-", dir=base) as temp:
        root = Path(temp)
        figures["folder"] = "tmpfs /dev/shm" if base else "default temp folder"
        source = root / "source.bin"
        with open(source, "wb") as handle:
            for chunk in _chunks(size):
                handle.write(chunk)
        # children first, while this process is still small: its size must not leak into theirs
        children = {}
        for name in ECCS:
            _progress(f"upload + download of {size // MIB} MiB with {name} in a child process")
            work = root / name.replace("/", "-")
            work.mkdir()
            params = {"source": str(source), "ecc": name, "work": str(work)}
            done = subprocess.run(
                [sys.executable, "-m", "bitdust.bench.codec", "--child", json.dumps(params)],
                capture_output=True,
                text=True,
                check=True,
            )
            children[name] = json.loads(done.stdout)
        with open(source, "rb") as handle:
            sample = handle.read(min(size, 32 * MIB))
        _progress(f"raw stages on {len(sample) // MIB} MiB of the same data")
        raw = raw_stages(sample)
        del sample
    figures["raw_mib_s"] = raw
    if not quick:
        figures["one_gib"] = _one_gib()
    figures["end_to_end"] = {}
    for name, child in children.items():
        up, down = _rate(size, child["upload_s"]), _rate(size, child["download_s"])
        slow_up = min(raw["zstd_compress"], raw["aes_gcm_encrypt"], raw[f"zfec_encode {name}"], raw["sha256"])
        slow_down = min(raw["zstd_decompress"], raw["aes_gcm_decrypt"], raw[f"zfec_decode {name}"], raw["sha256"])
        figures["end_to_end"][name] = {
            "upload_mib_s": up,
            "download_mib_s": down,
            "upload_ratio_to_slowest_stage": round(up / slow_up, 3),
            "download_ratio_to_slowest_stage": round(down / slow_down, 3),
            "peak_rss_mib": child["peak_rss_mib"],
            "stored_ratio": child["stored_ratio"],
            "identical": child["identical"],
        }
    return figures


def _one_gib() -> dict[str, Any]:
    """Peak RSS (and speeds) for a 1 GiB file with ecc/4x4: memory must not grow with file size."""
    size = 1024 * MIB
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-codec-1g-") as temp:
        root = Path(temp)
        source = root / "source.bin"
        with open(source, "wb") as handle:
            for chunk in _chunks(size):
                handle.write(chunk)
        _progress("upload + download of 1024 MiB with ecc/4x4 in a child process (memory bound)")
        (root / "work").mkdir()
        params = {"source": str(source), "ecc": "ecc/4x4", "work": str(root / "work")}
        done = subprocess.run(
            [sys.executable, "-m", "bitdust.bench.codec", "--child", json.dumps(params)],
            capture_output=True,
            text=True,
            check=True,
        )
    child = json.loads(done.stdout)
    return {
        "size_mib": 1024,
        "ecc": "ecc/4x4",
        "upload_mib_s": _rate(size, child["upload_s"]),
        "download_mib_s": _rate(size, child["download_s"]),
        "peak_rss_mib": child["peak_rss_mib"],
        "identical": child["identical"],
        "target_peak_rss_mib": 256,
    }


def render(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    raw = Table(title="codec: raw single-thread stages, MiB/s")
    raw.add_column("stage")
    raw.add_column("MiB/s", justify="right")
    for stage, value in figures["raw_mib_s"].items():
        raw.add_row(stage, f"{value}")
    console.print(raw)
    title = f"codec: {figures['size_mib']} MiB end to end ({figures['folder']})"
    table = Table(title=title + (" (quick)" if figures["quick"] else ""))
    for column in ("ecc", "upload MiB/s", "ratio", "download MiB/s", "ratio", "peak RSS MiB", "identical"):
        table.add_column(column, justify="right")
    for name, row in figures["end_to_end"].items():
        table.add_row(
            name,
            f"{row['upload_mib_s']}",
            f"{row['upload_ratio_to_slowest_stage']}",
            f"{row['download_mib_s']}",
            f"{row['download_ratio_to_slowest_stage']}",
            f"{row['peak_rss_mib']}",
            f"{row['identical']}",
        )
    console.print(table)
    big = figures.get("one_gib")
    if big:
        console.print(
            f"1 GiB with {big['ecc']}: upload {big['upload_mib_s']} MiB/s, download {big['download_mib_s']} MiB/s, "
            f"peak RSS {big['peak_rss_mib']} MiB (goal < {big['target_peak_rss_mib']} MiB), identical {big['identical']}"
        )


BENCHMARK = Benchmark(
    name="codec",
    description="storage codec upload/download MiB/s (ecc/4x4, ecc/18x18) vs raw stage speeds, peak RSS",
    run=run,
    render=render,
)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(json.loads(sys.argv[2]))))
    else:
        print("usage: python -m bitdust.bench codec (this module's --child mode is internal)", file=sys.stderr)
        sys.exit(2)
