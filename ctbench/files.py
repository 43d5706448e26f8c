"""File helpers that know nothing of what the files hold: atomic writes,
the one place a failed write becomes a one-line error, the writer's lock,
the same-file check, and reads of regular files only.

They need only ``ctbench.errors``, so any layer may use them: results
files (:mod:`ctbench.results.files`), captures (:mod:`ctbench.capture.reader`)
and ovstest's output (``ctbench import-ovstest``) alike.  A read that fails
raises :class:`ReadError`, which each caller may word as its own kind of
file's error.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ctbench.errors import CtbenchError, OutputError


class ReadError(CtbenchError):
    """A file that cannot be read: absent, unreadable, or not a regular file."""


@contextmanager
def writing(where: str) -> Iterator[None]:
    """The one place a failed write becomes the one-line error: any OSError
    in the block (a full disk, a quota, a read-only mount, EIO) is raised
    again as ``OutputError("cannot write WHERE: No space left on device")``,
    which the command line reports with exit status 2.

    A closed pipe passes through as BrokenPipeError: the reader went away
    (``| head``), which is no failure of the run.
    """
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}") from None


def write_file(path: Path, data: str | bytes) -> None:
    """:func:`write_atomic`, with a failure as the one-line OutputError."""
    with writing(str(path)):
        write_atomic(path, data)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write through a temporary file beside the target, then rename, so a
    reader never sees a half-written file.  Text is written as UTF-8.

    A symlink is followed: its target is replaced (atomically, in the
    target's directory) and the link stays a link. Replacing an existing
    file keeps its permission bits; a new file gets the mode open() would.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    if target.exists() and not target.is_file():
        # A rename would replace a device node or a directory entry.
        raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        # mkstemp creates the file 0600.
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8") if isinstance(text, str) else text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once symlinks
    are resolved (even if it does not exist yet), or the same inode (a hard
    link, or a bind mount)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: ``.NAME.lock`` beside the file (or
    folder) that will be written, a symlink's target rather than the link."""
    real = Path(os.path.realpath(target))
    return real.parent / f".{real.name}.lock"


@contextmanager
def writer_lock(target: Path) -> Iterator[None]:
    """Hold the lock of ``target`` (a file or folder about to be written)
    for the block, or raise ``OutputError("another ctbench run is writing
    TARGET")`` at once, so that two runs writing one file do not both write
    it and keep only the last one's results.

    The lock is an flock on :func:`lock_path`, a file created for it and
    removed on release.  A run killed outright (SIGKILL) leaves the file
    behind, unlocked: the kernel drops the flock with the process, and the
    next run takes and removes it.
    """
    where = lock_path(target)
    fd = _locked(where, target)
    try:
        yield
    finally:
        # Removed while still held: a run that opened the old file and
        # gets its lock after us sees it gone and opens a new one.
        where.unlink(missing_ok=True)
        os.close(fd)


def _locked(where: Path, target: Path) -> int:
    while True:
        with writing(str(where)):
            fd = os.open(where, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"another ctbench run is writing {target} (its lock file: {where})"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OutputError(f"cannot lock {where}: {exc.strerror or exc}") from None
        try:
            now = os.stat(where)
        except FileNotFoundError:
            now = None
        held = os.fstat(fd)
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        # The run before us removed the file between our open and our
        # flock: this lock guards nothing; take the new file's.
        os.close(fd)


# What a path that is not a regular file is, for the refusal.
_FILE_KINDS: dict[int, str] = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_bytes(path: Path, most: int | None = None) -> bytes:
    """A regular file's bytes (a symlink is followed), or a one-line
    ReadError; with ``most``, its first ``most`` bytes only.

    Anything else is refused before it is read: /dev/zero would be read
    until memory runs out, and opening a FIFO blocks until a writer comes.
    The path is checked with stat() before it is opened, then the open file
    with fstat(), opened non-blocking, in case it was replaced in between.
    """
    try:
        _regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            _regular(path, os.fstat(file.fileno()).st_mode)
            return file.read() if most is None else file.read(most)
    except OSError as exc:
        raise ReadError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "an unknown kind")
        raise ReadError(f"{path}: cannot read: not a regular file ({kind})")
