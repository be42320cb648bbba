"""Command lines as the real tools read them: all four are cobra programs, whose flags are parsed by
spf13/pflag. One parser, one error vocabulary; each fake prints the errors in its own tool's format.

A flag set is declared in one line, e.g. ``spec("-n,--name= --retain --wait= -A,--all-clusters")``:
``=`` after a name means the flag takes a value, ``?`` means an optional value (pflag's NoOptDefVal:
only ``--flag=value`` gives one; a bare ``--flag`` takes the default), nothing means a bool. Every
declaration in a fake cites the real tool's source or its ``--help``; a flag that is not declared is
refused the way the real tool refuses it, so a flag devctl passes that the real tool lacks fails a test.

pflag's rules reproduced (spf13/pflag flag.go ``parseArgs``, ``parseLongArg``, ``parseShortArg``):
- ``--name=value``, ``--name value``; ``-n value``, ``-nvalue``, ``-n=value``; ``-abc`` = three bools;
- a bool takes a value only as ``--flag=value`` (``strconv.ParseBool``: 1, t, T, TRUE, true, True, 0, f,
  F, FALSE, false, False);
- ``--`` ends the flags; a lone ``-`` is an argument; with ``interspersed`` (cobra's default) flags and
  arguments may mix, otherwise the first argument ends the flags;
- errors: ``unknown flag: --x``, ``unknown shorthand flag: 'x' in -x``, ``flag needs an argument: --x``,
  ``flag needs an argument: 'x' in -x``, ``invalid argument "v" for "--x" flag: strconv.ParseBool:
  parsing "v": invalid syntax`` (``"-x, --xx"`` when the flag has a shorthand).
"""

from __future__ import annotations

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class FlagError(Exception):
    """pflag's error text (the tool adds its own prefix, usage and exit code)."""


class Flag:
    # Plain classes: `dataclasses` would import `inspect`, tens of milliseconds of every fake call.
    __slots__ = ("kind", "name", "short")

    def __init__(self, name: str, short: str, kind: str) -> None:
        self.name = name  # the long name without dashes, or the shorthand when there is no long name
        self.short = short  # one letter, or ""
        self.kind = kind  # "bool" | "value" | "optional"

    @property
    def shown(self) -> str:
        """How pflag names the flag in an invalid-argument error."""
        return f"-{self.short}, --{self.name}" if self.short and self.name != self.short else f"--{self.name}"


class Spec:
    def __init__(self, flags: tuple[Flag, ...]) -> None:
        self.flags = flags

    def long(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.name == name), None)

    def short(self, letter: str) -> Flag | None:
        return next((f for f in self.flags if f.short == letter), None)

    def __add__(self, other: Spec) -> Spec:
        return Spec(self.flags + other.flags)


def spec(text: str) -> Spec:
    """``"-n,--name= --retain --port-forward?"`` -> a Spec (see the module docstring)."""
    flags = []
    for word in text.split():
        kind = "value" if word.endswith("=") else "optional" if word.endswith("?") else "bool"
        names = word.rstrip("=?").split(",")
        short = next((n[1:] for n in names if n.startswith("-") and not n.startswith("--")), "")
        long = next((n[2:] for n in names if n.startswith("--")), short)
        flags.append(Flag(long, short, kind))
    return Spec(tuple(flags))


class Parsed:
    """What a command line said: values by long name (every occurrence kept), bools, arguments."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}
        self.bools: dict[str, bool] = {}
        self.args: list[str] = []
        self.given: list[str] = []  # long names in the order they were given

    def get(self, name: str, default: str | None = None) -> str | None:
        vals = self.values.get(name)
        return vals[-1] if vals else default

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def flag(self, name: str) -> bool:
        return self.bools.get(name, False)

    def has(self, name: str) -> bool:
        return name in self.given


def _bool(flag: Flag, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FlagError(f'invalid argument "{value}" for "{flag.shown}" flag: strconv.ParseBool: parsing "{value}": '
                    "invalid syntax")


def _set(out: Parsed, flag: Flag, value: str | None) -> None:
    out.given.append(flag.name)
    if flag.kind == "bool":
        out.bools[flag.name] = True if value is None else _bool(flag, value)
    else:
        out.values.setdefault(flag.name, []).append(value if value is not None else "")


def parse(argv: list[str], flags: Spec, *, interspersed: bool = True) -> Parsed:
    """Parse ``argv`` against ``flags``; raises FlagError with pflag's text."""
    out = Parsed()
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            out.args.extend(argv[i:])
            break
        if not a.startswith("-") or a == "-":
            out.args.append(a)
            if not interspersed:
                out.args.extend(argv[i:])
                break
            continue
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            flag = flags.long(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            if eq:
                _set(out, flag, value)
            elif flag.kind == "value":
                if i >= len(argv):
                    raise FlagError(f"flag needs an argument: --{name}")
                _set(out, flag, argv[i])
                i += 1
            else:
                _set(out, flag, None)
            continue
        i = _shorts(a, argv, i, flags, out)
    return out


def _shorts(a: str, argv: list[str], i: int, flags: Spec, out: Parsed) -> int:
    """``-abc``, ``-nvalue``, ``-n=value``, ``-n value``; returns the index of the next argument."""
    letters = a[1:]
    while letters:
        letter, letters = letters[0], letters[1:]
        flag = flags.short(letter)
        if flag is None:
            raise FlagError(f"unknown shorthand flag: '{letter}' in {a}")
        if letters.startswith("="):
            _set(out, flag, letters[1:])
            return i
        if flag.kind == "value":
            if letters:
                _set(out, flag, letters)
            elif i < len(argv):
                _set(out, flag, argv[i])
                i += 1
            else:
                raise FlagError(f"flag needs an argument: '{letter}' in {a}")
            return i
        _set(out, flag, None)
    return i
