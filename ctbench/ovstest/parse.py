"""Read ovstest test-conntrack's output: as printed, or as pasted in mail.

Three things are read (tests/test-conntrack.c, at 139b564db):

- ``benchmark-zones``' table, as ovstest prints it: a header of the four
  phases, then rows Min, Max, 95%ile and Avg, each value followed by ``us``;
  the lines before it (``initial packet generation time: N ms``,
  ``initial insert time: N ms``, ``flush run time: N ms``) are kept;
- the patch's hand-made table (docs/ovs-reference.md, "The patch"): a
  header Min, Max, 95%ile, Avg, then per phase a line naming it and a row
  per build (``with commit``, ``without commit``), with or without ``us``;
- ``benchmark``'s one line, ``conntrack:  N ms``.

A mail quotes earlier messages with ``>`` marks (``> >``, ``>> >``...), so a
thread holds the same table several times: each distinct table is returned
once, in the order its first copy appears, quote marks stripped.  (Two
genuinely identical outputs are indistinguishable from a quoted copy, and
are read once too.)  A ``ovstest test-conntrack COMMAND ARGS`` line before a
table, quoted or not, gives its command and arguments.

Nothing here knows ctbench's results: :mod:`ctbench.ovstest.records` turns
what this returns into a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from ctbench.errors import CtbenchError
from ctbench.report.numbers import plural
from ctbench.scenarios import benchmark, benchmark_zones

ZONES: Final = benchmark_zones.COMMAND
THREADS: Final = benchmark.COMMAND
# The phase names ovstest prints (test-conntrack.c, the table's header) are
# the labels ctbench gives its phases.
PHASE_NAMES: Final = {phase.label: phase.name for phase in benchmark_zones.PHASES}
# test-conntrack.c prints these rows, lib/stopwatch.c computes them.
STAT_NAMES: Final = {"Min": "min", "Max": "max", "95%ile": "p95", "Avg": "avg"}
# How many numbers follow each command on its command line.
ARG_COUNTS: Final = {ZONES: (3,), THREADS: (3, 4)}

# The most text import-ovstest reads: the patch's whole mail thread
# (tests/data/ovstest/conntrack-key-by-zone.patch.txt) is 30 KB, and one
# ovstest output under 1 KB; beyond this it is not ovstest's output.
MAX_TEXT_BYTES: Final = 16 * 2**20
# Read in chunks of this many bytes, so Ctrl-C is seen between them while a
# fast writer fills the pipe (a read of everything at once ignores it).
_READ_CHUNK_BYTES: Final = 2**16

# A mail's quote marks before the text: ">", "> >", ">> >", ...
_QUOTE = re.compile(r"^(?:[ \t]*>)+ ?")
_COMMAND_LINE = re.compile(
    r"ovstest\s+test-conntrack\s+(benchmark-zones|benchmark)\b((?:[ \t]+\d+)*)"
)
_TIME_LINE = re.compile(r"^([a-z][a-z ]*? time):\s*(\d+)\s*ms$")
_CONNTRACK_LINE = re.compile(r"^conntrack:\s*(\d+)\s*ms$")
_RULE = re.compile(r"^\+[-+]*\+$")
_VALUE = re.compile(r"^(\d+(?:\.\d+)?)(?:\s*us)?$")


class ParseError(CtbenchError, ValueError):
    """ovstest output that cannot be read."""


@dataclass(frozen=True)
class PhaseFigures:
    """One phase's row of ovstest's statistics, in microseconds: Min and Max
    exact, p95 its P-square estimate, avg its EWMA (lib/stopwatch.c)."""

    min: float
    max: float
    p95: float
    avg: float


@dataclass(frozen=True)
class Build:
    """One build's figures: the patch's row label (``with commit``), or
    None for ovstest's own table, which names no build."""

    row: str | None
    phases: tuple[tuple[str, PhaseFigures], ...]  # by ctbench phase name


@dataclass(frozen=True)
class Output:
    """One distinct table (or ``conntrack:`` line) and what goes with it."""

    command: str
    args: tuple[int, ...] | None  # None: the text does not say them
    builds: tuple[Build, ...] = ()
    # ovstest's "... time: N ms" lines before the table, in order.
    times_ms: tuple[tuple[str, int], ...] = ()
    conntrack_ms: int | None = None  # benchmark's line
    line: int = 0  # where its first copy starts, 1-based
    quoted: bool = False  # its first copy is in a quoted reply

    def identity(self) -> tuple[object, ...]:
        return (self.command, self.args, self.builds, self.times_ms, self.conntrack_ms)

    def describe(self) -> str:
        args = " ".join(map(str, self.args)) if self.args else "(no arguments given)"
        return f"{self.command} {args} (line {self.line})"


@dataclass
class _Context:
    """What the lines before a table said, per quote depth."""

    args: dict[str, tuple[int, ...]] = field(default_factory=dict)
    times: list[tuple[str, int]] = field(default_factory=list)


def read_stream(stream: BinaryIO, where: str) -> str:
    """The text of a stream (stdin), read in chunks up to MAX_TEXT_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_TEXT_BYTES:
        chunk = stream.read(_READ_CHUNK_BYTES)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return text_of(b"".join(chunks), where)


def text_of(raw: bytes, where: str) -> str:
    """ovstest's output as text: UTF-8, and at most MAX_TEXT_BYTES (a longer
    ``raw`` is refused, so read at most one byte more)."""
    if len(raw) > MAX_TEXT_BYTES:
        raise ParseError(
            f"{where}: more than {MAX_TEXT_BYTES // 2**20} MiB, the most "
            "import-ovstest reads (ovstest's output is under 1 KB, a whole "
            "mail thread of tables tens of KB)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{where}: not UTF-8 text") from None


def _cells(text: str) -> list[str]:
    inner = text.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in inner.split("|")]


def _value(cell: str, where: str) -> float:
    match = _VALUE.match(cell)
    if not match:
        raise ParseError(f"{where}: {cell!r} is not a time in microseconds")
    return float(match.group(1))


def _unquote(raw: str) -> tuple[int, str]:
    match = _QUOTE.match(raw)
    if not match:
        return 0, raw
    return match.group(0).count(">"), raw[match.end() :]


def parse(text: str, where: str = "input") -> list[Output]:
    """Every distinct ovstest output in ``text``, in order of first copy.

    Raises ParseError for a table that starts but cannot be read whole.
    """
    lines = [_unquote(raw) for raw in text.splitlines()]
    contexts: dict[int, _Context] = {}
    found: list[Output] = []
    i = 0
    while i < len(lines):
        depth, content = lines[i]
        context = contexts.setdefault(depth, _Context())
        stripped = content.strip()
        command = _COMMAND_LINE.search(stripped)
        if command:
            args = tuple(int(a) for a in command.group(2).split())
            if len(args) in ARG_COUNTS[command.group(1)]:
                context.args[command.group(1)] = args
            context.times = []
        elif time_line := _TIME_LINE.match(stripped):
            context.times.append((time_line.group(1), int(time_line.group(2))))
        elif conntrack := _CONNTRACK_LINE.match(stripped):
            found.append(
                Output(
                    THREADS,
                    context.args.get(THREADS),
                    conntrack_ms=int(conntrack.group(1)),
                    line=i + 1,
                    quoted=depth > 0,
                )
            )
        elif stripped.startswith("|"):
            cells = _cells(stripped)
            if cells and all(c in PHASE_NAMES for c in cells):
                i, build = _ovstest_table(lines, i, depth, cells, where)
                builds: tuple[Build, ...] = (build,)
            elif set(cells) == set(STAT_NAMES) and len(cells) == len(STAT_NAMES):
                i, builds = _patch_table(lines, i, depth, cells, where)
            else:
                i += 1
                continue
            found.append(
                Output(
                    ZONES,
                    context.args.get(ZONES),
                    builds,
                    tuple(context.times),
                    line=_table_start(lines, i, depth),
                    quoted=depth > 0,
                )
            )
            context.times = []
            continue
        i += 1
    return _distinct(found)


def _table_start(lines: list[tuple[int, str]], end: int, depth: int) -> int:
    """The 1-based line of a table's first line, from the line after it."""
    start = end
    while start > 0:
        d, content = lines[start - 1]
        stripped = content.strip()
        if d != depth or not stripped or stripped[0] not in "|+":
            break
        start -= 1
    return start + 1


def _rows(
    lines: list[tuple[int, str]], i: int, depth: int
) -> tuple[int, list[tuple[int, list[str]]]]:
    """The table's lines after its header, up to the first that is not one
    of its rows or rules (or is at another quote depth): (next index, rows)."""
    rows = []
    i += 1
    while i < len(lines):
        d, content = lines[i]
        stripped = content.strip()
        if d != depth or not stripped or stripped[0] not in "|+":
            break
        if not _RULE.match(stripped):
            rows.append((i, _cells(stripped)))
        i += 1
    return i, rows


def _ovstest_table(
    lines: list[tuple[int, str]], i: int, depth: int, phases: list[str], where: str
) -> tuple[int, Build]:
    """ovstest's own table: a column per phase, a row per statistic."""
    end, rows = _rows(lines, i, depth)
    values: dict[str, list[float]] = {}
    for at, cells in rows:
        here = f"{where}: line {at + 1}"
        if not cells or cells[0] not in STAT_NAMES:
            raise ParseError(f"{here}: expected a Min, Max, 95%ile or Avg row")
        if len(cells) != len(phases) + 1:
            raise ParseError(
                f"{here}: {cells[0]} row has {plural(len(cells) - 1, 'value')} for "
                f"{plural(len(phases), 'phase')}"
            )
        values[STAT_NAMES[cells[0]]] = [_value(c, here) for c in cells[1:]]
    missing = [name for name, key in STAT_NAMES.items() if key not in values]
    if missing:
        raise ParseError(
            f"{where}: line {i + 1}: ovstest table without its "
            f"{', '.join(missing)} {'row' if len(missing) == 1 else 'rows'} "
            "(cut short?)"
        )
    figures = tuple(
        (
            PHASE_NAMES[phase],
            PhaseFigures(*(values[k][col] for k in ("min", "max", "p95", "avg"))),
        )
        for col, phase in enumerate(phases)
    )
    return end, Build(None, figures)


def _patch_table(
    lines: list[tuple[int, str]], i: int, depth: int, heads: list[str], where: str
) -> tuple[int, tuple[Build, ...]]:
    """The patch's table: a line per phase, then a row per build."""
    end, rows = _rows(lines, i, depth)
    keys = [STAT_NAMES[h] for h in heads]
    by_build: dict[str, list[tuple[str, PhaseFigures]]] = {}
    phase: str | None = None
    for at, cells in rows:
        here = f"{where}: line {at + 1}"
        if len(cells) != len(heads) + 1:
            raise ParseError(
                f"{here}: {plural(len(cells) - 1, 'value')} where the header has "
                f"{len(heads)}"
            )
        if not any(cells[1:]):
            if cells[0] not in PHASE_NAMES:
                raise ParseError(f"{here}: unknown phase {cells[0]!r}")
            phase = PHASE_NAMES[cells[0]]
            continue
        if phase is None:
            raise ParseError(f"{here}: a row before any phase's name")
        got = dict(zip(keys, (_value(c, here) for c in cells[1:]), strict=True))
        by_build.setdefault(cells[0], []).append(
            (phase, PhaseFigures(got["min"], got["max"], got["p95"], got["avg"]))
        )
    if not by_build:
        raise ParseError(f"{where}: line {i + 1}: a table header with no rows")
    return end, tuple(Build(row, tuple(figs)) for row, figs in by_build.items())


def _distinct(found: list[Output]) -> list[Output]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for output in found:
        if output.identity() not in seen:
            seen.add(output.identity())
            out.append(output)
    return out
