import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctbench import results
from ctbench.cli.progress_display import ProgressDisplay
from ctbench.results import load
from ctbench.scenarios.harness import Turn
from tests.helpers.cli import assert_one_line_error, run_cli, start_marked_run, wait_for
from tests.helpers.golden import GoldenFiles

SMALL = ["benchmark-zones", "50", "3", "2", "-q", "--memory-sample", "0"]
LONGER = ["benchmark-zones", "50", "3", "10", "-q", "--memory-sample", "0"]


@pytest.mark.parametrize(
    "args",
    [
        ["benchmark-zones", "0", "1", "1"],
        ["benchmark-zones", "4294967296", "1", "1"],
        ["benchmark-zones", "1", "0", "1"],
        ["benchmark-zones", "1", "65535", "1"],
        ["benchmark-zones", "1", "1", "0"],
        ["benchmark-zones", "x", "1", "1"],
        ["benchmark-zones", "1", "1"],
        ["benchmark-zones", "1", "1", "1", "--batch-size", "33"],
        ["benchmark-zones", "1", "1", "1", "--backend", "nope"],
        ["benchmark-zones", "1", "1", "1", "--backend", "single:shards"],
        ["benchmark-zones", "1", "1", "1", "--format", "yaml"],
        ["benchmark-zones", "1", "1", "1", "--conn-limit", "-5"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_give_one_line_and_status_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.out == ""
    err = assert_one_line_error(result)
    assert "Traceback" not in err


def test_memory_check_refuses_what_cannot_fit() -> None:
    code, _, err = run_cli("benchmark-zones", "4000000000", "65534", "1")
    assert code == 2
    assert "--force" in err and "available" in err


def test_small_run_prints_the_patch_layout_and_writes_results(tmp_path: Path) -> None:
    out_file = tmp_path / "run.json"
    code, out, err = run_cli(*SMALL, "--output", str(out_file))
    assert code == 0
    assert "| flush empty zone" in out
    assert "Comparing the averages" in out
    run = load(out_file)
    assert run.complete and run.command == "benchmark-zones"
    assert [r.backend for r in run.results] == ["single", "per-zone"]
    assert not list(tmp_path.glob(".run.json.*"))  # no temporary file left


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_formats(fmt: str) -> None:
    code, out, _ = run_cli(*SMALL, "--format", fmt, "-b", "per-zone")
    assert code == 0
    if fmt == "json":
        assert json.loads(out)["schema"] == results.SCHEMA_VERSION
    elif fmt == "csv":
        assert out.splitlines()[0].startswith("phase,backend,min,max")
    else:
        assert "per-zone" in out


def test_ctrl_c_prints_partial_tables_writes_incomplete_file_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_call = ProgressDisplay.__call__

    def press_ctrl_c(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        real_call(self, backend, stage, done, total)
        if stage == "iterations" and done == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressDisplay, "__call__", press_ctrl_c)
    out_file = tmp_path / "partial.json"
    args = ["benchmark-zones", "50", "3", "50", "-q", "--memory-sample", "0"]
    handler_before = signal.getsignal(signal.SIGINT)
    code, out, err = run_cli(*args, "-o", str(out_file))
    assert code == 130
    assert "incomplete run" in out
    assert "interrupted" in err
    run = load(out_file)
    assert not run.complete
    assert len(run.results) == 1
    assert len(run.results[0].phases["flush_empty_zone"].samples) == 2
    assert signal.getsignal(signal.SIGINT) is handler_before  # restored


def test_help_says_how_ctbench_differs() -> None:
    code, out, _ = run_cli("benchmark-zones", "--help")
    assert code == 0
    assert "true mean" in out and "--ovs-stats" in out and "Example" in out


def test_backends_lists_the_builtins() -> None:
    code, out, _ = run_cli("backends")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"single", "per-zone"} <= set(names)


def test_negative_numbers_reach_the_range_check() -> None:
    code, _, err = run_cli("benchmark-zones", "-1", "5", "3")
    assert code == 2
    assert "ENTRIES must be between 1 and 2^32-1 (got -1)" in err


@pytest.mark.parametrize("text", ["1_0", "\uff11", "1.5", "0x10", "1e3", " "])
def test_numbers_are_plain_decimal(text: str) -> None:
    # int() reads "1_0" as 10 and a full-width one as 1; ovstest would not.
    code, out, err = run_cli("benchmark-zones", text, "2", "2")
    assert (code, out) == (2, "")
    assert f"Invalid value for 'ENTRIES': {text!r} is not a whole number" in err


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/nonexistent-dir/x.json", "does not exist"),
        ("", "'' is not a file name"),
        ("-", "'-' is not standard output here"),
        pytest.param(
            "/proc/version",
            "cannot create a file in /proc",
            marks=pytest.mark.skipif(
                not os.path.exists("/proc/version"), reason="Linux /proc"
            ),
        ),
        (".", "is a directory"),
    ],
)
def test_unusable_output_is_refused_before_the_run(path: str, why: str) -> None:
    result = run_cli(*SMALL, "-o", path)
    assert result.out == ""  # nothing ran
    assert why in assert_one_line_error(result)


def test_sweep_every_must_be_finite() -> None:
    code, _, err = run_cli(*SMALL, "--sweep-every", "inf")
    assert code == 2 and "--sweep-every" in err


def test_a_closed_pipe_exits_141_not_1() -> None:
    import subprocess
    import sys

    script = (
        "import sys; sys.argv = ['ctbench', 'backends'];"
        "from ctbench.__main__ import run; run()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.close()  # the reader goes away before the output is written
        proc.wait(timeout=60)
    assert proc.returncode == 141


def test_box_width_ignores_the_prose_lines(golden: GoldenFiles) -> None:

    from ctbench.cli.run import box_width

    text = golden.read("zones.patch")
    longest = max(map(len, text.splitlines()))
    width = box_width(text)
    assert width < longest  # the method note is longer than the table
    assert width == max(len(x) for x in text.splitlines() if x.lstrip()[:1] == "+")


# -- failures and signals keep what was gathered ------------------------------


def test_a_failing_backend_keeps_the_others_results_and_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctbench.scenarios.benchmark_zones import ZoneWorkload

    real_run = ZoneWorkload.run

    def run_or_fail(self: ZoneWorkload, turn: Turn) -> bool:
        if turn.result.label == "per-zone":
            raise MemoryError("no room for 65,536 maps")
        return real_run(self, turn)

    monkeypatch.setattr(ZoneWorkload, "run", run_or_fail)
    out_file = tmp_path / "run.json"
    code, out, err = run_cli(*SMALL, "-o", out_file)
    assert code == 4
    assert "failed; the others' results were kept" in err
    assert "|                 single |" in out  # the finished backend is shown
    assert "per-zone: FAILED: MemoryError: no room for 65,536 maps" in out
    run = load(out_file)
    assert not run.complete
    single, per_zone = run.results
    assert single.status == "complete" and len(single.phases["flush_full_zone"].samples)
    assert per_zone.status == "failed"
    assert per_zone.error is not None and per_zone.error.startswith(
        "MemoryError: no room"
    )


class PluginStop(BaseException):
    """A plugin's own BaseException subclass, as a careless plugin may raise."""


@pytest.mark.parametrize(
    ("raised", "recorded"),
    [
        (SystemExit(0), "SystemExit: 0"),
        (SystemExit("bye"), "SystemExit: bye"),
        (GeneratorExit(), "GeneratorExit: (no message)"),
        (PluginStop("halt"), "PluginStop: halt"),
    ],
    ids=["sys.exit(0)", "sys.exit(text)", "GeneratorExit", "own-BaseException"],
)
def test_a_plugin_that_exits_fails_alone_and_the_others_are_kept(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    recorded: str,
) -> None:
    from ctbench.backends.per_zone import PerZoneTable

    def bind_and_exit(self: PerZoneTable, zone: int) -> object:
        raise raised

    monkeypatch.setattr(PerZoneTable, "bind", bind_and_exit)
    out_file = tmp_path / "run.json"
    # per-zone first: the backend after the one that exits still runs.
    code, out, err = run_cli(*SMALL, "-b", "per-zone", "-b", "single", "-o", out_file)
    assert code == 4, err
    assert "backend per-zone failed; the others' results were kept" in err
    assert f"per-zone: FAILED: {recorded}" in out
    run = load(out_file)
    per_zone, single = run.results
    assert per_zone.status == "failed" and per_zone.error is not None
    assert per_zone.error.startswith(recorded)
    assert single.status == "complete"
    assert len(single.phases["flush_full_zone"].samples) == 2


def test_a_ctrl_c_inside_a_plugins_exception_group_is_still_an_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench.backends.per_zone import PerZoneTable

    def bind_and_group(self: PerZoneTable, zone: int) -> object:
        raise BaseExceptionGroup("task group", [KeyboardInterrupt()])

    monkeypatch.setattr(PerZoneTable, "bind", bind_and_group)
    code, _, err = run_cli(*SMALL, "-b", "per-zone", "-b", "single")
    assert code == 130, err


def test_a_lone_failing_backend_claims_no_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench.scenarios.benchmark_zones import ZoneWorkload

    def fail(self: ZoneWorkload, turn: Turn) -> bool:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(ZoneWorkload, "run", fail)
    code, _, err = run_cli(*SMALL, "-b", "single")
    assert code == 4
    assert err.strip().splitlines()[-1] == "ctbench: error: backend single failed"


def test_stopped_before_any_backend_ran_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctbench.cli.progress_display import Interrupt

    real_installed = Interrupt.installed

    @contextlib.contextmanager
    def installed_and_hit(self: Interrupt) -> Iterator[Interrupt]:
        with real_installed(self) as interrupt:
            interrupt.signal = signal.SIGINT  # as if Ctrl-C came at once
            yield interrupt

    monkeypatch.setattr(Interrupt, "installed", installed_and_hit)
    out_file = tmp_path / "run.json"
    code, out, err = run_cli(*SMALL, "-o", out_file)
    assert code == 130
    assert out == "" and not out_file.exists()
    # A note, not an error: the run was stopped, nothing was wrong.
    assert err == (
        "ctbench: stopped by SIGINT before any backend ran: "
        "nothing to report, no results file written\n"
    )


def _signal_at_round(
    monkeypatch: pytest.MonkeyPatch, *signals: signal.Signals, at: int = 2
) -> None:
    """Send ``signals`` to this process when a backend has finished ``at``
    rounds, all at once (a second one within the same moment)."""
    real_call = ProgressDisplay.__call__

    def send(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        real_call(self, backend, stage, done, total)
        if stage == "iterations" and done == at:
            for s in signals:
                os.kill(os.getpid(), s)

    monkeypatch.setattr(ProgressDisplay, "__call__", send)


def test_sigterm_is_treated_like_ctrl_c_and_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signal_at_round(monkeypatch, signal.SIGTERM)
    out_file = tmp_path / "partial.json"
    handlers_before = signal.getsignal(signal.SIGTERM)
    code, out, err = run_cli(*LONGER, "-o", out_file)
    assert code == 143
    assert "interrupted by SIGTERM" in err
    assert "incomplete run (stopped by SIGTERM)" in out
    run = load(out_file)
    assert run.stopped_by == "SIGTERM" and not run.complete
    assert signal.getsignal(signal.SIGTERM) is handlers_before


def test_a_second_ctrl_c_still_leaves_whole_rounds_and_a_complete_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signal_at_round(monkeypatch, signal.SIGINT, signal.SIGINT, at=3)
    out_file = tmp_path / "partial.json"
    code, out, err = run_cli(*LONGER, "-o", out_file)
    assert code == 130
    run = load(out_file)
    result = run.results[0]
    assert result.status == "interrupted"
    assert {len(p.samples) for p in result.phases.values()} == {3}
    assert result.extra["rounds"] == 3
    assert {"wall_s", "stored_at_end", "swept", "harness_untimed_us_per_round"} <= set(
        result.extra
    )
    assert run.finished


def test_the_first_ctrl_c_says_it_waits_for_the_call_in_progress_the_second_abandons_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctbench.backends.per_zone import PerZoneTable

    real_zone_values = PerZoneTable.zone_values
    real_notice = ProgressDisplay.notice
    events: list[str] = []

    def slow_in_round_3(self: PerZoneTable, zone: int) -> object:
        """The empty flush's walk, as a plugin whose third one is slow."""
        if zone == 0xFFFF and events.count("walk") == 2:
            events.append("slow call")
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):  # the call goes on after the first Ctrl-C
                pass
            events.append("still in the call")
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):
                pass
            events.append("returned")  # not reached: abandoned
        if zone == 0xFFFF:
            events.append("walk")
        return real_zone_values(self, zone)

    def notice(self: ProgressDisplay, text: str) -> None:
        events.append("notice")
        real_notice(self, text)

    monkeypatch.setattr(PerZoneTable, "zone_values", slow_in_round_3)
    monkeypatch.setattr(ProgressDisplay, "notice", notice)
    out_file = tmp_path / "run.json"
    code, out, err = run_cli(*LONGER, "-b", "single", "-b", "per-zone", "-o", out_file)
    assert code == 130, err
    assert events == [
        *["walk"] * 2,
        "slow call",
        "notice",  # said at once, while the call runs on
        "still in the call",
    ]
    lines = err.splitlines()
    assert lines[0] == (
        "ctbench: SIGINT: stopping once the call in progress returns; "
        "Ctrl-C again abandons it"
    )
    assert lines[-1] == "interrupted by SIGINT: partial results shown"
    single, per_zone = load(out_file).results
    assert single.status == "complete" and per_zone.status == "interrupted"
    assert {len(p.samples) for p in per_zone.phases.values()} == {2}
    assert "incomplete run (stopped by SIGINT)" in out


@pytest.mark.parametrize("command", ["benchmark-zones", "benchmark", "replay"])
def test_help_says_what_ctrl_c_waits_for(command: str) -> None:
    code, out, _ = run_cli(command, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert (
        "a call in progress (a phase, a chunk of the fill, a slow plugin's call) "
        "is finished first"
    ) in text
    assert "A second Ctrl-C abandons the call in progress." in text


def test_sigterm_from_outside_a_real_process(tmp_path: Path) -> None:
    out_file = tmp_path / "run.json"
    args = ["benchmark-zones", "2000", "5", "1000000", "-q", "--memory-sample", "0"]
    with start_marked_run(tmp_path, *args, "--force", "-o", out_file) as proc:
        wait_for(tmp_path / "running", proc)  # into the rounds
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "ct execute (commit)" in out
    run = load(out_file)
    assert run.stopped_by == "SIGTERM" and run.results[0].extra["rounds"] > 0


def test_a_backend_given_twice_runs_twice_labelled_apart(tmp_path: Path) -> None:
    out_file = tmp_path / "aa.json"
    code, out, _ = run_cli(*SMALL, "-b", "single", "-b", "single", "-o", out_file)
    assert code == 0
    assert "|               single#1 |" in out and "|               single#2 |" in out
    assert "single#2 is " in out and " than single#1 (" in out
    assert [r.label for r in load(out_file).results] == ["single#1", "single#2"]
    code, out, _ = run_cli("compare", out_file, out_file)
    assert code == 0 and "single#1" in out and "single#2" in out
    code, out, _ = run_cli("report", out_file, out_file, "--format", "csv")
    labels = {line.split(",")[1] for line in out.splitlines()[1:]}
    assert labels == {f"{out_file}#{i}:single#{j}" for i in (1, 2) for j in (1, 2)}


# -- the command line as a newcomer meets it ----------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus", "10", "1", "1"], "No such option '--bogus'"),
        (["10", "1", "1", "--batchsize", "4"], "No such option '--batchsize'"),
        (["10", "-1", "1"], "ZONES must be between 1 and 65534 (got -1)"),
        (["10", "1", "1", "--warmup", "-2"], "--warmup must be 0 or more (got -2)"),
    ],
)
def test_misspelled_options_and_negative_numbers_are_told_apart(
    args: list[str], message: str
) -> None:
    result = run_cli("benchmark-zones", *args)
    assert result.out == "" and message in assert_one_line_error(result)


def test_format_patch_is_ascii_on_a_terminal_and_rich_is_the_default_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console

    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    _, patch, _ = run_cli(*SMALL, "--format", "patch")
    assert "+------------------------+" in patch and "┃" not in patch
    _, default, _ = run_cli(*SMALL)
    assert "┃" in default and "+------------------------+" not in default
    _, rich, _ = run_cli(*SMALL, "--format", "rich")
    assert "┃" in rich
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: False))
    _, piped, _ = run_cli(*SMALL)
    assert "+------------------------+" in piped


def test_help_shows_no_unbounded_range() -> None:
    # click would print "x<=None" for an integer option without bounds.
    for command in ("benchmark-zones", "benchmark", "replay", "pcap"):
        result = run_cli(command, "--help")
        assert result.code == 0 and "None" not in result.out, command


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_second_signal_during_the_final_write_waits_for_the_file(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """Ctrl-C twice, or `timeout`, which can send its signal twice: the
    second one came while the file was written, and used to delete it."""
    out_file = tmp_path / "run.json"
    args = ["benchmark-zones", "200", "3", "1000000", "-b", "single", "-q"]
    with start_marked_run(
        tmp_path, *args, "--memory-sample", "0", "--force", "-o", out_file, write_s=2
    ) as proc:
        wait_for(tmp_path / "running", proc)
        proc.send_signal(stop)
        wait_for(tmp_path / "writing", proc)
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + stop, err
    assert f"results written to {out_file}" in err
    assert err.splitlines()[-1] == (
        f"ctbench: stopped again by {stop.name}: no report shown"
    )
    assert out == ""  # the second signal skips the report, not the file
    run = load(out_file)
    assert run.stopped_by == stop.name and run.results[0].extra["rounds"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run.json",
        "running",
        "writing",
    ]
