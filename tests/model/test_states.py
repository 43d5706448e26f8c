"""ct_state of packet sequences, against what OVS's update functions answer."""

from __future__ import annotations

from collections import deque

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.model import BULK_MIN_FRAMES, Conntrack, Limits
from ctbench.model.bulk import CHUNK_FRAMES
from ctbench.packets import (
    TCP_ACK,
    TCP_FIN,
    TCP_SYN,
    CtState,
    Endpoints,
    icmp_echo_frame,
    tcp_frame,
    udp_frame,
)

NEW = int(CtState.NEW | CtState.TRACKED)
EST = int(CtState.ESTABLISHED | CtState.TRACKED)
REPLY = int(CtState.ESTABLISHED | CtState.REPLY_DIR | CtState.TRACKED)
INVALID = int(CtState.INVALID | CtState.TRACKED)
A_B = Endpoints("10.0.0.1", "10.0.0.2")
B_A = Endpoints("10.0.0.2", "10.0.0.1")


def model() -> Conntrack:
    return Conntrack(create_table(BackendSpec("per-zone")), Limits(0))


def test_udp_stays_new_until_a_reply_is_seen() -> None:
    # other_conn_update() answers CT_UPDATE_VALID_NEW until the connection
    # is BIDIR: ovstest's pcap command prints new|trk for every packet of a
    # one-way flow (checked against ovstest at OVS 139b564db).
    ct = model()
    out = ct.execute([udp_frame(1, 2, A_B)] * 3, 0, True, 0)
    assert out == [NEW, NEW, NEW]
    assert ct.dump()[0].state == "multiple"
    out = ct.execute([udp_frame(2, 1, B_A), udp_frame(1, 2, A_B)], 0, True, 0)
    assert out == [REPLY, EST]


def test_udp_reply_is_established_reply_and_bidirectional() -> None:
    ct = model()
    out = ct.execute([udp_frame(1, 2, A_B), udp_frame(2, 1, B_A)], 0, True, 0)
    assert out == [NEW, REPLY]
    entry = ct.dump()[0]
    assert entry.state == "bidir"
    assert entry.expiration == 30_000  # UDP multiple (bidirectional): 30 s


def test_udp_without_commit_is_new_and_creates_nothing() -> None:
    ct = model()
    assert ct.execute([udp_frame(1, 2, A_B)] * 2, 0, False, 0) == [NEW, NEW]
    assert ct.n_conns == 0


def test_icmp_echo_request_then_reply() -> None:
    ct = model()
    out = ct.execute(
        [icmp_echo_frame(7, False, A_B), icmp_echo_frame(7, True, B_A)], 0, True, 0
    )
    assert out == [NEW, REPLY]
    # an echo reply may not open a connection
    assert ct.execute([icmp_echo_frame(8, True, B_A)], 0, True, 0) == [INVALID]


def test_tcp_handshake_and_close() -> None:
    ct = model()
    packets = [
        tcp_frame(10, 80, TCP_SYN, A_B),
        tcp_frame(80, 10, TCP_SYN | TCP_ACK, B_A),
        tcp_frame(10, 80, TCP_ACK, A_B),
        tcp_frame(10, 80, TCP_FIN | TCP_ACK, A_B),
        tcp_frame(80, 10, TCP_FIN | TCP_ACK, B_A),
    ]
    out = ct.execute(packets, 0, True, 0)
    assert out == [NEW, REPLY, EST, EST, REPLY]
    assert ct.dump()[0].state == "time-wait"


@pytest.mark.parametrize("flags", [TCP_SYN | TCP_ACK, 0, TCP_FIN])
def test_tcp_packets_that_cannot_open_a_connection(flags: int) -> None:
    assert model().execute([tcp_frame(10, 80, flags, A_B)], 0, True, 0) == [INVALID]


def test_a_truncated_frame_is_invalid_and_tracked() -> None:
    assert model().execute([udp_frame(1, 2)[:30]], 0, True, 0) == [INVALID]


def test_a_long_run_of_frames_tracks_like_one_frame_at_a_time() -> None:
    # Enough frames of one length for the numpy parse: the states must be
    # those of the per-frame path, frame by frame, replies and all.
    udp = [udp_frame(1, p, A_B) for p in range(1, 100)]
    replies = [udp_frame(p, 1, B_A) for p in range(1, 100, 3)]
    tcp = [tcp_frame(5, 6, TCP_SYN, A_B), tcp_frame(6, 5, TCP_SYN | TCP_ACK, B_A)]
    others = [icmp_echo_frame(7, ends=A_B), *tcp, b"\0" * 54]
    # Padded to the TCP frame's 54 bytes, as Ethernet padding would.
    frames = [f.ljust(54, b"\0") for f in udp + replies + udp + others * 10]
    frames *= 2
    assert len(frames) >= BULK_MIN_FRAMES
    assert len({len(f) for f in frames}) == 1
    batched, single = model(), model()
    expected = [s for f in frames for s in single.execute([f], 4, True, 0)]
    assert batched.execute_batches([frames], 4, True, 0) == expected
    assert batched.dump() == single.dump()
    assert {NEW, EST, REPLY, INVALID} <= set(expected)


def test_any_sequence_of_frames_longer_than_a_parse_chunk() -> None:
    frames = deque(udp_frame(1, 1 + i % 60000, A_B) for i in range(CHUNK_FRAMES + 10))
    out = model().execute(frames, 0, True, 0)
    assert out == [NEW] * len(frames)
