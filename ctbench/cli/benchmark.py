"""ctbench benchmark: ovstest's threaded scenario."""

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
from ctbench.cli.progress_display import display_threads
from ctbench.cli.run import claim_output, measured, run_benchmark
from ctbench.cli.types import INTEGER, NumbersAsArguments
from ctbench.commands import BENCHMARK
from ctbench.ovstest.plan import OvstestPlan
from ctbench.preflight import check_threads
from ctbench.scenarios.benchmark import ThreadsConfig


@click.command("benchmark", cls=NumbersAsArguments, epilog=STOPPING_HELP)
@click.argument("n_threads", type=INTEGER)
@click.argument("n_pkts", type=INTEGER)
@click.argument("batch_size", type=INTEGER)
@click.argument("change_conn", type=INTEGER, default=0)
@measure_option
@run_options
@ovstest_options
def benchmark(
    n_threads: int,
    n_pkts: int,
    batch_size: int,
    change_conn: int,
    measure: str,
    opts: RunOptions,
    ovstest: OvstestPlan | None,
) -> None:
    """ovstest's threaded benchmark: N_THREADS threads share one conntrack;
    each builds a batch of BATCH_SIZE (1-32) packets from port 1 + thread
    index to port 2 and, after a barrier, executes it with commit in zone 0
    until it has sent N_PKTS packets.  Prints ovstest's "conntrack:  NNN ms"
    (barrier to barrier) per backend, the per-batch latency and the
    throughput.

    CHANGE_CONN 1 (default 0) gives each packet of a batch its own
    connection (destination port 2 + packet index), as ovstest's
    documentation says.  ovstest's own flag no longer does this: since the
    zone benchmark was added it only moves every packet to port 3, still one
    connection per thread.

    Under CPython's GIL the threads run concurrently but not in parallel
    (one executes Python at a time); the report says which was the case.
    Every batch's latency is kept (8 bytes a batch while running), so very
    long runs make large results files.

    \b
    Examples:
      ctbench benchmark 1 1000000 32
      ctbench benchmark 4 33554432 32 1 -b per-zone
      ctbench benchmark 2 100000 32 1 --format markdown -o run.json
      ctbench benchmark 1 100000 32 -b single --ovstest single=./ovs/tests/ovstest
    """
    refuse_unreproducible(ovstest, conn_limit=opts.conn_limit, measure=measure)
    config = ThreadsConfig(
        n_threads=n_threads,
        n_pkts=n_pkts,
        batch_size=batch_size,
        change_conn=change_conn,
        measure=measure,
        **opts.common(),
    )
    check_threads(config.n_threads, config.helper_threads + display_threads(opts.quiet))
    claim_output(opts.output)
    run_benchmark(
        measured(BENCHMARK, config, config),
        *BENCHMARK.memory(config),
        partial(BENCHMARK.estimate, config),
        opts,
        ovstest,
    )
