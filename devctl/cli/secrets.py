"""`devctl secrets show`."""

from __future__ import annotations

import typer

from devctl import secrets
from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json
from devctl.errors import DevctlError
from devctl.stack import SECRET_NAME

app = command_app(no_args_is_help=True)


@app.callback()
def secrets_group() -> None:
    """The dev secrets devctl created (`show`: their names; values with --reveal)."""


@app.command("show")
def show(
    ctx: typer.Context,
    reveal: bool = typer.Option(False, "--reveal", help="Also print the values."),
    as_json: bool = json_option(),
) -> None:
    """Print the names of the keys in the dev Secret tour-secrets (values only with --reveal)."""
    c = make_context(ctx)
    st = secrets.read(c)
    if not st.exists:
        raise DevctlError(
            f"secret {SECRET_NAME} does not exist in cluster {c.cfg.cluster}", hint="run `devctl up` (it creates it)"
        )
    rows = {k: (v if reveal else None) for k, v in sorted(st.values.items())}
    if as_json:
        print_json({"name": SECRET_NAME, "namespace": secrets.NAMESPACE, "keys": rows})
        return
    out = console()
    out.print(f"{secrets.NAMESPACE}/{SECRET_NAME}", highlight=False)
    for k, v in rows.items():
        out.print(f"  {k}" + (f" = {v}" if reveal else ""), highlight=False, markup=False)
