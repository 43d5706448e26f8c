"""The locks of a finer lock scope (ctbench.model.shared): which a creation
and a removal take, in what order, and that waiting for each is timed."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.backends.sharded import shard_numbers
from ctbench.keys import reverse_key
from ctbench.model import Conntrack, conntrack, shared
from ctbench.model.records import NatAction
from ctbench.packets import udp_frame
from ctbench.parse import extract_key

SHARDS = 64


def key_of(sport: int, dport: int) -> bytes:
    parsed = extract_key(udp_frame(sport, dport), 0, True)
    assert not isinstance(parsed, str)
    return parsed.key


def test_a_lock_map_gives_one_lock_per_number() -> None:
    locks = shared.LockMap()
    assert locks[3] is locks[3]
    assert locks[3] is not locks[4]
    assert isinstance(locks[5], type(threading.Lock()))


def test_a_shard_creation_locks_its_key_and_reverse_key_maps_in_order() -> None:
    """The second lookup reads the key and the reverse key (a reply's
    node), so both maps' locks are held; a NAT reverse key adds its own
    and its reverse's.  Ascending order keeps two threads from each
    holding a lock the other waits for."""
    locks = shared.LockMap()
    shard = shard_numbers(SHARDS)
    scope = shared.ShardScope(shard, locks)
    # A key whose reverse lies in another shard.
    key = next(
        k
        for k in (key_of(p, 9) for p in range(1, 200))
        if shard(k) != shard(reverse_key(k))
    )
    taken = scope.for_create(key, None)
    numbers = sorted({shard(key), shard(reverse_key(key))})
    assert taken == [locks[n] for n in numbers]
    nat_key = NatAction(src_port=7).reverse_key(key)
    numbers = sorted(
        {shard(k) for k in (key, reverse_key(key))}
        | {shard(nat_key), shard(reverse_key(nat_key))}
    )
    assert scope.for_create(key, nat_key) == [locks[n] for n in numbers]
    # A removal changes only the maps that hold its nodes.
    assert scope.for_clean(key, None) == [locks[shard(key)]]
    numbers = sorted({shard(key), shard(nat_key)})
    assert scope.for_clean(key, nat_key) == [locks[n] for n in numbers]


def test_a_zone_scope_takes_its_zones_lock_for_everything() -> None:
    lock = threading.Lock()
    scope = shared.ZoneScope(lock)
    key = key_of(1, 2)
    assert scope.for_create(key, reverse_key(key)) == [lock]
    assert scope.for_clean(key, None) == [lock]


def locks_to_create(ct: Conntrack, zone: int, key: bytes) -> int:
    """The locks a creation takes: its scope's, then ct_lock."""
    table: Any = ct.table
    if ct.lock_scope == "shard":
        shard = table.bind_shard(zone)
        return len({shard(key), shard(reverse_key(key))}) + 1
    return 1 if ct.lock_scope == "global" else 2


@pytest.mark.parametrize(
    "spec", ["per-zone", "per-zone:lock=zone", "sharded:lock=shard"]
)
def test_lock_waits_are_timed_for_every_lock_taken(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With waits timed, each lock a creation or a removal takes adds its
    wait: a clock that advances by one at each read makes each wait 1 ns.
    A removal takes ct_lock alone, or the key's map's lock then ct_lock."""
    ticks = itertools.count()
    monkeypatch.setattr(conntrack, "perf_counter_ns", lambda: next(ticks))
    ct = Conntrack(create_table(BackendSpec.parse(spec)), thread_safe=True)
    ct.time_lock_waits()
    frame = udp_frame(5, 6)
    parsed = extract_key(frame, 1, True)
    assert not isinstance(parsed, str)
    ct.execute([frame], 1, True, 0)
    created = ct.lock_wait_ns
    assert created == locks_to_create(ct, 1, parsed.key)
    assert ct.flush(1).removed == 1
    assert ct.lock_wait_ns - created == (1 if ct.lock_scope == "global" else 2)
