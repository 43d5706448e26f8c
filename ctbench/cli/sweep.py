"""ctbench sweep: benchmark-zones over a grid, and the growth it shows."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import click

from ctbench import files, registry
from ctbench.cli.options import FORCE_HELP, parse_backends, tag_option
from ctbench.cli.progress_display import Interrupt, ProgressDisplay, to_stderr
from ctbench.cli.run import (
    EXIT_BACKEND_FAILED,
    claim_output,
    lock_until_done,
    say,
    write_before_report,
)
from ctbench.cli.sweep_threads import (
    commands_taking,
    merge_threads,
    thread_commands,
    thread_sweep,
)
from ctbench.cli.types import INTEGER, Integer, OutputFile
from ctbench.errors import CtbenchError
from ctbench.growth.analysis import DEFAULT_STATISTIC, STATISTICS
from ctbench.growth.build import build_sweep
from ctbench.growth.document import SweepDocument, dumps_sweep, plan_to_json
from ctbench.growth.grid import (
    SCENARIOS,
    SWEEP_MEMORY_SAMPLE,
    Point,
    SweepConfig,
    command_line,
    parse_sizes,
    points_dir_for,
)
from ctbench.growth.runner import (
    Event,
    Step,
    SweepOutcome,
    check_points_dir,
    run_sweep,
)
from ctbench.growth.threads import DEFAULT_REPEATS
from ctbench.memory import DEFAULT_SAMPLE_CONNS
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.render import growth
from ctbench.report.numbers import plural
from ctbench.results import RunResult
from ctbench.scenarios.benchmark_zones import ZoneConfig, run_zones


class SweepUsageError(CtbenchError):
    """Options that do not make a sweep."""


# The options only a thread sweep takes (benchmark-zones' --zones and
# --batch-size are create-rate's too).
THREAD_ONLY = (
    "threads",
    "packets",
    "change_conn",
    "repeat",
    "conns",
    "flusher",
    "sweeper",
    "lock_wait",
)
# Options of a sweep that runs or plans points; --merge takes none of them.
GRID_OPTIONS = (
    "entries",
    "zones",
    "iterations",
    "backend_specs",
    "batch_size",
    "warmup",
    "conn_limit",
    "gc_enabled",
    "memory_sample",
    "resume",
    "points_dir",
    "seed",
    "force",
    "tags",
    *THREAD_ONLY,
)


@click.command("sweep")
@click.argument(
    "args",
    nargs=-1,
    metavar="benchmark-zones | benchmark | create-rate | [COMMAND] --merge FILE...",
)
@click.option("--entries", metavar="N,N,...", help="ENTRIES values, e.g. 1000,3000")
@click.option(
    "--zones",
    metavar="N,N,...",
    help="benchmark-zones: ZONES values, e.g. 10,30,100; create-rate: its "
    "--zones, per-thread (the default) or shared.",
)
@click.option("--iterations", type=INTEGER, help="ITERATIONS at every point.")
@click.option(
    "--threads",
    metavar="N,N,...",
    help="benchmark, create-rate: N_THREADS values, e.g. 1,2,4; the scaling "
    "law is fitted on them.",
)
@click.option("--packets", type=INTEGER, help="benchmark: N_PKTS at every point.")
@click.option(
    "--change-conn",
    type=INTEGER,
    default=0,
    show_default=True,
    help="benchmark: CHANGE_CONN at every point.",
)
@click.option(
    "--repeat",
    type=Integer(min=1),
    default=DEFAULT_REPEATS,
    show_default=True,
    help="benchmark, create-rate: runs at each thread count (the fit's repeats).",
)
@click.option("--conns", type=INTEGER, help="create-rate: N_CONNS at every point.")
@click.option("--flusher", is_flag=True, help="create-rate: its --flusher.")
@click.option("--sweeper", is_flag=True, help="create-rate: its --sweeper.")
@click.option("--lock-wait", is_flag=True, help="create-rate: its --lock-wait.")
@click.option(
    "--backend",
    "-b",
    "backend_specs",
    multiple=True,
    metavar="NAME[:KEY=VALUE,...]",
    help="Backend to run at every point; repeat for several. Default: single "
    "and per-zone.",
)
@click.option(
    "--batch-size",
    type=INTEGER,
    default=1,
    show_default=True,
    help="Packets per execute call at every point (benchmark-zones' "
    "--batch-size; benchmark's and create-rate's BATCH_SIZE, which must be "
    "given).",
)
@click.option(
    "--warmup",
    type=INTEGER,
    default=0,
    show_default=True,
    help="Uncounted rounds first, at every point.",
)
@click.option(
    "--conn-limit",
    type=INTEGER,
    default=DEFAULT_CONN_LIMIT,
    show_default=True,
    help="Table-wide connection limit; 0 means no limit.",
)
@click.option("--gc", "gc_enabled", is_flag=True, help="Leave the cyclic GC on.")
@click.option(
    "--memory-sample",
    type=INTEGER,
    default=SWEEP_MEMORY_SAMPLE,
    show_default=True,
    help="Connections in each point's memory sample (benchmark-zones' "
    f"default is {DEFAULT_SAMPLE_CONNS:,}; growth needs none).",
)
@click.option(
    "--stat",
    "statistic",
    type=click.Choice(STATISTICS),
    default=DEFAULT_STATISTIC,
    show_default=True,
    help="The statistic of each point's samples that is fitted.",
)
@click.option(
    "--seed",
    type=Integer(min=0),
    default=0,
    show_default=True,
    help="Seed of the shuffled order the points run in.",
)
@click.option(
    "--plan", is_flag=True, help="Write the plan (-o) and print its commands."
)
@click.option("--merge", is_flag=True, help="Fit the results FILEs given.")
@click.option("--resume", is_flag=True, help="Keep the points already finished.")
@click.option(
    "--points-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where each point's results file goes [default: beside -o, "
    "sweep.json -> sweep-points/].",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@tag_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(growth.FORMATS),
    default="table",
    show_default=True,
    help="The growth table's layout.",
)
@click.option(
    "--output",
    "-o",
    type=OutputFile(),
    help="The sweep file (JSON; with --plan, the plan), written atomically.",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress on stderr: no bars, no line per point kept or written "
    "(a point file that must run again is still named).",
)
@click.pass_context
def sweep(ctx: click.Context, /, args: tuple[str, ...], **opts: object) -> None:
    """Run benchmark-zones at every ENTRIES x ZONES point and fit how each
    phase's cost grows with the connections stored and the zone's size.

    Each point is an ordinary results file (in --points-dir); the sweep file
    (-o) records the grid, the points and, per backend and phase, the
    exponents of cost = k * stored^b * zone^c with 95% intervals.  Ctrl-C
    keeps the finished points and fits them; --resume skips them next time.
    The point running stops once its call in progress returns (a second
    Ctrl-C abandons that call) and is not kept.

    --plan writes the points' command lines instead of running them, to run
    on other machines; --merge fits the results files they made.

    sweep benchmark runs benchmark at every --threads count, --repeat times
    each, and fits its throughput (all threads' packets over the
    barrier-to-barrier time) against threads with the Universal
    Scalability Law, reporting contention sigma and coherency kappa with
    95% intervals (Amdahl's law, kappa = 0, with 2 thread counts).  sweep
    create-rate does the same with create-rate's connections created per
    second.

    \b
    Examples:
      ctbench sweep benchmark-zones --entries 1000,3000,10000 \\
          --zones 10,30,100 --iterations 20 -b single -b per-zone -o sweep.json
      ctbench sweep benchmark --threads 1,2,4 --packets 200000 \\
          --batch-size 32 -b per-zone -o scaling.json
      ctbench sweep create-rate --threads 1,2,4 --conns 100000 \\
          --batch-size 32 -b single -b per-zone -o create-scaling.json
      ctbench sweep benchmark-zones --entries 1000,10000 --zones 10,100 \\
          --iterations 50 --plan -o plan.json
      ctbench sweep --merge machine-a/*.json machine-b/*.json -o sweep.json
    """
    output = opts["output"]
    assert output is None or isinstance(output, Path)
    statistic, fmt = str(opts["statistic"]), str(opts["fmt"])
    if opts["merge"]:
        # "sweep benchmark-zones --merge FILE...": the scenario named before
        # its files, not a file of its own.
        named = (*SCENARIOS, *thread_commands())
        files = args[1:] if args[:1] and args[0] in named else args
        _merge(ctx, files, output, statistic, fmt)
        return
    if len(args) == 1 and args[0] in thread_commands():
        thread_sweep(ctx, args[0], opts)
        return
    if len(args) != 1 or args[0] not in SCENARIOS:
        got = " ".join(args) or "nothing"
        raise SweepUsageError(
            f"sweep runs {', '.join((*SCENARIOS, *thread_commands()))} (got "
            f"{got}); or give --merge FILE... to fit results files"
        )
    for name in THREAD_ONLY:
        if _given(ctx, name):
            sweeps = " and ".join(f"sweep {c}" for c in commands_taking(name))
            raise SweepUsageError(
                f"--{name.replace('_', '-')} is for {sweeps}, not sweep {args[0]}"
            )
    for name in ("entries", "zones", "iterations"):
        if opts[name] is None:
            raise SweepUsageError(f"sweep {args[0]} needs --{name}")
    if output is None:
        raise SweepUsageError(
            "sweep needs -o FILE: "
            + ("the plan file" if opts["plan"] else "the sweep file, beside its points")
        )
    config = SweepConfig(
        entries=parse_sizes(str(opts["entries"]), "--entries"),
        zones=parse_sizes(str(opts["zones"]), "--zones"),
        iterations=_int(opts["iterations"]),
        backends=parse_backends(tuple(opts["backend_specs"])),  # type: ignore[arg-type]
        batch_size=_int(opts["batch_size"]),
        warmup=_int(opts["warmup"]),
        conn_limit=_int(opts["conn_limit"]),
        gc_enabled=bool(opts["gc_enabled"]),
        memory_sample=_int(opts["memory_sample"]),
        force=bool(opts["force"]),
        seed=_int(opts["seed"]),
        tags=tuple(dict(opts["tags"]).items()),  # type: ignore[call-overload]
    )
    if opts["plan"]:
        if opts["resume"]:
            raise SweepUsageError("--resume runs points; --plan only writes them")
        _plan(config, output)
        return
    points_dir = opts["points_dir"]
    assert points_dir is None or isinstance(points_dir, Path)
    _run(
        config,
        output,
        points_dir or points_dir_for(output),
        resume=bool(opts["resume"]),
        quiet=bool(opts["quiet"]),
        statistic=statistic,
        fmt=fmt,
    )


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT)


# -- --plan -------------------------------------------------------------------


def _plan(config: SweepConfig, output: Path) -> None:
    import json

    claim_output(output)
    points = config.points()
    plan = plan_to_json(config, points)
    files.write_file(output, json.dumps(plan, indent=1) + "\n")
    for point in points:
        click.echo(command_line(config.argv(point, point.file_name())))
    click.echo(
        f"plan of {plural(len(points), 'point')} written to {output}; run each "
        "command "
        "on its own (one per machine, or one after the other), then "
        "ctbench sweep --merge FILE...",
        err=True,
    )


# -- --merge ------------------------------------------------------------------


def _merge(
    ctx: click.Context,
    files: tuple[str, ...],
    output: Path | None,
    statistic: str,
    fmt: str,
) -> None:
    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name in GRID_OPTIONS and _given(ctx, param.name)
    ]
    if given:
        raise SweepUsageError(
            f"--merge fits results files as they are: {', '.join(given)} cannot apply"
        )
    if ctx.get_parameter_source("plan") != click.core.ParameterSource.DEFAULT:
        raise SweepUsageError("--plan and --merge do not go together")
    if not files:
        raise SweepUsageError("--merge needs the results FILEs to fit")
    paths = [Path(f) for f in files]
    claim_output(output, paths)
    named = [(str(path), registry.load(path)) for path in paths]
    if named[0][1].command in thread_commands():
        merge_threads(named, output, fmt)
        return
    doc = build_sweep(named, statistic)
    _report(doc, output, fmt)


# -- running ------------------------------------------------------------------


def _run(
    config: SweepConfig,
    output: Path,
    points_dir: Path,
    *,
    resume: bool,
    quiet: bool,
    statistic: str,
    fmt: str,
) -> None:
    # The sweep file must not replace a point's file, which it lists.
    claim_output(output, [points_dir / p.file_name() for p in config.points()])
    check_points_dir(points_dir)
    lock_until_done(points_dir)
    interrupt = Interrupt()

    def run_point(point: Point, zone_config: ZoneConfig) -> RunResult:
        with ProgressDisplay(quiet) as progress:
            interrupt.notice = progress.notice
            try:
                return run_zones(zone_config, progress, interrupt)
            finally:
                interrupt.notice = to_stderr

    started = time.monotonic()
    with ExitStack() as running:

        def start() -> None:
            nonlocal started
            started = time.monotonic()
            # Installed once the checks are passed: a Ctrl-C before then
            # ends the command as any other does.
            running.enter_context(interrupt.installed())

        outcome = run_sweep(
            config,
            points_dir,
            output,
            statistic,
            resume=resume,
            run_point=run_point,
            interrupted=interrupt,
            on_event=_tell(quiet),
            notice=say,
            on_start=start,
        )
        interrupt.hold()  # the points have stopped: keep the sweep file safe
        _fit(outcome, statistic, output, fmt, interrupt)
        if not quiet:
            minutes = (time.monotonic() - started) / 60
            click.echo(f"sweep took {minutes:.1f} min", err=True)
    _exit(outcome, interrupt)


def _fit(
    outcome: SweepOutcome,
    statistic: str,
    output: Path,
    fmt: str,
    interrupt: Interrupt,
) -> None:
    """Fit the finished points, write the sweep file and print its table;
    with no point finished, say so and exit."""
    stopped_by = interrupt.signal.name if interrupt.signal else None
    if not outcome.finished and outcome.unwritten is not None:
        raise outcome.unwritten
    if not outcome.finished:
        click.echo(
            f"ctbench: stopped by {stopped_by or 'an interrupt'} before any "
            "point finished: nothing to fit, no sweep file written",
            err=True,
        )
        sys.exit(128 + (interrupt.signal or signal.SIGINT))
    _report(outcome.document(statistic, stopped_by), output, fmt, interrupt)


def _exit(outcome: SweepOutcome, interrupt: Interrupt) -> None:
    """Exit with what happened to the sweep once its file and table are
    out: a file it could not write, a stop, a failed backend."""
    if outcome.unwritten is not None:
        raise outcome.unwritten  # the finished points are kept and fitted
    if interrupt.signal is not None:
        click.echo(
            f"interrupted by {interrupt.signal.name}: the finished points are "
            "kept and fitted; --resume runs the others",
            err=True,
        )
        sys.exit(128 + interrupt.signal)
    if outcome.failed:
        names = ", ".join(str(path) for path, _ in outcome.failed)
        click.echo(
            f"ctbench: error: a backend failed at {names}; the others' "
            "results were kept and fitted",
            err=True,
        )
        sys.exit(EXIT_BACKEND_FAILED)


def _tell(quiet: bool) -> Callable[[Event], None]:
    """A line per point on stderr: progress (kept, written) unless quiet;
    what a point loses (a file run again, a point cut short) always."""

    def tell(event: Event) -> None:
        where = f"[{event.index}/{event.total}] {event.point}"
        if event.step is Step.KEPT and not quiet:
            click.echo(f"{where}: kept {event.path}", err=True)
        elif event.step is Step.REDO:
            click.echo(f"{where}: {event.path} {event.detail}: runs again", err=True)
        elif event.step is Step.CUT:
            click.echo(f"{where}: interrupted, not kept", err=True)
        elif event.step is Step.DONE and not quiet:
            click.echo(f"{where}: written to {event.path}", err=True)

    return tell


def _report(
    doc: SweepDocument,
    output: Path | None,
    fmt: str,
    interrupt: Interrupt | None = None,
) -> None:
    """Write the sweep file, then print the growth table, as
    :func:`ctbench.cli.run.emit` does for a run."""
    unwritten = write_before_report(
        output,
        lambda path: files.write_file(path, dumps_sweep(doc, path)),
        "sweep",
        interrupt,
    )
    click.echo(growth.render(doc, fmt), nl=False)
    if unwritten is not None:
        raise unwritten
