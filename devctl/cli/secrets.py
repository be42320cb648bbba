"""`devctl secrets`."""

from __future__ import annotations

import typer

from devctl.cli._common import console, make_context, print_json

app = typer.Typer(help="Show the dev secrets devctl created (names; values with --reveal).")


@app.command("secrets")
def show(
    ctx: typer.Context,
    action: str = typer.Argument("show", help="Only `show` exists."),
    reveal: bool = typer.Option(False, "--reveal", help="Also print the values."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Print the names of the keys in the dev Secret (values only with --reveal)."""
    from devctl import secrets
    from devctl.errors import DevctlError, UsageError
    from devctl.stack import SECRET_NAME

    if action != "show":
        raise UsageError(f"unknown action {action!r}", hint="use `devctl secrets show [--reveal]`")
    c = make_context(ctx)
    st = secrets.read(c)
    if not st.exists:
        raise DevctlError(
            f"secret {SECRET_NAME} does not exist in cluster {c.cfg.cluster}",
            hint="run `devctl up` (it creates it)",
        )
    rows = {k: (v if reveal else None) for k, v in sorted(st.values.items())}
    if json_out:
        print_json({"name": SECRET_NAME, "namespace": secrets.NAMESPACE, "keys": rows})
        return
    out = console()
    out.print(f"{secrets.NAMESPACE}/{SECRET_NAME}", highlight=False)
    for k, v in rows.items():
        out.print(f"  {k}" + (f" = {v}" if reveal else ""), highlight=False, markup=False)
