"""ctbench.capture.packet_states: pcap's core, a capture file to records."""

from __future__ import annotations

from ctbench.backends import BackendSpec
from ctbench.capture.packet_states import states_of_file, track_file
from ctbench.capture.track import TrackConfig
from ctbench.packets import CtState, ct_state_flags
from tests.helpers.paths import CAPTURES

MIXED = CAPTURES / "mixed.pcap"
SPEC = BackendSpec("per-zone")


def test_records_come_batch_by_batch_numbered_as_ovstest_numbers_them() -> None:
    config = TrackConfig(batch_size=32)
    tracked = track_file(MIXED, config, SPEC, detail=False)
    batches = list(tracked.batches)
    numbers = [r.number for batch in batches for r in batch]
    assert numbers == list(range(1, len(tracked.capture) + 1))
    assert all(1 <= len(batch) <= 32 for batch in batches)
    # Without detail, nothing beyond what ovstest's lines show is worked out.
    assert all(r.parsed == "" and r.reason is None for b in batches for r in b)


def test_the_records_hold_the_states_of_one_pass_and_why_a_packet_is_invalid() -> None:
    config = TrackConfig(batch_size=1)
    capture, states = states_of_file(MIXED, config, SPEC)
    tracked = track_file(MIXED, config, SPEC, detail=True)
    records = [r for batch in tracked.batches for r in batch]
    assert [r.state for r in records] == list(states)
    assert [r.timestamp_ns for r in records] == list(capture.ts_ns)
    invalid = [r for r in records if r.state & CtState.INVALID]
    assert invalid, "mixed.pcap has invalid packets"
    assert all(r.reason for r in invalid)
    assert all(r.reason is None for r in records if r not in invalid)
    # The first packets are the text lines ovstest prints for mixed.pcap.
    assert ct_state_flags(records[0].state) == "inv|trk"
