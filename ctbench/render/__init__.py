"""Renderers: each turns a RunResult into a string.  Only the CLI prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ctbench.render import csv_format, json_format, markdown, patch, table
from ctbench.results import RunResult

FORMATS: Final[dict[str, Callable[[RunResult], str]]] = {
    "patch": patch.render,
    "table": table.render,
    "markdown": markdown.render,
    "csv": csv_format.render,
    "json": json_format.render,
}


def render(run: RunResult, fmt: str) -> str:
    return FORMATS[fmt](run)
