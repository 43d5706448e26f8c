"""What a command adds to the generic report: its sections.

Every report has a title, a method note, grouped rows of statistics, the
mean comparisons, a summary and warnings (:mod:`ctbench.report.build`).  A
command supplies what only it knows, as one :class:`CommandSections`: its
phases and their labels, the parameters its title shows, its method note,
lines to print first (ovstest's own output), extra columns, and its summary
and warning lines.  The command's record (:class:`ctbench.registry.Command`)
carries them, in a module of ``ctbench.report.commands``; no format changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ctbench.report.document import Column
from ctbench.results import BackendResult, RunResult

Lines = Callable[[RunResult], list[str]]


def no_lines(run: RunResult) -> list[str]:
    return []


@dataclass(frozen=True)
class ExtraColumn:
    """A column beyond the statistics, read from each backend's result."""

    column: Column
    value: Callable[[BackendResult], float | None]


@dataclass(frozen=True)
class CommandSections:
    # Phase name -> its label, in the order the report shows them.
    phases: Mapping[str, str]
    # The parameters the title shows, in order: "ctbench NAME P1 P2 ...".
    title_params: tuple[str, ...]
    # The method note; "{stats}" in it becomes what the layout's statistics
    # columns are and "{ovs}" the names of ovstest's estimator columns.
    method: Callable[[RunResult], str]
    lead: Lines = no_lines
    extra_columns: tuple[ExtraColumn, ...] = ()
    summary: Lines = no_lines
    warnings: Lines = no_lines
    # Phase labels of phases other commands' runs may hold.
    more_labels: Mapping[str, str] = field(default_factory=dict)

    def phase_label(self, name: str) -> str:
        return (
            self.phases.get(name)
            or self.more_labels.get(name)
            or name.replace("_", " ")
        )


def extra_value(key: str) -> Callable[[BackendResult], float | None]:
    """A number from the result's ``extra``, None when absent."""

    def value(result: BackendResult) -> float | None:
        found = result.extra.get(key)
        return float(found) if isinstance(found, int | float) else None

    return value
