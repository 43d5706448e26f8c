"""Hand-built RunResults with seeded samples, so tests need no benchmark run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ctbench import results
from ctbench.results import BackendResult, Fill, Memory, PhaseResult, RunResult

PHASES = ("ct_execute_commit", "flush_full_zone")
ENVIRONMENT: dict[str, Any] = {
    "python_version": "3.11.7",
    "python_implementation": "CPython",
    "platform": "Linux-6.1-x86_64",
    "cpu_model": "Test CPU @ 3.0GHz",
    "cpu_count": 8,
    "hostname": "bench-1",
    "gil_enabled": True,
    "ctbench_version": "0.1.0",
}
PARAMS: dict[str, Any] = {
    "entries": 1000,
    "zones": 20,
    "iterations": 200,
    "batch_size": 1,
    "conn_limit": 3_000_000,
    "warmup": 0,
    "gc": "frozen",
    "sweep_every": None,
    "ovs_stats": False,
    "backends": ["single", "per-zone"],
}


def golden_environment(gil: bool = True) -> dict[str, Any]:
    """The environment recorded in the golden-file runs."""
    return {
        "python_version": "3.11.7",
        "python_implementation": "CPython",
        "platform": "Linux",
        "cpu_model": "Example CPU",
        "cpu_count": 2,
        "hostname": "golden",
        "gil_enabled": gil,
        "ctbench_version": "0.1.0",
    }


COUNTERS = {"lookups": 200_000, "created": 200_000, "removed": 0}


def make_run(
    *,
    scale: float = 1.0,
    seed: int = 0,
    n: int = 200,
    noise: float = 0.05,
    backends: Sequence[str] = ("single", "per-zone"),
    command: str = "benchmark-zones",
    params: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    counters: dict[str, int] | None = None,
    complete: bool = True,
) -> RunResult:
    """Log-normal samples around 100, 200, ... us, times ``scale``.

    The same seed gives the same noise, so ``scale=1.3`` against ``scale=1``
    is exactly 30% slower on every sample."""
    rng = np.random.default_rng(seed)
    results = []
    for i, backend in enumerate(backends):
        phases = {}
        for j, phase in enumerate(PHASES):
            centre = 100.0 * (i + 1) * (j + 1)
            samples = centre * scale * np.exp(rng.normal(0, noise, n))
            phases[phase] = PhaseResult(
                [float(s) for s in samples], dict(counters or COUNTERS)
            )
        results.append(
            BackendResult(
                backend=backend,
                fill=Fill(20_000, 20_000, 0, 1500.25, 2500.5),
                memory=Memory(370.5, 4096, 1000),
                phases=phases,
                extra={"wall_s": 1.25},
            )
        )
    return RunResult(
        command=command,
        params={**PARAMS, "backends": list(backends), **(params or {})},
        environment={**ENVIRONMENT, **(environment or {})},
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:10+00:00",
        complete=complete,
        harness={
            "timer": "time.perf_counter_ns",
            "timer_overhead_ns": 80.0,
            "timer_resolution_ns": 1.0,
        },
        results=results,
        tool_version="0.1.0",
    )


def mask_bootstrap_digits(text: str) -> str:
    """A report with the bootstrap intervals' digits masked, for golden
    files: they follow numpy's random stream, which numpy does not promise to
    keep across releases (NEP 19).  The intervals are tested on their own."""
    return re.sub(r"95% CI [^,()]*, bootstrap", "95% CI ..., bootstrap", text)


class SavedRuns:
    """Results files in FOLDER, saved the way ctbench saves them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, name: str, run: RunResult | None = None, **make: Any) -> Path:
        """RUN, or ``make_run(**MAKE)``, saved as FOLDER/NAME."""
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        results.save(make_run(**make) if run is None else run, path)
        return path


def older_document(doc: dict[str, Any], schema: int) -> dict[str, Any]:
    """A current results document as schema ``schema`` (1 to 3) wrote it:
    no unit (microseconds), samples under ``samples_us``, and before 3 no
    tags."""
    older = {**doc, "schema": schema}
    older.pop("unit", None)
    if schema < 3:
        older.pop("tags", None)
    older["results"] = [
        {
            **result,
            "phases": {
                name: {
                    "samples_us" if key == "samples" else key: value
                    for key, value in phase.items()
                }
                for name, phase in result["phases"].items()
            },
        }
        for result in doc["results"]
    ]
    return older


def counted_run(unit: str = "instructions", scale: float = 1.0) -> RunResult:
    """A run of counts, as ``--measure instructions`` records one: whole
    numbers around 10,000, 20,000, ... instructions, ``scale`` times."""
    run = make_run(n=5, scale=scale * 100)
    for result in run.results:
        for phase in result.phases.values():
            phase.samples = [float(round(s)) for s in phase.samples]
    run.unit = unit
    run.harness = {"counter": "callgrind", "python_hash_seed": "0"}
    return run
