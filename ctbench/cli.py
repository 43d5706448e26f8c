"""The command line: parse, validate, call the core, render.  Nothing else.

Every domain error becomes one line on stderr and exit status 2, in one
place: :func:`main`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from ctbench import __version__, results
from ctbench.backends import BackendError, BackendSpec, backend_names, describe
from ctbench.environment import available_memory
from ctbench.progress_display import Interrupt, ProgressDisplay
from ctbench.render import FORMATS, render
from ctbench.render.common import fmt_bytes
from ctbench.render.patch import render_rich
from ctbench.results import ResultsError, RunResult
from ctbench.scenarios.zones import (
    DEFAULT_BACKENDS,
    ConfigError,
    ZoneConfig,
    run_zones,
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention

F = TypeVar("F", bound=Callable[..., Any])


class CtbenchError(click.ClickException):
    exit_code = EXIT_USAGE


def parse_backends(values: tuple[str, ...]) -> tuple[BackendSpec, ...]:
    if not values:
        return DEFAULT_BACKENDS
    specs = tuple(BackendSpec.parse(v) for v in values)
    known = set(backend_names())
    for spec in specs:
        if spec.name not in known:
            raise BackendError(
                f"unknown backend {spec.name!r} (known: {', '.join(sorted(known))})"
            )
    return specs


def output_options(func: F) -> F:
    """--format, --output and --quiet, shared by the benchmark commands."""
    func = click.option(
        "--quiet", "-q", is_flag=True, help="No progress display on stderr."
    )(func)
    func = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Also write the results file (JSON, schema 1) here, atomically.",
    )(func)
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default="patch",
        show_default=True,
        help="Screen output format.",
    )(func)
    return func


def emit(run: RunResult, fmt: str, output: Path | None) -> None:
    """Print the report (rich on a terminal for the patch layout) and write
    the results file."""
    if output is not None:
        try:
            results.save(run, output)
        except OSError as exc:
            raise CtbenchError(f"cannot write {output}: {exc}") from None
    stdout = Console()
    if fmt == "patch" and stdout.is_terminal:
        stdout.print(render_rich(run))
    else:
        click.echo(render(run, fmt), nl=False)
    if output is not None:
        click.echo(f"results written to {output}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctbench")
def cli() -> None:
    """Benchmark conntrack table designs the way ovstest test-conntrack does.

    \b
    Example:
      ctbench benchmark-zones 10000 1000 1000
    """


@cli.command()
def backends() -> None:
    """List the table backends registered under the ctbench.backends entry point.

    \b
    Example:
      ctbench backends
    """
    names = backend_names()
    width = max(map(len, names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {describe(name)}")


@cli.command("benchmark-zones")
@click.argument("entries", type=int)
@click.argument("zones", type=int)
@click.argument("iterations", type=int)
@click.option(
    "--backend",
    "-b",
    "backend_specs",
    multiple=True,
    metavar="NAME[:KEY=VALUE,...]",
    help="Backend to run; repeat for several. Default: single and per-zone.",
)
@click.option(
    "--batch-size",
    type=int,
    default=1,
    show_default=True,
    help="Packets per execute call (ovstest uses 1; at most 32).",
)
@click.option(
    "--conn-limit",
    type=int,
    default=3_000_000,
    show_default=True,
    help="Table-wide connection limit, as OVS's default; 0 means no limit.",
)
@click.option(
    "--sweep-every",
    type=float,
    metavar="SECONDS",
    help="Emulate OVS's cleaner on the wall clock every SECONDS (off by default).",
)
@click.option(
    "--gc",
    "gc_enabled",
    is_flag=True,
    help="Leave Python's cyclic GC on during timed phases (default: frozen).",
)
@click.option(
    "--warmup", type=int, default=0, show_default=True, help="Uncounted rounds first."
)
@click.option(
    "--ovs-stats",
    is_flag=True,
    help="Add ovstest's estimators: EWMA Avg (0.01) and P-square 95%ile.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Recorded seed.")
@click.option(
    "--memory-sample",
    type=int,
    default=50_000,
    show_default=True,
    help="Connections in the tracemalloc memory sample (0 skips it).",
)
@click.option("--force", is_flag=True, help="Run even if memory looks too small.")
@output_options
def benchmark_zones(
    entries: int,
    zones: int,
    iterations: int,
    backend_specs: tuple[str, ...],
    batch_size: int,
    conn_limit: int,
    sweep_every: float | None,
    gc_enabled: bool,
    warmup: int,
    ovs_stats: bool,
    seed: int,
    memory_sample: int,
    force: bool,
    fmt: str,
    output: Path | None,
    quiet: bool,
) -> None:
    """ovstest's zone benchmark: fill ZONES zones with ENTRIES connections each,
    then ITERATIONS rounds of: flush zone 1, commit ENTRIES packets into it,
    execute them again without commit, flush the empty zone 65535.

    Unlike ovstest, Avg is a true mean and 95%ile an exact percentile
    (--ovs-stats adds ovstest's EWMA and P-square estimates), the
    connection limit's clipping is reported, and no cleaner sweeps the table
    mid-run unless --sweep-every asks for it.

    \b
    Examples:
      ctbench benchmark-zones 10000 1000 1000
      ctbench benchmark-zones 1000 100 50 -b single -b sharded:shards=64
      ctbench benchmark-zones 10000 1000 100 --format markdown -o run.json
    """
    config = ZoneConfig(
        entries=entries,
        zones=zones,
        iterations=iterations,
        backends=parse_backends(backend_specs),
        batch_size=batch_size,
        conn_limit=conn_limit,
        warmup=warmup,
        gc_enabled=gc_enabled,
        sweep_every=sweep_every,
        ovs_stats=ovs_stats,
        seed=seed,
        memory_sample=memory_sample,
    )
    check_memory(config.estimated_bytes(), config.expected_stored, force)
    interrupt = Interrupt()
    with interrupt.installed(), ProgressDisplay(quiet) as progress:
        run = run_zones(config, progress, interrupt)
    finish(run, fmt, output)


def check_memory(needed: int, conns: int, force: bool) -> None:
    available = available_memory()
    if force or available is None or needed <= available:
        return
    raise CtbenchError(
        f"this run needs about {fmt_bytes(needed)} for {conns:,} connections but "
        f"only {fmt_bytes(available)} is available; lower the sizes or --conn-limit, "
        "or use --force"
    )


def finish(run: RunResult, fmt: str, output: Path | None) -> None:
    emit(run, fmt, output)
    if not run.complete:
        click.echo("interrupted: partial results shown", err=True)
        sys.exit(EXIT_INTERRUPTED)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"ctbench: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors, exit 2 for bad input, 130 for Ctrl-C."""
    try:
        cli.main(args=argv, prog_name="ctbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except (BackendError, ConfigError, ResultsError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
