"""bench/stability_alarms.py still runs and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stability_alarms_prints_a_row_per_count_and_shape() -> None:
    done = subprocess.run(
        [sys.executable, "bench/stability_alarms.py", "--trials", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line[:7].strip().isdigit()]
    assert len(rows) == 4 * 5
    assert "1000  two modes     bimodal 100.0%" in done.stdout
