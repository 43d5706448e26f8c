"""``pcap --ovstest``'s text: ovstest's notes, each packet whose state
differs, ovstest's lines that pair with no packet, and one line that says
whether ctbench and ovstest agree."""

from __future__ import annotations

from pathlib import Path

from ctbench.capture.ovstest_states import PcapCheck
from ctbench.report.numbers import plural


def check_text(result: PcapCheck, label: str, binary: Path, batch_size: int) -> str:
    """``label`` is ctbench's backend, ``binary`` the ovstest run beside it."""
    lines = [f"NOTE: {note}" for note in result.notes]
    for d in result.differences:
        why = f"  ({d.why})" if d.why else ""
        lines.append(f"{d.number}: ctbench {d.ctbench}, ovstest {d.ovstest}{why}")
    lines += result.unmatched
    compared = result.printed
    if result.agrees:
        lines.append(
            f"ctbench ({label}) and {binary} agree on "
            f"{'the' if compared == 1 else 'all'} {plural(compared, 'packet')} "
            f"compared (batch size {batch_size})"
        )
    else:
        unmatched = len(result.unmatched)
        differ = "differs" if len(result.differences) == 1 else "differ"
        lines.append(
            f"{len(result.differences):,} of {plural(compared, 'packet')} {differ} "
            f"between ctbench ({label}) and {binary}"
            + (
                "; ovstest's lines and the capture's packets do not pair up in "
                f"{plural(unmatched, 'place')}, listed above"
                if unmatched
                else ""
            )
        )
    return "".join(f"{line}\n" for line in lines)
