"""Provider adapters: one module per vendor API. Import them as ``agentcore.providers.<name>``."""
