"""What the commands share: errors, output options, emitting a run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from ctbench import results
from ctbench.backends import BackendSpec, backend_kwargs
from ctbench.environment import available_memory
from ctbench.progress_display import Interrupt, ProgressDisplay
from ctbench.render import FORMATS, render
from ctbench.render.common import fmt_bytes
from ctbench.render.patch import render_rich
from ctbench.results import RunResult
from ctbench.scenarios.common import Progress
from ctbench.scenarios.zones import DEFAULT_BACKENDS

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention

F = TypeVar("F", bound=Callable[..., Any])


class CtbenchError(click.ClickException):
    """A domain error: one line on stderr, exit status 2."""

    exit_code = EXIT_USAGE


def parse_backends(values: tuple[str, ...]) -> tuple[BackendSpec, ...]:
    if not values:
        return DEFAULT_BACKENDS
    specs = tuple(BackendSpec.parse(v) for v in values)
    for spec in specs:
        backend_kwargs(spec)  # unknown names and bad options fail before any work
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


def check_output(output: Path | None) -> None:
    """Refuse an unusable --output before any work, not after a long run."""
    if output is None:
        return
    path = Path(output)
    if not str(output) or path.is_dir():
        raise CtbenchError(f"--output {str(output)!r} is not a file name")
    if path.exists() and not path.is_file():
        raise CtbenchError(f"--output {output}: not a regular file")
    parent = path.parent
    if not parent.is_dir():
        raise CtbenchError(f"--output {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CtbenchError(f"--output {output}: directory {parent} is not writable")


def box_width(text: str) -> int:
    """Width of the table in a plain report: its "+---" and "| ..." lines."""
    box = [line for line in text.splitlines() if line.lstrip()[:1] in ("+", "|")]
    return max(map(len, box), default=0)


def emit(run: RunResult, fmt: str, output: Path | None) -> None:
    """Print the report (rich on a wide enough terminal for the patch
    layout), then write the results file, so a failed write still leaves the
    numbers on screen."""
    stdout = Console()
    text = render(run, fmt)
    # rich would cut numbers short on a terminal narrower than the table: the
    # plain layout's box is as wide as the rich one, so measure that.
    if fmt == "patch" and stdout.is_terminal and box_width(text) <= stdout.width:
        stdout.print(render_rich(run))
    else:
        click.echo(text, nl=False)
    if output is not None:
        try:
            results.save(run, output)
        except OSError as exc:
            raise CtbenchError(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"results written to {output}", err=True)


def check_memory(needed: int, conns: int, force: bool) -> None:
    available = available_memory()
    if force or available is None or needed <= available:
        return
    raise CtbenchError(
        f"this run needs about {fmt_bytes(needed)} ({conns:,} connections and "
        f"the run's packets and samples) but only {fmt_bytes(available)} is "
        "available; use smaller arguments, or --force"
    )


def run_benchmark(
    scenario: Callable[[Progress, Callable[[], bool]], RunResult],
    needed_bytes: int,
    conns: int,
    *,
    fmt: str,
    output: Path | None,
    quiet: bool,
    force: bool,
) -> None:
    """What every benchmark command does once its config is valid: check the
    memory, run with the progress display and the Ctrl-C flag, report."""
    check_output(output)
    check_memory(needed_bytes, conns, force)
    interrupt = Interrupt()
    with interrupt.installed(), ProgressDisplay(quiet) as progress:
        run = scenario(progress, interrupt)
    finish(run, fmt, output)


def finish(run: RunResult, fmt: str, output: Path | None) -> None:
    emit(run, fmt, output)
    if not run.complete:
        click.echo("interrupted: partial results shown", err=True)
        sys.exit(EXIT_INTERRUPTED)
