"""Packet captures in: pcap and pcapng files, read as conntrack sees frames.

:func:`read_capture` reads a whole capture (pcap or pcapng, any byte order,
micro- or nanosecond timestamps) into a :class:`Capture`: every record's
frame, as an Ethernet frame whatever the link type, and its timestamp.  A
capture is untrusted input: a malformed file is a one-line
:class:`CaptureError`, never a traceback, and nothing is read beyond the
file's own size.
"""

from __future__ import annotations

from ctbench.capture.model import Capture, CaptureError
from ctbench.capture.reader import read_capture
from ctbench.capture.writer import pcap_bytes

__all__ = ["Capture", "CaptureError", "pcap_bytes", "read_capture"]
