"""One map per zone for all 65,536 zones: OVS's conntrack after the patch."""

from __future__ import annotations

import sys
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

# conntrack zones are 16 bits: `struct cmap conns[UINT16_MAX + 1]` (patch 139b564db).
N_ZONES: Final = 1 << 16
_NO_VALUES: Final = np.empty(0, np.int64)


class PerZoneTable:
    """An array of 65,536 dicts indexed by zone, all created up front.

    Iterating a zone visits only that zone's nodes; the price is the fixed
    memory of 65,536 empty maps, which the patch puts at about 10 MB in C.
    """

    name: ClassVar[str] = "per-zone"
    description: ClassVar[str] = (
        "one map per zone, all 65,536 allocated up front "
        "(OVS after the per-zone patch); a zone flush visits only that zone"
    )
    # bind() only hands out existing maps: no lock needed around it.
    bind_creates: ClassVar[bool] = False
    # A zone's writes touch only its own map.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK, ZONE_LOCK)

    def __init__(self, lock_scope: str = GLOBAL_LOCK) -> None:
        self.lock_scope = check_lock_scope(type(self), lock_scope)
        self._maps: list[dict[ConnKey, int]] = [{} for _ in range(N_ZONES)]

    def share(self) -> None:
        self._maps = [NodeMap(m) for m in self._maps]

    @property
    def options(self) -> Options:
        return lock_options(self.lock_scope)

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        m = self._maps[zone]
        return m.get, m.__setitem__, m.__delitem__

    def bind_reader(self, zone: int) -> Reader:
        return self._maps[zone].__getitem__

    def zone_values(self, zone: int) -> Values:
        m = self._maps[zone]
        return values_of(m) if m else _NO_VALUES

    def values(self) -> Values:
        return values_of_all(self._maps)

    def items(self) -> Iterable[tuple[ConnKey, int]]:
        return items_of_all(m for m in self._maps if m)

    def __len__(self) -> int:
        return sum(map(len, self._maps))

    def container_bytes(self) -> int:
        return sys.getsizeof(self._maps) + sum(map(sys.getsizeof, self._maps))
