"""N maps by key hash inside each zone: the patch author's "buckets per zone"."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, ClassVar, Final

from ctbench.backends import (
    GLOBAL_LOCK,
    SHARD_LOCK,
    ZONE_LOCK,
    Insert,
    Lookup,
    Options,
    Reader,
    Remove,
    Shard,
    Values,
    check_lock_scope,
    items_of_all,
    lock_options,
    values_of_all,
)
from ctbench.backends.sharded import (
    Shards,
    check_shards,
    new_shards,
    parse_shards,
    shard_numbers,
    shard_ops,
    shard_reader,
    share_shards,
    thread_shard_ops,
)
from ctbench.keys import ConnKey

DEFAULT_SHARDS: Final = 8


class PerZoneShardedTable:
    """Each zone's key nodes spread over ``shards`` dicts by key hash.

    A zone's shard list is allocated the first time the zone is bound (its
    first executed packet) and kept, never dropped.  Allocating all 65,536
    zones up front would cost 65,536 x N empty dicts (about 40 MB for N = 8
    in CPython), N times per-zone's fixed memory, for zones never used.
    Iterating a zone visits only that zone's shards.
    """

    name: ClassVar[str] = "per-zone-sharded"
    description: ClassVar[str] = (
        "N maps chosen by key hash inside each zone (the patch author's buckets "
        f"per zone; option shards, default {DEFAULT_SHARDS}); a zone's maps are "
        "allocated when the zone is first used and kept; a zone flush visits "
        "only that zone"
    )

    # A zone's shard list is made in bind() with one atomic setdefault,
    # and inserts and removes touch only their shard: any scope holds.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK, ZONE_LOCK, SHARD_LOCK)

    @classmethod
    def parse_options(cls, options: dict[str, str]) -> dict[str, Any]:
        return {"shards": parse_shards(cls.name, options, DEFAULT_SHARDS)}

    def __init__(
        self, shards: int = DEFAULT_SHARDS, lock_scope: str = GLOBAL_LOCK
    ) -> None:
        check_shards(shards)
        self.lock_scope = check_lock_scope(type(self), lock_scope)
        self._n_shards = shards
        self._zones: dict[int, Shards] = {}
        self._shared = False

    @property
    def options(self) -> Options:
        return {"shards": self._n_shards, **lock_options(self.lock_scope)}

    def share(self) -> None:
        self._shared = True
        for shards in self._zones.values():
            share_shards(shards)

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        ops = thread_shard_ops if self._shared else shard_ops
        return ops(self._shards_of(zone))

    def bind_reader(self, zone: int) -> Reader:
        return shard_reader(self._shards_of(zone))

    def bind_shard(self, zone: int) -> Shard:
        # Each zone's shards are numbered apart from every other zone's.
        return shard_numbers(self._n_shards, zone * self._n_shards)

    def _shards_of(self, zone: int) -> Shards:
        # setdefault, not get-then-set: two threads binding a new zone at
        # once must get the same shards (it is atomic on a dict).
        shards = self._zones.get(zone)
        if shards is None:
            shards = self._zones.setdefault(
                zone, new_shards(self._n_shards, self._shared)
            )
        return shards

    def _all_shards(self) -> list[Shards]:
        """Every zone's shards, taken in one C-level pass: another thread
        may bind a new zone meanwhile."""
        return list(self._zones.values())

    def zone_values(self, zone: int) -> Values:
        return values_of_all(self._zones.get(zone, ()))

    def values(self) -> Values:
        return values_of_all(s for shards in self._all_shards() for s in shards)

    def items(self) -> Iterable[tuple[ConnKey, int]]:
        return items_of_all(s for shards in self._all_shards() for s in shards)

    def __len__(self) -> int:
        return sum(len(s) for shards in self._all_shards() for s in shards)

    def container_bytes(self) -> int:
        return sys.getsizeof(self._zones) + sum(
            sys.getsizeof(shards) + sum(map(sys.getsizeof, shards))
            for shards in self._all_shards()
        )
