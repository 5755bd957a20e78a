"""Helpers for tests of BitDust and of programs built on it (a whole network in one process)."""
