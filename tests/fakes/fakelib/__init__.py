"""Shared machinery of the fake kind/kubectl/docker/skaffold executables."""
