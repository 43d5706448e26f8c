"""ctbench import-ovstest: ovstest's printed output as a results file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctbench.cli.options import format_option, tag_option
from ctbench.cli.run import claim_output, emit
from ctbench.cli.types import Integer, OutputFile
from ctbench.files import read_bytes
from ctbench.ovstest.parse import (
    MAX_TEXT_BYTES,
    THREADS,
    ZONES,
    parse,
    read_stream,
    text_of,
)
from ctbench.ovstest.records import import_run, parse_args


@click.command("import-ovstest")
@click.argument(
    "file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--output", "-o", required=True, type=OutputFile(), help="Results file to write."
)
@click.option(
    "--command",
    "command_name",
    type=click.Choice([ZONES, THREADS]),
    help="The ovstest command, when the text does not say it.",
)
@click.option(
    "--args",
    "args_text",
    metavar='"N N N"',
    help="ovstest's arguments, when the text does not say them "
    '(e.g. "10000 1000 100").',
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Backend name of an ovstest table (or line) that names no build "
    "[default: ovstest]; repeat for several, in order.",
)
@click.option(
    "--table",
    type=Integer(min=1),
    help="Which run to import when the text holds tables of different "
    "arguments (1 = the first).",
)
@format_option()
@tag_option
def import_ovstest(
    file: Path,
    output: Path,
    command_name: str | None,
    args_text: str | None,
    labels: tuple[str, ...],
    table: int | None,
    fmt: str | None,
    tags: dict[str, str],
) -> None:
    """Read ovstest test-conntrack's output from FILE (or - for stdin; at
    most 16 MiB) and write it as a results file, then show its report.

    FILE may be ovstest's output as printed (a benchmark-zones table and the
    time lines before it, or benchmark's "conntrack:  N ms"), or a patch
    email's table with one row per build: "with commit" becomes the backend
    per-zone, "without commit" single.  Quoted replies (">", "> >") repeat
    tables: each distinct one is read once.

    The file is summary-only: ovstest prints Min, Max, a P-square 95%ile and
    an EWMA "Avg", not samples, and the file says so.  report shows it
    beside ctbench runs; compare gives ratios without intervals.

    \b
    Examples:
      ctbench import-ovstest after.txt --args "10000 1000 100" -o after.json
      ctbench import-ovstest patch.txt --table 1 -o patch.json
      ovstest test-conntrack benchmark 1 1000000 32 |
        ctbench import-ovstest - --args "1 1000000 32" -o bench.json
    """
    claim_output(output, () if str(file) == "-" else (file,))
    if str(file) == "-":
        origin = "stdin"
        text = read_stream(sys.stdin.buffer, origin)
    else:
        origin = str(file)
        text = text_of(read_bytes(file, MAX_TEXT_BYTES + 1), origin)
    args = None
    if args_text is not None:
        args = parse_args(command_name or _guess(args_text), args_text)
    run = import_run(parse(text, origin), origin, command_name, args, labels, table)
    run.tags = tags
    emit(run, fmt, output)


def _guess(args_text: str) -> str:
    """Which command --args are for when --command is not given: the count
    of numbers tells only for benchmark's optional fourth; check both."""
    return THREADS if len(args_text.split()) == 4 else ZONES
