import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctbench.packets import (
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    OVSTEST_FRAME_LEN,
    OVSTEST_PAYLOAD,
    TCP_ACK,
    TCP_SYN,
    VECTOR_MIN_FRAMES,
    Endpoints,
    _udp4_keys_each,
    icmp_echo_frame,
    ovstest_frame,
    parse_frame,
    reverse_key,
    tcp_frame,
    udp4_keys,
    udp_frame,
    zone_benchmark_ports,
)

ports = st.integers(min_value=0, max_value=0xFFFF)
zones = st.integers(min_value=0, max_value=0xFFFF)
v4 = st.ip_addresses(v=4).map(str)
v6 = st.ip_addresses(v=6).map(str)
endpoints = st.one_of(
    st.builds(Endpoints, v4, v4),
    st.builds(Endpoints, v6, v6),
)


def _dl_type(ends: Endpoints) -> int:
    v6 = ipaddress.ip_address(ends.src).version == 6
    return ETH_TYPE_IPV6 if v6 else ETH_TYPE_IP


def test_ovstest_frame_is_ovstests_payload() -> None:
    assert len(OVSTEST_PAYLOAD) == OVSTEST_FRAME_LEN == 42
    assert ovstest_frame(1, 2) == OVSTEST_PAYLOAD
    parsed = parse_frame(OVSTEST_PAYLOAD, 7)
    assert parsed is not None
    assert parsed.key == (0x0A010101, 0x0A010102, 1, 2, ETH_TYPE_IP, 7, IPPROTO_UDP)


@pytest.mark.parametrize(
    ("i", "expected"),
    [(0, (65535, 65535)), (1, (65535, 1)), (65536, (1, 65535)), (65537, (1, 1))],
)
def test_zone_benchmark_ports_replace_zero_with_65535(
    i: int, expected: tuple[int, int]
) -> None:
    assert zone_benchmark_ports(i) == expected


@given(ports, ports, endpoints, zones)
def test_udp_round_trip(sport: int, dport: int, ends: Endpoints, zone: int) -> None:
    parsed = parse_frame(udp_frame(sport, dport, ends), zone)
    assert parsed is not None
    src = int(ipaddress.ip_address(ends.src))
    dst = int(ipaddress.ip_address(ends.dst))
    assert parsed.key == (src, dst, sport, dport, _dl_type(ends), zone, IPPROTO_UDP)
    assert parsed.tcp_flags == 0


@given(ports, ports, st.integers(0, 0xFF), endpoints)
def test_tcp_round_trip_keeps_flags(
    sport: int, dport: int, flags: int, ends: Endpoints
) -> None:
    parsed = parse_frame(tcp_frame(sport, dport, flags, ends), 3)
    assert parsed is not None
    assert parsed.key[2:4] == (sport, dport)
    assert parsed.key[6] == IPPROTO_TCP
    assert parsed.tcp_flags == flags


@given(st.integers(0, 0xFFFF), endpoints)
def test_icmp_echo_reply_key_is_reverse_of_request(ident: int, ends: Endpoints) -> None:
    request = parse_frame(icmp_echo_frame(ident, False, ends), 0)
    swapped = Endpoints(ends.dst, ends.src)
    reply = parse_frame(icmp_echo_frame(ident, True, swapped), 0)
    assert request is not None and reply is not None
    assert reverse_key(request.key) == reply.key
    assert request.key[6] in (IPPROTO_ICMP, IPPROTO_ICMPV6)


def test_icmp_key_carries_type_and_id() -> None:
    parsed = parse_frame(icmp_echo_frame(0x1234), 0)
    assert parsed is not None
    assert parsed.key[2] == (ICMP_ECHO_REQUEST << 24) | 0x1234
    assert parsed.key[3] == (ICMP_ECHO_REPLY << 24) | 0x1234


@given(
    st.sampled_from(
        [
            udp_frame(1, 2),
            udp_frame(1, 2, Endpoints("::1", "::2")),
            tcp_frame(1, 2, TCP_SYN | TCP_ACK),
            tcp_frame(1, 2, TCP_SYN, Endpoints("fe80::1", "fe80::2")),
            icmp_echo_frame(5),
            icmp_echo_frame(5, ends=Endpoints("::1", "::2")),
        ]
    ),
    st.data(),
)
def test_truncated_frames_are_invalid(frame: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(frame) - 1))
    assert parse_frame(frame[:cut], 0) is None


@given(st.binary(max_size=120), zones)
def test_arbitrary_bytes_never_raise(frame: bytes, zone: int) -> None:
    parse_frame(frame, zone)


def _with(frame: bytes, offset: int, value: int) -> bytes:
    return frame[:offset] + bytes([value]) + frame[offset + 1 :]


@pytest.mark.parametrize(
    ("offset", "value", "why"),
    [
        (12, 0x88, "unknown EtherType"),
        (14, 0x65, "IP version 6 in an IPv4 frame"),
        (14, 0x44, "IHL below 5"),
        (14, 0x4F, "IHL beyond the frame"),
        (17, 0xFF, "total length beyond the frame"),
        (20, 0x20, "IPv4 fragment (MF set)"),
        (23, 47, "GRE, not tracked"),
    ],
)
def test_malformed_ipv4_is_invalid(offset: int, value: int, why: str) -> None:
    assert parse_frame(_with(OVSTEST_PAYLOAD, offset, value), 0) is None, why


def test_icmp_error_is_invalid() -> None:
    frame = icmp_echo_frame(1)
    assert parse_frame(_with(frame, 34, 3), 0) is None  # destination unreachable


def test_tcp_data_offset_below_header_is_invalid() -> None:
    frame = tcp_frame(1, 2, TCP_SYN)
    assert parse_frame(_with(frame, 14 + 20 + 12, 0x40), 0) is None


# Offsets the fast path checks: EtherType, version/IHL, total length,
# fragment field, protocol; then addresses and ports.
_FAST_PATH_OFFSETS = [12, 13, 14, 16, 17, 20, 21, 23, 26, 29, 33, 35, 37]
# Values on both sides of every check's boundary.
_EDGE_BYTES = [0x00, 0x01, 0x06, 0x08, 0x11, 0x14, 0x1B, 0x1C, 0x1F, 0x20, 0x3F, 0x40]
_EDGE_BYTES += [0x45, 0x46, 0x80, 0x86, 0xDD, 0xFF]


def _check_udp4_keys(frames: list[bytes], zone: int) -> None:
    keys = udp4_keys(frames, zone)
    assert keys == _udp4_keys_each(frames, zone)
    for frame, key in zip(frames, keys, strict=True):
        parsed = parse_frame(frame, zone)
        if key is not None:
            assert parsed is not None and parsed.key == key
        elif parsed is not None:
            # Only IPv4 with options may be UDP and still miss the fast path.
            assert parsed.key[6] != IPPROTO_UDP or frame[14] != 0x45


@pytest.mark.parametrize("pad", [0, 6])
def test_udp4_keys_numpy_path_matches_each_single_byte_change(pad: int) -> None:
    frames = [
        _with(OVSTEST_PAYLOAD + bytes(pad), offset, value)
        for offset in _FAST_PATH_OFFSETS
        for value in _EDGE_BYTES
    ] * 2
    assert len(frames) >= VECTOR_MIN_FRAMES
    _check_udp4_keys(frames, 9)


@st.composite
def same_length_frames(draw: st.DrawFn) -> list[bytes]:
    """Enough frames of one length for the numpy path: UDP, TCP and ICMP
    frames with up to three checked bytes changed."""
    pad = draw(st.integers(0, 20))
    base = [
        OVSTEST_PAYLOAD + bytes(pad),
        tcp_frame(1, 2, TCP_SYN)[:42] + bytes(pad),
        icmp_echo_frame(5)[:42] + bytes(pad),
    ]
    variants = []
    for _ in range(draw(st.integers(1, 12))):
        frame = draw(st.sampled_from(base))
        for offset in draw(st.lists(st.sampled_from(_FAST_PATH_OFFSETS), max_size=3)):
            value = draw(st.one_of(st.sampled_from(_EDGE_BYTES), st.integers(0, 0xFF)))
            frame = _with(frame, offset, value)
        variants.append(frame)
    n = draw(st.integers(VECTOR_MIN_FRAMES, VECTOR_MIN_FRAMES + 50))
    return [variants[i % len(variants)] for i in range(n)]


@given(same_length_frames(), zones)
def test_udp4_keys_numpy_path_matches_per_frame_path(
    frames: list[bytes], zone: int
) -> None:
    _check_udp4_keys(frames, zone)


def test_udp4_keys_fall_back_per_frame_for_mixed_lengths() -> None:
    frames = [ovstest_frame(1, i + 1) for i in range(VECTOR_MIN_FRAMES)]
    frames.append(OVSTEST_PAYLOAD + b"\0")  # one longer frame
    frames.append(OVSTEST_PAYLOAD[:41])  # one truncated frame
    keys = udp4_keys(frames, 3)
    assert keys[:-1] == [parse_frame(f, 3).key for f in frames[:-1]]  # type: ignore[union-attr]
    assert keys[-1] is None
