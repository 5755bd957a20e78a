"""Peer-to-peer packets: the signed wire format, its commands and replay protection."""
