"""ctbench benchmark-zones: ovstest's zone scenario."""

from __future__ import annotations

from functools import partial

import click

from ctbench.cli.options import (
    STOPPING_HELP,
    RunOptions,
    measure_option,
    ovstest_options,
    refuse_unreproducible,
    run_options,
)
from ctbench.cli.run import claim_output, measured, run_benchmark
from ctbench.cli.types import INTEGER, NumbersAsArguments
from ctbench.commands import BENCHMARK_ZONES
from ctbench.ovstest.plan import OvstestPlan
from ctbench.scenarios.benchmark_zones import ZoneConfig


@click.command("benchmark-zones", cls=NumbersAsArguments, epilog=STOPPING_HELP)
@click.argument("entries", type=INTEGER)
@click.argument("zones", type=INTEGER)
@click.argument("iterations", type=INTEGER)
@click.option(
    "--batch-size",
    type=INTEGER,
    default=1,
    show_default=True,
    help="Packets per execute call (ovstest uses 1; at most 32).",
)
@click.option(
    "--sweep-every",
    type=float,
    metavar="SECONDS",
    help="Emulate OVS's cleaner on the wall clock every SECONDS (off by default).",
)
@click.option(
    "--warmup",
    type=INTEGER,
    default=0,
    show_default=True,
    help="Uncounted rounds first.",
)
@click.option(
    "--ovs-stats",
    is_flag=True,
    help="Add ovstest's estimators: EWMA Avg (0.01) and P-square 95%ile.",
)
@click.option(
    "--memory-sample",
    type=INTEGER,
    default=50_000,
    show_default=True,
    help="Connections in the tracemalloc memory sample (0 skips it).",
)
@measure_option
@run_options
@ovstest_options
def benchmark_zones(
    entries: int,
    zones: int,
    iterations: int,
    batch_size: int,
    sweep_every: float | None,
    warmup: int,
    ovs_stats: bool,
    memory_sample: int,
    measure: str,
    opts: RunOptions,
    ovstest: OvstestPlan | None,
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
      ctbench benchmark-zones 1000 100 50 --ovstest per-zone=./ovs/tests/ovstest
    """
    refuse_unreproducible(
        ovstest,
        conn_limit=opts.conn_limit,
        batch_size=batch_size,
        warmup=warmup,
        sweep_every=sweep_every,
        measure=measure,
    )
    config = ZoneConfig(
        entries=entries,
        zones=zones,
        iterations=iterations,
        batch_size=batch_size,
        warmup=warmup,
        sweep_every=sweep_every,
        ovs_stats=ovs_stats,
        memory_sample=memory_sample,
        measure=measure,
        **opts.common(),
    )
    claim_output(opts.output)
    run_benchmark(
        measured(BENCHMARK_ZONES, config, config),
        *BENCHMARK_ZONES.memory(config),
        partial(BENCHMARK_ZONES.estimate, config),
        opts,
        ovstest,
    )
