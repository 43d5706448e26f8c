"""ctbench's own commands whose runs make results files, as registry records.

Each record ties a command's scenario module, report module and CLI module
together (:class:`ctbench.registry.Command`).  They are registered through
the ``ctbench.commands`` entry-point group in ``pyproject.toml``, the group
a third-party package uses for its own: nothing imports this module but the
registry, when it loads the group.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

from ctbench.capture.track import plan_batches
from ctbench.estimate import (
    Estimate,
    counted_estimate,
    estimate_create_rate,
    estimate_replay,
    estimate_threads,
    estimate_zones,
)
from ctbench.registry import Command, Footprint, ThreadScaling
from ctbench.report.commands import benchmark as benchmark_report
from ctbench.report.commands import benchmark_zones as benchmark_zones_report
from ctbench.report.commands import create_rate as create_rate_report
from ctbench.report.commands import replay as replay_report
from ctbench.results import RunResult
from ctbench.scenarios import benchmark, benchmark_zones, create_rate, replay
from ctbench.scenarios.benchmark import ThreadsConfig
from ctbench.scenarios.benchmark_zones import ZoneConfig
from ctbench.scenarios.create_rate import CreateRateConfig
from ctbench.scenarios.harness import Progress
from ctbench.scenarios.replay import ReplayInput


def _zones_estimate(config: ZoneConfig) -> Estimate:
    rounds = config.warmup + config.iterations
    return counted_estimate(
        config.measure,
        len(config.backends) * rounds * len(benchmark_zones.PHASES),
        partial(
            estimate_zones,
            config.backends,
            config.entries,
            config.zones,
            rounds,
            config.conn_limit,
        ),
    )


def _zones_memory(config: ZoneConfig) -> Footprint:
    return Footprint(config.estimated_bytes(), config.expected_stored)


BENCHMARK_ZONES: Final = Command(
    name=benchmark_zones.COMMAND,
    config=ZoneConfig,
    run=benchmark_zones.run_zones,
    estimate=_zones_estimate,
    memory=_zones_memory,
    check_params=benchmark_zones.check_params,
    sections=benchmark_zones_report.SECTIONS,
    cli="ctbench.cli.benchmark_zones:benchmark_zones",
    pooling=benchmark_zones.POOLING,
)


def _threads_estimate(config: ThreadsConfig) -> Estimate:
    return counted_estimate(
        config.measure,
        len(config.backends) * config.n_threads * config.batches_per_thread,
        partial(
            estimate_threads,
            config.backends,
            config.n_threads,
            config.batches_per_thread,
            config.batch_size,
        ),
    )


def _threads_memory(config: ThreadsConfig) -> Footprint:
    return Footprint(config.estimated_bytes(), config.expected_conns)


BENCHMARK: Final = Command(
    name=benchmark.COMMAND,
    config=ThreadsConfig,
    run=benchmark.run_threads,
    estimate=_threads_estimate,
    memory=_threads_memory,
    check_params=benchmark.check_params,
    sections=benchmark_report.SECTIONS,
    cli="ctbench.cli.benchmark:benchmark",
    pooling=benchmark.POOLING,
    # Throughput as ovstest's figures give it: N_THREADS x packets per
    # thread over the barrier-to-barrier time (its "conntrack: NNN ms").
    scaling=ThreadScaling(param="n_threads", throughput="pps", unit="packets/s"),
)


def _create_rate_estimate(config: CreateRateConfig) -> Estimate:
    return estimate_create_rate(
        config.backends, config.n_threads, config.n_conns, config.batch_size
    )


def _create_rate_memory(config: CreateRateConfig) -> Footprint:
    return Footprint(config.estimated_bytes(), config.expected_conns)


CREATE_RATE: Final = Command(
    name=create_rate.COMMAND,
    config=CreateRateConfig,
    run=create_rate.run_create_rate,
    estimate=_create_rate_estimate,
    memory=_create_rate_memory,
    check_params=create_rate.check_params,
    sections=create_rate_report.SECTIONS,
    cli="ctbench.cli.create_rate:create_rate",
    pooling=create_rate.POOLING,
    # Connections created by all threads over the barrier-to-barrier time.
    scaling=ThreadScaling(param="n_threads", throughput="cps", unit="connections/s"),
)


def _replay_run(
    given: ReplayInput, progress: Progress, interrupted: Callable[[], bool]
) -> RunResult:
    return replay.run_replay(given.config, given.capture, progress, interrupted)


def _replay_estimate(given: ReplayInput) -> Estimate:
    config = given.config
    batches = len(plan_batches(given.capture, config.track))
    return counted_estimate(
        config.measure,
        len(config.backends) * batches * config.repeat,
        partial(estimate_replay, config, given.capture),
    )


def _replay_memory(given: ReplayInput) -> Footprint:
    return Footprint(
        replay.estimated_bytes(given.config, given.capture), len(given.capture)
    )


REPLAY: Final = Command(
    name=replay.COMMAND,
    config=ReplayInput,
    run=_replay_run,
    estimate=_replay_estimate,
    memory=_replay_memory,
    check_params=replay.check_params,
    sections=replay_report.SECTIONS,
    cli="ctbench.cli.replay:replay",
    pooling=replay.POOLING,
)
