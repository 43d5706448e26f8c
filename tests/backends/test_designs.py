"""What makes each design what it is, beyond the contract every backend meets:
where the nodes live, what a zone iteration visits, when memory is allocated
and released."""

from __future__ import annotations

import gc

from ctbench.backends import MISS, BackendSpec, ConnTable, create_table
from ctbench.backends.lazy_per_zone import LazyPerZoneTable
from ctbench.backends.per_zone_sharded import PerZoneShardedTable
from ctbench.backends.sharded import ShardedTable
from ctbench.keys import ConnKey, make_key
from ctbench.model import Conntrack, Limits
from ctbench.packets import ovstest_frame, zone_benchmark_ports


def key(i: int, zone: int) -> ConnKey:
    return make_key(1, 2, i, 80, 0x0800, zone, 17)


def handle(i: int, zone: int) -> int:
    """A distinct value per node, as the model's handles are."""
    return zone * 1000 + i


def fill(table: ConnTable, zone: int, n: int) -> None:
    _, insert, _ = table.bind(zone)
    for i in range(n):
        insert(key(i, zone), handle(i, zone))


# -- sharded -----------------------------------------------------------------


def test_sharded_spreads_keys_by_hash_and_scans_all_shards_for_a_zone() -> None:
    table = ShardedTable(shards=4)
    fill(table, 1, 200)
    fill(table, 2, 100)
    sizes = [len(s) for s in table._shards]
    assert sum(sizes) == 300 and all(sizes)  # every shard used
    for i in range(200):
        k = key(i, 1)
        assert k in table._shards[hash(k) % 4]
    # No zone index: iterating any zone visits every node.
    assert sorted(table.zone_values(2).tolist()) == sorted(table.values().tolist())
    assert len(table.zone_values(7)) == 300


def test_sharded_binding_is_shared_by_all_zones() -> None:
    table = ShardedTable(shards=3)
    assert table.bind(0) is table.bind(65535)


# -- per-zone-sharded --------------------------------------------------------


def test_per_zone_sharded_allocates_a_zone_on_first_bind_and_visits_only_it() -> None:
    table = PerZoneShardedTable(shards=4)
    assert table._zones == {}
    assert len(table.zone_values(5)) == 0
    assert table._zones == {}  # reading a zone allocates nothing
    fill(table, 5, 50)
    fill(table, 6, 10)
    assert sorted(table._zones) == [5, 6]
    assert [len(s) > 0 for s in table._zones[5]] == [True] * 4
    assert sorted(table.zone_values(6).tolist()) == [handle(i, 6) for i in range(10)]
    assert len(table) == 60


# -- lazy-per-zone -----------------------------------------------------------


def test_lazy_creates_a_map_only_for_zones_with_connections() -> None:
    table = LazyPerZoneTable()
    lookup, _, _ = table.bind(9)
    assert lookup(key(1, 9), MISS) == MISS
    assert table.zones_in_use() == 0  # a lookup-only bind registers nothing
    fill(table, 9, 3)
    fill(table, 10, 2)
    assert table.zones_in_use() == 2
    assert len(table._bound) == 0  # only maps no zone entry holds are in it
    assert len(table.zone_values(9)) == 3


def test_lazy_drops_a_zone_when_removals_empty_it() -> None:
    table = LazyPerZoneTable()
    fill(table, 3, 2)
    _, _, remove = table.bind(3)
    remove(key(0, 3))
    assert table.zones_in_use() == 1
    remove(key(1, 3))
    assert table.zones_in_use() == 0
    assert len(table.zone_values(3)) == 0 and len(table) == 0


def test_lazy_bindings_stay_correct_across_the_zone_emptying() -> None:
    """A batch's binding outlives its zone emptying (say an expired connection
    cleaned mid-batch) and then refilling, possibly through a newer binding."""
    table = LazyPerZoneTable()
    fill(table, 4, 1)
    lookup_a, insert_a, remove_a = table.bind(4)
    remove_a(key(0, 4))
    assert table.zones_in_use() == 0
    lookup_b, insert_b, _ = table.bind(4)  # while the old binding is alive
    insert_b(key(1, 4), handle(1, 4))
    assert lookup_a(key(1, 4), MISS) == handle(1, 4)  # one map, seen by both
    insert_a(key(2, 4), handle(2, 4))
    assert lookup_b(key(2, 4), MISS) == handle(2, 4)
    assert table.zones_in_use() == 1
    assert sorted(k for k, _ in table.items()) == [key(1, 4), key(2, 4)]
    # Emptied through a stale binding, then filled through it again.
    _, _, remove_c = table.bind(4)
    remove_c(key(1, 4))
    remove_c(key(2, 4))
    assert table.zones_in_use() == 0
    insert_a(key(3, 4), handle(3, 4))
    assert [k for k, _ in table.items()] == [key(3, 4)]
    assert lookup_b(key(3, 4), MISS) == handle(3, 4)


def test_lazy_releases_a_dropped_map_once_no_binding_holds_it() -> None:
    table = LazyPerZoneTable()
    fill(table, 8, 5)
    ops = table.bind(8)
    for i in range(5):
        ops[2](key(i, 8))
    assert len(table._bound) == 1  # still reachable through `ops`
    del ops
    gc.collect()
    assert len(table._bound) == 0


def test_lazy_flush_drops_the_zone_and_keeps_others() -> None:
    frames = [ovstest_frame(*zone_benchmark_ports(i)) for i in range(20)]
    model = Conntrack(create_table(BackendSpec("lazy-per-zone")), Limits(conn_limit=0))
    for zone in (1, 2, 3):
        model.execute(frames, zone, True, 0)
    table = model.table
    assert isinstance(table, LazyPerZoneTable)
    assert table.zones_in_use() == 3
    assert model.flush(2).removed == 20
    assert table.zones_in_use() == 2
    assert model.flush(2).visited == 0
    model.execute(frames, 2, True, 0)  # the zone comes back
    assert table.zones_in_use() == 3 and len(table) == 60
    model.flush()
    assert table.zones_in_use() == 0 and len(table) == 0
