"""Running a binary: its output, wall time, peak RSS and exit status, and
one-line errors for what cannot run to its end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ctbench.ovstest.runner import BinaryError, BinaryInterrupted, run_binary
from tests.helpers.ovstest_standins import CRASH, FAIL, HANG, replay, stand_in


def test_a_run_returns_output_time_memory_and_status(tmp_path: Path) -> None:
    path = stand_in(
        tmp_path, "ovstest", replay("xeon-benchmark-1-1000000-32.after.txt")
    )
    ran = run_binary(path, ["test-conntrack", "benchmark", "1", "1000000", "32"], 30)
    assert ran.stdout == "conntrack:     58 ms\n"
    assert ran.exit_status == 0 and ran.failure() is None
    assert 0 < ran.wall_s < 30
    # A Python interpreter's own peak, measured without ctbench's.
    assert ran.peak_rss_bytes is not None and 1 << 20 < ran.peak_rss_bytes < 1 << 30
    assert ran.rss_floor_bytes is not None and ran.rss_floor_bytes < 64 << 20
    assert ran.argv == (str(path), "test-conntrack", "benchmark", "1", "1000000", "32")


def test_peak_rss_is_the_binarys_not_ctbenchs(tmp_path: Path) -> None:
    """Linux keeps a process's pre-exec high-water mark: started straight
    from this process, a tiny program would report this process's peak."""
    ballast = bytearray(256 << 20)  # this process is now over 256 MiB
    ballast[::4096] = b"x" * len(ballast[::4096])
    path = stand_in(tmp_path, "ovstest", "pass")
    ran = run_binary(path, ["x"], 30)
    assert ran.peak_rss_bytes is not None and ran.peak_rss_bytes < 128 << 20
    del ballast


def test_a_binary_bigger_than_the_helper_has_its_own_peak(tmp_path: Path) -> None:
    grows = "x = bytearray(96 << 20); x[::4096] = b'y' * len(x[::4096])"
    ran = run_binary(stand_in(tmp_path, "big", grows), ["x"], 30)
    assert ran.peak_rss_exact
    assert ran.peak_rss_bytes is not None and ran.peak_rss_bytes > 96 << 20


def test_a_crash_and_a_failure_are_returned_and_worded(tmp_path: Path) -> None:
    crashed = run_binary(stand_in(tmp_path, "crash", CRASH), ["x"], 30)
    assert crashed.exit_status < 0
    assert crashed.failure() == "killed by SIGSEGV"
    failed = run_binary(stand_in(tmp_path, "fail", FAIL), ["x"], 30)
    assert failed.exit_status == 3
    assert failed.failure() == "exited with status 3: test-conntrack: boom"


def test_a_hang_is_killed_at_the_timeout(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(
        BinaryError, match=r"no result within 0\.5 s \(hung\?\), killed"
    ):
        run_binary(stand_in(tmp_path, "hang", HANG), ["x"], 0.5)
    assert time.monotonic() - start < 5


def test_an_interrupt_kills_it(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(BinaryInterrupted, match="interrupted, killed"):
        run_binary(
            stand_in(tmp_path, "hang", HANG),
            ["x"],
            60,
            lambda: time.monotonic() - start > 0.3,
        )
    assert time.monotonic() - start < 5


def test_what_cannot_run_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(BinaryError, match="no such file"):
        run_binary(tmp_path / "missing", [], 5)
    with pytest.raises(BinaryError, match="is a directory"):
        run_binary(tmp_path, [], 5)
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    with pytest.raises(BinaryError, match=r"not executable \(chmod \+x\?\)"):
        run_binary(plain, [], 5, what="--ovstest x=plain")
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF\x00garbage")
    junk.chmod(0o755)
    with pytest.raises(BinaryError, match="junk: cannot run: Exec format error"):
        run_binary(junk, [], 5)


def test_a_second_ctrl_c_still_kills_the_binary(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hang = f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); {HANG}"
    start = time.monotonic()

    def second_ctrl_c() -> bool:
        if pid_file.exists() and pid_file.read_text():
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        run_binary(stand_in(tmp_path, "hang", hang), ["x"], 60, second_ctrl_c)
    assert time.monotonic() - start < 10
    stat = Path(f"/proc/{pid_file.read_text()}/stat")
    deadline = time.monotonic() + 5
    while not _gone(stat) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(stat)


def _gone(stat: Path) -> bool:
    """The process has exited: no longer there, or a zombie (killed, not yet
    reaped by init)."""
    try:
        return stat.read_text().split(") ")[-1].startswith("Z")
    except FileNotFoundError:
        return True
