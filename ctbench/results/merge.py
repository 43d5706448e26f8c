"""Several runs as one: side by side for a report, or pooled into one run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeGuard

from ctbench.disturbance import RECORD_KEY, pool_records
from ctbench.results.compatibility import environment_differences, show
from ctbench.results.pairing import pair_backends
from ctbench.results.run import (
    COMPLETE,
    FAILED,
    INTERRUPTED,
    BackendResult,
    Fill,
    Memory,
    PhaseResult,
    RunResult,
    distinct_labels,
)
from ctbench.results.schema import ResultsError
from ctbench.results.tags import pooled_tags
from ctbench.units import UnitError, same_unit


def file_labels(paths: Sequence[Path]) -> list[str]:
    """A name per file: its name, or the path as given when two names clash,
    numbered when the same path is given twice."""
    names = [Path(p).name for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    return distinct_labels(names)


def one_unit(runs: Sequence[tuple[str, RunResult]], what: str) -> str:
    """The unit every run's samples share; ResultsError naming two that
    differ: times and counts, or two counts, never mix."""
    try:
        return same_unit(((name, run.unit) for name, run in runs), what)
    except UnitError as exc:
        raise ResultsError(str(exc)) from None


# The key under which merge_runs() records the parameters that differ, and,
# in ``source``, each file's name and the labels its backends had there.
SIDE_BY_SIDE: Final = "side_by_side"


def merge_runs(runs: Sequence[tuple[str, RunResult]]) -> RunResult:
    """Several runs of one command as one RunResult, each backend labelled
    "NAME:label"; the first run gives the parameters, environment and
    harness.  Raises ResultsError for runs of different commands."""
    if not runs:
        raise ResultsError("no results to merge")
    first_name, first = runs[0]
    for name, run in runs[1:]:
        if run.command != first.command:
            raise ResultsError(
                "cannot show results of different commands side by side: "
                f"{first_name} is {first.command!r}, {name} is {run.command!r}"
            )
    one_unit(runs, "show side by side")
    merged = replace(
        first,
        params=dict(first.params),
        environment=dict(first.environment),
        harness=dict(first.harness),
        complete=all(run.complete for _, run in runs),
        results=[],
        source={
            **first.source,
            SIDE_BY_SIDE: [
                {
                    "file": name,
                    "labels": [r.label for r in run.results],
                    "runs": pooled_runs(run),
                }
                for name, run in runs
            ],
        },
    )
    for name, run in runs:
        merged.results += [replace(r, label=f"{name}:{r.label}") for r in run.results]
    # Parameters the runs do not share, each run's value in order: the
    # report's title shows them all rather than the first run's alone.
    varies = {
        key: [run.params.get(key) for _, run in runs]
        for key in first.params
        if any(run.params.get(key) != first.params.get(key) for _, run in runs)
    }
    if varies:
        merged.params[SIDE_BY_SIDE] = varies
    merged.tags = _side_by_side_tags([run.tags for _, run in runs])
    return merged


def _side_by_side_tags(tags: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Each key's value where every run holds it alike, else every run's
    value in order, joined by "|" as the report's title shows parameters
    ("" for a run without it)."""
    keys = sorted({key for t in tags for key in t})
    out = {}
    for key in keys:
        values = [t.get(key, "") for t in tags]
        out[key] = values[0] if len(set(values)) == 1 else "|".join(values)
    return out


def side_by_side(
    run: RunResult,
) -> list[tuple[str, list[tuple[str, BackendResult]]]]:
    """The files a merge_runs() run shows, in order: each one's name and its
    backends, each with the label it had in its file; [] for any other run."""
    files = run.source.get(SIDE_BY_SIDE)
    # Only merge_runs() writes it, but a hand-edited file could hold anything.
    if not (
        isinstance(files, list)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("file"), str)
            and isinstance(entry.get("labels"), list)
            for entry in files
        )
        and sum(len(entry["labels"]) for entry in files) == len(run.results)
    ):
        return []
    out = []
    results = iter(run.results)
    for entry in files:
        labels = [str(label) for label in entry["labels"]]
        out.append((entry["file"], [(label, next(results)) for label in labels]))
    return out


# Parameters that may differ and are kept only where every run agrees: the
# seed older files recorded, which seeded nothing.
AGREED_PARAMS: Final = ("seed",)
# Which backends ran is checked on the results, each paired with its table
# (ctbench.results.pairing), whatever spec was typed for it.
PAIRED_PARAMS: Final = ("backends",)

# How a command computes its rates again: (the pooled figures so far, each
# run's figures, each run's parameters) -> the rates.
Rates = Callable[
    [dict[str, Any], Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]],
    dict[str, float],
]


@dataclass(frozen=True)
class Pooling:
    """How a command's parameters and ``extra`` figures pool, so that they
    describe the pooled samples.  Each command declares its own (its
    :class:`ctbench.registry.Command` record): a name such as ``packets`` is
    a total in one command and a figure per repetition in another.

    A figure named nowhere here is per run, such as the table's state at
    the end: kept when every run recorded the same value, dropped
    otherwise.  A figure that cannot be pooled (a run lacks it, or holds it
    in another shape) is dropped rather than left at one run's value.
    """

    # Parameters that may differ between the runs, and become the sum of
    # theirs: how many rounds or repetitions each ran.
    summed_params: tuple[str, ...] = ()
    # Totals over a run: summed.
    summed: tuple[str, ...] = ()
    # Totals per thread: summed thread by thread.
    summed_per_thread: tuple[str, ...] = ()
    # Averages per round: weighted by the rounds each run ran, warm-up
    # included, as one long run would have recorded them.
    per_round: tuple[str, ...] = ()
    # A figure of which a pool has no one value (ovstest's barrier-to-barrier
    # time): listed run by run under another name, KEY -> LIST_KEY.  A run
    # that is itself a pool gives its list.
    listed: Mapping[str, str] = field(default_factory=dict)
    # Rates, computed again by ``rate`` from the pooled figures and each
    # run's; kept only for the runs that recorded them.
    rates: tuple[str, ...] = ()
    rate: Rates | None = None


def pooled_runs(run: RunResult, result: BackendResult | None = None) -> int:
    """How many runs a results file holds: the runs merge pooled into it, or
    1.  With ``result``, of a run shown side by side: the runs of the file
    that result comes from."""
    entries = run.source.get(SIDE_BY_SIDE)
    if result is not None and isinstance(entries, list):
        for entry, (_, found) in zip(entries, side_by_side(run), strict=False):
            if any(r is result for _, r in found):
                runs = entry.get("runs")
                return runs if isinstance(runs, int) and runs > 1 else 1
    return len(_run_names("", run))


def _run_names(name: str, run: RunResult) -> list[str]:
    """The runs a file holds: those merge pooled into it, or itself."""
    names = run.source.get("pooled")
    return [str(n) for n in names] if isinstance(names, list) and names else [name]


def pool_runs(
    runs: Sequence[tuple[str, RunResult]],
    pooling: Pooling,
    tags: Mapping[str, str] | None = None,
) -> RunResult:
    """Several runs of one scenario as one run: each backend's samples
    concatenated in the order given, its counters summed.  Runs made
    alternately (A B A B) on one machine pool into two runs whose drift
    cancels out.  Raises ResultsError for runs of different commands,
    parameters, backends or machines (``compare``'s environment fields).

    Every figure of the pooled run is the pool of the runs' or absent:

    - the parameters the command's Pooling names (ITERATIONS of
      benchmark-zones, replay's repeat count) become the sums of the runs';
    - backends pair by the table they ran, not by the spec as typed
      (``-b sharded`` pools with ``-b sharded:shards=64``);
    - measurements made once a run, of one machine (the fill's times, the
      memory per connection and fixed, the clock's overhead), become their
      mean over the runs; the memory figures only from samples of the same
      size, and are absent otherwise;
    - the fill's counts, which say which table the samples come from, must
      agree;
    - ``started`` is the earliest run's start, ``finished`` the latest
      run's end; the environment keeps the fields every run shares;
    - ``extra`` figures pool as the command's :class:`Pooling` says.

    ``source.pooled`` lists the runs, a pooled input's own runs in its place.
    The tags are those the runs hold alike, with ``tags`` over them; runs
    whose tags differ where ``tags`` says nothing are refused (TagError).
    """
    if not runs:
        raise ResultsError("no results to pool")
    first_name, first = runs[0]
    for name, run in runs:
        if any(p.summary is not None for r in run.results for p in r.phases.values()):
            # An imported ovstest table: min, max and estimators, no samples
            # to concatenate.
            raise ResultsError(
                f"cannot pool {name}: it holds summary-only phases (no samples)"
            )
    partners = [
        _check_poolable(first_name, first, name, run, pooling) for name, run in runs
    ]
    kept_tags = pooled_tags(((name, run.tags) for name, run in runs), tags or {})
    # How many runs each input stands for, to weigh its means.
    weights = [pooled_runs(run) for _, run in runs]
    names = [n for name, run in runs for n in _run_names(name, run)]
    started, finished = _span([run for _, run in runs])
    signals = list(dict.fromkeys(run.stopped_by for _, run in runs if run.stopped_by))
    pooled = replace(
        first,
        params=_pool_params([run.params for _, run in runs], pooling.summed_params),
        environment=_agreed([run.environment for _, run in runs]),
        harness=_pool_harness([run.harness for _, run in runs], weights),
        started=started,
        finished=finished,
        complete=all(run.complete for _, run in runs),
        stopped_by=", ".join(signals) or None,
        source={"pooled": names},
        results=[],
        tags=kept_tags,
    )
    params = [run.params for _, run in runs]
    for i, result in enumerate(first.results):
        together = [found[i] for found in partners]
        pooled.results.append(
            replace(
                result,
                phases=_pool_phases(together),
                fill=_pool_fill(together, weights),
                memory=_pool_memory(together, weights),
                extra=_pool_extra(together, params, weights, pooling),
                **_pool_status(together, [name for name, _ in runs]),
            )
        )
    return pooled


def _check_poolable(
    first_name: str, first: RunResult, name: str, run: RunResult, pooling: Pooling
) -> list[BackendResult]:
    """``run``'s backends in the order of ``first``'s, each the same table;
    ResultsError for a run that does not pool with ``first``."""
    if run.command != first.command:
        raise ResultsError(
            f"cannot pool runs of different commands: {first_name} is "
            f"{first.command!r}, {name} is {run.command!r}"
        )
    one_unit([(first_name, first), (name, run)], "pool")
    for difference in environment_differences(first, run, (first_name, name)):
        raise ResultsError(
            f"cannot pool runs from different machines or builds: {difference}"
        )
    free = pooling.summed_params + AGREED_PARAMS + PAIRED_PARAMS
    for key in sorted(first.params.keys() | run.params.keys()):
        if key not in free and first.params.get(key) != run.params.get(key):
            raise ResultsError(
                f"cannot pool runs with different parameters: {key} is "
                f"{show(first.params.get(key))} in {first_name}, "
                f"{show(run.params.get(key))} in {name}"
            )
    pairing = pair_backends(
        [(r.label, r) for r in first.results], [(r.label, r) for r in run.results]
    )
    if pairing.only_base or pairing.only_cand:
        raise ResultsError(
            f"cannot pool runs of different backends: {first_name} has "
            f"{', '.join(r.spec_label for r in first.results)}, {name} has "
            f"{', '.join(r.spec_label for r in run.results)}"
        )
    partners = [pair.cand for pair in pairing.pairs]
    for mine, theirs in zip(first.results, partners, strict=True):
        if _fill_counts(mine.fill) != _fill_counts(theirs.fill):
            raise ResultsError(
                f"cannot pool runs whose fills differ: {mine.label} stored "
                f"{mine.fill.stored:,} of {mine.fill.requested:,} in {first_name}, "
                f"{theirs.fill.stored:,} of {theirs.fill.requested:,} in {name}: "
                "their samples come from different tables"
            )
    return partners


def _fill_counts(fill: Fill) -> tuple[int, int, int, int]:
    attempted = fill.requested if fill.attempted is None else fill.attempted
    return fill.requested, fill.stored, fill.refused, attempted


def _span(runs: Sequence[RunResult]) -> tuple[str, str]:
    """The earliest start and the latest end; "" where a run did not record
    one, or where they cannot be set in order (a time without a zone)."""
    starts = [run.started for run in runs]
    ends = [run.finished for run in runs]
    try:
        started = min(starts, key=datetime.fromisoformat) if all(starts) else ""
        finished = max(ends, key=datetime.fromisoformat) if all(ends) else ""
    except (TypeError, ValueError):
        return "", ""
    return started, finished


def _pool_params(
    params: Sequence[dict[str, Any]], summed: tuple[str, ...]
) -> dict[str, Any]:
    pooled = dict(params[0])
    for key in summed:
        values = [p.get(key) for p in params]
        if key in pooled and all(isinstance(v, int) for v in values):
            pooled[key] = sum(values)
        else:
            pooled.pop(key, None)
    for key in AGREED_PARAMS:
        if any(p.get(key) != pooled.get(key) for p in params):
            pooled.pop(key, None)
    return pooled


def _agreed(objects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The fields every object holds with the same value."""
    return {
        key: value
        for key, value in objects[0].items()
        if all(key in o and o[key] == value for o in objects)
    }


def _pool_harness(
    harness: Sequence[dict[str, Any]], weights: Sequence[int]
) -> dict[str, Any]:
    """The timer's name where the runs agree; its overhead and resolution,
    each run's measure of one machine's clock, as their mean."""
    pooled = _agreed(harness)
    for key in dict.fromkeys(k for h in harness for k in h):
        values = [v for h in harness if is_number(v := h.get(key))]
        if key not in pooled and len(values) == len(harness):
            pooled[key] = _mean(values, weights)
    return pooled


def _mean(values: Sequence[float], weights: Sequence[int]) -> float:
    """The mean of the runs' values, each weighed by the runs it stands for."""
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def _pool_phases(results: Sequence[BackendResult]) -> dict[str, PhaseResult]:
    phases = {}
    for phase in results[0].phases:
        samples: list[float] = []
        counters: dict[str, int] = {}
        for result in results:
            p = result.phases.get(phase)
            if p is None:
                continue
            samples += p.samples
            for key, value in p.counters.items():
                counters[key] = counters.get(key, 0) + value
        phases[phase] = PhaseResult(samples, counters)
    return phases


def _pool_fill(results: Sequence[BackendResult], weights: Sequence[int]) -> Fill:
    """The fill's counts (the same in every run), its times as their mean."""
    fills = [r.fill for r in results]
    return replace(
        fills[0],
        generate_us=_mean([f.generate_us for f in fills], weights),
        insert_us=_mean([f.insert_us for f in fills], weights),
    )


def _pool_memory(results: Sequence[BackendResult], weights: Sequence[int]) -> Memory:
    """The runs' memory figures as their mean when each run measured a
    sample of the same size the same way; absent (no sample) otherwise."""
    figures = [r.memory for r in results]
    first = figures[0]
    if any(
        (m.sample_conns, m.method) != (first.sample_conns, first.method)
        for m in figures
    ):
        return Memory()
    return replace(
        first,
        bytes_per_conn=_mean([m.bytes_per_conn for m in figures], weights),
        fixed_bytes=round(_mean([m.fixed_bytes for m in figures], weights)),
    )


def _pool_status(
    results: Sequence[BackendResult], names: Sequence[str]
) -> dict[str, Any]:
    """Failed if a run failed (each failure named), else interrupted if one
    was, else complete."""
    errors = [
        f"{name}: {r.error}" if len(results) > 1 else str(r.error)
        for r, name in zip(results, names, strict=True)
        if r.status == FAILED
    ]
    if errors:
        return {"status": FAILED, "error": "; ".join(errors)}
    status = COMPLETE
    if any(r.status != COMPLETE for r in results):
        status = INTERRUPTED
    return {"status": status, "error": None}


def _pool_extra(
    results: Sequence[BackendResult],
    params: Sequence[dict[str, Any]],
    weights: Sequence[int],
    pooling: Pooling,
) -> dict[str, Any]:
    """One backend's ``extra`` figures over the runs (see Pooling)."""
    extras = [r.extra for r in results]
    keys = list(dict.fromkeys(key for extra in extras for key in extra))
    pooled: dict[str, Any] = {}
    for key, list_key in pooling.listed.items():
        by_run = [_listed(extra, key, list_key) for extra in extras]
        if all(v is not None for v in by_run) and (key in keys or list_key in keys):
            pooled[list_key] = [x for v in by_run if v is not None for x in v]
    skipped = {*pooling.listed, *pooling.listed.values(), *pooling.rates}
    for key in keys:
        values: list[Any] = [extra.get(key) for extra in extras]
        if key in skipped:
            continue  # listed above, or a rate computed again below
        if key == RECORD_KEY:
            if all(isinstance(v, dict) for v in values):
                pooled[key] = pool_records(values)
            continue
        if key in pooling.summed:
            if all(map(is_number, values)):
                pooled[key] = sum(values)
        elif key in pooling.summed_per_thread:
            if all(_numbers(v) and len(v) == len(values[0]) for v in values):
                pooled[key] = [sum(column) for column in zip(*values, strict=True)]
        elif key in pooling.per_round:
            ran = [
                _rounds_run(e, p, w)
                for e, p, w in zip(extras, params, weights, strict=True)
            ]
            rounds = [r for r in ran if r is not None]
            if all(map(is_number, values)) and len(rounds) == len(ran):
                total = sum(rounds)
                pooled[key] = (
                    sum(v * r for v, r in zip(values, rounds, strict=True)) / total
                    if total
                    else 0.0
                )
        elif all(key in extra and extra[key] == values[0] for extra in extras):
            pooled[key] = values[0]
    if pooling.rate is not None:
        rates = pooling.rate(pooled, extras, params)
        pooled.update({k: v for k, v in rates.items() if k in keys})
    return pooled


def _listed(extra: Mapping[str, Any], key: str, list_key: str) -> list[Any] | None:
    """A run's values of a listed figure: its own, or a pool's list."""
    value = extra.get(key)
    if is_number(value):
        return [value]
    found = extra.get(list_key)
    return list(found) if _numbers(found) else None


def _rounds_run(
    extra: dict[str, Any], params: dict[str, Any], runs: int
) -> float | None:
    """The rounds a run ran whole, warm-up included (a warm-up in each of
    the ``runs`` a pooled input holds); None when unknown."""
    rounds: object = extra.get("rounds")
    warmup: object = params.get("warmup", 0)
    if not (is_number(rounds) and is_number(warmup)):
        return None
    return rounds + warmup * runs


def is_number(value: object) -> TypeGuard[int | float]:
    """A number, not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(value: object) -> TypeGuard[list[int | float]]:
    return isinstance(value, list) and all(map(is_number, value))
