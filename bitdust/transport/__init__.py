"""Transports: the byte pipes packets travel over (TCP first, then UDP, proxy relay and Tor)."""
