"""Run real ovstest binaries after ctbench's own backends, into the same run.

``--ovstest LABEL=PATH`` runs ``PATH test-conntrack COMMAND ARGS`` with the
run's own arguments, ``--ovstest-repeat`` times, and appends each run's
parsed output to the run as a summary-only backend ``ovstest:LABEL`` (or
``ovstest:LABEL#i`` for repeats), with where it came from in
``extra["source"]``: path, arguments, wall time, peak RSS, exit status.

A binary that hangs, crashes or prints something else becomes a failed
backend with the reason in one line; ctbench's own results stay as they
are.  Options whose effect ovstest cannot reproduce are refused before any
work (:func:`unreproducible`), and each binary is checked before any work
(:meth:`OvstestPlan.check`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.ovstest.parse import THREADS, ZONES, Output, ParseError, parse
from ctbench.ovstest.records import BACKEND, results_of
from ctbench.ovstest.runner import BinaryError, BinaryInterrupted, run_binary
from ctbench.results import COMPLETE, FAILED, INTERRUPTED, BackendResult, RunResult
from ctbench.scenarios.harness import ConfigError
from ctbench.units import DEFAULT_MEASURE

SUBCOMMAND: Final = "test-conntrack"
# docs/measuring-against-ovstest.md: a table for the smallest zone run, within 10 s.
CHECK_ARGS: Final = (SUBCOMMAND, ZONES, "1", "1", "1")
CHECK_TIMEOUT_S: Final = 10.0
# A real run's bound (docs/measuring-against-ovstest.md): ten times ctbench's own
# estimate for the run, and at least a minute.
TIMEOUT_FACTOR: Final = 10.0
MIN_TIMEOUT_S: Final = 60.0
# More runs than this is a typo: at 20 runs a side compare has intervals
# (ctbench.stats.MIN_INTERVAL_SAMPLES).
MAX_REPEAT: Final = 1000
LABEL_PREFIX: Final = "ovstest:"


@dataclass(frozen=True)
class Binary:
    label: str
    path: Path

    @property
    def option(self) -> str:
        return f"--ovstest {self.label}={self.path}"

    @property
    def group(self) -> str:
        """Its backends' label, without a repeat's number."""
        return LABEL_PREFIX + self.label


def parse_binary(text: str) -> Binary:
    """``LABEL=PATH`` -> Binary; the label names a ctbench backend to set it
    beside (``single``, ``per-zone``), or anything else."""
    label, sep, path = text.partition("=")
    label = label.strip()
    if not sep or not label or not path:
        raise ConfigError(f"--ovstest must be LABEL=PATH (got {text!r})")
    if any(c.isspace() for c in label) or "#" in label:
        raise ConfigError(
            f"--ovstest label {label!r} must have no spaces and no '#' "
            "(it names backends ovstest:LABEL and ovstest:LABEL#2)"
        )
    return Binary(label, Path(path).expanduser())


def ovstest_args(run: RunResult) -> tuple[str, ...]:
    """ovstest's arguments for the run's own: the same workload."""
    p = run.params
    if run.command == ZONES:
        names: tuple[str, ...] = ("entries", "zones", "iterations")
    elif run.command == THREADS:
        names = ("n_threads", "n_pkts", "batch_size", "change_conn")
    else:
        raise ConfigError(f"--ovstest does not run with {run.command}")
    return (SUBCOMMAND, run.command, *(str(p[name]) for name in names))


def unreproducible(options: Mapping[str, Any]) -> list[str]:
    """The options given whose effect ovstest cannot reproduce (docs/ovs-reference.md:
    it fixes one packet per execute, OVS's default table limit, no warm-up,
    and its own cleaner on the wall clock)."""
    out = []
    limit = options.get("conn_limit", DEFAULT_CONN_LIMIT)
    if limit != DEFAULT_CONN_LIMIT:
        out.append(f"--conn-limit {limit} (ovstest's is {DEFAULT_CONN_LIMIT:,})")
    if options.get("batch_size", 1) != 1:
        out.append(f"--batch-size {options['batch_size']} (ovstest's is 1)")
    if options.get("warmup", 0):
        out.append(f"--warmup {options['warmup']} (ovstest has none)")
    measure = options.get("measure", DEFAULT_MEASURE)
    if measure != DEFAULT_MEASURE:
        out.append(f"--measure {measure} (ovstest's figures are times)")
    if options.get("sweep_every") is not None:
        out.append(
            f"--sweep-every {options['sweep_every']:g} (ovstest's cleaner runs "
            "on its own)"
        )
    return out


Progress = Callable[[str, str, int, int], None]


def _no_progress(backend: str, stage: str, done: int, total: int) -> None:
    pass


def _never() -> bool:
    return False


@dataclass(frozen=True)
class OvstestPlan:
    binaries: tuple[Binary, ...]
    repeat: int = 1
    timeout_s: float | None = None  # None: from ctbench's estimate

    def __post_init__(self) -> None:
        labels = [b.label for b in self.binaries]
        for label in labels:
            if labels.count(label) > 1:
                raise ConfigError(f"--ovstest label {label!r} is given twice")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ConfigError(
                f"--ovstest-repeat must be from 1 to {MAX_REPEAT} (got {self.repeat})"
            )
        if self.timeout_s is not None and not 0 < self.timeout_s < float("inf"):
            raise ConfigError(
                f"--ovstest-timeout must be a number of seconds above 0 "
                f"(got {self.timeout_s})"
            )

    def timeout_for(self, estimate_s: float) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        return max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * estimate_s)

    def check(self) -> None:
        """Each binary must exist, be executable and print a benchmark-zones
        table for ``1 1 1`` within 10 s; raises BinaryError otherwise."""
        for binary in self.binaries:
            command = " ".join(CHECK_ARGS)
            ran = run_binary(
                binary.path,
                CHECK_ARGS,
                CHECK_TIMEOUT_S,
                what=binary.option,
            )
            failure = ran.failure()
            if failure is not None:
                raise BinaryError(
                    f"{binary.option}: '{binary.path.name} {command}' {failure}"
                )
            if not _zone_tables(ran.stdout):
                raise BinaryError(
                    f"{binary.option}: '{binary.path.name} {command}' printed no "
                    "benchmark-zones table: is it ovstest, built at or after the "
                    "benchmark's commit?"
                )

    def run(
        self,
        run: RunResult,
        estimate_s: float,
        progress: Progress = _no_progress,
        interrupted: Callable[[], bool] = _never,
    ) -> None:
        """Run every binary ``repeat`` times after ``run``'s backends and
        append what each printed; a failure is recorded, not raised."""
        args = ovstest_args(run)
        timeout = self.timeout_for(estimate_s)
        run.params["ovstest"] = [
            {"label": b.label, "path": str(b.path)} for b in self.binaries
        ]
        run.params["ovstest_repeat"] = self.repeat
        for binary in self.binaries:
            for i in range(1, self.repeat + 1):
                if interrupted():
                    break
                label = binary.group if self.repeat == 1 else f"{binary.group}#{i}"
                progress(label, "ovstest", i - 1, self.repeat)
                result = self._one(binary, label, i, args, timeout, run, interrupted)
                run.results.append(result)
                progress(label, "ovstest", i, self.repeat)
                if result.status != COMPLETE:
                    break  # a hang or a crash would repeat; the next binary runs
        run.complete = (
            run.complete
            and not interrupted()
            and all(r.status == COMPLETE for r in run.results)
        )

    def _one(
        self,
        binary: Binary,
        label: str,
        i: int,
        args: tuple[str, ...],
        timeout: float,
        run: RunResult,
        interrupted: Callable[[], bool],
    ) -> BackendResult:
        source: dict[str, Any] = {
            "tool": BACKEND,
            "label": binary.label,
            "group": binary.group,
            "path": str(binary.path),
            "argv": [str(binary.path), *args],
            "run": i,
            "runs": self.repeat,
            "timeout_s": timeout,
        }
        failed = BackendResult(backend=BACKEND, label=label, extra={"source": source})
        try:
            ran = run_binary(binary.path, args, timeout, interrupted, binary.option)
        except BinaryInterrupted as exc:
            failed.status, failed.error = INTERRUPTED, str(exc)
            return failed
        except KeyboardInterrupt:  # a second Ctrl-C: the binary was killed
            failed.status = INTERRUPTED
            failed.error = f"{binary.option}: interrupted, killed"
            return failed
        except BinaryError as exc:
            failed.status, failed.error = FAILED, str(exc)
            return failed
        source.update(
            wall_s=ran.wall_s,
            peak_rss_bytes=ran.peak_rss_bytes,
            peak_rss_exact=ran.peak_rss_exact,
            exit_status=ran.exit_status,
        )
        failure = ran.failure()
        outputs = _outputs(ran.stdout, run.command)
        if failure is not None or len(outputs) != 1:
            failed.status = FAILED
            failed.error = (
                f"{binary.option}: {failure}"
                if failure is not None
                else f"{binary.option}: printed no {run.command} result "
                f"({len(ran.stdout.encode())} bytes on stdout)"
            )
            return failed
        iterations = run.params.get("iterations") if run.command == ZONES else None
        (result,) = results_of(outputs[0], [label], iterations, source)
        return result


def _outputs(stdout: str, command: str) -> list[Output]:
    try:
        return [o for o in parse(stdout, "ovstest's output") if o.command == command]
    except ParseError:
        return []


def _zone_tables(stdout: str) -> bool:
    return bool(_outputs(stdout, ZONES))
