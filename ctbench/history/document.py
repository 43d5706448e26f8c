"""The history document: ``ctbench history --format json``, which ``ctbench
plot`` reads back to draw the trends.  It carries the results files' header
(``schema``, ``tool``) and ``kind`` "history"; reading it back checks every
field a figure uses."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Final

from ctbench import __version__
from ctbench.history.analysis import (
    STATISTICS,
    History,
    HistoryRun,
    ScenarioHistory,
    Step,
    Trend,
)
from ctbench.results.schema import SCHEMA_VERSION, TOOL_NAME, check_header, require

HISTORY_KIND: Final = "history"


def _finite_or_none(value: Any) -> Any:
    """NaN (an interval there is none of) as null, everywhere in a tree."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def history_to_json(history: History) -> dict[str, Any]:
    doc = {
        "schema": SCHEMA_VERSION,
        "kind": HISTORY_KIND,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "statistic": history.statistic,
        "method": history.method,
        "regressed": history.regressed,
        "scenarios": [
            {**asdict(s), "regressed": bool(s.slower_at_end)} for s in history.scenarios
        ],
    }
    return _finite_or_none(doc)  # type: ignore[no-any-return]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _get(raw: Any, key: str, ok: Callable[[Any], bool], at: str) -> Any:
    require(isinstance(raw, dict), at, "must be an object")
    value = raw.get(key)
    require(ok(value), at, f"'{key}' is missing or has the wrong type")
    return value


def _list(value: Any) -> bool:
    return isinstance(value, list)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _step(raw: Any, at: str, runs: int) -> Step:
    index = _get(raw, "index", lambda v: isinstance(v, int) and 0 <= v < runs, at)
    figures = {
        key: _get(raw, key, _number, at)
        for key in ("before", "after", "change", "p_value", "statistic")
    }
    ends = {
        key: _nan(_get(raw, key, lambda v: v is None or _number(v), at))
        for key in ("low", "high")
    }
    return Step(index=index, **figures, **ends)


def _trend(raw: Any, at: str, runs: int) -> Trend:
    phase, label, backend = (
        _get(raw, k, _text, at) for k in ("phase", "label", "backend")
    )
    values = _get(raw, "values", _list, at)
    require(
        len(values) == runs and all(v is None or _number(v) for v in values),
        at,
        "'values' must hold a number or null per run",
    )
    steps = tuple(
        _step(s, f"{at}.steps[{i}]", runs)
        for i, s in enumerate(_get(raw, "steps", _list, at))
    )
    rejected = raw.get("rejected")
    require(
        rejected is None
        or (
            isinstance(rejected, list)
            and len(rejected) == 2
            and all(map(_number, rejected))
        ),
        at,
        "'rejected' must be [run, p-value] or null",
    )
    kept_out = None if rejected is None else (int(rejected[0]), float(rejected[1]))
    return Trend(phase, label, backend, tuple(values), steps, kept_out)


def _run(raw: Any, at: str) -> HistoryRun:
    tags = _get(raw, "tags", lambda v: isinstance(v, dict), at)
    flags = _get(raw, "flags", _list, at)
    require(all(map(_text, flags)), at, "'flags' must be strings")
    require(all(map(_text, tags.values())), at, "'tags' must hold strings")
    return HistoryRun(
        _get(raw, "name", _text, at),
        _get(raw, "order", _text, at),
        dict(tags),
        tuple(flags),
    )


def _scenario(raw: Any, at: str) -> ScenarioHistory:
    runs = tuple(
        _run(r, f"{at}.runs[{i}]") for i, r in enumerate(_get(raw, "runs", _list, at))
    )
    require(bool(runs), at, "'runs' is empty")
    trends = tuple(
        _trend(t, f"{at}.trends[{i}]", len(runs))
        for i, t in enumerate(_get(raw, "trends", _list, at))
    )
    return ScenarioHistory(
        _get(raw, "title", _text, at), _get(raw, "ordered_by", _text, at), runs, trends
    )


def history_from_json(data: Any, where: str) -> History:
    """The history a document holds; ResultsError, in one line, for one
    that is not a well-formed history."""
    check_header(data, where)
    require(data.get("kind") == HISTORY_KIND, where, "not a history document")
    statistic = _get(data, "statistic", lambda v: v in STATISTICS, where)
    method = _get(data, "method", _text, where)
    scenarios = tuple(
        _scenario(s, f"{where}: scenarios[{i}]")
        for i, s in enumerate(_get(data, "scenarios", _list, where))
    )
    require(bool(scenarios), where, "'scenarios' is empty")
    return History(statistic, method, scenarios)
