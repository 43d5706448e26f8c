"""results.py: the schema-1 round trip and the load gate's refusals."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from run_factory import make_run

from ctbench import results
from ctbench.results import PhaseResult, ResultsError, RunResult
from ctbench.stats import summarize


def _document() -> dict[str, Any]:
    return results.run_to_json(make_run(n=20))


def _text(doc: Any) -> str:
    return json.dumps(doc)


# -- round trip ---------------------------------------------------------------


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    run = make_run(n=50, seed=3, complete=False)
    path = tmp_path / "run.json"
    results.save(run, path)
    assert results.load(path) == run


def test_file_records_schema_tool_and_exact_statistics() -> None:
    run = make_run(n=50)
    doc = json.loads(results.dumps(run))
    assert doc["schema"] == results.SCHEMA_VERSION == 2
    assert doc["kind"] == "run" and doc["stopped_by"] is None
    assert doc["tool"] == {"name": "ctbench", "version": "0.1.0"}
    phase = doc["results"][0]["phases"]["ct_execute_commit"]
    samples = run.results[0].phases["ct_execute_commit"].samples_us
    assert phase["samples_us"] == samples
    expected = summarize(samples)
    assert expected is not None and phase["stats"] == expected.as_dict()
    assert phase["counters"] == {"lookups": 200_000, "created": 200_000, "removed": 0}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
        max_size=30,
    )
)
def test_any_samples_round_trip(samples: list[float]) -> None:
    run = make_run(n=1)
    run.results[0].phases["ct_execute_commit"] = PhaseResult(samples, {"lookups": 1})
    assert results.loads(results.dumps(run)) == run


def test_saved_file_gets_the_usual_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        results.save(make_run(n=5), tmp_path / "run.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run.json").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left


def test_replacing_a_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    path.chmod(0o600)
    results.save(make_run(n=5), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert results.load(path) == make_run(n=5)


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "run.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    results.save(make_run(n=5), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert results.load(target) == make_run(n=5)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    # The temporary file went beside the target, and is gone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "store"]
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "run.json")
    results.save(make_run(n=5), link)
    assert link.is_symlink() and results.load(tmp_path / "run.json") == make_run(n=5)


# -- the load gate ------------------------------------------------------------


def _future() -> dict[str, Any]:
    return {**_document(), "schema": results.SCHEMA_VERSION + 1}


def _drop(key: str) -> dict[str, Any]:
    doc = _document()
    del doc[key]
    return doc


def _set_result(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = _document()
    target = doc["results"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


MALFORMED: dict[str, tuple[str, str]] = {
    # name: (file text, expected words in the message)
    "empty": ("", "empty file"),
    "not json": ("hello, world\n", "not valid JSON"),
    "not json csv": ("phase,backend\nflush,single\n", "not valid JSON"),
    "json list": ("[1, 2]", "not a ctbench results file"),
    "other json": (_text({"name": "x", "version": 1}), "not a ctbench results file"),
    "other tool": (
        _text({**_document(), "tool": {"name": "pyperf"}}),
        "not a ctbench results file",
    ),
    "no schema": (_text(_drop("schema")), "not a ctbench results file"),
    "future schema": (_text(_future()), "schema 3 is newer"),
    "schema 0": (_text({**_document(), "schema": 0}), "unknown schema 0"),
    "schema string": (_text({**_document(), "schema": "1"}), "must be an integer"),
    "schema bool": (_text({**_document(), "schema": True}), "must be an integer"),
    "unknown command": (
        _text({**_document(), "command": "dance"}),
        "unknown command 'dance'",
    ),
    "no results": (_text(_drop("results")), "'results' must be a list"),
    "no complete": (_text(_drop("complete")), "'complete' must be a boolean"),
    "params not object": (_text({**_document(), "params": []}), "'params'"),
    "param mistyped": (
        _text({**_document(), "params": {"entries": "many"}}),
        "'params.entries' must be a number",
    ),
    "nan sample": (
        _text(
            _set_result(("phases", "ct_execute_commit", "samples_us"), [1.0])
        ).replace("[1.0]", "[NaN]"),
        "'samples_us' must be a list of numbers",
    ),
    "huge sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples_us"), [1.7e308])),
        "list of numbers from 0 to 1e+12 microseconds",
    ),
    "negative sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples_us"), [-1.0])),
        "list of numbers from 0 to 1e+12 microseconds",
    ),
    "empty results": (
        _text({**_document(), "results": []}),
        "'results' is empty: no backend ran",
    ),
    "unknown status": (
        _text(_set_result(("status",), "lost")),
        "unknown status 'lost'",
    ),
    "summary-only phase with samples": (
        _text(_set_result(("phases", "ct_execute_commit", "summary_only"), True)),
        "a summary-only phase has no samples",
    ),
    "string sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples_us"), ["1"])),
        "'samples_us' must be a list of numbers",
    ),
    "float counter": (
        _text(_set_result(("phases", "ct_execute_commit", "counters"), {"x": 1.5})),
        "counters must be integers",
    ),
    "bool counter": (
        _text(_set_result(("phases", "ct_execute_commit", "counters"), {"x": True})),
        "counters must be integers",
    ),
    "fill mistyped": (
        _text(_set_result(("fill", "stored"), "lots")),
        "'fill.stored' has the wrong type",
    ),
    "fill unknown field": (
        _text(_set_result(("fill", "colour"), 1)),
        "unexpected field 'fill.colour'",
    ),
    "memory mistyped": (
        _text(_set_result(("memory", "method"), 3)),
        "'memory.method' has the wrong type",
    ),
    "no backend": (_text(_set_result(("backend",), "")), "'backend' missing"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_files_are_refused_in_one_line(tmp_path: Path, name: str) -> None:
    text, words = MALFORMED[name]
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        results.load(path)
    message = str(info.value)
    assert words in message
    assert message.startswith(str(path))
    assert "\n" not in message


@pytest.mark.parametrize("fraction", [0.01, 0.25, 0.5, 0.9, 0.999])
def test_truncated_files_are_refused(tmp_path: Path, fraction: float) -> None:
    text = results.dumps(make_run(n=20))
    path = tmp_path / "cut.json"
    path.write_text(text[: int(len(text) * fraction)], encoding="utf-8")
    with pytest.raises(ResultsError, match="not valid JSON \\(truncated or corrupt"):
        results.load(path)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ResultsError, match="not UTF-8"):
        results.load(path)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_paths_are_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nope.json"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ResultsError, match="cannot read"):
        results.load(path)


def _unblock_fifo_later(path: Path, done: threading.Event) -> threading.Thread:
    """A thread that, unless ``done`` is set within 5 s, opens the FIFO for
    writing and closes it: a reader blocked in open() then reads an empty
    file, so a regression fails the test instead of hanging it."""

    def unblock() -> None:
        if done.wait(5):
            return
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader: nothing to unblock
            pass

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("through_symlink", [False, True])
def test_a_fifo_is_refused_without_blocking(
    tmp_path: Path, through_symlink: bool
) -> None:
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    path = fifo
    if through_symlink:
        path = tmp_path / "link.json"
        path.symlink_to(fifo)
    done = threading.Event()
    thread = _unblock_fifo_later(fifo, done)
    try:
        with pytest.raises(ResultsError) as info:
            results.load(path)
    finally:
        done.set()
        thread.join()
    assert str(info.value) == f"{path}: cannot read: not a regular file (a FIFO)"


def test_a_symlink_to_a_results_file_loads(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    results.save(make_run(n=5), target)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    assert results.load(link) == make_run(n=5)


# -- merging for side-by-side reports ----------------------------------------


def test_merge_labels_each_backend_by_file() -> None:
    merged = results.merge_runs(
        [("a.json", make_run(n=5)), ("b.json", make_run(n=5, complete=False))]
    )
    labels = [r.label for r in merged.results]
    assert labels == [
        "a.json:single",
        "a.json:per-zone",
        "b.json:single",
        "b.json:per-zone",
    ]
    assert not merged.complete
    assert merged.params == make_run(n=5).params


def test_merge_refuses_different_commands() -> None:
    runs: list[tuple[str, RunResult]] = [
        ("a.json", make_run(n=5)),
        ("b.json", make_run(n=5, command="benchmark")),
    ]
    with pytest.raises(ResultsError, match="different commands"):
        results.merge_runs(runs)
