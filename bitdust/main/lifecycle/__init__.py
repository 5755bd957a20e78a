"""The engine's start and stop life cycles: the initializer and shutdowner machines."""
