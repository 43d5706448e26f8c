"""The model's small value types: limits, NAT actions, counters, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from ctbench.keys import ConnKey, KeyFields, key_fields, replace_fields

# lib/conntrack.c: DEFAULT_N_CONN_LIMIT.
DEFAULT_CONN_LIMIT: Final = 3_000_000


@dataclass(frozen=True)
class NatAction:
    """Translate the source and/or destination; None keeps the original."""

    src_addr: int | None = None
    src_port: int | None = None
    dst_addr: int | None = None
    dst_port: int | None = None

    def reverse_key(self, key: ConnKey) -> ConnKey:
        """The reverse key of a connection with this action: the translated
        key, reversed (OVS's nat_get_unique_tuple() without its search)."""
        f = key_fields(key)
        return replace_fields(
            key,
            src=f.dst if self.dst_addr is None else self.dst_addr,
            dst=f.src if self.src_addr is None else self.src_addr,
            src_port=f.dst_port if self.dst_port is None else self.dst_port,
            dst_port=f.src_port if self.src_port is None else self.src_port,
        )


@dataclass(frozen=True)
class Limits:
    """``conn_limit`` 0 means unlimited (ctbench's convention; in OVS 0 would
    refuse everything).  Zone limits are counted from the model's creation."""

    conn_limit: int = DEFAULT_CONN_LIMIT
    default_zone_limit: int | None = None
    zone_limits: Mapping[int, int] = field(default_factory=dict)

    def stored(self, requested: int) -> int:
        """How many of ``requested`` distinct connections the table-wide
        limit lets in; conn_not_found() refuses the rest in OVS."""
        return min(requested, self.conn_limit) if self.conn_limit else requested

    def for_zone(self, zone: int) -> int | None:
        return self.zone_limits.get(zone, self.default_zone_limit)

    @property
    def any_zone_limit(self) -> bool:
        return bool(self.zone_limits) or self.default_zone_limit is not None


@dataclass
class Counters:
    """Cumulative work counters, updated once per call, never per entry."""

    packets: int = 0
    created: int = 0
    removed: int = 0
    refused_full: int = 0
    refused_zone: int = 0
    refused_nat: int = 0
    invalid: int = 0

    def snapshot(self) -> Counters:
        return Counters(**vars(self))

    def minus(self, before: Counters) -> dict[str, int]:
        return {k: v - getattr(before, k) for k, v in vars(self).items()}

    def add(self, other: Counters) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class ConnEntry:
    """A dumped connection, like ``struct ct_dpif_entry``."""

    key: ConnKey
    rev_key: ConnKey
    proto: int
    state: str
    expiration: int
    nat: bool

    @property
    def fields(self) -> KeyFields:
        return key_fields(self.key)

    @property
    def zone(self) -> int:
        return self.fields.zone


class FlushResult(NamedTuple):
    """Nodes the table visited, connections removed."""

    visited: int
    removed: int


class SweepResult(NamedTuple):
    """One pass of the clean thread: connections visited (expired or not,
    as ``ct_sweep()`` counts them) and connections cleaned."""

    visited: int
    cleaned: int
