"""JSON: the results file itself (schema 1)."""

from __future__ import annotations

from ctbench.results import RunResult, dumps


def render(run: RunResult) -> str:
    return dumps(run)
