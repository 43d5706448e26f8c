"""The frames conntrack sees: ovstest's, and well-formed UDP, TCP and ICMP ones.

ovstest builds raw Ethernet frames and conntrack extracts a key from each one
on every execute.  This module builds the same frames; :mod:`ctbench.parse`
extracts the keys (:mod:`ctbench.keys` gives their layout).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import Final

# EtherTypes and IP protocol numbers (IEEE 802 / IANA).
ETH_TYPE_IP: Final = 0x0800
ETH_TYPE_IPV6: Final = 0x86DD
IPPROTO_ICMP: Final = 1
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17
IPPROTO_ICMPV6: Final = 58

# ICMP query types (RFC 792, RFC 4443) and their reverse, as OVS's
# reverse_icmp_type() / reverse_icmp6_type() map them.
ICMP_ECHO_REQUEST: Final = 8
ICMP_ECHO_REPLY: Final = 0
ICMP_TIMESTAMP: Final = 13
ICMP_TIMESTAMP_REPLY: Final = 14
ICMP_INFO_REQUEST: Final = 15
ICMP_INFO_REPLY: Final = 16
ICMP6_ECHO_REQUEST: Final = 128
ICMP6_ECHO_REPLY: Final = 129
ICMP_REVERSE: Final = {
    ICMP_ECHO_REQUEST: ICMP_ECHO_REPLY,
    ICMP_ECHO_REPLY: ICMP_ECHO_REQUEST,
    ICMP_TIMESTAMP: ICMP_TIMESTAMP_REPLY,
    ICMP_TIMESTAMP_REPLY: ICMP_TIMESTAMP,
    ICMP_INFO_REQUEST: ICMP_INFO_REPLY,
    ICMP_INFO_REPLY: ICMP_INFO_REQUEST,
}
# The queries that may start a connection: icmp4_valid_new(),
# icmp6_valid_new() (lib/conntrack-icmp.c).
ICMP_REQUESTS: Final = frozenset((ICMP_ECHO_REQUEST, ICMP_TIMESTAMP, ICMP_INFO_REQUEST))
ICMP6_REVERSE: Final = {
    ICMP6_ECHO_REQUEST: ICMP6_ECHO_REPLY,
    ICMP6_ECHO_REPLY: ICMP6_ECHO_REQUEST,
}

# TCP flag bits (RFC 9293).
TCP_FIN: Final = 0x01
TCP_SYN: Final = 0x02
TCP_RST: Final = 0x04
TCP_PSH: Final = 0x08
TCP_ACK: Final = 0x10


class CtState(IntFlag):
    """Per-packet conntrack state bits, valued as OVS's CS_* (lib/packets.h)."""

    NEW = 0x01
    ESTABLISHED = 0x02
    RELATED = 0x04
    REPLY_DIR = 0x08
    INVALID = 0x10
    TRACKED = 0x20


# ct_state_to_string() (lib/packets.c) names, in bit order, as ovstest's pcap
# command prints them.
CT_STATE_NAMES: Final = ("new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat")


def ct_state_flags(state: int) -> str:
    """A ct_state as ovstest prints it: set bits' names joined with "|" in
    bit order, or "0"."""
    names = [name for bit, name in enumerate(CT_STATE_NAMES) if state >> bit & 1]
    return "|".join(names) if names else "0"


# ovstest's frame, byte for byte: tests/test-conntrack.c `payload`, 42 bytes of
# Ethernet (50:54:00:00:00:09 -> 50:54:00:00:00:0a) + IPv4 (10.1.1.1 ->
# 10.1.1.2, protocol 17, TTL 0, header checksum 0xa4cd) + UDP (ports 1 -> 2,
# length 8, no checksum).
OVSTEST_PAYLOAD: Final = bytes.fromhex(
    "50540000000a50540000000908004500001c0000000000"
    "11a4cd0a0101010a0101020001000200080000"
)
OVSTEST_FRAME_LEN: Final = 42
_UDP_PORTS_OFFSET: Final = 34

ETH_HEADER = struct.Struct("!6s6sH")
IPV4_HEADER = struct.Struct("!BBHHHBBHII")
IPV6_HEADER = struct.Struct("!IHBB16s16s")
PORTS = struct.Struct("!HH")
UDP_HEADER = struct.Struct("!HHHH")
TCP_HEADER = struct.Struct("!HHIIBBHHH")
ICMP_ECHO = struct.Struct("!BBHHH")


def ovstest_frame(src_port: int, dst_port: int) -> bytes:
    """ovstest's 42-byte UDP frame with only the UDP ports changed."""
    return (
        OVSTEST_PAYLOAD[:_UDP_PORTS_OFFSET]
        + PORTS.pack(src_port, dst_port)
        + OVSTEST_PAYLOAD[_UDP_PORTS_OFFSET + 4 :]
    )


def zone_benchmark_ports(i: int) -> tuple[int, int]:
    """Ports of connection ``i`` in benchmark-zones: ``i >> 16`` and
    ``i & 0xffff``, a port that would be 0 becoming 65535 (test-conntrack.c)."""
    src = (i >> 16) & 0xFFFF
    dst = i & 0xFFFF
    return (src or 0xFFFF, dst or 0xFFFF)


@dataclass(frozen=True)
class Endpoints:
    """Addresses for building frames; IPv6 when the addresses are IPv6."""

    src: str = "10.1.1.1"
    dst: str = "10.1.1.2"


_ETH_ADDRS: Final = bytes.fromhex("50540000000a505400000009")


def ones_complement_residue(data: bytes) -> int:
    """The 16-bit ones' complement sum of ``data`` (RFC 1071), as a residue
    modulo 0xFFFF.

    Since 2**16 = 1 (mod 0xFFFF), the big-endian integer of the bytes is
    congruent to the sum of its 16-bit words, so one ``int.from_bytes``
    replaces the word loop.  An odd length is padded with a zero byte.
    """
    if len(data) % 2:
        data += b"\0"
    return int.from_bytes(data, "big") % 0xFFFF


def _checksum(*parts: bytes) -> int:
    """The Internet checksum to store over ``parts`` (each of even length,
    but the last), whose checksum field is zero."""
    residue = sum(map(ones_complement_residue, parts)) % 0xFFFF
    return 0xFFFF - residue if residue else 0


def checksum_ok(*parts: bytes) -> bool:
    """Does data that includes its checksum field sum to 0xFFFF, as OVS's
    ``csum()`` / ``csum_finish()`` == 0 test?  An all-zero sum never does."""
    return sum(map(ones_complement_residue, parts)) % 0xFFFF == 0 and any(
        any(part) for part in parts
    )


def pseudo_header(dl_type: int, src: bytes, dst: bytes, proto: int, size: int) -> bytes:
    """The pseudo-header that TCP, UDP and ICMPv6 checksums cover
    (RFC 768, RFC 9293, RFC 8200 8.1; OVS's packet_csum_pseudoheader*)."""
    if dl_type == ETH_TYPE_IP:
        return src + dst + struct.pack("!BBH", 0, proto, size)
    return src + dst + struct.pack("!I3xB", size, proto)


def _ip_packet(
    proto: int, l4: bytes, ends: Endpoints, ttl: int = 64, csum_at: int | None = None
) -> tuple[int, bytes]:
    """An IP packet around ``l4``; ``csum_at`` is the offset in ``l4`` of a
    checksum to fill in (None: leave ``l4`` as it is)."""
    src = ipaddress.ip_address(ends.src)
    dst = ipaddress.ip_address(ends.dst)
    if src.version != dst.version:
        raise ValueError("source and destination must be the same IP version")
    dl_type = ETH_TYPE_IP if src.version == 4 else ETH_TYPE_IPV6
    if csum_at is not None:
        pseudo = b""
        if proto != IPPROTO_ICMP:  # ICMPv4 alone has no pseudo-header
            pseudo = pseudo_header(dl_type, src.packed, dst.packed, proto, len(l4))
        csum = _checksum(pseudo, l4)
        if proto == IPPROTO_UDP and not csum:
            csum = 0xFFFF  # RFC 768: a computed 0 is sent as all ones
        l4 = l4[:csum_at] + struct.pack("!H", csum) + l4[csum_at + 2 :]
    if src.version == 4:
        header = IPV4_HEADER.pack(
            0x45, 0, 20 + len(l4), 0, 0, ttl, proto, 0, int(src), int(dst)
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return dl_type, header + l4
    header = IPV6_HEADER.pack(6 << 28, len(l4), proto, ttl, src.packed, dst.packed)
    return dl_type, header + l4


def _ethernet(dl_type: int, l3: bytes) -> bytes:
    return _ETH_ADDRS + struct.pack("!H", dl_type) + l3


def udp_frame(src_port: int, dst_port: int, ends: Endpoints = Endpoints()) -> bytes:
    """A UDP frame with no payload.  Over IPv4 it carries no checksum (0), as
    ovstest's frame does; over IPv6, where a checksum is mandatory, a valid
    one."""
    udp = UDP_HEADER.pack(src_port, dst_port, 8, 0)
    v6 = ipaddress.ip_address(ends.src).version == 6
    dl_type, l3 = _ip_packet(IPPROTO_UDP, udp, ends, csum_at=6 if v6 else None)
    return _ethernet(dl_type, l3)


def tcp_frame(
    src_port: int, dst_port: int, flags: int, ends: Endpoints = Endpoints()
) -> bytes:
    tcp = TCP_HEADER.pack(src_port, dst_port, 0, 0, 5 << 4, flags, 65535, 0, 0)
    dl_type, l3 = _ip_packet(IPPROTO_TCP, tcp, ends, csum_at=16)
    return _ethernet(dl_type, l3)


def icmp_echo_frame(
    ident: int, reply: bool = False, ends: Endpoints = Endpoints()
) -> bytes:
    v6 = ipaddress.ip_address(ends.src).version == 6
    if v6:
        icmp_type = ICMP6_ECHO_REPLY if reply else ICMP6_ECHO_REQUEST
    else:
        icmp_type = ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST
    proto = IPPROTO_ICMPV6 if v6 else IPPROTO_ICMP
    icmp = ICMP_ECHO.pack(icmp_type, 0, 0, ident, 1)
    dl_type, l3 = _ip_packet(proto, icmp, ends, csum_at=2)
    return _ethernet(dl_type, l3)


def format_addr(addr: int, dl_type: int) -> str:
    if dl_type == ETH_TYPE_IPV6:
        return str(ipaddress.IPv6Address(addr))
    return str(ipaddress.IPv4Address(addr))
