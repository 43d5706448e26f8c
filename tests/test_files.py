"""ctbench.files: the writer's lock, the same-file check, the write-error
helper and regular-file reads, which know nothing of what the files hold."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from ctbench import files
from ctbench.errors import OutputError


def test_a_closed_pipe_is_not_a_failed_write() -> None:
    # The reader went away: the command line exits 141, as a shell does.
    with pytest.raises(BrokenPipeError), files.writing("standard output"):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_same_file_sees_through_links(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("a")
    b.write_text("b")
    (tmp_path / "sym").symlink_to(a)
    os.link(a, tmp_path / "hard")
    assert files.same_file(a, tmp_path / "sym")
    assert files.same_file(tmp_path / "hard", a)
    assert files.same_file(tmp_path / "new", tmp_path / "." / "new")  # not yet made
    assert not files.same_file(a, b)
    assert not files.same_file(a, tmp_path / "new")


def test_a_writer_lock_refuses_a_second_writer_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run.json"
    lock = tmp_path / ".run.json.lock"
    with files.writer_lock(out):
        assert lock.exists()
        with pytest.raises(OutputError, match="another ctbench run is writing"):
            with files.writer_lock(tmp_path / "." / "run.json"):
                pass
    assert list(tmp_path.iterdir()) == []
    with files.writer_lock(out):  # free again
        pass


def test_a_writer_lock_locks_a_symlinks_target(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "latest.json").symlink_to(tmp_path / "store" / "run.json")
    with files.writer_lock(tmp_path / "latest.json"):
        assert (tmp_path / "store" / ".run.json.lock").exists()
        with pytest.raises(OutputError):
            with files.writer_lock(tmp_path / "store" / "run.json"):
                pass


def test_a_lock_file_left_by_a_killed_run_does_not_block(tmp_path: Path) -> None:
    # SIGKILL leaves the file but not the flock, which the kernel drops.
    (tmp_path / ".run.json.lock").touch()
    with files.writer_lock(tmp_path / "run.json"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_writer_lock_removed_by_its_holder_meanwhile_is_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run before us may remove its lock file between our open() and
    our flock(): the lock we get is then on a file nobody else sees."""
    lock = tmp_path / ".run.json.lock"
    real_flock = fcntl.flock
    removed: list[int] = []

    def flock(fd: int, operation: int) -> None:
        if not removed:  # the holder finishes just before our flock
            removed.append(os.fstat(fd).st_ino)
            lock.unlink()
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    with files.writer_lock(tmp_path / "run.json"):
        assert lock.exists()  # a new file, the one a third run would lock
    assert len(removed) == 1 and list(tmp_path.iterdir()) == []
