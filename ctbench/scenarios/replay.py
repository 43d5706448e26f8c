"""replay: real captures through each backend, timed batch by batch.

The captures' packets are executed with commit as ``ctbench pcap`` executes
them (:mod:`ctbench.capture.track`: batches of up to BATCH_SIZE that end
where the L3 type or the zone changes, each at its clock's ``now``).  Each
batch is one sample: the time of one ``execute`` call.  ``repeat`` plays
the captures again, each time from an empty table (the flush between
repetitions is not timed), so every repetition does the same work.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

from ctbench.capture import Capture, read_capture
from ctbench.capture.packet_states import explain_invalid
from ctbench.capture.track import Batch, TrackConfig, plan_batches, wall_ms
from ctbench.disturbance import RECORD_KEY, Disturbance, involuntary_switches
from ctbench.packets import CtState, ct_state_flags
from ctbench.results import PhaseResult, Pooling, RunResult
from ctbench.results.merge import is_number
from ctbench.scenarios.benchmark_zones import ESTIMATE_BYTES_PER_CONN
from ctbench.scenarios.harness import (
    PROCESS_BYTES,
    CommonConfig,
    ConfigError,
    Progress,
    Turn,
    add_counts,
    execute_counts,
    never,
    no_progress,
    recorded,
    run_workload,
    section_clock,
)
from ctbench.units import DEFAULT_MEASURE

COMMAND: Final = "replay"
PHASE: Final = "execute_batch"
# A datapath's burst: NETDEV_MAX_BURST (lib/netdev.h).
DEFAULT_BATCH_SIZE: Final = 32
MAX_REPEAT: Final = 10**9
# A frame's bytes object header and list slot (41), its batch slice's slot,
# its state in the first repetition's list and its sample's share (about
# 60 more): per packet, beside the frame's own bytes.
BYTES_PER_PACKET: Final = 100
# A sample per batch: a float in a list (32 bytes) and the report's and
# the results file's share.  Measured peak RSS slopes of `replay
# tests/data/captures/mixed.pcap --repeat N --batch-size 1 -o FILE`: 56
# bytes a sample with one backend, 120 with two (`python -m bench.experiments.estimates
# --constants`).
BYTES_PER_SAMPLE: Final = 60
BYTES_PER_EARLIER_SAMPLE: Final = 64
# How often the loop reports progress and checks for a stop, in batches.
_CHECK_EVERY: Final = 256


@dataclass(frozen=True, kw_only=True)
class ReplayConfig(CommonConfig):
    files: tuple[str, ...]
    track: TrackConfig = field(default_factory=TrackConfig)
    repeat: int = 1

    def __post_init__(self) -> None:
        if not self.files:
            raise ConfigError("at least one capture file is needed")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ConfigError(
                f"--repeat must be between 1 and {MAX_REPEAT:,} (got {self.repeat})"
            )
        super().__post_init__()

    @property
    def verify_l4(self) -> bool:
        return self.track.verify_l4

    def params(self) -> dict[str, Any]:
        common = self.common_params()
        return {
            "files": list(self.files),
            "batch_size": self.track.batch_size,
            "zone": self.track.zone,
            "zones": self.track.zones,
            "clock": self.track.clock,
            "trust_l4_checksums": not self.track.verify_l4,
            "repeat": self.repeat,
            "conn_limit": common["conn_limit"],
            "gc": common["gc"],
            "backends": common["backends"],
        }


@dataclass(frozen=True)
class ReplayInput:
    """What a replay runs from: its config, and its captures read as one
    stream (:func:`load_captures`), which its estimates read too."""

    config: ReplayConfig
    capture: Capture


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse (ConfigError, TrackError) recorded parameters that replay
    refuses as options, or that replay never records (its ``capture``)."""
    if "capture" in params and not _capture_recorded(params["capture"]):
        raise ConfigError(
            "'capture' must be an object of format, link_types (strings), "
            "duration_s, spans_s (seconds, 0 or more) and cut_by_snaplen (a count)"
        )
    track = recorded(params, ("batch_size", "zone", "zones", "clock"), {})
    if "trust_l4_checksums" in params:
        track["verify_l4"] = not params["trust_l4_checksums"]
    run = recorded(params, ("repeat", "conn_limit"), {})
    ReplayConfig(
        files=tuple(params.get("files", ("a capture",))),
        track=TrackConfig(**track),
        **run,
    )


def _capture_recorded(value: Any) -> bool:
    """``params.capture`` as :meth:`ReplayWorkload.params` records it (each
    key checked when present)."""

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    def seconds(v: Any) -> bool:
        return number(v) and 0 <= v < math.inf

    checks: dict[str, Callable[[Any], bool]] = {
        "format": lambda v: isinstance(v, str),
        "link_types": lambda v: (
            isinstance(v, list) and all(isinstance(t, str) for t in v)
        ),
        "duration_s": seconds,
        "spans_s": lambda v: isinstance(v, list) and all(map(seconds, v)),
        "cut_by_snaplen": lambda v: (
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
        ),
    }
    return isinstance(value, dict) and all(
        check(value[key]) for key, check in checks.items() if key in value
    )


def load_captures(paths: Sequence[Path]) -> Capture:
    """The captures' packets as one stream, in the order given."""
    captures = [read_capture(path) for path in paths]
    if len(captures) == 1:
        return captures[0]
    joined = Capture(
        ", ".join(c.path for c in captures),
        "+".join(sorted({c.format for c in captures})),
        tuple(dict.fromkeys(name for c in captures for name in c.link_types)),
    )
    for capture in captures:
        joined.frames.extend(capture.frames)
        joined.ts_ns.extend(capture.ts_ns)
        joined.cut += capture.cut
        joined.parts.append((capture.path, capture.duration_ns))
    return joined


def invalid_reasons(
    capture: Capture, config: TrackConfig, states: Sequence[int]
) -> Counter[str]:
    """Why each packet that came out +inv is invalid: what conn_key_extract()
    refused, else what the connection tracking refused."""
    reasons: Counter[str] = Counter()
    for frame, state in zip(capture.frames, states, strict=False):
        if state & CtState.INVALID:
            reasons[explain_invalid(frame, config.verify_l4)] += 1
    return reasons


class ReplayWorkload:
    command: ClassVar[str] = COMMAND
    thread_safe: ClassVar[bool] = False

    def __init__(
        self,
        config: ReplayConfig,
        capture: Capture,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        require_packets(capture)
        self._config = config
        self.capture = capture
        self.batches: list[Batch] = plan_batches(capture, config.track)
        frames = capture.frames
        # Sliced once, outside the timed calls.
        self._frames = [frames[b.start : b.end] for b in self.batches]
        self._clock = clock

    @property
    def config(self) -> ReplayConfig:
        return self._config

    def params(self) -> dict[str, Any]:
        capture = self.capture
        return {
            **self._config.params(),
            "packets": len(capture),
            "batches": len(self.batches),
            "capture": {
                "format": capture.format,
                "link_types": list(capture.link_types),
                "duration_s": capture.duration_ns / 1e9,
                "spans_s": [span / 1e9 for _, span in capture.spans_ns()],
                "cut_by_snaplen": capture.cut,
            },
        }

    def run(self, turn: Turn) -> bool:
        model = turn.model
        result = turn.result
        phase = PhaseResult()
        result.phases = {PHASE: phase}
        samples = phase.samples
        execute = model.execute
        perf = section_clock(self._config.measure)  # or callgrind's marks
        wall = self._clock
        batches = self.batches
        frames = self._frames
        n = len(batches)
        total = n * self._config.repeat
        first: list[int] = []  # the first repetition's states
        reps = 0
        counts: dict[str, int] = {}
        # The machine's figures (ctbench.disturbance), read around each
        # repetition, never per batch; a run counted by callgrind keeps
        # none, as benchmark-zones' does not.
        counted = self._config.measure != DEFAULT_MEASURE
        record = None if counted else Disturbance(counted_over="repetition")
        before = model.counters.snapshot()
        try:
            for rep in range(self._config.repeat):
                if rep:
                    # An empty table again; neither timed nor counted.
                    add_counts(counts, model.counters.minus(before))
                    model.flush()
                    before = model.counters.snapshot()
                rep_first = len(samples)
                switches = 0 if record is None else involuntary_switches()
                try:
                    for i in range(n):
                        batch = batches[i]
                        now = wall() if batch.now is None else batch.now
                        t0 = perf()
                        out = execute(frames[i], batch.zone, True, now)
                        t1 = perf()
                        samples.append((t1 - t0) / 1e3)
                        if not rep:
                            first += out
                        # Freed here, untimed, not when the next timed call's
                        # result replaces it.
                        del out
                        if i % _CHECK_EVERY == _CHECK_EVERY - 1:
                            turn.progress("batches", rep * n + i + 1, total)
                            if turn.interrupted():
                                return True
                finally:
                    if record is not None:
                        record.phase(PHASE).add_many(
                            len(samples) - rep_first, involuntary_switches() - switches
                        )
                reps += 1
                turn.progress("batches", reps * n, total)
                if reps < self._config.repeat and turn.interrupted():
                    return True
        finally:
            if record is not None:
                result.extra[RECORD_KEY] = record.finish()
            add_counts(counts, model.counters.minus(before))
            phase.counters = execute_counts(counts)
            packets = len(self.capture)
            extra = result.extra
            extra["packets"] = packets
            extra["repetitions"] = reps
            # Over the whole repetitions: a cut one's packets are not all in.
            whole_us = sum(samples[: reps * n])
            if reps and whole_us:
                extra["pps"] = packets * reps / (whole_us / 1e6)
            by_state = Counter(first)
            extra["states"] = {
                ct_state_flags(s): c for s, c in sorted(by_state.items())
            }
            reasons = invalid_reasons(self.capture, self._config.track, first)
            extra["invalid_reasons"] = dict(sorted(reasons.items()))
            extra["stored_at_end"] = model.n_conns
        return False


def require_packets(capture: Capture) -> None:
    """Refuse a capture without packets: there is nothing to time."""
    if not len(capture):
        raise ConfigError(f"{capture.path}: holds no packets, nothing to replay")


def estimated_bytes(config: ReplayConfig, capture: Capture) -> int:
    """Peak memory of the run: the process, the frames (held once, and
    already read), at most one connection per packet in the table, and a
    sample per batch and repetition, the last backend's as it keeps them
    and the earlier backends' besides."""
    frames = sum(map(len, capture.frames)) + len(capture) * BYTES_PER_PACKET
    samples = len(plan_batches(capture, config.track)) * config.repeat
    per_sample = BYTES_PER_SAMPLE + BYTES_PER_EARLIER_SAMPLE * (
        len(config.backends) - 1
    )
    return (
        PROCESS_BYTES
        + frames
        + len(capture) * ESTIMATE_BYTES_PER_CONN
        + samples * per_sample
    )


def run_replay(
    config: ReplayConfig,
    capture: Capture,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    return run_workload(ReplayWorkload(config, capture), progress, interrupted)


def _pooled_rate(
    pooled: dict[str, Any],
    extras: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """Packets/s over the pooled runs, as ReplayWorkload.run computes one
    run's: the packets of the whole repetitions over their timed executes.
    Each run's time is its packets over its rate."""
    packets = seconds = 0.0
    for extra in extras:
        per_rep, reps, pps = (extra.get(k) for k in ("packets", "repetitions", "pps"))
        if not (is_number(per_rep) and is_number(reps)):
            return {}
        if not reps:
            continue  # no whole repetition: nothing in the rate
        if not (is_number(pps) and pps > 0):
            return {}
        packets += per_rep * reps
        seconds += per_rep * reps / pps
    return {"pps": packets / seconds} if seconds else {}


# Pooled runs played the captures the sum of their --repeat times.  The
# extra figures (ReplayWorkload.run): ``packets`` is the capture's, one
# repetition's; the repetitions are summed; the first repetition's states
# and the table at the end are per run.
POOLING: Final = Pooling(
    summed_params=("repeat",),
    summed=("repetitions",),
    rates=("pps",),
    rate=_pooled_rate,
)
