"""The scaling file: a thread sweep's runs and their scaling fits (JSON).

A document of the results schema (``schema``, ``tool``) of kind
``"scaling"``: the command and its thread parameter, the thread counts and
repeats, the parameters every run shares, each run (its results file,
relative to the scaling file, its thread count and repeat, and each
backend's throughput) and one fit per backend (:mod:`ctbench.growth.scaling`:
the model, the method, λ, σ and κ with their 95% intervals).  Loading
checks it field by field: anything else is a one-line ResultsError.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctbench import __version__, environment
from ctbench.growth.fit import FitError
from ctbench.growth.scaling import (
    AMDAHL,
    METHOD,
    MODEL_NAMES,
    USL,
    Interval,
    ScalingFit,
    fit_scaling,
)
from ctbench.registry import ThreadScaling
from ctbench.results import RunResult, check_header
from ctbench.results.run import COMPLETE
from ctbench.results.schema import SCHEMA_VERSION, TOOL_NAME, require

SCALING_KIND: Final = "scaling"
# What makes two runs' machines differ for a fit, as compare flags them.
MACHINE_KEYS: Final = ("cpu_model", "cpu_count", "python_version", "gil_enabled")


@dataclass(frozen=True)
class ScalingPoint:
    file: str
    threads: int
    repeat: int
    throughput: dict[str, float]  # backend label -> unit


@dataclass
class ScalingDocument:
    command: str
    scaling: ThreadScaling
    params: dict[str, Any]  # shared by every run, the thread count left out
    points: list[ScalingPoint]
    fits: dict[str, ScalingFit]  # backend label -> its fit
    warnings: list[str] = field(default_factory=list)
    complete: bool = True
    stopped_by: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    tool_version: str = __version__

    @property
    def backends(self) -> list[str]:
        return list(dict.fromkeys(b for p in self.points for b in p.throughput))


def build_scaling(
    named: Sequence[tuple[str, int, RunResult]],
    command: str,
    scaling: ThreadScaling,
    complete: bool = True,
    stopped_by: str | None = None,
) -> ScalingDocument:
    """The scaling of these runs (file name, repeat, run): every run of
    ``command`` with the same parameters but its thread count."""
    points, warnings = [], []
    for name, repeat, run in named:
        threads = run.params.get(scaling.param)
        require(
            run.command == command and isinstance(threads, int),
            name,
            f"not a {command} run with {scaling.param}",
        )
        assert isinstance(threads, int)
        rates = {}
        for result in run.results:
            rate = result.extra.get(scaling.throughput)
            if result.status == COMPLETE and isinstance(rate, int | float) and rate > 0:
                rates[result.label] = float(rate)
            else:
                warnings.append(f"{name}: {result.label} has no throughput, not fitted")
        points.append(ScalingPoint(name, threads, repeat, rates))
    runs = [run for _, _, run in named]
    shared = {
        key: value
        for key, value in (runs[0].params.items() if runs else ())
        if key != scaling.param
        and all(run.params.get(key, value) == value for run in runs)
    }
    machines = {tuple(str(r.environment.get(k)) for k in MACHINE_KEYS) for r in runs}
    if len(machines) > 1:
        warnings.append(
            f"the runs come from {len(machines)} machines or builds (CPU model "
            "and count, Python version, GIL): their differences are in the fits"
        )
    fits = {}
    labels = list(dict.fromkeys(b for p in points for b in p.throughput))
    for label in labels:
        where = [p for p in points if label in p.throughput]
        try:
            fits[label] = fit_scaling(
                [p.threads for p in where], [p.throughput[label] for p in where]
            )
        except FitError as exc:
            warnings.append(f"{label}: not fitted: {exc}")
    for label, fit in fits.items():
        if fit.model == AMDAHL:
            warnings.append(
                f"{label}: only {len(fit.thread_counts)} thread counts, so "
                "Amdahl's law only (kappa = 0): the USL's three parameters need 3"
            )
    return ScalingDocument(
        command=command,
        scaling=scaling,
        params=shared,
        points=points,
        fits=fits,
        warnings=warnings,
        complete=complete,
        stopped_by=stopped_by,
        environment=dict(runs[0].environment) if runs else {},
        created=environment.now_iso(),
    )


def _interval(value: Interval) -> dict[str, Any]:
    finite = math.isfinite(value.low)
    return {"value": value.value, "ci95": [value.low, value.high] if finite else None}


def scaling_to_json(doc: ScalingDocument, where: Path) -> dict[str, Any]:
    base = where.parent

    def relative(file: str) -> str:
        try:
            return os.path.relpath(file, base)
        except ValueError:  # another drive: keep it as it is
            return file

    return {
        "schema": SCHEMA_VERSION,
        "kind": SCALING_KIND,
        "tool": {"name": TOOL_NAME, "version": doc.tool_version},
        "command": doc.command,
        "thread_param": doc.scaling.param,
        "throughput": doc.scaling.throughput,
        "unit": doc.scaling.unit,
        "complete": doc.complete,
        "stopped_by": doc.stopped_by,
        "created": doc.created,
        "environment": doc.environment,
        "params": doc.params,
        "points": [
            {
                "file": relative(p.file),
                "threads": p.threads,
                "repeat": p.repeat,
                "throughput": p.throughput,
            }
            for p in doc.points
        ],
        "method": METHOD,
        "fits": [
            {
                "backend": label,
                "model": fit.model,
                "model_name": MODEL_NAMES[fit.model],
                "lambda": _interval(fit.lam),
                "sigma": _interval(fit.sigma),
                "kappa": _interval(fit.kappa),
                "n": fit.n,
                "dof": fit.dof,
                "thread_counts": list(fit.thread_counts),
            }
            for label, fit in doc.fits.items()
        ],
        "warnings": doc.warnings,
    }


def dumps_scaling(doc: ScalingDocument, where: Path) -> str:
    return json.dumps(scaling_to_json(doc, where), indent=1) + "\n"


# -- reading ------------------------------------------------------------------


def _get(raw: Mapping[str, Any], key: str, ok: Callable[[Any], bool], at: str) -> Any:
    value = raw.get(key)
    require(ok(value), at, f"'{key}' is missing or has the wrong type")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_interval(raw: Any, at: str, name: str) -> Interval:
    require(isinstance(raw, dict), at, f"'{name}' must be an object")
    value = _get(raw, "value", _number, f"{at}: {name}")
    ci = raw.get("ci95")
    if ci is None:
        return Interval(float(value), math.nan, math.nan)
    require(
        isinstance(ci, list) and len(ci) == 2 and all(map(_number, ci)),
        at,
        f"'{name}.ci95' must be [low, high] or null",
    )
    return Interval(float(value), float(ci[0]), float(ci[1]))


def scaling_from_json(data: Any, where: str) -> ScalingDocument:
    check_header(data, where)
    require(data.get("kind") == SCALING_KIND, where, "not a scaling file")
    text = [
        _get(data, key, lambda v: isinstance(v, str) and bool(v), where)
        for key in ("command", "thread_param", "throughput", "unit")
    ]
    complete = _get(data, "complete", lambda v: isinstance(v, bool), where)
    points = []
    for i, raw in enumerate(_get(data, "points", lambda v: isinstance(v, list), where)):
        at = f"{where}: points[{i}]"
        require(isinstance(raw, dict), at, "must be an object")
        rates = _get(raw, "throughput", lambda v: isinstance(v, dict), at)
        require(
            all(isinstance(k, str) and _number(v) and v > 0 for k, v in rates.items()),
            at,
            "'throughput' must map backends to numbers above 0",
        )
        points.append(
            ScalingPoint(
                _get(raw, "file", lambda v: isinstance(v, str), at),
                _get(raw, "threads", lambda v: _count(v) and v >= 1, at),
                _get(raw, "repeat", _count, at),
                {k: float(v) for k, v in rates.items()},
            )
        )
    fits = {}
    for i, raw in enumerate(_get(data, "fits", lambda v: isinstance(v, list), where)):
        at = f"{where}: fits[{i}]"
        require(isinstance(raw, dict), at, "must be an object")
        label = _get(raw, "backend", lambda v: isinstance(v, str), at)
        counts = _get(raw, "thread_counts", lambda v: isinstance(v, list), at)
        require(all(_count(c) and c >= 1 for c in counts), at, "bad 'thread_counts'")
        fits[label] = ScalingFit(
            model=_get(raw, "model", lambda v: v in (USL, AMDAHL), at),
            lam=_read_interval(raw.get("lambda"), at, "lambda"),
            sigma=_read_interval(raw.get("sigma"), at, "sigma"),
            kappa=_read_interval(raw.get("kappa"), at, "kappa"),
            n=_get(raw, "n", _count, at),
            dof=_get(raw, "dof", _count, at),
            thread_counts=tuple(counts),
        )
    warnings = _get(data, "warnings", lambda v: isinstance(v, list), where)
    env = data.get("environment", {})
    return ScalingDocument(
        command=text[0],
        scaling=ThreadScaling(param=text[1], throughput=text[2], unit=text[3]),
        params=dict(_get(data, "params", lambda v: isinstance(v, dict), where)),
        points=points,
        fits=fits,
        warnings=[str(w) for w in warnings],
        complete=complete,
        stopped_by=data.get("stopped_by")
        if isinstance(data.get("stopped_by"), str)
        else None,
        environment=dict(env) if isinstance(env, dict) else {},
        created=str(data.get("created", "")),
    )
