"""From the points' results to observations and growth fits.

Each backend's phase at each point gives one observation: its cost (one
statistic of the point's samples), the connections stored in the table
and the zone size.  Fitting one value per point, not every sample, keeps
the interval honest: a point's samples share one table, one moment of the
machine and one place in memory, so they are not independent repeats of
the growth, and treating them as such would make the intervals far too
narrow.  The spread between points, drift of the machine included, is what
the fit's residuals measure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ctbench.errors import CtbenchError
from ctbench.growth.fit import FitError, PowerLawFit, fit_power_law
from ctbench.report.commands.benchmark_zones import SECTIONS
from ctbench.report.numbers import plural
from ctbench.results import COMPLETE, RunResult
from ctbench.results.compatibility import (
    ENVIRONMENT_KEYS,
    environment_differences,
    show,
)
from ctbench.scenarios.benchmark_zones import COMMAND, PHASE_ORDER

# What a point's cost is, from its samples.  The minimum by default: the
# cost of the least disturbed round (Chen & Revels, "Robust benchmarking in
# noisy environments", 2016: timing noise only ever adds).  A point lasts
# seconds, so a neighbour busy for those seconds shifts its median, and
# with it the fit: on the shared 2-vCPU VM, a 3 x 3 sweep's points missed
# the fitted laws by x1.19-1.45 with medians and x1.06-1.34 with minimums
# (docs/commands/sweep.md).  median is the typical round; mean is what a
# capacity planner adds up.
STATISTICS: Final = ("min", "median", "mean")
DEFAULT_STATISTIC: Final = "min"
_REDUCE: Final[dict[str, Callable[[npt.NDArray[np.float64]], Any]]] = {
    "median": np.median,
    "min": np.min,
    "mean": np.mean,
}
# The parameters that may differ between the points of one sweep: the two
# sizes it varies, how many rounds each ran, which backends, and options
# that change no timed work: --ovs-stats only adds ovstest's estimators,
# computed from the samples afterwards (ctbench.stats), and the seed of
# older files seeded nothing.
VARIED_PARAMS: Final = (
    "entries",
    "zones",
    "iterations",
    "backends",
    "seed",
    "ovs_stats",
)

METHOD: Final = (
    "Each backend and phase: one least-squares fit over the points of "
    "log(cost) = a + b*log(stored) + c*log(zone), where cost = the point's "
    "{statistic} of its samples (us), stored = connections in the table "
    "during the rounds, zone = ENTRIES, the connections in the zone the "
    "phase works on (zone 1, flushed and refilled every round; the empty "
    "flush's zone holds none, so its 'zone' is ENTRIES too: an exponent "
    "near 0 says the empty flush does not pay for the zones around it). "
    "95% intervals: Student t with n - 3 degrees of freedom. Scatter: "
    "e^s, s the residual standard error of the log fit, the factor by which "
    "a point typically misses the fitted law; POOR above x{poor}."
)


class SweepError(CtbenchError):
    """Points that cannot make a sweep."""


@dataclass(frozen=True)
class Observation:
    backend: str  # the backend's label in its run
    phase: str
    stored: int
    zone: int
    cost_us: float
    samples: int


@dataclass
class PointRecord:
    """One point of a sweep: where its results file is, what it ran on and
    what it measured."""

    entries: int
    zones: int
    iterations: int
    file: str
    environment: dict[str, Any]
    tool_version: str
    observations: list[Observation]
    flags: list[str] = field(default_factory=list)

    @property
    def machine(self) -> tuple[object, ...]:
        """What ``compare`` checks for "another machine", as a key."""
        env = {"ctbench_version": self.tool_version, **self.environment}
        return tuple(env.get(key) for key in ENVIRONMENT_KEYS)


@dataclass(frozen=True)
class GrowthFit:
    backend: str
    phase: str
    fit: PowerLawFit
    machines: int  # distinct environments among its points

    @property
    def label(self) -> str:
        return SECTIONS.phase_label(self.phase)


def reduce(samples: Sequence[float], statistic: str) -> float:
    return float(_REDUCE[statistic](np.asarray(samples, dtype=np.float64)))


def stored_during_rounds(run: RunResult, index: int) -> int:
    """The connections in the table while the rounds ran: the table at the
    end of the rounds (each round removes zone 1 and puts it back)."""
    result = run.results[index]
    at_end = result.extra.get("stored_at_end")
    if isinstance(at_end, int) and not isinstance(at_end, bool) and at_end > 0:
        return at_end
    return result.fill.stored


def point_record(file: str, run: RunResult, statistic: str) -> PointRecord:
    """A benchmark-zones run as a sweep point."""
    if run.command != COMMAND:
        raise SweepError(f"{file}: a {run.command!r} run, not {COMMAND!r}")
    entries, zones = run.params.get("entries"), run.params.get("zones")
    if not isinstance(entries, int) or not isinstance(zones, int):
        raise SweepError(f"{file}: no ENTRIES and ZONES in its parameters")
    record = PointRecord(
        entries=entries,
        zones=zones,
        iterations=int(run.params.get("iterations", 0)),
        file=file,
        environment=dict(run.environment),
        tool_version=run.tool_version,
        observations=[],
    )
    for index, result in enumerate(run.results):
        if result.status != COMPLETE:
            record.flags.append(
                f"backend {result.label} is {result.status}: left out of the fits"
            )
            continue
        if result.fill.refused:
            record.flags.append(
                f"the connection limit refused {plural(result.fill.refused, 'commit')} "
                f"on {result.label}: its zones hold fewer than ENTRIES"
            )
        stored = stored_during_rounds(run, index)
        for phase in PHASE_ORDER:
            samples = result.phases.get(phase)
            if samples is None or not samples.samples:
                continue
            record.observations.append(
                Observation(
                    backend=result.label,
                    phase=phase,
                    stored=stored,
                    zone=entries,
                    cost_us=reduce(samples.samples, statistic),
                    samples=len(samples.samples),
                )
            )
    return record


def machine_warnings(
    records: Sequence[PointRecord], runs: Sequence[RunResult]
) -> list[str]:
    """Flag the points whose machine or build is not the one most points
    ran on, as ``compare`` flags two runs (same fields, same words).  When
    no machine holds most points (a tie), every point is flagged, against
    the largest group of the others.  Returns a line that names the groups,
    or nothing when every point ran on one machine."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, record in enumerate(records):
        groups.setdefault(record.machine, []).append(i)
    if len(groups) < 2:
        return []
    # Largest first; among equals, the one seen first.
    ranked = sorted(groups.values(), key=len, reverse=True)
    majority = ranked[0] if len(ranked[0]) > len(ranked[1]) else None
    total = len(records)
    for members in ranked:
        if members is majority:
            continue
        reference = majority or next(g for g in ranked if g is not members)
        where = f"{len(reference)} of the {total} points"
        for i in members:
            records[i].flags += environment_differences(
                runs[reference[0]], runs[i], (where, records[i].file)
            )
    varying = [
        key
        for j, key in enumerate(ENVIRONMENT_KEYS)
        if len({machine[j] for machine in groups}) > 1
    ]
    described = [
        f"{len(members)} point{'s' if len(members) > 1 else ''} with "
        + ", ".join(
            f"{key} {show(records[members[0]].machine[ENVIRONMENT_KEYS.index(key)])}"
            for key in varying
        )
        for members in ranked
    ]
    flagged = (
        "the others are flagged below"
        if majority
        else "no one holds most points, so each point is flagged below"
    )
    return [
        f"the points come from {len(groups)} different machines or builds "
        f"({'; '.join(described)}; {flagged}): their timings are not "
        "comparable, and the fits mix them"
    ]


def check_same_sweep(named: Sequence[tuple[str, RunResult]]) -> list[str]:
    """Refuse runs that are not points of one sweep: another command, or
    parameters that change the work (batch size, limit, warm-up, GC).
    Returns warnings for what may differ but deserves a word."""
    if not named:
        raise SweepError("no results files to fit")
    warnings = []
    first_name, first = named[0]
    for name, run in named:
        if run.command != COMMAND:
            raise SweepError(
                f"{name}: a {run.command!r} run; a sweep fits {COMMAND!r} runs"
            )
        for key in sorted(set(first.params) | set(run.params)):
            if key in VARIED_PARAMS:
                continue
            if first.params.get(key) != run.params.get(key):
                raise SweepError(
                    f"{name}: {key} is {run.params.get(key)!r} but "
                    f"{first.params.get(key)!r} in {first_name}: the points of "
                    "a sweep must differ only in ENTRIES, ZONES and ITERATIONS"
                )
    iterations = sorted({r.params.get("iterations") for _, r in named}, key=str)
    if len(iterations) > 1:
        warnings.append(
            "the points ran different ITERATIONS ("
            + ", ".join(map(str, iterations))
            + "): their statistics are not equally precise"
        )
    return warnings


def fit_growth(
    records: Sequence[PointRecord],
) -> tuple[list[GrowthFit], list[str]]:
    """A fit per backend and phase, in the report's order; notes for the
    ones that could not be fitted."""
    by_key: dict[tuple[str, str], list[tuple[Observation, PointRecord]]] = {}
    for record in records:
        for obs in record.observations:
            by_key.setdefault((obs.backend, obs.phase), []).append((obs, record))
    backends = list(dict.fromkeys(b for b, _ in by_key))
    fits, notes = [], []
    for phase in PHASE_ORDER:
        for backend in backends:
            pairs = by_key.get((backend, phase))
            if not pairs:
                continue
            observations = [obs for obs, _ in pairs]
            try:
                fit = fit_power_law(
                    [o.stored for o in observations],
                    [o.zone for o in observations],
                    [o.cost_us for o in observations],
                )
            except FitError as exc:
                notes.append(f"{SECTIONS.phase_label(phase)}, {backend}: no fit: {exc}")
                continue
            machines = len({rec.machine for _, rec in pairs})
            fits.append(GrowthFit(backend, phase, fit, machines))
    return fits, notes


def missing_points(records: Sequence[PointRecord]) -> list[str]:
    """Points of the grid the records span that none of them is."""
    entries = sorted({r.entries for r in records})
    zones = sorted({r.zones for r in records})
    have = {(r.entries, r.zones) for r in records}
    return [
        f"entries {e:,} x zones {z:,}"
        for e in entries
        for z in zones
        if (e, z) not in have
    ]
