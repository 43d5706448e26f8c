"""Running a command to its end: its output claimed before any work, the
run under the progress display and the stop flag, the results file
written before the report, and the exit status that says what happened."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console

from ctbench import files, results
from ctbench.callgrind.runner import counted_run, find_valgrind, hash_seed
from ctbench.cli.options import RunOptions
from ctbench.cli.progress_display import Interrupt, ProgressDisplay, to_stderr
from ctbench.errors import OutputError
from ctbench.estimate import Estimate
from ctbench.ovstest.plan import OvstestPlan
from ctbench.preflight import check_memory, check_output, check_time
from ctbench.registry import Command
from ctbench.render import lay_out
from ctbench.report.build import build_report
from ctbench.results import RunResult
from ctbench.scenarios.harness import CommonConfig, Progress
from ctbench.units import DEFAULT_MEASURE

EXIT_USAGE = 2
EXIT_BACKEND_FAILED = 4  # a backend failed; the others' results were kept
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention

C = TypeVar("C")
Scenario = Callable[[Progress, Callable[[], bool]], RunResult]


def measured(record: Command[C], config: C, common: CommonConfig) -> Scenario:
    """The run a benchmark command starts: its own, or with --measure
    instructions or cycles the same run counted under callgrind
    (:func:`ctbench.callgrind.runner.counted_run`), whose tools and seed are
    checked here, before any work.  ``common`` holds the config's harness
    fields (``config`` itself, or its part that has them)."""
    if common.measure == DEFAULT_MEASURE:
        return partial(record.run, config)
    hash_seed(os.environ)
    find_valgrind(common.measure)
    return partial(counted_run, record.run, config, common)


def claim_output(output: Path | None, inputs: Iterable[Path] = ()) -> None:
    """Refuse an unusable --output before any work
    (:func:`ctbench.preflight.check_output`), then hold its lock until the
    command ends (:func:`lock_until_done`): another ctbench run writing it
    is refused too."""
    check_output(output, inputs)
    if output is not None:
        lock_until_done(output)


def say(notice: str | None) -> None:
    """What a pre-flight check has to say before the run, on stderr."""
    if notice is not None:
        click.echo(f"ctbench: {notice}", err=True)


def lock_until_done(target: Path) -> None:
    """Hold ``target``'s writer lock (:func:`ctbench.files.writer_lock`)
    until the command ends: click closes the command's context however it
    ends, with an error or sys.exit too, and the lock file goes with it."""
    click.get_current_context().with_resource(files.writer_lock(target))


def box_width(text: str) -> int:
    """Width of the table in a plain report: its "+---" and "| ..." lines."""
    box = [line for line in text.splitlines() if line.lstrip()[:1] in ("+", "|")]
    return max(map(len, box), default=0)


def emit(
    run: RunResult,
    fmt: str | None,
    output: Path | None,
    interrupt: Interrupt | None = None,
) -> None:
    """Write the results file, then print the report (built once); see
    :func:`write_before_report` for what a failure on either side does.

    Without --format the screen gets the rich view on a terminal wide enough
    for it, else the patch's ASCII layout; --format patch is always ASCII.
    """
    unwritten = write_before_report(
        output, lambda path: results.save(run, path), "results", interrupt
    )
    report = build_report(run)
    stdout = Console()
    if fmt is None:
        fmt = "patch"
        # rich would cut numbers short on a terminal narrower than the table:
        # the plain layout's box is as wide as the rich one, so measure that.
        if stdout.is_terminal and box_width(lay_out(report, fmt)) <= stdout.width:
            fmt = "rich"
    click.echo(lay_out(report, fmt, stdout.width), nl=False)
    if unwritten is not None:
        raise unwritten


def write_before_report(
    output: Path | None,
    write: Callable[[Path], None],
    what: str,
    interrupt: Interrupt | None,
) -> OutputError | None:
    """Write ``output`` (when asked for) before the report is printed, and
    return its one-line error, if any, for the caller to raise once the
    report is out: a file that cannot be written still leaves the report
    on screen, then exit status 2.

    The file comes first so that nothing on the screen's side can cost it:
    a reader that leaves early (``| head``) ends the command with 141, as
    the shell's SIGPIPE, and a full stdout with one line and exit status 2
    (:func:`ctbench.cli.main`), both after the file is written.

    ``interrupt`` was held when the run stopped (:meth:`Interrupt.hold`), so
    a further Ctrl-C or SIGTERM has waited for the file; one that came ends
    the command here, without the report, with 128 + the signal that
    stopped the run.
    """
    unwritten = None
    if output is not None:
        try:
            write(output)
            click.echo(f"{what} written to {output}", err=True)
        except OutputError as exc:
            unwritten = exc
    again = interrupt.release() if interrupt is not None else None
    if again is None:
        return unwritten
    assert interrupt is not None and interrupt.signal is not None
    if unwritten is not None:
        click.echo(f"ctbench: error: {unwritten}", err=True)
    click.echo(f"ctbench: stopped again by {again.name}: no report shown", err=True)
    sys.exit(128 + interrupt.signal)


def run_benchmark(
    scenario: Scenario,
    needed_bytes: int,
    conns: int,
    estimate: Callable[[], Estimate],
    opts: RunOptions,
    ovstest: OvstestPlan | None = None,
) -> None:
    """What every benchmark command does once its config and --output are
    checked (:func:`claim_output`, before any work): check the memory and
    the time it will take (and the ovstest binaries to run after), run with
    the progress display and the stop flag, report."""
    check_memory(needed_bytes, conns, opts.force)
    planned = estimate()
    say(check_time(planned, opts.force))
    if ovstest is not None:
        ovstest.check()
    interrupt = Interrupt()
    with interrupt.installed():
        with ProgressDisplay(opts.quiet) as progress:
            interrupt.notice = progress.notice
            run = scenario(progress, interrupt)
            if ovstest is not None and not interrupt.requested:
                ovstest.run(run, planned.seconds, progress, interrupt)
            interrupt.notice = to_stderr
            interrupt.hold()  # the run has ended: keep its file safe
        if interrupt.signal is not None:
            run.stopped_by = interrupt.signal.name
        run.tags = dict(opts.tags)
        finish(run, opts.fmt, opts.output, interrupt)


def finish(
    run: RunResult,
    fmt: str | None,
    output: Path | None,
    interrupt: Interrupt | None = None,
) -> None:
    """Report the run, then exit with what happened to it: 128 + the signal
    that stopped it (or came while the report was out), or 4 when a backend
    failed and the others were kept."""
    if not run.results:
        # Stopped before the first backend started: no table, and no file,
        # since a results file without a backend is refused on loading.
        signum = getattr(signal, run.stopped_by or "SIGINT", signal.SIGINT)
        click.echo(
            f"ctbench: stopped by {run.stopped_by or 'an interrupt'} before any "
            "backend ran: nothing to report, no results file written",
            err=True,
        )
        sys.exit(128 + signum)
    emit(run, fmt, output, interrupt)
    if run.stopped_by is not None:
        signum = getattr(signal, run.stopped_by, signal.SIGINT)
        click.echo(f"interrupted by {run.stopped_by}: partial results shown", err=True)
        sys.exit(128 + signum)
    if run.failed:
        names = ", ".join(r.label for r in run.failed)
        kept = len(run.results) - len(run.failed)
        tail = "; the others' results were kept" if kept else ""
        click.echo(
            f"ctbench: error: backend {names} failed{tail}",
            err=True,
        )
        sys.exit(EXIT_BACKEND_FAILED)
    if not run.complete:
        click.echo("interrupted: partial results shown", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if interrupt is not None and interrupt.signal is not None:
        sys.exit(128 + interrupt.signal)  # it came while the report was out
