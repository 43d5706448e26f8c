"""One map for every zone: OVS's conntrack before the per-zone patch."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import ClassVar

from ctbench.backends import (
    GLOBAL_LOCK,
    Insert,
    Lookup,
    NodeMap,
    Options,
    Reader,
    Remove,
    Values,
    values_of,
)
from ctbench.keys import ConnKey


class SingleMapTable:
    """All key nodes in one dict, like ``struct cmap conns``.

    Iterating a zone walks every node (the model keeps that zone's ones),
    which is what makes a zone flush cost the same as a full-table scan.
    """

    name: ClassVar[str] = "single"
    description: ClassVar[str] = (
        "one map for all zones (OVS before the per-zone patch); "
        "a zone flush scans every entry"
    )
    # bind() only hands out existing maps: no lock needed around it.
    bind_creates: ClassVar[bool] = False
    # One map: a finer lock than ct_lock would still be one lock.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK,)

    def __init__(self) -> None:
        self._map: dict[ConnKey, int] = {}

    def share(self) -> None:
        self._map = NodeMap(self._map)

    @property
    def options(self) -> Options:
        return {}

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        m = self._map
        return m.get, m.__setitem__, m.__delitem__

    def bind_reader(self, zone: int) -> Reader:
        return self._map.__getitem__

    def zone_values(self, zone: int) -> Values:
        return values_of(self._map)

    def values(self) -> Values:
        return values_of(self._map)

    def items(self) -> Iterable[tuple[ConnKey, int]]:
        return list(self._map.items())

    def __len__(self) -> int:
        return len(self._map)

    def container_bytes(self) -> int:
        return sys.getsizeof(self._map)
