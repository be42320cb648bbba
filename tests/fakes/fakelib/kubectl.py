"""Fake `kubectl` (client v1.35): contexts from the real $KUBECONFIG, one object store per context.

A call without --context acts on the kubeconfig's current context, exactly like kubectl, and lands in
that context's store: a test that points the current context at "prod" can see any call that escaped
devctl's pinning (in the call log and in prod's store).

Texts are kubectl's own (general knowledge of kubectl's messages; ingress-nginx.md §3 for `rollout
status` and `wait` on zero pods; kind.md §8 for the refused connection of a stopped node).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any

from fakelib import cluster_objects as co
from fakelib import sim_pods, sims, state
from fakelib.kubectl_args import BUILDER_VERBS, Args, Fail


def main(argv: list[str]) -> int:
    try:
        return run(Args(argv))
    except Fail as f:
        sys.stderr.write(str(f) + "\n")
        return f.code


def resolve_context(a: Args) -> str:
    ctx = a.get("--context") or state.current_context()
    if not ctx:
        raise Fail("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
    if ctx not in state.context_names():
        if a.path[0] in BUILDER_VERBS and a.get("-n") is None and not a.get("--raw"):
            raise Fail(f"Error in configuration: context was not found for specified context: {ctx}")
        raise Fail(f'error: context "{ctx}" does not exist')
    return ctx


def require_reachable(ctx: str, a: Args) -> None:
    """A kind context answers only while its control-plane container runs (kind.md §8); what kubectl says
    then depends on the command (docker-kubectl.md §3, kubectl v1.32.4 against a closed port)."""
    if not ctx.startswith("kind-"):
        return
    s = state.read()
    node = s["docker"]["containers"].get(f"{ctx[5:]}-control-plane")
    if s["docker"]["daemon"] == "up" and node is not None and node["state"] == "running":
        return
    server = next((c["cluster"]["server"] for c in state.read_kubeconfig()["clusters"] if c["name"] == ctx),
                  "https://127.0.0.1:6443")
    hostport = server.split("://", 1)[-1]
    refused = f"dial tcp {hostport}: connect: connection refused"
    if a.path == ("apply",):
        raise Fail(f'error: error validating "{_source_label(a)}": error validating data: failed to download openapi: '
                   f'Get "{server}/openapi/v2?timeout=32s": {refused}; if you choose to ignore these errors, turn '
                   "validation off with --validate=false")
    last = f"The connection to the server {hostport} was refused - did you specify the right host or port?"
    if a.get("--raw"):
        raise Fail(last)
    # client-go's discovery cache logs each failed attempt before kubectl gives up (memcache.go:265).
    timeout = a.get("--request-timeout") or "32s"
    stamp = time.strftime("E%m%d %H:%M:%S.000000", time.gmtime())
    line = (f'{stamp}   {os.getpid()} memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group '
            f'list: Get \\"{server}/api?timeout={timeout}\\": {refused}"')
    raise Fail("\n".join([line] * (5 if a.path == ("get",) else 4) + [last]))


def _source_label(a: Args) -> str:
    src = a.get("-f") or ""
    return "STDIN" if src == "-" else src


def run(a: Args) -> int:
    if not a.path:
        raise Fail("error: You must specify the type of resource to get.")
    verb = a.path[0]
    if verb == "version" and "--client" in a.bools:
        v = {"clientVersion": {"major": "1", "minor": "35", "gitVersion": "v1.35.0"}}
        if a.get("-o") == "json":
            sys.stdout.write(json.dumps(v, indent=2) + "\n")
        else:
            sys.stdout.write("Client Version: v1.35.0\nKustomize Version: v5.7.1\n")
        return 0
    if verb == "config":
        return config(a)
    ctx = resolve_context(a)
    require_reachable(ctx, a)
    handler = {"get": get, "apply": apply, "create": create, "delete": delete, "rollout": rollout,
               "logs": logs, "cluster-info": cluster_info, "wait": wait, "label": label,
               "replace": replace, "exec": exec_in_pod, "port-forward": port_forward,
               "version": server_version}[verb]
    return handler(a, ctx)


def server_version(a: Args, ctx: str) -> int:
    sys.stdout.write("Client Version: v1.35.0\nKustomize Version: v5.7.1\nServer Version: v1.35.0\n")
    return 0


def config(a: Args) -> int:
    sub = a.pos[1] if len(a.pos) > 1 else ""
    kc = state.read_kubeconfig()
    if sub == "get-contexts" and a.get("-o") == "name":
        for c in kc["contexts"]:
            sys.stdout.write(c["name"] + "\n")
        return 0
    if sub == "current-context":
        if not kc.get("current-context"):
            raise Fail("error: current-context is not set")
        sys.stdout.write(kc["current-context"] + "\n")
        return 0
    if sub == "use-context":
        kc["current-context"] = a.pos[2]
        state.write_kubeconfig(kc)
        sys.stdout.write(f'Switched to context "{a.pos[2]}".\n')
        return 0
    raise Fail(f"error: unknown config subcommand {sub}")


def cluster_info(a: Args, ctx: str) -> int:
    sys.stdout.write(f"Kubernetes control plane is running at https://127.0.0.1:6443 (context {ctx})\n")
    return 0


# -- reading -----------------------------------------------------------------------------------------


def resource_kind(res: str) -> tuple[str, bool]:
    if res not in co.RESOURCES:
        raise Fail(f'error: the server doesn\'t have a resource type "{res}"')
    return co.RESOURCES[res]


def all_objects(ctx: str) -> dict[str, Any]:
    from fakelib import image_pull

    with state.txn() as s:
        pull = image_pull.puller(s, ctx)
        objs = co.store(s, ctx)["objects"]
        for o in objs.values():
            co.refresh_status(o, pull)
        sims.refresh(objs)
        merged = dict(objs)
        knobs = dict(s["knobs"])
    merged.update(co.derived_pods(merged, knobs, pull))
    return merged


def select(objs: dict[str, Any], kind: str, ns: str | None, selector: str | None) -> list[dict[str, Any]]:
    out = []
    for k, o in sorted(objs.items()):
        okind, ons, _ = k.split("/", 2)
        if okind != kind or (ns is not None and ons != ns and kind not in co.CLUSTER_SCOPED):
            continue
        if selector and not matches(o.get("metadata", {}).get("labels", {}) or {}, selector):
            continue
        out.append(o)
    return out


def matches(labels: dict[str, str], selector: str) -> bool:
    for term in selector.split(","):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.strip().rstrip("=")) != v.strip().lstrip("="):
                return False
        elif term.strip() and term.strip() not in labels:
            return False
    return True


def not_found(kind: str, obj: dict[str, Any] | None, name: str, group: str = "") -> Fail:
    res = co.plural(kind) + (f".{group}" if group else "")
    return Fail(f'Error from server (NotFound): {res} "{name}" not found')


GROUPS = {"Deployment": "apps", "Ingress": "networking.k8s.io", "Job": "batch", "EndpointSlice": "discovery.k8s.io",
          "ValidatingWebhookConfiguration": "admissionregistration.k8s.io", "IngressClass": "networking.k8s.io"}


def get(a: Args, ctx: str) -> int:
    if a.get("--raw"):
        if a.get("--raw") in ("/readyz", "/healthz", "/livez"):
            sys.stdout.write("ok")
            return 0
        from fakelib import service_proxy  # the API server's service proxy (see that module)

        if service_proxy.PATH.match(a.get("--raw") or ""):
            return service_proxy.write_or_fail(a.get("--raw") or "", all_objects(ctx))
        raise Fail('Error from server (NotFound): the server could not find the requested resource')
    if len(a.pos) < 2:
        raise Fail("error: You must specify the type of resource to get.")
    target = a.pos[1]
    name = a.pos[2] if len(a.pos) > 2 else None
    if "/" in target:
        target, name = target.split("/", 1)
    kinds = [resource_kind(r) for r in target.split(",")]
    ns = None if "-A" in a.bools or "--all-namespaces" in a.bools else a.get("-n", "default")
    objs = all_objects(ctx)
    items: list[dict[str, Any]] = []
    for kind, _ in kinds:
        found = select(objs, kind, ns, a.get("-l"))
        if name:
            found = [o for o in found if o["metadata"]["name"] == name]
            if not found:
                if "--ignore-not-found" in a.bools:
                    return 0
                raise not_found(kind, None, name, GROUPS.get(kind, ""))
        items.extend(sim_pods.field_selected(found, a.get("--field-selector")))
    return output(a, items, single=bool(name) and len(kinds) == 1, ns=ns)


def output(a: Args, items: list[dict[str, Any]], *, single: bool, ns: str | None) -> int:
    fmt = a.get("-o") or ""
    doc: Any = items[0] if single and items else {"apiVersion": "v1", "kind": "List", "items": items,
                                                  "metadata": {"resourceVersion": ""}}
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=4) + "\n")
    elif fmt == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(doc, sort_keys=False))
    elif fmt == "name":
        for o in items:
            sys.stdout.write(co.display(o) + "\n")
    elif fmt.startswith("jsonpath="):
        sys.stdout.write(jsonpath(doc, fmt[len("jsonpath="):]))
    elif not items:
        where = f"in {ns} namespace" if ns else ""
        sys.stderr.write(f"No resources found {where}.\n".replace("  ", " ").replace(" .", "."))
    else:
        sys.stdout.write("NAME\n" + "".join(o["metadata"]["name"] + "\n" for o in items))
    return 0


def jsonpath(doc: Any, expr: str) -> str:
    """kubectl's JSONPath for the forms devctl uses: {.a.b}, {.a[0].b}, {.items[*].a}, literal text."""
    out = []
    for literal, path in re.findall(r"([^{]*)(?:\{([^}]*)\})?", expr.strip("'")):
        out.append(literal)
        if not path:
            continue
        vals = [doc]
        for part in re.findall(r"\.([^.\[]+)|\[([^\]]*)\]", path.replace("@", "")):
            field_name, idx = part
            nxt: list[Any] = []
            for v in vals:
                if field_name:
                    if isinstance(v, dict) and field_name in v:
                        nxt.append(v[field_name])
                elif idx == "*":
                    nxt.extend(v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else [])
                elif isinstance(v, list) and idx.lstrip("-").isdigit() and -len(v) <= int(idx) < len(v):
                    nxt.append(v[int(idx)])
            vals = nxt
        out.append(" ".join(json.dumps(v) if isinstance(v, (dict, list)) else
                            ("true" if v is True else "false" if v is False else str(v)) for v in vals))
    return "".join(out)


# -- writing -----------------------------------------------------------------------------------------


def load_docs(a: Args) -> tuple[list[dict[str, Any]], str]:
    import os

    import yaml

    src = a.get("-f")
    if not src:
        raise Fail("error: must specify one of -f and -k")
    if src == "-":
        texts, label = [sys.stdin.read()], "STDIN"
    elif os.path.isdir(src):
        files = sorted(os.path.join(src, f) for f in os.listdir(src) if f.endswith((".yaml", ".yml", ".json")))
        texts, label = [open(f, encoding="utf-8").read() for f in files], src
    elif src.startswith("http://") or src.startswith("https://"):
        # The fake has no network; tests serve manifests from a local path.
        raise Fail(f'error: unable to read URL "{src}", server reported 404 Not Found, status code=404')
    else:
        try:
            texts, label = [open(src, encoding="utf-8").read()], src
        except FileNotFoundError:
            raise Fail(f'error: the path "{src}" does not exist') from None
    docs: list[dict[str, Any]] = []
    for t in texts:
        try:
            found = [d for d in yaml.safe_load_all(t) if d]
        except yaml.YAMLError as e:
            raise Fail(f'error: error parsing {label}: error converting YAML to JSON: {e}') from None
        for d in found:
            # A v1 List is applied as its items (kubectl's resource builder flattens it; kubernetes/kubectl#837,
            # and the List kubernetes.io's ResourceQuota page applies with `kubectl create -f`).
            is_list = isinstance(d, dict) and d.get("kind") == "List" and d.get("apiVersion") == "v1"
            docs.extend((x for x in d.get("items") or [] if x) if is_list else [d])
    return docs, label


def apply(a: Args, ctx: str) -> int:
    docs, label = load_docs(a)
    dry = a.get("--dry-run")
    ns_flag = a.get("-n")
    code = 0
    for doc in docs:
        kind = doc.get("kind")
        md = doc.get("metadata") or {}
        if not kind or not md.get("name"):
            raise Fail(f'error: error validating "{label}": error validating data: [apiVersion not set, kind not set]; '
                       "if you choose to ignore these errors, turn validation off with --validate=false")
        namespaced = kind not in co.CLUSTER_SCOPED
        ns = (md.get("namespace") or ns_flag or "default") if namespaced else ""
        with state.txn() as s:
            st = co.store(s, ctx)
            objs = st["objects"]
            if namespaced and co.key("Namespace", "", ns) not in objs and not any(
                    d.get("kind") == "Namespace" and d["metadata"]["name"] == ns for d in docs):
                sys.stderr.write(f'Error from server (NotFound): error when creating "{label}": namespaces "{ns}" '
                                 "not found\n")
                code = 1
                continue
            k = co.key(kind, ns, md["name"])
            old = objs.get(k)
        # Admission runs outside the lock: a webhook simulation may sleep or count calls.
        denial = sims.admit(ctx, doc, dry_run=dry == "server")
        if denial:
            sys.stderr.write(denial.replace("{label}", label) + "\n")
            code = 1
            continue
        new = json.loads(json.dumps(doc))
        new_md = new.setdefault("metadata", {})
        if namespaced:
            new_md["namespace"] = ns
        suffix = " (server dry run)" if dry == "server" else " (dry run)" if dry == "client" else ""
        if old is None:
            verb = "created"
        elif _spec(old) == _spec(new):
            verb = "unchanged"
        else:
            verb = "configured"
        if not dry:
            with state.txn() as s:
                objs = co.store(s, ctx)["objects"]
                prev = objs.get(k)
                new_md["creationTimestamp"] = (prev or {}).get("metadata", {}).get("creationTimestamp") or co._now()
                ann = new_md.setdefault("annotations", {})
                # kubectl apply records what it applied, as given (stringData included, in plain text), with the
                # namespace the resource builder set (SetNamespace) and its annotations, `{}` when there are none
                # (pkg/util/apply.go GetModifiedConfiguration), encoded as Go's json does (sorted keys, no spaces).
                recorded = json.loads(json.dumps(doc))
                recorded_md = recorded.setdefault("metadata", {})
                if namespaced:
                    recorded_md["namespace"] = ns
                recorded_md["annotations"] = dict(recorded_md.get("annotations") or {})
                ann["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
                    recorded, sort_keys=True, separators=(",", ":"))
                if prev is not None and verb == "unchanged":
                    ann["fake/applied-at"] = prev["metadata"].get("annotations", {}).get("fake/applied-at", time.time())
                else:
                    ann["fake/applied-at"] = time.time()
                if "status" in (prev or {}) and verb == "unchanged":
                    new["status"] = prev["status"]  # type: ignore[index]
                objs[k] = store_form(new)
                sims.on_applied(objs, new)
        sys.stdout.write(f"{co.display(new)} {verb}{suffix}\n")
    return code


def _spec(o: dict[str, Any]) -> str:
    c = {k: v for k, v in o.items() if k not in ("status",)}
    md = dict(c.get("metadata", {}))
    for volatile in ("creationTimestamp", "uid", "resourceVersion"):
        md.pop(volatile, None)
    ann = {k: v for k, v in (md.get("annotations") or {}).items()
           if not k.startswith("fake/") and k != "kubectl.kubernetes.io/last-applied-configuration"}
    md["annotations"] = ann
    c["metadata"] = md
    return json.dumps(c, sort_keys=True)


def store_form(doc: dict[str, Any]) -> dict[str, Any]:
    """What the API server stores: a Secret's write-only stringData is merged into base64 data."""
    if doc.get("kind") == "Secret" and doc.get("stringData"):
        import base64

        data = dict(doc.get("data") or {})
        for k, v in doc.pop("stringData").items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        doc["data"] = data
    return doc


def create_or_replace_from_file(a: Args, ctx: str, replace: bool) -> int:
    docs, label = load_docs(a)
    for doc in docs:
        kind, md = doc["kind"], doc["metadata"]
        ns = "" if kind in co.CLUSTER_SCOPED else md.get("namespace") or a.get("-n", "default") or "default"
        k = co.key(kind, ns, md["name"])
        group = GROUPS.get(kind, "")
        res = co.plural(kind) + (f".{group}" if group else "")
        with state.txn() as s:
            objs = co.store(s, ctx)["objects"]
            if replace and k not in objs:
                raise Fail(f'Error from server (NotFound): error when replacing "{label}": {res} "{md["name"]}" '
                           "not found")
            if not replace and k in objs:
                raise Fail(f'Error from server (AlreadyExists): error when creating "{label}": {res} '
                           f'"{md["name"]}" already exists')
            new = store_form(json.loads(json.dumps(doc)))
            new["metadata"]["creationTimestamp"] = (objs.get(k) or {}).get("metadata", {}).get(
                "creationTimestamp") or co._now()
            if ns:
                new["metadata"]["namespace"] = ns
            objs[k] = new
        sys.stdout.write(f"{co.display(new)} {'replaced' if replace else 'created'}\n")
    return 0


def replace(a: Args, ctx: str) -> int:
    return create_or_replace_from_file(a, ctx, replace=True)


def create(a: Args, ctx: str) -> int:
    if a.get("-f"):
        return create_or_replace_from_file(a, ctx, replace=False)
    what = a.pos[1] if len(a.pos) > 1 else ""
    if what == "namespace":
        doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": a.pos[2]}}
        ns = ""
    elif what == "secret" and len(a.pos) > 3 and a.pos[2] == "generic":
        import base64

        ns = a.get("-n", "default") or "default"
        data = {}
        for lit in a.multi.get("--from-literal", []):
            k, _, v = lit.partition("=")
            data[k] = base64.b64encode(v.encode()).decode()
        doc = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": a.pos[3], "namespace": ns}, "data": data}
    else:
        raise Fail(f"error: unknown create target {what}")
    if a.get("--dry-run") == "client":
        import yaml

        sys.stdout.write(yaml.safe_dump(doc, sort_keys=False))
        return 0
    kind = doc["kind"]
    with state.txn() as s:
        objs = co.store(s, ctx)["objects"]
        k = co.key(kind, ns, doc["metadata"]["name"])
        if k in objs:
            raise Fail(f'error: failed to create {kind.lower()} {co.plural(kind)} "{doc["metadata"]["name"]}" '
                       "already exists")
        doc["metadata"]["creationTimestamp"] = co._now()
        objs[k] = doc
    sys.stdout.write(f"{co.display(doc)} created\n")
    return 0


def delete(a: Args, ctx: str) -> int:
    ignore = "--ignore-not-found" in a.bools
    targets: list[tuple[str, str, str]] = []
    if a.get("-f"):
        docs, _ = load_docs(a)
        for d in docs:
            kind = d["kind"]
            ns = "" if kind in co.CLUSTER_SCOPED else d["metadata"].get("namespace") or a.get("-n", "default") or ""
            targets.append((kind, ns, d["metadata"]["name"]))
    else:
        res = a.pos[1]
        names = a.pos[2:]
        if "/" in res:
            res, names = res.split("/", 1)[0], [res.split("/", 1)[1]]
        kind, namespaced = resource_kind(res)
        ns = a.get("-n", "default") or "default" if namespaced else ""
        if "-A" in a.bools and not names:
            raise Fail("error: resource(s) were provided, but no name was specified")
        targets = [(kind, ns, n) for n in names]
    code = 0
    for kind, ns, name in targets:
        with state.txn() as s:
            objs = co.store(s, ctx)["objects"]
            gone = objs.pop(co.key(kind, ns, name), None)
            if kind == "Namespace" and gone is not None:
                for k in [k for k in objs if k.split("/", 2)[1] == name]:
                    del objs[k]
        group = GROUPS.get(kind, "")
        res = co.plural(kind) + (f".{group}" if group else "")
        if gone is None:
            if not ignore:
                sys.stderr.write(f'Error from server (NotFound): {res} "{name}" not found\n')
                code = 1
            continue
        sys.stdout.write(f'{res.rstrip("s") if False else co.display(gone).split("/")[0]} "{name}" deleted\n')
    return code


def label(a: Args, ctx: str) -> int:
    raise Fail("error: label is not simulated by the fake")


def rollout(a: Args, ctx: str) -> int:
    if len(a.pos) < 3 or a.pos[1] != "status":
        raise Fail("error: only `rollout status` is simulated")
    target = a.pos[2]
    res, _, name = target.partition("/")
    if not name and len(a.pos) > 3:
        name = a.pos[3]
    kind, _ = resource_kind(res)
    ns = a.get("-n", "default") or "default"
    timeout = _seconds(a.get("--timeout", "0s") or "0s")
    deadline = time.time() + (timeout if timeout > 0 else 1e9)
    printed = False
    while True:
        objs = all_objects(ctx)
        obj = objs.get(co.key(kind, ns, name))
        if obj is None:
            raise not_found(kind, None, name, GROUPS.get(kind, ""))
        stt = obj.get("status", {})
        want = int(obj.get("spec", {}).get("replicas", 1))
        if int(stt.get("availableReplicas", 0)) >= want:
            sys.stdout.write(f'deployment "{name}" successfully rolled out\n')
            return 0
        if not printed:
            sys.stdout.write(f'Waiting for deployment "{name}" rollout to finish: 0 of {want} updated replicas are '
                             "available...\n")
            sys.stdout.flush()
            printed = True
        if time.time() >= deadline:
            raise Fail("error: timed out waiting for the condition")
        time.sleep(0.05)


def wait(a: Args, ctx: str) -> int:
    # ingress-nginx.md §3 (kind#2293): waiting on a selector with zero matches fails at once.
    sel = a.get("-l")
    res = a.pos[1] if len(a.pos) > 1 else "pods"
    kind, _ = resource_kind(res)
    items = select(all_objects(ctx), kind, a.get("-n", "default"), sel)
    if not items:
        raise Fail("error: no matching resources found")
    for o in items:
        sys.stdout.write(f"{co.display(o)} condition met\n")
    return 0


def logs(a: Args, ctx: str) -> int:
    from fakelib import pod_logs

    return pod_logs.logs(a, ctx)


def exec_in_pod(a: Args, ctx: str) -> int:
    from fakelib import pod_exec

    return pod_exec.exec_in_pod(a, ctx)


def port_forward(a: Args, ctx: str) -> int:
    from fakelib import port_forward as pf

    return pf.port_forward(a, ctx)


def _seconds(text: str) -> float:
    total = 0.0
    for num, unit in re.findall(r"([\d.]+)(ms|s|m|h)?", text):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}[unit]
    return total
