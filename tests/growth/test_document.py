"""The sweep file: written, read back the same, and refused when malformed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ctbench.growth.build import build_sweep
from ctbench.growth.document import (
    dumps_sweep,
    load_sweep,
    sweep_from_json,
    sweep_to_json,
)
from ctbench.results import ResultsError
from tests.helpers.sweep_factory import grid_runs


def _document(tmp_path: Path) -> dict[str, Any]:
    named = [(str(tmp_path / "points" / n), run) for n, run in grid_runs()]
    return sweep_to_json(build_sweep(named, "min"), tmp_path / "sweep.json")


def test_the_sweep_file_round_trips(tmp_path: Path) -> None:
    named = [(str(tmp_path / "points" / n), run) for n, run in grid_runs()]
    doc = build_sweep(named, "median")
    path = tmp_path / "sweep.json"
    path.write_text(dumps_sweep(doc, path))
    back = load_sweep(path)
    assert back.fits == doc.fits
    assert [p.observations for p in back.points] == [p.observations for p in doc.points]
    assert back.statistic == "median" and back.grid == json.loads(json.dumps(doc.grid))
    # Point files are recorded relative to the sweep file.
    assert back.points[0].file == "points/p-1000-10.json"


def test_fits_hold_one_object_per_backend_phase_and_variable(tmp_path: Path) -> None:
    data = _document(tmp_path)
    assert data["schema"] == 4 and data["kind"] == "sweep"
    assert len(data["fits"]) == 2 * 4 * 2
    first = data["fits"][0]
    assert set(first) == {"backend", "phase", "variable", "exponent", "ci95", "fit"}
    assert first["variable"] == "stored" and data["fits"][1]["variable"] == "zone"
    low, high = first["ci95"]
    assert low <= first["exponent"] <= high
    assert {
        "points",
        "dof",
        "r_squared",
        "residual_se",
        "scatter_factor",
        "poor",
    } <= set(first["fit"])


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("kind",), "sweep-plan", "not a sweep file"),
        (("schema",), 99, "newer than this ctbench"),
        (("statistic",), "p42", "'statistic'"),
        (("grid", "entries"), [0], "grid.entries"),
        (("points", 0, "observations", 0, "cost_us"), float("nan"), "cost_us"),
        (("points", 0, "observations", 0, "phase"), "nope", "'phase'"),
        (("fits", 0, "ci95"), [1.0], "ci95"),
        (("fits", 0, "exponent"), 50.0, "outside 'ci95'"),
        (("fits", 1), KeyError, "need one per variable"),
        (("fits", 0, "fit", "dof"), 0, "'dof'"),
        (("warnings",), [3], "'warnings'"),
    ],
)
def test_a_malformed_sweep_file_is_refused_in_one_line(
    tmp_path: Path, path: tuple[Any, ...], value: Any, why: str
) -> None:
    bad = _set(_document(tmp_path), path, value)
    with pytest.raises(ResultsError, match=why) as info:
        sweep_from_json(json.loads(json.dumps(bad)), "s.json")
    assert "\n" not in str(info.value) and str(info.value).startswith("s.json")
