"""Fake `skaffold` (v2.24.0): version, build; `dev` is simulated in fakelib/skaffold_dev.py.

Facts: skaffold.md §1 (version output, apiVersions), §2 (flags; unknown flag -> exit 127), §3 (console
lines), §6 (default repo from the cluster's ConfigMap). Paths below are in GoogleContainerTools/skaffold.
"""

from __future__ import annotations

import sys

from fakelib import flags, skaffold_images, state

VERSION = "v2.24.0"
CONFIG_VERSION = "skaffold/v4beta14"

# cmd/skaffold/app/cmd/cmd.go: the root's persistent flags (--force-colors is hidden).
GLOBAL = flags.spec("-v,--verbosity= --color= --force-colors --interactive --update-check --timestamps -h,--help")
# cmd/skaffold/app/cmd/flags.go: every flag whose DefinedOn lists "dev" (resp. "build", or "all"), hidden ones
# included; --port-forward and --status-check have a NoOptDefVal; build's own flags are in cmd/build.go.
_COMMON = ("-f,--filename= -m,--module= -u,--user= -p,--profile= -n,--namespace= -d,--default-repo= "
           "--cache-artifacts --cache-file= --remote-cache-dir= --sync-remote-cache= --insecure-registry= "
           "--enable-rpc --wait-for-connection --event-log-file= --last-log-file= --rpc-port= --rpc-http-port= "
           "--toot -c,--config= --kube-context= --kubeconfig= -t,--tag= --platform= --minikube-profile= "
           "--profile-auto-activation --propagate-profiles --mute-logs= --detect-minikube --assume-yes "
           "--build-concurrency= --disable-multi-platform-build --check-cluster-node-platforms ")
DEV = flags.spec(
    _COMMON + "-l,--label= --tail --force --skip-tests --cleanup --no-prune --no-prune-children --port-forward? "
    "--status-check? --iterative-status-check --tolerate-failures-until-deadline --fast-fail-status-check "
    "--render-only --auto --trigger= --auto-build --auto-sync --auto-deploy -w,--watch-image= "
    "-i,--watch-poll-interval= --wait-for-deletions --wait-for-deletions-max= --wait-for-deletions-delay= "
    "--auto-create-config --digest-source= --hydration-dir= --resource-selector-rules-file= "
    "--enable-platform-node-affinity --enable-gke-arm-node-toleration --cloud-run-project= --cloud-run-location= "
    "--keep-running-on-failure --status-check-selectors=") + GLOBAL
BUILD = flags.spec(_COMMON + "--skip-tests -b,--build-image= -q,--quiet -o,--output= --file-output= --dry-run "
                             "--push?") + GLOBAL
VERSION_FLAGS = flags.spec("-o,--output=") + GLOBAL
INT_FLAGS = ("rpc-port", "rpc-http-port", "watch-poll-interval", "build-concurrency", "color")
USAGE = {
    "dev": "Usage:\n  skaffold dev [options]\n\n"
           'Use "skaffold options" for a list of global command-line options (applies to all commands).\n',
    "build": "Usage:\n  skaffold build [options]\n\n"
             'Use "skaffold options" for a list of global command-line options (applies to all commands).\n',
    "version": "Usage:\n  skaffold version [options]\n\n"
               'Use "skaffold options" for a list of global command-line options (applies to all commands).\n',
}


class UsageFail(Exception):
    pass


def parse(command: str, argv: list[str]) -> flags.Parsed:
    """A command line as cobra reads it; raises UsageFail with pflag's text (or cobra's for arguments)."""
    try:
        a = flags.parse(argv, {"dev": DEV, "build": BUILD, "version": VERSION_FLAGS}[command])
    except flags.FlagError as e:
        raise UsageFail(str(e)) from None
    for name in INT_FLAGS:
        for value in a.all(name):
            if not value.lstrip("-").isdigit():
                raise UsageFail(f'invalid argument "{value}" for "--{name}" flag: strconv.ParseInt: parsing '
                                f'"{value}": invalid syntax')
    if a.args:
        # NoArgs commands (cmd/skaffold/app/cmd/commands.go): cobra's "unknown command" for an argument.
        raise UsageFail(f'unknown command "{a.args[0]}" for "skaffold {command}"')
    return a


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("A tool that facilitates continuous development for Kubernetes applications.\n")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in USAGE:
        # cmd/skaffold/app/exitcode.go: cobra's usage errors exit 127; the root's text (no usage: the root
        # has subcommands, cobra prints only the error when it cannot find one).
        sys.stderr.write(f'unknown command "{cmd}" for "skaffold"\n')
        return 127
    try:
        a = parse(cmd, rest)
    except UsageFail as err:
        # skaffold.md §4: cobra prints the usage (flag errors come before PersistentPreRunE silences it),
        # then skaffold's main prints the error; exit 127.
        sys.stderr.write(USAGE[cmd] + "\n" + str(err) + "\n")
        return 127
    if cmd == "version":
        fmt = a.get("output")
        out = fmt.replace("{{.ConfigVersion}}", CONFIG_VERSION).replace("{{.Version}}", VERSION) if fmt else VERSION
        sys.stdout.write(out + "\n")  # skaffold.md §1
        return 0
    if cmd == "dev":
        from fakelib import skaffold_dev

        return skaffold_dev.main(a, rest)
    return build(a)


def build(a: flags.Parsed) -> int:
    """`skaffold build`: the images, tagged as the cluster makes them (skaffold.md §6), into the local
    Docker; pushed only with --push (or a remote cluster, which the fake does not play)."""
    state.sleep_knob("image_build_delay")
    context = a.get("kube-context") or state.current_context()
    repo = skaffold_images.default_repo(a, context)
    sys.stdout.write("Generating tags...\nChecking cache...\nStarting build...\n")
    images = [skaffold_images.image_name(img, repo.host) for img in skaffold_images.artifact_images(a)]
    with state.txn() as s:
        s["docker"]["images"] = sorted(set(s["docker"]["images"]) | {"built", *images})
    return 0
