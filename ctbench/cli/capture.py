"""ctbench pcap and ctbench replay: real captures through the model."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import ovstest_states, read_capture
from ctbench.capture.track import CLOCKS, TrackConfig, track, track_batches
from ctbench.cli.common import (
    EXIT_INTERRUPTED,
    INTEGER,
    STOPPING_HELP,
    OutputFile,
    RunOptions,
    check_output,
    finish,
    parse_backends,
    run_benchmark,
    run_options,
)
from ctbench.cli.progress_display import Interrupt
from ctbench.errors import CtbenchError
from ctbench.model import Conntrack, Limits
from ctbench.ovstest.runner import check_executable
from ctbench.parse import extract_key
from ctbench.render import FORMATS as REPORT_FORMATS
from ctbench.render.packet_stream import FORMATS as STREAM_FORMATS
from ctbench.render.packet_stream import PacketRecord, StreamWriter
from ctbench.report.numbers import plural
from ctbench.scenarios.replay import (
    DEFAULT_BATCH_SIZE,
    ReplayConfig,
    estimate_replay,
    estimated_bytes,
    explain_invalid,
    load_captures,
    require_packets,
    run_replay,
)

_CAPTURE = click.Path(dir_okay=False, path_type=Path)
# pcap --ovstest: some packet's state differs from ovstest's.
EXIT_DIFFER = 1
# pcap's table without -b: the patch's design (docs/ovs-reference.md).
PCAP_BACKEND = "per-zone"


F = TypeVar("F", bound=Callable[..., Any])


def _track_options(zone_help: str) -> Callable[[F], F]:
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


@click.command("pcap")
@click.argument("file", type=_CAPTURE)
@click.argument("batch_size", type=INTEGER, default=1, required=False)
@click.option(
    "--backend",
    "-b",
    "backends",
    multiple=True,
    metavar="NAME[:KEY=VALUE,...]",
    help=f"The backend whose table tracks the packets [default: {PCAP_BACKEND}]; "
    "one only (replay runs several side by side).",
)
@_track_options("Conntrack zone of every packet.")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="Per packet: text (ovstest's lines, the default), json, csv.  With "
    f"--summary: {', '.join(REPORT_FORMATS)}.",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Instead of every packet: counts per state, connections created, "
    "invalid packets and why, and the time per batch, as a report.",
)
@click.option(
    "--output",
    "-o",
    type=OutputFile(),
    help="With --summary: also write the results file (JSON) here.",
)
@click.option(
    "--ovstest",
    "ovstest_path",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Also run this ovstest's pcap command on the capture, at the same "
    "batch size; print the packets whose states differ (exit 1 if any).",
)
@click.option(
    "--ovstest-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Bound on ovstest's run [default: 60 s + 1 ms per packet].",
)
def pcap(
    file: Path,
    batch_size: int,
    backends: tuple[str, ...],
    zone: int,
    clock: str,
    trust_l4_checksums: bool,
    fmt: str | None,
    summary: bool,
    output: Path | None,
    ovstest_path: Path | None,
    ovstest_timeout: float | None,
) -> None:
    """ovstest's pcap command: track every packet of FILE (pcap or pcapng)
    with commit in one zone, BATCH_SIZE (1..32) packets per execute, and
    print each packet's state as ovstest does: "N: new|trk".

    Unlike ovstest, a batch that mixes IPv4 and IPv6 is executed correctly,
    the capture's timestamps are the clock (--clock), and pcapng, Linux
    cooked v2 (SLL2) and raw IP captures are read.

    \b
    Examples:
      ctbench pcap capture.pcap
      ctbench pcap capture.pcapng 32 --format csv
      ctbench pcap capture.pcap --summary -b single
    """
    config = TrackConfig(
        batch_size=batch_size,
        zone=zone,
        clock=clock,
        verify_l4=not trust_l4_checksums,
    )
    if len(backends) > 1:
        raise CtbenchError(
            f"pcap tracks the packets with one backend: -b is given "
            f"{len(backends)} times ({', '.join(backends)}); replay runs several "
            "side by side"
        )
    spec = parse_backends(backends or (PCAP_BACKEND,))[0]
    if ovstest_path is not None:
        if summary or fmt not in (None, "text") or output is not None:
            raise CtbenchError(
                "--ovstest prints the packets whose states differ: it takes no "
                "--summary, --format or --output"
            )
        check_executable(ovstest_path, f"--ovstest {ovstest_path}")
        _against_ovstest(file, config, spec, ovstest_path, ovstest_timeout)
        return
    if ovstest_timeout is not None:
        raise CtbenchError("--ovstest-timeout goes with --ovstest PATH")
    if summary:
        _summary(file, config, spec, fmt, output)
        return
    if output is not None:
        raise CtbenchError("--output writes --summary's results file; add --summary")
    fmt = fmt or "text"
    if fmt not in STREAM_FORMATS:
        raise CtbenchError(
            f"--format {fmt}: per packet the formats are {', '.join(STREAM_FORMATS)} "
            f"({fmt} is a --summary format)"
            if fmt in REPORT_FORMATS
            else f"--format must be one of {', '.join(STREAM_FORMATS)} (got {fmt!r})"
        )
    capture = read_capture(file)
    model = Conntrack(create_table(spec), Limits(), verify_l4=config.verify_l4)
    writer = StreamWriter(fmt, partial(click.echo, nl=False))
    done = 0
    try:
        for batch, states in track_batches(capture, config, model):
            records = []
            for i, state in zip(range(batch.start, batch.end), states, strict=True):
                frame = capture.frames[i]
                records.append(
                    PacketRecord(
                        i + 1,
                        capture.ts_ns[i],
                        batch.zone,
                        state,
                        extract_key(frame, batch.zone, config.verify_l4)
                        if fmt != "text"
                        else "",
                        explain_invalid(frame, config.verify_l4)
                        if fmt != "text" and state & 0x10
                        else None,
                    )
                )
            writer.add(records)
            done = batch.end
    except KeyboardInterrupt:
        writer.close()
        click.echo(
            f"ctbench: interrupted after {done:,} of {plural(len(capture), 'packet')}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    writer.close()


def _against_ovstest(
    file: Path,
    config: TrackConfig,
    spec: BackendSpec,
    binary: Path,
    timeout: float | None,
) -> None:
    capture = read_capture(file)
    model = Conntrack(create_table(spec), Limits(), verify_l4=config.verify_l4)
    states = track(capture, config, model)
    result = ovstest_states.check(
        file,
        capture,
        config,
        states,
        binary,
        timeout if timeout is not None else ovstest_states.default_timeout(capture),
    )
    for note in result.notes:
        click.echo(f"NOTE: {note}")
    for d in result.differences:
        why = f"  ({d.why})" if d.why else ""
        click.echo(f"{d.number}: ctbench {d.ctbench}, ovstest {d.ovstest}{why}")
    for line in result.unmatched:
        click.echo(line)
    compared = result.printed
    if result.differences or result.unmatched:
        unmatched = len(result.unmatched)
        differ = "differs" if len(result.differences) == 1 else "differ"
        click.echo(
            f"{len(result.differences):,} of {plural(compared, 'packet')} {differ} "
            f"between ctbench ({spec.label}) and {binary}"
            + (
                "; ovstest's lines and the capture's packets do not pair up in "
                f"{plural(unmatched, 'place')}, listed above"
                if unmatched
                else ""
            )
        )
        sys.exit(EXIT_DIFFER)
    click.echo(
        f"ctbench ({spec.label}) and {binary} agree on "
        f"{'the' if compared == 1 else 'all'} {plural(compared, 'packet')} "
        f"compared (batch size {config.batch_size})"
    )


def _summary(
    file: Path,
    config: TrackConfig,
    spec: BackendSpec,
    fmt: str | None,
    output: Path | None,
) -> None:
    if fmt == "text":
        fmt = None
    if fmt is not None and fmt not in REPORT_FORMATS:
        raise CtbenchError(
            f"--format must be one of {', '.join(REPORT_FORMATS)} with --summary "
            f"(got {fmt!r})"
        )
    check_output(output, (file,))
    capture = read_capture(file)
    require_packets(capture)
    replay = ReplayConfig(files=(str(file),), track=config, backends=(spec,))
    run = run_replay(replay, capture)
    interrupt = Interrupt()
    with interrupt.installed():
        interrupt.hold()  # tracked: a Ctrl-C now waits for the file
        finish(run, fmt, output, interrupt)


@click.command("replay", epilog=STOPPING_HELP)
@click.argument("files", nargs=-1, required=True, type=_CAPTURE)
@click.option(
    "--batch-size",
    type=INTEGER,
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Packets per execute, at most 32 (a datapath's burst); a batch also "
    "ends where the L3 type or the zone changes.",
)
@click.option(
    "--repeat",
    type=INTEGER,
    default=1,
    show_default=True,
    help="Play the captures N times, each from an empty table.",
)
@click.option(
    "--zones",
    type=INTEGER,
    default=1,
    show_default=True,
    help="Spread the connections over N zones from --zone on (by a hash of "
    "each connection's key, so both directions share a zone).",
)
@_track_options("Conntrack zone of the packets (the first zone with --zones).")
@run_options
def replay(
    files: tuple[Path, ...],
    batch_size: int,
    repeat: int,
    zones: int,
    zone: int,
    clock: str,
    trust_l4_checksums: bool,
    opts: RunOptions,
) -> None:
    """Benchmark the backends on real traffic: the packets of FILES (pcap or
    pcapng, played in order) through each backend in turn, with commit,
    timed per batch.  Prints per-batch latency, packets per second, the
    packets' states and the work done, side by side.

    \b
    Examples:
      ctbench replay capture.pcap --repeat 1000
      ctbench replay a.pcap b.pcapng --zones 64 -b single -b per-zone -o run.json
    """
    check_output(opts.output, files)
    config = ReplayConfig(
        files=tuple(str(f) for f in files),
        track=TrackConfig(
            batch_size=batch_size,
            zone=zone,
            zones=zones,
            clock=clock,
            verify_l4=not trust_l4_checksums,
        ),
        repeat=repeat,
        **opts.common(),
    )
    capture = load_captures(files)
    require_packets(capture)
    run_benchmark(
        partial(run_replay, config, capture),
        estimated_bytes(config, capture),
        len(capture),
        partial(estimate_replay, config, capture),
        opts,
    )
