"""What a format is: a name and a layout of a report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ctbench.report.document import Column, Report, Value
from ctbench.report.numbers import fmt_count, fmt_rate, num

# layout(report, terminal width) -> the text to print.
Layout = Callable[[Report, int], str]


@dataclass(frozen=True)
class Format:
    name: str
    layout: Layout
    help: str


def cell(column: Column, value: Value) -> str:
    """A value as the reports print it: microseconds by the patch's rule,
    rates and counts with thousands separators."""
    if column.kind == "count":
        return fmt_count(value)
    if column.kind == "rate":
        return fmt_rate(value)
    return num(None if value is None else float(value))
