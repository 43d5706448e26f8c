"""The options several commands share, as decorator stacks: the benchmark
commands' run options, the output options, --format."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ctbench.backends import BackendSpec, backend_kwargs, shadowed
from ctbench.cli.types import INTEGER, OutputFile
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.render import FORMATS
from ctbench.scenarios.harness import DEFAULT_BACKENDS

F = TypeVar("F", bound=Callable[..., Any])


def parse_backends(values: tuple[str, ...]) -> tuple[BackendSpec, ...]:
    if not values:
        warn_shadowed([spec.name for spec in DEFAULT_BACKENDS])
        return DEFAULT_BACKENDS
    specs = tuple(BackendSpec.parse(v) for v in values)
    for spec in specs:
        backend_kwargs(spec)  # unknown names and bad options fail before any work
    warn_shadowed([spec.name for spec in specs])
    return specs


def warn_shadowed(names: Iterable[str] | None = None) -> None:
    """One line on stderr for each backend name (of ``names``, or any) that
    two installed packages register, naming both and the one used."""
    for name, line in sorted(shadowed().items()):
        if names is None or name in names:
            click.echo(f"ctbench: warning: {line}", err=True)


@dataclass(frozen=True)
class RunOptions:
    """The options every benchmark command takes, parsed once."""

    backends: tuple[BackendSpec, ...]
    conn_limit: int
    gc_enabled: bool
    force: bool
    fmt: str | None
    output: Path | None
    quiet: bool

    def common(self) -> dict[str, Any]:
        """The scenario harness's fields (ctbench.scenarios.harness.CommonConfig)."""
        return {
            "backends": self.backends,
            "conn_limit": self.conn_limit,
            "gc_enabled": self.gc_enabled,
        }


# What Ctrl-C does, in every benchmark command's --help (README, "Stopping").
STOPPING_HELP: Final = (
    "Ctrl-C (or SIGTERM) stops the run at its next check, between calls into "
    "the backend: a call in progress (a phase, a chunk of the fill, a slow "
    "plugin's call) is finished first. What was gathered is reported and "
    "written (exit status 130, or 143). A second Ctrl-C abandons the call in "
    "progress."
)
# Both refusals --force lifts (ctbench.preflight: check_memory, check_time).
FORCE_HELP: Final = (
    "Run even if it is estimated to need more memory than is available or "
    "to take over an hour (both are refused without it)."
)


def run_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options every benchmark command shares, handed to it as one
    ``opts: RunOptions`` argument."""

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        opts = RunOptions(
            backends=parse_backends(kwargs.pop("backend_specs")),
            conn_limit=kwargs.pop("conn_limit"),
            gc_enabled=kwargs.pop("gc_enabled"),
            force=kwargs.pop("force"),
            fmt=kwargs.pop("fmt"),
            output=kwargs.pop("output"),
            quiet=kwargs.pop("quiet"),
        )
        func(opts=opts, **kwargs)

    options = (
        click.option(
            "--backend",
            "-b",
            "backend_specs",
            multiple=True,
            metavar="NAME[:KEY=VALUE,...]",
            help="Backend to run; repeat for several (one after the other). "
            "Default: single and per-zone.",
        ),
        click.option(
            "--conn-limit",
            type=INTEGER,
            default=DEFAULT_CONN_LIMIT,
            show_default=True,
            help="Table-wide connection limit, as OVS's default; 0 means no limit.",
        ),
        click.option(
            "--gc",
            "gc_enabled",
            is_flag=True,
            help="Leave Python's cyclic GC on during timed phases (default: frozen).",
        ),
        click.option("--force", is_flag=True, help=FORCE_HELP),
        output_options,
    )
    for option in reversed(options):
        command = option(command)
    return command


def format_option() -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default=None,
        help="Output format [default: rich on a terminal, else patch, the "
        "ASCII table to paste].",
    )


def output_options(func: F) -> F:
    """--format, --output and --quiet, shared by the benchmark commands."""
    func = click.option(
        "--quiet", "-q", is_flag=True, help="No progress display on stderr."
    )(func)
    func = click.option(
        "--output",
        "-o",
        type=OutputFile(),
        help="Also write the results file (JSON) here, atomically and before "
        "the report; a symlink is followed and an existing file keeps its mode.",
    )(func)
    return format_option()(func)
