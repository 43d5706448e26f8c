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

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ctbench.capture.link import ETHERNET
from ctbench.capture.model import Capture
from ctbench.capture.track import TrackConfig
from ctbench.capture.writer import pcap_bytes
from ctbench.ovstest.runner import BinaryError, run_binary
from ctbench.packets import ct_state_flags
from ctbench.parse import l3_start
from ctbench.report.numbers import plural

# The longest line ovstest prints for a packet ("4294967295: new|est|rel|...").
_LINE_BYTES: Final = 64
# A capture shorter than the shortest default timeout (TCP's 30 s) gives the
# same states whatever the clock.
SHORTEST_TIMEOUT_NS: Final = 30 * 10**9
_TIMEOUT_BASE_S: Final = 60.0
_TIMEOUT_PER_PACKET_S: Final = 1e-3


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
    printed: int  # packet lines ovstest printed
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_timeout(capture: Capture) -> float:
    return _TIMEOUT_BASE_S + len(capture) * _TIMEOUT_PER_PACKET_S


def _readable_as_is(path: Path, capture: Capture) -> bool:
    return capture.format == "pcap" and capture.link_types in (
        ("Ethernet",),
        ("Linux cooked (SLL)",),
    )


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
    theirs = _states(ran.stdout)
    if not theirs and len(capture):
        raise OvstestPcapError(
            f"{what}: printed no packet lines: {_last(ran.stderr) or 'no output'}"
        )
    result.printed = len(theirs)
    why = _known_causes(capture, config.batch_size)
    for i, (mine, other) in enumerate(zip(states, theirs, strict=False)):
        flags = ct_state_flags(mine)
        if flags != other:
            result.differences.append(Difference(i + 1, flags, other, why[i]))
    if result.printed < len(capture):
        stop = result.printed
        reason = (
            "a zero-length record, which its reader takes for the end of the file"
            if stop < len(capture) and not capture.frames[stop]
            else _last(ran.stderr) or "no reason given"
        )
        result.notes.append(
            f"ovstest printed {result.printed:,} of "
            f"{plural(len(capture), 'packet')}: it "
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


def _states(stdout: str) -> list[str]:
    out = []
    for line in stdout.splitlines():
        number, sep, flags = line.partition(": ")
        if sep and number.isdigit():
            out.append(flags.strip())
    return out


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
