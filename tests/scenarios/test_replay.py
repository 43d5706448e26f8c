"""The capture core: batches, zones, clocks, and the replay workload."""

from __future__ import annotations

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import Capture, read_capture
from ctbench.capture.track import TrackConfig, connection_zone, plan_batches, track
from ctbench.estimate import (
    BOUND_REPLAY_PACKET_S,
    FIXED_S,
    REPORT_S_PER_SAMPLE,
    estimate_replay,
)
from ctbench.keys import reverse_key
from ctbench.model import Conntrack
from ctbench.packets import CtState, Endpoints, udp_frame
from ctbench.parse import extract_key
from ctbench.render import render
from ctbench.scenarios.harness import Turn
from ctbench.scenarios.replay import (
    BYTES_PER_EARLIER_SAMPLE,
    BYTES_PER_SAMPLE,
    ReplayConfig,
    estimated_bytes,
    run_replay,
)
from tests.helpers.paths import CAPTURES

NEW = int(CtState.NEW | CtState.TRACKED)
EST_REPLY = int(CtState.ESTABLISHED | CtState.REPLY_DIR | CtState.TRACKED)


def synthetic(times_s: list[float], reply: list[bool]) -> Capture:
    """A UDP flow's packets at the given times (seconds), each forward or
    reply."""
    capture = Capture("synthetic", "pcap", ("Ethernet",))
    ends = Endpoints("10.0.0.1", "10.0.0.2")
    back = Endpoints("10.0.0.2", "10.0.0.1")
    for t, is_reply in zip(times_s, reply, strict=True):
        frame = udp_frame(2, 1, back) if is_reply else udp_frame(1, 2, ends)
        capture.frames.append(frame)
        capture.ts_ns.append(int(t * 1e9))
    return capture


def states(capture: Capture, clock: str, batch: int = 1) -> list[int]:
    model = Conntrack(create_table(BackendSpec("per-zone")))
    config = TrackConfig(batch_size=batch, clock=clock)
    return list(track(capture, config, model, clock=lambda: 0))


def test_the_capture_clock_expires_connections_as_a_datapath_would() -> None:
    # A request, its reply 1 s later, then the reply again 61 s after that:
    # a bidirectional UDP connection lives 30 s, so the last reply finds
    # nothing and starts a connection of its own.
    capture = synthetic([0, 1, 62], [False, True, True])
    assert states(capture, "capture") == [NEW, EST_REPLY, NEW]
    # Frozen (or ovstest's wall clock on a capture played in a second):
    # nothing expires.
    assert states(capture, "frozen") == [NEW, EST_REPLY, EST_REPLY]
    assert states(capture, "wall") == [NEW, EST_REPLY, EST_REPLY]


def test_a_batch_runs_at_its_last_packets_time_never_backwards() -> None:
    capture = synthetic([10, 5, 20, 1], [False, True, False, True])
    batches = plan_batches(capture, TrackConfig(batch_size=2))
    assert [(b.start, b.end, b.now) for b in batches] == [
        (0, 2, 10_000),
        (2, 4, 20_000),
    ]


def test_short_captures_read_alike_under_every_clock() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    assert capture.duration_ns < 30e9
    outputs = {clock: states(capture, clock) for clock in ("capture", "wall", "frozen")}
    assert outputs["capture"] == outputs["wall"] == outputs["frozen"]


def test_batches_end_where_the_l3_type_changes() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    for batch in plan_batches(capture, TrackConfig(batch_size=32)):
        types = {frame[12:14] for frame in capture.frames[batch.start : batch.end]}
        assert len(types) == 1


def test_zones_keep_both_directions_of_a_connection_together() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    config = TrackConfig(zone=100, zones=8)
    used = set()
    for frame in capture.frames:
        parsed = extract_key(frame, 0)
        zone = connection_zone(parsed, config)
        assert 100 <= zone < 108
        used.add(zone)
        if not isinstance(parsed, str):
            swapped = parsed._replace(key=reverse_key(parsed.key))
            assert connection_zone(swapped, config) == zone
    assert len(used) > 1


def test_an_interrupted_replay_keeps_whole_and_partial_work() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    config = ReplayConfig(
        files=("mixed.pcap",), repeat=1000, backends=(BackendSpec("per-zone"),)
    )
    calls = {"n": 0}

    def stop_soon() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    run = run_replay(config, capture, interrupted=stop_soon)
    result = run.results[0]
    assert not run.complete and result.status == "interrupted"
    reps = result.extra["repetitions"]
    assert 0 < reps < 1000
    assert len(result.phases["execute_batch"].samples) >= reps * run.params["batches"]
    assert result.extra["pps"] > 0


def test_turn_is_what_the_frame_hands_the_workload() -> None:
    # The replay workload is a scenario-frame workload like the others.
    assert "progress" in Turn.__dataclass_fields__


def test_counts_of_one_read_in_the_singular() -> None:
    """One flow of three packets in one batch, played once: "1 batch",
    "1 repetition", "1 connection", never "1 batches"."""
    capture = synthetic([0.0, 0.1, 0.2], [False, True, False])
    config = ReplayConfig(
        files=("synthetic",),
        track=TrackConfig(batch_size=32),
        backends=(BackendSpec("per-zone"),),
    )
    text = render(run_replay(config, capture), "patch")
    assert "capture: 3 packets in 1 batch of up to 32" in text
    assert "work over 1 repetition: 3 packets, 1 connection created" in text
    for wrong in ("1 batches", "1 repetitions", "1 connections"):
        assert wrong not in text


# -- estimates: every repetition's samples and time ---------------------------


def _config(repeat: int, backends: int = 1, batch: int = 1) -> ReplayConfig:
    return ReplayConfig(
        files=("mixed.pcap",),
        track=TrackConfig(batch_size=batch),
        repeat=repeat,
        backends=(BackendSpec("single"),) * backends,
    )


def test_memory_counts_a_sample_per_batch_and_repetition() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    batches = len(plan_batches(capture, TrackConfig(batch_size=1)))
    one, more = (estimated_bytes(_config(r), capture) for r in (1000, 3000))
    assert more - one == 2000 * batches * BYTES_PER_SAMPLE
    two = estimated_bytes(_config(1000, backends=2), capture)
    assert two - one == 1000 * batches * BYTES_PER_EARLIER_SAMPLE
    # A billion repetitions of 52 packets: terabytes of samples.
    assert estimated_bytes(_config(10**9), capture) > 10**12


def test_the_bound_counts_every_packet_and_sample() -> None:
    capture = read_capture(CAPTURES / "mixed.pcap")
    config = _config(1000, backends=2)
    samples = len(plan_batches(capture, config.track)) * 1000
    bound = estimate_replay(config, capture, calibrate_above=float("inf"))
    assert not bound.calibrated
    assert bound.seconds == pytest.approx(
        2 * (FIXED_S + samples * REPORT_S_PER_SAMPLE + 52_000 * BOUND_REPLAY_PACKET_S)
    )


def test_the_calibration_runs_whole_repetitions_flush_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench.scenarios import replay

    seen: list[tuple[int, int]] = []
    real_run = replay.ReplayWorkload.run

    def run(self: replay.ReplayWorkload, turn: Turn) -> bool:
        seen.append((self.config.repeat, len(self.capture)))
        return real_run(self, turn)

    flushes: list[int] = []
    real_flush = Conntrack.flush

    def flush(self: Conntrack, zone: int | None = None) -> object:
        flushes.append(self.n_conns)
        return real_flush(self, zone)

    monkeypatch.setattr(replay.ReplayWorkload, "run", run)
    monkeypatch.setattr(Conntrack, "flush", flush)
    capture = read_capture(CAPTURES / "mixed.pcap")
    estimate = estimate_replay(_config(10**6), capture, calibrate_above=0)
    assert estimate.calibrated and estimate.seconds > 0
    # 52 packets: 4,096 // 52 = 78 repetitions, with a flush between each.
    assert seen == [(78, 52)]
    assert len(flushes) == 77 and min(flushes) > 0
