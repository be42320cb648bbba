"""ingress-nginx from its kind provider manifest, waited for until it *admits* Ingresses.

A running controller pod is not enough: the admission webhook exists at once with ``failurePolicy:
Fail``, so an Ingress applied too early fails (kind#1582, kind#2927). ingress-nginx.md §3 gives the
robust sequence, used here as four stages under one deadline:

1. the controller Deployment is rolled out (``rollout status`` works before pods exist);
2. the ValidatingWebhookConfiguration has a caBundle (patched by a Job that may already be gone, TTL 0);
3. the admission Service's EndpointSlice has a ready endpoint;
4. a server-side dry-run of the project's Ingress passes the webhook (stores nothing).

Only the start-up errors of the webhook are retried (``devctl.ingress.transient``); a denial is a fact
about the manifest and is reported as such.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devctl import manifests
from devctl.errors import CommandError, CommandTimeout, DevctlError, UsageError, command_line
from devctl.ingress.diagnostics import pod_summary, recent_events
from devctl.ingress.nginx_install import (
    ADMISSION_SERVICE,
    CONTROLLER,
    NAMESPACE,
    WEBHOOK_CONFIG,
    has_ready_endpoint,
    observe,
)
from devctl.ingress.state import IngressState
from devctl.ingress.transient import is_denial, is_not_found, is_stale_webhook, is_transient, is_wait_timeout

if TYPE_CHECKING:
    from devctl.config import Config
    from devctl.context import Context

# One `get` for the warm check: cluster-scoped kinds ignore -n, so the webhook configuration comes along.
OBSERVED = "deployments,services,endpointslices,validatingwebhookconfigurations"
ADMISSION_SELECTOR = f"kubernetes.io/service-name={ADMISSION_SERVICE}"

# Used to prove admission when the project has no Ingress of its own (ingress-nginx.md §3 item 5).
PROBE_INGRESS: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "devctl-admission-probe", "namespace": "default"},
    "spec": {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "admission-probe.devctl.invalid",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "devctl-admission-probe", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ],
    },
}


@dataclass(frozen=True)
class Stage:
    number: int
    awaited: str


ROLLOUT = Stage(1, "the controller Deployment to roll out")
CA_BUNDLE = Stage(2, "the admission webhook's caBundle to be patched")
ENDPOINT = Stage(3, "a ready endpoint of the admission Service")
ADMISSION = Stage(4, "the webhook to accept a server-side dry-run of the project's Ingress")
STAGES = (ROLLOUT, CA_BUNDLE, ENDPOINT, ADMISSION)


class IngressNotReady(DevctlError):
    """The controller did not admit Ingresses within the configured time."""


class AdmissionDenied(DevctlError):
    """The webhook answered and rejected the project's Ingress: the manifest must change."""


# -- inputs ----------------------------------------------------------------------------------------


def is_url(source: str) -> bool:
    return re.match(r"^https?://", source) is not None


def manifest_source(cfg: Config) -> str:
    """The pinned manifest URL, or the local copy given by ``ingress_manifest`` (repo-relative or absolute)."""
    source = cfg.ingress_manifest_source
    if is_url(source):
        return source
    return str(cfg.path(Path(source).expanduser()))


@dataclass(frozen=True)
class AdmissionProbe:
    manifest: str
    what: str


def admission_probe(cfg: Config) -> AdmissionProbe:
    """The project's Ingress objects (from ``manifests_dir``), or a probe Ingress when it has none (or when
    devctl runs outside the repo, as `devctl cluster up` and `up --only ingress` may)."""
    outside = cfg.repo_root is None and not cfg.manifests_dir.is_absolute()
    directory = cfg.manifests_dir if outside else cfg.path(cfg.manifests_dir)
    found = not outside and directory.is_dir()
    ingresses = [m.obj for m in manifests.load(directory) if m.kind == "Ingress"] if found else []
    # JSON, which kubectl reads as it reads YAML; several objects as a v1 List, which kubectl applies item
    # by item (kubernetes/kubectl#837).
    if not ingresses:
        return AdmissionProbe(json.dumps(PROBE_INGRESS, indent=2), "the probe Ingress devctl-admission-probe")
    names = ", ".join(str(o.get("metadata", {}).get("name")) for o in ingresses)
    doc = ingresses[0] if len(ingresses) == 1 else {"apiVersion": "v1", "kind": "List", "items": ingresses}
    return AdmissionProbe(json.dumps(doc, indent=2), f"Ingress {names} from {directory}")


def denial_reason(stderr: str) -> str:
    """The webhook's reason, all its lines (several invalid paths are listed one per line)."""
    text = stderr.split("denied the request:", 1)[-1]
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("Warning:")]
    return "; ".join(lines)


# -- the controller ----------------------------------------------------------------------------------


class _StageTimedOut(Exception):
    def __init__(self, stage: Stage, last: str) -> None:
        super().__init__(stage.awaited)
        self.stage = stage
        self.last = last


@dataclass
class _Deadline:
    clock: Callable[[], float]
    end: float

    def remaining(self) -> float:
        return max(0.0, self.end - self.clock())

    def call_timeout(self) -> float:
        """A bound for one kubectl call, so a hung API server cannot hold us long past the deadline."""
        return self.remaining() + 10.0


@dataclass
class NginxController:
    """ingress-nginx, kind provider manifest (ingress-nginx.md §2-§4)."""

    # Each poll is one kubectl call (tens of ms against a local kind API server), so polling every 0.25 s
    # costs little and ends a stage at most a quarter second after it is done; the dry-run's backoff
    # (doubling from poll_interval) is capped at 2 s so a webhook that starts late is not waited on for
    # up to 8 s more (ingress-nginx.md §3: "each step polls with a deadline").
    poll_interval: float = 0.25
    max_backoff: float = 2.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    name: str = "ingress-nginx"

    # -- warm path: at most 2 kubectl calls ----------------------------------------------------------

    def judge(self, items: Iterable[Mapping[str, Any]], version: str) -> IngressState:
        return observe(items).state(version)

    def observe(self, ctx: Context) -> IngressState:
        listing = ctx.kubectl.get_json(OBSERVED, namespace=NAMESPACE, timeout=30)
        return self.judge((listing or {}).get("items") or [], ctx.cfg.ingress_version)

    def is_admitting(self, ctx: Context, seen: IngressState) -> str | None:
        if not seen.admitting:
            return None
        probe = admission_probe(ctx.cfg)
        try:
            ctx.kubectl.apply(probe.manifest, server_dry_run=True, timeout=30)  # kubectl call 2
        except CommandTimeout:
            return None
        except CommandError as err:
            if is_denial(err.stderr):
                raise self._denied(ctx, probe, err) from err
            return None  # the full path re-applies and waits, and reports what stays wrong
        return f"{self.name} v{ctx.cfg.ingress_version} is installed and admits Ingresses"

    # -- full path --------------------------------------------------------------------------------------

    def ensure(self, ctx: Context, seen: IngressState | None = None) -> str:
        cfg = ctx.cfg
        source = manifest_source(cfg)
        if not is_url(source) and not Path(source).is_file():
            raise UsageError(
                f"ingress manifest {source} does not exist",
                hint="point --ingress-manifest / DEVCTL_INGRESS_MANIFEST at a copy of the kind deploy.yaml",
            )
        probe = admission_probe(cfg)
        deadline = _Deadline(self.clock, self.clock() + cfg.ingress_timeout)
        self._remove_stale_webhook(ctx, seen or self.observe(ctx))
        ctx.reporter.info(f"{self.name}: applying {source}")
        try:
            ctx.kubectl.apply_file(source, timeout=deadline.call_timeout())
        except CommandError as err:
            hint = (
                "without internet access, download the file elsewhere and pass it with --ingress-manifest PATH "
                "(or DEVCTL_INGRESS_MANIFEST)"
                if is_url(source)
                else "is it ingress-nginx's deploy/static/provider/kind/deploy.yaml?"
            )
            raise DevctlError(f"could not apply the ingress-nginx manifest {source}", hint=hint) from err
        if ctx.runner.dry_run:
            return f"would wait up to {cfg.ingress_timeout:g} s for {self.name} to admit Ingresses"
        try:
            self._wait_rollout(ctx, deadline, source)
            self._poll(ctx, deadline, CA_BUNDLE, lambda: self._ca_bundle_patched(ctx, deadline))
            self._poll(ctx, deadline, ENDPOINT, lambda: self._endpoint_ready(ctx, deadline))
            self._dry_run_until_admitted(ctx, deadline, probe)
        except _StageTimedOut as out:
            for line in self.diagnostics(ctx):
                ctx.reporter.info(line)
            raise IngressNotReady(
                f"{self.name} did not admit Ingresses within {cfg.ingress_timeout:g} s: still waiting for "
                f"{out.stage.awaited} (stage {out.stage.number}/{len(STAGES)}; last seen: {out.last})",
                hint="the controller's pods and the namespace's last events are shown above; a slow first pull "
                "of the controller image can take minutes: raise ingress_timeout (DEVCTL_INGRESS_TIMEOUT)",
            ) from None
        return f"{self.name} v{cfg.ingress_version} admits Ingresses ({probe.what} passed a server-side dry-run)"

    def _remove_stale_webhook(self, ctx: Context, seen: IngressState) -> None:
        # ingress-nginx.md §3: delete the configuration only when provably stale (its Service is gone);
        # deleting a live one to get past the start-up race would switch validation off.
        if not seen.leftover_webhook:
            return
        ctx.reporter.warn(
            f"validatingwebhookconfiguration {WEBHOOK_CONFIG} is left from an earlier install (its Service "
            f"{NAMESPACE}/{ADMISSION_SERVICE} is gone) and would fail every Ingress apply; deleting it"
        )
        ctx.kubectl.delete("validatingwebhookconfiguration", WEBHOOK_CONFIG)

    def _announce(self, ctx: Context, stage: Stage, deadline: _Deadline) -> None:
        ctx.reporter.info(
            f"{self.name}: [{stage.number}/{len(STAGES)}] waiting for {stage.awaited} "
            f"(at most {math.ceil(deadline.remaining())} s)"
        )

    def _wait_rollout(self, ctx: Context, deadline: _Deadline, source: str) -> None:
        self._announce(ctx, ROLLOUT, deadline)
        while True:
            seconds = max(1, math.ceil(deadline.remaining()))
            try:
                ctx.kubectl.rollout_status(f"deployment/{CONTROLLER}", namespace=NAMESPACE, timeout_s=seconds)
                return
            except CommandTimeout as err:
                last = str(err)
            except CommandError as err:
                if is_not_found(err.stderr):
                    raise DevctlError(
                        f"{source} did not create deployment {NAMESPACE}/{CONTROLLER}",
                        hint="is it ingress-nginx's kind manifest?",
                    ) from err
                said = (err.stdout.strip().splitlines() or [""])[-1]
                last = said or err.output_tail(1)
                if is_wait_timeout(err.stderr):
                    raise _StageTimedOut(ROLLOUT, last) from err
                if not is_transient(err.stderr):
                    raise
            if deadline.remaining() <= 0:
                raise _StageTimedOut(ROLLOUT, last)
            self.sleep(min(self.poll_interval, deadline.remaining()))

    def _poll(self, ctx: Context, deadline: _Deadline, stage: Stage, probe: Callable[[], tuple[bool, str]]) -> None:
        self._announce(ctx, stage, deadline)
        while True:
            try:
                done, last = probe()
            except CommandTimeout as err:
                done, last = False, str(err)
            except CommandError as err:
                if not is_transient(err.stderr):
                    raise
                done, last = False, err.output_tail(1)
            if done:
                return
            if deadline.remaining() <= 0:
                raise _StageTimedOut(stage, last)
            self.sleep(min(self.poll_interval, deadline.remaining()))

    def _ca_bundle_patched(self, ctx: Context, deadline: _Deadline) -> tuple[bool, str]:
        vwc = ctx.kubectl.get_json("validatingwebhookconfiguration", WEBHOOK_CONFIG, timeout=deadline.call_timeout())
        if vwc is None:
            return False, f"validatingwebhookconfiguration {WEBHOOK_CONFIG} not found"
        hooks = vwc.get("webhooks") or []
        if hooks and all((h.get("clientConfig") or {}).get("caBundle") for h in hooks):
            return True, ""
        return False, "caBundle empty (the admission-patch Job has not patched it yet)"

    def _endpoint_ready(self, ctx: Context, deadline: _Deadline) -> tuple[bool, str]:
        listing = ctx.kubectl.get_json(
            "endpointslices", namespace=NAMESPACE, selector=ADMISSION_SELECTOR, timeout=deadline.call_timeout()
        )
        slices = (listing or {}).get("items") or []
        if has_ready_endpoint(slices):
            return True, ""
        return False, f"service {ADMISSION_SERVICE} has no ready endpoint" + ("" if slices else " (no EndpointSlice)")

    def _dry_run_until_admitted(self, ctx: Context, deadline: _Deadline, probe: AdmissionProbe) -> None:
        self._announce(ctx, ADMISSION, deadline)
        delay = self.poll_interval
        retried = False
        while True:
            try:
                ctx.kubectl.apply(probe.manifest, server_dry_run=True, timeout=deadline.call_timeout())
                return
            except CommandTimeout as err:
                last = str(err)
            except CommandError as err:
                if is_denial(err.stderr):
                    raise self._denied(ctx, probe, err) from err
                if not is_transient(err.stderr):
                    hint = (
                        f"the webhook configuration points at a Service that is gone; run `devctl up` again to "
                        f"remove the stale {WEBHOOK_CONFIG}"
                        if is_stale_webhook(err.stderr)
                        else None
                    )
                    raise DevctlError(f"the server-side dry-run of {probe.what} failed", hint=hint) from err
                last = err.output_tail(1)
            if deadline.remaining() <= 0:
                raise _StageTimedOut(ADMISSION, last)
            if not retried:
                ctx.reporter.info(f"{self.name}: the webhook is not answering yet, retrying ({last})")
                retried = True
            self.sleep(min(delay, deadline.remaining()))
            delay = min(delay * 2, self.max_backoff)

    def _denied(self, ctx: Context, probe: AdmissionProbe, err: CommandError) -> AdmissionDenied:
        return AdmissionDenied(
            f"the {self.name} admission webhook denied {probe.what}: {denial_reason(err.stderr)}",
            hint="fix the manifest: regex paths need pathType: ImplementationSpecific, and one host+path may be "
            "defined in one Ingress only (ingress-nginx.md §4)",
        )

    # -- reporting ---------------------------------------------------------------------------------------

    def diagnostics(self, ctx: Context) -> list[str]:
        lines: list[str] = []
        try:
            pods = (ctx.kubectl.get_json("pods", namespace=NAMESPACE, timeout=15) or {}).get("items") or []
        except (CommandError, CommandTimeout) as err:
            lines.append(f"could not list the pods of namespace {NAMESPACE}: {err}")
        else:
            lines.append(f"pods in namespace {NAMESPACE}:")
            lines += [f"  {pod_summary(p)}" for p in pods] or ["  (none)"]
        try:
            events = (ctx.kubectl.get_json("events", namespace=NAMESPACE, timeout=15) or {}).get("items") or []
        except (CommandError, CommandTimeout) as err:
            lines.append(f"could not list the events of namespace {NAMESPACE}: {err}")
        else:
            lines.append(f"last events in namespace {NAMESPACE}:")
            lines += [f"  {e}" for e in recent_events(events)] or ["  (none)"]
        return lines

    def describe(self, ctx: Context) -> list[str]:
        cfg, k = ctx.cfg, ctx.kubectl
        seconds = f"{cfg.ingress_timeout:g}"
        return [
            f"delete validatingwebhookconfiguration {WEBHOOK_CONFIG} if it is left from an earlier install",
            f"{command_line(k.argv('apply', '-f', manifest_source(cfg)))}   # {self.name} v{cfg.ingress_version}",
            f"then wait at most {seconds} s in all, in order:",
            "  "
            + command_line(
                k.argv("-n", NAMESPACE, "rollout", "status", f"deployment/{CONTROLLER}", f"--timeout={seconds}s")
            ),
            "  poll "
            + command_line(
                k.argv("get", "validatingwebhookconfiguration", WEBHOOK_CONFIG, "-o", "json", "--ignore-not-found")
            )
            + "   # until the caBundle is set",
            "  poll "
            + command_line(k.argv("get", "endpointslices", "-n", NAMESPACE, "-l", ADMISSION_SELECTOR, "-o", "json"))
            + "   # until an endpoint is ready",
            "  "
            + command_line(k.argv("apply", "-f", "-", "--dry-run=server"))
            + f"   # {admission_probe(cfg).what}, retried only while the webhook is starting",
        ]
