"""What a comparison format is: a name and a layout of a comparison report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ctbench.report.comparison import ComparisonReport


@dataclass(frozen=True)
class ComparisonFormat:
    name: str
    layout: Callable[[ComparisonReport], str]
    help: str
