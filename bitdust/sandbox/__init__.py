"""Local multi-node network launcher: separate engine processes on loopback (``bitdust sandbox``)."""

from bitdust.sandbox.errors import NodeStartFailed, SandboxError, SandboxNotFound, SandboxRunning
from bitdust.sandbox.network import NodeStatus, Sandbox, down, start_node, status, stop_node, up
from bitdust.sandbox.state import NodeRecord, SandboxState, default_dir

__all__ = [
    "NodeRecord",
    "NodeStartFailed",
    "NodeStatus",
    "Sandbox",
    "SandboxError",
    "SandboxNotFound",
    "SandboxRunning",
    "SandboxState",
    "default_dir",
    "down",
    "start_node",
    "status",
    "stop_node",
    "up",
]
