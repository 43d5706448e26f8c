"""--ovstest on benchmark-zones and benchmark, with stand-in binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctbench import results
from ctbench.ovstest import plan
from ctbench.results import COMPLETE, FAILED
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.ovstest_standins import CRASH, FAIL, GARBAGE, HANG, replay, stand_in
from tests.helpers.paths import ROOT

ZONES = ["benchmark-zones", "50", "3", "2", "-q", "--memory-sample", "0"]
BEFORE = "xeon-benchmark-zones-1000-100-200.before.txt"
AFTER = "xeon-benchmark-zones-1000-100-200.after.txt"


def test_ovstest_rows_and_ratios_beside_ctbench(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    single = stand_in(tmp_path, "before", replay(BEFORE), record=calls)
    per_zone = stand_in(tmp_path, "after", replay(AFTER))
    out = tmp_path / "run.json"
    code, text, err = run_cli(
        *ZONES,
        "--ovstest",
        f"single={single}",
        "--ovstest",
        f"per-zone={per_zone}",
        "-o",
        out,
    )
    assert code == 0, err
    # Checked first, then run with the run's own arguments.
    assert calls.read_text().splitlines() == [
        "test-conntrack benchmark-zones 1 1 1",
        "test-conntrack benchmark-zones 50 3 2",
    ]
    assert " ovstest:single |" in text and " ovstest:per-zone |" in text
    assert "ovstest's Avg is an EWMA" in text and "P-square estimate" in text
    assert "ctbench against ovstest, like with like" in text
    assert "ct execute (commit): single min " in text
    assert "/ ovstest:single Min 343 us = " in text  # the replayed table's Min
    assert "EWMA" not in text.split("like with like")[1]  # no --ovs-stats
    run = results.load(out)
    assert [r.label for r in run.results] == [
        "single",
        "per-zone",
        "ovstest:single",
        "ovstest:per-zone",
    ]
    ovs = run.results[2]
    assert ovs.status == COMPLETE
    assert ovs.phases["ct_execute_commit"].summary is not None
    assert ovs.phases["ct_execute_commit"].summary.ovs_ewma == 378.40
    source = ovs.extra["source"]
    assert source["argv"] == [
        str(single),
        "test-conntrack",
        "benchmark-zones",
        "50",
        "3",
        "2",
    ]
    assert source["exit_status"] == 0 and source["wall_s"] > 0
    assert source["peak_rss_bytes"] > 0
    assert source["printed_ms"]["initial insert time"] == 37


def test_ovs_stats_adds_ewma_against_avg(tmp_path: Path) -> None:
    single = stand_in(tmp_path, "before", replay(BEFORE))
    code, text, err = run_cli(
        *ZONES, "-b", "single", "--ovs-stats", "--ovstest", f"single={single}"
    )
    assert code == 0, err
    assert "single EWMA " in text and "/ ovstest:single Avg (EWMA) 378 us = " in text


def test_benchmark_sets_the_conntrack_times_side_by_side(tmp_path: Path) -> None:
    binary = stand_in(
        tmp_path, "ovstest", replay("xeon-benchmark-1-1000000-32.after.txt")
    )
    out = tmp_path / "run.json"
    code, text, err = run_cli(
        "benchmark",
        "1",
        "64",
        "32",
        "-q",
        "-b",
        "single",
        "--ovstest",
        f"single={binary}",
        "-o",
        out,
    )
    assert code == 0, err
    assert "ovstest:single: conntrack:     58 ms" in text
    assert (
        "single conntrack time " in text
        and "ovstest:single conntrack time 58.0 ms" in text
    )
    run = results.load(out)
    assert run.results[1].extra["source"]["argv"][1:] == [
        "test-conntrack",
        "benchmark",
        "1",
        "64",
        "32",
        "0",
    ]


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (HANG, "no result within 1 s (hung?), killed"),
        (CRASH, "killed by SIGSEGV"),
        (FAIL, "exited with status 3: test-conntrack: boom"),
        (GARBAGE, "printed no benchmark-zones result"),
    ],
    ids=["hang", "crash", "fail", "garbage"],
)
def test_a_binary_that_fails_its_run_keeps_ctbenchs_results(
    tmp_path: Path, behaviour: str, message: str
) -> None:
    binary = stand_in(tmp_path, "ovstest", behaviour)
    out = tmp_path / "run.json"
    # A short bound for the hang; a generous one for the others, which must
    # fail on their own even on a loaded machine.
    timeout = "1" if behaviour == HANG else "60"
    code, text, err = run_cli(
        *ZONES,
        "-b",
        "single",
        "--ovstest",
        f"single={binary}",
        "--ovstest-timeout",
        timeout,
        "-o",
        out,
    )
    assert code == 4
    assert err.count("ctbench: error: ") == 1 and "Traceback" not in err
    assert "backend ovstest:single failed; the others' results were kept" in err
    assert f"ovstest:single: FAILED: --ovstest single={binary}: {message}" in text
    assert "| ct execute (commit)" in text  # ctbench's own table is there
    run = results.load(out)
    assert [(r.label, r.status) for r in run.results] == [
        ("single", COMPLETE),
        ("ovstest:single", FAILED),
    ]
    assert len(run.results[0].phases["ct_execute_commit"].samples) == 2


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (GARBAGE, "printed no benchmark-zones table: is it ovstest"),
        (CRASH, "killed by SIGSEGV"),
        (FAIL, "exited with status 3: test-conntrack: boom"),
        (HANG, "no result within 1 s (hung?), killed"),
    ],
    ids=["garbage", "crash", "fail", "hang"],
)
def test_a_binary_is_checked_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, check: str, message: str
) -> None:
    if check == HANG:  # the real bound is 10 s: too long for a test
        monkeypatch.setattr(plan, "CHECK_TIMEOUT_S", 1.0)
    binary = stand_in(tmp_path, "ovstest", replay(AFTER), check=check)
    out = tmp_path / "run.json"
    result = run_cli(*ZONES, "--ovstest", f"x={binary}", "-o", out)
    err = assert_one_line_error(result)
    assert f"--ovstest x={binary}" in err and message in err
    assert result.out == "" and not out.exists()


def test_a_missing_or_not_executable_binary_is_refused(tmp_path: Path) -> None:
    err = assert_one_line_error(run_cli(*ZONES, "--ovstest", f"x={tmp_path / 'nope'}"))
    assert "no such file" in err
    binary = stand_in(tmp_path, "ovstest", replay(AFTER))
    binary.chmod(0o644)
    err = assert_one_line_error(run_cli(*ZONES, "--ovstest", f"x={binary}"))
    assert "not executable" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--conn-limit", "1000"], "--conn-limit 1000 (ovstest's is 3,000,000)"),
        (["--batch-size", "2"], "--batch-size 2 (ovstest's is 1)"),
        (["--warmup", "1"], "--warmup 1 (ovstest has none)"),
        (["--sweep-every", "5"], "--sweep-every 5"),
        (["--ovstest", "x=/bin/true"], "--ovstest label 'x' is given twice"),
        (["--ovstest-repeat", "0"], "--ovstest-repeat"),
        (["--ovstest-timeout", "0"], "--ovstest-timeout"),
    ],
)
def test_what_ovstest_cannot_reproduce_is_refused(
    tmp_path: Path, options: list[str], message: str
) -> None:
    err = assert_one_line_error(run_cli(*ZONES, "--ovstest", "x=/bin/true", *options))
    assert message in err


def test_ovstest_options_need_ovstest_and_a_label() -> None:
    err = assert_one_line_error(run_cli(*ZONES, "--ovstest-repeat", "3"))
    assert "need --ovstest LABEL=PATH" in err
    err = assert_one_line_error(run_cli(*ZONES, "--ovstest", "/bin/true"))
    assert "--ovstest must be LABEL=PATH" in err
    err = assert_one_line_error(
        run_cli("benchmark", "1", "10", "1", "--conn-limit", "5", "--ovstest", "a=/x")
    )
    assert "--conn-limit 5" in err


def test_repeats_keep_every_run(tmp_path: Path) -> None:
    binary = stand_in(tmp_path, "ovstest", replay(BEFORE))
    out = tmp_path / "run.json"
    code, text, err = run_cli(
        *ZONES,
        "-b",
        "single",
        "--ovstest",
        f"single={binary}",
        "--ovstest-repeat",
        "3",
        "-o",
        out,
    )
    assert code == 0, err
    assert "ovstest:single Min 343 us (median of 3 runs)" in text
    assert "benchmark-zones 50 3 2 3 times, wall " in text  # one line, not 3
    run = results.load(out)
    labels = [r.label for r in run.results]
    assert labels == [
        "single",
        "ovstest:single#1",
        "ovstest:single#2",
        "ovstest:single#3",
    ]
    assert run.params["ovstest_repeat"] == 3
    # merge pools samples; these runs have none.
    err = assert_one_line_error(
        run_cli("merge", out, out, "-o", tmp_path / "pooled.json")
    )
    assert "summary-only" in err


def test_ctrl_c_while_ovstest_runs_keeps_everything_gathered(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    started = tmp_path / "calls.txt"
    binary = stand_in(tmp_path, "ovstest", HANG, record=started)
    out = tmp_path / "run.json"
    args = [*ZONES, "-b", "single", "--ovstest", f"single={binary}", "-o", str(out)]
    with subprocess.Popen(
        [sys.executable, "-m", "ctbench", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the real run has started
            if started.exists() and len(started.read_text().splitlines()) == 2:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        text, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (
        f"ovstest:single: INTERRUPTED: --ovstest single={binary}: interrupted" in text
    )
    run = results.load(out)
    assert run.stopped_by == "SIGINT" and not run.complete
    assert [(r.label, r.status) for r in run.results] == [
        ("single", COMPLETE),
        ("ovstest:single", "interrupted"),
    ]


def test_report_of_saved_runs_keeps_the_like_with_like_lines(tmp_path: Path) -> None:
    single = stand_in(tmp_path, "before", replay(BEFORE))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        args = [*ZONES, "-b", "single", "--ovstest", f"single={single}", "-o", out]
        assert run_cli(*args).code == 0
    code, text, err = run_cli("report", first)
    assert code == 0, err
    assert "ct execute (commit): single min " in text
    code, text, err = run_cli("report", first, second)
    assert code == 0, err
    assert "ct execute (commit): b.json:single min " in text
    assert "/ b.json:ovstest:single Min 343 us = " in text
