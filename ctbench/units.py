"""What a sample measures: a time in microseconds, or a count from callgrind.

A run measures one thing in every phase (``--measure``), recorded once in
its results file as ``unit``.  Times are what ctbench measured from the
start; ``--measure instructions`` and ``--measure cycles`` count a timed
section's work under valgrind's callgrind (:mod:`ctbench.callgrind`):

- ``instructions``: the instructions the section executed (callgrind's
  ``Ir``), the same on every run of the same work;
- ``estimated_cycles``: iai-callgrind's estimate from callgrind's cache
  simulation, L1 hits + 5 x LL hits + 35 x RAM accesses
  (:func:`ctbench.callgrind.dumps.estimated_cycles` cites it), which also
  sees what the caches make of the work.

Samples of different units are never compared, pooled or shown side by
side (:func:`same_unit`); a command that reads only times refuses a count
in one line (:func:`require_time`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ctbench.errors import CtbenchError


@dataclass(frozen=True)
class Unit:
    """A unit of samples.  ``key`` is how results files record it."""

    key: str
    noun: str  # what the samples are, in a sentence: "instructions"
    measure: str  # the --measure value that makes it
    counted: bool  # counted by callgrind: no noise, no clock
    # The method note's first sentence, before the command's own words.
    heading: str
    # The largest sample a results file may hold: beyond it the file is
    # corrupt, not a measurement.
    max_sample: float


# 1e12 microseconds are 11.6 days; a larger sample is a corrupt file and
# would overflow the statistics.
MICROSECONDS: Final = Unit(
    "us", "microseconds", "time", False, "Times in microseconds", 1e12
)
# Counts are held as floats: exact up to 2^53 (9e15 instructions, weeks of
# a CPU's work and years under callgrind).
INSTRUCTIONS: Final = Unit(
    "instructions",
    "instructions",
    "instructions",
    True,
    "Instructions executed, counted by callgrind in the worker thread",
    2.0**53,
)
ESTIMATED_CYCLES: Final = Unit(
    "estimated_cycles",
    "estimated cycles",
    "cycles",
    True,
    "Estimated cycles from callgrind's cache simulation "
    "(L1 hits + 5 x LL hits + 35 x RAM accesses), worker thread",
    2.0**53,
)
UNITS: Final = {u.key: u for u in (MICROSECONDS, INSTRUCTIONS, ESTIMATED_CYCLES)}
MEASURES: Final = {u.measure: u for u in UNITS.values()}
DEFAULT_MEASURE: Final = MICROSECONDS.measure


class UnitError(CtbenchError, ValueError):
    """Samples of different units together, or a unit a command cannot read."""


def unit_of(key: str) -> Unit:
    """The unit a results file names; UnitError for one it cannot name."""
    found = UNITS.get(key)
    if found is None:
        raise UnitError(f"unknown unit {key!r} (known: {', '.join(UNITS)})")
    return found


def measured_by(measure: str) -> Unit:
    """The unit ``--measure MEASURE`` makes."""
    found = MEASURES.get(measure)
    if found is None:
        raise UnitError(
            f"--measure must be one of {', '.join(MEASURES)} (got {measure!r})"
        )
    return found


def same_unit(named: Iterable[tuple[str, str]], what: str) -> str:
    """The one unit key of ``named`` (name, unit key) pairs; UnitError naming
    the first two that differ, for ``what`` ("compare", "pool")."""
    first: tuple[str, str] | None = None
    for name, key in named:
        if first is None:
            first = (name, key)
        elif key != first[1]:
            raise UnitError(
                f"cannot {what} samples in different units: {first[0]} holds "
                f"{unit_of(first[1]).noun}, {name} {unit_of(key).noun}"
            )
    return MICROSECONDS.key if first is None else first[1]


def require_time(name: str, key: str, what: str) -> None:
    """Refuse, in one line, a file of counts given to ``what``, which reads
    times only."""
    if key != MICROSECONDS.key:
        raise UnitError(
            f"{name}: holds {unit_of(key).noun} (--measure "
            f"{unit_of(key).measure}); {what} reads times in microseconds only"
        )
