"""The frames ctbench builds: ovstest's, and well-formed UDP, TCP and ICMP."""

import pytest

from ctbench.packets import (
    OVSTEST_FRAME_LEN,
    OVSTEST_PAYLOAD,
    TCP_SYN,
    Endpoints,
    icmp_echo_frame,
    ovstest_frame,
    tcp_frame,
    udp_frame,
    zone_benchmark_ports,
)
from ctbench.parse import parse_frame
from tests.helpers.checksums import pseudo_header_of, word_sum


def test_ovstest_frame_is_ovstests_payload() -> None:
    assert len(OVSTEST_PAYLOAD) == OVSTEST_FRAME_LEN == 42
    assert ovstest_frame(1, 2) == OVSTEST_PAYLOAD
    assert ovstest_frame(7, 9)[34:38] == bytes([0, 7, 0, 9])


@pytest.mark.parametrize(
    ("i", "expected"),
    [(0, (65535, 65535)), (1, (65535, 1)), (65536, (1, 65535)), (65537, (1, 1))],
)
def test_zone_benchmark_ports_replace_zero_with_65535(
    i: int, expected: tuple[int, int]
) -> None:
    assert zone_benchmark_ports(i) == expected


@pytest.mark.parametrize(
    ("frame", "l4_at", "pseudo"),
    [
        (tcp_frame(1234, 80, TCP_SYN), 34, True),
        (tcp_frame(1234, 80, TCP_SYN, Endpoints("fe80::1", "fe80::2")), 54, True),
        (udp_frame(5, 6, Endpoints("::1", "::2")), 54, True),
        (icmp_echo_frame(9), 34, False),
        (icmp_echo_frame(9, ends=Endpoints("::1", "::2")), 54, True),
    ],
    ids=["tcp4", "tcp6", "udp6", "icmp4", "icmp6"],
)
def test_builders_checksums_verify_independently(
    frame: bytes, l4_at: int, pseudo: bool
) -> None:
    l4 = frame[l4_at:]
    assert word_sum((pseudo_header_of(frame) if pseudo else b"") + l4) == 0xFFFF
    if l4_at == 34:
        assert word_sum(frame[14:34]) == 0xFFFF  # the IPv4 header


def test_a_computed_zero_udp_checksum_is_sent_as_all_ones() -> None:
    # RFC 768; over IPv6 a 0 field would otherwise look like "no checksum".
    # These ports make the checksum compute to 0.
    frame = udp_frame(1, 65498, Endpoints("::1", "::2"))
    assert frame[-2:] == b"\xff\xff"
    assert parse_frame(frame, 0) is not None
