"""The commands whose runs make results files, and their report sections.

Registering a command here (with its CLI module and its core module) is
what it takes for ``report``, ``compare`` and every format to handle its
results files.
"""

from __future__ import annotations

from typing import Final

from ctbench.report.sections import CommandSections
from ctbench.scenarios import replay, threads, zones

SECTIONS: Final[dict[str, CommandSections]] = {
    zones.COMMAND: zones.SECTIONS,
    threads.COMMAND: threads.SECTIONS,
    replay.COMMAND: replay.SECTIONS,
}


def command_names() -> tuple[str, ...]:
    return tuple(SECTIONS)


def sections(command: str) -> CommandSections:
    return SECTIONS[command]
