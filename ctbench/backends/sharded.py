"""N maps chosen by the key's hash: the review's "split by hash, not by zone"."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, ClassVar, Final

from ctbench.backends import (
    GLOBAL_LOCK,
    MISS,
    SHARD_LOCK,
    Insert,
    Lookup,
    NodeMap,
    Options,
    Reader,
    Remove,
    Shard,
    Values,
    check_lock_scope,
    check_options,
    int_option,
    items_of_all,
    lock_options,
    values_of_all,
)
from ctbench.keys import ConnKey

DEFAULT_SHARDS: Final = 64
MAX_SHARDS: Final = 1 << 16

Shards = list[dict[ConnKey, int]]


def shard_ops(shards: Shards) -> tuple[Lookup, Insert, Remove]:
    """Lookup / insert / remove on ``shards``, picking one by ``hash(key) % N``.

    Closures over locals are the cheapest Python can do here; still, each call
    adds a Python frame to the dict operation, where C computes the hash once
    and uses it for both, so this overstates the C cost of sharding (the key's
    hash itself is cached by the bytes object).  ``%`` is kept even for
    powers of two: ``&`` measured no faster.
    """
    n = len(shards)

    def lookup(key: ConnKey, default: int) -> int:
        return shards[hash(key) % n].get(key, default)

    def insert(key: ConnKey, value: int) -> None:
        shards[hash(key) % n][key] = value

    def remove(key: ConnKey) -> None:
        del shards[hash(key) % n][key]

    return lookup, insert, remove


def thread_shard_ops(shards: Shards) -> tuple[Lookup, Insert, Remove]:
    """:func:`shard_ops` for a thread sharing the table, made in that thread
    (ConnTable.share has been called: ``shards`` holds NodeMaps).

    The closures reach the shards through bound methods the calling thread
    makes here, not through the shared list.  On free-threaded CPython an
    object every thread loads (a function, a list, a dict) has its
    reference count written by every thread, an atomic add on one cache
    line each time; an object a thread made itself is counted without one.
    OVS's threads share the cmap, not a handle on it.
    """
    n = len(shards)
    # Subscripts, not get: see NodeMap.
    readers = tuple(s.__getitem__ for s in shards)
    setters = tuple(s.__setitem__ for s in shards)
    deleters = tuple(s.__delitem__ for s in shards)

    def lookup(key: ConnKey, default: int) -> int:
        value = readers[hash(key) % n](key)
        return default if value == MISS else value

    def insert(key: ConnKey, value: int) -> None:
        setters[hash(key) % n](key, value)

    def remove(key: ConnKey) -> None:
        deleters[hash(key) % n](key)

    return lookup, insert, remove


def shard_reader(shards: Shards) -> Reader:
    """The threads' lookup on ``shards`` (ConnTable.bind_reader): the
    shard's subscript, which takes no lock, through the calling thread's
    own bound subscripts (see :func:`thread_shard_ops`).  A table never
    replaces its shards once shared, so the binding stays true."""
    n = len(shards)
    readers = tuple(s.__getitem__ for s in shards)

    def read(key: ConnKey) -> int:
        return readers[hash(key) % n](key)

    return read


def shard_numbers(n: int, first: int = 0) -> Shard:
    """The number of the shard :func:`shard_ops` puts a key in, counted
    from ``first`` (ConnTable.bind_shard: a per-shard lock's number)."""

    def shard(key: ConnKey) -> int:
        return first + hash(key) % n

    return shard


def new_shards(n: int, shared: bool = False) -> Shards:
    """``n`` empty shards: NodeMaps when threads share the table (their
    subscript is the reader), plain dicts otherwise (ConnTable.share)."""
    return [NodeMap() if shared else {} for _ in range(n)]


def share_shards(shards: Shards) -> None:
    """Turn ``shards`` into NodeMaps in place, so that the closures of
    :func:`shard_ops` and :func:`shard_reader` see them."""
    shards[:] = [NodeMap(s) for s in shards]


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
    and scans every shard, so a zone flush costs what it costs on the single
    map.  ``bind`` ignores the zone: its callables are built once, or, when
    threads share the table, once for each thread that binds.
    """

    name: ClassVar[str] = "sharded"
    description: ClassVar[str] = (
        "N maps chosen by key hash for all zones (the review's alternative; "
        f"option shards, default {DEFAULT_SHARDS}); a zone flush scans every shard"
    )
    # bind() only hands out existing maps: no lock needed around it.
    bind_creates: ClassVar[bool] = False
    # Every zone's keys share the shards: a zone's lock would not keep two
    # zones from writing one shard.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK, SHARD_LOCK)

    @classmethod
    def parse_options(cls, options: dict[str, str]) -> dict[str, Any]:
        return {"shards": parse_shards(cls.name, options, DEFAULT_SHARDS)}

    def __init__(
        self, shards: int = DEFAULT_SHARDS, lock_scope: str = GLOBAL_LOCK
    ) -> None:
        check_shards(shards)
        self.lock_scope = check_lock_scope(type(self), lock_scope)
        self._shards = new_shards(shards)
        self._ops = shard_ops(self._shards)
        self._shard = shard_numbers(shards)
        self._shared = False

    @property
    def options(self) -> Options:
        return {"shards": len(self._shards), **lock_options(self.lock_scope)}

    def share(self) -> None:
        share_shards(self._shards)
        self._shared = True

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        # Each thread its own closures (thread_shard_ops); one thread
        # keeps the ones built once.
        return thread_shard_ops(self._shards) if self._shared else self._ops

    def bind_reader(self, zone: int) -> Reader:
        return shard_reader(self._shards)

    def bind_shard(self, zone: int) -> Shard:
        return self._shard

    def zone_values(self, zone: int) -> Values:
        return values_of_all(self._shards)

    def values(self) -> Values:
        return values_of_all(self._shards)

    def items(self) -> Iterable[tuple[ConnKey, int]]:
        return items_of_all(self._shards)

    def __len__(self) -> int:
        return sum(map(len, self._shards))

    def container_bytes(self) -> int:
        return sys.getsizeof(self._shards) + sum(map(sys.getsizeof, self._shards))
