"""An example ctbench backend: a chained hash table with a fixed bucket count.

Every built-in backend leans on Python's dict.  This one writes the hash table
out by hand, the way a C programmer would before reaching for OVS's cmap: an
array of buckets, each a list of (key, value) pairs; a key lives in bucket
``hash(key) % buckets`` and is found by comparing it with each pair of its
bucket.  The bucket count is fixed, so once the table holds many more
connections than buckets every operation slows down with the chain length:
that is the point of the example (try ``--backend example-chained:buckets=16``
against the default).  Like the single map, it has no zone index, so
iterating one zone visits every node.

A node maps a key (``bytes``) to an ``int`` the model hands in: a
connection's handle, or its complement for a NAT connection's reverse key.
The table stores it and gives it back; it never looks inside.

It is deliberately plain.  What a backend has to get right is all here:

- ``name`` and ``description``, shown by ``ctbench backends``;
- ``parse_options`` (optional): check the ``name:key=value`` strings and
  return the constructor's keyword arguments, raising ``BackendError`` with a
  one-line message for anything wrong;
- ``options``: the effective options, defaults included, for results files;
- ``bind(zone)``: lookup / insert / remove callables for that zone's keys,
  correct for as long as the caller keeps them; ``lookup(key, default)``
  answers like ``dict.get``;
- ``zone_values``, ``values``, ``items``, ``__len__`` and
  ``container_bytes``;
- thread safety, for ``ctbench benchmark``, whose threads share the table:
  ctbench serializes inserts and removes under one lock (OVS's
  ``ct_lock``; ``lock_scopes`` says this table offers no finer one) but
  looks keys up and walks the table without any, so a lookup or a walk
  must never trip over a write half done.  Each bucket is therefore an
  immutable tuple: a write builds the bucket's new tuple and stores it in
  one step (copy-on-write, as RCU does), and a reader takes the bucket
  once and walks a tuple that never changes under it.  The first version
  moved the last pair into a removed pair's place in a list: a lookup
  walking that list could step past the moved pair and miss a key that
  was there all along, and ctbench's threaded contract test caught it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from ctbench.backends import (
    GLOBAL_LOCK,
    Insert,
    Lookup,
    Options,
    Remove,
    Values,
    check_options,
    int_option,
)

__all__ = ["ChainedTable"]

DEFAULT_BUCKETS = 1024
MAX_BUCKETS = 1 << 20

# Immutable: a write replaces a bucket's tuple, never changes it.
Bucket = tuple[tuple[bytes, int], ...]


class ChainedTable:
    """Buckets of (key, value) pairs; a key's bucket is its hash mod N."""

    name: ClassVar[str] = "example-chained"
    description: ClassVar[str] = (
        "example third-party backend: a hand-written chained hash table with a "
        f"fixed bucket count (option buckets, default {DEFAULT_BUCKETS}); "
        "a zone flush scans every node"
    )
    # Threads: one lock (ct_lock) for every write, the default.
    lock_scopes: ClassVar[tuple[str, ...]] = (GLOBAL_LOCK,)
    # bind() creates nothing, so ctbench need not lock around it.
    bind_creates: ClassVar[bool] = False

    @classmethod
    def parse_options(cls, options: dict[str, str]) -> dict[str, Any]:
        check_options(cls.name, options, ("buckets",))
        buckets = int_option(
            cls.name, options, "buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS
        )
        return {"buckets": buckets}

    def __init__(self, buckets: int = DEFAULT_BUCKETS) -> None:
        # A fixed-size list: its items are replaced, it never grows.
        self._buckets: list[Bucket] = [() for _ in range(buckets)]

    @property
    def options(self) -> Options:
        return {"buckets": len(self._buckets)}

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]:
        # All zones share one table, so the zone plays no part here.
        buckets = self._buckets
        n = len(buckets)

        def lookup(key: bytes, default: int) -> int:
            for k, value in buckets[hash(key) % n]:
                if k == key:
                    return value
            return default

        # Writers build a bucket's new tuple and store it in one step, so a
        # reader walking the old one, without a lock, sees it whole.
        def insert(key: bytes, value: int) -> None:
            i = hash(key) % n
            others = tuple(pair for pair in buckets[i] if pair[0] != key)
            buckets[i] = (*others, (key, value))  # a dict replaces: so do we

        def remove(key: bytes) -> None:
            i = hash(key) % n
            bucket = buckets[i]
            others = tuple(pair for pair in bucket if pair[0] != key)
            if len(others) == len(bucket):
                raise KeyError(key)
            buckets[i] = others

        return lookup, insert, remove

    def zone_values(self, zone: int) -> Values:
        # No zone index: iterating a zone visits every node, and the model
        # keeps those of the zone.
        return self.values()

    def values(self) -> Values:
        # Not np.fromiter with a count taken first: other threads may add
        # or remove pairs meanwhile.
        return np.array(
            [value for b in self._buckets for _, value in b], dtype=np.int64
        )

    def items(self) -> Iterable[tuple[bytes, int]]:
        return [pair for b in self._buckets for pair in b]

    def __len__(self) -> int:
        return sum(map(len, self._buckets))

    def container_bytes(self) -> int:
        # The bucket array and the lists; the pair tuples are the nodes.
        return sys.getsizeof(self._buckets) + sum(map(sys.getsizeof, self._buckets))
