"""ctbench report: saved results files, re-rendered, alone or side by side."""

from __future__ import annotations

from pathlib import Path

import click

from ctbench import registry, results
from ctbench.cli.options import format_option
from ctbench.cli.run import emit
from ctbench.render.json_format import render_many
from ctbench.results.compatibility import differences


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@format_option()
def report(files: tuple[Path, ...], fmt: str | None) -> None:
    """Re-render saved results FILE... in any format.

    With several files the backends are shown side by side, each labelled
    FILE:backend (the file name, or the path when two names clash), for
    example the same backend from two commits.  Parameters and environment
    are taken from the first file; differences are warned about on stderr.
    With --format json and several files the output is a JSON list of the
    files' documents, in order (not itself a results file).

    \b
    Examples:
      ctbench report run.json --format markdown
      ctbench report main.json branch.json --format table
    """
    runs = [registry.load(path) for path in files]
    if len(runs) == 1:
        emit(runs[0], fmt, None)
        return
    labels = results.file_labels(files)
    merged = results.merge_runs(list(zip(labels, runs, strict=True)))
    for label, run in zip(labels[1:], runs[1:], strict=True):
        for warning in differences(runs[0], run, (labels[0], label)):
            click.echo(f"ctbench: warning: {warning}", err=True)
    if fmt == "json":
        click.echo(render_many(runs), nl=False)
        return
    emit(merged, fmt, None)
