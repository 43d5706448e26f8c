"""``probe``: a test backend whose lookups do a set amount of extra work.

``probe`` is the single map with one change: ``ProbeTable.extra`` = (A, B)
makes A of every B lookups probe the map once more before the probe whose
answer counts ((0, 1): never), as a change to a lookup's code would cost
more work per lookup.  ``probe-every`` probes again on every lookup, fixed
in its class, so that a process that imports it (a run counted under
callgrind, ctbench.callgrind) gets the same work.  A module of its own,
light to import: a counted run's child imports it under valgrind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import cycle
from typing import ClassVar

from ctbench import backends
from ctbench.backends import Insert, Lookup, Remove
from ctbench.backends.single import SingleMapTable
from ctbench.keys import ConnKey


class ProbeTable(SingleMapTable):
    name: ClassVar[str] = "probe"
    description: ClassVar[str] = "the single map, each lookup probing it again"
    extra: ClassVar[tuple[int, int]] = (0, 1)

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        m = self._map
        get = m.get
        probes, per = type(self).extra
        turn = cycle([True] * probes + [False] * (per - probes))

        def lookup(key: ConnKey, default: int) -> int:
            if next(turn):
                get(key, default)
            return get(key, default)

        return lookup, m.__setitem__, m.__delitem__


class ProbeEveryLookup(ProbeTable):
    name: ClassVar[str] = "probe-every"
    description: ClassVar[str] = "the single map, every lookup probing it twice"
    extra: ClassVar[tuple[int, int]] = (1, 1)


class _ProbeEntryPoint:
    def __init__(self, table: type[ProbeTable]) -> None:
        self.name = table.name
        self._table = table

    def load(self) -> type[ProbeTable]:
        return self._table


@contextmanager
def probe_registered() -> Iterator[None]:
    """``probe`` and ``probe-every`` among the backends while the block runs."""
    real = backends.registry
    table = dict(real())
    for probe in (ProbeTable, ProbeEveryLookup):
        table[probe.name] = _ProbeEntryPoint(probe)
    backends.registry = lambda: table  # type: ignore[assignment]
    try:
        yield
    finally:
        backends.registry = real
