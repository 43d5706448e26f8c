"""`ctbench backends --memory`: one row per backend (tabulate, plain text)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from tabulate import tabulate

from ctbench.memory import BackendMemory
from ctbench.model import N_EXP_LISTS
from ctbench.report.numbers import fmt_bytes


def format_memory_table(rows: Sequence[BackendMemory]) -> str:
    """The rows as a text table, with a note on what was measured."""
    if not rows:
        return "no backends"
    fill = rows[0].entries * rows[0].zones
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
                fmt_bytes(r.projected_bytes),
            )
            for r in rows
        ],
        headers=(
            "backend",
            "options",
            "empty table (B)",
            "",
            "per conn (B)",
            "sample conns",
            f"at {fill:,} conns",
        ),
        colalign=("left", "left", "right", "right", "right", "right", "right"),
        disable_numparse=True,
    )
    r = rows[0]
    note = (
        f"Measured with tracemalloc over the model: empty table = a new model "
        f"(the table's containers plus the {N_EXP_LISTS} expiration lists); per "
        f"conn = growth / connections over a sample of up to "
        f"{r.figures.sample_conns:,} ovstest connections in {r.zones:,} zones "
        f"(Connection, key, table node, expiration entry, and any map a zone "
        f"needs); 'at N conns' = empty + per conn x {r.entries:,} entries x "
        f"{r.zones:,} zones."
    )
    return f"{table}\n\n{textwrap.fill(note, 88)}"
