"""Frames in, connection keys out.

ovstest builds raw Ethernet frames and conntrack extracts a key from each one
on every execute.  This module builds the same frames and does the same
extraction.  A connection key is a plain tuple, because tuples are the fastest
dict keys CPython has::

    (src_addr, dst_addr, src_port, dst_port, dl_type, zone, ip_proto)

Addresses are integers (32 bits for IPv4, 128 for IPv6).  For ICMP echo the
"ports" carry OVS's ICMP fields: ``(type << 24) | (code << 16) | id`` on the
source side and the reversed type on the destination side, as in OVS's
``extract_l4_icmp`` (lib/conntrack.c), so that the reverse of a request key is
the key of its reply.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntFlag
from itertools import chain, repeat
from typing import Final

import numpy as np

ConnKey = tuple[int, int, int, int, int, int, int]

# Field positions inside a ConnKey.
SRC: Final = 0
DST: Final = 1
SRC_PORT: Final = 2
DST_PORT: Final = 3
DL_TYPE: Final = 4
ZONE: Final = 5
PROTO: Final = 6

# EtherTypes and IP protocol numbers (IEEE 802 / IANA).
ETH_TYPE_IP: Final = 0x0800
ETH_TYPE_IPV6: Final = 0x86DD
IPPROTO_ICMP: Final = 1
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17
IPPROTO_ICMPV6: Final = 58

# ICMP echo types (RFC 792, RFC 4443) and their reverse, as OVS's
# reverse_icmp_type() / reverse_icmp6_type() map them.
ICMP_ECHO_REQUEST: Final = 8
ICMP_ECHO_REPLY: Final = 0
ICMP6_ECHO_REQUEST: Final = 128
ICMP6_ECHO_REPLY: Final = 129
_ICMP_REVERSE: Final = {
    ICMP_ECHO_REQUEST: ICMP_ECHO_REPLY,
    ICMP_ECHO_REPLY: ICMP_ECHO_REQUEST,
}
_ICMP6_REVERSE: Final = {
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

# The fast path for the common frame: Ethernet + IPv4 without options + UDP.
# Fields: dl_type, version/IHL, total length, fragment field, protocol,
# source, destination, source port, destination port, UDP length, UDP
# checksum.
IPV4_UDP_FAST = struct.Struct("!12xHBxH2xH1xB2xIIHHHH")
# Ethernet 14 + IPv4 20 + UDP 8: the shortest frame the fast path accepts.
_UDP4_MIN_LEN: Final = 42
# Below this many frames of one length the per-frame loop is used: numpy
# costs about 50 us a call plus 0.3 us a frame, the loop about 1 us a frame,
# so numpy wins from about 64 frames (`python bench/parse_crossover.py`:
# numpy/per-frame 1.68 at 32, 0.93 at 64, 0.57 at 128); 128 leaves a margin.
VECTOR_MIN_FRAMES: Final = 128
# Frames per udp4_keys() call in a long execute: enough to amortise numpy's
# fixed cost, few enough that the keys alive at once take a few MB (about
# 350 bytes per frame at the peak, tracemalloc) however long the execute.
KEY_CHUNK_FRAMES: Final = 4096


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


def _pseudo_header(
    dl_type: int, src: bytes, dst: bytes, proto: int, size: int
) -> bytes:
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
            pseudo = _pseudo_header(dl_type, src.packed, dst.packed, proto, len(l4))
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


@dataclass(frozen=True, slots=True)
class Parsed:
    """What conntrack takes from a valid frame: the key and the TCP flags."""

    key: ConnKey
    tcp_flags: int


def _l4_key(
    proto: int, l4: bytes, pseudo: bytes, src: int, dst: int, dl_type: int, zone: int
) -> Parsed | None:
    """OVS's extract_l4(): check_l4_*() (lengths, checksums), then
    extract_l4_*().  ``pseudo`` is the checksum pseudo-header."""
    if proto == IPPROTO_UDP:
        if len(l4) < UDP_HEADER.size:
            return None
        sport, dport, udp_len, csum = UDP_HEADER.unpack_from(l4)
        if udp_len < UDP_HEADER.size or udp_len > len(l4):
            return None
        # check_l4_udp(): a zero checksum means "none", over IPv4 only.
        if (csum or dl_type != ETH_TYPE_IP) and not checksum_ok(pseudo, l4):
            return None
        if not sport or not dport:
            return None  # extract_l4_udp(): port 0 is invalid
        return Parsed((src, dst, sport, dport, dl_type, zone, proto), 0)
    if proto == IPPROTO_TCP:
        if len(l4) < TCP_HEADER.size:
            return None
        sport, dport, _, _, offset, flags, *_ = TCP_HEADER.unpack_from(l4)
        if (offset >> 4) * 4 < TCP_HEADER.size or (offset >> 4) * 4 > len(l4):
            return None
        if not checksum_ok(pseudo, l4) or not sport or not dport:
            return None  # check_l4_tcp(), extract_l4_tcp()
        return Parsed((src, dst, sport, dport, dl_type, zone, proto), flags)
    v4_icmp = proto == IPPROTO_ICMP and dl_type == ETH_TYPE_IP
    if v4_icmp or (proto == IPPROTO_ICMPV6 and dl_type == ETH_TYPE_IPV6):
        # check_l4_icmp() sums the message alone, check_l4_icmp6() with the
        # pseudo-header; both need 8 bytes (extract_l4_icmp*()).
        if len(l4) < ICMP_ECHO.size or not checksum_ok(b"" if v4_icmp else pseudo, l4):
            return None
        icmp_type, code, _, ident, _ = ICMP_ECHO.unpack_from(l4)
        reverse = _ICMP_REVERSE if v4_icmp else _ICMP6_REVERSE
        rev_type = reverse.get(icmp_type)
        if rev_type is None or code:
            # Errors would be "related" traffic; ctbench models echo only.
            # An echo with a nonzero code is invalid in OVS.
            return None
        sport = (icmp_type << 24) | (code << 16) | ident
        dport = (rev_type << 24) | (code << 16) | ident
        return Parsed((src, dst, sport, dport, dl_type, zone, proto), 0)
    return None


def parse_frame(frame: bytes, zone: int) -> Parsed | None:
    """Extract the connection key, or None for a frame conntrack calls invalid.

    The checks are those of OVS's conn_key_extract() for a packet whose
    checksums no NIC has verified (ovstest's case): the IPv4 header
    checksum, the L4 lengths and checksums (a zero UDP checksum over IPv4
    means none), and nonzero ports.  Never raises on malformed input:
    truncated headers, bad lengths, IPv4 fragments and unknown protocols
    all give None.
    """
    if len(frame) < ETH_HEADER.size:
        return None
    dl_type = ETH_HEADER.unpack_from(frame)[2]
    l3 = frame[ETH_HEADER.size :]
    if dl_type == ETH_TYPE_IP:
        if len(l3) < IPV4_HEADER.size:
            return None
        vihl, _, total, _, frag, _, proto, _, src, dst = IPV4_HEADER.unpack_from(l3)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < IPV4_HEADER.size or total < ihl:
            return None
        if total > len(l3) or frag & 0x3FFF or not checksum_ok(l3[:ihl]):
            return None
        l4 = l3[ihl:total]
        pseudo = _pseudo_header(dl_type, l3[12:16], l3[16:20], proto, len(l4))
        return _l4_key(proto, l4, pseudo, src, dst, dl_type, zone)
    if dl_type == ETH_TYPE_IPV6:
        if len(l3) < IPV6_HEADER.size:
            return None
        vtc, payload_len, proto, _, src6, dst6 = IPV6_HEADER.unpack_from(l3)
        if vtc >> 28 != 6 or IPV6_HEADER.size + payload_len > len(l3):
            return None
        l4 = l3[IPV6_HEADER.size : IPV6_HEADER.size + payload_len]
        src = int.from_bytes(src6, "big")
        dst = int.from_bytes(dst6, "big")
        pseudo = _pseudo_header(dl_type, src6, dst6, proto, len(l4))
        return _l4_key(proto, l4, pseudo, src, dst, dl_type, zone)
    return None


def udp4_keys(frames: Sequence[bytes], zone: int) -> list[ConnKey | None]:
    """The key of every frame that takes the IPv4 UDP fast path, in order;
    None for the others, which :func:`parse_frame` must handle.

    A frame takes the fast path when it is IPv4 without options with a
    valid header checksum, not a fragment, UDP without a checksum, with
    nonzero ports and lengths that fit; its key is then the one
    ``parse_frame`` gives.  :data:`VECTOR_MIN_FRAMES` or more frames of one
    length are parsed together with numpy, which reads the same fields as
    the per-frame loop (``bench/parse_crossover.py`` times both).
    """
    n = len(frames)
    if n >= VECTOR_MIN_FRAMES:
        length = len(frames[0])
        if length >= _UDP4_MIN_LEN and set(map(len, frames)) == {length}:
            return _udp4_keys_vector(frames, zone, length)
    return _udp4_keys_each(frames, zone)


def udp4_keys_chunked(frames: Sequence[bytes], zone: int) -> Iterator[ConnKey | None]:
    """:func:`udp4_keys` of every frame, computed :data:`KEY_CHUNK_FRAMES`
    at a time as the caller iterates."""
    if len(frames) <= KEY_CHUNK_FRAMES:
        return iter(udp4_keys(frames, zone))
    if not isinstance(frames, list | tuple):
        frames = list(frames)  # any Sequence, sliced below
    return chain.from_iterable(
        udp4_keys(frames[start : start + KEY_CHUNK_FRAMES], zone)
        for start in range(0, len(frames), KEY_CHUNK_FRAMES)
    )


def _udp4_keys_each(frames: Sequence[bytes], zone: int) -> list[ConnKey | None]:
    unpack = IPV4_UDP_FAST.unpack_from
    from_bytes = int.from_bytes
    keys: list[ConnKey | None] = []
    append = keys.append
    for frame in frames:
        flen = len(frame)
        if flen >= _UDP4_MIN_LEN:
            dl, vi, tot, frag, proto, src, dst, sp, dp, ulen, ucsum = unpack(frame)
            if (
                dl == ETH_TYPE_IP
                and vi == 0x45
                and proto == IPPROTO_UDP
                and not frag & 0x3FFF
                and 28 <= tot <= flen - 14
                and not ucsum
                and 8 <= ulen <= tot - 20
                and sp
                and dp
                # The header checksum: its words sum to 0xFFFF, i.e. the
                # header is 0 modulo 0xFFFF (see ones_complement_residue).
                and not from_bytes(frame[14:34], "big") % 0xFFFF
            ):
                append((src, dst, sp, dp, ETH_TYPE_IP, zone, IPPROTO_UDP))
                continue
        append(None)
    return keys


def _udp4_keys_vector(
    frames: Sequence[bytes], zone: int, length: int
) -> list[ConnKey | None]:
    n = len(frames)
    raw = np.frombuffer(b"".join(frames), np.uint8).reshape(n, length)
    # Big-endian 16-bit words from byte 12 (the EtherType) to byte 42 (the
    # end of the UDP header): word i is at byte 12 + 2 * i.
    words = raw[:, 12:42].copy().view(">u2").astype(np.uint32)
    total = words[:, 2]
    udp_len = words[:, 13]
    fast = (
        (words[:, 0] == ETH_TYPE_IP)
        & (raw[:, 14] == 0x45)
        & (raw[:, 23] == IPPROTO_UDP)
        & ((words[:, 4] & 0x3FFF) == 0)
        & (total >= 28)
        & (total <= length - 14)
        & (words[:, 14] == 0)  # no UDP checksum; others take parse_frame
        & (udp_len >= 8)
        & (udp_len + 20 <= total)
        & (words[:, 11] != 0)
        & (words[:, 12] != 0)
        # The IPv4 header's ten words (bytes 14-33) sum to 0 mod 0xFFFF.
        & (words[:, 1:11].sum(axis=1) % 0xFFFF == 0)
    )
    src = (words[:, 7] << 16) | words[:, 8]
    dst = (words[:, 9] << 16) | words[:, 10]
    keys: list[ConnKey | None] = list(
        zip(
            src.tolist(),
            dst.tolist(),
            words[:, 11].tolist(),
            words[:, 12].tolist(),
            repeat(ETH_TYPE_IP),
            repeat(zone),
            repeat(IPPROTO_UDP),
        )
    )
    for i in np.flatnonzero(~fast).tolist():
        keys[i] = None
    return keys


def reverse_key(key: ConnKey) -> ConnKey:
    """The key of the reply direction (OVS's conn_key_reverse)."""
    src, dst, sport, dport, dl_type, zone, proto = key
    return (dst, src, dport, sport, dl_type, zone, proto)


def format_addr(addr: int, dl_type: int) -> str:
    if dl_type == ETH_TYPE_IPV6:
        return str(ipaddress.IPv6Address(addr))
    return str(ipaddress.IPv4Address(addr))
