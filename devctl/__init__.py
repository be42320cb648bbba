"""devctl: the tour project's local environment, from a fresh clone to a live dev loop."""

__version__ = "0.1.0"
