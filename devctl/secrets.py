"""Dev secrets: the ``tour-secrets`` Secret the Deployments read through ``secretKeyRef``.

Values are generated with ``secrets.token_urlsafe`` the first time and kept across runs (a new value
would log every developer out of their running session). The Secret goes to kubectl on stdin, never on
the command line, so values do not appear in process listings or in `--verbose` output.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets as pysecrets
from dataclasses import dataclass

from devctl.context import Context
from devctl.stack import SECRET_KEYS, SECRET_NAME

NAMESPACE = "default"


@dataclass(frozen=True)
class SecretState:
    exists: bool
    values: dict[str, str]  # decoded; only the keys that are present

    @property
    def missing_keys(self) -> list[str]:
        return [k for k in SECRET_KEYS if not self.values.get(k)]


def read(ctx: Context) -> SecretState:
    """One kubectl call."""
    obj = ctx.kubectl.get_json("secret", SECRET_NAME, namespace=NAMESPACE)
    if obj is None:
        return SecretState(False, {})
    values: dict[str, str] = {}
    for key, b64 in (obj.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(b64).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            values[key] = ""
    return SecretState(True, values)


def manifest(values: dict[str, str]) -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": SECRET_NAME, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "devctl"}},
        "stringData": values,
    }
    return json.dumps(doc)


def ensure(ctx: Context, state: SecretState | None = None) -> str:
    """Create the Secret, or add the keys it lacks; existing values are never replaced."""
    st = state or read(ctx)
    missing = st.missing_keys
    if not missing:
        return "already present"
    values = dict(st.values)
    for key in missing:
        values[key] = pysecrets.token_urlsafe(48)
    # create/replace rather than apply: apply would copy the values into the
    # kubectl.kubernetes.io/last-applied-configuration annotation in plain text.
    doc = manifest({k: values[k] for k in SECRET_KEYS})
    if st.exists:
        ctx.kubectl.replace(doc)
    else:
        ctx.kubectl.create(doc)
    verb = "created" if not st.exists else "added " + ", ".join(missing) + " to"
    return f"{verb} secret {SECRET_NAME}"


@dataclass
class SecretsStep:
    name: str = "secrets"
    title: str = "Dev secrets"
    needs: tuple[str, ...] = ("cluster",)
    seen: SecretState | None = None  # what check read, so apply does not read it again

    def check(self, ctx: Context) -> str | None:
        self.seen = read(ctx)
        return f"{SECRET_NAME} has {', '.join(SECRET_KEYS)}" if not self.seen.missing_keys else None

    def apply(self, ctx: Context) -> str:
        return ensure(ctx, self.seen)

    def describe(self, ctx: Context) -> list[str]:
        return [
            f"ensure Secret {NAMESPACE}/{SECRET_NAME} with {', '.join(SECRET_KEYS)} "
            "(generated with secrets.token_urlsafe when missing; existing values kept)"
        ]
