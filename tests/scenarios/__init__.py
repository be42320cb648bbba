"""User journeys written once and run twice: against tests/fakes (default) and, with DEVCTL_E2E=1, the real tools."""
