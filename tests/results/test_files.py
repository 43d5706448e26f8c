"""results.py: the schema-1 round trip and the load gate's refusals."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctbench import registry, results
from ctbench.backends import BackendSpec
from ctbench.errors import OutputError
from ctbench.model import Conntrack
from ctbench.results import Fill, Memory, PhaseResult, ResultsError, RunResult
from ctbench.scenarios import benchmark_zones
from ctbench.stats import summarize
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import make_run


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
    assert doc["schema"] == results.SCHEMA_VERSION == 4
    assert doc["unit"] == "us"
    assert doc["kind"] == "run" and doc["stopped_by"] is None
    assert doc["tool"] == {"name": "ctbench", "version": "0.1.0"}
    phase = doc["results"][0]["phases"]["ct_execute_commit"]
    samples = run.results[0].phases["ct_execute_commit"].samples
    assert phase["samples"] == samples
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


def test_a_failed_write_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "run.json"
    with pytest.raises(OutputError) as caught:
        results.save(make_run(n=5), out)
    assert str(caught.value) == f"cannot write {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


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


def _param(key: str, value: Any) -> str:
    doc = _document()
    doc["params"][key] = value
    return _text(doc)


def _fill(**values: Any) -> str:
    doc = _document()
    doc["results"][0]["fill"].update(values)
    return _text(doc)


def _without_result_key(key: str) -> str:
    doc = _document()
    del doc["results"][0][key]
    return _text(doc)


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
    "future schema": (_text(_future()), "schema 5 is newer"),
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
        "'params.entries' must be an integer, 1 or more",
    ),
    "param zero entries": (_param("entries", 0), "'params.entries' must be an"),
    "param zero zones": (_param("zones", 0), "'params.zones' must be an integer"),
    "param fractional iterations": (
        _param("iterations", 2.5),
        "'params.iterations' must be an integer, 1 or more",
    ),
    "param bool iterations": (
        _param("iterations", True),
        "'params.iterations' must be an integer, 1 or more",
    ),
    "param null iterations": (
        _param("iterations", None),
        "'params.iterations' must be an integer, 1 or more",
    ),
    "param zero batch size": (
        _param("batch_size", 0),
        "'params.batch_size' must be an integer, 1 or more",
    ),
    "param zero threads": (
        _param("n_threads", 0),
        "'params.n_threads' must be an integer, 1 or more",
    ),
    "param negative packets": (
        _param("n_pkts", -5),
        "'params.n_pkts' must be an integer, 1 or more",
    ),
    "param negative conn limit": (
        _param("conn_limit", -1),
        "'params.conn_limit' must be an integer, 0 or more",
    ),
    "param negative warmup": (
        _param("warmup", -1),
        "'params.warmup' must be an integer, 0 or more",
    ),
    "param change_conn 2": (_param("change_conn", 2), "'params.change_conn' must be 0"),
    "param change_conn bool": (
        _param("change_conn", True),
        "'params.change_conn' must be 0 or 1",
    ),
    "param zero sweep": (
        _param("sweep_every", 0),
        "'params.sweep_every' must be a number of seconds above 0, or null",
    ),
    "param ovs_stats string": (
        _param("ovs_stats", "yes"),
        "'params.ovs_stats' must be a boolean",
    ),
    "param ovs_stats int": (_param("ovs_stats", 1), "'params.ovs_stats' must be a"),
    "param parallel string": (
        _param("parallel", "no"),
        "'params.parallel' must be a boolean",
    ),
    "param backends string": (
        _param("backends", "single"),
        "'params.backends' must be a list of strings",
    ),
    "param backends numbers": (
        _param("backends", ["single", 2]),
        "'params.backends' must be a list of strings",
    ),
    "param gc number": (_param("gc", 0), "'params.gc' must be a string"),
    "started not a time": (
        _text({**_document(), "started": "yesterday"}),
        "'started' must be an ISO 8601 timestamp (got 'yesterday')",
    ),
    "started null": (
        _text({**_document(), "started": None}),
        "'started' must be an ISO 8601 timestamp",
    ),
    "finished number": (
        _text({**_document(), "finished": 1767225610}),
        "'finished' must be an ISO 8601 timestamp",
    ),
    "finished bad date": (
        _text({**_document(), "finished": "2026-02-30T00:00:00"}),
        "'finished' must be an ISO 8601 timestamp",
    ),
    "nan sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples"), [1.0])).replace(
            "[1.0]", "[NaN]"
        ),
        "'samples' must be a list of numbers",
    ),
    "huge sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples"), [1.7e308])),
        "list of numbers from 0 to 1e+12 microseconds",
    ),
    "negative sample": (
        _text(_set_result(("phases", "ct_execute_commit", "samples"), [-1.0])),
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
        _text(_set_result(("phases", "ct_execute_commit", "samples"), ["1"])),
        "'samples' must be a list of numbers",
    ),
    "float counter": (
        _text(_set_result(("phases", "ct_execute_commit", "counters"), {"x": 1.5})),
        "counters must be integers",
    ),
    "bool counter": (
        _text(_set_result(("phases", "ct_execute_commit", "counters"), {"x": True})),
        "counters must be integers",
    ),
    "negative counter": (
        _text(_set_result(("phases", "ct_execute_commit", "counters"), {"x": -1})),
        "counters must be integers, 0 or more",
    ),
    "fill mistyped": (
        _text(_set_result(("fill", "stored"), "lots")),
        "'fill.stored' has the wrong type",
    ),
    "fill unknown field": (
        _text(_set_result(("fill", "colour"), 1)),
        "unexpected field 'fill.colour'",
    ),
    "fill negative requested": (
        _fill(requested=-1, stored=0),
        "'fill.requested' must be 0 or more (got -1)",
    ),
    "fill negative stored": (
        _fill(stored=-1),
        "'fill.stored' must be 0 or more (got -1)",
    ),
    "fill negative refused": (
        _fill(refused=-3),
        "'fill.refused' must be 0 or more (got -3)",
    ),
    "fill negative attempted": (
        _fill(attempted=-1),
        "'fill.attempted' must be 0 or more (got -1)",
    ),
    "fill negative insert time": (
        _fill(insert_us=-2.5),
        "'fill.insert_us' must be 0 or more (got -2.5)",
    ),
    "fill stored beyond requested": (
        _fill(requested=10, stored=11, refused=0),
        "'fill.stored' + 'fill.refused' (11 + 0) exceed 'fill.requested' (10)",
    ),
    "fill stored and refused beyond requested": (
        _fill(requested=20_000, stored=15_000, refused=5_001),
        "(15,000 + 5,001) exceed 'fill.requested' (20,000)",
    ),
    "fill attempted beyond requested": (
        _fill(requested=10, stored=5, attempted=11),
        "'fill.attempted' (11) exceeds 'fill.requested' (10)",
    ),
    "memory negative bytes": (
        _text(_set_result(("memory", "bytes_per_conn"), -370.5)),
        "'memory.bytes_per_conn' must be 0 or more (got -370.5)",
    ),
    "memory negative fixed bytes": (
        _text(_set_result(("memory", "fixed_bytes"), -1)),
        "'memory.fixed_bytes' must be 0 or more (got -1)",
    ),
    "memory negative sample": (
        _text(_set_result(("memory", "sample_conns"), -1000)),
        "'memory.sample_conns' must be 0 or more (got -1000)",
    ),
    "memory mistyped": (
        _text(_set_result(("memory", "method"), 3)),
        "'memory.method' has the wrong type",
    ),
    "no backend": (_text(_set_result(("backend",), "")), "'backend' missing"),
    "backend number": (
        _text(_set_result(("backend",), 7)),
        "'backend' has the wrong type",
    ),
    "no label": (_without_result_key("label"), "'label' missing"),
    "empty label": (_text(_set_result(("label",), "")), "'label' missing"),
    "label number": (_text(_set_result(("label",), 3)), "'label' has the wrong type"),
    "label list": (
        _text(_set_result(("label",), ["single"])),
        "'label' has the wrong type",
    ),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_files_are_refused_in_one_line(tmp_path: Path, name: str) -> None:
    text, words = MALFORMED[name]
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        registry.load(path)
    message = str(info.value)
    assert words in message
    assert message.startswith(str(path))
    assert "\n" not in message


# Every results file kept in the repository (a comparison document is not
# one): each must keep loading.
FIXTURES = sorted(
    str(path.relative_to(ROOT))
    for path in [*ROOT.glob("tests/**/*.json"), *ROOT.glob("results/*.json")]
    if '"comparison_schema"' not in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_results_file_in_the_repository_loads(name: str) -> None:
    run = registry.load(ROOT / name)
    assert run.results and run.started


def test_loading_a_results_file_imports_no_command() -> None:
    """results.load checks the schema alone: the commands, and with them
    the model, the backends, the scenarios and the capture reader, are the
    registry's to bring in (ctbench.registry.load)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ctbench import results\n"
        f"run = results.load(Path({str(ROOT / 'tests/golden/zones.json')!r}))\n"
        "heavy = ('ctbench.model', 'ctbench.backends', 'ctbench.scenarios',\n"
        "         'ctbench.capture', 'ctbench.registry', 'ctbench.commands')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_the_registry_refuses_a_command_the_results_layer_takes(
    tmp_path: Path,
) -> None:
    doc = results.run_to_json(make_run(n=5))
    doc["command"] = "no-such-command"
    path = tmp_path / "run.json"
    path.write_text(_text(doc), encoding="utf-8")
    assert results.load(path).command == "no-such-command"
    with pytest.raises(ResultsError, match="unknown command 'no-such-command'"):
        registry.load(path)


def test_the_fixtures_are_found() -> None:
    assert "tests/golden/zones.json" in FIXTURES
    assert "results/baseline-zones-small.json" in FIXTURES


def test_benchmark_parameters_load() -> None:
    params = {
        "n_threads": 4,
        "n_pkts": 1000,
        "batch_size": 32,
        "change_conn": 1,
        "conn_limit": 0,
        "gc": "enabled",
        "backends": ["single"],
        "parallel": False,
    }
    run = make_run(n=5, command="benchmark", backends=("single",))
    run.params = params
    run.results[0].fill = Fill()  # benchmark has no fill phase
    run.results[0].memory = Memory()
    assert results.loads(results.dumps(run)) == run


THREADS_PARAMS: dict[str, Any] = {
    "n_threads": 4,
    "n_pkts": 1000,
    "batch_size": 32,
    "change_conn": 1,
    "conn_limit": 0,
}
# (command, parameters set, words of the refusal): what the command's own
# options refuse is refused on load, in the options' words.
OUT_OF_BOUNDS = [
    ("benchmark-zones", {"zones": 70_000}, "ZONES must be between 1 and 65534"),
    ("benchmark-zones", {"entries": 10**23}, "ENTRIES must be between 1 and 2^32-1"),
    ("benchmark-zones", {"batch_size": 64}, "--batch-size must be between 1 and 32"),
    ("benchmark-zones", {"sweep_every": 1e12}, "--sweep-every must be a number"),
    ("benchmark", {"batch_size": 64}, "BATCH_SIZE must be between 1 and 32"),
    ("benchmark", {"n_threads": 70_000}, "N_THREADS must be at most 65535"),
]


@pytest.mark.parametrize(("command", "changed", "words"), OUT_OF_BOUNDS)
def test_parameters_the_command_refuses_are_refused_on_load(
    tmp_path: Path, command: str, changed: dict[str, Any], words: str
) -> None:
    run = make_run(n=5, command=command)
    if command == "benchmark":
        run.params = dict(THREADS_PARAMS)
    doc = results.run_to_json(run)
    results.run_from_json(doc)  # as it was: fine
    doc["params"].update(changed)
    path = tmp_path / "bad.json"
    path.write_text(_text(doc), encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        registry.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 'params' hold what {command} refuses: ")
    assert words in message and "\n" not in message


def test_a_run_without_timestamps_round_trips() -> None:
    # A RunResult holds "" until its run sets the time; so does its file.
    run = make_run(n=5)
    run.finished = ""
    assert results.loads(results.dumps(run)) == run
    doc = results.run_to_json(run)
    del doc["started"], doc["finished"]
    loaded = results.run_from_json(doc)
    assert (loaded.started, loaded.finished) == ("", "")


@pytest.mark.parametrize("stop_at", ["memory", "fill", "inside a fill chunk"])
def test_interrupted_runs_load(monkeypatch: pytest.MonkeyPatch, stop_at: str) -> None:
    """Whatever point a run stops at, its file loads: the fill's checks hold
    for runs cut short.  Cut inside a chunk of the fill, the table holds
    connections the fill did not count as attempted, so stored + refused
    may exceed attempted; they never exceed requested."""
    calls = {"execute": 0}
    execute = Conntrack.execute

    def cut_inside_the_second_chunk(
        self: Conntrack, batch: Any, *args: Any, **kwargs: Any
    ) -> Any:
        calls["execute"] += 1
        if calls["execute"] == 2:
            execute(self, batch[:70], *args, **kwargs)
            raise KeyboardInterrupt
        return execute(self, batch, *args, **kwargs)

    monkeypatch.setattr(benchmark_zones, "FILL_CHUNK_FRAMES", 100)
    if stop_at == "inside a fill chunk":
        monkeypatch.setattr(Conntrack, "execute", cut_inside_the_second_chunk)
    seen: list[str] = []

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        seen.append(stage)

    def interrupted() -> bool:
        return stop_at in seen

    config = benchmark_zones.ZoneConfig(
        entries=100,
        zones=4,
        iterations=3,
        conn_limit=250,
        backends=(BackendSpec("single"),),
        memory_sample=50 if stop_at == "memory" else 0,
    )
    run = benchmark_zones.run_zones(config, progress, interrupted)
    assert not run.complete
    fill = run.results[0].fill
    if stop_at == "inside a fill chunk":
        assert (fill.requested, fill.attempted, fill.stored) == (400, 100, 170)
        assert fill.stored + fill.refused > 100  # attempted
    assert results.loads(results.dumps(run)) == run


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


# -- pooling runs of one scenario ---------------------------------------------


def test_pooling_refuses_summary_only_phases() -> None:
    from ctbench.stats import Summary

    imported = make_run(n=5)
    imported.results[0].phases["ct_execute_commit"] = PhaseResult(
        [], {}, Summary.from_ovstest(1.0, 9.0, 8.0, 4.0, 1000)
    )
    runs = [("ovstest.json", imported), ("b.json", make_run(n=5))]
    with pytest.raises(ResultsError, match="ovstest.json: it holds summary-only"):
        registry.pool(runs)


def _with_extra(run: RunResult, extra: dict[str, Any], **params: Any) -> RunResult:
    run.params.update(params)
    for result in run.results:
        result.extra = dict(extra)
    return run


def test_pooling_sums_the_totals_of_every_run() -> None:
    # ctbench merge z.json z5.json (20 and 5 rounds) once said 20 rounds.
    long = _with_extra(
        make_run(n=20),
        {
            "wall_s": 2.0,
            "rounds": 20,
            "swept": 3,
            "stored_at_end": 20_000,
            "harness_untimed_us_per_round": 10.0,
        },
        iterations=20,
    )
    short = _with_extra(
        make_run(n=5, seed=1),
        {
            "wall_s": 0.5,
            "rounds": 5,
            "swept": 1,
            "stored_at_end": 20_000,
            "harness_untimed_us_per_round": 20.0,
        },
        iterations=5,
    )
    pooled = registry.pool([("z.json", long), ("z5.json", short)])
    assert pooled.params["iterations"] == 25
    for result in pooled.results:
        assert result.extra == {
            "wall_s": 2.5,
            "rounds": 25,
            "swept": 4,
            "stored_at_end": 20_000,
            # (10 us x 20 rounds + 20 us x 5 rounds) / 25 rounds
            "harness_untimed_us_per_round": pytest.approx(12.0),
        }
        assert len(result.phases["ct_execute_commit"].samples) == 25
    assert results.loads(results.dumps(pooled)) == pooled


def test_pooling_weighs_the_harness_time_by_every_round_run() -> None:
    # The figure is per round run, warm-up included.
    runs = [
        _with_extra(
            make_run(n=rounds),
            {"rounds": rounds, "harness_untimed_us_per_round": untimed},
            iterations=rounds,
            warmup=5,
        )
        for rounds, untimed in ((20, 10.0), (5, 20.0))
    ]
    pooled = registry.pool([("a.json", runs[0]), ("b.json", runs[1])])
    figure = pooled.results[0].extra["harness_untimed_us_per_round"]
    assert figure == pytest.approx((10.0 * 25 + 20.0 * 10) / 35)


def test_pooling_drops_per_run_figures_that_differ() -> None:
    first = _with_extra(
        make_run(n=5), {"stored_at_end": 20_000, "note": "x", "only_here": 1}
    )
    second = _with_extra(make_run(n=5), {"stored_at_end": 19_000, "note": "x"})
    pooled = registry.pool([("a.json", first), ("b.json", second)])
    assert pooled.results[0].extra == {"note": "x"}


def test_pooling_drops_a_total_a_run_lacks() -> None:
    first = _with_extra(make_run(n=5), {"wall_s": 1.0, "rounds": 5, "swept": 0})
    second = _with_extra(make_run(n=5), {"wall_s": 1.0, "swept": 0})
    pooled = registry.pool([("a.json", first), ("b.json", second)])
    # Neither run's 5 rounds alone would describe the pooled samples.
    assert pooled.results[0].extra == {"wall_s": 2.0, "swept": 0}


def test_pooling_benchmark_runs_sums_packets_and_computes_rates_again() -> None:
    def threads_run(
        wall_ms: float, per_thread: list[int], thread_ms: list[float]
    ) -> RunResult:
        packets = sum(per_thread)
        pps = packets / (wall_ms / 1e3)
        return _with_extra(
            make_run(n=5, command="benchmark", backends=("single",)),
            {
                "wall_ms": wall_ms,
                "packets": packets,
                "pps": pps,
                "pps_per_thread": pps / 2,
                "thread_packets": per_thread,
                "thread_batches": [p // 32 for p in per_thread],
                "thread_ms": thread_ms,
                "connections": 2,
            },
            n_threads=2,
        )

    pooled = registry.pool(
        [
            ("a.json", threads_run(100.0, [512, 512], [90.0, 95.0])),
            ("b.json", threads_run(300.0, [640, 384], [280.0, 290.0])),
        ]
    )
    assert pooled.results[0].extra == {
        # No single barrier-to-barrier time: each run's, in order.
        "wall_ms_per_run": [100.0, 300.0],
        "packets": 2048,
        "pps": pytest.approx(5120.0),
        "pps_per_thread": pytest.approx(2560.0),
        "thread_packets": [1152, 896],
        "thread_batches": [36, 28],
        "thread_ms": [370.0, 385.0],
        "connections": 2,
    }


def test_pooled_real_runs_count_the_rounds_they_hold() -> None:
    def run(iterations: int) -> RunResult:
        config = benchmark_zones.ZoneConfig(
            entries=50,
            zones=2,
            iterations=iterations,
            backends=(BackendSpec("single"),),
            memory_sample=0,
        )
        return benchmark_zones.run_zones(config)

    pooled = registry.pool([("a.json", run(4)), ("b.json", run(2))])
    result = pooled.results[0]
    assert pooled.params["iterations"] == result.extra["rounds"] == 6
    for phase in result.phases.values():
        assert len(phase.samples) == 6
