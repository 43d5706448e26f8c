"""`ctbench backends` and `ctbench backends --memory`."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli

from ctbench.backends import BackendSpec
from ctbench.memory import measure_backends
from ctbench.render.memory_table import format_memory_table

BUILTINS = ("single", "per-zone", "sharded", "per-zone-sharded", "lazy-per-zone")


def test_backends_lists_every_builtin_with_its_description() -> None:
    result = run_cli("backends")
    assert result.code == 0
    names = [line.split()[0] for line in result.out.splitlines()]
    assert set(BUILTINS) <= set(names)
    assert "option shards, default 64" in result.out


def test_memory_table_has_a_row_per_chosen_backend_with_its_options() -> None:
    result = run_cli(
        "backends",
        "--memory",
        "--entries",
        "20",
        "--zones",
        "3",
        "--backend",
        "sharded:shards=4",
        "--backend",
        "lazy-per-zone",
    )
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["backend", "options"]
    rows = [line.split() for line in lines[2:4]]
    assert rows[0][:2] == ["sharded", "shards=4"]
    assert rows[1][:2] == ["lazy-per-zone", "-"]
    assert rows[0][-3] == "60"  # sample conns: 20 entries x 3 zones
    assert "at 60 conns" in lines[0]
    assert "tracemalloc" in result.out


def test_memory_of_every_backend_by_default() -> None:
    result = run_cli("backends", "--memory", "--entries", "5", "--zones", "2")
    assert result.code == 0, result.out
    first_words = {line.split()[0] for line in result.out.splitlines() if line}
    assert set(BUILTINS) <= first_words


def test_per_zone_pays_for_65536_maps_up_front_and_lazy_does_not() -> None:
    rows = measure_backends(
        [BackendSpec("per-zone"), BackendSpec("lazy-per-zone")], entries=10, zones=2
    )
    per_zone, lazy = (r.figures for r in rows)
    assert per_zone.fixed_bytes > 65536 * 50  # at least an empty dict each
    assert lazy.fixed_bytes < 100_000
    assert per_zone.sample_conns == lazy.sample_conns == 20
    assert lazy.bytes_per_conn > 0
    assert "per-zone" in format_memory_table(rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "sharded:shards=0"], "option shards='0' must be an integer"),
        (["--backend", "sharded:size=3"], "has no option 'size'"),
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--backend", "single", "--backend", "single:x=1"], "takes no options"),
    ],
)
def test_bad_spec_is_one_line_and_status_2(
    args: list[str],
    message: str,
) -> None:
    status, out, err = run_cli("backends", "--memory", *args)
    assert status == 2
    assert out == ""  # nothing measured before the bad spec was refused
    assert err.startswith("ctbench: error: ") and message in err
    assert err.count("\n") == 1


def test_memory_options_without_memory_are_a_usage_error() -> None:
    result = run_cli("backends", "--backend", "sharded")
    assert result.code == 2
    assert "go with --memory" in result.err


def test_bad_fill_size_is_a_usage_error() -> None:
    result = run_cli("backends", "--memory", "--zones", "0")
    assert result.code == 2
