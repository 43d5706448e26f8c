"""The bulk execute: thousands of frames parsed, looked up and updated at once.

What a frame costs in C is a few dozen nanoseconds of table work; a CPython
loop iteration per frame costs more than that before any table work
(``bench/experiments/python_floor.py``).  So an execute of many frames works in bulk:

- numpy checks the frames of the common kind (IPv4 + UDP without checksum,
  :func:`ctbench.parse.udp4_bulk`) and builds their keys as bytes, one
  ``tolist()`` for all of them; every other frame is parsed on its own;
- each frame is looked up through the table's own lookup, in one C-level
  ``map`` (a dict's ``get`` for the built-in designs), and a frame that
  misses gets the reply-direction probe, as in the per-frame path;
- the found connections' states and expirations are updated column-wise;
- each new connection's node is inserted on its own, in frame order, by
  another C-level ``map``.

None of the design's work is skipped: every frame is parsed, checked and
looked up, every node inserted and removed on its own.

Sequential semantics stay exact.  Two frames of one segment interfere when
they touch the same connection, or when one creates a connection that the
other would find (the same key or its reply).  The segment is checked for
both (:meth:`BulkExecutor._first_conflict`); where a frame interferes with an
earlier one, the segment ends before it and the next one starts with fresh
lookups.  Limits hit mid-segment are computed exactly (a running count
clamped at the limit, with expired connections cleaned in order), and any
frame the bulk code does not handle (TCP, ICMP, IPv6, invalid frames, UDP
with a checksum) goes through the per-frame code, in its place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, Final, Protocol, cast

import numpy as np
import numpy.typing as npt

from ctbench.backends import MISS
from ctbench.keys import IPV4_PORTS_LEN, ConnKey
from ctbench.model.call import Call
from ctbench.model.columns import Columns, ColumnViews, Handles
from ctbench.model.records import Counters, Limits, NatAction
from ctbench.model.states import (
    EST,
    EST_REPLY,
    INVALID,
    NEW,
    UDP_BIDIR,
    UDP_FIRST,
    UDP_MULTIPLE,
    UDP_TIMEOUTS_MS,
)
from ctbench.packets import IPPROTO_UDP
from ctbench.parse import UDP4_MIN_LEN, Parsed, extract_key, udp4_bulk

# The smallest execute that takes the bulk path, and the smallest run of
# bulk-eligible frames worth the numpy calls.  `python
# bench/experiments/execute_crossover.py` times both paths by frames per call: bulk /
# per-frame was 1.77 (lookups) and 1.29 (commits) at 64 frames, 1.26 and
# 0.98 at 96, 1.01 and 0.81 at 128, 0.65 and 0.55 at 256 (AMD EPYC VM,
# CPython 3.11): the bulk path's fixed cost is about 70 us a call.
BULK_MIN_FRAMES: Final = 128
# Frames parsed at once: enough to amortise numpy's fixed costs, few enough
# that the keys alive at once stay a few MB however long the execute.
CHUNK_FRAMES: Final = 16_384
# A key is a row of this many bytes in the bulk parse's matrix.
KEY_BYTES: Final = IPV4_PORTS_LEN
KEY_DTYPE: Final = np.dtype((np.void, KEY_BYTES))
# Columns of a key row in reverse-key order: destination and source
# addresses swapped, ports swapped, zone and protocol kept.
REVERSE_COLUMNS: Final = np.array([4, 5, 6, 7, 0, 1, 2, 3, 10, 11, 8, 9, 12, 13, 14])
UDP_TIMEOUTS: Final = np.array(UDP_TIMEOUTS_MS, np.int64)
# Multipliers of the symmetric fingerprint (64-bit odd constants: the golden
# ratio's, as in Knuth's multiplicative hashing, and xxHash's PRIME64_2).
_FP_MUL_LOW: Final = np.uint64(0x9E3779B97F4A7C15)
_FP_MUL_HIGH: Final = np.uint64(0xC2B2AE3D27D4EB4F)
_NO_CONFLICT: Final = 1 << 62
_UNLIMITED: Final = 1 << 62

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
KeyRows = npt.NDArray[np.uint8]


def key_list(rows: KeyRows) -> list[bytes]:
    """Rows of a key matrix as bytes objects (one C-level ``tolist``)."""
    # A void row's tolist() is bytes (numpy types it as bytes | tuple, the
    # tuple being for structured rows).
    return cast(
        list[bytes], np.ascontiguousarray(rows).view(KEY_DTYPE).ravel().tolist()
    )


def symmetric_fingerprint(rows: KeyRows) -> npt.NDArray[np.uint32]:
    """A 32-bit hash of each key row that a key and its reverse share (the
    zone and protocol are the same for every row of one execute), so that
    equal fingerprints flag both a repeated key and a reply to it.  32 bits
    sort in half the time of 64; a collision only ends a segment early."""
    words = rows[:, :12].copy().view(">u4").astype(np.uint64)
    ends_a = (words[:, 0] << np.uint64(16)) | (words[:, 2] >> np.uint64(16))
    ends_b = (words[:, 1] << np.uint64(16)) | (words[:, 2] & np.uint64(0xFFFF))
    low = np.minimum(ends_a, ends_b)
    high = np.maximum(ends_a, ends_b)
    mixed = (low * _FP_MUL_LOW) ^ (high * _FP_MUL_HIGH)
    return (mixed >> np.uint64(32)).astype(np.uint32)


def first_repeat(values: npt.NDArray[np.integer[Any]], positions: Int64s) -> int:
    """The smallest position (``positions`` ascending) whose value occurred
    at an earlier position; :data:`_NO_CONFLICT` when none repeats."""
    if len(values) < 2:
        return _NO_CONFLICT
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    again = ordered[1:] == ordered[:-1]
    if not again.any():
        return _NO_CONFLICT
    return int(positions[order[1:][again]].min())


class BulkHost(Protocol):
    """What the bulk path uses of the model that drives it
    (:class:`ctbench.model.Conntrack`): its columns, limits and counts,
    the per-frame path for frames it does not handle, and the one method
    that counts the connections it created."""

    columns: Columns
    limits: Limits
    verify_l4: bool
    n_conns: int

    def begin(
        self, zone: int, commit: bool, now: int, nat: NatAction | None, take_lock: bool
    ) -> Call: ...

    def end(self, call: Call, packets: int) -> None: ...

    def track(
        self, call: Call, key: ConnKey, proto: int, flags: int, value: int | None
    ) -> int: ...

    def track_parsed(self, call: Call, parsed: Parsed) -> int: ...

    def zone_count(self, zone: int) -> int: ...

    def unlink_handles(
        self, handles: Handles, views: ColumnViews, counts: Counters
    ) -> None: ...

    def commit_created(
        self, call: Call, handles: Handles, views: ColumnViews
    ) -> None: ...


class BulkExecutor:
    """The bulk path of one model."""

    def __init__(
        self,
        ct: BulkHost,
        min_frames: int = BULK_MIN_FRAMES,
        chunk_frames: int = CHUNK_FRAMES,
    ) -> None:
        self.ct = ct
        # Fewer frames in a run (or before a conflict) than this go one at a
        # time; the tests lower it to drive the bulk code with small batches.
        self.min_frames = min_frames
        self.chunk_frames = chunk_frames
        # Scratch space for the repeated-handle check, one slot per handle.
        self._marks = np.empty(0, np.int64)

    def execute(
        self, frames: Sequence[bytes], zone: int, commit: bool, now: int
    ) -> list[int]:
        """Track every frame in order (no NAT); the caller holds the model's
        lock when it is thread-safe."""
        ct = self.ct
        n = len(frames)
        if commit:
            ct.columns.reserve(n)  # no growth while views are alive
        call = ct.begin(zone, commit, now, None, take_lock=False)
        out = np.empty(n, np.uint8)
        try:
            for start in range(0, n, self.chunk_frames):
                chunk = frames[start : start + self.chunk_frames]
                self._chunk(call, chunk, out[start : start + len(chunk)])
        finally:
            ct.end(call, n)
        states: list[int] = out.tolist()
        return states

    def _chunk(
        self, call: Call, frames: Sequence[bytes], out: npt.NDArray[np.uint8]
    ) -> None:
        n = len(frames)
        length = len(frames[0])
        fast = np.zeros(n, np.bool_)
        rows = np.empty((0, KEY_BYTES), np.uint8)
        if length >= UDP4_MIN_LEN:
            # A list of lengths and count() cost half of a numpy array of them.
            lengths = list(map(len, frames))
            if lengths.count(length) == n:
                fast, rows = udp4_bulk(frames, call.zone)
            else:
                same = np.array(lengths) == length
                if same.sum() >= self.min_frames:
                    where = np.flatnonzero(same)
                    fast[where], rows_same = udp4_bulk(_pick(frames, where), call.zone)
                    rows = np.empty((n, KEY_BYTES), np.uint8)
                    rows[where] = rows_same
        # Runs of fast frames between the others, which go one at a time.
        if fast.all():
            starts, ends = [0], [n]
        else:
            edges = np.flatnonzero(np.diff(fast.astype(np.int8), prepend=0, append=0))
            starts, ends = edges[::2].tolist(), edges[1::2].tolist()
        done = 0
        for run_start, run_end in zip(starts, ends, strict=True):
            self._each(call, frames, done, run_start, out)
            self._run(call, rows[run_start:run_end], out[run_start:run_end])
            done = run_end
        self._each(call, frames, done, n, out)

    def _each(
        self,
        call: Call,
        frames: Sequence[bytes],
        start: int,
        end: int,
        out: npt.NDArray[np.uint8],
    ) -> None:
        """Frames the bulk code does not handle, one at a time."""
        ct = self.ct
        verify_l4 = ct.verify_l4
        for i in range(start, end):
            parsed = extract_key(frames[i], call.zone, verify_l4)
            if isinstance(parsed, str):
                call.counts.invalid += 1
                out[i] = INVALID
            else:
                out[i] = ct.track_parsed(call, parsed)

    def _run(self, call: Call, rows: KeyRows, out: npt.NDArray[np.uint8]) -> None:
        """A run of fast-path UDP frames, in segments without interference."""
        m = len(rows)
        keys = key_list(rows)
        if m < self.min_frames:
            self._keys_each(call, keys, 0, m, out)
            return
        pos = 0
        window = m
        while pos < m:
            end = min(m, pos + window)
            done = self._segment(call, keys[pos:end], rows[pos:end], out[pos:end])
            if done:
                pos += done
                # A conflict ended the segment early: look ahead less next
                # time, so that dense conflicts cost no quadratic lookups.
                window = window * 2 if pos == end else max(2 * done, self.min_frames)
            else:
                step = min(self.min_frames, m - pos)
                self._keys_each(call, keys, pos, pos + step, out)
                pos += step
                window = 2 * self.min_frames

    def _keys_each(
        self,
        call: Call,
        keys: list[bytes],
        start: int,
        end: int,
        out: npt.NDArray[np.uint8],
    ) -> None:
        track = self.ct.track
        for i in range(start, end):
            out[i] = track(call, keys[i], IPPROTO_UDP, 0, None)

    def _segment(
        self,
        call: Call,
        keys: list[bytes],
        rows: KeyRows,
        out: npt.NDArray[np.uint8],
    ) -> int:
        """Look up every frame, then apply the frames before the first one
        that interferes with an earlier one.  Returns how many frames were
        applied: 0 when the conflict comes too early to be worth it (the
        caller then goes frame by frame)."""
        ct = self.ct
        m = len(keys)
        now = call.now
        views = ct.columns.views()
        values = self._lookup(call, keys)
        missed = values == MISS
        reply = (values < 0) & ~missed  # a NAT connection's reverse node
        handles = np.where(values >= 0, values, ~values)
        if missed.any():
            where = np.flatnonzero(missed)
            reverse = key_list(rows[where][:, REVERSE_COLUMNS])
            found = self._lookup(call, reverse)
            # Only a forward node of a connection without NAT answers the
            # reply direction (a NAT connection's reply is its reverse node).
            answers = found >= 0
            answers[answers] = views.nat[found[answers]] == 0
            handles[where] = np.where(answers, found, -1)
            reply[where] = answers
        hit = handles >= 0
        hit_handles = handles[hit]
        expired = np.zeros(m, np.bool_)
        expired[hit] = views.expiration[hit_handles] <= now
        live = hit & ~expired
        stop = self._first_conflict(call, rows, handles, hit, missed, expired)
        if stop < m:
            if stop < self.min_frames:
                return 0
            m = stop
            keys, rows, out = keys[:m], rows[:m], out[:m]
            handles, reply, live, expired = (
                handles[:m],
                reply[:m],
                live[:m],
                expired[:m],
            )
        # Live hits: other_conn_update(), column-wise (no two on one conn).
        live_handles = handles[live]
        live_reply = reply[live]
        state = views.state[live_handles]
        new_state = np.where(
            live_reply | (state == UDP_BIDIR), UDP_BIDIR, UDP_MULTIPLE
        ).astype(np.int8)
        # CT_UPDATE_VALID_NEW (+new) until the connection has seen a reply.
        out[live] = np.where(
            live_reply, EST_REPLY, np.where(new_state == UDP_BIDIR, EST, NEW)
        )
        views.state[live_handles] = new_state
        views.expiration[live_handles] = now + UDP_TIMEOUTS[new_state]
        # Everything else is not found (expired ones are skipped): +new.
        out[~live] = NEW
        if call.commit:
            self._commit(call, keys, handles, live, expired, views)
        return m

    @staticmethod
    def _lookup(call: Call, keys: list[bytes]) -> Int64s:
        """Each key's value, MISS where absent, through the table's lookup.

        When the lookup is a dict's own ``get``, ``itemgetter(*keys)`` on
        that dict does the same lookups with less call overhead per key (it
        measured 0.6x ``map(get, keys, repeat(MISS))``); it stops at the first
        absent key, and then ``map`` does them all.
        """
        get = call.get
        table = getattr(get, "__self__", None)
        if (
            isinstance(table, dict)
            and getattr(get, "__name__", "") == "get"
            and type(table).__getitem__ is dict.__getitem__
            and len(keys) > 1
        ):
            try:
                found = itemgetter(*keys)(table)
            except KeyError:
                pass
            else:
                return np.fromiter(found, np.int64, len(keys))
        return np.fromiter(map(get, keys, repeat(MISS)), np.int64, len(keys))

    def _first_conflict(
        self,
        call: Call,
        rows: KeyRows,
        handles: Int64s,
        hit: Bools,
        missed: Bools,
        expired: Bools,
    ) -> int:
        """The first frame whose sequential result could differ from the
        bulk one: one that finds a connection an earlier frame found, or
        (with commit) one whose key or reply an earlier frame may create.

        A connection is found twice when a handle repeats.  A frame may be
        met by an earlier frame's new connection only if its forward probe
        missed (or it found an expired connection, which a commit replaces);
        those frames' keys are compared by a fingerprint that a key and its
        reverse share.  Equal fingerprints of different keys only end a
        segment early, which costs time, not correctness.
        """
        m = len(handles)
        positions = np.arange(m)
        hit_handles = handles[hit]
        stop = _NO_CONFLICT
        if len(hit_handles) > 1:
            # Scatter each hit's position to its handle's slot and read it
            # back: any mismatch means a repeated handle.
            if len(self._marks) < self.ct.columns.capacity:
                self._marks = np.empty(self.ct.columns.capacity, np.int64)
            hit_positions = positions[hit]
            self._marks[hit_handles] = hit_positions
            if (self._marks[hit_handles] != hit_positions).any():
                stop = first_repeat(hit_handles, hit_positions)
        # Without a connection to create (no commit, or the limits leave no
        # room and nothing expired frees one), no frame can meet another's.
        may_create = call.commit and (self._room(call) > 0 or expired.any())
        if may_create:
            may_meet = missed | expired
            if may_meet.sum() > 1:
                meet_positions = positions[may_meet]
                prints = symmetric_fingerprint(rows[may_meet])
                ordered = np.sort(prints)
                if (ordered[1:] == ordered[:-1]).any():
                    stop = min(stop, first_repeat(prints, meet_positions))
        return min(stop, m)

    def _commit(
        self,
        call: Call,
        keys: list[bytes],
        handles: Int64s,
        live: Bools,
        expired: Bools,
        views: ColumnViews,
    ) -> None:
        """conn_not_found() for every frame that found nothing live: clean
        the expired connections it found, then create, within the limits."""
        ct = self.ct
        candidates = np.flatnonzero(~live)
        if not len(candidates):
            return
        cleaned = expired[candidates]
        n0 = ct.n_conns
        zone0 = ct.zone_count(call.zone)
        if cleaned.any():
            # A frame that cleans an expired connection creates its
            # successor at once, in the slot it just freed (the per-frame
            # path releases the slot and takes it straight back).
            ct.unlink_handles(handles[candidates[cleaned]], views, call.counts)
        created, refused_zone, refused_full = self._within_limits(
            call, cleaned, n0, zone0
        )
        counts = call.counts
        counts.refused_zone += refused_zone
        counts.refused_full += refused_full
        new_positions = candidates[created]
        k = len(new_positions)
        if not k:
            return
        cols = ct.columns
        reuse = cleaned[created]
        new_handles = np.empty(k, np.int64)
        new_handles[reuse] = handles[new_positions[reuse]]
        new_handles[~reuse] = cols.alloc(k - int(reuse.sum()))
        handle_list = new_handles.tolist()
        new_keys = _pick(keys, new_positions)
        views.state[new_handles] = UDP_FIRST
        views.expiration[new_handles] = call.now + UDP_TIMEOUTS_MS[UDP_FIRST]
        views.zone[new_handles] = call.zone
        views.proto[new_handles] = IPPROTO_UDP
        views.nat[new_handles] = 0
        cols.keys[new_handles] = np.fromiter(new_keys, object, k)
        # Each node inserted on its own, in frame order.
        deque(map(call.put, new_keys, handle_list), 0)
        ct.commit_created(call, new_handles, views)

    def _room(self, call: Call, n0: int | None = None, zone0: int | None = None) -> int:
        """How many connections the limits let this execute create, before
        any expired one is cleaned (a large number when unlimited)."""
        ct = self.ct
        n0 = ct.n_conns if n0 is None else n0
        room = ct.limits.conn_limit - n0 if ct.limits.conn_limit else _UNLIMITED
        if call.zone_limit is not None:
            zone0 = ct.zone_count(call.zone) if zone0 is None else zone0
            room = min(room, call.zone_limit - zone0)
        return room

    def _within_limits(
        self, call: Call, cleaned: Bools, n0: int, zone0: int
    ) -> tuple[Bools, int, int]:
        """Which candidates the limits let create, in frame order, and how
        many each limit refused.

        A candidate that cleaned an expired connection first frees a slot,
        then takes one, so the count of connections, frame after frame, is
        a running sum clamped at the limit: ``n_j = min(n_(j-1) + d_j, L)``
        with d_j = 1 for a plain candidate and 0 for one that cleaned.  The
        zone's count moves with it (every connection involved is in this
        zone), so the zone limit is the same clamp at ``L_z - z0 + n0``.
        """
        zone_limit = call.zone_limit
        bound = n0 + self._room(call, n0, zone0)
        if bound <= n0 and not cleaned.any():
            everyone = len(cleaned)  # full, and nothing frees a slot
            if zone_limit is not None and zone0 >= zone_limit:
                return np.zeros(everyone, np.bool_), everyone, 0
            return np.zeros(everyone, np.bool_), 0, everyone
        steps = np.where(cleaned, 0, 1).astype(np.int64)
        running = n0 + np.cumsum(steps)
        if running[-1] <= bound:
            return np.ones(len(steps), np.bool_), 0, 0
        clipped = np.maximum.accumulate(np.maximum(running - bound, 0))
        counts = running - clipped
        before = np.concatenate(([n0], counts[:-1]))
        created = counts - before + cleaned == 1
        refused = np.flatnonzero(~created)
        if zone_limit is None:
            return created, 0, len(refused)
        zone_before = before[refused] - n0 + zone0
        by_zone = int((zone_before >= zone_limit).sum())
        return created, by_zone, len(refused) - by_zone


def _pick(items: Sequence[bytes], where: Int64s) -> list[bytes]:
    """``[items[i] for i in where]`` at C speed."""
    indices = where.tolist()
    if len(indices) == 1:
        return [items[indices[0]]]
    return list(itemgetter(*indices)(items))
