"""ctbench replay: real captures through each backend, timed batch by batch."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from ctbench.capture.track import TrackConfig
from ctbench.cli.options import (
    STOPPING_HELP,
    RunOptions,
    measure_option,
    run_options,
    track_options,
)
from ctbench.cli.run import claim_output, measured, run_benchmark
from ctbench.cli.types import CAPTURE, INTEGER
from ctbench.commands import REPLAY
from ctbench.scenarios.replay import (
    DEFAULT_BATCH_SIZE,
    ReplayConfig,
    ReplayInput,
    load_captures,
    require_packets,
)


@click.command("replay", epilog=STOPPING_HELP)
@click.argument("files", nargs=-1, required=True, type=CAPTURE)
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
@track_options("Conntrack zone of the packets (the first zone with --zones).")
@measure_option
@run_options
def replay(
    files: tuple[Path, ...],
    batch_size: int,
    repeat: int,
    zones: int,
    zone: int,
    clock: str,
    trust_l4_checksums: bool,
    measure: str,
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
    claim_output(opts.output, files)
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
        measure=measure,
        **opts.common(),
    )
    capture = load_captures(files)
    require_packets(capture)
    given = ReplayInput(config, capture)
    run_benchmark(
        measured(REPLAY, given, config),
        *REPLAY.memory(given),
        partial(REPLAY.estimate, given),
        opts,
    )
