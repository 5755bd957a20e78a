"""Kademlia DHT over UDP with layers and validated records (the original's entangled DHT)."""
