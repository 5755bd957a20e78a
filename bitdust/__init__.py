"""BitDust node: a peer-to-peer network for encrypted backups and private messaging."""

__version__ = "0.1.0"
