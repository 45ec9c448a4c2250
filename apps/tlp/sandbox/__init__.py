"""A TLP-compatible HTTP server with its own state and fault injection, for tests and the demo."""

from apps.tlp.sandbox.server import Faults, SandboxServer
from apps.tlp.sandbox.state import SandboxState

__all__ = ["Faults", "SandboxServer", "SandboxState"]
