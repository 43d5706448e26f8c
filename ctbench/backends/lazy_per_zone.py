"""One map per zone in use: per-zone's flush cost without its fixed memory."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable
from typing import ClassVar, Final

import numpy as np

from ctbench.backends import (
    GLOBAL_LOCK,
    ZONE_LOCK,
    Insert,
    Lookup,
    NodeMap,
    Options,
    Reader,
    Remove,
    Values,
    check_lock_scope,
    items_of_all,
    lock_options,
    values_of,
    values_of_all,
)
from ctbench.keys import ConnKey

_NO_VALUES: Final = np.empty(0, np.int64)


class ZoneMap(NodeMap):
    """A zone's dict, weakly referenceable so a dropped one can be found again
    while some binding still holds it."""

    __slots__ = ("__weakref__",)


class LazyPerZoneTable:
    """A dict for each zone that holds connections, dropped when it empties.

    Memory follows the zones in use instead of 65,536.  The subtle part is
    that ``bind(zone)`` hands out callables that the model keeps for a whole
    batch, during which the zone may empty (an expired connection cleaned, a
    flush) and fill again.  So, for every zone, there is only ever one
    ZoneMap that anyone can reach:

    - ``_live`` holds the non-empty ones; ``insert`` (re-)registers its map
      when it goes from empty to one node, ``remove`` unregisters it and
      clears it (releasing the hash table an emptied dict keeps) when it goes
      to zero.
    - ``_bound`` weakly holds the empty ones that bindings still reference,
      so a new ``bind`` of that zone shares the same map instead of making a
      second one; the entry goes when the map is registered again or with
      the last binding.

    ``lookup`` is the dict's own ``get``, as fast as per-zone; ``insert`` and
    ``remove`` are closures that add the emptiness check.
    """

    name: ClassVar[str] = "lazy-per-zone"
    description: ClassVar[str] = (
        "one map per zone, created when a zone gets its first connection and "
        "dropped when it empties; a zone flush visits only that zone"
    )

    # Under a lock per zone, writes of different zones meet only on _live
    # and _bound, one key each: a dict's (and WeakValueDictionary's) item
    # assignment and pop are atomic.  bind() runs under the zone's lock.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK, ZONE_LOCK)

    def __init__(self, lock_scope: str = GLOBAL_LOCK) -> None:
        self.lock_scope = check_lock_scope(type(self), lock_scope)
        self._live: dict[int, ZoneMap] = {}
        self._bound: weakref.WeakValueDictionary[int, ZoneMap] = (
            weakref.WeakValueDictionary()
        )

    @property
    def options(self) -> Options:
        return lock_options(self.lock_scope)

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        live = self._live
        bound = self._bound
        m = self._map_of(zone)

        def insert(key: ConnKey, value: int) -> None:
            m[key] = value
            if len(m) == 1:
                live[zone] = m
                bound.pop(zone, None)  # reachable through _live now

        def remove(key: ConnKey) -> None:
            del m[key]
            if not m:
                live.pop(zone, None)
                m.clear()
                bound[zone] = m

        return m.get, insert, remove

    def bind_reader(self, zone: int) -> Reader:
        return self._map_of(zone).__getitem__

    def _map_of(self, zone: int) -> ZoneMap:
        """The one map of ``zone`` anyone can reach (see the class)."""
        m = self._live.get(zone)
        if m is None:
            m = self._bound.get(zone)
            if m is None:
                m = self._bound[zone] = ZoneMap()
        return m

    def zone_values(self, zone: int) -> Values:
        m = self._live.get(zone)
        return values_of(m) if m is not None else _NO_VALUES

    def _live_maps(self) -> list[ZoneMap]:
        """The live maps, taken in one C-level pass: another thread may
        register or drop a zone's map meanwhile."""
        return list(self._live.values())

    def values(self) -> Values:
        return values_of_all(self._live_maps())

    def items(self) -> Iterable[tuple[ConnKey, int]]:
        return items_of_all(self._live_maps())

    def zones_in_use(self) -> int:
        return len(self._live)

    def __len__(self) -> int:
        return sum(map(len, self._live_maps()))

    def container_bytes(self) -> int:
        return sys.getsizeof(self._live) + sum(map(sys.getsizeof, self._live_maps()))
