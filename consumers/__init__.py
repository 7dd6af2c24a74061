"""Consumers: one module per consumer over one shared poll-handle-commit loop."""
