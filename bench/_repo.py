"""Makes a bench/ script import the working tree's ctbench.

Run as a script, a tool under bench/ has bench/, not the repository, first
on sys.path, so ``import ctbench`` would find an installed copy, which may be
older than the code being measured.  Importing this module first puts the
repository ahead of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# First, even when PYTHONPATH already lists it behind another copy.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
sys.path.insert(0, str(ROOT))
