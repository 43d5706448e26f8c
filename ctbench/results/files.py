"""Results files on disk: compact JSON, written atomically, loaded checked.

The file helpers underneath (atomic write, regular-file reads) are
:mod:`ctbench.files`.  This module knows no command: :func:`load` checks a
file against the schema, and against the commands it is given.  Which
commands exist is the registry's to say (:func:`ctbench.registry.load`
passes them), so that loading a results file imports neither the model,
the backends, the scenarios nor the capture reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ctbench.files import ReadError, read_bytes, write_file
from ctbench.results.run import RunResult
from ctbench.results.schema import ParamsCheck, ResultsError, run_from_json, run_to_json


def dumps(run: RunResult) -> str:
    """Compact JSON: without indent, json uses its C encoder (4.2 M samples:
    3.1 s instead of 5.5 s here; formatting the floats is the rest)."""
    return json.dumps(run_to_json(run), separators=(",", ":")) + "\n"


def save(run: RunResult, path: Path) -> None:
    """Write ``run``'s results file, or raise the one-line OutputError."""
    write_file(path, dumps(run))


def parse_json(text: str, where: str) -> object:
    """The JSON document in ``text``, or a one-line ResultsError."""
    if not text.strip():
        raise ResultsError(f"{where}: empty file, not a ctbench results file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{where}: not valid JSON (truncated or corrupt?): {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ResultsError(f"{where}: not valid JSON (nested too deeply)") from None


def read_text(path: Path) -> str:
    """A regular file's UTF-8 text (a symlink is followed), or a one-line
    ResultsError (see :func:`ctbench.files.read_bytes`)."""
    try:
        raw = read_bytes(path)
    except ReadError as exc:
        raise ResultsError(str(exc)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultsError(
            f"{path}: not valid JSON (not UTF-8 text), not a ctbench results file"
        ) from None


def loads(
    text: str,
    where: str = "results",
    commands: Mapping[str, ParamsCheck] | None = None,
) -> RunResult:
    """The run in ``text``; ``commands`` are the commands it may be of, each
    with the check of its parameters (any command, unchecked, when None)."""
    return run_from_json(parse_json(text, where), where, commands)


def load(path: Path, commands: Mapping[str, ParamsCheck] | None = None) -> RunResult:
    return loads(read_text(path), str(path), commands)
