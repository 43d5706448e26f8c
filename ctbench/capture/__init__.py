"""Packet captures in: pcap and pcapng files, read as conntrack sees frames.

:func:`read_capture` reads a whole capture (pcap or pcapng, any byte order,
micro- or nanosecond timestamps) into a :class:`Capture`: every record's
frame, as an Ethernet frame whatever the link type, and its timestamp.  A
capture is untrusted input: a malformed file is a one-line
:class:`CaptureError`, never a traceback, and nothing is read beyond the
file's own size.
"""

from __future__ import annotations

from pathlib import Path

from ctbench.capture.contents import Capture, CaptureError
from ctbench.capture.writer import pcap_bytes


def read_capture(path: Path) -> Capture:
    """Every record of the pcap or pcapng file at ``path``
    (:mod:`ctbench.capture.reader`, imported on first use: dpkt adds about
    40 ms to every command's start otherwise)."""
    from ctbench.capture.reader import read_capture as read

    return read(path)


__all__ = ["Capture", "CaptureError", "pcap_bytes", "read_capture"]
