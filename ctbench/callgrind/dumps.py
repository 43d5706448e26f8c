"""callgrind's dumps read back: each interval's counts, matched to the
marked sections (:class:`ctbench.scenarios.harness.SectionMarks`).

Run with ``--dump-before=sched_yield --separate-threads=yes``, callgrind
writes a file ``OUT.PART-THREAD`` before every ``sched_yield`` call, holding
what that thread executed since its previous dump; its header's
``events:`` line names the counts and its ``summary:`` line gives them
(the callgrind format, valgrind's manual:
https://valgrind.org/docs/manual/cl-format.html).  The file written at the
program's end (``OUT-THREAD``, no part) is not an interval.

A section's edges are two yields: the dump before the opening one holds
what ran between sections, the dump before the closing one the section.
So the intervals, in order, pair up, and the second of each pair is the
section's work, provided nothing else called ``sched_yield``: the number
of dumps must be exactly the number of edges the run marked, all in one
thread, or no count can be trusted (:func:`section_counts`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ctbench.errors import CtbenchError

# OUT.PART-THREAD: one interval of one thread.
_INTERVAL: Final = re.compile(r"\.(\d+)-(\d+)$")
# Where a header ends: the counts start at the first "fl=" or "ob=" line;
# the summary comes before them.
_HEADER_LINES: Final = 64


class DumpError(CtbenchError):
    """callgrind's output that does not match the sections marked."""


@dataclass(frozen=True)
class Interval:
    """One dump: callgrind's part number (global, in the order written),
    the thread that made it, and its counts by event name."""

    part: int
    thread: int
    events: Mapping[str, int]


def read_interval(path: Path) -> Interval | None:
    """The interval a dump file holds; None for a file that is not one (the
    dump at the program's end, anything else in the directory)."""
    match = _INTERVAL.search(path.name)
    if match is None:
        return None
    names: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as text:
        for _, line in zip(range(_HEADER_LINES), text, strict=False):
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith("summary:"):
                values = [int(v) for v in line.split()[1:]]
                if not names or len(values) > len(names):
                    break
                # Trailing zero counts are left out, as on every cost line.
                values += [0] * (len(names) - len(values))
                return Interval(
                    int(match.group(1)),
                    int(match.group(2)),
                    dict(zip(names, values, strict=True)),
                )
    raise DumpError(f"{path.name}: no 'events:' and 'summary:' lines in its header")


class DumpReader:
    """Reads callgrind's interval dumps in ``directory`` while the run goes
    on, and removes each once read, so that a run of a million sections
    never holds a million files (each is 10-60 kB)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.intervals: list[Interval] = []

    def collect(self, final: bool) -> None:
        """Read the dumps that are complete: callgrind writes one at a
        time, so every one but the newest is, and at the end all are."""
        found = sorted(
            (int(m.group(1)), path)
            for path in self.directory.iterdir()
            if (m := _INTERVAL.search(path.name))
        )
        ready = found if final else found[:-1]
        for _, path in ready:
            interval = read_interval(path)
            if interval is not None:
                self.intervals.append(interval)
            path.unlink()


def section_counts(
    intervals: Sequence[Interval], edges: int
) -> list[Mapping[str, int]]:
    """Each marked section's counts, in the order the run marked them:
    the second interval of each pair.  DumpError when the dumps are not
    exactly the ``edges`` the run marked, in one thread."""
    if len(intervals) != edges:
        raise DumpError(
            f"callgrind made {len(intervals):,} interval dumps for the "
            f"{edges:,} section edges ctbench marked: something else called "
            "sched_yield, so no count can be matched to its section"
        )
    threads = sorted({i.thread for i in intervals})
    if len(threads) > 1:
        raise DumpError(
            f"callgrind's interval dumps come from threads {threads}: something "
            "beside the marked thread called sched_yield"
        )
    ordered = sorted(intervals, key=lambda i: i.part)
    return [i.events for i in ordered[1::2]]


def estimated_cycles(events: Mapping[str, int]) -> int:
    """iai-callgrind's estimate of the cycles behind callgrind's cache
    simulation (iai-callgrind, iai-callgrind-runner/src/runner/callgrind/
    mod.rs, ``CyclesEstimator::calculate``,
    https://github.com/iai-callgrind/iai-callgrind, after Itamar
    Turner-Trauring, https://pythonspeed.com/articles/consistent-benchmarking-in-ci/):
    L1 hits + 5 x LL hits + 35 x RAM accesses, where every instruction
    fetch and data read or write is an access, an L1 miss that the last
    level holds an LL hit, and a last-level miss a RAM access."""
    try:
        accesses = events["Ir"] + events["Dr"] + events["Dw"]
        l1_misses = events["I1mr"] + events["D1mr"] + events["D1mw"]
        ram = events["ILmr"] + events["DLmr"] + events["DLmw"]
    except KeyError as missing:
        raise DumpError(
            f"callgrind's dumps have no {missing} count: the cache simulation "
            "(--cache-sim=yes) did not run"
        ) from None
    ll_hits = l1_misses - ram
    l1_hits = accesses - l1_misses
    return l1_hits + 5 * ll_hits + 35 * ram
