"""The sweep's grid: sizes, checks, run order, file names, command lines."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from ctbench.backends import BackendSpec
from ctbench.growth.grid import Point, SweepConfig, parse_sizes, points_dir_for
from ctbench.scenarios.harness import ConfigError


def test_sizes_are_parsed_sorted() -> None:
    assert parse_sizes("10000,1000, 3000", "--entries") == (1000, 3000, 10000)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "separated by commas"),
        ("1000,", "separated by commas"),
        ("1e3,2000", "separated by commas"),
        ("-5,10", "separated by commas"),
        ("10,20,10", "lists 10 more than once"),
    ],
)
def test_bad_sizes_say_why(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_sizes(text, "--entries")


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"entries": (1000,)}, "--entries needs at least 2 values"),
        ({"zones": (10,)}, "--zones needs at least 2 values"),
        ({"zones": (1, 10)}, "--zones must be 2 or more"),
        ({"entries": (0, 10)}, "ENTRIES must be between 1"),
        ({"zones": (2, 65535)}, "ZONES must be between 1 and 65534"),
        ({"iterations": 0}, "ITERATIONS must be at least 1"),
        ({"batch_size": 33}, "--batch-size"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_a_grid_that_cannot_be_fitted_or_run_is_refused(
    kwargs: dict[str, object], why: str
) -> None:
    base: dict[str, object] = {"entries": (10, 20), "zones": (2, 3), "iterations": 1}
    with pytest.raises(ConfigError, match=why):
        SweepConfig(**{**base, **kwargs})  # type: ignore[arg-type]


def test_the_run_order_is_a_seeded_shuffle_of_every_point() -> None:
    config = SweepConfig(entries=(1, 2, 3), zones=(2, 3, 4), iterations=1)
    order = config.run_order()
    assert sorted(order) == config.points() and len(order) == 9
    assert (
        order
        == SweepConfig(entries=(1, 2, 3), zones=(2, 3, 4), iterations=1).run_order()
    )
    other = SweepConfig(entries=(1, 2, 3), zones=(2, 3, 4), iterations=1, seed=5)
    assert other.run_order() != order  # another seed, another order


def test_a_point_command_line_is_benchmark_zones_with_the_sweep_options() -> None:
    config = SweepConfig(
        entries=(1000, 3000),
        zones=(10, 30),
        iterations=20,
        backends=(BackendSpec("single"), BackendSpec.parse("sharded:shards=4")),
        warmup=2,
        conn_limit=0,
        force=True,
    )
    point = Point(3000, 10)
    assert point.file_name() == "benchmark-zones-e3000-z10.json"
    argv = config.argv(point, point.file_name())
    assert shlex.join(argv) == (
        "ctbench benchmark-zones 3000 10 20 -b single -b sharded:shards=4 "
        "--warmup 2 --conn-limit 0 --memory-sample 0 --force -q --format table "
        "-o benchmark-zones-e3000-z10.json"
    )


def test_points_go_beside_the_sweep_file() -> None:
    assert points_dir_for(Path("out/sweep.json")) == Path("out/sweep-points")
