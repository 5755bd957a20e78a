"""The node's cryptography: RSA keys, AES-GCM, key ids and the key registry (``cryptography`` only)."""
