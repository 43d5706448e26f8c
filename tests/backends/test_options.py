"""Backend options: one ``name:key=value`` syntax, validated, then recorded."""

from __future__ import annotations

import pytest

from ctbench.backends import (
    BackendError,
    BackendSpec,
    backend_kwargs,
    backend_names,
    create_table,
    effective_options,
)
from ctbench.backends.sharded import MAX_SHARDS, ShardedTable


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("sharded", {"shards": 64}),
        ("sharded:shards=1", {"shards": 1}),
        ("sharded: shards = 3 ", {"shards": 3}),
        (f"sharded:shards={MAX_SHARDS}", {"shards": MAX_SHARDS}),
        ("per-zone-sharded", {"shards": 8}),
        ("per-zone-sharded:shards=16", {"shards": 16}),
        ("single", {}),
        ("per-zone", {}),
        ("lazy-per-zone", {}),
        # The lock scope, recorded only when finer than ct_lock.
        ("single:lock=global", {}),
        ("per-zone:lock=global", {}),
        ("per-zone:lock=zone", {"lock": "zone"}),
        ("lazy-per-zone:lock=zone", {"lock": "zone"}),
        ("sharded:lock=shard", {"shards": 64, "lock": "shard"}),
        ("per-zone-sharded:lock=zone,shards=4", {"shards": 4, "lock": "zone"}),
        ("per-zone-sharded:lock=shard", {"shards": 8, "lock": "shard"}),
    ],
)
def test_table_records_its_effective_options(
    text: str, options: dict[str, int]
) -> None:
    assert create_table(BackendSpec.parse(text)).options == options


@pytest.mark.parametrize("name", backend_names())
def test_every_backend_exposes_options_as_a_dict(name: str) -> None:
    options = create_table(BackendSpec(name)).options
    assert isinstance(options, dict)
    assert all(isinstance(k, str) for k in options)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sharded:shards=0", "backend 'sharded': option shards='0' must be an integer"),
        ("sharded:shards=65537", "from 1 to 65536"),
        ("sharded:shards=-4", "option shards='-4'"),
        ("sharded:shards=abc", "option shards='abc' must be an integer"),
        ("sharded:shards=2.5", "option shards='2.5'"),
        ("sharded:shards=", "option shards=''"),
        (
            "sharded:buckets=4",
            "backend 'sharded' has no option 'buckets' (options: lock, shards)",
        ),
        ("per-zone-sharded:shards=0", "backend 'per-zone-sharded': option shards='0'"),
        ("per-zone-sharded:x=1", "has no option 'x' (options: lock, shards)"),
        ("single:shards=4", "backend 'single' takes no options but lock (got shards)"),
        (
            "single:lock=zone",
            "backend 'single': lock=zone is not supported "
            "(single supports lock=global only)",
        ),
        (
            "per-zone:lock=shard",
            "backend 'per-zone': lock=shard is not supported "
            "(per-zone supports lock=global, lock=zone)",
        ),
        ("sharded:lock=zone", "(sharded supports lock=global, lock=shard)"),
        ("per-zone-sharded:lock=table", "lock=table is not supported"),
        ("lazy-per-zone:shards=4", "backend 'lazy-per-zone' takes no options"),
        (
            "sharded:shards",
            "backend option 'shards' in 'sharded:shards' is not key=value",
        ),
        (":shards=4", "has no name"),
        ("no-such-table", "unknown backend 'no-such-table' (known: "),
    ],
)
def test_bad_specs_raise_one_line_backend_errors(text: str, message: str) -> None:
    with pytest.raises(BackendError) as info:
        create_table(BackendSpec.parse(text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_backend_kwargs_validates_without_building_the_table() -> None:
    factory, kwargs = backend_kwargs(BackendSpec.parse("sharded:shards=5"))
    assert factory is ShardedTable
    assert kwargs == {"shards": 5}
    with pytest.raises(BackendError, match="shards='x'"):
        backend_kwargs(BackendSpec.parse("sharded:shards=x"))


@pytest.mark.parametrize("shards", [0, MAX_SHARDS + 1])
def test_constructor_refuses_a_bad_count_too(shards: int) -> None:
    with pytest.raises(ValueError, match="shards must be an integer"):
        ShardedTable(shards)


def test_label_records_the_given_options_sorted() -> None:
    spec = BackendSpec.parse("sharded:shards=3")
    assert spec.label == "sharded:shards=3"
    assert BackendSpec.parse("sharded").label == "sharded"


def test_a_repeated_option_is_refused() -> None:
    with pytest.raises(BackendError, match="repeated"):
        BackendSpec.parse("sharded:shards=1,shards=2")


def test_only_ascii_digits_make_an_integer_option() -> None:
    with pytest.raises(BackendError, match="must be an integer"):
        create_table(BackendSpec.parse("sharded:shards=\u0663"))


def test_the_global_lock_names_the_same_table_however_typed() -> None:
    """``-b per-zone`` and ``-b per-zone:lock=global`` record the same
    effective options, so results files pair them (and pair with files
    written before lock scopes existed)."""
    plain, named = (
        BackendSpec.parse("per-zone"),
        BackendSpec.parse("per-zone:lock=global"),
    )
    assert effective_options(plain, create_table(plain)) == {}
    assert effective_options(named, create_table(named)) == {}
    zone = BackendSpec.parse("per-zone:lock=zone")
    assert effective_options(zone, create_table(zone)) == {"lock": "zone"}


def test_backend_kwargs_passes_a_finer_scope_to_the_constructor() -> None:
    assert backend_kwargs(BackendSpec.parse("per-zone:lock=zone"))[1] == {
        "lock_scope": "zone"
    }
    assert backend_kwargs(BackendSpec.parse("per-zone:lock=global"))[1] == {}
    table = create_table(BackendSpec.parse("per-zone-sharded:lock=shard,shards=2"))
    assert table.lock_scope == "shard"  # type: ignore[attr-defined]


def test_constructor_refuses_an_unsupported_scope_too() -> None:
    with pytest.raises(ValueError, match="sharded supports lock=global, lock=shard"):
        ShardedTable(lock_scope="zone")
