"""A capture through the model, as ovstest's pcap command puts one through
OVS's conntrack (tests/test-conntrack.c, test_pcap), with the differences
docs/commands/pcap.md lists.

Packets are executed with commit, in batches of up to ``batch_size``
packets that end where the L3 type changes (ovstest splits its batches the
same way, but executes the packets after a change as the first packet's
type: see :func:`plan_batches`) and, with ``zones`` above 1, where the zone
changes.  Each batch runs at one ``now``:

- ``capture`` (the default): the latest capture timestamp in the batch (a
  datapath executes a burst once it has arrived), never earlier than the
  batch before, in milliseconds, so a long capture expires connections as a
  datapath would, and the run is reproducible;
- ``wall``: the monotonic clock when the batch runs, as ovstest's
  time_msec();
- ``frozen``: always 0, so nothing expires.

No sweeper runs: an expired connection is met by the next packet of its
flow, as in the rest of the model.
"""

from __future__ import annotations

import time
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from ctbench.capture.contents import Capture
from ctbench.errors import CtbenchError
from ctbench.keys import reverse_key
from ctbench.model import Conntrack
from ctbench.parse import Parsed, extract_key, l3_start

CLOCKS: Final = ("capture", "wall", "frozen")
# NETDEV_MAX_BURST (lib/netdev.h), ovstest's bound on BATCH_SIZE.
MAX_BATCH_SIZE: Final = 32
MAX_ZONE: Final = 0xFFFF
_NS_PER_MS: Final = 1_000_000


class TrackError(CtbenchError, ValueError):
    """A setting outside what the pcap command accepts."""


@dataclass(frozen=True)
class TrackConfig:
    batch_size: int = 1
    zone: int = 0
    # Spread the connections over this many zones, from ``zone`` on.
    zones: int = 1
    clock: str = "capture"
    # False: trust L4 checksums (--trust-l4-checksums).
    verify_l4: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            # ovstest's own words for this mistake.
            raise TrackError(
                f"batch_size must be between 1 and NETDEV_MAX_BURST({MAX_BATCH_SIZE}) "
                f"(got {self.batch_size})"
            )
        if not 0 <= self.zone <= MAX_ZONE:
            raise TrackError(f"--zone must be between 0 and 65535 (got {self.zone})")
        if not 1 <= self.zones <= MAX_ZONE + 1 - self.zone:
            raise TrackError(
                f"--zones must be between 1 and {MAX_ZONE + 1 - self.zone} "
                f"(zones {self.zone} and up, to 65535) (got {self.zones})"
            )
        if self.clock not in CLOCKS:
            raise TrackError(
                f"--clock must be one of {', '.join(CLOCKS)} (got {self.clock!r})"
            )


@dataclass(frozen=True)
class Batch:
    """Packets ``start`` to ``end`` (exclusive), executed in ``zone`` at
    ``now`` (None: the wall clock, read when the batch runs)."""

    start: int
    end: int
    zone: int
    now: int | None


def connection_zone(parsed: Parsed | str, config: TrackConfig) -> int:
    """The zone a packet's connection goes to when ``zones`` spreads them:
    CRC-32 of the connection's key (the lesser of the key and its reverse,
    so both directions agree; zone bytes excluded), modulo ``zones``.  An
    invalid packet goes to the first zone."""
    if config.zones == 1 or isinstance(parsed, str):
        return config.zone
    key = parsed.key
    ident = min(key, reverse_key(key))
    # The key's last three bytes are the zone and the protocol.
    return config.zone + zlib.crc32(ident[:-3] + ident[-1:]) % config.zones


def plan_batches(capture: Capture, config: TrackConfig) -> list[Batch]:
    frames = capture.frames
    ts_ns = capture.ts_ns
    zones = _zones(capture, config)
    batches = []
    last_ms = 0
    start = 0
    n = len(frames)
    while start < n:
        l3 = l3_start(frames[start])[0]
        zone = zones[start]
        end = start + 1
        limit = min(n, start + config.batch_size)
        while end < limit and zones[end] == zone and l3_start(frames[end])[0] == l3:
            end += 1
        now: int | None
        if config.clock == "capture":
            last_ms = max(last_ms, max(ts_ns[start:end]) // _NS_PER_MS)
            now = last_ms
        elif config.clock == "frozen":
            now = 0
        else:
            now = None
        batches.append(Batch(start, end, zone, now))
        start = end
    return batches


def _zones(capture: Capture, config: TrackConfig) -> array[int]:
    if config.zones == 1:
        return array("H", [config.zone]) * len(capture)
    return array(
        "H",
        (
            connection_zone(extract_key(frame, 0, config.verify_l4), config)
            for frame in capture.frames
        ),
    )


def wall_ms() -> int:
    return time.monotonic_ns() // _NS_PER_MS


def track_batches(
    capture: Capture,
    config: TrackConfig,
    model: Conntrack,
    batches: list[Batch] | None = None,
    clock: Callable[[], int] = wall_ms,
) -> Iterator[tuple[Batch, list[int]]]:
    """Each batch as it is executed, with its packets' ct_states."""
    frames = capture.frames
    for batch in batches if batches is not None else plan_batches(capture, config):
        now = clock() if batch.now is None else batch.now
        yield (
            batch,
            model.execute(frames[batch.start : batch.end], batch.zone, True, now),
        )


def track(
    capture: Capture,
    config: TrackConfig,
    model: Conntrack,
    batches: list[Batch] | None = None,
    clock: Callable[[], int] = wall_ms,
) -> array[int]:
    """Every packet's ct_state, in capture order."""
    states = array("B")
    for _, out in track_batches(capture, config, model, batches, clock):
        states.extend(out)
    return states
