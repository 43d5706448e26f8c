"""ctbench's figures beside ovstest's, like with like.

docs/ovs-reference.md ("Measuring against ovstest"): ovstest's Avg is an EWMA seeded by
the first sample, far from a mean over a short run, so ctbench's minimum is
set against ovstest's Min, and ctbench's own EWMA (``--ovs-stats``)
against ovstest's Avg; never ctbench's mean against ovstest's Avg.  For
``benchmark``, ovstest prints only its barrier-to-barrier time, set against
ctbench's.

A ratio is ctbench / ovstest: 2.0 means ctbench's model took twice as long
as the C code.  There is no interval: ovstest gives a summary, not samples.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Final

from ctbench.ovstest.records import CONNTRACK_PHASE
from ctbench.results import COMPLETE, BackendResult, RunResult

# Which of ctbench's statistics faces which of ovstest's, and its words.
PAIRS: Final = (
    ("min", "min", "min", "Min"),
    ("ovs_ewma", "ovs_ewma", "EWMA", "Avg (EWMA)"),
)


def source_of(result: BackendResult) -> dict[str, Any]:
    """Where an ovstest backend's figures come from; {} for ctbench's."""
    source = result.extra.get("source")
    return source if isinstance(source, dict) else {}


def is_ovstest(result: BackendResult) -> bool:
    return source_of(result).get("tool") == "ovstest"


@dataclass(frozen=True)
class LikeRatio:
    phase: str
    ctbench: str  # ctbench's backend label
    ovstest: str  # the ovstest backends' label, without a repeat's number
    runs: int  # ovstest runs the figure is the median of (1: the figure)
    ctbench_stat: str
    ovstest_stat: str
    ctbench_value: float
    ovstest_value: float

    @property
    def ratio(self) -> float | None:
        if self.ovstest_value > 0:
            return self.ctbench_value / self.ovstest_value
        return None


def _groups(run: RunResult) -> dict[str, tuple[str, list[BackendResult]]]:
    """Complete ovstest backends by the ctbench label they face, with the
    label they are shown under.  In a report of several files every label
    carries its file's name ("a.json:ovstest:single" faces "a.json:single")."""
    out: dict[str, tuple[str, list[BackendResult]]] = {}
    for result in run.results:
        source = source_of(result)
        label, group = source.get("label"), source.get("group")
        if not (is_ovstest(result) and result.status == COMPLETE):
            continue
        if not isinstance(label, str) or not isinstance(group, str):
            continue
        at = result.label.rfind(group)
        prefix = result.label[:at] if at >= 0 else ""
        shown, runs = out.setdefault(prefix + label, (prefix + group, []))
        runs.append(result)
    return out


def like_with_like(run: RunResult) -> list[LikeRatio]:
    """A ratio per phase (and per pair of statistics) between each ctbench
    backend and the ovstest binary run with its label."""
    own = {
        r.label: r for r in run.results if not is_ovstest(r) and r.status == COMPLETE
    }
    out = []
    for label, (group, runs) in _groups(run).items():
        mine = own.get(label)
        if mine is None:
            continue
        if run.command == "benchmark":
            out += _threads(mine, runs, label, group)
            continue
        for phase, mine_phase in mine.phases.items():
            figures = [r.phases[phase].summary for r in runs if phase in r.phases]
            ours = mine_phase.stats(True)
            if ours is None or not figures:
                continue
            for our_key, their_key, our_name, their_name in PAIRS:
                if our_key == "ovs_ewma" and not run.ovs_stats:
                    continue
                value = getattr(ours, our_key)
                theirs = [getattr(f, their_key) for f in figures if f is not None]
                theirs = [t for t in theirs if t is not None]
                if value is None or not theirs:
                    continue
                out.append(
                    LikeRatio(
                        phase,
                        label,
                        group,
                        len(theirs),
                        our_name,
                        their_name,
                        float(value),
                        float(statistics.median(theirs)),
                    )
                )
    return out


def _threads(
    mine: BackendResult, runs: list[BackendResult], label: str, group: str
) -> list[LikeRatio]:
    ours = mine.extra.get("wall_ms")
    theirs = [r.extra.get("wall_ms") for r in runs]
    times = [float(t) for t in theirs if isinstance(t, int | float)]
    if not isinstance(ours, int | float) or not times:
        return []
    return [
        LikeRatio(
            CONNTRACK_PHASE,
            label,
            group,
            len(times),
            "conntrack time",
            "conntrack time",
            float(ours) * 1e3,
            statistics.median(times) * 1e3,
        )
    ]
