import json
import os
import signal
from pathlib import Path

import pytest

from ctbench import preflight
from ctbench.cli.progress_display import ProgressDisplay
from ctbench.environment import gil_enabled
from ctbench.results import load
from tests.helpers.cli import assert_one_line_error, run_cli

SMALL = ["create-rate", "2", "300", "16", "-q"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0", "10", "32"], "N_THREADS must be between 1 and 65535"),
        (["1", "0", "32"], "N_CONNS must be at least 1 (got 0)"),
        (["1", "10", "33"], "BATCH_SIZE must be between 1 and 32 (NETDEV_MAX_BURST)"),
        (["x", "10", "32"], "N_THREADS"),
        (["1", "10"], "BATCH_SIZE"),
        (["1", "10", "32", "--zones", "all"], "--zones"),
        (["1", "10", "32", "--backend", "nope"], "unknown backend"),
        (["1", "10", "32", "--conn-limit", "-1"], "--conn-limit"),
        (
            ["2", "2000000", "32"],
            "N_THREADS x N_CONNS is 4,000,000 connections, over --conn-limit 3,000,000",
        ),
        (["1", "10", "32", "--conn-limit", "5"], "over --conn-limit 5"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(
    args: list[str], message: str
) -> None:
    err = assert_one_line_error(run_cli("create-rate", *args))
    assert message in err
    assert "Traceback" not in err


def test_a_run_that_will_not_fit_in_memory_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(preflight, "available_memory", lambda: 100 * 2**20)
    err = assert_one_line_error(run_cli("create-rate", "2", "500000", "32"))
    assert "1,000,000 connections" in err and "--force" in err


def test_report_gives_the_rates_the_threads_and_the_build() -> None:
    result = run_cli(*SMALL)
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "ctbench create-rate 2 300 16 [single, per-zone]" in out
    for backend in ("single", "per-zone"):
        assert f"{backend}: 600 connections created in " in out
        assert f"{backend}: each thread's own rate: " in out
    assert "(connections per thread: 300 / 300)" in out
    assert "| ct execute (batch of new connections) |" in out
    assert "conns/s" in out and "conns/s/thread" in out
    assert "Zones: thread i in zone i + 1; no flusher or sweeper." in out
    assert "ovstest has no such command" in out
    assert "waited for ct_lock" not in out
    if gil_enabled():
        assert "ran concurrently but not in parallel" in out
    else:
        assert "threads could run Python in parallel (GIL disabled" in out


def test_cleaners_and_lock_waits_are_reported() -> None:
    result = run_cli(
        *SMALL, "-b", "per-zone", "--zones", "shared", "--flusher", "--sweeper",
        "--lock-wait",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "Zones: every thread in zone 1; beside the workers, a flusher" in out
    assert "per-zone: the flusher removed " in out
    assert "per-zone: the sweeper removed " in out
    assert "per-zone: waited for ct_lock: " in out
    assert "two clock reads each time a thread took one" in out
    assert "Locks: per-zone: ct_lock (global); conn->lock: 1024 striped" in out


def test_lock_waits_name_the_tables_finer_lock() -> None:
    result = run_cli(*SMALL, "-b", "per-zone:lock=zone", "--lock-wait")
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "per-zone:lock=zone: waited for its zone locks and ct_lock: " in out
    assert "Locks: per-zone:lock=zone: a lock per zone, ct_lock briefly" in out


def test_help_says_what_it_mirrors_and_what_lock_wait_costs() -> None:
    code, out, _ = run_cli("create-rate", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "ovstest has no such command" in text
    assert "two clock reads each time a thread takes the lock" in text
    assert "Examples" in text


def test_refusals_at_the_limit_are_a_warning() -> None:
    result = run_cli(*SMALL, "-b", "single", "--conn-limit", "20", "--flusher")
    assert result.code == 0, result.err
    assert "WARNING: the connection limit (20) refused " in result.out


def test_results_file_reads_back_through_report_compare_and_merge(
    tmp_path: Path,
) -> None:
    files = [tmp_path / f"run{i}.json" for i in (1, 2)]
    for path in files:
        result = run_cli(*SMALL, "-b", "per-zone", "--flusher", "-o", path)
        assert result.code == 0, result.err
    run = load(files[0])
    assert run.command == "create-rate" and run.complete
    assert run.params == {
        "n_threads": 2,
        "n_conns": 300,
        "batch_size": 16,
        "zone_layout": "per-thread",
        "flusher": True,
        "sweeper": False,
        "lock_wait": False,
        "conn_limit": 3_000_000,
        "gc": "frozen",
        "backends": ["per-zone"],
        "parallel": not gil_enabled(),
    }
    code, out, err = run_cli("report", files[0], "--format", "json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["extra"]["thread_created"] == [300, 300]
    code, out, err = run_cli("compare", *files)
    assert code in (0, 1), err
    assert "ct execute (batch of new connections)" in out
    merged = tmp_path / "pooled.json"
    code, _, err = run_cli("merge", *files, "-o", merged)
    assert code == 0, err
    code, out, err = run_cli("report", merged)
    assert code == 0, err
    assert "1,200 connections created in 2 pooled runs" in " ".join(out.split())


def test_ctrl_c_keeps_the_samples_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The main thread reports progress while the threads run; press Ctrl-C
    # (a real SIGINT) once some connections were created.
    def press_ctrl_c(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        if 0 < done < total:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressDisplay, "__call__", press_ctrl_c)
    out_file = tmp_path / "partial.json"
    handler_before = signal.getsignal(signal.SIGINT)
    code, out, err = run_cli("create-rate", "2", "150000", "1", "-q", "-o", out_file)
    assert code == 130
    assert "single: " in out and "incomplete run" in out
    assert "interrupted" in err
    run = load(out_file)
    assert not run.complete
    (single,) = run.results  # per-zone never started
    created = single.extra["created"]
    assert 0 < created < 2 * 150_000
    assert len(single.phases["ct_execute_batch"].samples) == created
    assert signal.getsignal(signal.SIGINT) is handler_before  # restored


def test_the_thread_limit_counts_the_flusher_and_the_sweeper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import environment

    monkeypatch.setattr(
        environment, "thread_headroom", lambda: (3, "the cgroup's pids.max (9)")
    )
    code, out, err = run_cli("create-rate", "2", "1", "1", "--flusher", "--sweeper")
    assert (code, out) == (2, "")
    assert err == (
        "ctbench: error: N_THREADS must be at most 1 on this machine (got 2): "
        "the run starts 4 threads (2 workers, a flusher, a sweeper) and the "
        "cgroup's pids.max (9) leaves no room for more\n"
    )
    code, _, err = run_cli("create-rate", "2", "1", "1", "--flusher", "-q")
    assert code == 0, err  # 3 threads: room for them
