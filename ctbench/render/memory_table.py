"""`ctbench backends --memory`: one row per backend (tabulate, plain text)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Final

from tabulate import tabulate

from ctbench.memory import BackendMemory
from ctbench.model import N_EXP_LISTS
from ctbench.report.numbers import fmt_bytes, plural

# Below this many sampled connections, one-off allocations (a dict's first
# resize, a zone's first map) outweigh the per-connection growth: with
# --entries 1 --zones 1 'per conn' read 24,009 bytes.
SMALL_SAMPLE: Final = 1000


def format_memory_table(rows: Sequence[BackendMemory]) -> str:
    """The rows as a text table, with a note on what was measured."""
    if not rows:
        return "no backends"
    stored = rows[0].stored
    table = tabulate(
        [
            (
                r.spec.name,
                ",".join(f"{k}={v}" for k, v in sorted(r.figures.options.items()))
                or "-",
                f"{r.figures.fixed_bytes:,}",
                fmt_bytes(r.figures.fixed_bytes),
                f"{r.figures.bytes_per_conn:,.1f}",
                f"{r.figures.sample_conns:,}",
                plural(r.figures.zones, "zone"),
                fmt_bytes(r.projected_bytes),
            )
            for r in rows
        ],
        headers=(
            "backend",
            "options",
            "empty table (B)",
            "empty table",
            "per conn (B)",
            "sample conns",
            "sample zones",
            f"at {plural(stored, 'conn')}",
        ),
        colalign=("left", "left") + ("right",) * 6,
        disable_numparse=True,
    )
    r = rows[0]
    note = (
        "Measured with tracemalloc over the model: empty table = a new model "
        f"(the table's containers and the model's {N_EXP_LISTS} expiration "
        "lists, as empty columns); per conn = growth / connections over a "
        f"sample of up to {plural(r.figures.sample_conns, 'ovstest connection')}, "
        f"{r.entries:,} per zone as in the run (the key, the table's node, the "
        "connection's column slots, and any map a zone needs); 'at N conns' = "
        f"empty + per conn x the connections stored, ENTRIES x ZONES "
        f"({r.entries:,} x {r.zones:,})"
    )
    if r.stored < r.entries * r.zones:
        note += (
            f", clipped to {r.conn_limit:,} by --conn-limit as benchmark-zones "
            "clips its fill (0 for no limit)."
        )
    else:
        note += "."
    small = min(r.figures.sample_conns for r in rows)
    if small < SMALL_SAMPLE:
        note += (
            f" A sample of {plural(small, 'connection')} is too small: its "
            "'per conn' is mostly one-off allocations; give --entries x "
            f"--zones of {SMALL_SAMPLE:,} or more."
        )
    return f"{table}\n\n{textwrap.fill(note, 88)}"
