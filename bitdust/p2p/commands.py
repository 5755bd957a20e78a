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
