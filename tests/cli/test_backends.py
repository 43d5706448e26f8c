"""`ctbench backends` and `ctbench backends --memory`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ctbench import __version__
from ctbench.backends import BackendSpec, create_table, registry
from ctbench.backends.single import SingleMapTable
from ctbench.memory import measure_backends
from ctbench.render.memory_table import format_memory_table
from tests.helpers.cli import assert_one_line_error, run_cli, run_process

SMALL_RUN = ["benchmark-zones", "20", "2", "1", "-q", "--memory-sample", "0"]
BUILTINS = ("single", "per-zone", "sharded", "per-zone-sharded", "lazy-per-zone")


def test_backends_lists_every_builtin_with_its_description() -> None:
    result = run_cli("backends")
    assert result.code == 0
    names = [line.split()[0] for line in result.out.splitlines()]
    assert set(BUILTINS) <= set(names)
    assert "option shards, default 64" in result.out


def test_a_tiny_memory_sample_says_it_is_too_small() -> None:
    code, out, _ = run_cli(
        "backends", "--memory", "--entries", "1", "--zones", "1", "-b", "single"
    )
    assert code == 0
    assert out.splitlines()[0].endswith("at 1 conn")  # the header, singular
    assert "A sample of 1 connection is too small" in " ".join(out.split())
    code, out, _ = run_cli(
        "backends", "--memory", "--entries", "500", "--zones", "2", "-b", "single"
    )
    assert "too small" not in out


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
    assert rows[0][-5] == "60"  # sample conns: 20 entries x 3 zones
    assert rows[0][-4:-2] == ["3", "zones"]
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
    result = run_cli("backends", "--memory", *args)
    assert result.out == ""  # nothing measured before the bad spec was refused
    assert message in assert_one_line_error(result)


def test_memory_options_without_memory_are_a_usage_error() -> None:
    result = run_cli("backends", "--backend", "sharded")
    assert result.code == 2
    assert "go with --memory" in result.err


def test_bad_fill_size_is_a_usage_error() -> None:
    result = run_cli("backends", "--memory", "--zones", "0")
    assert result.code == 2


def _fixed_bytes(out: str, backend: str) -> int:
    row = next(line for line in out.splitlines() if line.startswith(backend + " "))
    return int(row.split()[2].replace(",", ""))


def test_fixed_bytes_do_not_depend_on_the_other_backends_or_their_order() -> None:
    # 47.1 KiB, 9.2 KiB or 9,415 B for single, depending on what ran first:
    # one-time allocations (a module's import, caches) counted as the table's.
    # Each measurement now runs once untraced first; what is left is CPython
    # sharing instance-dict keys, a few hundred bytes.
    # Each a process of its own, fresh; side by side, as they share nothing.
    runs = [
        ("--backend", "single"),
        ("--backend", "per-zone", "--backend", "single"),
        (),
    ]
    with ThreadPoolExecutor(len(runs)) as pool:
        done = list(
            pool.map(lambda args: run_process("backends", "--memory", *args), runs)
        )
    figures = [_fixed_bytes(p.stdout, "single") for p in done]
    assert max(figures) - min(figures) < 1024, figures


class _BrokenEntryPoint:
    name = "broken-plugin"

    def load(self) -> object:
        raise ImportError("No module named 'broken_plugin'")


def test_a_broken_plugin_is_skipped_with_a_note_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import backends

    real = dict(backends.registry())
    monkeypatch.setattr(
        backends, "registry", lambda: {**real, "broken-plugin": _BrokenEntryPoint()}
    )
    listing = run_cli("backends")
    assert listing.code == 0
    assert "(unavailable: backend 'broken-plugin' failed to load" in listing.out
    code, out, err = run_cli("backends", "--memory", "--entries", "5", "--zones", "2")
    assert code == 0
    assert {line.split()[0] for line in out.splitlines() if line} >= set(BUILTINS)
    assert "broken-plugin" not in out
    assert err.startswith("ctbench: note: skipped: backend 'broken-plugin' failed")
    assert err.count("\n") == 1
    # Named explicitly, it is an error.
    code, _, err = run_cli("backends", "--memory", "--backend", "broken-plugin")
    assert code == 2 and "failed to load" in err


@pytest.mark.parametrize(
    ("option", "value"), [("--entries", str(2**64)), ("--zones", "65535")]
)
def test_memory_fill_is_checked_as_benchmark_zones_checks_it(
    option: str, value: str
) -> None:
    code, out, err = run_cli("backends", "--memory", option, value)
    assert code == 2 and out == "" and "is not in the range" in err


def test_memory_at_the_run_applies_the_connection_limit_as_the_run_does() -> None:
    # ovstest's largest fill: 281 T requested, 3 M stored under OVS's limit.
    args = ["backends", "--memory", "--entries", "4294967295", "--zones", "65534"]
    code, out, _ = run_cli(*args, "-b", "single")
    assert code == 0
    header, _, row = out.splitlines()[:3]
    assert header.endswith("at 3,000,000 conns")
    assert row.endswith("MiB")  # hundreds of MiB, not 38.8 PiB
    assert "clipped to 3,000,000 by --conn-limit" in " ".join(out.split())
    code, out, _ = run_cli(*args, "-b", "single", "--conn-limit", "1000")
    assert out.splitlines()[0].endswith("at 1,000 conns")
    code, out, _ = run_cli(
        "backends", "--memory", "--entries", "600", "--zones", "2", "--conn-limit", "0"
    )
    assert out.splitlines()[0].endswith("at 1,200 conns")
    assert "clipped" not in out


def test_memory_projection_is_fixed_plus_per_conn_times_stored() -> None:
    (row,) = measure_backends([BackendSpec("single")], 1000, 5000, conn_limit=4000)
    f = row.figures
    assert row.stored == 4000
    assert row.projected_bytes == f.fixed_bytes + f.bytes_per_conn * 4000


def _fake_distribution(site: Path, name: str, entry_points: str) -> None:
    """An installed distribution as importlib.metadata finds one: its
    dist-info directory, with no code of its own (its entry points name
    ctbench's classes)."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[ctbench.backends]\n{entry_points}\n")


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.cache_clear()
    yield
    registry.cache_clear()


@pytest.mark.parametrize("where", ["after", "before"])
def test_a_plugin_named_like_a_builtin_is_named_in_a_warning_and_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None, where: str
) -> None:
    _fake_distribution(
        tmp_path, "evil-plugin", "single = ctbench.backends.sharded:ShardedTable"
    )
    if where == "after":
        monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path)])
    else:
        monkeypatch.syspath_prepend(str(tmp_path))
    warning = "ctbench: warning: backend 'single' is registered by "
    for args in (["backends"], [*SMALL_RUN, "-b", "single"], [*SMALL_RUN]):
        code, _, err = run_cli(*args)
        assert code == 0, err
        (line,) = [x for x in err.splitlines() if x.startswith(warning)]
        assert f"ctbench {__version__}" in line and "evil-plugin 1.0" in line
        assert line.endswith(
            f"ctbench {__version__}'s is used (the built-in), evil-plugin 1.0's ignored"
        )
    # The built-in runs, whatever the order on sys.path.
    assert type(create_table(BackendSpec("single"))) is SingleMapTable
    # A run of other backends is not told about it.
    code, _, err = run_cli(*SMALL_RUN, "-b", "per-zone")
    assert code == 0 and "warning" not in err


def test_two_plugins_of_one_name_warn_and_the_first_on_the_path_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _fake_distribution(
        first, "plugin-a", "twin = ctbench.backends.sharded:ShardedTable"
    )
    _fake_distribution(
        second, "plugin-b", "twin = ctbench.backends.single:SingleMapTable"
    )
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    code, out, err = run_cli("backends")
    assert code == 0 and "twin" in out
    assert err == (
        "ctbench: warning: backend 'twin' is registered by plugin-a 1.0 and "
        "plugin-b 1.0: plugin-a 1.0's is used (the first on sys.path), "
        "plugin-b 1.0's ignored\n"
    )
    assert type(create_table(BackendSpec("twin"))).__name__ == "ShardedTable"
