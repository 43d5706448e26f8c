"""ctbench pcap: a capture through the model, packet by packet, as ovstest's
pcap command."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import ovstest_states, read_capture
from ctbench.capture.track import TrackConfig, track, track_batches
from ctbench.cli.options import parse_backends, track_options
from ctbench.cli.progress_display import Interrupt
from ctbench.cli.run import EXIT_INTERRUPTED, claim_output, finish
from ctbench.cli.types import CAPTURE, INTEGER, OutputFile
from ctbench.errors import CtbenchError
from ctbench.model import Conntrack, Limits
from ctbench.ovstest.runner import check_executable
from ctbench.parse import extract_key
from ctbench.render import FORMATS as REPORT_FORMATS
from ctbench.render.packet_stream import FORMATS as STREAM_FORMATS
from ctbench.render.packet_stream import PacketRecord, StreamWriter
from ctbench.report.numbers import plural
from ctbench.scenarios.replay import (
    ReplayConfig,
    explain_invalid,
    require_packets,
    run_replay,
)

# pcap --ovstest: some packet's state differs from ovstest's.
EXIT_DIFFER = 1
# pcap's table without -b: the design of the seed patch (conntrack-key-by-zone).
PCAP_BACKEND = "per-zone"


@click.command("pcap")
@click.argument("file", type=CAPTURE)
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
@track_options("Conntrack zone of every packet.")
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
    claim_output(output, (file,))
    capture = read_capture(file)
    require_packets(capture)
    replay = ReplayConfig(files=(str(file),), track=config, backends=(spec,))
    run = run_replay(replay, capture)
    interrupt = Interrupt()
    with interrupt.installed():
        interrupt.hold()  # tracked: a Ctrl-C now waits for the file
        finish(run, fmt, output, interrupt)
