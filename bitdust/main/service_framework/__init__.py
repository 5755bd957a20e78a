"""The service framework: the dependency graph, each service's state machine and the manager."""
