"""A history's runs: which scenario each is, and their order.

Runs are of one scenario when they share the command and every parameter
that changes the work a sample measures: the parameters ``merge`` refuses
to pool when they differ (:mod:`ctbench.results.merge`), so the number of
rounds and which backends ran may differ, the entries and zones may not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from ctbench import registry
from ctbench.errors import CtbenchError
from ctbench.results import RunResult
from ctbench.results.merge import AGREED_PARAMS, PAIRED_PARAMS

# What history orders runs by without --key.
BY_START: Final = "start time"


class HistoryError(CtbenchError):
    """Runs that do not make a history: none, several scenarios, no order."""


@dataclass(frozen=True)
class NamedRun:
    name: str  # the file it was read from, as the report names it
    run: RunResult


def free_params(command: str) -> tuple[str, ...]:
    """Parameters that may differ within one scenario."""
    return registry.pooling(command).summed_params + AGREED_PARAMS + PAIRED_PARAMS


def scenario_key(run: RunResult) -> str:
    """The command and its work-changing parameters, as one string."""
    free = free_params(run.command)
    params = {k: v for k, v in run.params.items() if k not in free}
    return json.dumps([run.command, params], sort_keys=True, default=str)


def scenario_title(run: RunResult) -> str:
    """'benchmark-zones 1000 10' : the command and its title's parameters
    but those that may differ within the scenario."""
    free = free_params(run.command)
    shown = [
        _arg(run.params.get(key))
        for key in registry.sections(run.command).title_params
        if key not in free
    ]
    return " ".join([run.command, *shown])


def _arg(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def scenarios(runs: Sequence[NamedRun], grouped: bool) -> list[list[NamedRun]]:
    """The runs by scenario, in the order each scenario is first met;
    HistoryError when they hold several and ``grouped`` is not asked for."""
    if not runs:
        raise HistoryError("no results files to read")
    by_key: dict[str, list[NamedRun]] = {}
    for named in runs:
        by_key.setdefault(scenario_key(named.run), []).append(named)
    groups = list(by_key.values())
    if len(groups) > 1 and not grouped:
        listed = "; ".join(
            f"{scenario_title(g[0].run)} ({len(g)} from {g[0].name})" for g in groups
        )
        raise HistoryError(
            f"the files hold runs of {len(groups)} scenarios: {listed}; give "
            "--group to see each one's history, or the files of one"
        )
    return groups


def ordered(runs: Sequence[NamedRun], key: str | None) -> list[NamedRun]:
    """The runs by the tag ``key`` (as numbers when every value is an
    integer, else as text), or by start time; ties keep the given order.
    HistoryError for a run that lacks what orders them."""
    if key is not None:
        missing = [n.name for n in runs if key not in n.run.tags]
        if missing:
            raise HistoryError(
                f"--key {key}: {missing[0]} has no tag {key!r}"
                + (f" (nor {len(missing) - 1} other runs)" if len(missing) > 1 else "")
            )
        values = [n.run.tags[key] for n in runs]
        if all(_integer(v) for v in values):
            return sorted(runs, key=lambda n: int(n.run.tags[key]))
        return sorted(runs, key=lambda n: n.run.tags[key])
    for named in runs:
        if not named.run.started:
            raise HistoryError(
                f"{named.name} records no start time: order the runs with --key TAG"
            )
    try:
        return sorted(runs, key=lambda n: datetime.fromisoformat(n.run.started))
    except TypeError:  # a time with a zone and one without
        raise HistoryError(
            "the runs' start times cannot be set in order (some name a time "
            "zone, some do not): order them with --key TAG"
        ) from None


def order_value(named: NamedRun, key: str | None) -> str:
    """What a run is ordered by, as the report shows it."""
    return named.run.tags[key] if key is not None else named.run.started


def _integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def files_of(paths: Sequence[Path]) -> list[Path]:
    """The files ``paths`` name: each file, and each directory's ``*.json``
    files in name order; HistoryError for a directory that holds none."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.json") if p.is_file())
            if not inside:
                raise HistoryError(f"{path}: the directory holds no .json file")
            found += inside
        else:
            found.append(path)
    return found
