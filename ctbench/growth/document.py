"""The sweep file and the plan file: JSON documents of the results schema.

Both carry the results files' header (``schema``, ``tool``) and a ``kind``
(schema 2 introduced it for such documents, ``ctbench.results.schema``):

- ``"sweep"``: the grid, each point (its parameters, its results file,
  relative to the sweep file, its environment, its flags and its
  observations) and ``fits``: one object per backend, phase and variable
  (``stored``, ``zone``) with ``exponent``, ``ci95`` [low, high] and the
  fit's quality;
- ``"sweep-plan"``: the grid, and for each point its results file name and
  the ctbench command line that makes it.

Loading checks a sweep file field by field, as results files are checked:
anything else is a one-line ResultsError.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctbench import __version__
from ctbench.growth.analysis import STATISTICS, GrowthFit, Observation, PointRecord
from ctbench.growth.fit import VARIABLES, Exponent, PowerLawFit
from ctbench.growth.grid import Point, SweepConfig, command_line
from ctbench.results import check_header, parse_json, read_text
from ctbench.results.schema import SCHEMA_VERSION, TOOL_NAME, require
from ctbench.scenarios.benchmark_zones import PHASE_ORDER

# The largest x whose e^x is a float: beyond it a fit's scatter factor or a
# prediction cannot be computed, let alone drawn.
_LOG_FLOAT_MAX: Final = math.log(sys.float_info.max)
# Relative slack for figures a file rounds (JSON keeps 17 digits; the fit's
# own arithmetic rounds at about 1e-15).
_ROUNDING: Final = 1e-9
SWEEP_KIND: Final = "sweep"
PLAN_KIND: Final = "sweep-plan"


@dataclass
class SweepDocument:
    command: str
    grid: dict[str, Any]
    statistic: str
    points: list[PointRecord]
    fits: list[GrowthFit]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    stopped_by: str | None = None
    created: str = ""
    tool_version: str = __version__


def grid_of(records: list[PointRecord], params: Mapping[str, Any]) -> dict[str, Any]:
    """The grid the points span, and the parameters they share."""
    return {
        "entries": sorted({r.entries for r in records}),
        "zones": sorted({r.zones for r in records}),
        "iterations": sorted({r.iterations for r in records}),
        "params": {
            key: value
            for key, value in params.items()
            if key not in ("entries", "zones", "iterations")
        },
    }


def _relative(file: str, base: Path) -> str:
    try:
        return os.path.relpath(file, base)
    except ValueError:  # another drive: keep it as it is
        return file


def sweep_to_json(doc: SweepDocument, where: Path) -> dict[str, Any]:
    """``doc`` as JSON, its point files relative to ``where``'s directory."""
    base = where.parent
    return {
        "schema": SCHEMA_VERSION,
        "kind": SWEEP_KIND,
        "tool": {"name": TOOL_NAME, "version": doc.tool_version},
        "command": doc.command,
        "created": doc.created,
        "complete": doc.complete,
        "stopped_by": doc.stopped_by,
        "statistic": doc.statistic,
        "grid": doc.grid,
        "points": [
            {
                "entries": p.entries,
                "zones": p.zones,
                "iterations": p.iterations,
                "file": _relative(p.file, base),
                "environment": p.environment,
                "tool_version": p.tool_version,
                "flags": p.flags,
                "observations": [vars(o) for o in p.observations],
            }
            for p in doc.points
        ],
        "fits": [
            {
                "backend": f.backend,
                "phase": f.phase,
                "variable": e.variable,
                "exponent": e.value,
                "ci95": [e.low, e.high],
                "fit": {
                    "points": f.fit.n,
                    "dof": f.fit.dof,
                    "r_squared": f.fit.r_squared,
                    "residual_se": f.fit.residual_se,
                    "scatter_factor": f.fit.scatter_factor,
                    "poor": f.fit.poor,
                    "log_intercept": f.fit.intercept,
                    "machines": f.machines,
                },
            }
            for f in doc.fits
            for e in f.fit.exponents
        ],
        "warnings": doc.warnings,
        "notes": doc.notes,
    }


def dumps_sweep(doc: SweepDocument, where: Path) -> str:
    return json.dumps(sweep_to_json(doc, where), indent=1) + "\n"


def plan_to_json(config: SweepConfig, points: list[Point]) -> dict[str, Any]:
    entries = []
    for point in points:
        argv = config.argv(point, point.file_name())
        entries.append(
            {
                "entries": point.entries,
                "zones": point.zones,
                "output": point.file_name(),
                "argv": argv,
                "command": command_line(argv),
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "kind": PLAN_KIND,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "command": "benchmark-zones",
        "grid": {
            "entries": list(config.entries),
            "zones": list(config.zones),
            "iterations": [config.iterations],
            "params": {
                key: value
                for key, value in config.zone_config(points[0]).params().items()
                if key not in ("entries", "zones", "iterations")
            },
        },
        "points": entries,
    }


# -- reading ------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _get(raw: Mapping[str, Any], key: str, ok: Callable[[Any], bool], at: str) -> Any:
    value = raw.get(key)
    require(ok(value), at, f"'{key}' is missing or has the wrong type")
    return value


def _object(value: Any, at: str, name: str) -> Mapping[str, Any]:
    require(isinstance(value, dict), at, f"'{name}' must be an object")
    return value  # type: ignore[no-any-return]


def _list(value: Any, at: str, name: str) -> list[Any]:
    require(isinstance(value, list), at, f"'{name}' must be a list")
    return value  # type: ignore[no-any-return]


def _name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def document_kind(data: Any, where: str) -> str:
    """The kind of a ctbench document (``run``, ``sweep``, ``sweep-plan``)."""
    schema = check_header(data, where)
    kind = data.get("kind", "run") if schema >= 2 else "run"
    require(isinstance(kind, str), where, "'kind' must be a string")
    return str(kind)


def sweep_from_json(data: Any, where: str) -> SweepDocument:
    kind = document_kind(data, where)
    require(kind == SWEEP_KIND, where, f"a {kind!r} document, not a sweep file")
    command = _get(data, "command", lambda v: isinstance(v, str), where)
    statistic = _get(data, "statistic", lambda v: v in STATISTICS, where)
    complete = _get(data, "complete", lambda v: isinstance(v, bool), where)
    stopped_by = data.get("stopped_by")
    require(
        stopped_by is None or isinstance(stopped_by, str),
        where,
        "'stopped_by' must be a string or null",
    )
    grid = _object(data.get("grid"), where, "grid")
    for key in ("entries", "zones", "iterations"):
        values = _list(grid.get(key), where, f"grid.{key}")
        require(
            all(map(_positive_int, values)),
            where,
            f"'grid.{key}' must hold integers, 1 or more",
        )
    points = [
        _point(raw, f"{where}: points[{i}]")
        for i, raw in enumerate(_list(data.get("points"), where, "points"))
    ]
    fits = _fits(_list(data.get("fits"), where, "fits"), where)
    _check_predictions(fits, points, where)
    for key in ("warnings", "notes"):
        require(_strings(data.get(key, [])), where, f"'{key}' must be strings")
    return SweepDocument(
        command=command,
        grid=dict(grid),
        statistic=statistic,
        points=points,
        fits=fits,
        warnings=list(data.get("warnings", [])),
        notes=list(data.get("notes", [])),
        complete=complete,
        stopped_by=stopped_by,
        created=str(data.get("created", "")),
        tool_version=str(data["tool"].get("version", "")),
    )


def _point(raw: Any, at: str) -> PointRecord:
    raw = _object(raw, at, "point")
    observations = []
    for i, o in enumerate(_list(raw.get("observations"), at, "observations")):
        o_at = f"{at}.observations[{i}]"
        o = _object(o, o_at, "observation")
        phase = _get(o, "phase", lambda v: v in PHASE_ORDER, o_at)
        observations.append(
            Observation(
                backend=_get(o, "backend", _name, o_at),
                phase=phase,
                stored=_get(o, "stored", _positive_int, o_at),
                zone=_get(o, "zone", _positive_int, o_at),
                cost_us=_get(o, "cost_us", lambda v: _finite(v) and v >= 0, o_at),
                samples=_get(o, "samples", _positive_int, o_at),
            )
        )
    flags = raw.get("flags", [])
    require(_strings(flags), at, "'flags' must be strings")
    return PointRecord(
        entries=_get(raw, "entries", _positive_int, at),
        zones=_get(raw, "zones", _positive_int, at),
        iterations=_get(raw, "iterations", _positive_int, at),
        file=_get(raw, "file", lambda v: isinstance(v, str), at),
        environment=dict(_object(raw.get("environment"), at, "environment")),
        tool_version=str(raw.get("tool_version", "")),
        observations=observations,
        flags=list(flags),
    )


def _fits(raws: list[Any], where: str) -> list[GrowthFit]:
    """One GrowthFit per backend and phase, from its two variables' objects."""
    grouped: dict[tuple[str, str], dict[str, tuple[Exponent, Mapping[str, Any]]]] = {}
    for i, raw in enumerate(raws):
        at = f"{where}: fits[{i}]"
        raw = _object(raw, at, "fit")
        backend = _get(raw, "backend", _name, at)
        phase = _get(raw, "phase", lambda v: v in PHASE_ORDER, at)
        variable = _get(raw, "variable", lambda v: v in VARIABLES, at)
        value = _get(raw, "exponent", _finite, at)
        ci: Any = raw.get("ci95")
        require(
            isinstance(ci, list) and len(ci) == 2 and all(map(_finite, ci)),
            at,
            "'ci95' must be [low, high]",
        )
        require(ci[0] <= value <= ci[1], at, "'exponent' lies outside 'ci95'")
        quality = _object(raw.get("fit"), at, "fit")
        for key in ("r_squared", "residual_se", "log_intercept"):
            _get(quality, key, _finite, f"{at}.fit")
        require(
            0 <= quality["residual_se"] <= _LOG_FLOAT_MAX,
            f"{at}.fit",
            f"'residual_se' must be from 0 to {_LOG_FLOAT_MAX:.1f} (its e^x, "
            "the scatter factor, a float)",
        )
        for key in ("points", "dof", "machines"):
            _get(quality, key, _positive_int, f"{at}.fit")
        slot = grouped.setdefault((backend, phase), {})
        require(variable not in slot, at, f"a second '{variable}' fit")
        slot[variable] = (Exponent(variable, value, ci[0], ci[1]), quality)
    fits = []
    for (backend, phase), slot in grouped.items():
        require(
            set(slot) == set(VARIABLES),
            where,
            f"fits of {backend}, {phase}: need one per variable "
            f"({', '.join(VARIABLES)})",
        )
        quality = slot[VARIABLES[0]][1]
        fit = PowerLawFit(
            intercept=float(quality["log_intercept"]),
            exponents=tuple(slot[v][0] for v in VARIABLES),
            n=int(quality["points"]),
            dof=int(quality["dof"]),
            r_squared=float(quality["r_squared"]),
            residual_se=float(quality["residual_se"]),
        )
        fits.append(GrowthFit(backend, phase, fit, int(quality["machines"])))
    return fits


def _check_predictions(
    fits: list[GrowthFit], points: list[PointRecord], where: str
) -> None:
    """What each fit must be to the observations it was fitted to.

    Its residual standard error is at most the spread of their log costs
    (a least-squares fit with an intercept leaves RSS <= TSS <= n s^2 / 4,
    s the spread, and dof = n - 3 >= 1 gives sigma^2 <= n s^2 / (4 (n - 3))
    <= s^2), and its prediction at each of them is a float (a hand-edited
    exponent or intercept can put it beyond any)."""
    for growth in fits:
        fitted = [
            o
            for point in points
            for o in point.observations
            if (o.backend, o.phase) == (growth.backend, growth.phase)
        ]
        log_costs = [math.log(o.cost_us) for o in fitted if o.cost_us > 0]
        if log_costs:
            spread = max(log_costs) - min(log_costs)
            require(
                growth.fit.residual_se <= spread * (1 + _ROUNDING) + _ROUNDING,
                where,
                f"the fit of {growth.backend}, {growth.phase}: 'residual_se' "
                f"{growth.fit.residual_se:.3g} exceeds the spread of its log "
                f"costs ({spread:.3g}), which bounds it",
            )
        for o in fitted:
            log_cost = growth.fit.log_predict(o.stored, o.zone)
            require(
                abs(log_cost) <= _LOG_FLOAT_MAX,
                where,
                f"the fit of {growth.backend}, {growth.phase} predicts e^"
                f"{log_cost:.3g} us at stored {o.stored:,}, zone {o.zone:,}: "
                "beyond any float",
            )


def load_sweep(path: Path) -> SweepDocument:
    where = str(path)
    return sweep_from_json(parse_json(read_text(path), where), where)
