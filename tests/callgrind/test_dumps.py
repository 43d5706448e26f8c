"""callgrind/dumps.py: dump files read back, matched to the sections, and
the cycles estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctbench.callgrind.dumps import (
    DumpError,
    DumpReader,
    Interval,
    estimated_cycles,
    read_interval,
    section_counts,
)

EVENTS = "Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw"


def _dump(path: Path, part: int, summary: str, events: str = "Ir") -> None:
    path.write_text(
        "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n"
        f"part: {part}\nthread: 1\n\npositions: line\nevents: {events}\n"
        f"summary: {summary}\n\nfn=(1) main\n0 {summary}\n"
    )


def test_a_summary_reads_by_event_with_trailing_zeros_left_out(
    tmp_path: Path,
) -> None:
    """callgrind leaves out a cost line's trailing zeros, its summary too."""
    _dump(tmp_path / "out.8-01", 8, "218622 63917 34109 1918 1704 583", EVENTS)
    interval = read_interval(tmp_path / "out.8-01")
    assert interval is not None
    assert (interval.part, interval.thread) == (8, 1)
    assert interval.events == {
        "Ir": 218622,
        "Dr": 63917,
        "Dw": 34109,
        "I1mr": 1918,
        "D1mr": 1704,
        "D1mw": 583,
        "ILmr": 0,
        "DLmr": 0,
        "DLmw": 0,
    }
    _dump(tmp_path / "out-01", 9, "5")  # the dump at the program's end
    assert read_interval(tmp_path / "out-01") is None
    (tmp_path / "out.3-01").write_text("version: 1\nevents: Ir\n")
    with pytest.raises(DumpError, match="out.3-01: no 'events:' and 'summary:'"):
        read_interval(tmp_path / "out.3-01")


def test_the_reader_leaves_the_newest_dump_until_the_end(tmp_path: Path) -> None:
    for part in (1, 2, 10):
        _dump(tmp_path / f"out.{part}-01", part, str(part * 100))
    reader = DumpReader(tmp_path)
    reader.collect(final=False)
    assert [i.part for i in reader.intervals] == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.10-01"]
    reader.collect(final=True)
    assert [i.events["Ir"] for i in reader.intervals] == [100, 200, 1000]
    assert list(tmp_path.iterdir()) == []


def _intervals(counts: list[int], thread: int = 1) -> list[Interval]:
    return [Interval(i + 1, thread, {"Ir": c}) for i, c in enumerate(counts)]


def test_each_section_is_the_second_interval_of_its_pair() -> None:
    found = section_counts(list(reversed(_intervals([7, 100, 8, 200]))), 4)
    assert [c["Ir"] for c in found] == [100, 200]


def test_a_dump_the_marks_did_not_make_is_refused() -> None:
    with pytest.raises(DumpError, match="made 5 interval dumps for the 4 section"):
        section_counts(_intervals([1, 2, 3, 4, 5]), 4)
    two = _intervals([1, 2]) + [Interval(3, 2, {"Ir": 3}), Interval(4, 2, {"Ir": 4})]
    with pytest.raises(DumpError, match=r"from threads \[1, 2\]"):
        section_counts(two, 4)


def test_cycles_as_iai_callgrind_estimates_them() -> None:
    """iai-callgrind's own test case (CyclesEstimator, ``real_world``):
    1,778 L1 hits, 10 LL hits and 53 RAM accesses make 3,683 cycles."""
    counts = [1353, 255, 233, 51, 12, 0, 50, 3, 0]
    assert estimated_cycles(dict(zip(EVENTS.split(), counts, strict=True))) == 3683
    with pytest.raises(DumpError, match="no 'Dr' count: the cache simulation"):
        estimated_cycles({"Ir": 5})
