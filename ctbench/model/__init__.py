"""The conntrack model: OVS's lib/conntrack.c semantics over a pluggable table.

:class:`Conntrack` is the model; the other names are its value types and
the constants scenarios and tests use.
"""

from ctbench.model.columns import N_EXP_LISTS
from ctbench.model.conntrack import (
    BULK_MIN_FRAMES,
    SWEEP_BATCH_DIVISOR,
    Conntrack,
    shared_slots,
)
from ctbench.model.records import (
    DEFAULT_CONN_LIMIT,
    ConnEntry,
    Counters,
    FlushResult,
    Limits,
    NatAction,
    SweepResult,
)
from ctbench.model.states import STATE_NAMES, UDP_TIMEOUTS_S

__all__ = [
    "BULK_MIN_FRAMES",
    "DEFAULT_CONN_LIMIT",
    "N_EXP_LISTS",
    "STATE_NAMES",
    "SWEEP_BATCH_DIVISOR",
    "UDP_TIMEOUTS_S",
    "shared_slots",
    "ConnEntry",
    "Conntrack",
    "Counters",
    "FlushResult",
    "Limits",
    "NatAction",
    "SweepResult",
]
