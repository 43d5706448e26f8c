"""plot of a thread sweep's scaling file: runs, fitted law, ideal line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ctbench.growth.scaling_document import (
    ScalingDocument,
    build_scaling,
    dumps_scaling,
)
from ctbench.registry import ThreadScaling
from ctbench.results import BackendResult, RunResult
from tests.helpers.cli import run_cli

pytest.importorskip("matplotlib")

from ctbench.plot.scaling_figure import scaling_figure  # noqa: E402

SCALING = ThreadScaling(param="n_threads", throughput="pps", unit="packets/s")


def _run(threads: int, rate: float) -> RunResult:
    return RunResult(
        command="benchmark",
        params={"n_threads": threads, "n_pkts": 64},
        environment={},
        started="2026-12-05T00:00:00+00:00",
        complete=True,
        results=[BackendResult("per-zone", extra={"pps": rate})],
    )


def _doc(counts: tuple[int, ...]) -> ScalingDocument:
    law = {n: 1e6 * n / (1 + 0.1 * (n - 1) + 0.01 * n * (n - 1)) for n in counts}
    runs = [(f"t{n}-r{r}.json", r, _run(n, law[n] * (1 + 0.01 * r))) for n in counts
            for r in (1, 2)]  # fmt: skip
    return build_scaling(runs, "benchmark", SCALING)


def test_the_figure_has_runs_the_fitted_law_and_ideal_scaling() -> None:
    doc = _doc((1, 2, 4, 8))
    fig = scaling_figure([("s.json", doc)])
    (ax,) = fig.get_axes()
    labels = [str(line.get_label()) for line in ax.get_lines()]
    assert labels[0] == "per-zone: runs"
    assert labels[1].startswith("per-zone: USL σ 0.1")
    assert labels[2] == "per-zone: ideal, λN"
    runs, law, ideal = (
        (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
        for line in ax.get_lines()
    )
    assert sorted(runs[0].tolist()) == [1, 1, 2, 2, 4, 4, 8, 8]
    assert ideal[0][-1] == 8
    assert ideal[1][-1] > law[1][-1]  # sublinear
    assert ax.get_xlabel() == "threads (n_threads)"
    assert ax.get_ylabel() == "throughput (packets/s)"


def test_plot_draws_a_scaling_file(tmp_path: Path) -> None:
    path = tmp_path / "scaling.json"
    path.write_text(dumps_scaling(_doc((1, 2)), path))
    out = tmp_path / "s.png"
    code, _, err = run_cli("plot", str(path), "-o", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith(b"\x89PNG")
