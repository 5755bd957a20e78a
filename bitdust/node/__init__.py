"""A whole node and its processes: the composition of an engine and the entry points that run it.

The bottom of the layer order: it may import every package, and only entry points import it.
"""
