"""Packet command names.

The names are the wire strings, spelled as the original BitDust spelled them, so logs and packet
dumps read the same. A packet whose command is not in :data:`COMMANDS` is refused at decode time:
nothing above the packet layer ever has to handle an unknown command.
"""

from __future__ import annotations

IDENTITY = "Identity"
ACK = "Ack"
FAIL = "Fail"
DATA = "Data"
RETRIEVE = "Retrieve"
LIST_FILES = "ListFiles"
FILES = "Files"
DELETE_FILE = "DeleteFile"
DELETE_BACKUP = "DeleteBackup"
MESSAGE = "Message"
EVENT = "Event"
REQUEST_SERVICE = "RequestService"
CANCEL_SERVICE = "CancelService"
RELAY = "Relay"
CONTACTS = "Contacts"
KEY = "Key"
AUDIT_KEY = "AuditKey"

COMMANDS: frozenset[str] = frozenset(
    {
        IDENTITY,
        ACK,
        FAIL,
        DATA,
        RETRIEVE,
        LIST_FILES,
        FILES,
        DELETE_FILE,
        DELETE_BACKUP,
        MESSAGE,
        EVENT,
        REQUEST_SERVICE,
        CANCEL_SERVICE,
        RELAY,
        CONTACTS,
        KEY,
        AUDIT_KEY,
    }
)
"""Every command a packet may carry."""

OWNER_MAY_DIFFER: frozenset[str] = frozenset({DATA, RELAY})
"""Commands whose packet may carry someone else's content: ``owner_id`` need not be ``creator_id``.

A supplier returns a customer's stored Data (the customer owns it, the supplier sends it); a Relay
carries another user's packet. Every other command speaks only for its creator, and a packet whose
owner is not its creator is refused before anything is fetched or verified for it: a receiver
acting on ``owner_id`` (a quota, a customer's folder) must never be told it by a third party.
"""
