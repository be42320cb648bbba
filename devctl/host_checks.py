"""Facts and checks of the machine devctl runs on that are not about Docker: the platform (native Windows,
WSL) and Linux's inotify limits."""

from __future__ import annotations

from pathlib import Path

from devctl.check import Check

PROC_VERSION = Path("/proc/version")

# devctl needs process groups (os.setsid, killpg) and fcntl locks: POSIX only. On Windows it runs inside WSL2.
NATIVE_WINDOWS = (
    "ERROR: devctl does not run on native Windows (it needs POSIX process groups and fcntl locks) — run it "
    "inside WSL2, with Docker Desktop's WSL integration turned on for that distribution"
)

# kind docs/user/known-issues.md, "Pod errors due to too many open files": Ubuntu's defaults (8192 and 128)
# are not enough; kind recommends these. Skaffold's file watching uses inotify too (skaffold.md §7 item 10).
INOTIFY_RECOMMENDED = {"max_user_watches": 524288, "max_user_instances": 512}
INOTIFY_DIR = Path("/proc/sys/fs/inotify")


def read_inotify(directory: Path = INOTIFY_DIR) -> dict[str, int] | None:
    """The two limits, or None where they cannot be read (not Linux)."""
    out: dict[str, int] = {}
    for name in INOTIFY_RECOMMENDED:
        try:
            out[name] = int((directory / name).read_text().strip())
        except (OSError, ValueError):
            return None
    return out


def check_inotify(values: dict[str, int] | None, engine_local: bool) -> Check | None:
    """Below kind's recommendation: the sysctl lines that raise the limits now and after a reboot."""
    if values is None:
        return None
    low = {k: v for k, v in values.items() if v < INOTIFY_RECOMMENDED[k]}
    seen = ", ".join(f"fs.inotify.{k} = {v}" for k, v in values.items())
    where = (
        ""
        if engine_local
        else " (these are this machine's, used by Skaffold's file watching; the engine's VM has its own)"
    )
    if not low:
        return Check("inotify limits", "ok", seen + where)
    now = "; ".join(f"sudo sysctl fs.inotify.{k}={INOTIFY_RECOMMENDED[k]}" for k in INOTIFY_RECOMMENDED)
    keep = " and ".join(f"fs.inotify.{k} = {INOTIFY_RECOMMENDED[k]}" for k in INOTIFY_RECOMMENDED)
    return Check(
        "inotify limits",
        "warn",
        f"{seen}: below kind's recommended {INOTIFY_RECOMMENDED['max_user_watches']} and "
        f"{INOTIFY_RECOMMENDED['max_user_instances']}{where} (pods fail with 'too many open files')",
        f"`{now}`; to keep them, put {keep} in /etc/sysctl.d/99-kind.conf",
    )


def is_wsl(proc_version: Path | None = None) -> bool:
    """hosts-file.md §2: /proc/version contains "microsoft" under WSL (sys.platform says linux)."""
    try:
        text = (proc_version or PROC_VERSION).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "microsoft" in text.lower()
