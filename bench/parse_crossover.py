"""Per-frame versus numpy parsing of ovstest's frames, by frames per call.

udp4_keys() switches to numpy at VECTOR_MIN_FRAMES frames of one length;
this prints both paths' best time for several call sizes (interleaved), the
measurement behind that constant.

    python bench/parse_crossover.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from functools import partial

import _repo  # noqa: F401  (the working tree's ctbench first)

from ctbench.packets import (
    OVSTEST_FRAME_LEN,
    _udp4_keys_each,
    _udp4_keys_vector,
)
from ctbench.scenarios.zones import build_batches

SIZES = (16, 32, 64, 128, 256, 512, 1024, 4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    frames = [batch[0] for batch in build_batches(max(SIZES), 1)]
    gc.disable()
    print("frames  per-frame us  numpy us  numpy/per-frame")
    for n in SIZES:
        part = frames[:n]
        paths: dict[str, Callable[[], object]] = {
            "each": partial(_udp4_keys_each, part, 1),
            "numpy": partial(_udp4_keys_vector, part, 1, OVSTEST_FRAME_LEN),
        }
        best = dict.fromkeys(paths, float("inf"))
        for _ in range(args.rounds):
            for name, fn in paths.items():
                start = time.perf_counter_ns()
                fn()
                best[name] = min(best[name], (time.perf_counter_ns() - start) / 1e3)
        ratio = best["numpy"] / best["each"]
        print(f"{n:6d}  {best['each']:12.1f}  {best['numpy']:8.1f}  {ratio:15.2f}")
    gc.enable()


if __name__ == "__main__":
    main()
