"""replay's report sections: the capture, each packet's state, why packets
were invalid, the work over the repetitions, and the packets/s column
(:mod:`ctbench.scenarios.replay` runs it)."""

from __future__ import annotations

from typing import Any, Final

from ctbench.report.document import Column
from ctbench.report.numbers import plural
from ctbench.report.sections import CommandSections, ExtraColumn, extra_value
from ctbench.results import RunResult, pooled_runs
from ctbench.scenarios.replay import PHASE

METHOD_NOTE: Final = (
    "{unit}, one sample per execute of one batch (up to "
    "BATCH_SIZE packets of one L3 type and zone). {stats} Packets/s: the "
    "packets of the whole repetitions over their timed executes."
)


def _method(run: RunResult) -> str:
    return METHOD_NOTE


def _summary(run: RunResult) -> list[str]:
    params = run.params
    found = params.get("capture")
    capture: dict[str, Any] = found if isinstance(found, dict) else {}
    # A hand-made file may lack what replay records: "?" for what it lacks.
    lines = [
        f"capture: {plural(params.get('packets'), 'packet')} in "
        f"{plural(params.get('batches'), 'batch', 'batches')} of up to "
        f"{params.get('batch_size', '?')} "
        f"({', '.join(capture.get('link_types', [])) or '?'}, "
        f"{_traffic(params.get('files', []), capture)}), clock "
        f"{params.get('clock', '?')}, zone {_zones(params)}, {_times(run)}"
    ]
    for result in run.results:
        extra = result.extra
        states = extra.get("states") or {}
        if states:
            listed = ", ".join(f"{name} {n:,}" for name, n in states.items())
            lines.append(
                f"{result.label}: each packet's state (first repetition): {listed}"
            )
        reasons = extra.get("invalid_reasons") or {}
        if reasons:
            listed = ", ".join(f"{why} {n:,}" for why, n in reasons.items())
            lines.append(f"{result.label}: inv|trk because: {listed}")
        phase = result.phases.get(PHASE)
        if phase and phase.counters:
            c = phase.counters
            # The model counts a packet invalid where it has no connection
            # (conn_key_extract() refused it, or it could not start one); a
            # packet a tracked TCP connection rejects is inv|trk and not
            # counted (tests/data/captures/tcp.pcap: 5 inv|trk, 3 counted).
            lines.append(
                f"{result.label}: work over "
                f"{plural(extra.get('repetitions', 0), 'repetition')}: "
                f"{plural(c.get('lookups', 0), 'packet')}, "
                f"{plural(c.get('created', 0), 'connection')} created, "
                f"{c.get('removed', 0):,} removed, {c.get('invalid', 0):,} invalid "
                "without a connection (unreadable, or could not start one; "
                "inv|trk also counts those a tracked connection rejected), "
                f"{c.get('refused', 0):,} refused"
            )
    return lines


def _traffic(files: list[str], capture: dict[str, Any]) -> str:
    """How long the traffic lasts: each file's own span when several are
    played (files from different years would otherwise read as decades of
    traffic).  Files before spans_s was recorded have only the whole span."""
    spans = capture.get("spans_s")
    if spans and len(spans) > 1 and len(spans) == len(files):
        listed = ", ".join(
            f"{name} {span:.3f} s" for name, span in zip(files, spans, strict=True)
        )
        return f"each file's traffic: {listed}"
    duration = capture.get("duration_s")
    return f"{duration:.3f} s of traffic" if duration is not None else "? s of traffic"


def _times(run: RunResult) -> str:
    repeat = run.params.get("repeat", 1)
    played = "played once" if repeat == 1 else f"played {repeat:,} times"
    runs = pooled_runs(run)
    return played + (f" over {runs} pooled runs" if runs > 1 else "")


def _zones(params: dict[str, Any]) -> str:
    zone, zones = params.get("zone", 0), params.get("zones", 1)
    if zones == 1:
        return str(zone)
    return f"{zone}..{zone + zones - 1} (by connection)"


SECTIONS: Final = CommandSections(
    phases={PHASE: "ct execute (one batch)"},
    title_params=("files",),
    method=_method,
    extra_columns=(
        ExtraColumn(Column("pps", "Packets/s", "rate"), extra_value("pps")),
    ),
    summary=_summary,
)
