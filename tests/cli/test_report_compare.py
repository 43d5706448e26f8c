"""ctbench report and ctbench compare, in-process: output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctbench import results
from ctbench.results import RunResult
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import SavedRuns, make_run


@pytest.fixture
def base(saved_runs: SavedRuns) -> Path:
    return saved_runs.save("base.json")


# -- report -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["patch", "table", "markdown", "csv", "json"])
def test_report_renders_one_file_in_every_format(base: Path, fmt: str) -> None:
    result = run_cli("report", base, "--format", fmt)
    assert result.code == 0, result.err
    assert "per-zone" in result.out
    if fmt == "json":
        assert results.loads(result.out) == results.load(Path(base))


def test_report_rich_on_a_narrow_pipe_keeps_every_figure(base: Path) -> None:
    """Piped, rich takes COLUMNS (80 by default): a narrow one cut numbers
    to "…"."""
    code, out, _ = run_cli("report", base, "--format", "rich", env={"COLUMNS": "30"})
    assert code == 0 and "…" not in out
    words = " ".join(out.split())  # the note wraps at the table's width
    assert "NOTE: this table needs" in words and "30 were available" in words


def test_report_shows_several_files_side_by_side(
    saved_runs: SavedRuns, base: Path
) -> None:
    other = saved_runs.save("branch.json", scale=1.3)
    result = run_cli("report", base, other, "--format", "table")
    assert result.code == 0, result.err
    for label in ("base.json:single", "branch.json:single", "branch.json:per-zone"):
        assert label in result.out
    assert result.err == ""


def test_report_labels_clashing_names_by_path(
    tmp_path: Path, saved_runs: SavedRuns
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = saved_runs.save("a/run.json")
    second = saved_runs.save("b/run.json")
    result = run_cli("report", first, second, "--format", "csv")
    assert f"{first}:single" in result.out and f"{second}:single" in result.out


def test_report_json_with_several_files_is_a_list(
    saved_runs: SavedRuns, base: Path
) -> None:
    other = saved_runs.save("other.json", scale=2)
    result = run_cli("report", base, other, "--format", "json")
    assert result.code == 0
    documents = json.loads(result.out)
    assert [d["schema"] for d in documents] == [results.SCHEMA_VERSION] * 2
    assert results.run_from_json(documents[1]) == results.load(Path(other))


def test_report_sets_each_backend_against_itself_in_the_first_file(
    saved_runs: SavedRuns,
) -> None:
    # report a.json b.json once said "b.json:per-zone is 51% faster than
    # a.json:single": two designs, not two files.
    a = saved_runs.save("a.json")
    b = saved_runs.save("b.json", scale=1.3)
    result = run_cli("report", a, b, "--format", "markdown")
    assert result.code == 0, result.err
    lines = [ln for ln in result.out.splitlines() if " than " in ln]
    assert len(lines) == 4  # two backends, two phases
    for line in lines:
        backend = line.split(" b.json:")[1].split()[0]
        assert f"b.json:{backend} is 30.0% slower than a.json:{backend} (" in line


def test_report_warns_about_different_parameters(
    saved_runs: SavedRuns, base: Path
) -> None:
    other = saved_runs.save("other.json", params={"entries": 5})
    result = run_cli("report", base, other, "--format", "table")
    assert result.code == 0
    assert "warning: different parameters: entries is 1000" in result.err


def test_report_refuses_different_commands(saved_runs: SavedRuns, base: Path) -> None:
    other = saved_runs.save("threads.json", command="benchmark")
    result = run_cli("report", base, other)
    assert result.code == 2
    assert "different commands" in result.err
    assert run_cli("report", base, other).code == 2


def test_report_needs_a_file() -> None:
    assert run_cli("report").code == 2


# -- compare: exit statuses and verdicts --------------------------------------


def _sharded(saved_runs: SavedRuns, name: str, *specs: str) -> Path:
    """A run of sharded tables under these labels: NAME[:shards=N], whose
    effective option is N shards, 64 by default."""
    run = make_run(backends=[f"b{i}" for i in range(len(specs))])
    for result, spec in zip(run.results, specs, strict=True):
        shards = int(spec.partition("=")[2] or 64)
        result.backend, result.label = "sharded", spec
        result.options = {"shards": shards}
    run.params["backends"] = list(specs)
    return saved_runs.save(name, run)


def test_compare_pairs_one_table_typed_two_ways(saved_runs: SavedRuns) -> None:
    a = _sharded(saved_runs, "a.json", "sharded", "sharded:shards=8")
    b = _sharded(saved_runs, "b.json", "sharded:shards=64", "sharded:shards=16")
    result = run_cli("compare", a, b, "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert {row["backend"] for row in doc["rows"]} == {"sharded -> sharded:shards=64"}
    assert "pairs" not in doc["settings"]
    asked = run_cli(
        "compare", a, b, "--pair", "sharded:shards=8", "sharded:shards=16",
        "--format", "json",
    )  # fmt: skip
    assert asked.code == 0, asked.err
    doc = json.loads(asked.out)
    assert {row["backend"] for row in doc["rows"]} == {
        "sharded -> sharded:shards=64",
        "sharded:shards=8 -> sharded:shards=16",
    }
    assert doc["settings"]["pairs"] == [["sharded:shards=8", "sharded:shards=16"]]


def test_compare_pair_of_a_label_not_there_is_one_line(saved_runs: SavedRuns) -> None:
    a = _sharded(saved_runs, "a.json", "sharded")
    b = _sharded(saved_runs, "b.json", "sharded:shards=64")
    result = run_cli("compare", a, b, "--pair", "sharded", "shards=64")
    assert result.code == 2
    assert result.err == (
        f"ctbench: error: --pair: {b} has no backend shards=64 (it has "
        "sharded:shards=64)\n"
    )


def test_merge_pools_one_table_typed_two_ways(
    tmp_path: Path, saved_runs: SavedRuns
) -> None:
    a = _sharded(saved_runs, "a.json", "sharded", "sharded:shards=8")
    b = _sharded(saved_runs, "b.json", "sharded:shards=8", "sharded:shards=64")
    out = tmp_path / "m.json"
    result = run_cli("merge", a, b, "-o", str(out))
    assert result.code == 0, result.err
    pooled = results.load(out)
    by_shards = {r.options["shards"]: r for r in pooled.results}
    runs = [results.load(Path(a)), results.load(Path(b))]
    for shards, label in ((64, "sharded"), (8, "sharded:shards=8")):
        assert by_shards[shards].label == label
        samples = by_shards[shards].phases["flush_full_zone"].samples
        assert samples == [
            s
            for run in runs
            for r in run.results
            if r.options["shards"] == shards
            for s in r.phases["flush_full_zone"].samples
        ]


def test_compare_file_with_itself(base: Path) -> None:
    result = run_cli("compare", base, base)
    assert result.code == 0
    assert "OK: no regression (4 unchanged); exit status 0" in result.out
    assert "Work counters: identical." in result.out
    assert "percentile bootstrap (Efron & Tibshirani 1993" in result.out
    assert run_cli("compare", base, base).code == 0


@pytest.mark.parametrize("resamples", ["1", "999"])
def test_compare_refuses_too_few_resamples_in_one_line(
    base: Path, resamples: str
) -> None:
    """--resamples 1 once called a file compared with itself slower."""
    result = run_cli("compare", base, base, "--resamples", resamples)
    err = assert_one_line_error(result)
    assert result.out == ""
    assert "--resamples" in err and "1000<=x<=100000" in err


def test_compare_regression_exits_1(saved_runs: SavedRuns, base: Path) -> None:
    slower = saved_runs.save("slower.json", scale=1.3)
    result = run_cli("compare", base, slower)
    assert result.code == 1
    assert result.out.count("  slower\n") == 4
    assert "FAIL: regression (4 slower)" in result.out
    assert run_cli("compare", base, slower).code == 1


def test_compare_faster_exits_0(saved_runs: SavedRuns, base: Path) -> None:
    faster = saved_runs.save("faster.json", scale=0.7)
    result = run_cli("compare", base, faster)
    assert result.code == 0
    assert "(4 faster)" in result.out


def test_compare_inconclusive_exits_3_only_when_strict(
    saved_runs: SavedRuns, base: Path
) -> None:
    edge = saved_runs.save("edge.json", scale=1.1)
    assert run_cli("compare", base, edge).code == 0
    strict = run_cli("compare", base, edge, "--strict")
    assert strict.code == 3
    assert "INCONCLUSIVE (--strict) (4 inconclusive)" in strict.out
    assert run_cli("compare", base, edge, "--strict").code == 3


@pytest.mark.parametrize("threshold", ["40%", "0.4"])
def test_compare_threshold_spellings(
    saved_runs: SavedRuns, base: Path, threshold: str
) -> None:
    slower = saved_runs.save("slower.json", scale=1.3)
    result = run_cli("compare", base, slower, "--threshold", threshold)
    assert result.code == 0
    assert "threshold 40.0%" in result.out


@pytest.mark.parametrize("threshold", ["40", "abc", "-1%", "0%"])
def test_compare_bad_threshold_exits_2(base: Path, threshold: str) -> None:
    result = run_cli("compare", base, base, "--threshold", threshold)
    assert result.code == 2
    assert "--threshold" in result.err
    assert run_cli("compare", base, base, "--threshold", threshold).code == 2


def test_compare_stat_and_seed_options(saved_runs: SavedRuns, base: Path) -> None:
    other = saved_runs.save("other.json", seed=1)
    out = run_cli("compare", base, other, "--stat", "p95", "--seed", "5").out
    assert "p95* ratio" in out and "seed 5" in out
    again = run_cli("compare", base, other, "--stat", "p95", "--seed", "5").out
    assert out == again


# -- compare: counters --------------------------------------------------------


@pytest.fixture
def other_counters(saved_runs: SavedRuns) -> Path:
    counters = {"lookups": 200_000, "created": 150_000, "removed": 0}
    return saved_runs.save("work.json", counters=counters)


def test_counter_mismatch_is_reported(base: Path, other_counters: Path) -> None:
    result = run_cli("compare", base, other_counters)
    assert result.code == 0
    assert "Work counters differ:" in result.out
    assert "single ct execute (commit) created: 200,000 -> 150,000" in result.out


def test_counter_mismatch_fails_when_they_must_match(
    base: Path, other_counters: Path
) -> None:
    result = run_cli("compare", base, other_counters, "--counters-must-match")
    assert result.code == 1
    assert "work counters differ (--counters-must-match)" in result.out
    assert run_cli("compare", base, other_counters, "--counters-must-match").code == 1


def test_matching_counters_pass_when_they_must_match(base: Path) -> None:
    assert run_cli("compare", base, base, "--counters-must-match").code == 0


# -- compare: warnings and refusals -------------------------------------------


def test_compare_warns_about_environment_and_parameters(
    saved_runs: SavedRuns, base: Path
) -> None:
    other = saved_runs.save(
        "elsewhere.json",
        make_run(
            environment={"cpu_model": "Other CPU", "python_version": "3.13.0"},
            params={"zones": 40, "backends": ["per-zone", "single"]},
        ),
    )
    result = run_cli("compare", base, other)
    # On stderr, as report's warnings are: stdout stays the comparison alone.
    err = result.err
    assert "warning: different environment: cpu_model is 'Test CPU @ 3.0GHz'" in err
    assert "warning: different environment: python_version" in err
    assert "warning: different parameters: zones is 20" in err
    assert "backends" not in err
    assert "different" not in result.out.split("Work counters")[1]
    doc = json.loads(run_cli("compare", base, other, "--format", "json").out)
    assert any("zones is 20" in w for w in doc["warnings"])


def test_compare_refuses_different_commands(saved_runs: SavedRuns, base: Path) -> None:
    other = saved_runs.save("threads.json", command="benchmark")
    result = run_cli("compare", base, other)
    assert result.out == ""
    err = assert_one_line_error(result)
    assert "cannot compare results of different commands" in err
    assert run_cli("compare", base, other).code == 2


MALFORMED = {
    "not-json.json": "this is not json\n",
    "not-ctbench.json": '{"benchmarks": [], "version": "1.0"}',
    "future.json": json.dumps({**results.run_to_json(make_run(n=3)), "schema": 99}),
    "truncated.json": results.dumps(make_run(n=3))[:-40],
}


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("side", ["baseline", "candidate"])
def test_compare_refuses_malformed_files(
    tmp_path: Path, base: Path, name: str, side: str
) -> None:
    bad = tmp_path / name
    bad.write_text(MALFORMED[name], encoding="utf-8")
    args = [base, str(bad)] if side == "candidate" else [str(bad), base]
    result = run_cli("compare", *args)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ctbench: error: {bad}: ")
    assert run_cli("compare", *args).code == 2


@pytest.mark.parametrize("name", list(MALFORMED))
def test_report_refuses_malformed_files(tmp_path: Path, name: str) -> None:
    bad = tmp_path / name
    bad.write_text(MALFORMED[name], encoding="utf-8")
    err = assert_one_line_error(run_cli("report", str(bad)))
    assert err.startswith(f"ctbench: error: {bad}: ")


# A child that reads /dev/zero without the regular-file check runs out of
# its address space in a second, instead of taking the machine's memory: the
# limit is what the child's interpreter holds once ctbench's command line is
# imported (1.1 GiB on a free-threaded 3.13.15, whose mimalloc reserves its
# arenas up front; 0.15 GiB on 3.11: VmSize in /proc/self/status), plus this.
# `ctbench report` of a small file allocates a few MB more.
CHILD_MEMORY_ABOVE_START = 2**29


def _run_limited(
    *args: object, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``ctbench ARGS`` in a process whose address space is limited to its
    own start-up's plus CHILD_MEMORY_ABOVE_START (where /proc tells its
    size), and a time limit: a regression fails the test instead of
    hanging it."""
    code = (
        "import resource, runpy, sys; import ctbench.cli; "
        "size = [int(line.split()[1]) * 1024 for line in "
        "open('/proc/self/status') if line.startswith('VmSize:')]; "
        f"limit = size[0] + {CHILD_MEMORY_ABOVE_START}; "
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
        f"sys.argv = ['ctbench', *{[str(a) for a in args]!r}]; "
        "runpy.run_module('ctbench', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.mark.skipif(
    not Path("/dev/zero").exists() or sys.platform != "linux",
    reason="needs /dev/zero, /proc/self/status and RLIMIT_AS",
)
@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_device_is_refused_unread(base: Path, command: str) -> None:
    args = ["/dev/zero"] if command == "report" else ["/dev/zero", base]
    done = _run_limited(command, *args)
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stdout == ""
    assert done.stderr == (
        "ctbench: error: /dev/zero: cannot read: not a regular file "
        "(a character device)\n"
    )


@pytest.mark.skipif(
    not hasattr(os, "mkfifo") or sys.platform != "linux",
    reason="needs FIFOs, /proc/self/status and RLIMIT_AS",
)
@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_fifo_is_refused_without_blocking(
    tmp_path: Path, base: Path, command: str
) -> None:
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    args = [str(fifo)] if command == "report" else [base, str(fifo)]
    try:
        done = _run_limited(command, *args, timeout=30)
    except subprocess.TimeoutExpired:  # blocked in open(), then killed
        pytest.fail(f"ctbench {command} blocked on a FIFO")
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr == (
        f"ctbench: error: {fifo}: cannot read: not a regular file (a FIFO)\n"
    )


def test_compare_missing_file_exits_2(tmp_path: Path, base: Path) -> None:
    assert run_cli("compare", base, str(tmp_path / "absent.json")).code == 2


# -- merge ----------------------------------------------------------------------


def _rounds_run(rounds: int, wall_s: float, seed: int) -> RunResult:
    run = make_run(n=rounds, seed=seed, params={"iterations": rounds})
    for result in run.results:
        result.extra = {"wall_s": wall_s, "rounds": rounds, "swept": 0}
    return run


def test_merge_pools_the_rounds_and_the_run_time(
    tmp_path: Path, saved_runs: SavedRuns
) -> None:
    z = saved_runs.save("z.json", _rounds_run(20, 2.0, 0))
    z5 = saved_runs.save("z5.json", _rounds_run(5, 0.5, 1))
    out = tmp_path / "m.json"
    result = run_cli("merge", z, z5, "-o", str(out))
    assert result.code == 0, result.err
    assert result.err == f"pooled 2 runs into {out}\n"
    pooled = results.load(out)
    assert pooled.params["iterations"] == 25
    for backend in pooled.results:
        assert backend.extra == {"wall_s": 2.5, "rounds": 25, "swept": 0}
    report = run_cli("report", str(out), "--format", "patch").out
    assert "single: total run time 2.50 s" in report


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "./path"])
def test_merge_warns_when_a_file_is_given_twice(
    tmp_path: Path, saved_runs: SavedRuns, how: str
) -> None:
    z = saved_runs.save("z.json", _rounds_run(20, 2.0, 0))
    other = saved_runs.save("other.json", _rounds_run(20, 2.0, 1))
    again: Path | str = z
    if how == "symlink":
        again = str(tmp_path / "latest.json")
        Path(again).symlink_to("z.json")
    elif how == "hard link":
        again = str(tmp_path / "copy.json")
        os.link(z, again)
    elif how == "./path":
        again = f"{tmp_path}/./z.json"  # the same path, spelled otherwise
    out = tmp_path / "m.json"
    result = run_cli("merge", z, other, again, "-o", str(out))
    assert result.code == 0, result.err
    said = (
        f"{z} is given twice"
        if how in ("same path", "./path")  # click's Path drops the "."
        else f"{again} is the same file as {z}"
    )
    assert result.err == (
        f"ctbench: warning: {said}: its samples are pooled twice, as two runs\n"
        f"pooled 3 runs into {out}\n"
    )
    # Still done, as asked.
    assert results.load(out).params["iterations"] == 60


def test_merge_of_distinct_files_warns_of_nothing(
    tmp_path: Path, saved_runs: SavedRuns
) -> None:
    a = saved_runs.save("a.json", _rounds_run(20, 2.0, 0))
    b = saved_runs.save("b.json", _rounds_run(20, 2.0, 0))  # same content
    result = run_cli("merge", a, b, "-o", str(tmp_path / "m.json"))
    assert result.code == 0
    assert "warning" not in result.err


# -- compare: formats ---------------------------------------------------------


def test_compare_markdown_for_a_job_summary(saved_runs: SavedRuns, base: Path) -> None:
    slower = saved_runs.save("slower.json", scale=1.3)
    out = run_cli("compare", base, slower, "--format", "markdown").out
    assert out.startswith("### ctbench compare (benchmark-zones)")
    assert "**FAIL: regression (4 slower); exit status 1**" in out
    assert "| phase " in out and "|---" in out


def test_compare_json_for_machines(saved_runs: SavedRuns, base: Path) -> None:
    slower = saved_runs.save("slower.json", scale=1.3)
    result = run_cli("compare", base, slower, "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["comparison_schema"] == 1
    assert doc["exit_status"] == 1
    assert doc["verdicts"] == {
        "faster": 0,
        "slower": 4,
        "unchanged": 0,
        "inconclusive": 0,
    }
    assert doc["settings"]["stat"] == "median"
    assert doc["settings"]["threshold"] == pytest.approx(0.1)
    median = doc["rows"][0]["ratios"]["median"]
    assert median["ratio"] == pytest.approx(1.3)
    assert median["low"] < 1.3 < median["high"]


def test_report_refuses_a_file_without_backends_and_absurd_samples(
    tmp_path: Path,
) -> None:
    doc = results.run_to_json(make_run(n=3))
    for name, change in (
        ("empty.json", {"results": []}),
        ("huge.json", None),
    ):
        if change is None:
            doc["results"][0]["phases"]["ct_execute_commit"]["samples"] = [1.7e308]
        bad = tmp_path / name
        bad.write_text(json.dumps({**doc, **(change or {})}))
        result = run_cli("report", bad)
        assert result.out == ""
        assert_one_line_error(result)


def test_a_side_by_side_title_shows_every_runs_differing_arguments(
    saved_runs: SavedRuns, base: Path
) -> None:
    other = make_run()
    other.params["zones"] = 77
    path = saved_runs.save("other.json", other)
    result = run_cli("report", base, path, "--format", "patch")
    zones = results.load(Path(base)).params["zones"]
    assert f" {zones}|77 " in result.out.splitlines()[0]
