"""The camera registry: the system of record for cameras, scenes, tokens and the event index."""
