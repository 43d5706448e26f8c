"""Build a report once from a run: statistics, intervals, sentences."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ctbench import registry
from ctbench.disturbance import RECORD_KEY, disturbed_findings
from ctbench.report.document import Column, Group, Report, Row, Value
from ctbench.report.numbers import percent
from ctbench.report.ovstest_figures import OvstestFigures, ovstest_figures
from ctbench.report.sections import CommandSections
from ctbench.results import FAILED, BackendResult, RunResult, side_by_side
from ctbench.results.merge import SIDE_BY_SIDE
from ctbench.results.pairing import pair_backends
from ctbench.results.tags import tags_line
from ctbench.stability import CLOCK_BOUND_READS, clock_bound, stability_findings
from ctbench.stats import PERCENTILE_METHOD_NOTE, MeanChange, mean_change
from ctbench.units import MICROSECONDS, Unit, unit_of

# The exact statistics every row has, in the table formats' order.
STAT_COLUMNS: Final = (
    Column("min", "Min"),
    Column("max", "Max"),
    Column("mean", "Avg"),
    Column("median", "Median"),
    Column("p95", "95%ile"),
    Column("p99", "99%ile"),
    Column("stdev", "Stdev"),
    Column("count", "Count", "count"),
)
# ovstest's estimators (--ovs-stats, or an imported ovstest table).
OVS_COLUMNS: Final = (Column("ovs_ewma", "OVS Avg"), Column("ovs_p95", "OVS 95%ile"))
# The grouped layouts show these, as the patch's table: Min, Max, 95%ile, Avg.
GROUPED_KEYS: Final = ("min", "max", "p95", "mean")
GROUPED_OVS_KEYS: Final = ("ovs_p95", "ovs_ewma")
# What a method note's {stats} and {ovs} say: the grouped layouts show the
# patch's Avg and 95%ile, the table layouts every statistic by its key.
GROUPED_STATS_NOTE: Final = (
    "Avg = arithmetic mean; 95%ile = " + PERCENTILE_METHOD_NOTE + "."
)
TABLE_STATS_NOTE: Final = (
    "mean = arithmetic mean; median, p95, p99 = "
    + PERCENTILE_METHOD_NOTE
    + "; stdev = sample standard deviation (n - 1); count = samples."
)


def method_note(template: str, table: bool, unit: Unit = MICROSECONDS) -> str:
    """A command's method note for one layout: ``{stats}`` and ``{ovs}``
    become what that layout's columns are called, ``{unit}`` what the
    samples measure (a note without it gets that first, for counts)."""
    stats = TABLE_STATS_NOTE if table else GROUPED_STATS_NOTE
    ovs = " and ".join(c.key if table else c.label for c in OVS_COLUMNS)
    if "{unit}" not in template and unit.counted:
        template = "{unit}. " + template
    text = template.replace("{stats}", stats).replace("{ovs}", ovs)
    text = text.replace("{unit}", unit.heading)
    for column in OVS_COLUMNS:
        text = text.replace(f"{{{column.key}}}", column.key if table else column.label)
    return text


def build_report(run: RunResult) -> Report:
    """The report of ``run``: every figure a format shows, computed once."""
    sections = registry.sections(run.command)
    phases = _phase_order(run, sections)
    ovstest = ovstest_figures(run, sections)
    ovs = run.ovs_stats or ovstest.summary_only
    method = sections.method(run) + ovstest.method_note
    extras = sections.extra_columns
    unit = unit_of(run.unit)
    stat_columns = STAT_COLUMNS + (OVS_COLUMNS if ovs else ())
    if unit.counted:  # counts read as counts, with thousands separators
        stat_columns = tuple(replace(c, kind="count") for c in stat_columns)
    columns = stat_columns + tuple(e.column for e in extras)
    by_key = {c.key: c for c in columns}
    grouped_keys = GROUPED_KEYS + (GROUPED_OVS_KEYS if ovs else ())
    grouped = tuple(by_key[k] for k in grouped_keys) + tuple(e.column for e in extras)
    groups = []
    for phase in phases:
        rows = []
        for result in run.results:
            p = result.phases.get(phase)
            stats = p.stats(run.ovs_stats) if p else None
            if stats is None:
                continue
            values: dict[str, Value] = {c.key: None for c in columns}
            values.update(stats.as_dict())
            values.update({e.column.key: e.value(result) for e in extras})
            rows.append(Row(result.label, values))
        if rows:
            groups.append(Group(phase, sections.phase_label(phase), tuple(rows)))
    return Report(
        title=_title(run, sections),
        lead=tuple(sections.lead(run)),
        method=method_note(method, table=False, unit=unit),
        table_method=method_note(method, table=True, unit=unit),
        columns=columns,
        grouped=grouped,
        groups=tuple(groups),
        comparisons=tuple(_compare_means(run, phases, sections, ovstest)),
        summary=(
            *_tags(run),
            *_counted_by(run),
            *sections.summary(run),
            *ovstest.lines,
            *_failures(run),
        ),
        warnings=tuple(
            sections.warnings(run)
            + _run_warnings(run, groups)
            + _disturbance_warnings(run, phases, sections)
            + _stability_warnings(run, phases, sections)
        ),
        run=run,
    )


def _phase_order(run: RunResult, sections: CommandSections) -> list[str]:
    """The command's phases in its order, then any other, as they appear."""
    seen: list[str] = []
    for result in run.results:
        seen += [name for name in result.phases if name not in seen]
    order = list(sections.phases)
    return sorted(seen, key=lambda n: order.index(n) if n in order else len(order))


def _title(run: RunResult, sections: CommandSections) -> str:
    varies = run.params.get(SIDE_BY_SIDE)
    varies = varies if isinstance(varies, dict) else {}

    def show(key: str) -> str:
        if key in varies:
            # Runs shown side by side that differ here: every run's value.
            return "|".join(map(_arg, varies[key]))
        return _arg(run.params.get(key))

    args = " ".join(show(k) for k in sections.title_params)
    backends = ", ".join(r.label for r in run.results)
    return f"ctbench {run.command} {args}  [{backends}]"


def _arg(value: object) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _tags(run: RunResult) -> list[str]:
    line = tags_line(run.tags)
    return [line] if line else []


def _counted_by(run: RunResult) -> list[str]:
    """How a run of counts was counted, and what its times are."""
    if not run.counted:
        return []
    h = run.harness
    return [
        f"Counted by callgrind ({h.get('valgrind', '?')}, PYTHONHASHSEED="
        f"{h.get('python_hash_seed', '?')}, address randomization "
        f"{h.get('address_randomization', '?')}): any time below is a time "
        "under callgrind, 90-160x a run's own."
    ]


def _failures(run: RunResult) -> list[str]:
    return [f"{r.label}: FAILED: {r.error}" for r in run.results if r.status == FAILED]


def _run_warnings(run: RunResult, groups: list[Group]) -> list[str]:
    out = []
    if not run.complete:
        what = f"stopped by {run.stopped_by}" if run.stopped_by else "interrupted"
        if run.failed and not run.stopped_by:
            what = "a backend failed"
        out.append(
            f"WARNING: incomplete run ({what}): statistics cover the samples "
            "gathered so far"
        )
        planned = run.params.get("backends")
        if isinstance(planned, list) and len(planned) > len(run.results):
            left = [str(b) for b in planned[len(run.results) :]]
            out.append(f"WARNING: not run: {', '.join(left)}")
    out += [f"NOTE: {flag}" for flag in _timer_flags(run, groups)]
    return out


def _disturbance_warnings(
    run: RunResult, phases: list[str], sections: CommandSections
) -> list[str]:
    """One line per disturbed phase of a backend
    (:func:`ctbench.disturbance.disturbed_findings`)."""
    found = {
        result.label: disturbed_findings(_record(result)) for result in run.results
    }
    return [
        f"WARNING: {sections.phase_label(phase)} on {label}: {found[label][phase]}"
        for phase in phases
        for label in found
        if phase in found[label]
    ]


def _record(result: BackendResult) -> dict[str, object]:
    record = result.extra.get(RECORD_KEY)
    return record if isinstance(record, dict) else {}


def _stability_warnings(
    run: RunResult, phases: list[str], sections: CommandSections
) -> list[str]:
    """One line per finding of :func:`ctbench.stability.stability_findings`
    on each backend's phase with samples."""
    out = []
    unit = unit_of(run.unit)
    noun = unit.noun if unit.counted else unit.key  # "us", as for times
    # A clock-bound phase has its NOTE instead (_timer_flags).
    for phase in phases:
        for result in run.results:
            p = result.phases.get(phase)
            samples = p.samples if p else []
            found = stability_findings(samples, noun, clock_read_ns=run.clock_read_ns)
            for finding in found:
                out.append(
                    f"WARNING: {sections.phase_label(phase)} on {result.label}: "
                    f"{finding}"
                )
    return out


def _timer_flags(run: RunResult, groups: list[Group]) -> list[str]:
    overhead_ns = run.clock_read_ns
    flags = []
    for group in groups:
        for row in group.rows:
            median = row.values.get("median")
            if isinstance(median, int | float) and clock_bound(median, overhead_ns):
                flags.append(
                    f"{group.label} on {row.label}: median {median:.2f} us is within "
                    f"{CLOCK_BOUND_READS}x of one clock read ({overhead_ns:.0f} ns); "
                    "treat it as an upper bound (its spread is not judged)"
                )
    return flags


def _compare_means(
    run: RunResult,
    phases: list[str],
    sections: CommandSections,
    ovstest: OvstestFigures,
) -> list[str]:
    """'flush empty zone: per-zone is 99.9% faster than single (95% CI ...)'
    lines, each backend against the first one, on arithmetic means; with
    files side by side (report a.json b.json), each backend of a later file
    against the first file's that ran the same table: like with like, the
    change between the files, not between two designs.

    The interval (:func:`ctbench.stats.mean_change`) covers the sampling
    noise within the run, so that a difference of a few percent is not read
    as real when the samples do not support it.  It cannot cover a drift of
    the machine between backends, which run one after the other.
    """
    # ovstest's rows have no samples to compare means with: they get their
    # own like-with-like lines (ctbench.report.ovstest_figures).
    ran = [r for r in run.results if r.status != FAILED and not ovstest.is_ovstest(r)]
    if len(ran) < 2:
        return []
    unit = unit_of(run.unit)
    pairs = _side_by_side_pairs(run, ovstest)
    if not side_by_side(run):
        pairs = [(ran[0], other) for other in ran[1:]]
    lines = []
    for phase in phases:
        for base, other in pairs:
            bp, op = base.phases.get(phase), other.phases.get(phase)
            if bp is None or op is None:
                continue
            key = f"{base.label}/{other.label}/{phase}"
            change = mean_change(bp.samples, op.samples, key)
            if change is None:
                continue
            lines.append(
                f"{sections.phase_label(phase)}: {other.label} is "
                f"{_change_words(change.change, unit)} {base.label} "
                f"({_interval_words(change, unit)})"
            )
    return lines


def _side_by_side_pairs(
    run: RunResult, ovstest: OvstestFigures
) -> list[tuple[BackendResult, BackendResult]]:
    """Files shown side by side: each later file's backends against the
    first file's that ran the same table, like with like."""
    files = [
        [
            (label, r)
            for label, r in found
            if r.status != FAILED and not ovstest.is_ovstest(r)
        ]
        for _, found in side_by_side(run)
    ]
    return [
        (pair.base, pair.cand)
        for other in files[1:]
        for pair in pair_backends(files[0], other).pairs
    ]


def _direction(less: bool, unit: Unit) -> str:
    """'faster' or 'slower' for times; 'fewer instructions' or 'more
    instructions' for counts."""
    if unit.counted:
        return f"{'fewer' if less else 'more'} {unit.noun}"
    return "faster" if less else "slower"


def _end_words(change: float, unit: Unit = MICROSECONDS) -> str:
    """'12.5% faster' / '3.0% slower' / '0%' (when the change rounds to 0)."""
    text = percent(abs(change))
    if not float(text):
        return "0%"
    return f"{text}% {_direction(change < 0, unit)}"


def _change_words(change: float, unit: Unit = MICROSECONDS) -> str:
    words = _end_words(change, unit)
    if words == "0%":
        return f"as many {unit.noun} as" if unit.counted else "as fast as"
    return f"{words} than"


def _interval_words(change: MeanChange, unit: Unit = MICROSECONDS) -> str:
    if not change.has_interval:
        return f"no interval: {change.method}"
    low, high = percent(abs(change.low)), percent(abs(change.high))
    # Decided on the printed digits, so that an end shown as 0.0 never
    # appears in an interval called one-sided.
    if float(low) and float(high) and (change.low < 0) == (change.high < 0):
        near, far = sorted((low, high), key=float)
        word = _direction(change.high < 0, unit)
        return f"95% CI {near}-{far}% {word}, {change.method}"
    return (
        f"95% CI {_end_words(change.low, unit)} to {_end_words(change.high, unit)}, "
        f"{change.method}: no clear difference"
    )
