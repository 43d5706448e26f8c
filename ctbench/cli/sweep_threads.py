"""ctbench sweep COMMAND --threads N,N,...: a threaded command at every
thread count, and the scaling law its throughput follows.

The core (:mod:`ctbench.growth.threads`) runs any registered command whose
record has a ThreadScaling; what the command line needs of each command is
how its other arguments become its config, one builder each below.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

import click

from ctbench import files, registry
from ctbench.cli.options import parse_backends
from ctbench.cli.progress_display import (
    Interrupt,
    ProgressDisplay,
    display_threads,
    to_stderr,
)
from ctbench.cli.run import (
    EXIT_BACKEND_FAILED,
    claim_output,
    lock_until_done,
    say,
    write_before_report,
)
from ctbench.errors import CtbenchError
from ctbench.growth.grid import points_dir_for
from ctbench.growth.runner import check_points_dir
from ctbench.growth.scaling_document import (
    ScalingDocument,
    build_scaling,
    dumps_scaling,
)
from ctbench.growth.threads import (
    ThreadGrid,
    ThreadPoint,
    ThreadSweepOutcome,
    parse_thread_counts,
    run_thread_grid,
)
from ctbench.render import scaling
from ctbench.results import RunResult
from ctbench.scenarios.benchmark import ThreadsConfig
from ctbench.scenarios.create_rate import PER_THREAD, CreateRateConfig
from ctbench.units import require_time


class ThreadSweepUsageError(CtbenchError):
    """Options that do not make a thread sweep."""


def _needs(command: str, opts: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if opts[name] is None:
            raise ThreadSweepUsageError(
                f"sweep {command} needs --{name.replace('_', '-')}"
            )


def _benchmark_config(opts: Mapping[str, Any], threads: int) -> ThreadsConfig:
    _needs("benchmark", opts, "packets", "batch_size")
    return ThreadsConfig(
        n_threads=threads,
        n_pkts=int(opts["packets"]),
        batch_size=int(opts["batch_size"]),
        change_conn=int(opts["change_conn"] or 0),
        **_common(opts),
    )


def _create_rate_config(opts: Mapping[str, Any], threads: int) -> CreateRateConfig:
    _needs("create-rate", opts, "conns", "batch_size")
    return CreateRateConfig(
        n_threads=threads,
        n_conns=int(opts["conns"]),
        batch_size=int(opts["batch_size"]),
        zone_layout=str(opts["zones"] or PER_THREAD),
        flusher=bool(opts["flusher"]),
        sweeper=bool(opts["sweeper"]),
        lock_wait=bool(opts["lock_wait"]),
        **_common(opts),
    )


def _common(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The harness's fields (ctbench.scenarios.harness.CommonConfig)."""
    return {
        "backends": parse_backends(tuple(opts["backend_specs"])),
        "conn_limit": int(opts["conn_limit"]),
        "gc_enabled": bool(opts["gc_enabled"]),
    }


# Each threaded command's other arguments, as sweep options, into its config.
CONFIG_BUILDERS: Final[dict[str, Callable[[Mapping[str, Any], int], Any]]] = {
    "benchmark": _benchmark_config,
    "create-rate": _create_rate_config,
}
# The sweep's options every thread sweep takes.
COMMON_THREAD_OPTIONS: Final = frozenset(
    {
        "threads",
        "batch_size",
        "repeat",
        "backend_specs",
        "conn_limit",
        "gc_enabled",
        "seed",
        "force",
        "fmt",
        "output",
        "quiet",
        "points_dir",
        "merge",
        "args",
    }
)
# And each command's own; any other option given is refused.
THREAD_OPTIONS: Final = {
    "benchmark": COMMON_THREAD_OPTIONS | {"packets", "change_conn"},
    "create-rate": COMMON_THREAD_OPTIONS
    | {"conns", "zones", "flusher", "sweeper", "lock_wait"},
}


def commands_taking(option: str) -> list[str]:
    """The thread sweeps that take this sweep option (its parameter name)."""
    return [name for name in thread_commands() if option in THREAD_OPTIONS[name]]


def thread_commands() -> tuple[str, ...]:
    """The registered commands a sweep grows the thread count of."""
    return tuple(
        name
        for name in registry.names()
        if registry.command(name).scaling is not None and name in CONFIG_BUILDERS
    )


def refuse_other_options(ctx: click.Context, command: str) -> None:
    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name not in THREAD_OPTIONS[command]
        and param.name is not None
        and ctx.get_parameter_source(param.name)
        not in (None, click.core.ParameterSource.DEFAULT)
    ]
    if given:
        raise ThreadSweepUsageError(
            f"sweep {command} grows the thread count: {', '.join(given)} cannot apply"
        )


def thread_sweep(ctx: click.Context, command: str, opts: Mapping[str, Any]) -> None:
    refuse_other_options(ctx, command)
    opts = dict(opts)
    # benchmark-zones' --batch-size defaults to 1; a threaded command's
    # batch size is one of its arguments, given.
    if ctx.get_parameter_source("batch_size") == click.core.ParameterSource.DEFAULT:
        opts["batch_size"] = None
    if opts["threads"] is None:
        raise ThreadSweepUsageError(f"sweep {command} needs --threads N,N,...")
    counts = parse_thread_counts(str(opts["threads"]))
    output = opts["output"]
    if output is None:
        raise ThreadSweepUsageError(
            "sweep needs -o FILE: the scaling file, beside its runs"
        )
    assert isinstance(output, Path)
    grid = ThreadGrid(
        command=command,
        base=CONFIG_BUILDERS[command](opts, counts[0]),
        threads=counts,
        repeats=int(opts["repeat"]),
        seed=int(opts["seed"]),
        force=bool(opts["force"]),
        display_threads=display_threads(bool(opts["quiet"])),
    )
    points_dir = opts["points_dir"] or points_dir_for(output)
    assert isinstance(points_dir, Path)
    _run(grid, output, points_dir, quiet=bool(opts["quiet"]), fmt=str(opts["fmt"]))


def merge_threads(
    named: list[tuple[str, RunResult]], output: Path | None, fmt: str
) -> None:
    """Fit runs of one threaded command as they are: each thread count's
    runs are its repeats, in the order given."""
    for name, run in named:
        require_time(name, run.unit, "sweep --merge")
    command = named[0][1].command
    record = registry.command(command)
    assert record.scaling is not None
    seen: dict[object, int] = {}
    repeats = []
    for name, run in named:
        threads = run.params.get(record.scaling.param)
        seen[threads] = seen.get(threads, 0) + 1
        repeats.append((name, seen[threads], run))
    _report(build_scaling(repeats, command, record.scaling), output, fmt)


def _run(
    grid: ThreadGrid, output: Path, points_dir: Path, *, quiet: bool, fmt: str
) -> None:
    claim_output(output, [points_dir / grid.file_name(p) for p in grid.points()])
    check_points_dir(points_dir)
    lock_until_done(points_dir)
    interrupt = Interrupt()

    def run_point(point: ThreadPoint, config: Any) -> RunResult:
        with ProgressDisplay(quiet) as progress:
            interrupt.notice = progress.notice
            try:
                return grid.record.run(config, progress, interrupt)
            finally:
                interrupt.notice = to_stderr

    def on_point(
        index: int, total: int, point: ThreadPoint, path: Path, step: str
    ) -> None:
        where = f"[{index}/{total}] {point}"
        if step == "cut":
            click.echo(f"{where}: interrupted, not kept", err=True)
        elif step == "done" and not quiet:
            click.echo(f"{where}: written to {path}", err=True)

    started = time.monotonic()
    with ExitStack() as running:

        def start() -> None:
            nonlocal started
            started = time.monotonic()
            running.enter_context(interrupt.installed())

        outcome = run_thread_grid(
            grid,
            points_dir,
            output,
            run_point=run_point,
            interrupted=interrupt,
            on_point=on_point,
            notice=say,
            on_start=start,
        )
        interrupt.hold()
        _fit(grid, outcome, output, fmt, interrupt)
        if not quiet:
            minutes = (time.monotonic() - started) / 60
            click.echo(f"sweep took {minutes:.1f} min", err=True)
    if outcome.unwritten is not None:
        raise outcome.unwritten
    if interrupt.signal is not None:
        click.echo(
            f"interrupted by {interrupt.signal.name}: the finished runs are kept "
            "and fitted",
            err=True,
        )
        sys.exit(128 + interrupt.signal)
    if outcome.failed:
        names = ", ".join(map(str, outcome.failed))
        click.echo(
            f"ctbench: error: a backend failed at {names}; the others' results "
            "were kept and fitted",
            err=True,
        )
        sys.exit(EXIT_BACKEND_FAILED)


def _fit(
    grid: ThreadGrid,
    outcome: ThreadSweepOutcome,
    output: Path,
    fmt: str,
    interrupt: Interrupt,
) -> None:
    stopped_by = interrupt.signal.name if interrupt.signal else None
    if not outcome.finished and outcome.unwritten is not None:
        raise outcome.unwritten
    if not outcome.finished:
        click.echo(
            f"ctbench: stopped by {stopped_by or 'an interrupt'} before any run "
            "finished: nothing to fit, no scaling file written",
            err=True,
        )
        sys.exit(128 + (interrupt.signal or signal.SIGINT))
    _report(outcome.document(grid, stopped_by), output, fmt, interrupt)


def _report(
    doc: ScalingDocument,
    output: Path | None,
    fmt: str,
    interrupt: Interrupt | None = None,
) -> None:
    unwritten = write_before_report(
        output,
        lambda path: files.write_file(path, dumps_scaling(doc, path)),
        "scaling",
        interrupt,
    )
    click.echo(scaling.render(doc, fmt), nl=False)
    if unwritten is not None:
        raise unwritten
