"""ctbench pcap: a capture through the model, packet by packet, as ovstest's
pcap command."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from ctbench.backends import BackendSpec
from ctbench.capture import read_capture
from ctbench.capture.ovstest_states import check_file
from ctbench.capture.packet_states import track_file
from ctbench.capture.track import TrackConfig
from ctbench.cli.options import parse_backends, tag_option, track_options
from ctbench.cli.progress_display import Interrupt
from ctbench.cli.run import EXIT_INTERRUPTED, claim_output, finish
from ctbench.cli.types import CAPTURE, INTEGER, OutputFile
from ctbench.errors import CtbenchError
from ctbench.render import FORMATS as REPORT_FORMATS
from ctbench.render.packet_stream import FORMATS as STREAM_FORMATS
from ctbench.render.packet_stream import StreamWriter
from ctbench.render.pcap_check import check_text
from ctbench.report.numbers import plural
from ctbench.scenarios.replay import ReplayConfig, run_replay

# pcap --ovstest: some packet's state differs from ovstest's.
EXIT_DIFFER = 1
# pcap's table without -b: the patch's design (docs/ovs-reference.md).
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
@tag_option
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
    tags: dict[str, str],
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
        if summary or fmt not in (None, "text") or output is not None or tags:
            raise CtbenchError(
                "--ovstest prints the packets whose states differ: it takes no "
                "--summary, --format, --output or --tag"
            )
        result = check_file(file, config, spec, ovstest_path, ovstest_timeout)
        click.echo(check_text(result, spec.label, ovstest_path, batch_size), nl=False)
        if not result.agrees:
            sys.exit(EXIT_DIFFER)
        return
    if ovstest_timeout is not None:
        raise CtbenchError("--ovstest-timeout goes with --ovstest PATH")
    if summary:
        _summary(file, config, spec, fmt, output, tags)
        return
    if output is not None or tags:
        raise CtbenchError(
            "--output and --tag make --summary's results file; add --summary"
        )
    fmt = fmt or "text"
    if fmt not in STREAM_FORMATS:
        raise CtbenchError(
            f"--format {fmt}: per packet the formats are {', '.join(STREAM_FORMATS)} "
            f"({fmt} is a --summary format)"
            if fmt in REPORT_FORMATS
            else f"--format must be one of {', '.join(STREAM_FORMATS)} (got {fmt!r})"
        )
    tracked = track_file(file, config, spec, detail=fmt != "text")
    writer = StreamWriter(fmt, partial(click.echo, nl=False))
    done = 0
    try:
        for records in tracked.batches:
            writer.add(records)
            done = records[-1].number
    except KeyboardInterrupt:
        writer.close()
        total = plural(len(tracked.capture), "packet")
        click.echo(f"ctbench: interrupted after {done:,} of {total}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    writer.close()


def _summary(
    file: Path,
    config: TrackConfig,
    spec: BackendSpec,
    fmt: str | None,
    output: Path | None,
    tags: dict[str, str],
) -> None:
    """--summary: the capture replayed once through the one table, as a
    replay run and its report."""
    if fmt == "text":
        fmt = None
    if fmt is not None and fmt not in REPORT_FORMATS:
        raise CtbenchError(
            f"--format must be one of {', '.join(REPORT_FORMATS)} with --summary "
            f"(got {fmt!r})"
        )
    claim_output(output, (file,))
    replay = ReplayConfig(files=(str(file),), track=config, backends=(spec,))
    run = run_replay(replay, read_capture(file))
    run.tags = tags
    interrupt = Interrupt()
    with interrupt.installed():
        interrupt.hold()  # tracked: a Ctrl-C now waits for the file
        finish(run, fmt, output, interrupt)
