"""One execute's context, shared by the per-frame and the bulk paths.

A :class:`Call` is made once per execute (:meth:`Conntrack.begin`): the
zone's bound table operations, the limits that apply to it, and the work
counts, folded into the model's counters when the call ends.  It is its own
module so that the bulk path (:mod:`ctbench.model.bulk`) can name it
without importing the model that drives it.
"""

from __future__ import annotations

from ctbench.backends import ConnTable
from ctbench.model.records import Counters, Limits, NatAction


class Call:
    """One execute's context: its zone's operations and its work counts,
    folded into the model's counters when the call ends."""

    __slots__ = (
        "zone",
        "commit",
        "now",
        "nat",
        "get",
        "put",
        "remove",
        "take_lock",
        "counts",
        "zone_limit",
    )

    def __init__(
        self,
        table: ConnTable,
        limits: Limits,
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None,
        take_lock: bool,
    ) -> None:
        self.zone = zone
        self.commit = commit
        self.now = now
        self.nat = nat
        self.get, self.put, self.remove = table.bind(zone)
        self.take_lock = take_lock
        self.counts = Counters()
        self.zone_limit = limits.for_zone(zone)
