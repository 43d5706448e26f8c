"""ctbench plot: a figure of a run, a sweep or a comparison."""

from __future__ import annotations

from pathlib import Path

import click

from ctbench.cli.run import claim_output
from ctbench.cli.types import OutputFile
from ctbench.plot import PlotError
from ctbench.plot.inputs import COMPARISON, HISTORY, RUN, SCALING, SWEEP, load_input
from ctbench.plot.save import output_format, save_figure
from ctbench.results import file_labels


@click.command("plot")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=OutputFile(),
    help="The figure: .png, .svg or .pdf (written atomically).",
)
def plot(files: tuple[Path, ...], output: Path) -> None:
    """Draw a figure of runs, a sweep, comparisons or a history (files of
    one kind).

    \b
    - a results file: each phase's latency distribution (empirical CDF on
      a log time axis), one curve per backend;
    - a sweep file: cost against connections stored and against zone size,
      on log-log axes, with each backend's fitted law in the legend;
    - a thread sweep's scaling file: throughput against threads, each
      run a point, with the fitted scalability law and ideal scaling;
    - a comparison (compare --format json): each row's ratio with its 95%
      interval, a forest plot, with the threshold's band;
    - a history (history --format json, one file): each phase's trend run
      by run, a line per backend, its steps marked with their sizes.

    Needs matplotlib: pip install 'ctbench[plot]'.

    \b
    Examples:
      ctbench plot run.json -o run.png
      ctbench plot sweep.json -o growth.svg
      ctbench plot scaling.json -o scaling.png
      ctbench compare a.json b.json --format json > cmp.json
      ctbench plot cmp.json -o cmp.pdf
      ctbench history nightly/ --format json > history.json
      ctbench plot history.json -o history.png
    """
    output_format(output)
    claim_output(output)
    inputs = [load_input(path) for path in files]
    kinds = {i.kind for i in inputs}
    if len(kinds) > 1:
        raise PlotError(
            "plot draws files of one kind at a time (got "
            + ", ".join(f"{i.name}: {i.kind}" for i in inputs)
            + ")"
        )
    # Each file's name in legends: its base name, or the path as given
    # when two names clash, as report labels files.
    labels = file_labels(list(files))
    named = [(label, i.document) for label, i in zip(labels, inputs, strict=True)]
    kind = kinds.pop()
    if kind == RUN:
        from ctbench.plot.run_figure import run_figure

        fig = run_figure(named)
    elif kind == HISTORY:
        from ctbench.plot.history_figure import history_figure

        if len(named) > 1:
            raise PlotError(
                "plot draws one history at a time: give history all the runs "
                "(with --group for several scenarios)"
            )
        fig = history_figure(named[0][1])
    elif kind == SWEEP:
        from ctbench.plot.sweep_figure import sweep_figure

        fig = sweep_figure(named)
    elif kind == SCALING:
        from ctbench.plot.scaling_figure import scaling_figure

        fig = scaling_figure(named)
    else:
        assert kind == COMPARISON
        from ctbench.plot.comparison_figure import comparison_figure

        fig = comparison_figure(named)
    save_figure(fig, output)
    click.echo(f"plot written to {output}", err=True)
