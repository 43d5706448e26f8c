"""ctbench create-rate: threads creating connections on one conntrack."""

from __future__ import annotations

from functools import partial

import click

from ctbench.cli.options import STOPPING_HELP, RunOptions, run_options
from ctbench.cli.progress_display import display_threads
from ctbench.cli.run import claim_output, run_benchmark
from ctbench.cli.types import INTEGER, NumbersAsArguments
from ctbench.commands import CREATE_RATE
from ctbench.preflight import check_threads
from ctbench.scenarios.create_rate import PER_THREAD, ZONE_LAYOUTS, CreateRateConfig

LOCK_WAIT_HELP = (
    "Time every wait for ct_lock and report it per thread. It costs two "
    "clock reads each time a thread takes the lock (every connection created "
    "or removed), inside the rates; off by default."
)


def create_rate_options(func: click.decorators.FC) -> click.decorators.FC:
    """--zones, --flusher, --sweeper and --lock-wait (sweep create-rate
    takes them too)."""
    for option in reversed(
        (
            click.option(
                "--zones",
                "zone_layout",
                type=click.Choice(ZONE_LAYOUTS),
                default=PER_THREAD,
                show_default=True,
                help="per-thread: thread i creates in zone i + 1; shared: every "
                "thread in zone 1.",
            ),
            click.option(
                "--flusher",
                is_flag=True,
                help="Beside the workers, a thread flushing their zones in turn "
                "(conntrack_flush_zone), back to back.",
            ),
            click.option(
                "--sweeper",
                is_flag=True,
                help="Beside the workers, a thread making OVS's sweep passes "
                "(conntrack_clean) back to back, every connection expired.",
            ),
            click.option("--lock-wait", is_flag=True, help=LOCK_WAIT_HELP),
        )
    ):
        func = option(func)
    return func


@click.command("create-rate", cls=NumbersAsArguments, epilog=STOPPING_HELP)
@click.argument("n_threads", type=INTEGER)
@click.argument("n_conns", type=INTEGER)
@click.argument("batch_size", type=INTEGER)
@create_rate_options
@run_options
def create_rate(
    n_threads: int,
    n_conns: int,
    batch_size: int,
    zone_layout: str,
    flusher: bool,
    sweeper: bool,
    lock_wait: bool,
    opts: RunOptions,
) -> None:
    """Connections created per second by N_THREADS threads sharing one
    conntrack: each commits N_CONNS new connections, in batches of
    BATCH_SIZE (1-32), between two barriers.  Every packet is a new
    connection, so every packet takes ct_lock, the lock ovstest's benchmark
    takes only for its first batch.  ovstest has no such command.

    Prints the creations per second, total and per thread, each thread's
    own rate, and the per-batch latency; --flusher and --sweeper add a
    thread that removes connections meanwhile and say what it removed.
    N_THREADS x N_CONNS over --conn-limit is refused, unless a flusher or
    a sweeper makes room (refusals are then counted and reported).

    \b
    Examples:
      ctbench create-rate 2 100000 32 -b per-zone -b single
      ctbench create-rate 4 50000 32 --zones shared --lock-wait
      ctbench create-rate 2 100000 32 --flusher -o run.json
    """
    config = CreateRateConfig(
        n_threads=n_threads,
        n_conns=n_conns,
        batch_size=batch_size,
        zone_layout=zone_layout,
        flusher=flusher,
        sweeper=sweeper,
        lock_wait=lock_wait,
        **opts.common(),
    )
    check_threads(config.n_threads, config.helper_threads + display_threads(opts.quiet))
    claim_output(opts.output)
    run_benchmark(
        partial(CREATE_RATE.run, config),
        *CREATE_RATE.memory(config),
        partial(CREATE_RATE.estimate, config),
        opts,
    )
