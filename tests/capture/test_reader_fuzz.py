"""Mutated real captures: a one-line error or tracked packets, nothing else.

A bounded run here; bench/fuzz/fuzz_captures.py runs longer, and against ovstest
when given one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import CaptureError, read_capture
from ctbench.capture.track import TrackConfig, track
from ctbench.model import Conntrack
from tests.helpers.paths import CAPTURES

SEEDS = [
    (CAPTURES / name).read_bytes()
    for name in ("mixed.pcap", "mixed.pcapng", "mixed.sll2.pcap", "edge.pcap")
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["byte", "word", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "word":
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 65536]))
            data[at : at + 4] = value.to_bytes(4, "little")
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated(), st.sampled_from([1, 32]))
def test_mutated_captures_fail_cleanly_or_track(data: bytes, batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.pcap"
        path.write_bytes(data)
        try:
            capture = read_capture(path)
        except CaptureError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(str(path))
            return
    # Nothing read beyond the file: the frames fit in it.
    assert sum(map(len, capture.frames)) <= len(data)
    model = Conntrack(create_table(BackendSpec("per-zone")))
    states = track(capture, TrackConfig(batch_size=batch, clock="frozen"), model)
    assert len(states) == len(capture)
    # Every packet is tracked: +trk, and never both new and invalid.
    assert all(s & 0x20 and not (s & 0x01 and s & 0x10) for s in states)
