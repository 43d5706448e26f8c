"""Fuzz the capture reader and the frame parser with mutated real captures.

Two kinds of input, drawn from the captures in tests/data/captures:

- files: bytes of a whole capture file mutated (flipped bytes, odd lengths,
  cuts, insertions); each must read as a capture or fail with one line,
  never a traceback, and never yield more bytes than the file holds;
- frames: packets of a real capture with bytes mutated inside them; each
  must be tracked (+trk) without an exception.  With --ovstest PATH the
  same frames go through ovstest's pcap command too, and every packet whose
  state differs is counted and the first ones printed: a differential test
  of ctbench's parser against OVS's.

    python -m bench.fuzz.fuzz_captures [--seconds 60] [--seed 1] [--ovstest PATH]

It prints how many inputs it tried and what became of them.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctbench.backends import BackendSpec, create_table
from ctbench.capture import CaptureError, pcap_bytes, read_capture
from ctbench.capture.track import TrackConfig, track
from ctbench.model import Conntrack
from ctbench.packets import ct_state_flags

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "captures"
SEEDS = ("mixed.pcap", "mixed.pcapng", "mixed.sll2.pcap", "edge.pcap")
# Values at the edges of the length and type fields.
EDGES = (
    0,
    1,
    2,
    4,
    5,
    6,
    8,
    0x11,
    0x2C,
    0x3A,
    0x40,
    0x45,
    0x60,
    0x81,
    0x86,
    0xDD,
    0xFF,
)


def mutate_bytes(rng: random.Random, data: bytearray, count: int) -> None:
    for _ in range(count):
        if not data:
            return
        at = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.6:
            data[at] = rng.choice(EDGES) if rng.random() < 0.5 else rng.randrange(256)
        elif choice < 0.75:
            del data[at:]
        elif choice < 0.9:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        else:
            data[at : at + 4] = rng.choice((0, 0xFFFFFFFF, 0x10000)).to_bytes(
                4, "little"
            )


def fuzz_file(rng: random.Random, seeds: list[bytes], tmp: Path) -> str:
    data = bytearray(rng.choice(seeds))
    mutate_bytes(rng, data, rng.randrange(1, 6))
    path = tmp / "fuzz.bin"
    path.write_bytes(data)
    try:
        capture = read_capture(path)
    except CaptureError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path)), exc
        return "refused"
    assert sum(map(len, capture.frames)) <= len(data)
    model = Conntrack(create_table(BackendSpec("per-zone")))
    states = track(capture, TrackConfig(clock="frozen"), model)
    assert all(s & 0x20 for s in states)
    return "read"


def mutated_frames(rng: random.Random, frames: list[list[bytes]]) -> list[bytes]:
    chosen = list(rng.choice(frames))
    out = []
    for frame in chosen:
        data = bytearray(frame)
        if data and rng.random() < 0.5:
            # Mutate past the Ethernet header mostly: the L3 and L4 fields.
            for _ in range(rng.randrange(1, 4)):
                at = (
                    rng.randrange(min(len(data), 12), len(data))
                    if len(data) > 12
                    else 0
                )
                data[at] = (
                    rng.choice(EDGES) if rng.random() < 0.6 else rng.randrange(256)
                )
            if rng.random() < 0.1:
                del data[rng.randrange(len(data)) :]
        if data:  # ovstest takes a zero-length record for the end of the file
            out.append(bytes(data))
    return out


def ovstest_states(ovstest: str, frames: list[bytes], tmp: Path) -> list[str] | None:
    path = tmp / "frames.pcap"
    path.write_bytes(pcap_bytes(frames, [0] * len(frames)))
    done = subprocess.run(
        [ovstest, "test-conntrack", "pcap", str(path), "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode:
        return None  # it crashed: counted, not compared
    return [line.split(": ", 1)[1] for line in done.stdout.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ovstest", help="ovstest binary for the differential run")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = [(DATA / name).read_bytes() for name in SEEDS]
    frames = [read_capture(DATA / name).frames for name in SEEDS]
    counts = {
        "read": 0,
        "refused": 0,
        "frame sets": 0,
        "frames": 0,
        "ovstest crashed": 0,
        "frames compared": 0,
        "differing": 0,
    }
    shown = 0
    deadline = time.monotonic() + args.seconds
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        while time.monotonic() < deadline:
            counts[fuzz_file(rng, seeds, tmp)] += 1
            batch = mutated_frames(rng, frames)
            model = Conntrack(create_table(BackendSpec("per-zone")))
            capture_states = [
                ct_state_flags(s) for f in batch for s in model.execute([f], 0, True, 0)
            ]
            counts["frame sets"] += 1
            counts["frames"] += len(batch)
            if args.ovstest and batch:
                theirs = ovstest_states(args.ovstest, batch, tmp)
                if theirs is None:
                    counts["ovstest crashed"] += 1
                    continue
                counts["frames compared"] += len(theirs)
                for i, (mine, other) in enumerate(
                    zip(capture_states, theirs, strict=False)
                ):
                    if mine != other:
                        counts["differing"] += 1
                        if shown < 10:
                            shown += 1
                            print(
                                f"differs: ctbench {mine}, ovstest {other}: "
                                f"{batch[i].hex()}",
                                file=sys.stderr,
                            )
    print(", ".join(f"{key} {value:,}" for key, value in counts.items()))
    return 1 if counts["differing"] else 0


if __name__ == "__main__":
    sys.exit(main())
