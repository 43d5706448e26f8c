"""The locks of a finer lock scope (ctbench.model.shared): which a creation
and a removal take, and in what order."""

from __future__ import annotations

import threading

from ctbench.backends.sharded import shard_numbers
from ctbench.keys import reverse_key
from ctbench.model import shared
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
