"""A report, built once from a run: what every format lays out.

Statistics, intervals and sentences are computed when the report is built
(:func:`ctbench.report.build.build_report`); a format only arranges them, as
hyperfine's exporters lay out one table.  No format asks which command made
the run: each command supplies its own sections (:mod:`ctbench.report.sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from ctbench.results import RunResult

# How a column's values read: microseconds (the patch's rule), a rate, a count.
Kind = Literal["us", "rate", "count"]
Value = float | int | None


@dataclass(frozen=True)
class Column:
    """A statistic or figure of every row.  ``key`` heads it in the table,
    markdown and csv formats; ``label`` in the grouped (patch, rich) ones."""

    key: str
    label: str
    kind: Kind = "us"


@dataclass(frozen=True)
class Row:
    label: str  # the backend's label
    values: Mapping[str, Value]  # by column key


@dataclass(frozen=True)
class Group:
    """One phase: a row per backend that has it."""

    phase: str
    label: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Report:
    title: str
    lead: tuple[str, ...]  # ovstest's own output lines, printed first
    method: str  # how the figures were made, in the grouped layouts' terms
    table_method: str  # the same, naming the table layouts' columns
    columns: tuple[Column, ...]  # every column, in the table formats' order
    grouped: tuple[Column, ...]  # the grouped layouts' columns, in order
    groups: tuple[Group, ...]
    comparisons: tuple[str, ...]  # "per-zone is X% faster than single (...)"
    summary: tuple[str, ...]
    warnings: tuple[str, ...]  # each starts with WARNING: or NOTE:
    run: RunResult  # what it was built from: --format json writes its file


COMPARISONS_HEADING: Final = "Comparing the averages (arithmetic means, 95% intervals):"
