"""units.py: what samples measure, and the refusals of mixed units."""

from __future__ import annotations

import pytest

from ctbench.units import (
    INSTRUCTIONS,
    MICROSECONDS,
    UnitError,
    measured_by,
    require_time,
    same_unit,
    unit_of,
)


def test_every_measure_names_its_unit() -> None:
    assert measured_by("time") is MICROSECONDS
    assert measured_by("instructions") is INSTRUCTIONS
    assert measured_by("cycles").key == "estimated_cycles"
    assert not MICROSECONDS.counted and INSTRUCTIONS.counted
    with pytest.raises(UnitError, match="--measure must be one of time, instr"):
        measured_by("watts")
    with pytest.raises(UnitError, match="unknown unit 'ms'"):
        unit_of("ms")


def test_one_unit_passes_and_two_are_refused_naming_both() -> None:
    assert same_unit([("a", "us"), ("b", "us")], "pool") == "us"
    assert same_unit([], "pool") == "us"
    with pytest.raises(UnitError) as caught:
        same_unit([("a.json", "us"), ("b.json", "instructions")], "compare")
    assert str(caught.value) == (
        "cannot compare samples in different units: a.json holds microseconds, "
        "b.json instructions"
    )


def test_a_count_is_refused_where_times_are_read() -> None:
    require_time("a.json", "us", "plot")
    with pytest.raises(UnitError) as caught:
        require_time("a.json", "instructions", "plot")
    assert str(caught.value) == (
        "a.json: holds instructions (--measure instructions); plot reads times "
        "in microseconds only"
    )
