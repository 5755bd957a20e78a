"""Identities: IDURLs and global ids, signed identity documents, the identity cache and server."""
