import json
import os
import signal
from pathlib import Path

import pytest

from ctbench.cli.progress_display import ProgressDisplay
from ctbench.environment import gil_enabled
from ctbench.results import load
from tests.helpers.cli import assert_one_line_error, run_cli, run_process

SMALL = ["benchmark", "2", "64", "8", "1", "-q"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0", "10", "32"], "N_THREADS must be at least 1 (got 0)"),
        (["65536", "10", "32"], "N_THREADS"),
        (["1", "0", "32"], "N_PKTS"),
        (["1", "10", "0"], "BATCH_SIZE must be between 1 and 32 (NETDEV_MAX_BURST)"),
        (["1", "10", "33"], "BATCH_SIZE must be between 1 and 32 (NETDEV_MAX_BURST)"),
        (["1", "10", "32", "2"], "CHANGE_CONN must be 0 or 1"),
        (["x", "10", "32"], "N_THREADS"),
        (["1", "10"], "BATCH_SIZE"),
        (["1", "10", "32", "--backend", "nope"], "unknown backend"),
        (
            ["1", "10", "32", "-b", "single:lock=zone"],
            "backend 'single': lock=zone is not supported "
            "(single supports lock=global only)",
        ),
        (["1", "10", "32", "-b", "per-zone:lock=shard"], "lock=global, lock=zone"),
        (["1", "10", "32", "--conn-limit", "-1"], "--conn-limit"),
        (["1", "10", "32", "--format", "yaml"], "--format"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(
    args: list[str], message: str
) -> None:
    result = run_cli("benchmark", *args)
    assert result.out == ""
    err = assert_one_line_error(result)
    assert message in err
    assert "Traceback" not in err


def test_bad_argument_exit_status_from_a_real_process() -> None:
    proc = run_process("benchmark", "1", "1000", "64")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ctbench: error: BATCH_SIZE must be between 1 and 32 (NETDEV_MAX_BURST) "
        "(got 64)"
    ]


def test_report_has_ovstest_line_table_throughput_and_parallelism() -> None:
    result = run_cli(*SMALL)
    assert result.code == 0, result.out
    out = result.out
    assert "ctbench benchmark 2 64 8 1  [single, per-zone]" in out
    for backend in ("single", "per-zone"):
        assert f"{backend}: conntrack:  " in out
        assert f"{backend}: 128 packets in " in out
    assert "| ct execute (batch) |" in out
    assert "pkts/s" in out and "pkts/s/thread" in out
    assert "16 connections in the table" in out
    if gil_enabled():
        assert "ran concurrently but not in parallel" in out
        assert "GIL lets one thread execute Python at a time" in out
    else:
        assert "threads could run Python in parallel (GIL disabled" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_formats(fmt: str) -> None:
    result = run_cli(*SMALL, "--format", fmt, "-b", "per-zone")
    assert result.code == 0, result.out
    out = result.out
    if fmt == "json":
        data = json.loads(out)
        assert data["command"] == "benchmark"
        assert data["results"][0]["extra"]["packets"] == 128
    elif fmt == "csv":
        header = out.splitlines()[0].split(",")
        assert header[:2] == ["phase", "backend"]
        assert header[-2:] == ["pps", "pps_per_thread"]
        assert out.splitlines()[1].startswith("ct execute (batch),per-zone,")
    else:
        assert "per-zone: conntrack:  " in out
        assert "pps_per_thread" in out


def test_results_file(tmp_path: Path) -> None:
    out_file = tmp_path / "run.json"
    result = run_cli(*SMALL, "-b", "single", "-o", str(out_file))
    assert result.code == 0, result.out
    run = load(out_file)
    assert run.complete and run.command == "benchmark"
    assert run.params == {
        "n_threads": 2,
        "n_pkts": 64,
        "batch_size": 8,
        "change_conn": 1,
        "conn_limit": 3_000_000,
        "gc": "frozen",
        "backends": ["single"],
        "parallel": not gil_enabled(),
    }
    (single,) = run.results
    phase = single.phases["ct_execute_batch"]
    assert len(phase.samples) == 2 * 8
    assert phase.counters["created"] == 16
    assert set(single.extra) >= {
        "wall_ms",
        "packets",
        "pps",
        "pps_per_thread",
        "thread_packets",
    }
    assert single.extra["thread_packets"] == [64, 64]


def test_help_says_ovstest_change_conn_no_longer_works() -> None:
    code, out, _ = run_cli("benchmark", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "ovstest's own flag no longer does this" in text
    assert "not in parallel" in text and "Example" in text


def test_ctrl_c_prints_partial_results_writes_incomplete_file_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The main thread reports progress while the threads run; press Ctrl-C
    # (a real SIGINT) once some packets were sent.
    def press_ctrl_c(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        if 0 < done < total:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressDisplay, "__call__", press_ctrl_c)
    out_file = tmp_path / "partial.json"
    args = ["benchmark", "2", "100000000", "32", "-q", "-o", str(out_file)]
    handler_before = signal.getsignal(signal.SIGINT)
    code, out, err = run_cli(*args)
    assert code == 130
    assert "single: conntrack:  " in out
    assert "incomplete run" in out
    assert "interrupted" in err
    run = load(out_file)
    assert not run.complete
    (single,) = run.results  # per-zone never started
    packets = single.extra["packets"]
    assert 0 < packets < 2 * 100_000_000
    assert len(single.phases["ct_execute_batch"].samples) == packets // 32
    assert signal.getsignal(signal.SIGINT) is handler_before  # restored


def test_more_threads_than_the_machine_allows_are_refused_up_front(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import environment

    monkeypatch.setattr(
        environment, "thread_headroom", lambda: (300, "the cgroup's pids.max (400)")
    )
    code, out, err = run_cli("benchmark", "301", "1", "1")
    assert (code, out) == (2, "")
    assert err == (
        "ctbench: error: N_THREADS must be at most 300 on this machine (got 301): "
        "the run starts 301 threads and the cgroup's pids.max (400) leaves no "
        "room for more\n"
    )


def test_the_thread_limit_counts_the_progress_displays_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rich redraws a drawing display from a thread of its own."""
    from rich.console import Console

    from ctbench import environment

    monkeypatch.setattr(environment, "thread_headroom", lambda: (3, "LIMIT"))
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    code, out, err = run_cli("benchmark", "3", "1", "1")
    assert (code, out) == (2, "")
    assert err == (
        "ctbench: error: N_THREADS must be at most 2 on this machine (got 3): "
        "the run starts 4 threads (3 workers, the progress display) and LIMIT "
        "leaves no room for more\n"
    )
