"""conn_key_extract()'s checks, per frame and in bulk, and the keys they give."""

import ipaddress
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctbench.keys import ConnKey, KeyFields, key_fields, reverse_key, zone_suffix
from ctbench.packets import (
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    OVSTEST_PAYLOAD,
    TCP_ACK,
    TCP_SYN,
    Endpoints,
    icmp_echo_frame,
    ones_complement_residue,
    tcp_frame,
    udp_frame,
)
from ctbench.parse import (
    BAD_L4_CHECKSUM,
    FRAGMENT,
    PORT_ZERO,
    TRUNCATED,
    extract_key,
    parse_frame,
    udp4_bulk,
    udp4_fast_key,
)
from tests.helpers.checksums import pseudo_header_of, word_sum

# Enough frames of one length for any bulk test.
VECTOR_MIN_FRAMES = 128


def udp4_keys(frames: Sequence[bytes], zone: int) -> list[ConnKey | None]:
    """The numpy parse's keys, None where a frame is off its fast path."""
    fast, rows = udp4_bulk(frames, zone)
    return [bytes(row) if ok else None for ok, row in zip(fast, rows, strict=True)]


def _udp4_keys_each(frames: Sequence[bytes], zone: int) -> list[ConnKey | None]:
    """The per-frame fast path's keys."""
    suffix = zone_suffix(zone, IPPROTO_UDP)
    return [udp4_fast_key(frame, suffix) for frame in frames]


# Port 0 is invalid in OVS (extract_l4_udp/tcp), hence 1 and up.
ports = st.integers(min_value=1, max_value=0xFFFF)
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


def test_ovstest_frame_parses_to_its_key() -> None:
    parsed = parse_frame(OVSTEST_PAYLOAD, 7)
    assert parsed is not None
    assert key_fields(parsed.key) == KeyFields(
        0x0A010101, 0x0A010102, 1, 2, ETH_TYPE_IP, 7, IPPROTO_UDP
    )
    assert parsed.key == OVSTEST_PAYLOAD[26:38] + zone_suffix(7, IPPROTO_UDP)


@given(ports, ports, endpoints, zones)
def test_udp_round_trip(sport: int, dport: int, ends: Endpoints, zone: int) -> None:
    parsed = parse_frame(udp_frame(sport, dport, ends), zone)
    assert parsed is not None
    src = int(ipaddress.ip_address(ends.src))
    dst = int(ipaddress.ip_address(ends.dst))
    want = KeyFields(src, dst, sport, dport, _dl_type(ends), zone, IPPROTO_UDP)
    assert key_fields(parsed.key) == want
    assert parsed.tcp_flags == 0 and parsed.proto == IPPROTO_UDP


@given(ports, ports, st.integers(0, 0xFF), endpoints)
def test_tcp_round_trip_keeps_flags(
    sport: int, dport: int, flags: int, ends: Endpoints
) -> None:
    parsed = parse_frame(tcp_frame(sport, dport, flags, ends), 3)
    assert parsed is not None
    fields = key_fields(parsed.key)
    assert (fields.src_port, fields.dst_port) == (sport, dport)
    assert fields.proto == parsed.proto == IPPROTO_TCP
    assert parsed.tcp_flags == flags


@given(st.integers(0, 0xFFFF), endpoints)
def test_icmp_echo_reply_key_is_reverse_of_request(ident: int, ends: Endpoints) -> None:
    request = parse_frame(icmp_echo_frame(ident, False, ends), 0)
    swapped = Endpoints(ends.dst, ends.src)
    reply = parse_frame(icmp_echo_frame(ident, True, swapped), 0)
    assert request is not None and reply is not None
    assert reverse_key(request.key) == reply.key
    assert key_fields(request.key).proto in (IPPROTO_ICMP, IPPROTO_ICMPV6)


def test_icmp_key_carries_type_and_id() -> None:
    parsed = parse_frame(icmp_echo_frame(0x1234), 0)
    assert parsed is not None
    fields = key_fields(parsed.key)
    assert fields.src_port == (ICMP_ECHO_REQUEST << 24) | 0x1234
    assert fields.dst_port == (ICMP_ECHO_REPLY << 24) | 0x1234


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


def _fix_ipv4_checksum(frame: bytes) -> bytes:
    """Recompute the IPv4 header checksum, so that a test isolates the
    field it changed."""
    header = frame[14:24] + b"\0\0" + frame[26:34]
    residue = sum(ones_complement_residue(header[i : i + 2]) for i in range(0, 20, 2))
    csum = 0xFFFF - residue % 0xFFFF if residue % 0xFFFF else 0
    return frame[:24] + csum.to_bytes(2, "big") + frame[26:]


def _with_v4(frame: bytes, offset: int, value: int) -> bytes:
    return _fix_ipv4_checksum(_with(frame, offset, value))


@pytest.mark.parametrize(
    ("offset", "value", "why"),
    [
        (12, 0x88, "unknown EtherType"),
        (14, 0x44, "IHL below 5"),
        (14, 0x4F, "IHL beyond the frame"),
        (17, 0xFF, "total length beyond the frame"),
        (20, 0x20, "IPv4 fragment (MF set)"),
    ],
)
def test_malformed_ipv4_is_invalid(offset: int, value: int, why: str) -> None:
    assert parse_frame(_with_v4(OVSTEST_PAYLOAD, offset, value), 0) is None, why


def test_icmp_error_is_invalid() -> None:
    frame = icmp_echo_frame(1)
    assert parse_frame(_with(frame, 34, 3), 0) is None  # destination unreachable


def test_tcp_data_offset_below_header_is_invalid() -> None:
    frame = tcp_frame(1, 2, TCP_SYN)
    assert parse_frame(_with(frame, 14 + 20 + 12, 0x40), 0) is None


# Offsets the fast path checks: EtherType, version/IHL, total length,
# fragment field, protocol; then addresses and ports (and, in the single-byte
# test, the UDP length and checksum).
_FAST_PATH_OFFSETS = [12, 13, 14, 16, 17, 20, 21, 23, 26, 29, 33, 34, 35, 36, 37]
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
            # A valid UDP frame misses the fast path only with IPv4 options
            # or a UDP checksum, which parse_frame() then verifies.
            udp = parsed.proto == IPPROTO_UDP
            assert not udp or frame[14] != 0x45 or frame[40:42] != b"\0\0"


@pytest.mark.parametrize("pad", [0, 6])
def test_udp4_keys_numpy_path_matches_each_single_byte_change(pad: int) -> None:
    frames = [
        change(OVSTEST_PAYLOAD + bytes(pad), offset, value)
        for offset in _FAST_PATH_OFFSETS + [38, 39, 40, 41]
        for value in _EDGE_BYTES
        for change in (_with, _with_v4)
    ]
    assert len(frames) >= VECTOR_MIN_FRAMES
    _check_udp4_keys(frames, 9)


@st.composite
def same_length_variants(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Up to 12 frames of one length (UDP, TCP and ICMP, up to three checked
    bytes changed, the IPv4 checksum fixed or not) and how many frames to
    cycle them to: enough for the numpy path."""
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
        if draw(st.booleans()):
            frame = _fix_ipv4_checksum(frame)
        variants.append(frame)
    return variants, draw(st.integers(VECTOR_MIN_FRAMES, VECTOR_MIN_FRAMES + 50))


@given(same_length_variants(), zones)
def test_udp4_keys_numpy_path_matches_per_frame_path(
    variants: tuple[list[bytes], int], zone: int
) -> None:
    frames, n = variants
    _check_udp4_keys([frames[i % len(frames)] for i in range(n)], zone)


def test_checksum_fix_helper_keeps_a_valid_frame_valid() -> None:
    assert _fix_ipv4_checksum(OVSTEST_PAYLOAD) == OVSTEST_PAYLOAD
    assert parse_frame(_with_v4(OVSTEST_PAYLOAD, 22, 7), 0) is not None  # TTL


@pytest.mark.parametrize("side", [34, 36])
@pytest.mark.parametrize("builder", ["udp", "tcp"])
def test_port_zero_is_invalid(side: int, builder: str) -> None:
    # extract_l4_udp() / extract_l4_tcp(): "Port 0 is invalid", which is why
    # ovstest maps port 0 to 65535.
    sport, dport = (0, 2) if side == 34 else (1, 0)
    if builder == "udp":
        frame = udp_frame(sport, dport)
    else:
        frame = tcp_frame(sport, dport, TCP_SYN)
    assert parse_frame(frame, 0) is None
    assert udp4_keys([frame] * VECTOR_MIN_FRAMES, 0) == [None] * VECTOR_MIN_FRAMES


def test_ipv4_header_checksum_is_not_checked_as_in_ovs() -> None:
    # miniflow_extract() marks every IPv4 packet as offloaded IPv4, so
    # conn_key_extract() skips the header checksum; ovstest tracks this
    # frame (checked at OVS c176635f5 and 139b564db).
    bad = _with(OVSTEST_PAYLOAD, 25, 0xCE)  # 0xa4cd -> 0xa4ce
    good = parse_frame(OVSTEST_PAYLOAD, 0)
    assert good is not None and parse_frame(bad, 0) == good
    assert udp4_keys([bad], 0) == [good.key]
    assert udp4_keys([bad] * VECTOR_MIN_FRAMES, 0) == [good.key] * VECTOR_MIN_FRAMES


@pytest.mark.parametrize(
    ("ends", "valid"),
    [(Endpoints(), True), (Endpoints("::1", "::2"), False)],
    ids=["ipv4", "ipv6"],
)
def test_zero_udp_checksum_means_none_over_ipv4_only(
    ends: Endpoints, valid: bool
) -> None:
    frame = udp_frame(1, 2, ends)
    no_csum = frame[:-2] + b"\0\0"
    assert (parse_frame(no_csum, 0) is not None) is valid


@pytest.mark.parametrize(
    "frame",
    [
        udp_frame(1, 2, Endpoints("::1", "::2")),
        tcp_frame(1, 2, TCP_SYN),
        tcp_frame(1, 2, TCP_SYN, Endpoints("::1", "::2")),
        icmp_echo_frame(5),
        icmp_echo_frame(5, ends=Endpoints("::1", "::2")),
    ],
    ids=["udp6", "tcp4", "tcp6", "icmp4", "icmp6"],
)
def test_a_wrong_l4_checksum_is_invalid(frame: bytes) -> None:
    assert parse_frame(frame, 0) is not None
    flipped = frame[:-1] + bytes([frame[-1] ^ 0x01])
    assert parse_frame(flipped, 0) is None


def test_a_wrong_nonzero_udp_checksum_over_ipv4_is_invalid() -> None:
    frame = OVSTEST_PAYLOAD[:40] + b"\x12\x34"
    assert parse_frame(frame, 0) is None
    assert udp4_keys([frame] * VECTOR_MIN_FRAMES, 0) == [None] * VECTOR_MIN_FRAMES


@pytest.mark.parametrize("udp_len", [7, 9])
def test_udp_length_outside_the_packet_is_invalid(udp_len: int) -> None:
    # check_l4_udp(): 8 <= length <= the L4 size.
    frame = OVSTEST_PAYLOAD[:38] + udp_len.to_bytes(2, "big") + b"\0\0"
    assert parse_frame(frame, 0) is None
    assert udp4_keys([frame] * VECTOR_MIN_FRAMES, 0) == [None] * VECTOR_MIN_FRAMES


def test_icmp_echo_with_a_nonzero_code_is_invalid() -> None:
    frame = icmp_echo_frame(5)
    # Code 1 and a checksum one lower keep the sum valid.
    csum = int.from_bytes(frame[36:38], "big") - 1
    coded = frame[:35] + b"\x01" + csum.to_bytes(2, "big") + frame[38:]
    assert parse_frame(coded[:35] + b"\0" + frame[36:], 0) is not None
    assert parse_frame(coded, 0) is None


def test_icmp_over_ipv6_is_another_protocol_without_ports() -> None:
    # extract_l4() reads ICMP only over IPv4 and ICMPv6 only over IPv6;
    # anything else is tracked with zero ports, as every other protocol.
    frame = icmp_echo_frame(5, ends=Endpoints("::1", "::2"))
    parsed = parse_frame(_with(frame, 20, IPPROTO_ICMP), 0)
    assert parsed is not None and parsed.proto == IPPROTO_ICMP
    assert key_fields(parsed.key)[2:4] == (0, 0)


@pytest.mark.parametrize(
    ("offset", "value", "why"),
    [
        # Neither ipv4_sanity_check() nor extract_l3_ipv4() reads the
        # version; ovstest tracks such a frame (checked at OVS 139b564db).
        (14, 0x65, "IP version 6 in an IPv4 frame"),
        # GRE: conntrack-other, with zero ports.
        (23, 47, "GRE"),
    ],
)
def test_ipv4_frames_ovs_tracks_though_odd(offset: int, value: int, why: str) -> None:
    assert parse_frame(_with_v4(OVSTEST_PAYLOAD, offset, value), 0) is not None, why


def test_a_valid_nonzero_udp_checksum_over_ipv4_is_accepted_off_the_fast_path() -> None:
    udp = OVSTEST_PAYLOAD[34:40]
    csum = 0xFFFF - word_sum(pseudo_header_of(OVSTEST_PAYLOAD) + udp + b"\0\0")
    frame = OVSTEST_PAYLOAD[:40] + csum.to_bytes(2, "big")
    parsed = parse_frame(frame, 4)
    assert parsed is not None
    assert parsed.key == parse_frame(OVSTEST_PAYLOAD, 4).key  # type: ignore[union-attr]
    assert udp4_keys([frame], 4) == [None]
    assert udp4_keys([frame] * VECTOR_MIN_FRAMES, 4) == [None] * VECTOR_MIN_FRAMES


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (OVSTEST_PAYLOAD[:30], TRUNCATED),
        (OVSTEST_PAYLOAD[:40] + b"\x12\x34", BAD_L4_CHECKSUM),
        (udp_frame(0, 2), PORT_ZERO),
    ],
    ids=["truncated", "udp-checksum", "port-0"],
)
def test_explain_frame_says_why_a_frame_is_invalid(frame: bytes, reason: str) -> None:
    assert extract_key(frame, 0) == reason
    assert parse_frame(frame, 0) is None


def test_a_fragment_is_explained() -> None:
    frame = _with_v4(OVSTEST_PAYLOAD, 20, 0x20)  # MF set
    assert extract_key(frame, 0) == FRAGMENT
