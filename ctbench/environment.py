"""Where a run happened, and what the harness itself costs."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from ctbench import __version__


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


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes, None where unknown."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


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
