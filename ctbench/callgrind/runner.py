"""A run counted by callgrind: ctbench runs itself again under valgrind.

``--measure instructions`` (or ``cycles``) starts the command's own run in a
child process under ``valgrind --tool=callgrind --separate-threads=yes
--dump-before=sched_yield`` (:mod:`ctbench.callgrind.child`).  The child's
scenario marks each timed section with a ``sched_yield`` at both edges
(:class:`ctbench.scenarios.harness.SectionMarks`), and each of its samples
is its section's ordinal.  Here each sample becomes its section's count:
the instructions it executed (callgrind's ``Ir``), or the cycles estimated
from the cache simulation (:func:`ctbench.callgrind.dumps.estimated_cycles`).

What makes the counts repeat:

- ``PYTHONHASHSEED`` is fixed (0 unless the user set a number) and
  recorded: a bytes object's hash, and so a dict's probe sequence, depends
  on it;
- only the marking thread's dumps are read (``--separate-threads=yes``): a
  progress thread's work is not a section's;
- the dumps must be exactly the edges marked, or nothing is counted
  (:func:`ctbench.callgrind.dumps.section_counts`);
- the child runs without address-space randomization where the system
  lets a process ask (:func:`no_aslr`): CPython's type attribute cache is
  indexed by the address of the attribute's name, so with random
  addresses its misses, and a section's count, changed by 0.1-0.3% from
  run to run of `benchmark-zones 200 3 5` (0.002% without);
- the child starts alike however ctbench was started: its import path
  holds only the directories the parent imported from (:func:`import_path`),
  its environment only Python's and the locale's variables
  (:func:`child_env`), its interpreter's path is the same
  (:func:`interpreter`), and its module's bytecode is compiled before it
  runs (:data:`CHILD_MAIN`): each, left to vary, moved samples by
  0.08-0.19% (a longer environment or another directory listing at
  start-up leaves names at other addresses, and so the type attribute
  cache colliding elsewhere);
- the cache simulation has fixed caches (:data:`CACHE_ARGS`), not the
  host's, so another machine counts the same.

What stays of the run's time figures: its wall time and the fill's times,
which are times under callgrind; the figures made from the samples as
times (rates, the disturbance record, the harness's time between
sections) are dropped (:data:`TIME_FIGURES`).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from types import ModuleType
from typing import Any, Final

from ctbench import environment
from ctbench.backends import load_backend
from ctbench.callgrind import child
from ctbench.callgrind.dumps import (
    DumpError,
    DumpReader,
    estimated_cycles,
    section_counts,
)
from ctbench.callgrind.job import PROGRESS_PREFIX, Job, Outcome
from ctbench.disturbance import RECORD_KEY
from ctbench.errors import CtbenchError
from ctbench.results import PhaseResult, RunResult
from ctbench.scenarios.harness import CommonConfig, Progress
from ctbench.units import ESTIMATED_CYCLES, INSTRUCTIONS, Unit, measured_by

# The seed a counted run uses unless PYTHONHASHSEED holds one.
DEFAULT_HASH_SEED: Final = "0"
# PYTHONHASHSEED's range (Python's command-line documentation).
MAX_HASH_SEED: Final = 4294967295
VALGRIND_ARGS: Final = (
    "--tool=callgrind",
    "--separate-threads=yes",
    "--dump-before=sched_yield",
    "--quiet",
)
# Fixed caches for --measure cycles, so that the estimate is the same on
# every machine (by default valgrind reads the host's caches): 32 KiB
# 8-way L1 caches and an 8 MiB 16-way last level, 64-byte lines, a common
# x86 server core's L1 and a share of its L3.
CACHE_ARGS: Final = (
    "--cache-sim=yes",
    "--I1=32768,8,64",
    "--D1=32768,8,64",
    "--LL=8388608,16,64",
)
CALLGRIND_OUT: Final = "callgrind.out"
DUMPS_DIR: Final = "dumps"
JOB_FILE: Final = "job.pickle"
OUTCOME_FILE: Final = "outcome.pickle"
# ``-P -c`` rather than ``-m``: nothing of the directory goes into sys.path.
# The child's module is imported by this one, though only the child runs
# it, so that its bytecode is compiled (and cached, where Python may write
# it) before any child starts: a child that compiled it found its heap in
# another state than one that read it cached, and counted up to 0.13% apart.
CHILD_MAIN: Final = f"from {child.__name__} import main; main()"
# Figures a scenario makes from its clock: under callgrind the samples are
# counts and the clock runs 90-160x slow, so none of these means anything.
TIME_FIGURES: Final = (
    RECORD_KEY,
    "harness_untimed_us_per_round",
    "pps",
    "pps_per_thread",
    "wall_ms",
    "thread_ms",
)
# The parent's variables the child keeps (:func:`child_env`): Python's own
# (PYTHONMALLOC, PYTHONUTF8, PYTHONHOME...) and those that choose the
# locale (locale(7)), which both change what the child does; TMPDIR, where
# valgrind puts its files.
KEPT_PREFIXES: Final = ("PYTHON", "LC_")
KEPT_VARIABLES: Final = frozenset({"LANG", "LANGUAGE", "TMPDIR"})
# How often the parent looks at the child's output and the dumps, seconds.
POLL_S: Final = 0.2
# linux/personality.h: ADDR_NO_RANDOMIZE, and the argument that only asks.
ADDR_NO_RANDOMIZE: Final = 0x0040000
QUERY_PERSONALITY: Final = 0xFFFFFFFF


class CallgrindError(CtbenchError):
    """valgrind missing, or a counted run that cannot be counted."""


def find_valgrind(measure: str) -> str:
    """valgrind's path, once this interpreter is one whose runs can be
    counted.  A free-threaded CPython calls sched_yield itself (its locks
    spin with it), so the dumps that --dump-before=sched_yield makes cannot
    be matched to ctbench's sections: on 3.13.15t a tiny benchmark-zones
    run made 27,648 dumps for 48 marked edges."""
    found = shutil.which("valgrind")
    if found is None:
        raise CallgrindError(
            f"--measure {measure} runs ctbench under valgrind, which is not "
            "on PATH: install it (Debian: apt-get install valgrind)"
        )
    if not environment.gil_enabled():
        raise CallgrindError(
            f"--measure {measure} needs a CPython with the GIL: the "
            "free-threaded build calls sched_yield itself, so callgrind's "
            "dumps cannot be matched to ctbench's timed sections"
        )
    return found


def hash_seed(environ: Mapping[str, str]) -> str:
    """The PYTHONHASHSEED a counted run uses: the user's number, else 0."""
    seed = environ.get("PYTHONHASHSEED", "")
    if not seed:
        return DEFAULT_HASH_SEED
    if not (seed.isascii() and seed.isdigit() and int(seed) <= MAX_HASH_SEED):
        raise CallgrindError(
            f"PYTHONHASHSEED={seed!r} changes the counts from run to run: set "
            f"a number from 0 to {MAX_HASH_SEED}, or unset it (ctbench then "
            f"uses {DEFAULT_HASH_SEED})"
        )
    return str(int(seed))


def valgrind_args(unit: Unit) -> tuple[str, ...]:
    return VALGRIND_ARGS + (CACHE_ARGS if unit == ESTIMATED_CYCLES else ())


def sample_of(unit: Unit) -> Callable[[Mapping[str, int]], int]:
    """A section's sample from its counts, in ``unit``."""
    if unit == INSTRUCTIONS:
        return lambda events: events["Ir"]
    return estimated_cycles


def counted_run(
    run: Callable[[Any, Progress, Callable[[], bool]], RunResult],
    config: Any,
    common: CommonConfig,
    progress: Progress,
    interrupted: Callable[[], bool],
) -> RunResult:
    """``run(config, ...)`` under callgrind, each sample its section's
    count in the unit ``common.measure`` names; ``common`` is the config's
    harness fields (the config itself, or the part of it that has them)."""
    unit = measured_by(common.measure)
    valgrind = find_valgrind(common.measure)
    seed = hash_seed(os.environ)
    args = valgrind_args(unit)
    tables = {spec.name: load_backend(spec.name) for spec in common.backends}
    job = Job(run, config, tables)
    with TemporaryDirectory(prefix="ctbench-callgrind-") as tmp:
        directory = Path(tmp)
        dumps = directory / DUMPS_DIR
        dumps.mkdir()
        (directory / JOB_FILE).write_bytes(pickle.dumps(job))
        out_path = directory / OUTCOME_FILE
        # Run in the directory, with the same words on every run: nothing
        # of the temporary directory's random name reaches the child's own
        # strings, in its arguments (which pathlib interns) or its sys.path
        # (where ``-m`` would put the working directory; ``-P`` puts none).
        command = [
            valgrind,
            *args,
            # valgrind's own argument, which the child does not see.
            f"--callgrind-out-file={dumps / CALLGRIND_OUT}",
            interpreter(sys.executable),
            "-P",
            "-c",
            CHILD_MAIN,
            JOB_FILE,
            OUTCOME_FILE,
        ]
        reader = DumpReader(dumps)

        with no_aslr() as fixed:
            status = _run_child(
                command,
                child_env(seed, os.environ),
                directory,
                reader,
                progress,
                interrupted,
            )
        if not out_path.exists():
            raise CallgrindError(
                f"the run under callgrind failed (exit status {status}): "
                f"{_last_line(directory / 'stderr')}"
            )
        outcome: Outcome = pickle.loads(out_path.read_bytes())
    counts = section_counts(reader.intervals, outcome.edges)
    harness = {
        "counter": "callgrind",
        "valgrind": _version(valgrind),
        "valgrind_args": list(args),
        "python_hash_seed": seed,
        "address_randomization": "off" if fixed else "on",
    }
    return counted(outcome.run, counts, unit, harness)


def counted(
    run: RunResult,
    counts: Sequence[Mapping[str, int]],
    unit: Unit,
    harness: dict[str, Any],
) -> RunResult:
    """The child's run with each sample (its section's ordinal) replaced by
    its section's count in ``unit``, and the time figures dropped."""
    value = sample_of(unit)
    results = []
    for result in run.results:
        phases = {}
        for name, phase in result.phases.items():
            samples = []
            for ordinal in phase.samples:
                k = round(ordinal)
                if not 0 <= k < len(counts):
                    raise DumpError(
                        f"{result.label}: {name}: section {k:,} was not counted "
                        f"(callgrind counted {len(counts):,})"
                    )
                samples.append(float(value(counts[k])))
            phases[name] = PhaseResult(samples, dict(phase.counters), phase.summary)
        extra = {k: v for k, v in result.extra.items() if k not in TIME_FIGURES}
        results.append(replace(result, phases=phases, extra=extra))
    return replace(run, results=results, unit=unit.key, harness=harness)


def child_env(seed: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: the hash seed, the parent's import path
    (:func:`import_path`), and of the parent's own variables only those
    that say how Python runs (``PYTHON*``), its locale and ``TMPDIR``.

    Not the rest: the environment is copied into the child's memory and
    into ``os.environ``, so another variable, or a longer value, leaves
    its heap in another state before the first section, and the sections
    count differently.  A shell's variables differ from one terminal to
    the next (``SSH_CONNECTION`` holds the session's port): adding that
    one variable moved samples by up to 0.19%."""
    # In one order, whatever order the shell keeps them in.
    kept = {
        name: environ[name]
        for name in sorted(environ)
        if name.startswith(KEPT_PREFIXES) or name in KEPT_VARIABLES
    }
    return {
        **kept,
        "PYTHONHASHSEED": seed,
        "PYTHONPATH": os.pathsep.join(import_path(sys.path, _imported())),
        # numpy's BLAS would start a pool of threads, one per CPU, that
        # valgrind then schedules beside the run: one is enough.
        "OPENBLAS_NUM_THREADS": "1",
    }


def _imported() -> list[ModuleType]:
    """The parent's modules the child may import: not its ``__main__``
    (the ``ctbench`` script in ``bin``, or ``python -m``'s), as the child
    runs its own."""
    return [m for name, m in sys.modules.items() if name != "__main__"]


def interpreter(executable: str) -> str:
    """The path the child's interpreter is started by: ``python`` in the
    same directory when that is the same program.  The ``ctbench`` script
    runs ``bin/python3`` and ``python -m ctbench`` usually ``bin/python``:
    the path is the child's ``sys.executable``, and that one letter alone
    moved samples by up to 0.09%."""
    plain = os.path.join(os.path.dirname(executable), "python")
    try:
        return plain if os.path.samefile(plain, executable) else executable
    except OSError:
        return executable


def import_path(path: Iterable[str], modules: Iterable[ModuleType]) -> list[str]:
    """The directories (and zip files) of ``path`` that the parent imported
    one of ``modules`` from, in order: those the child's imports need.

    The others are left out, above all the directory ``python -m ctbench``
    was started in (``sys.path[0]``) and the console script's ``bin``: a
    search that reaches a directory lists it and caches the names (importlib's
    ``FileFinder``, and ``importlib.metadata`` looking for plugins), and a
    working directory's names change from run to run (results files, other
    programs' temporary files).  The listing's allocations and hashes leave
    the heap and CPython's type attribute cache in another state, and the
    sections count differently: started from /tmp, two runs differed by up
    to 0.23% in a sample; 40 more entries in that directory alone moved
    samples by up to 0.08% (docs/instruction-counts.md)."""
    files: list[str] = []
    for module in modules:
        file = getattr(module, "__file__", None)
        # A namespace package has no file, only its directories.
        for name in [file, *getattr(module, "__path__", ())]:
            if isinstance(name, str):
                files.append(os.path.abspath(name))
    used: list[str] = []
    for entry in path:
        prefix = os.path.join(os.path.abspath(entry), "")
        if entry and entry not in used and any(f.startswith(prefix) for f in files):
            used.append(entry)
    return used


def _run_child(
    command: list[str],
    env: dict[str, str],
    directory: Path,
    reader: DumpReader,
    progress: Progress,
    interrupted: Callable[[], bool],
) -> int:
    """Run the child to its end, showing its progress and reading its dumps
    as they come.  The child has a session of its own, so a Ctrl-C reaches
    only this process, which passes each on: the first stops the child's
    run at its next check, a second abandons its call in progress, and the
    child still writes what it gathered."""
    with (
        (directory / "stderr").open("wb") as err,
        subprocess.Popen(
            command,
            env=env,
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        ) as child,
    ):
        assert child.stdout is not None
        fd = child.stdout.fileno()
        forwarded = False
        pending = b""
        with _selecting(fd) as ready:
            while True:
                try:
                    if interrupted() and not forwarded:
                        forwarded = True
                        child.send_signal(signal.SIGINT)
                    if ready():
                        chunk = os.read(fd, 1 << 16)
                        if not chunk:
                            break
                        *lines, pending = (pending + chunk).split(b"\n")
                        for line in lines:
                            _show(line.decode(errors="replace"), progress)
                    reader.collect(final=False)
                except KeyboardInterrupt:  # a further signal: pass it on
                    child.send_signal(signal.SIGINT)
        status = _wait(child)
    reader.collect(final=True)
    return status


@contextmanager
def no_aslr() -> Iterator[bool]:
    """While it lasts, processes this one starts run without address-space
    randomization (Linux's ADDR_NO_RANDOMIZE personality, which children
    inherit, as ``setarch -R`` sets it); yields whether the system allowed
    it (a container's seccomp filter may not)."""
    if not sys.platform.startswith("linux"):
        yield False
        return
    personality = ctypes.CDLL(None, use_errno=True).personality
    current = personality(QUERY_PERSONALITY)
    if current == -1 or personality(current | ADDR_NO_RANDOMIZE) == -1:
        yield False
        return
    try:
        yield True
    finally:
        personality(current)


@contextmanager
def _selecting(fd: int) -> Iterator[Callable[[], bool]]:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        yield lambda: bool(selector.select(POLL_S))


def _wait(child: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)


def _show(line: str, progress: Progress) -> None:
    if not line.startswith(PROGRESS_PREFIX):
        return
    fields = line[len(PROGRESS_PREFIX) :].split("\t")
    if len(fields) == 4 and fields[2].isdigit() and fields[3].isdigit():
        label, stage, done, total = fields
        progress(label, f"{stage} (callgrind)", int(done), int(total))


def _last_line(path: Path) -> str:
    lines = [x.strip() for x in path.read_text(errors="replace").splitlines()]
    return next((x for x in reversed(lines) if x), "no message")


def _version(valgrind: str) -> str:
    done = subprocess.run(
        [valgrind, "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"
