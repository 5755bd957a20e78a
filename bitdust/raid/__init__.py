"""Erasure coding: ECC maps (how many suppliers, how many needed) and zfec encode/decode."""
