"""A command from outside ctbench/, as a third-party package would write it.

``ctbench churn PACKETS ROUNDS``: each round commits PACKETS of ovstest's
frames into zone 1, then flushes zone 1, each phase timed.  Its four parts
are what adding a command takes (ctbench.registry): a scenario (the
workload on ctbench's harness), a report (its sections), a CLI command, and
one registration, :data:`CHURN`, which tests/test_extension_points.py hands
to ``ctbench.registry.register`` (a package would name it in the
``ctbench.commands`` entry-point group instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Final

import click

from ctbench.cli.options import RunOptions, run_options
from ctbench.cli.run import claim_output, run_benchmark
from ctbench.cli.types import INTEGER
from ctbench.estimate import Estimate
from ctbench.packets import ovstest_frame
from ctbench.registry import Command, Footprint
from ctbench.report.sections import CommandSections
from ctbench.results import PhaseResult, Pooling, RunResult
from ctbench.scenarios.harness import (
    PROCESS_BYTES,
    CommonConfig,
    ConfigError,
    Progress,
    Turn,
    add_counts,
    execute_counts,
    never,
    no_progress,
    recorded,
    run_workload,
)

NAME: Final = "churn"
ZONE: Final = 1
# The estimates: deliberately simple figures, so that the test can check the
# record's numbers and the refusals they lead to.
SECONDS_PER_PACKET: Final = 2e-6
BYTES_PER_PACKET: Final = 400

# -- the scenario --------------------------------------------------------------


@dataclass(frozen=True)
class ChurnConfig(CommonConfig):
    packets: int
    rounds: int

    def __post_init__(self) -> None:
        if self.packets < 1:
            raise ConfigError(f"PACKETS must be at least 1 (got {self.packets})")
        if self.rounds < 1:
            raise ConfigError(f"ROUNDS must be at least 1 (got {self.rounds})")
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"packets": self.packets, "rounds": self.rounds, **self.common_params()}


def check_params(params: Mapping[str, Any]) -> None:
    ChurnConfig(
        **recorded(
            params, ("packets", "rounds", "conn_limit"), {"packets": 1, "rounds": 1}
        )
    )


class ChurnWorkload:
    command: ClassVar[str] = NAME
    thread_safe: ClassVar[bool] = False

    def __init__(self, config: ChurnConfig) -> None:
        self._config = config
        self.frames = [ovstest_frame(1 + i, 2) for i in range(config.packets)]

    @property
    def config(self) -> ChurnConfig:
        return self._config

    def params(self) -> dict[str, Any]:
        return self._config.params()

    def run(self, turn: Turn) -> bool:
        model, commit, flush = turn.model, PhaseResult(), PhaseResult()
        turn.result.phases = {"commit": commit, "flush": flush}
        clock = time.perf_counter_ns
        for done in range(self._config.rounds):
            if turn.interrupted():
                return True
            before = model.counters.snapshot()
            t0 = clock()
            model.execute(self.frames, ZONE, True, 0)
            t1 = clock()
            commit.samples.append((t1 - t0) / 1e3)
            add_counts(commit.counters, execute_counts(model.counters.minus(before)))
            t0 = clock()
            flushed = model.flush(ZONE)
            t1 = clock()
            flush.samples.append((t1 - t0) / 1e3)
            add_counts(flush.counters, {"removed": flushed.removed})
            turn.progress("rounds", done + 1, self._config.rounds)
        return False


def run_churn(
    config: ChurnConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    return run_workload(ChurnWorkload(config), progress, interrupted)


def estimate(config: ChurnConfig) -> Estimate:
    work = 2 * config.packets * config.rounds * len(config.backends)
    return Estimate(work * SECONDS_PER_PACKET, calibrated=False)


def memory(config: ChurnConfig) -> Footprint:
    return Footprint(PROCESS_BYTES + config.packets * BYTES_PER_PACKET, config.packets)


# -- the report ---------------------------------------------------------------


def _summary(run: RunResult) -> list[str]:
    return [
        f"{r.label}: {r.phases['flush'].counters.get('removed', 0):,} removed by "
        "the flushes"
        for r in run.results
        if "flush" in r.phases
    ]


SECTIONS: Final = CommandSections(
    phases={"commit": "commit PACKETS", "flush": "flush their zone"},
    title_params=("packets", "rounds"),
    method=lambda run: "Times in microseconds. {stats}",
    summary=_summary,
)

# -- the CLI ------------------------------------------------------------------


@click.command(NAME)
@click.argument("packets", type=INTEGER)
@click.argument("rounds", type=INTEGER)
@run_options
def churn(packets: int, rounds: int, opts: RunOptions) -> None:
    """Commit PACKETS connections into zone 1 and flush it, ROUNDS times."""
    config = ChurnConfig(packets=packets, rounds=rounds, **opts.common())
    claim_output(opts.output)
    run_benchmark(
        partial(CHURN.run, config),
        *CHURN.memory(config),
        partial(CHURN.estimate, config),
        opts,
    )


# -- the one registration -----------------------------------------------------

CHURN: Final = Command(
    name=NAME,
    config=ChurnConfig,
    run=run_churn,
    estimate=estimate,
    memory=memory,
    check_params=check_params,
    sections=SECTIONS,
    cli=f"{__name__}:churn",
    pooling=Pooling(summed_params=("rounds",)),
)
