"""One map for every zone: OVS's conntrack before the per-zone patch."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from ctbench.backends import Insert, Lookup, Options, Remove
from ctbench.packets import ZONE

if TYPE_CHECKING:
    from ctbench.model import Connection
    from ctbench.packets import ConnKey


class SingleMapTable:
    """All key nodes in one dict, like ``struct cmap conns``.

    Iterating a zone walks every node and skips other zones' ones, which is
    what makes a zone flush cost the same as a full-table scan.
    """

    name: ClassVar[str] = "single"
    description: ClassVar[str] = (
        "one map for all zones (OVS before the per-zone patch); "
        "a zone flush scans every entry"
    )
    # bind() only hands out existing maps: no lock needed around it.
    bind_creates: ClassVar[bool] = False

    def __init__(self) -> None:
        self._map: dict[ConnKey, Connection] = {}

    @property
    def options(self) -> Options:
        return {}

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        m = self._map
        return m.get, m.__setitem__, m.__delitem__

    def zone_items(self, zone: int) -> list[tuple[ConnKey, Connection]]:
        m = self._map
        # Walking the keys and fetching the few matches is about 30% quicker
        # in CPython than walking items(), which builds a tuple per entry.
        return [(k, m[k]) for k in [k for k in m if k[ZONE] == zone]]

    def items(self) -> Iterable[tuple[ConnKey, Connection]]:
        return list(self._map.items())

    def zone_scan_size(self, zone: int) -> int:
        return len(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def container_bytes(self) -> int:
        return sys.getsizeof(self._map)
