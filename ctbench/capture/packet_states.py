"""``ctbench pcap``'s core: a capture file through one backend's table,
and each packet's state as ovstest's pcap command prints it
(tests/test-conntrack.c, test_pcap).

:func:`track_file` reads the file, opens the model and hands back the
packets' records batch by batch, as each batch is executed, so that the
command line prints them as they come and a stopped run keeps what it
printed.  :func:`states_of_file` is the same tracking, every state at once
(``pcap --ovstest`` sets them against ovstest's).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import read_capture
from ctbench.capture.contents import Capture
from ctbench.capture.track import TrackConfig, track, track_batches
from ctbench.model import Conntrack, Limits
from ctbench.packets import IPPROTO_TCP, CtState
from ctbench.parse import Parsed, extract_key


@dataclass(frozen=True)
class PacketRecord:
    number: int  # from 1, as ovstest numbers them
    timestamp_ns: int  # the capture's
    zone: int
    state: int
    parsed: Parsed | str  # the key conntrack looked up, or why it could not
    reason: str | None  # why a +inv packet is invalid


@dataclass(frozen=True)
class TrackedFile:
    """A capture on its way through the table: ``batches`` executes one
    batch each time it is asked for the next, and yields its records."""

    capture: Capture
    batches: Iterator[list[PacketRecord]]


def explain_invalid(frame: bytes, verify_l4: bool) -> str:
    """The reason a +inv packet is invalid."""
    parsed = extract_key(frame, 0, verify_l4)
    if isinstance(parsed, str):
        return parsed
    if parsed.related:
        return "ICMP error for no tracked connection"
    if parsed.proto == IPPROTO_TCP:
        return "refused by TCP's state machine (flags)"
    return "cannot start a connection (a reply or an unknown query)"


def _model(spec: BackendSpec, config: TrackConfig) -> Conntrack:
    """The table ovstest's pcap command tracks with: no limits."""
    return Conntrack(create_table(spec), Limits(), verify_l4=config.verify_l4)


def track_file(
    path: Path, config: TrackConfig, spec: BackendSpec, *, detail: bool
) -> TrackedFile:
    """The capture at ``path`` through ``spec``'s table, batch by batch.
    With ``detail``, each record also holds the packet's key and, for an
    invalid packet, why it is invalid (the json and csv formats show them;
    ovstest's text lines do not, and are spared the work)."""
    capture = read_capture(path)
    model = _model(spec, config)
    return TrackedFile(capture, _records(capture, config, model, detail))


def _records(
    capture: Capture, config: TrackConfig, model: Conntrack, detail: bool
) -> Iterator[list[PacketRecord]]:
    frames, ts_ns, verify_l4 = capture.frames, capture.ts_ns, config.verify_l4
    for batch, states in track_batches(capture, config, model):
        records = []
        for i, state in zip(range(batch.start, batch.end), states, strict=True):
            frame = frames[i]
            records.append(
                PacketRecord(
                    i + 1,
                    ts_ns[i],
                    batch.zone,
                    state,
                    extract_key(frame, batch.zone, verify_l4) if detail else "",
                    explain_invalid(frame, verify_l4)
                    if detail and state & CtState.INVALID
                    else None,
                )
            )
        yield records


def states_of_file(
    path: Path, config: TrackConfig, spec: BackendSpec
) -> tuple[Capture, array[int]]:
    """The capture at ``path``, and every packet's ct_state in order."""
    capture = read_capture(path)
    return capture, track(capture, config, _model(spec, config))
