"""`tf.app.flags` / `tf.flags` and `tf.app.run` without absl: DEFINE_* functions that register
typed flags on one FLAGS object, parsed from `--name=value`, `--name value`, `--flag` and
`--noflag` arguments the first time a flag is read or when `run` starts (cf. absl.flags).
"""
from __future__ import annotations

import sys
from typing import Any, Callable


class UnrecognizedFlagError(ValueError):
    """An argument names no defined flag."""


class _Flag:
    def __init__(self, name: str, default, help: str, parse: Callable[[str], Any]):
        self.name, self.default, self.help, self.parse, self.value = name, default, help, parse, default


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "t", "1", "yes"):
        return True
    if lowered in ("false", "f", "0", "no"):
        return False
    raise ValueError(f"Non-boolean argument to boolean flag: {text!r}")


class FlagValues:
    """The flags defined so far; reading one parses sys.argv once if nothing parsed it."""

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)

    def define(self, name: str, default, help: str, parse: Callable[[str], Any]) -> None:
        if name in self._flags:
            raise ValueError(f"The flag '{name}' is defined twice.")
        self._flags[name] = _Flag(name, default, help, parse)

    def __call__(self, argv: list[str]) -> list[str]:
        """Parse `argv` (program name first); the arguments that are not flags."""
        rest, args = [argv[0]] if argv else [], list(argv[1:])
        while args:
            arg = args.pop(0)
            if arg == "--":
                rest.extend(args)
                break
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)
                continue
            name, eq, text = arg.lstrip("-").partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not eq and name[2:] in self._flags:
                flag, text, eq = self._flags[name[2:]], "false", "="
            if flag is None:
                raise UnrecognizedFlagError(f"Unknown command line flag '{name}'")
            if not eq:
                text = "true" if flag.parse is _bool else args.pop(0) if args else ""
            flag.value = flag.parse(text)
        object.__setattr__(self, "_parsed", True)
        return rest

    def __getattr__(self, name: str):
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            self(sys.argv)
        return flags[name].value

    def __setattr__(self, name: str, value) -> None:
        if name not in self._flags:
            raise AttributeError(f"Unknown flag: {name}")
        self._flags[name].value = value

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def flag_values_dict(self) -> dict:
        return {name: flag.value for name, flag in self._flags.items()}


FLAGS = FlagValues()


def _definer(parse: Callable[[str], Any]):
    def define(name: str, default, help: str = "", flag_values: FlagValues = FLAGS, **kwargs) -> None:
        flag_values.define(name, default, help, parse)
    return define


DEFINE_string = _definer(str)
DEFINE_integer = _definer(int)
DEFINE_float = _definer(float)
DEFINE_boolean = DEFINE_bool = _definer(_bool)


def run(main: Callable | None = None, argv: list[str] | None = None) -> None:
    """tf.app.run: parse the flags from `argv` (default sys.argv), then exit with main(rest)."""
    rest = FLAGS(sys.argv if argv is None else argv)
    main = main or sys.modules["__main__"].main
    sys.exit(main(rest))
