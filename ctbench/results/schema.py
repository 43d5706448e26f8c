"""The results file: a run as JSON, and back, checked field by field.

Schema history:

- 1: first version.  A file holds one run of one command, every backend's
  raw samples in microseconds, their statistics, work counters, fill and
  memory figures, the run's parameters and environment.
- 2 (December 2026): adds
  ``kind`` (``"run"``; other kinds of document, such as a sweep, share the
  version); ``stopped_by`` (the signal that stopped an incomplete run);
  ``source`` (where the figures come from, e.g. an imported ovstest
  output); per backend ``label`` (its name in reports and comparisons,
  numbered when a run holds a spec twice), ``status`` (complete,
  interrupted, failed) and ``error`` (a failure in one line); per phase
  ``summary_only`` (no raw samples: ``stats`` holds ovstest's Min, Max,
  P-square 95%ile and EWMA Avg, the only figures there are; an ovstest
  ``benchmark`` time has only Min and Max); ``fill.attempted``.
  ``extra.display_label``, a rendering detail, is gone.  A backend of
  ovstest's figures (``backend`` "ovstest") says where they come from in
  ``extra.source`` (``tool`` "ovstest"; the file it was imported from, or
  the binary's path, arguments, wall time, peak RSS and exit status).
  Added later within 2 (so also read in 3), free-form to older readers: per backend
  ``extra.disturbance`` (:mod:`ctbench.disturbance`: involuntary context
  switches per phase, the thread's CPU and wall time of its rounds, other
  processes' CPU, steal, the load average before and after); files
  without it read as before.
- 3 (December 2026): adds ``tags``, an object of strings (``--tag
  KEY=VALUE``: a commit id, a branch, a CI job), always written.  A file of
  schema 1 or 2 has none.  The version changes so that an older ctbench
  refuses a file rather than drop its tags when it merges it.
- 4 (December 2026): adds ``unit`` (:mod:`ctbench.units`: ``"us"``,
  ``"instructions"`` or ``"estimated_cycles"``), what every phase's samples
  measure, always written; a phase's ``samples_us`` becomes ``samples``, in
  that unit (counts are written as integers).  A file of schema 1 to 3
  holds microseconds.  A count run's ``harness`` says how it was counted
  (``counter`` "callgrind", ``valgrind``, ``valgrind_args``,
  ``python_hash_seed``, ``address_randomization``).  The version changes
  so that an older ctbench refuses a file of counts rather than read them
  as microseconds.  Added later within 4: ``benchmark``, ``create-rate``
  and ``replay`` results keep ``extra.disturbance`` too, with
  ``counted_over`` (what one count of switches spans), and for the threaded
  commands ``threads`` and ``ready_s`` (the time their threads were
  ready to run).  The version stays: an older ctbench reads these records
  (it ignores keys it does not know) and misreads no sample; only its CPU
  share of a threaded run (``cpu_s / wall_s``, not over ``ready_s``) is
  wrong, about N times too high for N threads on a free-threaded build, so
  its disturbance warning there is not to be trusted.

:func:`run_from_json` reads every version: a schema-1 file gets labels and
statuses derived as schema 2 would record them.  Anything that is not a
complete, well-formed ctbench document raises ResultsError with a one-line
reason; newer schemas are refused, not guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from ctbench.disturbance import RECORD_KEY, valid_record
from ctbench.errors import CtbenchError
from ctbench.results.run import (
    COMPLETE,
    INTERRUPTED,
    STATUSES,
    BackendResult,
    Fill,
    Memory,
    PhaseResult,
    RunResult,
    distinct_labels,
)
from ctbench.results.tags import check_tag
from ctbench.stats import Summary
from ctbench.units import MICROSECONDS, UNITS, Unit, unit_of

SCHEMA_VERSION: Final = 4
TOOL_NAME: Final = "ctbench"
RUN_KIND: Final = "run"
# The first schema that records a unit; older files hold microseconds.
UNIT_SCHEMA: Final = 4


class ResultsError(CtbenchError, ValueError):
    """A results file that cannot be read or trusted."""


# A command's check of the parameters a run recorded: it raises a
# CtbenchError for what the command would refuse as options.
ParamsCheck = Callable[[Mapping[str, Any]], None]


def run_to_json(run: RunResult) -> dict[str, Any]:
    ovs = run.ovs_stats
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "kind": RUN_KIND,
        "tool": {"name": TOOL_NAME, "version": run.tool_version},
        "command": run.command,
        "params": run.params,
        "environment": run.environment,
        "started": run.started,
        "finished": run.finished,
        "complete": run.complete,
        "stopped_by": run.stopped_by,
        "harness": run.harness,
        "tags": run.tags,
        "unit": run.unit,
    }
    if run.source:
        doc["source"] = run.source
    unit = unit_of(run.unit)
    doc["results"] = [_result_to_json(r, ovs, unit) for r in run.results]
    return doc


def _result_to_json(r: BackendResult, ovs: bool, unit: Unit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "backend": r.backend,
        "label": r.label,
        "options": r.options,
        "status": r.status,
    }
    if r.error is not None:
        out["error"] = r.error
    out["fill"] = vars(r.fill)
    out["memory"] = vars(r.memory)
    out["phases"] = {name: _phase_to_json(p, ovs, unit) for name, p in r.phases.items()}
    if r.extra:
        out["extra"] = r.extra
    return out


def _phase_to_json(p: PhaseResult, ovs: bool, unit: Unit) -> dict[str, Any]:
    stats = p.stats(ovs)
    out: dict[str, Any] = {
        "samples": [int(s) for s in p.samples] if unit.counted else p.samples,
        "stats": stats.as_dict() if stats else {},
        "counters": p.counters,
    }
    if p.summary is not None:
        out["summary_only"] = True
    return out


# -- reading ------------------------------------------------------------------


def require(cond: bool, where: str, what: str) -> None:
    """Refuse a document, in one line, unless ``cond`` holds."""
    if not cond:
        raise ResultsError(f"{where}: {what}")


def _obj(value: Any, where: str, name: str) -> Mapping[str, Any]:
    require(isinstance(value, dict), where, f"'{name}' must be an object")
    return value  # type: ignore[no-any-return]


def _number(value: Any) -> bool:
    """A finite JSON number (Python's json reads NaN and Infinity; we do not)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float, e.g. 10**400
        return False


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _count(value: Any) -> bool:
    """An integer, 0 or more."""
    return _integer(value) and value >= 0


def _positive(value: Any) -> bool:
    """An integer, 1 or more."""
    return _integer(value) and value >= 1


def _counts_by_name(value: Any) -> bool:
    """An object of counts, such as replay's packets per state."""
    return isinstance(value, dict) and all(map(_count, value.values()))


class _Rule(NamedTuple):
    """A field's check, and what the field must be, for the refusal."""

    ok: Callable[[Any], bool]
    what: str


_NOT_NEGATIVE: Final = _Rule(lambda v: v >= 0, "0 or more")

# Field types of the fill and memory objects, checked on load so a bad file
# fails here with a reason instead of later inside a renderer.
_FILL_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "requested": _integer,
    "stored": _integer,
    "refused": _integer,
    "generate_us": _number,
    "insert_us": _number,
    "attempted": lambda v: v is None or _integer(v),
}
_MEMORY_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "bytes_per_conn": _number,
    "fixed_bytes": _integer,
    "sample_conns": _integer,
    "method": _text,
}
# Their values, once the type is right (null is left to the type check):
# counts, durations and sizes are never negative.
_FILL_RANGES: Final = {key: _NOT_NEGATIVE for key in _FILL_FIELDS}
_MEMORY_RANGES: Final = {
    key: _NOT_NEGATIVE for key in ("bytes_per_conn", "fixed_bytes", "sample_conns")
}
# The parameters ctbench's commands record, as their options allow them;
# checked when present (older files, and files ctbench did not write, may
# lack some).  ``seed`` is only in older files.
_POSITIVE: Final = _Rule(_positive, "an integer, 1 or more")
_COUNT: Final = _Rule(_count, "an integer, 0 or more")
_BOOLEAN: Final = _Rule(lambda v: isinstance(v, bool), "a boolean")
_PARAMS: Final[dict[str, _Rule]] = {
    "entries": _POSITIVE,
    "zones": _POSITIVE,
    "iterations": _POSITIVE,
    "batch_size": _POSITIVE,
    "n_threads": _POSITIVE,
    "n_pkts": _POSITIVE,
    "conn_limit": _COUNT,
    "warmup": _COUNT,
    "change_conn": _Rule(lambda v: _integer(v) and v in (0, 1), "0 or 1"),
    "seed": _Rule(_number, "a number"),
    "sweep_every": _Rule(
        lambda v: v is None or (_number(v) and v > 0),
        "a number of seconds above 0, or null",
    ),
    "ovs_stats": _BOOLEAN,
    "parallel": _BOOLEAN,
    "repeat": _POSITIVE,
    "zone": _COUNT,
    "packets": _COUNT,
    "batches": _COUNT,
    "clock": _Rule(_text, "a string"),
    "trust_l4_checksums": _BOOLEAN,
    "files": _Rule(
        lambda v: isinstance(v, list) and all(map(_text, v)), "a list of strings"
    ),
    "gc": _Rule(_text, "a string"),
    "backends": _Rule(
        lambda v: isinstance(v, list) and all(map(_text, v)), "a list of strings"
    ),
}
# Free-form objects whose known keys the reports format as numbers: checked
# when present, other keys are kept as they are.
_KNOWN_EXTRA: Final[dict[str, Callable[[Any], bool]]] = {
    **{
        key: _number
        for key in (
            "wall_s",
            "wall_ms",
            "packets",
            "pps",
            "pps_per_thread",
            "connections",
            "stored_at_end",
            "swept",
            "harness_untimed_us_per_round",
            "rounds",
            "repetitions",
        )
    },
    "thread_packets": lambda v: isinstance(v, list) and all(map(_integer, v)),
    # replay's packets per state and per reason a packet is invalid.
    "states": _counts_by_name,
    "invalid_reasons": _counts_by_name,
    "wall_ms_per_run": lambda v: isinstance(v, list) and all(map(_number, v)),
    RECORD_KEY: valid_record,
}
_KNOWN_HARNESS: Final[dict[str, Callable[[Any], bool]]] = {
    "timer_overhead_ns": _number,
    "timer_resolution_ns": _number,
    "timer": _text,
    # How a count run counted (ctbench.callgrind).
    "counter": _text,
    "valgrind": _text,
    "valgrind_args": lambda v: isinstance(v, list) and all(map(_text, v)),
    "python_hash_seed": _text,
    "address_randomization": _text,
}
# The statistics a summary-only phase holds (ovstest's table row).
_SUMMARY_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "min": _number,
    "max": _number,
    "ovs_p95": _number,
    "ovs_ewma": _number,
    "count": _integer,
}


def _known(
    raw: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any], bool]],
    where: str,
    name: str,
) -> dict[str, Any]:
    for key, check in checks.items():
        if key in raw:
            require(check(raw[key]), where, f"'{name}.{key}' has the wrong type")
    return dict(raw)


def _fields(
    raw: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any], bool]],
    where: str,
    name: str,
    ranges: Mapping[str, _Rule] | None = None,
) -> dict[str, Any]:
    for key, value in raw.items():
        if key not in checks:
            raise ResultsError(f"{where}: unexpected field '{name}.{key}'")
        require(checks[key](value), where, f"'{name}.{key}' has the wrong type")
        rule = (ranges or {}).get(key)
        if rule is not None and value is not None:
            require(
                rule.ok(value),
                where,
                f"'{name}.{key}' must be {rule.what} (got {value!r})",
            )
    return dict(raw)


def _timestamp(data: Mapping[str, Any], key: str, where: str) -> str:
    """``started`` or ``finished``: an ISO 8601 timestamp, or "" when the
    run did not record it (absent, or the empty string a RunResult holds
    until it is set)."""
    value = data.get(key, "")
    require(_text(value), where, f"'{key}' must be an ISO 8601 timestamp")
    if value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ResultsError(
                f"{where}: '{key}' must be an ISO 8601 timestamp (got {value[:40]!r})"
            ) from None
    return str(value)


def check_header(data: Any, where: str) -> int:
    """The schema version of a ctbench document, after the checks every
    kind of document shares."""
    require(isinstance(data, dict), where, "not a ctbench results file (not an object)")
    tool = data.get("tool")
    require(
        isinstance(tool, dict) and tool.get("name") == TOOL_NAME and "schema" in data,
        where,
        "not a ctbench results file",
    )
    schema = data["schema"]
    require(_integer(schema), where, "'schema' must be an integer")
    require(
        schema <= SCHEMA_VERSION,
        where,
        f"schema {schema} is newer than this ctbench understands "
        f"({SCHEMA_VERSION}); upgrade ctbench",
    )
    require(schema >= 1, where, f"unknown schema {schema}")
    return int(schema)


def run_from_json(
    data: Any, where: str = "results", commands: Mapping[str, ParamsCheck] | None = None
) -> RunResult:
    """A run from its JSON document; ``commands`` are the commands a run may
    be of, each with the check of its parameters (any command, unchecked,
    when None)."""
    schema = check_header(data, where)
    kind = data.get("kind", RUN_KIND) if schema >= 2 else RUN_KIND
    require(kind == RUN_KIND, where, f"a {kind!r} document, not a run's results")
    command = data.get("command")
    require(
        isinstance(command, str) and (commands is None or command in commands),
        where,
        f"unknown command {command!r}",
    )
    for key in ("params", "environment"):
        _obj(data.get(key), where, key)
    for key, rule in _PARAMS.items():
        if key in data["params"]:
            require(
                rule.ok(data["params"][key]),
                where,
                f"'params.{key}' must be {rule.what}",
            )
    if commands is not None:
        try:
            commands[command](data["params"])
        except CtbenchError as exc:
            raise ResultsError(
                f"{where}: 'params' hold what {command} refuses: {exc}"
            ) from None
    started = _timestamp(data, "started", where)
    finished = _timestamp(data, "finished", where)
    require(
        isinstance(data.get("complete"), bool), where, "'complete' must be a boolean"
    )
    raw_results = data.get("results")
    require(isinstance(raw_results, list), where, "'results' must be a list")
    require(bool(raw_results), where, "'results' is empty: no backend ran")
    stopped_by = data.get("stopped_by")
    require(
        stopped_by is None or isinstance(stopped_by, str),
        where,
        "'stopped_by' must be a string or null",
    )
    unit = _unit(data, where, schema)
    results = [
        _result_from_json(raw, f"{where}: results[{i}]", schema, unit)
        for i, raw in enumerate(raw_results)
    ]
    if schema == 1:
        _derive_schema_2(results, data["complete"])
    return RunResult(
        command=command,
        params=dict(data["params"]),
        environment=dict(data["environment"]),
        started=started,
        finished=finished,
        complete=data["complete"],
        harness=_known(
            _obj(data.get("harness", {}), where, "harness"),
            _KNOWN_HARNESS,
            where,
            "harness",
        ),
        results=results,
        tool_version=str(data["tool"].get("version", "")),
        stopped_by=stopped_by,
        source=dict(_obj(data.get("source", {}), where, "source")),
        tags=_tags(data, where) if schema >= 3 else {},
        unit=unit.key,
    )


def _unit(data: Mapping[str, Any], where: str, schema: int) -> Unit:
    """The samples' unit: recorded from schema 4 on, microseconds before."""
    if schema < UNIT_SCHEMA:
        return MICROSECONDS
    key = data.get("unit")
    if not isinstance(key, str) or key not in UNITS:
        raise ResultsError(
            f"{where}: 'unit' must be one of {', '.join(UNITS)} (got {key!r})"
        )
    return unit_of(key)


def _tags(data: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = _obj(data.get("tags", {}), where, "tags")
    for key, value in raw.items():
        problem = check_tag(key, value)
        require(problem is None, where, f"'tags': {problem}")
    return dict(raw)


def _derive_schema_2(results: list[BackendResult], complete: bool) -> None:
    """What schema 2 records and schema 1 did not: distinct labels, and the
    status of each backend (the last one of an incomplete run was cut)."""
    labels = distinct_labels([r.spec_label for r in results])
    for result, label in zip(results, labels, strict=True):
        result.label = label
    if not complete:
        results[-1].status = INTERRUPTED


def _result_from_json(raw: Any, at: str, schema: int, unit: Unit) -> BackendResult:
    raw = _obj(raw, at, "result")
    backend = _name(raw, "backend", at)
    fill = _fields(
        _obj(raw.get("fill", {}), at, "fill"), _FILL_FIELDS, at, "fill", _FILL_RANGES
    )
    _check_fill(Fill(**fill), at)
    memory = _fields(
        _obj(raw.get("memory", {}), at, "memory"),
        _MEMORY_FIELDS,
        at,
        "memory",
        _MEMORY_RANGES,
    )
    raw_phases = _obj(raw.get("phases"), at, "phases")
    phases = {
        name: _phase_from_json(praw, f"{at}.phases.{name}", schema, unit)
        for name, praw in raw_phases.items()
    }
    extra = _known(_obj(raw.get("extra", {}), at, "extra"), _KNOWN_EXTRA, at, "extra")
    extra.pop("display_label", None)  # schema 1 could hold it
    result = BackendResult(
        backend=backend,
        options=dict(_obj(raw.get("options", {}), at, "options")),
        fill=Fill(**fill),
        memory=Memory(**memory),
        phases=phases,
        extra=extra,
    )
    if schema >= 2:
        label = _name(raw, "label", at)
        status, error = raw.get("status"), raw.get("error")
        require(status in STATUSES, at, f"unknown status {status!r}")
        require(error is None or _text(error), at, "'error' must be a string")
        result.label, result.status, result.error = label, status, error
    else:
        result.status = COMPLETE
    return result


def _name(raw: Mapping[str, Any], key: str, at: str) -> str:
    """``backend`` or ``label``: a string that is not empty."""
    value = raw.get(key)
    require(value is None or _text(value), at, f"'{key}' has the wrong type")
    require(bool(value), at, f"'{key}' missing")
    return str(value)


def _check_fill(fill: Fill, at: str) -> None:
    """What a fill's counts must satisfy together.  Each commit the fill
    executes stores a connection, is refused, or finds one already stored
    (a repeat), so stored + refused never exceeds the commits requested.
    The commits attempted do not bound them: a fill interrupted inside a
    chunk of commits has stored some of a chunk it did not count."""
    if fill.stored + fill.refused > fill.requested:
        raise ResultsError(
            f"{at}: 'fill.stored' + 'fill.refused' ({fill.stored:,} + "
            f"{fill.refused:,}) exceed 'fill.requested' ({fill.requested:,})"
        )
    if fill.attempted is not None and fill.attempted > fill.requested:
        raise ResultsError(
            f"{at}: 'fill.attempted' ({fill.attempted:,}) exceeds "
            f"'fill.requested' ({fill.requested:,})"
        )


def _phase_from_json(praw: Any, at: str, schema: int, unit: Unit) -> PhaseResult:
    praw = _obj(praw, at, "phase")
    key = "samples" if schema >= UNIT_SCHEMA else "samples_us"
    samples = praw.get(key)
    if not isinstance(samples, list) or not all(
        _number(s) and 0 <= s <= unit.max_sample for s in samples
    ):
        raise ResultsError(
            f"{at}: '{key}' must be a list of numbers from 0 to "
            f"{unit.max_sample:.0e} {unit.noun}"
        )
    counters = _obj(praw.get("counters", {}), at, "counters")
    require(
        all(map(_count, counters.values())), at, "counters must be integers, 0 or more"
    )
    summary = None
    if praw.get("summary_only"):
        require(not samples, at, "a summary-only phase has no samples")
        stats = _fields(
            _obj(praw.get("stats"), at, "stats"), _SUMMARY_FIELDS, at, "stats"
        )
        # Min and Max always; benchmark's one printed time has no estimator.
        for key in ("min", "max"):
            require(key in stats, at, f"'stats.{key}' missing")
        summary = Summary.from_ovstest(
            stats["min"],
            stats["max"],
            stats.get("ovs_p95"),
            stats.get("ovs_ewma"),
            stats.get("count"),
        )
    return PhaseResult([float(s) for s in samples], dict(counters), summary)
