"""``pcap --ovstest PATH``: the same capture through the real ovstest, and
the packets whose states differ.

ovstest reads classic pcap of Ethernet or SLL only; any other capture is
given to it as the Ethernet pcap ctbench reads it as (the frames ctbench
tracks, so both see the same bytes).  ovstest runs at the same batch size;
its known bugs (a batch mixing IPv4 and IPv6 executed as its first
packet's type, a zero-length record read as the end of the file, a crash
on non-first fragments) are named where they explain a difference.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ctbench.backends import BackendSpec
from ctbench.capture.contents import Capture
from ctbench.capture.link import ETHERNET
from ctbench.capture.packet_states import states_of_file
from ctbench.capture.track import TrackConfig
from ctbench.capture.writer import pcap_bytes
from ctbench.ovstest.runner import BinaryError, check_executable, run_binary
from ctbench.packets import CT_STATE_NAMES, ct_state_flags
from ctbench.parse import l3_start
from ctbench.report.numbers import plural

# The longest line ovstest prints for a packet ("4294967295: new|est|rel|...").
_LINE_BYTES: Final = 64
# A capture shorter than the shortest default timeout (TCP's 30 s) gives the
# same states whatever the clock.
SHORTEST_TIMEOUT_NS: Final = 30 * 10**9
_TIMEOUT_BASE_S: Final = 60.0
_TIMEOUT_PER_PACKET_S: Final = 1e-3
# ovstest's line per packet: printf("%zu: %s\n", n, flags) (docs/ovs-reference.md).
_PACKET_LINE: Final = re.compile(r"(\d+): (\S+)")


class OvstestPcapError(BinaryError):
    """ovstest could not check the capture (it crashed, hung, or printed
    no packet lines)."""


@dataclass(frozen=True)
class Difference:
    number: int
    ctbench: str
    ovstest: str
    why: str  # a known cause, or ""


@dataclass
class PcapCheck:
    packets: int
    printed: int  # packets of the capture ovstest printed a line for
    differences: list[Difference] = field(default_factory=list)
    # What in ovstest's output matches no packet, or a packet it printed no
    # line for before its last: one line each.  Any of it is a disagreement.
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences and not self.unmatched


@dataclass
class OvstestLines:
    """ovstest's pcap output, read by packet number."""

    states: dict[int, str] = field(default_factory=dict)  # the first line of each
    unparsed: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    repeated: list[tuple[int, int]] = field(default_factory=list)  # (line, packet)


def read_lines(stdout: str) -> OvstestLines:
    """Each "N: FLAGS" line's state by packet number N; a line of another
    form, or whose flags are not ct_state names, is unparsed."""
    out = OvstestLines()
    for at, line in enumerate(stdout.splitlines(), 1):
        if not line.strip():
            continue
        match = _PACKET_LINE.fullmatch(line)
        if match is None or not _flags(match.group(2)):
            out.unparsed.append((at, line))
            continue
        number = int(match.group(1))
        if number in out.states:
            out.repeated.append((at, number))
        else:
            out.states[number] = match.group(2)
    return out


def _flags(text: str) -> bool:
    """ct_state_to_string()'s output: "0", or distinct names joined by "|"."""
    names = text.split("|")
    return text == "0" or (
        len(set(names)) == len(names) and set(names) <= set(CT_STATE_NAMES)
    )


def default_timeout(capture: Capture) -> float:
    return _TIMEOUT_BASE_S + len(capture) * _TIMEOUT_PER_PACKET_S


def _readable_as_is(path: Path, capture: Capture) -> bool:
    return capture.format == "pcap" and capture.link_types in (
        ("Ethernet",),
        ("Linux cooked (SLL)",),
    )


def check_file(
    path: Path,
    config: TrackConfig,
    spec: BackendSpec,
    binary: Path,
    timeout_s: float | None = None,
) -> PcapCheck:
    """``pcap --ovstest``: the capture at ``path`` through ``spec``'s table
    and through ``binary``, at the same batch size (``timeout_s`` bounds
    ovstest's run, by default 60 s + 1 ms per packet)."""
    check_executable(binary, f"--ovstest {binary}")
    capture, states = states_of_file(path, config, spec)
    if timeout_s is None:
        timeout_s = default_timeout(capture)
    return check(path, capture, config, states, binary, timeout_s)


def check(
    path: Path,
    capture: Capture,
    config: TrackConfig,
    states: Sequence[int],
    binary: Path,
    timeout_s: float,
    interrupted: Callable[[], bool] = lambda: False,
) -> PcapCheck:
    """Run ``binary test-conntrack pcap`` on the capture at the same batch
    size, and set its states against ctbench's ``states``."""
    what = f"--ovstest {binary}"
    result = PcapCheck(len(capture), 0)
    with tempfile.TemporaryDirectory(prefix="ctbench-ovstest-") as tmp:
        given = path
        if not _readable_as_is(path, capture):
            given = Path(tmp) / "capture.pcap"
            given.write_bytes(pcap_bytes(capture.frames, capture.ts_ns, ETHERNET))
            result.notes.append(
                f"ovstest cannot read this {capture.format} capture "
                f"({', '.join(capture.link_types)}): it was given the Ethernet "
                "pcap ctbench reads it as"
            )
        ran = run_binary(
            binary,
            ["test-conntrack", "pcap", str(given), str(config.batch_size)],
            timeout_s,
            interrupted,
            what=what,
            max_output=_LINE_BYTES * (len(capture) + 16),
        )
    failure = ran.failure()
    if failure is not None:
        hint = ""
        if "SIGSEGV" in failure:
            hint = " (ovstest crashes on a non-first IP fragment)"
        raise OvstestPcapError(f"{what}: {failure}{hint}")
    theirs = read_lines(ran.stdout)
    packets = len(capture)
    if not theirs.states and packets:
        raise OvstestPcapError(
            f"{what}: printed no packet lines: {_nothing(theirs, ran.stderr)}"
        )
    why = _known_causes(capture, config.batch_size)
    for number, other in sorted(theirs.states.items()):
        if not 1 <= number <= packets:
            continue
        flags = ct_state_flags(states[number - 1])
        if flags != other:
            result.differences.append(Difference(number, flags, other, why[number - 1]))
    result.printed = sum(1 <= n <= packets for n in theirs.states)
    result.unmatched = _unmatched(theirs, packets)
    stop = max((n for n in theirs.states if n <= packets), default=0)
    if stop < packets:
        reason = (
            "a zero-length record, which its reader takes for the end of the file"
            if not capture.frames[stop]
            else _last(ran.stderr) or "no reason given"
        )
        result.notes.append(
            f"ovstest printed {result.printed:,} of {plural(packets, 'packet')}: it "
            f"stopped at packet {stop + 1} ({reason})"
        )
    if config.clock != "wall" and capture.duration_ns >= SHORTEST_TIMEOUT_NS:
        result.notes.append(
            f"the capture spans {capture.duration_ns / 1e9:.0f} s and ctbench's "
            f"clock is {config.clock}: ovstest runs at the wall clock, so "
            "connections that expire in the capture's time do not in ovstest's "
            "(--clock wall compares like with like)"
        )
    return result


def _unmatched(theirs: OvstestLines, packets: int) -> list[str]:
    """ovstest's lines that match no packet, and the packets before its
    last one that it printed no line for."""
    out = [
        f"ovstest's line {at}: {text[:80]!r} is not a packet line (N: FLAGS)"
        for at, text in theirs.unparsed
    ]
    out += [
        f"ovstest's line {at}: packet {number} again" for at, number in theirs.repeated
    ]
    out += [
        f"ovstest printed packet {number}, beyond the capture's {packets:,}"
        for number in sorted(theirs.states)
        if not 1 <= number <= packets
    ]
    last = max((n for n in theirs.states if n <= packets), default=0)
    out += [
        f"ovstest printed no line for packet {number}"
        for number in range(1, last)
        if number not in theirs.states
    ]
    return out


def _nothing(theirs: OvstestLines, stderr: str) -> str:
    """Why no packet line came: what ovstest printed instead, or its last
    words on stderr."""
    unparsed = theirs.unparsed
    if unparsed:
        at, text = unparsed[0]
        return (
            f"{len(unparsed):,} line(s) that are not packet lines (N: FLAGS), "
            f"the first (line {at}): {text[:80]!r}"
        )
    return _last(stderr) or "no output"


def _last(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _known_causes(capture: Capture, batch_size: int) -> list[str]:
    """Per packet, ovstest's mixed-batch bug where it can explain a
    difference: the packet is in one of ovstest's batches (BATCH_SIZE
    records read in a row) that mixes L3 types, after the first type; or it
    comes after such a batch, whose misread packets may have started or
    missed a connection it belongs to."""
    causes = [""] * len(capture)
    frames = capture.frames
    seen = False
    for start in range(0, len(frames), batch_size):
        first = l3_start(frames[start])[0]
        end = min(start + batch_size, len(frames))
        mixed = False
        for i in range(start, end):
            if l3_start(frames[i])[0] != first:
                mixed = True
                causes[i] = (
                    "ovstest's bug: its batch mixes IPv4 and IPv6 and runs as "
                    "the first packet's type"
                )
            elif seen:
                causes[i] = "may follow from ovstest's mixed-batch bug earlier"
        seen = seen or mixed
    return causes
