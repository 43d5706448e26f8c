"""ctbench merge: several runs of one scenario pooled into one results file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ctbench import registry, results
from ctbench.cli.options import tag_option
from ctbench.cli.run import claim_output
from ctbench.cli.types import OutputFile
from ctbench.report.numbers import plural


@click.command("merge")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=OutputFile(),
    help="Where to write the pooled results file (atomically; a symlink is "
    "followed and an existing file keeps its mode).",
)
@tag_option
def merge(files: tuple[Path, ...], output: Path, tags: dict[str, str]) -> None:
    """Pool several runs of one scenario into one results file.

    Each backend's samples are concatenated in the order given and its
    counters summed.  The runs must share the command, the parameters (but
    for ITERATIONS and replay's --repeat), the tables (a backend pairs by
    its name and effective options, however it was typed) and the machine
    and build (the fields compare warns about).  Totals are summed
    (ITERATIONS, rounds, --repeat and repetitions, benchmark's packets,
    benchmark-zones' total run time) and rates computed again from them;
    measurements made once a run (fill times, memory, the clock's overhead)
    become their mean; benchmark's barrier-to-barrier time is listed run
    by run, since no one time is the pool's; the table's state at the end
    is kept only where every run agrees.  The pooled file spans the
    earliest start to the latest finish.  Alternate two builds' runs
    (A B A B) and pool each side: machine drift then falls on both alike.
    A file given twice (or through a link) is pooled twice, with a warning.
    Tags the runs hold alike are kept; runs whose tags differ are refused
    unless --tag says what the pooled file's are (--tag sets a tag, the
    runs' others are kept where they agree).

    \b
    Examples:
      ctbench merge base-1.json base-2.json base-3.json -o base.json
      ctbench merge night-*.json --tag commit=abc123 -o abc123.json
    """
    claim_output(output, files)
    runs = [registry.load(path) for path in files]
    pooled = registry.pool(list(zip(map(str, files), runs, strict=True)), tags)
    for warning in _repeated_files(files):
        click.echo(f"ctbench: warning: {warning}", err=True)
    results.save(pooled, output)
    click.echo(f"pooled {plural(len(runs), 'run')} into {output}", err=True)


def _repeated_files(files: tuple[Path, ...]) -> list[str]:
    """A warning per file given again: the same path, or another path to the
    same file (a symlink, a hard link).  Its samples would count twice."""
    warnings = []
    seen: dict[tuple[int, int], Path] = {}
    for path in files:
        try:
            info = os.stat(path)
        except OSError:  # gone since it was loaded: nothing to compare
            continue
        first = seen.get((info.st_dev, info.st_ino))
        if first is None:
            seen[info.st_dev, info.st_ino] = path
            continue
        again = (
            f"{path} is given twice"
            if str(first) == str(path)
            else f"{path} is the same file as {first}"
        )
        warnings.append(f"{again}: its samples are pooled twice, as two runs")
    return warnings
