"""Synthetic benchmark-zones runs whose costs follow known power laws, for
the sweep's tests: the fits must find the exponents put in."""

from __future__ import annotations

from typing import Any

import numpy as np

from ctbench.results import BackendResult, Fill, PhaseResult, RunResult
from ctbench.scenarios.benchmark_zones import PHASE_ORDER
from tests.helpers.run_factory import ENVIRONMENT, PARAMS

# The designs' growth: (exponent of stored, exponent of zone) per phase.
SINGLE = {
    "ct_execute_commit": (0.0, 1.0),
    "ct_execute_no_commit": (0.0, 1.0),
    "flush_full_zone": (1.0, 0.0),
    "flush_empty_zone": (1.0, 0.0),
}
PER_ZONE = {**SINGLE, "flush_full_zone": (0.0, 1.0), "flush_empty_zone": (0.0, 0.0)}
LAWS = {"single": SINGLE, "per-zone": PER_ZONE}


def zones_run(
    entries: int,
    zones: int,
    *,
    seed: int = 0,
    noise: float = 0.03,
    iterations: int = 5,
    environment: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> RunResult:
    rng = np.random.default_rng([seed, entries, zones])
    stored = entries * zones
    results = []
    for backend, law in LAWS.items():
        phases = {}
        for phase in PHASE_ORDER:
            b, c = law[phase]
            cost = 0.05 * stored**b * entries**c
            samples = cost * np.exp(rng.normal(0, noise, iterations))
            phases[phase] = PhaseResult([float(s) for s in samples], {})
        results.append(
            BackendResult(
                backend=backend,
                fill=Fill(stored, stored, 0, 10.0, 20.0, stored),
                phases=phases,
                extra={"stored_at_end": stored, "rounds": iterations},
            )
        )
    return RunResult(
        command="benchmark-zones",
        params={
            **PARAMS,
            "entries": entries,
            "zones": zones,
            "iterations": iterations,
            "backends": list(LAWS),
            **(params or {}),
        },
        environment={**ENVIRONMENT, **(environment or {})},
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:10+00:00",
        complete=True,
        results=results,
        tool_version="0.1.0",
    )


def grid_runs(**kwargs: Any) -> list[tuple[str, RunResult]]:
    return [
        (f"p-{e}-{z}.json", zones_run(e, z, **kwargs))
        for e in (1000, 3000, 10000)
        for z in (10, 30, 100)
    ]
