"""Internet checksums the long way, independent of ctbench's helpers, so
that tests check ctbench's frames and checks against RFC 1071 itself."""

from __future__ import annotations


def word_sum(data: bytes) -> int:
    """RFC 1071 the long way, independent of ctbench's helpers: add the
    16-bit words, folding the carries back in."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return total


def pseudo_header_of(frame: bytes) -> bytes:
    """The pseudo-header of an IPv4 or IPv6 frame without options, built by
    hand from RFC 768 / RFC 8200 8.1."""
    if frame[12:14] == b"\x08\x00":
        length = int.from_bytes(frame[16:18], "big") - 20
        return frame[26:34] + b"\0" + frame[23:24] + length.to_bytes(2, "big")
    length = int.from_bytes(frame[18:20], "big")
    return frame[22:54] + length.to_bytes(4, "big") + b"\0\0\0" + frame[20:21]
