"""The commands whose runs make results files, and their report sections.

Registering a command here (with its CLI module and its core module) is
what it takes for ``report``, ``compare``, ``merge`` and every format to
handle its results files.
"""

from __future__ import annotations

from typing import Final

from ctbench.report.sections import CommandSections
from ctbench.results.merge import Pooling
from ctbench.scenarios import replay, threads, zones

SECTIONS: Final[dict[str, CommandSections]] = {
    zones.COMMAND: zones.SECTIONS,
    threads.COMMAND: threads.SECTIONS,
    replay.COMMAND: replay.SECTIONS,
}

# How each command's extra figures pool (ctbench merge).
POOLING: Final[dict[str, Pooling]] = {
    zones.COMMAND: zones.POOLING,
    threads.COMMAND: threads.POOLING,
    replay.COMMAND: replay.POOLING,
}


def command_names() -> tuple[str, ...]:
    return tuple(SECTIONS)


def sections(command: str) -> CommandSections:
    return SECTIONS[command]


def pooling(command: str) -> Pooling:
    """A command's Pooling; figures of an unknown command pool as figures
    per run (kept where every run agrees)."""
    return POOLING.get(command, Pooling())
