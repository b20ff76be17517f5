"""Sandbox backends. Import them as ``agentcore.sandboxes.<name>``."""
