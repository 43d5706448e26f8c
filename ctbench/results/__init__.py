"""Run results: the in-memory model, its JSON file, merging runs.

``load()`` checks every results file read from disk against the schema;
:func:`ctbench.registry.load` checks its command too.
"""

from ctbench.results.files import dumps, load, loads, parse_json, read_text, save
from ctbench.results.merge import (
    Pooling,
    file_labels,
    merge_runs,
    pool_runs,
    pooled_runs,
    side_by_side,
)
from ctbench.results.run import (
    COMPLETE,
    FAILED,
    INTERRUPTED,
    BackendResult,
    Fill,
    Memory,
    PhaseResult,
    RunResult,
    distinct_labels,
)
from ctbench.results.schema import (
    SCHEMA_VERSION,
    ResultsError,
    check_header,
    run_from_json,
    run_to_json,
)

__all__ = [
    "COMPLETE",
    "FAILED",
    "INTERRUPTED",
    "SCHEMA_VERSION",
    "BackendResult",
    "Fill",
    "Memory",
    "PhaseResult",
    "Pooling",
    "ResultsError",
    "RunResult",
    "check_header",
    "distinct_labels",
    "dumps",
    "file_labels",
    "load",
    "loads",
    "merge_runs",
    "pool_runs",
    "pooled_runs",
    "parse_json",
    "read_text",
    "run_from_json",
    "run_to_json",
    "save",
    "side_by_side",
]
