"""One map per zone for all 65,536 zones: OVS's conntrack after the patch."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from ctbench.backends import Insert, Lookup, Options, Remove

if TYPE_CHECKING:
    from ctbench.model import Connection
    from ctbench.packets import ConnKey

# conntrack zones are 16 bits: `struct cmap conns[UINT16_MAX + 1]` (patch 139b564db).
N_ZONES = 1 << 16


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

    def __init__(self) -> None:
        self._maps: list[dict[ConnKey, Connection]] = [{} for _ in range(N_ZONES)]

    @property
    def options(self) -> Options:
        return {}

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        m = self._maps[zone]
        return m.get, m.__setitem__, m.__delitem__

    def zone_items(self, zone: int) -> list[tuple[ConnKey, Connection]]:
        return list(self._maps[zone].items())

    def items(self) -> Iterable[tuple[ConnKey, Connection]]:
        return [item for m in self._maps if m for item in m.items()]

    def zone_scan_size(self, zone: int) -> int:
        return len(self._maps[zone])

    def __len__(self) -> int:
        return sum(map(len, self._maps))

    def container_bytes(self) -> int:
        return sys.getsizeof(self._maps) + sum(map(sys.getsizeof, self._maps))
