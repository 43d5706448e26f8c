"""The commands whose runs make results files, and their report sections.

Registering a command here (with its CLI module and its core module) is
what it takes for ``report``, ``compare``, ``merge`` and every format to
handle its results files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ctbench.report.commands import benchmark as benchmark_report
from ctbench.report.commands import benchmark_zones as benchmark_zones_report
from ctbench.report.commands import replay as replay_report
from ctbench.report.sections import CommandSections
from ctbench.results.merge import Pooling
from ctbench.results.schema import ParamsCheck
from ctbench.scenarios import benchmark, benchmark_zones, replay

SECTIONS: Final[dict[str, CommandSections]] = {
    benchmark_zones.COMMAND: benchmark_zones_report.SECTIONS,
    benchmark.COMMAND: benchmark_report.SECTIONS,
    replay.COMMAND: replay_report.SECTIONS,
}
# Each command's own checks of its options, applied to the parameters its
# results files record; a command without one takes any.
PARAM_CHECKS: Final[dict[str, ParamsCheck]] = {
    benchmark_zones.COMMAND: benchmark_zones.check_params,
    benchmark.COMMAND: benchmark.check_params,
    replay.COMMAND: replay.check_params,
}

# How each command's extra figures pool (ctbench merge).
POOLING: Final[dict[str, Pooling]] = {
    benchmark_zones.COMMAND: benchmark_zones.POOLING,
    benchmark.COMMAND: benchmark.POOLING,
    replay.COMMAND: replay.POOLING,
}


def command_names() -> tuple[str, ...]:
    return tuple(SECTIONS)


def param_checks() -> dict[str, ParamsCheck]:
    """Every command a results file may name, with its parameters' check."""
    return {name: PARAM_CHECKS.get(name, _any_params) for name in SECTIONS}


def _any_params(params: Mapping[str, Any]) -> None:
    return None


def sections(command: str) -> CommandSections:
    return SECTIONS[command]


def pooling(command: str) -> Pooling:
    """A command's Pooling; figures of an unknown command pool as figures
    per run (kept where every run agrees)."""
    return POOLING.get(command, Pooling())
