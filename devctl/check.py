"""One finding of `devctl doctor`: what was checked, its verdict, what was seen and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail" | "info"
    detail: str
    hint: str = ""
    required: bool = False
    # kind, kubectl and skaffold: the version and executable in use, and where it came from (store or PATH).
    version: str = ""
    path: str = ""
    source: str = ""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("version", "path", "source"):
            if not data[key]:
                del data[key]
        return data
