"""What the commands share: output options, checks, running and emitting."""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import click
from rich.console import Console

from ctbench import environment, results
from ctbench.backends import BackendSpec, backend_kwargs, shadowed
from ctbench.cli.progress_display import Interrupt, ProgressDisplay, to_stderr
from ctbench.environment import available_memory
from ctbench.errors import CtbenchError, OutputError
from ctbench.estimate import QUIET_BELOW_S, REFUSE_ABOVE_S, Estimate
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.ovstest.plan import OvstestPlan
from ctbench.render import FORMATS, lay_out
from ctbench.report.build import build_report
from ctbench.report.numbers import fmt_bytes, plural
from ctbench.results import RunResult
from ctbench.scenarios.harness import DEFAULT_BACKENDS, Progress

EXIT_USAGE = 2
EXIT_BACKEND_FAILED = 4  # a backend failed; the others' results were kept
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention

F = TypeVar("F", bound=Callable[..., Any])


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


# What Ctrl-C does, in every benchmark command's --help (docs/runs.md, "Stopping").
STOPPING_HELP: Final = (
    "Ctrl-C (or SIGTERM) stops the run at its next check, between calls into "
    "the backend: a call in progress (a phase, a chunk of the fill, a slow "
    "plugin's call) is finished first. What was gathered is reported and "
    "written (exit status 130, or 143). A second Ctrl-C abandons the call in "
    "progress."
)
# Both refusals --force lifts (check_memory and check_time below).
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


def check_output(output: Path | None, inputs: Iterable[Path] = ()) -> None:
    """Refuse an unusable --output before any work, not after a long run:
    one that is an input (writing it would destroy what is read), one that
    cannot be created, one that another ctbench run is writing.  Then hold
    the output's lock until the command ends (:func:`lock_until_done`)."""
    if output is None:
        return
    for source in inputs:
        if results.same_file(output, source):
            raise OutputError(
                f"--output {output} is the same file as the input {source}: "
                "name another file"
            )
    # Check what will be written: a symlink's target, beside which the
    # temporary file goes.
    path = Path(os.path.realpath(output))
    if path.exists() and not path.is_file():
        raise OutputError(f"--output {output}: not a regular file")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"--output {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--output {output}: directory {parent} is not writable")
    # os.access says yes to root anywhere, /proc and read-only mounts
    # included: create (and remove) a file where the real one will go.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as exc:
        raise OutputError(
            f"--output {output}: cannot create a file in {parent}: "
            f"{exc.strerror or exc}"
        ) from None
    os.close(fd)
    os.unlink(probe)
    lock_until_done(output)


def lock_until_done(target: Path) -> None:
    """Hold ``target``'s writer lock (:func:`ctbench.results.writer_lock`)
    until the command ends: click closes the command's context however it
    ends, with an error or sys.exit too, and the lock file goes with it."""
    click.get_current_context().with_resource(results.writer_lock(target))


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


class ResourceError(CtbenchError):
    """A run that would not fit the machine."""


def check_threads(n_threads: int) -> None:
    """Refuse, before the run, threads the machine cannot start: a run past
    the limit would fail only once thousands of threads were up."""
    headroom = environment.thread_headroom()
    if headroom is None or n_threads <= headroom[0]:
        return
    room, limit = headroom
    raise ResourceError(
        f"N_THREADS must be at most {max(room, 0):,} on this machine (got "
        f"{n_threads}): {limit} leaves no room for more"
    )


def check_memory(needed: int, conns: int, force: bool) -> None:
    available = available_memory()
    if force or available is None or needed <= available:
        return
    raise ResourceError(
        f"this run needs about {fmt_bytes(needed)} ({plural(conns, 'connection')} and "
        f"the run's packets and samples) but only {fmt_bytes(available)} is "
        "available; use smaller arguments, or --force"
    )


def check_time(estimate: Estimate, force: bool) -> None:
    """Refuse a run estimated over an hour (unless --force); say how long
    one over a minute will take before it starts."""
    if estimate.seconds > REFUSE_ABOVE_S and not force:
        raise ResourceError(
            f"this run would take {estimate.words} (estimated from the "
            "work and a calibration of each backend on this machine); use "
            "smaller arguments, or --force"
        )
    if estimate.seconds > QUIET_BELOW_S:
        click.echo(f"ctbench: this run should take {estimate.words}", err=True)


def run_benchmark(
    scenario: Callable[[Progress, Callable[[], bool]], RunResult],
    needed_bytes: int,
    conns: int,
    estimate: Callable[[], Estimate],
    opts: RunOptions,
    ovstest: OvstestPlan | None = None,
) -> None:
    """What every benchmark command does once its config and --output are
    checked (:func:`check_output`, before any work): check the memory and
    the time it will take (and the ovstest binaries to run after), run with
    the progress display and the stop flag, report."""
    check_memory(needed_bytes, conns, opts.force)
    planned = estimate()
    check_time(planned, opts.force)
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
