"""The key registry: every RSA key a node holds, one 0600 JSON file per key under ``keys/``.

One :class:`KeyRegistry` per Engine (no module-level state), so many nodes can live in one test
process. Disk work (``load``) and key generation (``create``) are blocking and meant to run in the
engine's thread pool; a lock keeps the in-memory map and the files consistent when they do.

The node's own master key (alias ``master``, with its private part) is its identity key. Rules:

* only :meth:`KeyRegistry.install_master` puts it in place (identity creation, recovery, rotation)
  and it replaces the previous one; ``create`` and ``register`` refuse a private ``master`` key;
* it cannot be erased (:meth:`KeyRegistry.erase` answers 400; ``identity_erase`` with
  ``erase_private_key`` uses :meth:`KeyRegistry.erase_master`) and its label cannot be changed;
* it comes first in :meth:`KeyRegistry.list`, as in the original's ``keys_list``.

Other users' master keys (public only, ``master$bob@host``) are ordinary registered keys.
"""

from __future__ import annotations

import builtins
import json
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from twisted.logger import Logger

from bitdust.crypt.key_id import MASTER_ALIAS, check_global_id, check_key_id, make_key_id, split_key_id
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import BitDustError, Conflict, InvalidInput, NotFound
from bitdust.main.process.fileutil import atomic_write

LABEL_MAX_LENGTH = 200
KEY_FILE_SUFFIX = ".key"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def check_label(label: str) -> str:
    """A label is free text for the UI: at most 200 characters and no control characters."""
    if not isinstance(label, str):
        raise InvalidInput("key label must be a string")
    if len(label) > LABEL_MAX_LENGTH:
        raise InvalidInput(f"key label is too long: at most {LABEL_MAX_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in label):
        raise InvalidInput("key label must not contain control characters")
    return label


@attrs.frozen
class KeyRecord:
    """One registered key and what the node knows about it."""

    key_id: str
    alias: str
    label: str
    creator: str | None
    active: bool
    key: RsaKey
    created: int

    @property
    def is_identity_key(self) -> bool:
        """True for the node's own master key: the only ``master`` key we hold privately."""
        return self.alias == MASTER_ALIAS and self.key.has_private

    def to_json(self, include_private: bool = False) -> dict[str, Any]:
        """The original's ``keys_list`` item; the private PEM appears only when asked for."""
        private = self.key.private_text() if include_private and self.key.has_private else None
        return {
            "key_id": self.key_id,
            "alias": self.alias,
            "label": self.label,
            "active": self.active,
            "creator": self.creator,
            "is_public": not self.key.has_private,
            "public": self.key.public_openssh(),
            "private": private,
            "include_private": bool(include_private),
            "size": str(self.key.size),
            "fingerprint": self.key.fingerprint(),
        }

    def to_document(self) -> dict[str, Any]:
        """What goes into the key's file (always with the private part, the file is 0600)."""
        return {
            "key_id": self.key_id,
            "alias": self.alias,
            "label": self.label,
            "creator": self.creator,
            "active": self.active,
            "private": self.key.private_text() if self.key.has_private else None,
            "public": self.key.public_openssh(),
            "created": self.created,
        }

    @classmethod
    def from_document(cls, document: Any) -> KeyRecord:
        """Rebuild a record from a key file's JSON; ValueError/InvalidInput on anything inconsistent."""
        if not isinstance(document, dict):
            raise ValueError("a key file holds a JSON object")
        key_id = check_key_id(document.get("key_id"))
        alias, _ = split_key_id(key_id)
        if document.get("alias", alias) != alias:
            raise ValueError(f"alias {document.get('alias')!r} does not match key id {key_id}")
        private, public = document.get("private"), document.get("public")
        if private:
            key = RsaKey.from_private_text(private)
            if public and RsaKey.from_public_text(public) != key:
                raise ValueError("public and private parts are different keys")
        elif public:
            key = RsaKey.from_public_text(public)
        else:
            raise ValueError("no key material")
        creator = document.get("creator")
        if creator is not None and not isinstance(creator, str):
            raise ValueError("creator must be a string or null")
        created = document.get("created", 0)
        if isinstance(created, bool) or not isinstance(created, int | float):
            raise ValueError("created must be a number")
        return cls(
            key_id=key_id,
            alias=alias,
            label=check_label(document.get("label") or ""),
            creator=creator,
            active=bool(document.get("active", True)),
            key=key,
            created=int(created),
        )


class KeyRegistry:
    """Owns all keys of one node: the in-memory map and the files under ``folder``."""

    def __init__(self, folder: Path, *, log: Logger | None = None, now: Callable[[], float] = time.time) -> None:
        self._folder = Path(folder)
        self._log = log or Logger()
        self._now = now
        self._records: dict[str, KeyRecord] = {}
        self._global_id: str | None = None
        self._creator_idurl: str | None = None
        self._lock = threading.RLock()

    # -- owner ----------------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def global_id(self) -> str | None:
        return self._global_id

    @property
    def creator_idurl(self) -> str | None:
        return self._creator_idurl

    @property
    def master_key_id(self) -> str | None:
        """``master$<global_id>`` once the identity layer has said who we are, else the stored one."""
        if self._global_id is not None:
            return make_key_id(MASTER_ALIAS, self._global_id)
        master = self.master()
        return master.key_id if master else None

    def set_owner(self, global_id: str | None, creator_idurl: str | None) -> None:
        """Called by the identity layer: new keys get ``<alias>$<global_id>`` and this creator."""
        if global_id is not None:
            check_global_id(global_id)
        with self._lock:
            self._global_id = global_id
            self._creator_idurl = creator_idurl

    # -- disk -----------------------------------------------------------------------------------

    def _path_for(self, key_id: str) -> Path:
        # A checked key id has no '/', no '..' and no leading dot, so it is a safe plain file name.
        name = check_key_id(key_id) + KEY_FILE_SUFFIX
        if os.sep in name or "/" in name or name.startswith("."):
            raise InvalidInput(f"invalid key id {key_id!r}")
        return self._folder / name

    def _write(self, record: KeyRecord) -> None:
        self._folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(self._folder, FOLDER_MODE)
        text = json.dumps(record.to_document(), indent=2, sort_keys=True) + "\n"
        atomic_write(self._path_for(record.key_id), text, FILE_MODE)

    def _remove_file(self, key_id: str) -> None:
        self._path_for(key_id).unlink(missing_ok=True)

    def load(self) -> int:
        """Read every key file, replacing what is in memory; corrupt files are logged and skipped.

        Blocking: the engine calls it in its thread pool. Returns how many keys were loaded.
        """
        records: dict[str, KeyRecord] = {}
        if self._folder.is_dir():
            for path in sorted(self._folder.iterdir()):
                if path.name.startswith(".") or not path.name.endswith(KEY_FILE_SUFFIX) or not path.is_file():
                    continue
                try:
                    record = KeyRecord.from_document(json.loads(path.read_bytes().decode("utf-8")))
                    if path.name != record.key_id + KEY_FILE_SUFFIX:
                        raise ValueError(f"file name does not match key id {record.key_id}")
                except (OSError, ValueError, BitDustError) as exc:
                    reason = exc.message if isinstance(exc, BitDustError) else str(exc)
                    self._log.warn("skipping corrupt key file {path}: {reason}", path=str(path), reason=reason)
                    continue
                records[record.key_id] = record
        with self._lock:
            self._records = records
        self._log.info("loaded {count} keys from {folder}", count=len(records), folder=str(self._folder))
        return len(records)

    # -- changes --------------------------------------------------------------------------------

    def create(self, alias: str, *, size: int, label: str = "", owner_global_id: str | None = None) -> KeyRecord:
        """Generate and register a new private key ``alias$<owner>``; blocking, run it in a thread."""
        if alias == MASTER_ALIAS:
            raise InvalidInput("the alias 'master' is reserved for the identity key")
        global_id = owner_global_id if owner_global_id is not None else self._global_id
        if global_id is None:
            raise InvalidInput("cannot create a key before this node has an identity")
        key_id = make_key_id(alias, global_id)
        check_label(label)
        if key_id in self._records:
            raise InvalidInput(f"key {key_id} already exists")
        key = RsaKey.generate(size)
        with self._lock:
            if key_id in self._records:
                raise InvalidInput(f"key {key_id} already exists")
            record = self._new_record(key_id, key, label=label, creator=self._creator_idurl)
            self._write(record)
            self._records[key_id] = record
        self._log.info("key {key_id} created ({size} bits)", key_id=key_id, size=size)
        return record

    def install_master(
        self, key: RsaKey, global_id: str, creator_idurl: str | None, label: str = "my master key"
    ) -> KeyRecord:
        """Make ``key`` the node's identity key ``master$<global_id>``, replacing any previous one.

        Used when an identity is created, recovered or rotated to a new global id; also sets the
        owner. The new file is written before the old one goes, so a crash never leaves no master.
        """
        if not key.has_private:
            raise InvalidInput("the master key must include its private part")
        key_id = make_key_id(MASTER_ALIAS, global_id)
        check_label(label)
        with self._lock:
            previous = [r.key_id for r in self._records.values() if r.is_identity_key and r.key_id != key_id]
            record = self._new_record(key_id, key, label=label, creator=creator_idurl)
            self._write(record)
            self._records[key_id] = record
            for old_id in previous:
                self._remove_file(old_id)
                del self._records[old_id]
            self._global_id = global_id
            self._creator_idurl = creator_idurl
        self._log.info("master key {key_id} installed", key_id=key_id)
        return record

    def register(self, key_id: str, key: RsaKey, *, label: str = "", creator: str | None = None) -> KeyRecord:
        """Register a key received from someone (public or private).

        The same key again is a no-op, except that a private part upgrades a public-only record;
        a different key under a known id is a 409. A private ``master`` key is refused: only
        :meth:`install_master` may hold one.
        """
        alias, _ = split_key_id(key_id)
        check_label(label)
        if alias == MASTER_ALIAS and key.has_private:
            raise InvalidInput("a private master key can only be installed as this node's identity key")
        with self._lock:
            existing = self._records.get(key_id)
            if existing is not None:
                if existing.key != key:
                    raise Conflict(f"key {key_id} is already registered with a different key")
                if not key.has_private or existing.key.has_private:
                    return existing
                record = attrs.evolve(existing, key=key)
            else:
                record = self._new_record(key_id, key, label=label, creator=creator)
            self._write(record)
            self._records[key_id] = record
        self._log.info("key {key_id} registered", key_id=key_id)
        return record

    def label(self, key_id: str, label: str) -> KeyRecord:
        """Set a key's label; the identity key keeps its label (400)."""
        record = self.get(key_id)
        if record.is_identity_key:
            raise InvalidInput("the master key is the identity key; its label cannot be changed")
        check_label(label)
        with self._lock:
            record = attrs.evolve(self.get(key_id), label=label)
            self._write(record)
            self._records[key_id] = record
        return record

    def erase(self, key_id: str) -> KeyRecord:
        """Forget a key and delete its file; the identity key cannot be erased this way (400)."""
        record = self.get(key_id)
        if record.is_identity_key:
            raise InvalidInput(
                "cannot erase the master key: it is the identity key (use identity_erase with erase_private_key)"
            )
        with self._lock:
            self._remove_file(key_id)
            self._records.pop(key_id, None)
        self._log.info("key {key_id} erased", key_id=key_id)
        return record

    def erase_master(self) -> bool:
        """Delete the identity key (``identity_erase`` with ``erase_private_key``); False if none."""
        with self._lock:
            masters = [r.key_id for r in self._records.values() if r.is_identity_key]
            for key_id in masters:
                self._remove_file(key_id)
                del self._records[key_id]
        if masters:
            self._log.info("master key {key_id} erased", key_id=masters[0])
        return bool(masters)

    def _new_record(self, key_id: str, key: RsaKey, *, label: str, creator: str | None) -> KeyRecord:
        alias, _ = split_key_id(key_id)
        return KeyRecord(
            key_id=key_id, alias=alias, label=label, creator=creator, active=True, key=key, created=int(self._now())
        )

    # -- queries --------------------------------------------------------------------------------

    def find(self, key_id: str) -> KeyRecord | None:
        """The record or None, without raising: for code that merely checks."""
        return self._records.get(key_id)

    def get(self, key_id: str) -> KeyRecord:
        """The record of ``key_id``: 400 if malformed, 404 if unknown."""
        check_key_id(key_id)
        record = self._records.get(key_id)
        if record is None:
            raise NotFound(f"key {key_id} not found")
        return record

    def master(self) -> KeyRecord | None:
        """The node's identity key record, if installed."""
        with self._lock:
            for record in self._records.values():
                if record.is_identity_key:
                    return record
        return None

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._records

    def __len__(self) -> int:
        return len(self._records)

    def list(self, sort: bool = False) -> builtins.list[KeyRecord]:
        """All records, the identity key first; the rest in key id order when ``sort``, else as stored."""
        with self._lock:
            records = builtins.list(self._records.values())
        if sort:
            records.sort(key=lambda r: r.key_id)
        records.sort(key=lambda r: not r.is_identity_key)
        return records
