"""A sweep document from its points' results: records, flags, fits."""

from __future__ import annotations

from collections.abc import Sequence

from ctbench import environment
from ctbench.growth.analysis import (
    check_same_sweep,
    fit_growth,
    machine_warnings,
    missing_points,
    point_record,
)
from ctbench.growth.document import SweepDocument, grid_of
from ctbench.results import RunResult
from ctbench.scenarios.benchmark_zones import COMMAND
from ctbench.units import require_time


def build_sweep(
    named: Sequence[tuple[str, RunResult]],
    statistic: str,
    complete: bool = True,
    stopped_by: str | None = None,
) -> SweepDocument:
    """The sweep of these points (file name, run), in the order given;
    UnitError for a run of counts (a sweep fits times)."""
    for name, run in named:
        require_time(name, run.unit, "sweep --merge")
    warnings = check_same_sweep(named)
    records = [point_record(name, run, statistic) for name, run in named]
    machines = machine_warnings(records, [run for _, run in named])
    seen: dict[tuple[int, int], str] = {}
    for record in records:
        key = (record.entries, record.zones)
        if key in seen:
            warnings.append(
                f"entries {key[0]:,} x zones {key[1]:,} is in both {seen[key]} "
                f"and {record.file}: both are fitted"
            )
        seen.setdefault(key, record.file)
    missing = missing_points(records)
    if missing:
        warnings.append("the grid lacks " + "; ".join(missing))
    for record in records:
        warnings += [f"{record.file}: {flag}" for flag in record.flags]
    fits, notes = fit_growth(records)
    warnings[:0] = machines
    backends = list(dict.fromkeys(o.backend for r in records for o in r.observations))
    runs = [run for _, run in named]
    # The parameters every point shares (--ovs-stats may differ).
    shared = {
        key: value
        for key, value in (runs[0].params.items() if runs else ())
        if all(key in run.params and run.params[key] == value for run in runs)
    }
    grid = grid_of(records, shared)
    grid["params"]["backends"] = backends
    return SweepDocument(
        command=COMMAND,
        grid=grid,
        statistic=statistic,
        points=records,
        fits=fits,
        warnings=warnings,
        notes=notes,
        complete=complete,
        stopped_by=stopped_by,
        created=environment.now_iso(),
    )
