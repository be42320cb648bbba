"""kubectl's command lines, as the fake kubectl reads them: every flag of the commands it answers, the
command path, and kubectl's refusals (docker-kubectl.md §3; kubectl v1.32.4 run on this machine)."""

from __future__ import annotations

from fakelib import flags


class Fail(Exception):
    def __init__(self, msg: str, code: int = 1) -> None:
        super().__init__(msg)
        self.code = code


# kubectl's flags, as `kubectl options` and `kubectl <command> --help` of kubectl v1.32.4 list them (run on this
# machine): every flag of the commands the fake answers, so a flag outside them is one kubectl refuses too.
# `--dry-run`, `--validate` and `--cascade` take an optional value (pflag NoOptDefVal).
GLOBAL = flags.spec(
    "--as= --as-group= --as-uid= --cache-dir= --certificate-authority= --client-certificate= --client-key= "
    "--cluster= --context= --disable-compression --insecure-skip-tls-verify --kubeconfig= --log-flush-frequency= "
    "--match-server-version -n,--namespace= --password= --profile= --profile-output= --request-timeout= "
    "-s,--server= --tls-server-name= --token= --user= --username= -v,--v= --vmodule= --warnings-as-errors -h,--help")
_PRINT = "--allow-missing-template-keys -o,--output= --show-managed-fields --template= "
COMMANDS: dict[tuple[str, ...], flags.Spec] = {
    ("get",): flags.spec(
        _PRINT + "-A,--all-namespaces --chunk-size= --field-selector= -f,--filename= --ignore-not-found "
        "-k,--kustomize= -L,--label-columns= --no-headers --output-watch-events --raw= -R,--recursive "
        "-l,--selector= --server-print --show-kind --show-labels --sort-by= --subresource= -w,--watch --watch-only"),
    ("apply",): flags.spec(
        _PRINT + "--all --cascade? --dry-run? --field-manager= -f,--filename= --force --force-conflicts "
        "--grace-period= -k,--kustomize= --openapi-patch --overwrite --prune --prune-allowlist= -R,--recursive "
        "-l,--selector= --server-side --subresource= --timeout= --validate? --wait"),
    ("create",): flags.spec(
        _PRINT + "--dry-run? --edit --field-manager= -f,--filename= -k,--kustomize= --raw= -R,--recursive "
        "--save-config -l,--selector= --validate? --windows-line-endings"),
    ("create", "namespace"): flags.spec(_PRINT + "--dry-run? --field-manager= --save-config --validate?"),
    ("create", "secret", "generic"): flags.spec(
        _PRINT + "--append-hash --dry-run? --field-manager= --from-env-file= --from-file= --from-literal= "
        "--save-config --type= --validate?"),
    ("delete",): flags.spec(
        "--all -A,--all-namespaces --cascade? --dry-run? --field-selector= -f,--filename= --force --grace-period= "
        "--ignore-not-found -i,--interactive -k,--kustomize= --now -o,--output= --raw= -R,--recursive "
        "-l,--selector= --timeout= --wait"),
    ("replace",): flags.spec(
        _PRINT + "--cascade? --dry-run? --field-manager= -f,--filename= --force --grace-period= -k,--kustomize= "
        "--raw= -R,--recursive --save-config --subresource= --timeout= --validate? --wait"),
    ("rollout", "status"): flags.spec(
        "-f,--filename= -k,--kustomize= -R,--recursive --revision= -l,--selector= --timeout= -w,--watch"),
    ("logs",): flags.spec(
        "--all-containers --all-pods -c,--container= -f,--follow --ignore-errors --insecure-skip-tls-verify-backend "
        "--limit-bytes= --max-log-requests= --pod-running-timeout= --prefix -p,--previous -l,--selector= --since= "
        "--since-time= --tail= --timestamps"),
    ("wait",): flags.spec(
        _PRINT + "--all -A,--all-namespaces --field-selector= -f,--filename= --for= --local -R,--recursive "
        "-l,--selector= --timeout="),
    ("label",): flags.spec(
        _PRINT + "--all -A,--all-namespaces --dry-run? --field-manager= --field-selector= -f,--filename= "
        "-k,--kustomize= --list --local --overwrite -R,--recursive --resource-version= -l,--selector="),
    ("exec",): flags.spec("-c,--container= -f,--filename= --pod-running-timeout= -q,--quiet -i,--stdin -t,--tty"),
    ("port-forward",): flags.spec("--address= --pod-running-timeout="),
    ("cluster-info",): flags.spec(""),
    ("version",): flags.spec("--client -o,--output="),
    ("config", "get-contexts"): flags.spec("--no-headers -o,--output="),
    ("config", "current-context"): flags.spec(""),
    ("config", "use-context"): flags.spec(""),
}
_GROUPS = {"rollout", "config"}  # commands that only hold subcommands
# Commands whose missing context reads "Error in configuration: ..." unless -n is given (the resource
# builder's error); every other command, and these with -n, say `error: context "X" does not exist`
# (docker-kubectl.md §3, kubectl v1.32.4 run on this machine for each command below).
BUILDER_VERBS = {"get", "rollout", "delete", "logs", "label"}


class Args:
    """A kubectl command line: the command path, the flags (by their kubectl spelling: ``-n``, ``-o``, ``-l``,
    ``-f``, ``-c`` for the ones with a shorthand, ``--<name>`` otherwise) and the arguments in order."""

    def __init__(self, argv: list[str]) -> None:
        self.path = _command_path(argv)
        rest = list(argv)
        for word in self.path:
            rest.remove(word)
        # What follows `--` is the command of `exec` (cobra's ArgsLenAtDash): kept, with the `--`, in pos.
        after = rest[rest.index("--"):] if "--" in rest else []
        rest = rest[: len(rest) - len(after)]
        spec = COMMANDS.get(self.path, flags.spec("")) + GLOBAL
        try:
            parsed = flags.parse(rest, spec)
        except flags.FlagError as e:
            # cobra's error with kubectl's hint (docker-kubectl.md §3: capital E, exit 1).
            raise Fail(f"Error: {e}\nSee 'kubectl {' '.join(self.path)} --help' for usage.") from None
        self.flags: dict[str, str] = {}
        self.multi: dict[str, list[str]] = {}
        self.bools: set[str] = set()
        for f in spec.flags:
            key = f"-{f.short}" if f.short else f"--{f.name}"
            if f.name in parsed.values:
                self.flags[key] = parsed.values[f.name][-1]
                self.multi[key] = parsed.values[f.name]
            if parsed.bools.get(f.name):
                self.bools.update({f"--{f.name}", key})
        self.pos = [*self.path, *parsed.args, *after]

    def get(self, k: str, default: str | None = None) -> str | None:
        return self.flags.get(k, default)


def _takes_next(arg: str, spec: flags.Spec) -> bool | None:
    """Whether the flag ``arg`` consumes the next word (None: ``spec`` does not know it)."""
    name = arg.split("=", 1)[0]
    flag = spec.long(name[2:]) if name.startswith("--") else spec.short(name[1:2])
    if flag is None:
        return None
    return flag.kind == "value" and "=" not in arg and (name.startswith("--") or len(arg) == 2)


_ANY = GLOBAL + flags.Spec(tuple(f for spec in COMMANDS.values() for f in spec.flags))


def _command_path(argv: list[str]) -> tuple[str, ...]:
    """The command words: before the first one only global flags may stand (kubectl's plugin handler
    refuses any other: `Error: flags cannot be placed before plugin name: --x`, kubectl v1.32.4)."""
    words: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            continue
        takes = _takes_next(arg, GLOBAL if not words else _ANY)
        if takes is None and not words:
            raise Fail(f"Error: flags cannot be placed before plugin name: {arg}")
        i += 1 if takes else 0
    if not words:
        return ()
    for length in (3, 2):
        if tuple(words[:length]) in COMMANDS:
            return tuple(words[:length])
    verb = words[0]
    if verb in _GROUPS:
        sub = words[1] if len(words) > 1 else ""
        raise Fail(f'error: unknown command "{sub}"\nSee \'kubectl {verb} -h\' for help and examples')
    if (verb,) not in COMMANDS:
        raise Fail(f'Error: unknown command "{verb}" for "kubectl"')
    return (verb,)
