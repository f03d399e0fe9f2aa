"""Fuzz tests: generated corrupt and hostile inputs through the real coach command."""
