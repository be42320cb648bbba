"""Exactly how ``skaffold dev`` is called (pure: nothing runs here).

skaffold.md §2 recommends ``skaffold dev -f <cfg> --kube-context kind-<name> --rpc-http-port <free port>
--interactive=false --update-check=false -c <private config>``: the context pins every cluster call
(skaffold#812), the private global config keeps the user's ``local-cluster``/``default-repo``/
``kind-disable-load`` out, the SKAFFOLD_* environment is scrubbed by the adapter (every flag has one),
``--interactive=false`` and ``--update-check=false`` keep prompts and the network away. Port forwarding
is off: the stack is reached through the ingress at ``cfg.url``.
"""

from __future__ import annotations

from pathlib import Path

from devctl.config import Config
from devctl.runner import Runner
from devctl.tools.skaffold import Skaffold


def dev_args(cfg: Config, rpc_port: int, *, keep: bool, profile: str | None) -> list[str]:
    """Everything after ``skaffold dev --kube-context ... -c ...`` (which the adapter adds)."""
    args = [
        "-f",
        str(cfg.path(cfg.skaffold_file)),
        "--interactive=false",
        "--update-check=false",
        "--rpc-http-port",
        str(rpc_port),
        "--port-forward=off",
    ]
    if keep:
        args.append("--cleanup=false")  # §2: --cleanup (default true) deletes what was deployed on exit
    if profile:
        args += ["-p", profile]
    return args


def dev_argv(
    cfg: Config, rpc_port: int, global_config_path: str | Path, keep: bool, profile: str | None = None
) -> list[str]:
    """The exact command line of ``skaffold dev`` (pure: nothing runs)."""
    adapter = Skaffold(Runner(), cfg.context, global_config=str(global_config_path))
    return adapter.argv("dev", *dev_args(cfg, rpc_port, keep=keep, profile=profile))
