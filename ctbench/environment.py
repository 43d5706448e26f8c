"""Where a run happened, and what the harness itself costs."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any, Final

from ctbench import __version__
from ctbench.report.numbers import plural


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gil_enabled() -> bool:
    """False only on a free-threaded build running without the GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    return bool(check()) if check is not None else True


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (taskset, a
    container's cpuset), else every CPU."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        return len(getaffinity(0)) or 1
    return os.cpu_count() or 1


def describe() -> dict[str, Any]:
    return {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "hostname": socket.gethostname(),
        "gil_enabled": gil_enabled(),
        "ctbench_version": __version__,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# cgroup v1 reports "no limit" as a huge page-aligned number (LONG_MAX
# rounded down to the page size); anything at or above 2**62 is no limit.
_CGROUP_V1_UNLIMITED = 1 << 62


def available_memory(
    proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup"
) -> int | None:
    """Bytes this process may still use, None where unknown.

    The smaller of the machine's MemAvailable and the headroom under the
    memory limit of every cgroup the process sits in (v2 ``memory.max``
    minus ``memory.current``, v1 ``memory.limit_in_bytes`` minus
    ``memory.usage_in_bytes``, the usage less its inactive file cache), so
    that a container's limit is seen before the kernel's OOM killer
    enforces it.
    """
    figures = [_mem_available(proc), *_cgroup_headrooms(proc, cgroup_root)]
    known = [f for f in figures if f is not None]
    return max(0, min(known)) if known else None


# Memory mappings a thread takes at the least: its stack and its guard page
# (glibc's allocate_stack); 1,000 threads took 2.2 each here, malloc's
# arenas making up the rest.  Halving the headroom errs on the side of
# letting a run try.
MAPPINGS_PER_THREAD: Final = 2


def thread_headroom(
    proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup"
) -> tuple[int, str] | None:
    """How many more threads this process could start at the very most, and
    which limit says so; None where no limit is known.

    The tightest of the kernel's ``threads-max`` less the threads that exist
    (``/proc/loadavg``), ``vm.max_map_count`` less this process's mappings
    over MAPPINGS_PER_THREAD, and every cgroup level's ``pids.max`` less
    its ``pids.current``.  A run past it cannot start its threads.
    """
    found: list[tuple[int, str]] = []
    threads_max = _read_int(os.path.join(proc, "sys", "kernel", "threads-max"))
    existing = _loadavg_entities(proc)
    if threads_max is not None and existing is not None:
        found.append((threads_max - existing, f"kernel.threads-max ({threads_max:,})"))
    map_count = _read_int(os.path.join(proc, "sys", "vm", "max_map_count"))
    mapped = _count_lines(os.path.join(proc, "self", "maps"))
    if map_count is not None and mapped is not None:
        found.append(
            (
                (map_count - mapped) // MAPPINGS_PER_THREAD,
                f"vm.max_map_count ({plural(map_count, 'mapping')}, "
                f"{MAPPINGS_PER_THREAD} a thread)",
            )
        )
    for directory, _ in _cgroup_dirs(proc, cgroup_root, "pids"):
        limit = _read_int(os.path.join(directory, "pids.max"))
        current = _read_int(os.path.join(directory, "pids.current"))
        if limit is not None and current is not None:
            found.append((limit - current, f"the cgroup's pids.max ({limit:,})"))
    return min(found, key=lambda f: f[0], default=None)


def _loadavg_entities(proc: str) -> int | None:
    """The threads that exist now: /proc/loadavg's "running/total" field."""
    try:
        with open(os.path.join(proc, "loadavg"), encoding="utf-8") as f:
            return int(f.read().split()[3].split("/")[1])
    except (OSError, ValueError, IndexError):
        return None


def _count_lines(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def _cgroup_dirs(proc: str, root: str, controller: str) -> list[tuple[str, bool]]:
    """Every level of every cgroup the process sits in that has
    ``controller``, each with whether it is cgroup v2: a limit anywhere up
    the hierarchy applies, and inside a container the process's own path
    may not exist under the mount."""
    try:
        with open(os.path.join(proc, "self", "cgroup"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    directories = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            base = root
            if not os.path.exists(os.path.join(root, "cgroup.controllers")):
                base = os.path.join(root, "unified")
        elif controller in controllers.split(","):
            base = os.path.join(root, controller)
        else:
            continue
        levels = [p for p in path.split("/") if p]
        directories += [
            (os.path.join(base, *levels[:depth]), controllers == "")
            for depth in range(len(levels), -1, -1)
        ]
    return directories


def _mem_available(proc: str) -> int | None:
    try:
        with open(os.path.join(proc, "meminfo"), encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: str) -> int | None:
    """An integer file, None when absent, unreadable or "max"."""
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _cgroup_headrooms(proc: str, root: str) -> list[int]:
    headrooms = []
    for directory, v2 in _cgroup_dirs(proc, root, "memory"):
        if v2:
            limit_file, usage_file = "memory.max", "memory.current"
            cache_key = "inactive_file"
        else:
            limit_file, usage_file = "memory.limit_in_bytes", "memory.usage_in_bytes"
            cache_key = "total_inactive_file"
        limit = _read_int(os.path.join(directory, limit_file))
        usage = _read_int(os.path.join(directory, usage_file))
        if limit is None or usage is None or limit >= _CGROUP_V1_UNLIMITED:
            continue
        # Usage counts page cache the kernel reclaims before it kills
        # anything; like docker stats and the kubelet's working set, leave
        # out the inactive file cache.
        cache = _stat_value(os.path.join(directory, "memory.stat"), cache_key)
        headrooms.append(limit - max(0, usage - cache))
    return headrooms


def _stat_value(path: str, key: str) -> int:
    """One counter of a cgroup ``memory.stat`` file, 0 when absent."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def timer_overhead_ns(rounds: int = 20_001) -> dict[str, str | float]:
    """Cost of one clock read as the timed sections use it (two reads and a
    subtraction), the median of many back-to-back pairs, and the clock's
    advertised resolution."""
    clock = time.perf_counter_ns
    diffs = []
    for _ in range(rounds):
        start = clock()
        diffs.append(clock() - start)
    return {
        "timer": "time.perf_counter_ns",
        "timer_overhead_ns": float(statistics.median(diffs)),
        "timer_resolution_ns": time.get_clock_info("perf_counter").resolution * 1e9,
    }
