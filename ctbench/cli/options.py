"""The options several commands share, as decorator stacks: the benchmark
commands' run options and their --ovstest options, the output options,
--format, and how pcap and replay track a capture."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ctbench.backends import BackendSpec, backend_kwargs, shadowed
from ctbench.capture.track import CLOCKS
from ctbench.cli.types import INTEGER, OutputFile
from ctbench.errors import CtbenchError
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.ovstest.plan import (
    MAX_REPEAT,
    MIN_TIMEOUT_S,
    TIMEOUT_FACTOR,
    OvstestPlan,
    parse_binary,
    unreproducible,
)
from ctbench.render import FORMATS
from ctbench.results.tags import parse_tags
from ctbench.scenarios.harness import DEFAULT_BACKENDS
from ctbench.units import DEFAULT_MEASURE, MEASURES

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
    tags: dict[str, str]

    def common(self) -> dict[str, Any]:
        """The scenario harness's fields (ctbench.scenarios.harness.CommonConfig)."""
        return {
            "backends": self.backends,
            "conn_limit": self.conn_limit,
            "gc_enabled": self.gc_enabled,
        }


# What Ctrl-C does, in every benchmark command's --help (docs/runs.md, "Stopping").
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
            tags=kwargs.pop("tags"),
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
        tag_option,
    )
    for option in reversed(options):
        command = option(command)
    return command


MEASURE_HELP: Final = (
    "What a sample is: time, or, counted by valgrind's callgrind in a run "
    "90-160x slower, the instructions a timed section executed (the same on "
    "every run of the same work) or its cycles estimated from a cache "
    "simulation (cycles). See docs/instruction-counts.md."
)


def measure_option(func: F) -> F:
    """--measure, handed to the command as ``measure``."""
    return click.option(
        "--measure",
        type=click.Choice(list(MEASURES)),
        default=DEFAULT_MEASURE,
        show_default=True,
        help=MEASURE_HELP,
    )(func)


def format_option() -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default=None,
        help="Output format [default: rich on a terminal, else patch, the "
        "ASCII table to paste].",
    )


def _tags(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    return parse_tags(value)


def tag_option(func: F) -> F:
    """--tag KEY=VALUE, repeatable, handed to the command as ``tags``, a
    dict; the results file keeps them (ctbench.results.tags)."""
    return click.option(
        "--tag",
        "tags",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_tags,
        help="Label the results file: a commit, a branch, a CI job "
        "(e.g. --tag commit=$GITHUB_SHA); repeat for several. history can "
        "order runs by one (--key).",
    )(func)


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


def ovstest_options(func: Callable[..., None]) -> Callable[..., None]:
    """--ovstest, --ovstest-repeat and --ovstest-timeout, handed to the
    command as one ``ovstest: OvstestPlan | None`` argument."""

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        binaries = kwargs.pop("ovstest_binaries")
        repeat = kwargs.pop("ovstest_repeat")
        timeout = kwargs.pop("ovstest_timeout")
        plan = None
        if binaries:
            plan = OvstestPlan(
                tuple(parse_binary(b) for b in binaries), repeat or 1, timeout
            )
        elif repeat is not None or timeout is not None:
            raise CtbenchError(
                "--ovstest-repeat and --ovstest-timeout need --ovstest LABEL=PATH"
            )
        func(ovstest=plan, **kwargs)

    options = (
        click.option(
            "--ovstest",
            "ovstest_binaries",
            multiple=True,
            metavar="LABEL=PATH",
            help="After ctbench's backends, run this ovstest binary with the same "
            "arguments and show it as the row ovstest:LABEL, with ratios against "
            "ctbench's backend LABEL. Repeatable.",
        ),
        click.option(
            "--ovstest-repeat",
            type=click.IntRange(1, MAX_REPEAT),
            metavar="N",
            help="Run each ovstest binary N times [default: 1]; with 20 or more "
            "a side, compare gives intervals on the runs' Min.",
        ),
        click.option(
            "--ovstest-timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help=f"Bound on each ovstest run [default: {TIMEOUT_FACTOR:g} times "
            f"ctbench's estimate for the run, at least {MIN_TIMEOUT_S:g} s].",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def refuse_unreproducible(plan: OvstestPlan | None, **options: Any) -> None:
    """With --ovstest, refuse in one line the options ovstest cannot follow."""
    if plan is None:
        return
    refused = unreproducible(options)
    if refused:
        raise CtbenchError(
            f"--ovstest runs ovstest, which cannot reproduce {'; '.join(refused)}: "
            "drop them, or run ovstest separately"
        )


def track_options(zone_help: str) -> Callable[[F], F]:
    """--zone, --clock and --trust-l4-checksums; ``zone_help`` says what
    --zone is to the command."""

    def add(func: F) -> F:
        return click.option(
            "--zone", type=INTEGER, default=0, show_default=True, help=zone_help
        )(_clock_and_checksums(func))

    return add


def _clock_and_checksums(func: F) -> F:
    func = click.option(
        "--trust-l4-checksums",
        is_flag=True,
        help="Trust every TCP, UDP, SCTP and ICMP checksum, as OVS does when "
        "the NIC has verified them (default: verify them, as ovstest does; "
        "loopback captures carry unfinished checksums).",
    )(func)
    return click.option(
        "--clock",
        type=click.Choice(CLOCKS),
        default="capture",
        show_default=True,
        help="Each batch's time: the capture's timestamps, the wall clock "
        "(ovstest's), or frozen at 0 (nothing expires).",
    )(func)
