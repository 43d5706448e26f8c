"""Frames out, as a classic pcap file: what ovstest's reader takes."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from ctbench.capture.link import ETHERNET

# pcap-savefile(5): the nanosecond-resolution magic, version 2.4, written in
# this machine's byte order as libpcap does; OVS's reader takes it.
_MAGIC_NS: Final = 0xA1B23C4D
_SNAPLEN: Final = 262144  # libpcap's MAXIMUM_SNAPLEN
_NS_PER_S: Final = 1_000_000_000


def pcap_bytes(
    frames: Sequence[bytes], ts_ns: Sequence[int], link_type: int = ETHERNET
) -> bytes:
    """A pcap file of ``frames`` with their timestamps, each record whole."""
    out = [struct.pack("=IHHiIII", _MAGIC_NS, 2, 4, 0, 0, _SNAPLEN, link_type)]
    for frame, ns in zip(frames, ts_ns, strict=True):
        seconds, fraction = divmod(ns, _NS_PER_S)
        out.append(struct.pack("=IIII", seconds, fraction, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)
