"""The node's settings: typed options, their registration and storage, and the network config."""
