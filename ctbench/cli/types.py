"""The click types of ctbench's arguments and options: whole numbers as a
C program reads them, results files to write, and commands whose
arguments may be negative numbers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import click

# A negative number on the command line ("-1", "-2.5"): an argument that
# click would otherwise take for an option.
_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)")


class Integer(click.IntRange):
    """A whole number in ASCII decimal digits, optionally signed, within an
    optional range.  int() alone also takes "1_0" and other scripts'
    digits ("１"), which no C program reading the same argument would."""

    name = "integer"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
            self.fail(f"{value!r} is not a whole number", param, ctx)
        return super().convert(value, param, ctx)

    def _describe_range(self) -> str:
        # click describes an unbounded range as "x<=None" in --help.
        if self.min is None and self.max is None:
            return ""
        return super()._describe_range()


INTEGER: Final = Integer()
_DECIMAL = re.compile(r"[+-]?[0-9]+", re.ASCII)

# A capture file to read (pcap, replay): the reader says what is wrong
# with one that is missing or is not a capture.
CAPTURE: Final = click.Path(dir_okay=False, path_type=Path)


class NumbersAsArguments(click.Command):
    """A command whose arguments may be negative numbers, so that ``-1``
    reaches the range check as a number, while a misspelled option is still
    "No such option".  Negative numbers go after "--", behind the options
    and their values; nothing else moves."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._numbers_last(args))

    def _numbers_last(self, args: list[str]) -> list[str]:
        takes_value = {
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for name in param.opts
        }
        options: list[str] = []
        arguments: list[str] = []
        rest = list(args)
        while rest:
            token = rest.pop(0)
            if token == "--":
                arguments += rest
                break
            if _NUMBER.fullmatch(token) or not token.startswith("-"):
                arguments.append(token)
            elif token in takes_value and rest:
                options += [token, rest.pop(0)]
            else:
                options.append(token)
        if not any(a.startswith("-") for a in arguments):
            return args
        return [*options, "--", *arguments]


class OutputFile(click.Path):
    """A results file to write: a non-empty name that is not a directory.

    click.Path alone turns '' into Path('.'), which then reads as a
    directory the user never named.
    """

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        if isinstance(value, str) and not value:
            self.fail("'' is not a file name", param, ctx)
        if value == "-":
            # Not standard output, which the report is on: say so rather
            # than write a file named '-'.
            self.fail(
                "'-' is not standard output here; for a file named '-' write ./-",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)
