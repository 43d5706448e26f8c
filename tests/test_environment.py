"""available_memory(), thread_headroom() and usable_cpus(): the machine's
limits and every cgroup's."""

from __future__ import annotations

import os
from pathlib import Path

from ctbench.environment import available_memory, thread_headroom, usable_cpus

GIB = 1 << 30


def _proc(
    tmp_path: Path, cgroup: str, mem_available_kib: int = 16 * 1024 * 1024
) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(
        f"MemTotal:       33554432 kB\nMemAvailable:   {mem_available_kib} kB\n"
    )
    (proc / "self" / "cgroup").write_text(cgroup)
    return proc


def _write(directory: Path, **files: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("_", ".", 1)).write_text(text + "\n")


def test_without_cgroup_limits_it_is_memavailable(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/\n")
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="memory", memory_max="max", memory_current="1")
    assert available_memory(str(proc), str(root)) == 16 * GIB


def test_a_cgroup_v2_limit_caps_it(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/ci/job\n")
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="memory")
    _write(root / "ci" / "job", memory_max=str(4 * GIB), memory_current=str(GIB))
    assert available_memory(str(proc), str(root)) == 3 * GIB


def test_a_parent_cgroups_limit_applies_too(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/ci/job\n")
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="memory")
    _write(root / "ci", memory_max=str(2 * GIB), memory_current=str(GIB))
    _write(root / "ci" / "job", memory_max="max", memory_current=str(GIB))
    assert available_memory(str(proc), str(root)) == GIB


def test_a_cgroup_v1_limit_caps_it_and_its_no_limit_value_does_not(
    tmp_path: Path,
) -> None:
    proc = _proc(tmp_path, "4:memory:/docker/abc\n0::/\n")
    root = tmp_path / "cgroup"
    _write(
        root / "memory",
        memory_limit_in_bytes="9223372036854771712",
        memory_usage_in_bytes=str(GIB),
    )
    assert available_memory(str(proc), str(root)) == 16 * GIB
    _write(
        root / "memory" / "docker" / "abc",
        memory_limit_in_bytes=str(8 * GIB),
        memory_usage_in_bytes=str(3 * GIB),
    )
    assert available_memory(str(proc), str(root)) == 5 * GIB


def test_unknown_everywhere_is_none(tmp_path: Path) -> None:
    assert available_memory(str(tmp_path / "no-proc"), str(tmp_path)) is None


def test_reclaimable_file_cache_does_not_count_as_used(tmp_path: Path) -> None:
    # A CI job after a clone and an install: most of its usage is page cache.
    proc = _proc(tmp_path, "0::/job\n")
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="memory")
    _write(root / "job", memory_max=str(4 * GIB), memory_current=str(4 * GIB - 1))
    (root / "job" / "memory.stat").write_text(
        f"anon {GIB}\nfile {3 * GIB}\ninactive_file {3 * GIB - 1}\n"
    )
    assert available_memory(str(proc), str(root)) == 3 * GIB


def test_cgroup_v1_file_cache_is_its_hierarchical_total(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "4:memory:/\n")
    root = tmp_path / "cgroup"
    _write(
        root / "memory",
        memory_limit_in_bytes=str(8 * GIB),
        memory_usage_in_bytes=str(6 * GIB),
    )
    (root / "memory" / "memory.stat").write_text(
        f"inactive_file 1\ntotal_inactive_file {2 * GIB}\n"
    )
    assert available_memory(str(proc), str(root)) == 4 * GIB


def test_a_cache_figure_above_usage_counts_as_no_usage(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/job\n")
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="memory")
    _write(root / "job", memory_max=str(2 * GIB), memory_current=str(GIB))
    (root / "job" / "memory.stat").write_text(f"inactive_file {3 * GIB}\n")
    assert available_memory(str(proc), str(root)) == 2 * GIB


# -- thread_headroom ----------------------------------------------------------


def _thread_proc(tmp_path: Path, cgroup: str, maps: int, max_map: int) -> Path:
    proc = _proc(tmp_path, cgroup)
    (proc / "self" / "maps").write_text("m\n" * maps)
    for name, text in (("vm/max_map_count", max_map), ("kernel/threads-max", 192730)):
        (proc / "sys" / name).parent.mkdir(parents=True, exist_ok=True)
        (proc / "sys" / name).write_text(f"{text}\n")
    (proc / "loadavg").write_text("0.50 0.40 0.30 2/730 4242\n")
    return proc


def test_thread_headroom_is_the_map_count_over_two(tmp_path: Path) -> None:
    proc = _thread_proc(tmp_path, "0::/\n", maps=530, max_map=65530)
    room, limit = thread_headroom(str(proc), str(tmp_path / "cgroup")) or (0, "")
    assert room == 32500 and "vm.max_map_count (65,530" in limit


def test_thread_headroom_sees_threads_max_and_a_pids_limit(tmp_path: Path) -> None:
    proc = _thread_proc(tmp_path, "0::/ci/job\n", maps=10, max_map=10**9)
    root = tmp_path / "cgroup"
    _write(root, cgroup_controllers="pids memory")
    assert thread_headroom(str(proc), str(root)) == (
        192730 - 730,
        "kernel.threads-max (192,730)",
    )
    _write(root / "ci", pids_max="4096", pids_current="96")
    _write(root / "ci" / "job", pids_max="max", pids_current="12")
    assert thread_headroom(str(proc), str(root)) == (
        4000,
        "the cgroup's pids.max (4,096)",
    )


def test_no_known_limit_is_none(tmp_path: Path) -> None:
    assert thread_headroom(str(tmp_path / "no-proc"), str(tmp_path)) is None


def test_usable_cpus_are_some_of_the_machines() -> None:
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
