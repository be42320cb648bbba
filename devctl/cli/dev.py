"""`devctl dev` (not built yet)."""

from __future__ import annotations

import typer

from devctl.errors import UsageError

app = typer.Typer()


@app.command()
def dev() -> None:
    """Not built yet."""
    raise UsageError("`devctl dev` is not built yet", hint="see the README's command reference")
