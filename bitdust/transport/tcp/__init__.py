"""The TCP transport: framing of opaque payloads over one TCP connection."""
