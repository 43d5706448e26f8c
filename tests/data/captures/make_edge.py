"""Write edge.pcap: crafted frames at the edges of what OVS's conntrack
parses (VLAN tags, LLC/SNAP, IPv4 options and bad lengths, IPv6 extension
headers and fragments, ICMP queries and errors, SCTP, other protocols).
ovstest's output for it is edge.b1.ovstest.txt.  Run from the repository
root: python tests/data/captures/make_edge.py"""

from __future__ import annotations

import struct
from pathlib import Path

from ctbench.capture import pcap_bytes
from ctbench.packets import Endpoints, icmp_echo_frame, tcp_frame, udp_frame
from ctbench.parse import sctp_checksum_ok

MAC = bytes.fromhex("505400000001") + bytes.fromhex("505400000002")
A4, B4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
A6, B6 = bytes(15) + b"\x01", bytes(15) + b"\x02"


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return 0xFFFF - total


def ipv4(
    proto: int,
    l4: bytes,
    options: bytes = b"",
    frag: int = 0,
    src: bytes = A4,
    dst: bytes = B4,
    total: int | None = None,
) -> bytes:
    ihl = 5 + len(options) // 4
    length = 20 + len(options) + len(l4) if total is None else total
    header = (
        struct.pack(
            "!BBHHHBBH4s4s", 0x40 | ihl, 0, length, 1, frag, 64, proto, 0, src, dst
        )
        + options
    )
    header = header[:10] + struct.pack("!H", csum(header)) + header[12:]
    return header + l4


def ipv6(
    nxt: int, payload: bytes, src: bytes = A6, dst: bytes = B6, plen: int | None = None
) -> bytes:
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, length, nxt, 64, src, dst) + payload


def l4_csum(l3: bytes, proto: int, l4: bytes, at: int) -> bytes:
    if l3[0] >> 4 == 4:
        pseudo = l3[12:20] + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = l3[8:40] + struct.pack("!I3xB", len(l4), proto)
    value = csum(pseudo + l4[:at] + b"\0\0" + l4[at + 2 :])
    return l4[:at] + struct.pack("!H", value) + l4[at + 2 :]


def udp4(sport: int, dport: int, payload: bytes = b"x", **kw: object) -> bytes:
    l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return ipv4(17, l4, **kw)  # type: ignore[arg-type]


def eth(ether_type: int, l3: bytes) -> bytes:
    return MAC + struct.pack("!H", ether_type) + l3


def icmp4(icmp_type: int, code: int, rest: bytes) -> bytes:
    msg = bytes([icmp_type, code]) + b"\0\0" + rest
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def icmp6(src: bytes, dst: bytes, icmp_type: int, code: int, rest: bytes) -> bytes:
    msg = bytes([icmp_type, code]) + b"\0\0" + rest
    pseudo = src + dst + struct.pack("!I3xB", len(msg), 58)
    return msg[:2] + struct.pack("!H", csum(pseudo + msg)) + msg[4:]


def sctp(sport: int, dport: int, chunks: bytes) -> bytes:
    body = struct.pack("!HHI", sport, dport, 1) + b"\0\0\0\0" + chunks
    crc = _crc32c(body)
    return body[:8] + crc.to_bytes(4, "little") + body[12:]


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def tcp4(
    sport: int,
    dport: int,
    flags: int,
    seq: int,
    ack: int,
    win: int = 65535,
    payload: bytes = b"",
    options: bytes = b"",
    reply: bool = False,
) -> bytes:
    offset = (20 + len(options)) // 4
    l4 = (
        struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, win, 0, 0)
        + options
        + payload
    )
    src, dst = (B4, A4) if reply else (A4, B4)
    l3 = ipv4(6, l4, src=src, dst=dst)
    return eth(0x0800, l3[:20] + l4_csum(l3[:20] + l4, 6, l4, 16))


def tcp_windows() -> list[bytes]:
    """TCP sequences pf's window tracking judges: ovstest's output for them
    is tcp.b1.ovstest.txt."""
    syn, ack, fin, rst, psh = 0x02, 0x10, 0x01, 0x04, 0x08
    ws = b"\x01\x03\x03\x07"  # NOP, window scale 7
    out = []
    # A handshake with window scaling, data both ways, then data far beyond
    # the window (invalid), an old retransmission (valid), a RST with a bad
    # sequence number (invalid), a RST with the right one, a new SYN.
    out.append(tcp4(1111, 80, syn, 1000, 0, 64240, options=ws))
    out.append(tcp4(80, 1111, syn | ack, 5000, 1001, 65160, options=ws, reply=True))
    out.append(tcp4(1111, 80, ack, 1001, 5001, 502))
    out.append(tcp4(1111, 80, ack | psh, 1001, 5001, 502, b"GET /"))
    out.append(tcp4(80, 1111, ack | psh, 5001, 1006, 509, b"200 OK", reply=True))
    out.append(tcp4(1111, 80, ack | psh, 1006 + 50_000_000, 5007, 502, b"far"))
    out.append(tcp4(1111, 80, ack | psh, 1001, 5007, 502, b"GET /"))
    out.append(tcp4(80, 1111, rst | ack, 99999, 1006, 0, reply=True))
    out.append(tcp4(80, 1111, rst | ack, 5007, 1006, 0, reply=True))
    out.append(tcp4(1111, 80, ack, 1006, 5007, 502))
    out.append(tcp4(1111, 80, syn, 7000, 0, 64240))
    # A SYN retransmitted before any answer (+new), then its connection
    # closed with FINs both ways and reopened by a new SYN.
    out.append(tcp4(2222, 80, syn, 100, 0, 1000))
    out.append(tcp4(2222, 80, syn, 100, 0, 1000))
    out.append(tcp4(80, 2222, syn | ack, 900, 101, 1000, reply=True))
    out.append(tcp4(2222, 80, ack, 101, 901, 1000))
    out.append(tcp4(2222, 80, fin | ack, 101, 901, 1000))
    out.append(tcp4(80, 2222, fin | ack, 901, 102, 1000, reply=True))
    out.append(tcp4(2222, 80, ack, 102, 902, 1000))
    out.append(tcp4(2222, 80, syn, 5000, 0, 1000))
    # Picked up mid-stream: an ACK first (+new), its answer, then data.
    out.append(tcp4(3333, 80, ack, 40000, 90000, 2000))
    out.append(tcp4(80, 3333, ack, 90000, 40000, 2000, reply=True))
    out.append(tcp4(3333, 80, ack | psh, 40000, 90000, 2000, b"data"))
    # A SYN+ACK with no connection (invalid), bad flag sets.
    out.append(tcp4(4444, 80, syn | ack, 1, 1, 100))
    out.append(tcp4(4445, 80, syn | fin, 1, 0, 100))
    out.append(tcp4(4446, 80, 0, 1, 0, 100))
    return out


def later_fragments() -> list[bytes]:
    """Non-first fragments: ovstest (OVS 139b564db) crashes on each of these
    (SIGSEGV), so they are kept out of edge.pcap, in fragments.pcap."""
    frag_later = bytes([17, 0]) + struct.pack("!HI", 0x0100, 9)
    udp6 = struct.pack("!HHHH", 3000, 4000, 9, 0) + b"y"
    return [
        eth(0x0800, udp4(1010, 2000, frag=0x0010)),
        eth(0x86DD, ipv6(44, frag_later + udp6)),
    ]


def frames() -> list[bytes]:
    out: list[bytes] = []
    udp = udp4(1000, 2000)
    out.append(eth(0x0800, udp))  # plain UDP
    out.append(MAC + b"\x81\x00\x00\x05" + b"\x08\x00" + udp4(1001, 2000))
    out.append(MAC + b"\x88\xa8\x00\x05\x81\x00\x00\x06\x08\x00" + udp4(1002, 2000))
    out.append(MAC + b"\x81\x00\x00\x05" * 3 + b"\x08\x00" + udp4(1003, 2000))
    snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
    out.append(MAC + struct.pack("!H", 8 + 36) + snap + udp4(1004, 2000))
    out.append(
        MAC + struct.pack("!H", 8) + b"\x42\x42\x03" + bytes(5) + udp4(1005, 2000)
    )
    out.append(eth(0x0800, udp4(1006, 2000, options=b"\x01\x01\x01\x00")))  # NOPs
    out.append(eth(0x0800, udp4(1007, 2000, total=20 + 8)))  # UDP length > IP's
    out.append(eth(0x0800, udp4(1008, 2000, total=200)))  # total beyond frame
    out.append(eth(0x0800, udp4(1009, 2000, frag=0x2000)))  # MF: first fragment
    out.append(eth(0x0800, udp4(1011, 2000)) + bytes(30))  # Ethernet padding
    out.append(eth(0x0800, ipv4(47, b"\0\0\x08\x00")))  # GRE: conntrack-other
    out.append(eth(0x0800, ipv4(47, b"\0\0\x08\x00", src=B4, dst=A4)))  # its reply
    out.append(eth(0x0800, ipv4(1, icmp4(13, 0, b"\x12\x34\0\x01" + bytes(12)))))
    out.append(
        eth(
            0x0800, ipv4(1, icmp4(14, 0, b"\x12\x34\0\x01" + bytes(12)), src=B4, dst=A4)
        )
    )
    out.append(eth(0x0800, ipv4(1, icmp4(0, 0, b"\x55\x55\0\x01"))))  # lone reply
    out.append(eth(0x0800, ipv4(1, icmp4(8, 1, b"\x55\x56\0\x01"))))  # echo, code 1
    out.append(eth(0x0800, ipv4(1, icmp4(9, 0, bytes(4)))))  # router advert
    # ICMP errors about the plain UDP flow: from B (reply direction), an
    # inner packet whose source is not the error's destination, a cut one.
    inner = udp4(1000, 2000)[:28]
    out.append(eth(0x0800, ipv4(1, icmp4(3, 3, bytes(4) + inner), src=B4, dst=A4)))
    out.append(eth(0x0800, ipv4(1, icmp4(11, 0, bytes(4) + inner), src=B4, dst=B4)))
    out.append(eth(0x0800, ipv4(1, icmp4(3, 3, bytes(4) + inner[:24]), src=B4, dst=A4)))
    out.append(
        eth(
            0x0800,
            ipv4(1, icmp4(3, 3, bytes(4) + udp4(4444, 5555)[:28]), src=B4, dst=A4),
        )
    )  # no such connection
    # SCTP: an INIT chunk; then one with a bad checksum.
    init = struct.pack("!BBH", 1, 0, 20) + bytes(16)
    good = sctp(7000, 8000, init)
    out.append(eth(0x0800, ipv4(132, good)))
    out.append(eth(0x0800, ipv4(132, good[:8] + b"\0\0\0\0" + good[12:])))
    # IPv6: UDP behind hop-by-hop and destination options, a routing header.
    udp6 = struct.pack("!HHHH", 3000, 4000, 9, 0) + b"y"
    l3 = ipv6(17, udp6)
    udp6 = l4_csum(l3, 17, udp6, 6)
    out.append(eth(0x86DD, ipv6(17, udp6)))
    hbh = bytes([60, 0]) + b"\x01\x04\0\0\0\0"  # next: destination options
    dst_opts = bytes([17, 0]) + b"\x01\x04\0\0\0\0"
    out.append(eth(0x86DD, ipv6(0, hbh + dst_opts + udp6)))
    routing = bytes([17, 0, 0, 0]) + bytes(4)
    out.append(eth(0x86DD, ipv6(43, routing + udp6)))
    out.append(eth(0x86DD, ipv6(0, hbh[:1] + b"\x09" + hbh[2:] + udp6)))  # too long
    frag_first = bytes([17, 0]) + struct.pack("!HI", 0x0001, 7)  # M set
    frag_atomic = bytes([17, 0]) + struct.pack("!HI", 0, 8)
    out.append(eth(0x86DD, ipv6(44, frag_first + udp6)))
    out.append(eth(0x86DD, ipv6(44, frag_atomic + udp6)))
    out.append(eth(0x86DD, ipv6(17, udp6, plen=200)))  # payload beyond frame
    out.append(eth(0x86DD, ipv6(17, udp6)) + bytes(20))  # padding
    # ICMPv6: echo and its reply, neighbour solicitation, an error about the
    # UDP flow above, packet too big about nothing.
    echo = icmp6(A6, B6, 128, 0, b"\x22\x22\0\x01")
    out.append(eth(0x86DD, ipv6(58, echo)))
    out.append(eth(0x86DD, ipv6(58, icmp6(B6, A6, 129, 0, b"\x22\x22\0\x01"), B6, A6)))
    out.append(eth(0x86DD, ipv6(58, icmp6(A6, B6, 135, 0, bytes(20)))))
    inner6 = ipv6(17, udp6)
    out.append(eth(0x86DD, ipv6(58, icmp6(B6, A6, 1, 4, bytes(4) + inner6), B6, A6)))
    inner6x = ipv6(17, struct.pack("!HHHH", 9, 9, 8, 0))
    out.append(
        eth(0x86DD, ipv6(58, icmp6(B6, A6, 2, 0, b"\0\0\x05\x00" + inner6x), B6, A6))
    )
    # TCP over IPv4 with options in the IP header; TCP with bad data offset.
    ends = Endpoints("10.0.0.3", "10.0.0.4")
    syn = tcp_frame(5000, 80, 0x02, ends)
    out.append(syn)
    bad = bytearray(tcp_frame(5001, 80, 0x02, ends))
    bad[14 + 20 + 12] = 0xF0  # data offset 60, beyond the segment
    out.append(bytes(bad))
    # Other ethertypes and runts.
    out.append(eth(0x0806, bytes(28)))  # ARP
    out.append(eth(0x8847, bytes(4) + udp4(1012, 2000)))  # MPLS
    out.append(MAC + b"\x08")  # 13 bytes
    out.append(eth(0x0800, udp4(1013, 2000))[:30])  # cut IPv4 header
    out.append(icmp_echo_frame(7))
    out.append(udp_frame(0, 53))  # port 0
    # Last: ovstest's reader takes a zero-length record for the end of the
    # file (fread of 0 bytes), so nothing after it would be compared.
    out.append(b"")
    return out


if __name__ == "__main__":
    assert sctp_checksum_ok(sctp(1, 2, b"\x01\0\0\x04"))
    for name, data in (
        ("edge", frames()),
        ("fragments", later_fragments()),
        ("tcp", tcp_windows()),
    ):
        Path(__file__).with_name(f"{name}.pcap").write_bytes(
            pcap_bytes(data, [i * 1_000_000 for i in range(len(data))])
        )
        print(name, len(data), "frames")
