"""What a run produced, in memory: plain dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ctbench.stats import Summary, summarize
from ctbench.units import MICROSECONDS, unit_of

# A backend's status in a run.
COMPLETE: Final = "complete"
INTERRUPTED: Final = "interrupted"  # stopped by SIGINT or SIGTERM
FAILED: Final = "failed"  # raised; ``error`` says what
STATUSES: Final = (COMPLETE, INTERRUPTED, FAILED)


def spec_label(name: str, options: Mapping[str, object]) -> str:
    """``name`` or ``name:key=value,...`` with the options sorted: a
    backend spec as a results file labels it (and as ``-b`` takes it)."""
    if not options:
        return name
    return name + ":" + ",".join(f"{k}={v}" for k, v in sorted(options.items()))


@dataclass
class PhaseResult:
    """One timed phase: every sample (in the run's unit, ``RunResult.unit``),
    or, for an imported ovstest table, only ovstest's summary (``summary``
    set, no samples)."""

    samples: list[float] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    summary: Summary | None = None

    def stats(self, ovs: bool = False) -> Summary | None:
        if self.summary is not None:
            return self.summary
        return summarize(self.samples, ovs)


@dataclass
class Fill:
    requested: int = 0
    stored: int = 0
    refused: int = 0
    generate_us: float = 0.0
    insert_us: float = 0.0
    # Attempted: the commits the fill got to execute before it stopped (all
    # of the requested ones in a run that was not interrupted).
    attempted: int | None = None


@dataclass
class Memory:
    bytes_per_conn: float = 0.0
    fixed_bytes: int = 0
    sample_conns: int = 0
    method: str = "tracemalloc"


@dataclass
class BackendResult:
    """One backend's part of a run.

    ``label`` names it in reports and comparisons: the backend spec
    (``sharded:shards=64``), with ``#1``, ``#2``... when a run holds the same
    spec more than once.
    """

    backend: str
    options: dict[str, Any] = field(default_factory=dict)
    fill: Fill = field(default_factory=Fill)
    memory: Memory = field(default_factory=Memory)
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    status: str = COMPLETE
    error: str | None = None

    def __post_init__(self) -> None:
        if not self.label:
            self.label = spec_label(self.backend, self.options)

    @property
    def spec_label(self) -> str:
        return spec_label(self.backend, self.options)


@dataclass
class RunResult:
    command: str
    params: dict[str, Any]
    environment: dict[str, Any]
    started: str
    finished: str = ""
    complete: bool = False
    harness: dict[str, Any] = field(default_factory=dict)
    results: list[BackendResult] = field(default_factory=list)
    tool_version: str = ""
    # Why the run stopped early: the signal's name (SIGINT, SIGTERM), or
    # None.  A failed backend does not stop the run; its status says so.
    stopped_by: str | None = None
    # Where the figures come from: {"tool": "ovstest", ...} for an imported
    # ovstest output, empty for ctbench's own runs.
    source: dict[str, Any] = field(default_factory=dict)
    # Free-form labels given with --tag KEY=VALUE (a commit, a branch, a CI
    # job): ctbench.results.tags.
    tags: dict[str, str] = field(default_factory=dict)
    # What every phase's samples measure (ctbench.units): microseconds, or
    # a count from callgrind.
    unit: str = MICROSECONDS.key

    @property
    def counted(self) -> bool:
        """Are the samples counts from callgrind rather than times?"""
        return unit_of(self.unit).counted

    @property
    def clock_read_ns(self) -> float:
        """What one clock read cost in this run (``harness``); 0 when
        unknown, and for counts, which no clock read."""
        if self.counted:
            return 0.0
        return float(self.harness.get("timer_overhead_ns", 0) or 0)

    @property
    def ovs_stats(self) -> bool:
        return bool(self.params.get("ovs_stats", False))

    @property
    def failed(self) -> list[BackendResult]:
        return [r for r in self.results if r.status == FAILED]


def distinct_labels(labels: list[str]) -> list[str]:
    """``labels`` with every repeated one numbered: ``single#1``,
    ``single#2``; the others unchanged."""
    counts = {label: labels.count(label) for label in labels}
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label}#{seen[label]}"
        out.append(label)
    return out
