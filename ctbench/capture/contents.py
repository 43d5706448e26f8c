"""A capture in memory: frames and timestamps, in columns."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from ctbench.errors import CtbenchError


class CaptureError(CtbenchError):
    """A capture file that cannot be read: the message names the file and,
    where it helps, the record."""


@dataclass
class Capture:
    """Every record of a capture, in file order.

    ``frames`` are Ethernet frames: records of another link type are
    converted (:mod:`ctbench.capture.link`).  ``cut`` counts the records
    that the snap length shortened (captured length below the length on
    the wire); conntrack sees them as they are, as OVS would.
    """

    path: str
    format: str  # "pcap" or "pcapng"
    link_types: tuple[str, ...]
    frames: list[bytes] = field(default_factory=list)
    ts_ns: array[int] = field(default_factory=lambda: array("q"))
    cut: int = 0
    # Captures joined into this one, in order: each file's path and its own
    # span (first to last timestamp).  Empty for a single file.
    parts: list[tuple[str, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def duration_ns(self) -> int:
        """The traffic's span: a joined capture's is the sum of its files'
        own spans, as files from different days (or years) hold no traffic
        in between."""
        if self.parts:
            return sum(span for _, span in self.parts)
        return self.ts_ns[-1] - self.ts_ns[0] if len(self.ts_ns) > 1 else 0

    def spans_ns(self) -> list[tuple[str, int]]:
        """Each file's path and own span: the joined files', or this one's."""
        return self.parts or [(self.path, self.duration_ns)]
