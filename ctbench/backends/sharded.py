"""N maps chosen by the key's hash: the review's "split by hash, not by zone"."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ctbench.backends import (
    Insert,
    Lookup,
    Options,
    Remove,
    check_options,
    int_option,
)
from ctbench.packets import ZONE

if TYPE_CHECKING:
    from ctbench.model import Connection
    from ctbench.packets import ConnKey

DEFAULT_SHARDS = 64
MAX_SHARDS = 1 << 16

Shards = list[dict["ConnKey", "Connection"]]


def shard_ops(shards: Shards) -> tuple[Lookup, Insert, Remove]:
    """Lookup / insert / remove on ``shards``, picking one by ``hash(key) % N``.

    Closures over locals are the cheapest Python can do here; still, each call
    hashes the key tuple twice (here and inside the dict), where C computes
    the hash once and uses it for both, so this overstates the C cost of
    sharding.  ``%`` is kept even for powers of two: ``&`` measured no faster.
    """
    n = len(shards)

    def lookup(key: ConnKey) -> Connection | None:
        return shards[hash(key) % n].get(key)

    def insert(key: ConnKey, conn: Connection) -> None:
        shards[hash(key) % n][key] = conn

    def remove(key: ConnKey) -> None:
        del shards[hash(key) % n][key]

    return lookup, insert, remove


def parse_shards(backend: str, options: dict[str, str], default: int) -> int:
    check_options(backend, options, ("shards",))
    return int_option(backend, options, "shards", default, 1, MAX_SHARDS)


def check_shards(shards: int) -> None:
    """Refuse a bad count given to the constructor directly (not via a spec)."""
    if not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be an integer from 1 to {MAX_SHARDS}")


class ShardedTable:
    """All zones' key nodes spread over ``shards`` dicts by key hash.

    Lookups pay for choosing the shard; iterating a zone has no index to use
    and scans every shard, keeping that zone's nodes, so a zone flush costs
    what it costs on the single map.  ``bind`` ignores the zone: its
    callables are built once.
    """

    name: ClassVar[str] = "sharded"
    description: ClassVar[str] = (
        "N maps chosen by key hash for all zones (the review's alternative; "
        f"option shards, default {DEFAULT_SHARDS}); a zone flush scans every shard"
    )
    # bind() only hands out existing maps: no lock needed around it.
    bind_creates: ClassVar[bool] = False

    @classmethod
    def parse_options(cls, options: dict[str, str]) -> dict[str, Any]:
        return {"shards": parse_shards(cls.name, options, DEFAULT_SHARDS)}

    def __init__(self, shards: int = DEFAULT_SHARDS) -> None:
        check_shards(shards)
        self._shards: Shards = [{} for _ in range(shards)]
        self._ops = shard_ops(self._shards)

    @property
    def options(self) -> Options:
        return {"shards": len(self._shards)}

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        return self._ops

    def zone_items(self, zone: int) -> list[tuple[ConnKey, Connection]]:
        # Keys first, then the few matches: as in single, quicker than items().
        return [
            (k, shard[k])
            for shard in self._shards
            for k in [k for k in shard if k[ZONE] == zone]
        ]

    def items(self) -> Iterable[tuple[ConnKey, Connection]]:
        return [item for shard in self._shards for item in shard.items()]

    def zone_scan_size(self, zone: int) -> int:
        return len(self)

    def __len__(self) -> int:
        return sum(map(len, self._shards))

    def container_bytes(self) -> int:
        return sys.getsizeof(self._shards) + sum(map(sys.getsizeof, self._shards))
