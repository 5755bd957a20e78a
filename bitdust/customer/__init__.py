"""The customer side: the machines that hire, watch and replace this node's family of suppliers."""
