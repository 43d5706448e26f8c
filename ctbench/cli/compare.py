"""ctbench compare: a candidate run against a baseline, with verdicts and an
exit status for CI."""

from __future__ import annotations

from pathlib import Path

import click

from ctbench import compare as comparing
from ctbench import registry
from ctbench.cli.types import Integer
from ctbench.compare import Settings
from ctbench.render import comparison as render_comparison


def _threshold(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return comparing.parse_threshold(value)
    except comparing.CompareError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command("compare")
@click.argument("baseline", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("candidate", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--stat",
    type=click.Choice(comparing.STATS),
    default=comparing.DEFAULT_STAT,
    show_default=True,
    help="Statistic the verdict uses.",
)
@click.option(
    "--threshold",
    default="10%",
    show_default=True,
    callback=_threshold,
    help="Change that counts: '10%' or '0.1'.",
)
@click.option(
    "--count-threshold",
    default=f"{comparing.DEFAULT_COUNT_THRESHOLD:.0%}",
    show_default=True,
    callback=_threshold,
    help="Change that counts between runs of instruction or cycle counts "
    "(--measure instructions or cycles), which have no noise to allow for.",
)
@click.option(
    "--seed",
    type=Integer(min=0),
    default=comparing.DEFAULT_SEED,
    show_default=True,
    help="Seed of the bootstrap resampling.",
)
@click.option(
    "--resamples",
    type=Integer(comparing.MIN_RESAMPLES, comparing.MAX_RESAMPLES),
    default=comparing.DEFAULT_RESAMPLES,
    show_default=True,
    help=(
        f"Bootstrap resamples per side, {comparing.MIN_RESAMPLES:,} to "
        f"{comparing.MAX_RESAMPLES:,}: a 95% percentile interval needs about "
        f"1,000 or more ({comparing.RESAMPLES_SOURCE})."
    ),
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 3 when rows are inconclusive (and none slower).",
)
@click.option(
    "--counters-must-match",
    is_flag=True,
    help="Fail (exit 1) when any work counter differs.",
)
@click.option(
    "--pair",
    "pairs",
    nargs=2,
    multiple=True,
    metavar="BASE_LABEL CAND_LABEL",
    help="Compare these two backends, whatever tables they ran; repeat for "
    "more. Others pair by the table they ran (name and effective options), "
    "so -b sharded and -b sharded:shards=64 pair by themselves.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(render_comparison.FORMATS)),
    default="table",
    show_default=True,
    help="table for a terminal, markdown for a CI job summary, json for machines.",
)
@click.pass_context
def compare(
    ctx: click.Context,
    baseline: Path,
    candidate: Path,
    stat: str,
    threshold: float,
    count_threshold: float,
    seed: int,
    resamples: int,
    strict: bool,
    counters_must_match: bool,
    pairs: tuple[tuple[str, str], ...],
    fmt: str,
) -> None:
    """Compare CANDIDATE against BASELINE, backend by backend and phase by phase.

    For the mean, median and p95 it shows candidate / baseline with a 95%
    percentile-bootstrap interval from the raw samples.  A row is slower
    when the whole interval of --stat is above 1 + threshold, faster when
    below 1 / (1 + threshold), unchanged inside that band, inconclusive
    when it straddles an edge.  Work counters are compared exactly.
    Backends pair by the table they ran (its name and effective options),
    whatever label they were given; --pair sets two labels side by side.

    With no change (a file compared with itself), a row comes out slower
    or faster at most about 2.5% of the time each, and unchanged at least
    95% of the time once its interval is narrow (high/low at most 1 +
    threshold);
    a wider one, from a noisy phase or few samples, may be inconclusive,
    and a note says how many more samples would settle it.

    Runs of counts (--measure instructions or cycles) are compared without
    a bootstrap, the ratio being exact, against --count-threshold (1%):
    slower above 1 + threshold, faster below 1 / (1 + threshold), else
    unchanged.  Runs in different units are refused.

    \b
    Exit status:
      0  no regression
      1  a row is slower, or counters differ with --counters-must-match
      2  usage or file error (different commands, unreadable file, ...)
      3  inconclusive rows and no regression, with --strict

    \b
    Examples:
      ctbench compare results/baseline-zones-small.json new.json
      ctbench compare base.json new.json --stat p95 --threshold 5% --strict
      ctbench compare base.json new.json --format markdown >> "$GITHUB_STEP_SUMMARY"
      ctbench compare a.json b.json --pair sharded:shards=8 sharded:shards=64
    """
    settings = Settings(
        stat=stat,
        threshold=threshold,
        resamples=resamples,
        seed=seed,
        strict=strict,
        counters_must_match=counters_must_match,
        pairs=pairs,
        count_threshold=count_threshold,
    )
    base_run, cand_run = registry.load(baseline), registry.load(candidate)
    names = (str(baseline), str(candidate))
    result = comparing.compare(base_run, cand_run, settings, names)
    # Warnings go to stderr, as report's do; the JSON document keeps them too.
    for warning in result.warnings:
        click.echo(f"ctbench: warning: {warning}", err=True)
    click.echo(render_comparison.render(result, fmt), nl=False)
    ctx.exit(result.exit_status())
