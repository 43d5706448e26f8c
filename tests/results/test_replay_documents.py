"""Hand-edited (or older) replay results files: every mutation of a real
one either loads and reports, or is refused in one line, never a
traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult, assert_one_line_error, run_cli
from tests.helpers.paths import CAPTURES

# What a hand-edit may put anywhere: each JSON type, out-of-range numbers,
# and containers holding the wrong things.
VALUES: list[Any] = [
    None,
    -1,
    0,
    2.5,
    1e300,
    10**30,
    True,
    "x",
    [],
    ["x"],
    {},
    {"a": "x"},
    {"a": -1},
]
DELETE = object()


@pytest.fixture(scope="module")
def replay_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real replay of two captures (twice each), on two backends."""
    path = tmp_path_factory.mktemp("replay") / "replay.json"
    args = [CAPTURES / "tcp.pcap", CAPTURES / "mixed.pcap", "--repeat", "2"]
    result = run_cli(
        "replay", *args, "-q", "-b", "single", "-b", "per-zone", "-o", path
    )
    assert result.code == 0, result.err
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in the document (a list's first two items only)."""
    if at:
        yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:2]):
            yield from _paths(value, (*at, i))


def _mutated(doc: dict[str, Any], at: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    parent = out
    for key in at[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[at[-1]]
    else:
        parent[at[-1]] = value
    return out


def _places(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The document's places, but the second backend's (alike to the
    first's) and the header's (the schema gate has its own tests)."""
    return [
        at
        for at in _paths(doc)
        if at[0] not in ("schema", "tool", "kind") and at[:2] != ("results", 1)
    ]


def test_every_mutation_reports_or_is_one_line(
    tmp_path: Path, replay_document: dict[str, Any]
) -> None:
    path = tmp_path / "edited.json"
    outcomes = {"reported": 0, "refused": 0}
    for at in _places(replay_document):
        deletable = not isinstance(at[-1], int)
        for value in VALUES + ([DELETE] if deletable else []):
            path.write_text(json.dumps(_mutated(replay_document, at, value)))
            # A traceback escapes run_cli and fails the test with it.
            code, out, err = run_cli("report", path)
            where = f"{'.'.join(map(str, at))} = {value!r}"
            if code == 0:
                outcomes["reported"] += 1
                assert out, where
            else:
                outcomes["refused"] += 1
                assert_one_line_error(CliResult(code, out, err))
    # Both outcomes happen: the gate refuses some, and lets sound edits by.
    assert outcomes["reported"] > 100 and outcomes["refused"] > 100, outcomes


@pytest.mark.parametrize(
    ("at", "value", "words"),
    [
        (("params",), {}, None),
        (("results", 0, "extra", "states"), -1, "'extra.states' has the wrong type"),
        (
            ("results", 0, "extra", "invalid_reasons", "not IPv4 or IPv6"),
            "x",
            "'extra.invalid_reasons' has the wrong type",
        ),
        (
            ("params", "capture", "link_types"),
            None,
            "replay refuses: 'capture' must be an",
        ),
        (
            ("params", "capture", "duration_s"),
            -1,
            "replay refuses: 'capture' must be an",
        ),
        (("params", "zones"), 70_000, "replay refuses: --zones must be between 1"),
        (("params", "batch_size"), 64, "replay refuses: batch_size must be between"),
        (("params", "files"), [], "replay refuses: at least one capture file"),
        (("params", "clock"), "moon", "replay refuses: --clock must be one of"),
    ],
)
def test_the_edits_that_crashed_report(
    tmp_path: Path,
    replay_document: dict[str, Any],
    at: tuple[Any, ...],
    value: Any,
    words: str | None,
) -> None:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(_mutated(replay_document, at, value)))
    code, out, err = run_cli("report", path)
    if words is None:
        assert code == 0, err
        assert "capture: ? packets in ? batches of up to ?" in out
    else:
        assert words in assert_one_line_error(CliResult(code, out, err))
