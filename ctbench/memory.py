"""Measured memory of a backend: fixed overhead and bytes per connection.

Measured with tracemalloc, never estimated: build an empty model (its fixed
cost: the table's containers plus the 100 expiration lists), then commit a
sample fill shaped like the run (the same packets in the same zones) and
divide the growth by the connections stored.  The bytes per connection thus
include everything one connection costs: the Connection object, its key tuple
and integers, its table node(s) and its expiration-list entry.

tracemalloc slows allocation down, so this runs on a sample of at most
``max_conns`` connections before the timed run, never inside it.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field

from ctbench.backends import BackendSpec, Options, backend_kwargs, create_table
from ctbench.model import BULK_MIN_FRAMES, DEFAULT_CONN_LIMIT, Conntrack, Limits
from ctbench.packets import ovstest_frame, zone_benchmark_ports

DEFAULT_SAMPLE_CONNS = 50_000
# With fewer entries per zone than an execute needs for the bulk path, the
# fill goes frame by frame, about 4x dearer under tracemalloc (50,000
# connections: 1.1 s against 0.25-0.45 s in bulk, `ctbench backends --memory
# --entries 100 --zones 1000`); a sample this size keeps it near 0.2 s.
PER_FRAME_SAMPLE_CONNS = 10_000
# The fill `ctbench backends --memory` measures unless told otherwise.
DEFAULT_ENTRIES = 1000
DEFAULT_ZONES = 100


@dataclass(frozen=True)
class MemoryFigures:
    fixed_bytes: int
    bytes_per_conn: float
    sample_conns: int
    zones: int
    # The table's effective options, defaults included.
    options: Options = field(default_factory=dict)


def measure_memory(
    spec: BackendSpec,
    entries: int,
    zones: int,
    max_conns: int = DEFAULT_SAMPLE_CONNS,
) -> MemoryFigures:
    """Fill up to ``zones`` zones with ``entries`` ovstest packets each,
    keeping the total at or under ``max_conns`` by filling fewer zones.

    Fewer zones rather than fewer entries per zone: the zones keep the run's
    density (what a zone's own map costs is spread over as many connections
    as in the run), and a zone's packets are one execute, which takes the
    bulk path as the run's does (tracemalloc makes the per-frame path's
    allocations several times dearer).
    """
    per_zone = max(1, min(entries, max_conns))
    if per_zone < BULK_MIN_FRAMES:
        max_conns = min(max_conns, PER_FRAME_SAMPLE_CONNS)
    zones = max(1, min(zones, max_conns // per_zone))
    frames = [ovstest_frame(*zone_benchmark_ports(i)) for i in range(per_zone)]
    _warm_up(spec, frames)
    was_tracing = tracemalloc.is_tracing()
    gc.collect()
    if not was_tracing:
        tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        model = Conntrack(create_table(spec), Limits(conn_limit=0))
        options = dict(model.table.options)
        empty = tracemalloc.get_traced_memory()[0]
        for zone in range(zones):
            model.execute(frames, zone, True, 0)
        full = tracemalloc.get_traced_memory()[0]
        stored = model.n_conns
    finally:
        if not was_tracing:
            tracemalloc.stop()
    del model
    gc.collect()
    return MemoryFigures(
        fixed_bytes=empty - start,
        bytes_per_conn=(full - empty) / stored if stored else 0.0,
        sample_conns=stored,
        zones=zones,
        options=options,
    )


def _warm_up(spec: BackendSpec, frames: list[bytes]) -> None:
    """Do once, untraced, what the measurement does, so that what happens
    only the first time (importing the backend's module, numpy's and the
    interpreter's caches, interned names) is not counted as the table's: the
    figures then do not depend on which backends were measured before."""
    model = Conntrack(create_table(spec), Limits(conn_limit=0))
    model.execute(frames[:BULK_MIN_FRAMES] * 2, 0, True, 0)
    model.execute(frames[:2], 1, True, 0)
    model.flush(0)
    model.flush(1)
    del model
    gc.collect()


@dataclass(frozen=True)
class BackendMemory:
    spec: BackendSpec
    figures: MemoryFigures
    entries: int
    zones: int
    conn_limit: int = DEFAULT_CONN_LIMIT  # 0: no limit

    @property
    def stored(self) -> int:
        """The connections benchmark-zones would store: the fill, clipped by
        the table-wide limit as the run clips it."""
        return Limits(conn_limit=self.conn_limit).stored(self.entries * self.zones)

    @property
    def projected_bytes(self) -> float:
        """Fixed bytes plus bytes per connection times the connections stored."""
        f = self.figures
        return f.fixed_bytes + f.bytes_per_conn * self.stored


def measure_backends(
    specs: Sequence[BackendSpec],
    entries: int = DEFAULT_ENTRIES,
    zones: int = DEFAULT_ZONES,
    max_conns: int = DEFAULT_SAMPLE_CONNS,
    conn_limit: int = DEFAULT_CONN_LIMIT,
) -> list[BackendMemory]:
    """Memory figures for each spec, in order.  Every spec is validated before
    the first is measured, so a typo in the last one fails at once."""
    for spec in specs:
        backend_kwargs(spec)
    return [
        BackendMemory(
            spec,
            measure_memory(spec, entries, zones, max_conns),
            entries,
            zones,
            conn_limit,
        )
        for spec in specs
    ]
