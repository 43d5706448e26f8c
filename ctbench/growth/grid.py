"""The grid a sweep runs: its points, their files and command lines."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from ctbench.backends import BackendSpec
from ctbench.memory import DEFAULT_SAMPLE_CONNS
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.scenarios.benchmark_zones import COMMAND, FULL_ZONE, ZoneConfig
from ctbench.scenarios.harness import DEFAULT_BACKENDS, ConfigError

SCENARIOS: Final = (COMMAND,)
# A sweep skips the memory sample by default: growth needs the timings
# only, and the sample costs about a second a backend at every point.
SWEEP_MEMORY_SAMPLE: Final = 0
# With fewer zones than this, zone 1 (the one the rounds flush and refill)
# is not filled before the first round, whose "full" flush then finds it
# empty.
MIN_SWEEP_ZONES: Final = FULL_ZONE + 1
_LIST = re.compile(r"[0-9]+(,[0-9]+)*", re.ASCII)


def parse_sizes(
    text: str, option: str, example: str = "1000,3000,10000"
) -> tuple[int, ...]:
    """'1000,3000,10000' -> (1000, 3000, 10000), sorted; a one-line
    ConfigError for anything else."""
    raw = text.replace(" ", "")
    if not _LIST.fullmatch(raw):
        raise ConfigError(
            f"{option} must be whole numbers separated by commas, such as "
            f"{example} (got {text!r})"
        )
    values = [int(v) for v in raw.split(",")]
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ConfigError(f"{option} lists {repeated[0]} more than once")
    return tuple(sorted(values))


@dataclass(frozen=True, order=True)
class Point:
    entries: int
    zones: int

    def file_name(self) -> str:
        """The point's results file: the same for the same point, whatever
        the sweep, so that a rerun or a resume finds it."""
        return f"{COMMAND}-e{self.entries}-z{self.zones}.json"

    def __str__(self) -> str:
        return f"entries {self.entries:,} x zones {self.zones:,}"


@dataclass(frozen=True)
class SweepConfig:
    """A benchmark-zones sweep: every ENTRIES x ZONES point of the grid,
    with the same ITERATIONS and options."""

    entries: tuple[int, ...]
    zones: tuple[int, ...]
    iterations: int
    backends: tuple[BackendSpec, ...] = DEFAULT_BACKENDS
    batch_size: int = 1
    warmup: int = 0
    conn_limit: int = DEFAULT_CONN_LIMIT
    gc_enabled: bool = False
    memory_sample: int = SWEEP_MEMORY_SAMPLE
    force: bool = False  # passed on to each point's command line
    seed: int = 0
    # Each point's results file's --tag KEY=VALUE (ctbench.results.tags).
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for option, values in (("--entries", self.entries), ("--zones", self.zones)):
            if len(values) < 2:
                raise ConfigError(
                    f"{option} needs at least 2 values: the fit separates "
                    "stored connections from zone size only when both vary "
                    f"(got {', '.join(map(str, values)) or 'none'})"
                )
        if min(self.zones) < MIN_SWEEP_ZONES:
            raise ConfigError(
                f"--zones must be {MIN_SWEEP_ZONES} or more: with fewer, zone "
                f"{FULL_ZONE}, which every round flushes, is not filled before "
                f"the first round (got {min(self.zones)})"
            )
        if self.seed < 0:
            raise ConfigError(f"--seed must be 0 or more (got {self.seed})")
        for point in self.points():
            self.zone_config(point)  # every other check, as benchmark-zones'

    def points(self) -> list[Point]:
        """Every point, in grid order."""
        return [Point(e, z) for e in self.entries for z in self.zones]

    def run_order(self) -> list[Point]:
        """The points in a seeded shuffled order.  Run in grid order, a
        machine that drifts (warms up, gets busier) would drift with size
        and bend the fitted exponents; shuffled, its drift is noise."""
        points = self.points()
        order = np.random.default_rng(self.seed).permutation(len(points))
        return [points[i] for i in order]

    def zone_config(self, point: Point) -> ZoneConfig:
        return ZoneConfig(
            entries=point.entries,
            zones=point.zones,
            iterations=self.iterations,
            batch_size=self.batch_size,
            warmup=self.warmup,
            memory_sample=self.memory_sample,
            backends=self.backends,
            conn_limit=self.conn_limit,
            gc_enabled=self.gc_enabled,
        )

    def argv(self, point: Point, output: str) -> list[str]:
        """The ctbench command line that runs ``point`` into ``output``:
        what the sweep runs in-process, for another machine to run."""
        args = [
            "ctbench",
            COMMAND,
            str(point.entries),
            str(point.zones),
            str(self.iterations),
        ]
        for spec in self.backends:
            args += ["-b", spec.label]
        if self.batch_size != 1:
            args += ["--batch-size", str(self.batch_size)]
        if self.warmup:
            args += ["--warmup", str(self.warmup)]
        if self.conn_limit != DEFAULT_CONN_LIMIT:
            args += ["--conn-limit", str(self.conn_limit)]
        if self.gc_enabled:
            args.append("--gc")
        if self.memory_sample != DEFAULT_SAMPLE_CONNS:
            args += ["--memory-sample", str(self.memory_sample)]
        if self.force:
            args.append("--force")
        for key, value in self.tags:
            args += ["--tag", f"{key}={value}"]
        return [*args, "-q", "--format", "table", "-o", output]


def command_line(argv: list[str]) -> str:
    return shlex.join(argv)


def points_dir_for(output: Path) -> Path:
    """Where a sweep file's points go by default: beside it,
    ``sweep.json`` -> ``sweep-points/``."""
    return output.with_name(f"{output.stem}-points")
