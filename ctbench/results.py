"""Run results, their JSON file (schema 1), atomic writes and validated loads.

Schema history:

- 1: first version.  A file holds one run of one command, every backend's
  raw samples in microseconds, their statistics, work counters, fill and
  memory figures, the run's parameters and environment.

``load()`` is the single gate for every file read from disk: anything that is
not a complete, well-formed schema-1 ctbench file raises ResultsError with a
one-line reason.  Files from a newer schema are refused, not guessed at.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctbench.backends import spec_label
from ctbench.stats import Summary, summarize

SCHEMA_VERSION: Final = 1
TOOL_NAME: Final = "ctbench"
COMMANDS: Final = ("benchmark-zones", "benchmark")


class ResultsError(ValueError):
    """A results file that cannot be read or trusted."""


@dataclass
class PhaseResult:
    samples_us: list[float] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def stats(self, ovs: bool = False) -> Summary | None:
        return summarize(self.samples_us, ovs)


@dataclass
class Fill:
    requested: int = 0
    stored: int = 0
    refused: int = 0
    generate_us: float = 0.0
    insert_us: float = 0.0


@dataclass
class Memory:
    bytes_per_conn: float = 0.0
    fixed_bytes: int = 0
    sample_conns: int = 0
    method: str = "tracemalloc"


@dataclass
class BackendResult:
    backend: str
    options: dict[str, Any] = field(default_factory=dict)
    fill: Fill = field(default_factory=Fill)
    memory: Memory = field(default_factory=Memory)
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return spec_label(self.backend, self.options)


@dataclass
class RunResult:
    command: str
    params: dict[str, Any]
    environment: dict[str, Any]
    started: str
    finished: str = ""
    complete: bool = False
    harness: dict[str, Any] = field(default_factory=dict)
    results: list[BackendResult] = field(default_factory=list)
    tool_version: str = ""

    @property
    def ovs_stats(self) -> bool:
        return bool(self.params.get("ovs_stats", False))


# -- to and from JSON ---------------------------------------------------------


def to_json_dict(run: RunResult) -> dict[str, Any]:
    ovs = run.ovs_stats
    return {
        "schema": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": run.tool_version},
        "command": run.command,
        "params": run.params,
        "environment": run.environment,
        "started": run.started,
        "finished": run.finished,
        "complete": run.complete,
        "harness": run.harness,
        "results": [
            {
                "backend": r.backend,
                "options": r.options,
                "fill": vars(r.fill),
                "memory": vars(r.memory),
                "phases": {
                    name: {
                        "samples_us": p.samples_us,
                        "stats": s.as_dict() if (s := p.stats(ovs)) else {},
                        "counters": p.counters,
                    }
                    for name, p in r.phases.items()
                },
                **({"extra": r.extra} if r.extra else {}),
            }
            for r in run.results
        ],
    }


def dumps(run: RunResult) -> str:
    """Compact JSON: without indent, json uses its C encoder (4.2 M samples:
    3.1 s instead of 5.5 s here; formatting the floats is the rest)."""
    return json.dumps(to_json_dict(run), separators=(",", ":")) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, then rename, so a
    reader never sees a half-written file."""
    path = Path(path)
    if path.exists() and not path.is_file():
        # A rename would replace a device node or a directory entry.
        raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        # mkstemp creates the file 0600; give it the mode open() would.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(run: RunResult, path: Path) -> None:
    write_atomic(path, dumps(run))


def _require(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ResultsError(f"{where}: {what}")


def _obj(value: Any, where: str, name: str) -> Mapping[str, Any]:
    _require(isinstance(value, dict), where, f"'{name}' must be an object")
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


# Field types of the fill and memory objects, checked on load so a bad file
# fails here with a reason instead of later inside a renderer.
_FILL_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "requested": _integer,
    "stored": _integer,
    "refused": _integer,
    "generate_us": _number,
    "insert_us": _number,
}
_MEMORY_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "bytes_per_conn": _number,
    "fixed_bytes": _integer,
    "sample_conns": _integer,
    "method": lambda v: isinstance(v, str),
}
# Parameters the renderers format as numbers; checked when present.
_NUMERIC_PARAMS: Final = (
    "entries",
    "zones",
    "iterations",
    "batch_size",
    "conn_limit",
    "seed",
    "warmup",
    "n_threads",
    "n_pkts",
)


# Free-form objects whose known keys the renderers format as numbers: checked
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
        )
    },
    "thread_packets": lambda v: isinstance(v, list) and all(map(_integer, v)),
    "display_label": lambda v: isinstance(v, str),
}
_KNOWN_HARNESS: Final[dict[str, Callable[[Any], bool]]] = {
    "timer_overhead_ns": _number,
    "timer_resolution_ns": _number,
    "timer": lambda v: isinstance(v, str),
}


def _known(
    raw: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any], bool]],
    where: str,
    name: str,
) -> dict[str, Any]:
    for key, check in checks.items():
        if key in raw:
            _require(check(raw[key]), where, f"'{name}.{key}' has the wrong type")
    return dict(raw)


def _fields(
    raw: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any], bool]],
    where: str,
    name: str,
) -> dict[str, Any]:
    for key, value in raw.items():
        if key not in checks:
            raise ResultsError(f"{where}: unexpected field '{name}.{key}'")
        _require(checks[key](value), where, f"'{name}.{key}' has the wrong type")
    return dict(raw)


def from_json_dict(data: Any, where: str = "results") -> RunResult:
    _require(
        isinstance(data, dict), where, "not a ctbench results file (not an object)"
    )
    tool = data.get("tool")
    _require(
        isinstance(tool, dict) and tool.get("name") == TOOL_NAME and "schema" in data,
        where,
        "not a ctbench results file",
    )
    schema = data["schema"]
    _require(_integer(schema), where, "'schema' must be an integer")
    _require(
        schema <= SCHEMA_VERSION,
        where,
        f"schema {schema} is newer than this ctbench understands "
        f"({SCHEMA_VERSION}); upgrade ctbench",
    )
    _require(schema >= 1, where, f"unknown schema {schema}")
    command = data.get("command")
    _require(command in COMMANDS, where, f"unknown command {command!r}")
    for key in ("params", "environment"):
        _obj(data.get(key), where, key)
    for key in _NUMERIC_PARAMS:
        value = data["params"].get(key)
        _require(
            value is None or _number(value), where, f"'params.{key}' must be a number"
        )
    _require(
        isinstance(data.get("complete"), bool), where, "'complete' must be a boolean"
    )
    _require(isinstance(data.get("results"), list), where, "'results' must be a list")
    results = []
    for i, raw in enumerate(data["results"]):
        at = f"{where}: results[{i}]"
        raw = _obj(raw, at, "result")
        backend = raw.get("backend")
        if not isinstance(backend, str) or not backend:
            raise ResultsError(f"{at}: 'backend' missing")
        fill = _fields(_obj(raw.get("fill", {}), at, "fill"), _FILL_FIELDS, at, "fill")
        memory = _fields(
            _obj(raw.get("memory", {}), at, "memory"), _MEMORY_FIELDS, at, "memory"
        )
        phases = {}
        raw_phases = _obj(raw.get("phases"), at, "phases")
        for name, praw in raw_phases.items():
            pat = f"{at}.phases.{name}"
            praw = _obj(praw, pat, "phase")
            samples = praw.get("samples_us")
            if not isinstance(samples, list) or not all(map(_number, samples)):
                raise ResultsError(f"{pat}: 'samples_us' must be a list of numbers")
            counters = _obj(praw.get("counters", {}), pat, "counters")
            _require(
                all(map(_integer, counters.values())), pat, "counters must be integers"
            )
            phases[name] = PhaseResult([float(s) for s in samples], dict(counters))
        results.append(
            BackendResult(
                backend=backend,
                options=dict(_obj(raw.get("options", {}), at, "options")),
                fill=Fill(**fill),
                memory=Memory(**memory),
                phases=phases,
                extra=_known(
                    _obj(raw.get("extra", {}), at, "extra"), _KNOWN_EXTRA, at, "extra"
                ),
            )
        )
    return RunResult(
        command=command,
        params=dict(data["params"]),
        environment=dict(data["environment"]),
        started=str(data.get("started", "")),
        finished=str(data.get("finished", "")),
        complete=data["complete"],
        harness=_known(
            _obj(data.get("harness", {}), where, "harness"),
            _KNOWN_HARNESS,
            where,
            "harness",
        ),
        results=results,
        tool_version=str(tool.get("version", "")),
    )


def loads(text: str, where: str = "results") -> RunResult:
    if not text.strip():
        raise ResultsError(f"{where}: empty file, not a ctbench results file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{where}: not valid JSON (truncated or corrupt?): {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ResultsError(f"{where}: not valid JSON (nested too deeply)") from None
    return from_json_dict(data, where)


def load(path: Path) -> RunResult:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultsError(
            f"{path}: not valid JSON (not UTF-8 text), not a ctbench results file"
        ) from None
    return loads(text, str(path))


def merge_runs(runs: Sequence[tuple[str, RunResult]]) -> RunResult:
    """Several runs of one command as one RunResult, for a side-by-side report.

    Each backend is labelled "NAME:backend" through extra["display_label"],
    which the renderers show; the first run gives the parameters, environment
    and harness.  Raises ResultsError for runs of different commands.
    """
    if not runs:
        raise ResultsError("no results to merge")
    first_name, first = runs[0]
    for name, run in runs[1:]:
        if run.command != first.command:
            raise ResultsError(
                "cannot show results of different commands side by side: "
                f"{first_name} is {first.command!r}, {name} is {run.command!r}"
            )
    merged = RunResult(
        command=first.command,
        params=dict(first.params),
        environment=dict(first.environment),
        started=first.started,
        finished=first.finished,
        complete=all(run.complete for _, run in runs),
        harness=dict(first.harness),
        tool_version=first.tool_version,
    )
    for name, run in runs:
        for result in run.results:
            shown = result.extra.get("display_label") or result.label
            merged.results.append(
                BackendResult(
                    backend=result.backend,
                    options=dict(result.options),
                    fill=result.fill,
                    memory=result.memory,
                    phases=result.phases,
                    extra={**result.extra, "display_label": f"{name}:{shown}"},
                )
            )
    return merged
