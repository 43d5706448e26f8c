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
  ``container_bytes``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from ctbench.backends import (
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

Bucket = list[tuple[bytes, int]]


class ChainedTable:
    """Buckets of (key, value) pairs; a key's bucket is its hash mod N."""

    name: ClassVar[str] = "example-chained"
    description: ClassVar[str] = (
        "example third-party backend: a hand-written chained hash table with a "
        f"fixed bucket count (option buckets, default {DEFAULT_BUCKETS}); "
        "a zone flush scans every node"
    )

    @classmethod
    def parse_options(cls, options: dict[str, str]) -> dict[str, Any]:
        check_options(cls.name, options, ("buckets",))
        buckets = int_option(
            cls.name, options, "buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS
        )
        return {"buckets": buckets}

    def __init__(self, buckets: int = DEFAULT_BUCKETS) -> None:
        self._buckets: list[Bucket] = [[] for _ in range(buckets)]

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

        def insert(key: bytes, value: int) -> None:
            bucket = buckets[hash(key) % n]
            for i, (k, _) in enumerate(bucket):
                if k == key:  # a dict would replace the value: so do we
                    bucket[i] = (key, value)
                    return
            bucket.append((key, value))

        def remove(key: bytes) -> None:
            bucket = buckets[hash(key) % n]
            for i, (k, _) in enumerate(bucket):
                if k == key:
                    # Order inside a bucket does not matter: move the last
                    # pair into the hole instead of shifting the tail.
                    bucket[i] = bucket[-1]
                    bucket.pop()
                    return
            raise KeyError(key)

        return lookup, insert, remove

    def zone_values(self, zone: int) -> Values:
        # No zone index: iterating a zone visits every node, and the model
        # keeps those of the zone.
        return self.values()

    def values(self) -> Values:
        return np.fromiter(
            (value for b in self._buckets for _, value in b), np.int64, len(self)
        )

    def items(self) -> Iterable[tuple[bytes, int]]:
        return [pair for b in self._buckets for pair in b]

    def __len__(self) -> int:
        return sum(map(len, self._buckets))

    def container_bytes(self) -> int:
        # The bucket array and the lists; the pair tuples are the nodes.
        return sys.getsizeof(self._buckets) + sum(map(sys.getsizeof, self._buckets))
