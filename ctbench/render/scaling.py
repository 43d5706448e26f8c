"""A thread sweep's scaling table: throughput at each thread count and the
fitted law, per backend, laid out for a terminal or for Markdown."""

from __future__ import annotations

import math
import statistics
import textwrap

from tabulate import tabulate

from ctbench.growth.scaling import AMDAHL, METHOD, MODEL_NAMES, Interval
from ctbench.growth.scaling_document import ScalingDocument
from ctbench.render.growth import WRAP, two_decimals
from ctbench.render.markdown import markdown_table
from ctbench.report.numbers import fmt_rate, plural


def interval(value: Interval) -> str:
    """'0.12 [0.08, 0.16]', or '0.12' without degrees of freedom."""
    if not math.isfinite(value.low):
        return two_decimals(value.value)
    low, high = two_decimals(value.low), two_decimals(value.high)
    return f"{two_decimals(value.value)} [{low}, {high}]"


def title(doc: ScalingDocument) -> str:
    counts = sorted({p.threads for p in doc.points})
    return (
        f"ctbench sweep {doc.command}: {plural(len(doc.points), 'run')} at "
        f"{doc.scaling.param} {', '.join(map(str, counts))}"
    )


def method(doc: ScalingDocument) -> str:
    models = sorted({fit.model for fit in doc.fits.values()}, reverse=True)
    named = " and ".join(MODEL_NAMES[m] for m in models) or "none"
    return (
        f"Throughput: {doc.scaling.unit} of all threads ({doc.scaling.throughput}"
        "), the median of the runs at each count. Fitted: "
        f"{named}, X(N) = lambda N / (1 + sigma (N-1) + kappa N (N-1)). "
        f"Method: {METHOD}. sigma is contention (work done one thread at a "
        "time), kappa coherency delay (throughput falls past a peak); ideal "
        "scaling is sigma = kappa = 0."
    )


def render(doc: ScalingDocument, fmt: str = "table") -> str:
    counts = sorted({p.threads for p in doc.points})
    headers = [
        "backend",
        *(f"N={n}" for n in counts),
        "X(N)/X(1) at max N",
        "sigma [95%]",
        "kappa [95%]",
        "model",
    ]
    rows = []
    for label in doc.backends:
        medians = []
        for n in counts:
            rates = [p.throughput[label] for p in doc.points if p.threads == n]
            medians.append(statistics.median(rates) if rates else None)
        fit = doc.fits.get(label)
        first, last = medians[0], medians[-1]
        speedup = f"x{last / first:.2f}" if first and last else "-"
        rows.append(
            [
                label,
                *(fmt_rate(m) for m in medians),
                speedup,
                interval(fit.sigma) if fit else "-",
                interval(fit.kappa) if fit and fit.model != AMDAHL else "-",
                fit.model if fit else "not fitted",
            ]
        )
    markdown = fmt == "markdown"
    table = (
        markdown_table(rows, headers)
        if markdown
        else tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    )
    note = method(doc) if markdown else textwrap.fill(method(doc), WRAP)
    lines = [f"### {title(doc)}" if markdown else title(doc), "", note, ""]
    lines += [table if rows else "(no run finished)", ""]
    tail = []
    if not doc.complete:
        why = f"stopped by {doc.stopped_by}" if doc.stopped_by else "incomplete"
        tail.append(f"NOTE: {why}: fitted on the runs finished so far.")
    tail += [f"WARNING: {warning}" for warning in doc.warnings]
    lines += [f"- {line}" for line in tail] if markdown else tail
    return "\n".join(lines).rstrip("\n") + "\n"
