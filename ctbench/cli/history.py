"""ctbench history: a scenario's runs over time, and where they changed."""

from __future__ import annotations

from pathlib import Path

import click

from ctbench import registry
from ctbench.cli.types import Integer
from ctbench.history.analysis import DEFAULT_STATISTIC, STATISTICS, build_history
from ctbench.history.runs import NamedRun, files_of
from ctbench.render.history import FORMATS, render
from ctbench.results import file_labels
from ctbench.stats import DEFAULT_SEED

# A step that got slower holds the last run: as compare's regression.
EXIT_REGRESSION = 1


@click.command("history")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--key",
    metavar="TAG",
    help="Order the runs by this tag (as numbers when every value is an "
    "integer, else as text) [default: by start time].",
)
@click.option(
    "--stat",
    type=click.Choice(STATISTICS),
    default=DEFAULT_STATISTIC,
    show_default=True,
    help="Each run's figure: the median or the minimum of its samples.",
)
@click.option(
    "--group",
    is_flag=True,
    help="Runs of several scenarios: show each one's history (without it "
    "they are refused).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="table",
    show_default=True,
    help="table for a terminal, markdown for a CI job's summary, csv a row "
    "per run, json for machines (and plot).",
)
@click.option(
    "--seed",
    type=Integer(min=0),
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the permutation test and the bootstrap intervals.",
)
def history(
    paths: tuple[Path, ...],
    key: str | None,
    stat: str,
    group: bool,
    fmt: str,
    seed: int,
) -> None:
    """The runs of one scenario over time (results FILEs, or DIRs of them):
    per backend and phase, each run's median (or --stat min), and the runs
    where it changed, found by E-divisive means, with each step's size and
    its 95% interval.  Runs from another machine or build are flagged, as
    compare flags them.  Exits 1 when the last run is part of a step that
    got slower, so a nightly job can fail on it.

    \b
    Examples:
      ctbench history nightly/
      ctbench history nightly/ --key run --format markdown >> "$GITHUB_STEP_SUMMARY"
      ctbench history nightly/ --format json > history.json
      ctbench plot history.json -o history.png
    """
    files = files_of(paths)
    named = [
        NamedRun(label, registry.load(path))
        for label, path in zip(file_labels(files), files, strict=True)
    ]
    found = build_history(named, key, stat, group, seed)
    if len(found.scenarios) > 1:
        click.echo(
            f"ctbench: note: the files hold runs of {len(found.scenarios)} "
            "scenarios: each one's history is shown apart",
            err=True,
        )
    click.echo(render(found, fmt), nl=False)
    if found.regressed:
        click.get_current_context().exit(EXIT_REGRESSION)
