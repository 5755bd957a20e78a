"""Upload and download pipelines: file or folder <-> encrypted, erasure-coded fragments.

Upload: read -> zstd (streaming) -> blocks of ``block_size`` -> AES-256-GCM per block under a fresh
data key -> zfec into N shares -> fragment objects -> sink. Download runs it backwards from any K
good fragments per block. Both are plain blocking functions that hold only a few blocks at a time;
the CPU stages of consecutive blocks run in a small thread pool (zstd, AES-GCM, zfec and hashlib
release the GIL, so two workers use two cores). ``deferred.upload_deferred`` / ``download_deferred``
run them in the reactor's thread pool for Twisted callers.
"""

from __future__ import annotations

import collections
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, cast

import attrs
import zstandard

from bitdust.crypt import symmetric
from bitdust.crypt.errors import CryptError
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput
from bitdust.raid import erasure
from bitdust.raid.eccmap import EccMap, eccmap
from bitdust.storage.codec import tarstream
from bitdust.storage.codec.errors import BlockUnavailable, CorruptBlock, CorruptFragment
from bitdust.storage.codec.fragment import Fragment, FragmentId, block_associated_data, pack, unpack
from bitdust.storage.codec.manifest import BlockInfo, Manifest, Progress
from bitdust.storage.codec.store import BlockingFragmentSink, BlockingFragmentSource

DEFAULT_BLOCK_SIZE = 4 << 20
READ_CHUNK = 1 << 20
WORKERS = 2
ZSTD_LEVEL = 1
_OVERHEAD = symmetric.NONCE_SIZE + symmetric.TAG_SIZE

ProgressCallback = Callable[[Progress], None]


def _as_ecc(ecc: EccMap | str) -> EccMap:
    return ecc if isinstance(ecc, EccMap) else eccmap(ecc)


def _require_blocking(store: object, what: str) -> None:
    if not getattr(store, "blocking", True):
        raise InvalidInput(f"this {what} returns Deferreds: use the *_deferred pipeline, which bridges to the reactor")


# -- upload ------------------------------------------------------------------------------------


@attrs.define
class _Uploader:
    """A write()-able object: compresses, cuts into blocks, seals them in the pool, sends fragments."""

    ecc: EccMap
    data_key: bytes
    key_id: str
    customer: str
    path_id: str
    version: str
    block_size: int
    sink: BlockingFragmentSink
    pool: ThreadPoolExecutor
    progress: ProgressCallback | None
    window: int
    compressor: zstandard.ZstdCompressionObj = attrs.field(
        factory=lambda: zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    )
    source_hash: hashlib._Hash = attrs.field(factory=hashlib.sha256)
    source_size: int = 0
    buffer: bytearray = attrs.field(factory=bytearray)
    pending: collections.deque[Future[BlockInfo]] = attrs.field(factory=collections.deque)
    blocks: list[BlockInfo] = attrs.field(factory=list)
    submitted: int = 0

    def write(self, data: bytes) -> int:
        self.source_hash.update(data)
        self.source_size += len(data)
        self.buffer += self.compressor.compress(data)
        self._cut()
        return len(data)

    def finish(self) -> None:
        self.buffer += self.compressor.flush()
        self._cut()
        if self.buffer or not self.submitted:
            self._submit(bytes(self.buffer))
            self.buffer.clear()
        while self.pending:
            self._drain_one()

    def _cut(self) -> None:
        while len(self.buffer) >= self.block_size:
            self._submit(bytes(self.buffer[: self.block_size]))
            del self.buffer[: self.block_size]

    def _submit(self, block: bytes) -> None:
        self.pending.append(self.pool.submit(self._seal, block, self.submitted))
        self.submitted += 1
        while len(self.pending) > self.window:
            self._drain_one()

    def _seal(self, block: bytes, index: int) -> BlockInfo:
        """All work of one block, in a worker thread: hash, encrypt, erasure code, pack, store.

        Storing here rather than on the calling thread keeps that thread free for compression,
        the one stage that cannot be split; each packed fragment is dropped as soon as it is stored.
        """
        info = BlockInfo(len(block), hashlib.sha256(block).hexdigest())
        aad = block_associated_data(self.key_id, self.path_id, self.version, index)
        sealed = symmetric.encrypt(self.data_key, block, aad)
        shares = erasure.encode(sealed, self.ecc)
        del sealed
        for position, share in enumerate(shares):
            fid = FragmentId(self.customer, self.path_id, self.version, index, position)
            fragment = Fragment(fid, self.key_id, self.ecc.suppliers, self.ecc.required, len(block) + _OVERHEAD, share)
            self.sink.put(fid, pack(fragment))
            shares[position] = b""
        return info

    def _drain_one(self) -> None:
        self.blocks.append(self.pending.popleft().result())
        if self.progress is not None:
            self.progress(Progress("upload", len(self.blocks), self.source_size))


def upload(
    source_path: str | os.PathLike[str],
    *,
    key_id: str,
    rsa_key: RsaKey,
    ecc: EccMap | str,
    customer: str,
    path_id: str,
    version: str,
    sink: BlockingFragmentSink,
    block_size: int = DEFAULT_BLOCK_SIZE,
    progress: ProgressCallback | None = None,
    workers: int = WORKERS,
) -> Manifest:
    """Store the file or folder at ``source_path`` as fragments in ``sink``; blocking."""
    ecc = _as_ecc(ecc)
    _require_blocking(sink, "sink")
    if block_size < 1:
        raise InvalidInput("block_size must be positive")
    source = Path(source_path)
    if source.is_file():
        kind = "file"
    elif source.is_dir():
        kind = "folder"
    else:
        raise InvalidInput(f"{source} is neither a regular file nor a folder")
    data_key = symmetric.new_data_key()
    wrapped = rsa_key.encrypt(data_key)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codec-up") as pool:
        uploader = _Uploader(
            ecc, data_key, key_id, customer, path_id, version, block_size, sink, pool, progress, workers
        )
        try:
            if kind == "file":
                with open(source, "rb") as handle:
                    while chunk := handle.read(READ_CHUNK):
                        uploader.write(chunk)
            else:
                tarstream.write_folder(source, uploader)  # type: ignore[arg-type]
            uploader.finish()
        except BaseException:
            for future in uploader.pending:
                future.cancel()
            raise
    return Manifest(
        key_id=key_id,
        customer=customer,
        path_id=path_id,
        version=version,
        wrapped_key=wrapped,
        ecc=ecc.name,
        block_size=block_size,
        kind=kind,
        total_size=uploader.source_size,
        source_sha256=uploader.source_hash.hexdigest(),
        blocks=tuple(uploader.blocks),
    )


# -- download ----------------------------------------------------------------------------------


@attrs.frozen
class DownloadResult:
    """What :func:`download` wrote, and how many fragments it had to reject on the way."""

    path: str
    kind: str
    size: int
    blocks: int
    rejected_fragments: int


@attrs.define
class _BlockReader:
    """A read()-able stream of the decrypted compressed blocks, fetched ahead in the pool."""

    manifest: Manifest
    ecc: EccMap
    data_key: bytes
    source: BlockingFragmentSource
    pool: ThreadPoolExecutor
    window: int
    progress: ProgressCallback | None
    pending: collections.deque[Future[tuple[bytes, int]]] = attrs.field(factory=collections.deque)
    next_block: int = 0
    done_blocks: int = 0
    rejected: int = 0
    current: memoryview = attrs.field(factory=lambda: memoryview(b""))

    def read(self, size: int = -1) -> bytes:
        while not self.current:
            self._fill()
            if not self.pending:
                return b""
            block, rejected = self.pending.popleft().result()
            self.rejected += rejected
            self.done_blocks += 1
            self.current = memoryview(block)
            if self.progress is not None:
                stored = sum(info.length for info in self.manifest.blocks[: self.done_blocks])
                self.progress(Progress("download", self.done_blocks, stored, self.manifest.block_count))
        if size is None or size < 0:
            size = len(self.current)
        out = bytes(self.current[:size])
        self.current = self.current[size:]
        return out

    def _fill(self) -> None:
        while self.next_block < self.manifest.block_count and len(self.pending) <= self.window:
            self.pending.append(self.pool.submit(self._open_block, self.next_block))
            self.next_block += 1

    def cancel(self) -> None:
        for future in self.pending:
            future.cancel()

    def _candidates(self, index: int) -> list[int]:
        m = self.manifest
        listed = [
            p for p in self.source.positions(m.customer, m.path_id, m.version, index) if 0 <= p < self.ecc.suppliers
        ]
        return list(dict.fromkeys(listed + list(range(self.ecc.suppliers))))

    def _open_block(self, index: int) -> tuple[bytes, int]:
        """In a worker: gather K good fragments, decode, decrypt, verify; returns (block, rejected)."""
        m = self.manifest
        info = m.blocks[index]
        sealed_length = info.length + _OVERHEAD
        shares: dict[int, bytes] = {}
        rejected = 0
        for position in self._candidates(index):
            fid = FragmentId(m.customer, m.path_id, m.version, index, position)
            blob = self.source.get(fid)
            if blob is None:
                continue
            try:
                fragment = unpack(
                    blob, expected=fid, suppliers=self.ecc.suppliers, required=self.ecc.required, key_id=m.key_id
                )
                if fragment.data_length != sealed_length:
                    raise CorruptFragment("fragment length disagrees with the manifest")
            except CorruptFragment:
                rejected += 1
                continue
            shares[position] = fragment.share
            if len(shares) == self.ecc.required:
                break
        if len(shares) < self.ecc.required:
            raise BlockUnavailable(index, found=len(shares), required=self.ecc.required)
        sealed = erasure.decode(shares, self.ecc, sealed_length)
        aad = block_associated_data(m.key_id, m.path_id, m.version, index)
        try:
            block = symmetric.decrypt(self.data_key, sealed, aad)
        except CryptError:
            raise CorruptBlock(index, "authentication failed") from None
        if len(block) != info.length or hashlib.sha256(block).hexdigest() != info.sha256:
            raise CorruptBlock(index, "hash does not match the manifest")
        return block, rejected


class _HashingReader:
    """Counts and hashes what passes through, so the result can be checked against the manifest."""

    def __init__(self, stream: zstandard.ZstdDecompressionReader) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size is not None and size >= 0 else READ_CHUNK)
        self.hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(READ_CHUNK):
            pass


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def download(
    manifest: Manifest | str | dict[str, Any],
    *,
    rsa_key: RsaKey,
    source: BlockingFragmentSource,
    destination_path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    workers: int = WORKERS,
) -> DownloadResult:
    """Rebuild the uploaded file or folder at ``destination_path``; blocking, all or nothing."""
    if isinstance(manifest, str):
        manifest = Manifest.from_json(manifest)
    elif isinstance(manifest, dict):
        manifest = Manifest.from_dict(manifest)
    _require_blocking(source, "source")
    ecc = eccmap(manifest.ecc)
    destination = Path(destination_path)
    if destination.is_dir() and not destination.is_symlink():
        raise InvalidInput(f"{destination} is an existing folder")
    data_key = rsa_key.decrypt(manifest.wrapped_key)
    temp = destination.parent / f"{destination.name}.partial-{secrets.token_hex(6)}"
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codec-down") as pool:
            blocks = _BlockReader(manifest, ecc, data_key, source, pool, workers, progress)
            try:
                # zstandard calls only read() on its source; its stub asks for a whole IO[bytes]
                stream = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], blocks), read_size=READ_CHUNK)
                output = _HashingReader(stream)
                if manifest.kind == "file":
                    with open(temp, "xb") as handle:
                        while chunk := output.read(READ_CHUNK):
                            handle.write(chunk)
                        handle.flush()
                        os.fsync(handle.fileno())
                else:
                    temp.mkdir(mode=0o700)
                    tarstream.extract_stream(output, temp)  # type: ignore[arg-type]
                    output.drain()
                if blocks.read(1):
                    raise CorruptBlock(manifest.block_count - 1, "data continues after the end of the stream")
            except zstandard.ZstdError as exc:
                raise CorruptBlock(blocks.done_blocks - 1, f"decompression failed: {exc}") from None
            finally:
                blocks.cancel()
        if output.size != manifest.total_size or output.hash.hexdigest() != manifest.source_sha256:
            raise CorruptBlock(manifest.block_count - 1, "restored data does not match the manifest")
        os.replace(temp, destination)
    except BaseException:
        _remove(temp)
        raise
    return DownloadResult(str(destination), manifest.kind, output.size, manifest.block_count, blocks.rejected)
