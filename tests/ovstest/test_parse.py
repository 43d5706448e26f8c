"""Reading ovstest's output: as printed, and as pasted and quoted in mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctbench.ovstest.parse import ParseError, PhaseFigures, parse
from tests.helpers.paths import OVSTEST_DATA

PATCH = OVSTEST_DATA / "conntrack-key-by-zone.patch.txt"
OUTPUTS = sorted(OVSTEST_DATA.glob("*-benchmark*.txt"))


def test_the_data_is_there() -> None:
    assert len([p for p in OUTPUTS if "zones" in p.name]) >= 9
    assert len([p for p in OUTPUTS if "zones" not in p.name]) == 4


@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: p.name)
def test_every_real_output_reads_as_one_table_or_line(path: Path) -> None:
    (output,) = parse(path.read_text())
    assert output.args is None  # ovstest does not print its arguments
    assert not output.quoted
    if "zones" in path.name:
        assert output.command == "benchmark-zones"
        (build,) = output.builds
        assert build.row is None
        assert [name for name, _ in build.phases] == [
            "ct_execute_commit",
            "ct_execute_no_commit",
            "flush_full_zone",
            "flush_empty_zone",
        ]
        for _, figures in build.phases:
            assert figures.min <= figures.max
        names = [name for name, _ in output.times_ms]
        assert names == [
            "initial packet generation time",
            "initial insert time",
            "flush run time",
        ]
    else:
        assert output.command == "benchmark"
        assert output.conntrack_ms == int(path.read_text().split()[1])


def test_a_printed_table_keeps_every_figure() -> None:
    text = (OVSTEST_DATA / "xeon-benchmark-zones-10000-1000-100.after.txt").read_text()
    (output,) = parse(text)
    phases = dict(output.builds[0].phases)
    assert phases["ct_execute_commit"] == PhaseFigures(3258, 13238, 12293.77, 4874.37)
    assert phases["flush_empty_zone"] == PhaseFigures(1, 14, 3.70, 2.46)
    assert dict(output.times_ms)["initial insert time"] == 1705


def test_the_patch_has_two_distinct_tables_despite_the_quoted_copies() -> None:
    text = PATCH.read_text()
    assert text.count("|            with commit | 2266 |") >= 3  # quoted copies
    first, second = parse(text)
    assert (first.command, first.args) == ("benchmark-zones", (10000, 1000, 1000))
    assert (second.command, second.args) == ("benchmark-zones", (1000, 10000, 1000))
    assert not first.quoted and not second.quoted
    with_commit, without = first.builds
    assert (with_commit.row, without.row) == ("with commit", "without commit")
    assert dict(with_commit.phases)["ct_execute_commit"] == PhaseFigures(
        2266, 3505, 2707.06, 2592.06
    )
    assert dict(without.phases)["flush_full_zone"] == PhaseFigures(
        618, 105078, 64591, 2886.46
    )
    assert dict(second.builds[1].phases)["flush_empty_zone"] == PhaseFigures(
        3, 109728, 63923, 3629.44
    )


def test_only_quoted_copies_still_import_once_with_quote_marks_stripped() -> None:
    lines = PATCH.read_text().splitlines()
    # From Simon's reply on: the tables exist only as "> " and "> > " copies.
    start = next(i for i, line in enumerate(lines) if line.startswith("Simon Horman"))
    outputs = parse("\n".join(lines[start:]))
    assert [o.args for o in outputs] == [(10000, 1000, 1000), (1000, 10000, 1000)]
    assert all(o.quoted for o in outputs)
    assert outputs[0].builds == parse(PATCH.read_text())[0].builds


def test_a_quoted_indented_ovstest_table_with_its_command_line() -> None:
    table = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt").read_text()
    quoted = "\n".join(f">>     {line}" for line in table.splitlines())
    text = f'>> "./ovstest test-conntrack benchmark-zones 1000 100 200"\n{quoted}\n'
    (output,) = parse(text)
    assert output.args == (1000, 100, 200) and output.quoted
    assert output.builds == parse(table)[0].builds


def test_two_printed_outputs_are_two_tables() -> None:
    before = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt").read_text()
    after = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.after.txt").read_text()
    outputs = parse(f"before:\n{before}\nafter:\n{after}")
    assert len(outputs) == 2
    assert outputs[0].times_ms != outputs[1].times_ms


def test_a_command_line_without_numbers_keeps_the_earlier_arguments() -> None:
    table = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt").read_text()
    text = (
        "ovstest test-conntrack benchmark-zones 1000 100 200\n"
        'Running the new "./ovstest test-conntrack benchmark-zones" shows\n' + table
    )
    assert parse(text)[0].args == (1000, 100, 200)


def test_text_without_ovstest_output_gives_nothing() -> None:
    assert parse("hello\n| a | b |\n+---+\nconntrack: fast\n") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("| Avg    |", "| Mean   |"), "expected a Min, Max, 95%ile or Avg row"),
        (("    2.46 us |", "    lots |"), "'lots' is not a time"),
        (("| Avg ", "  Avg "), "without its Avg row"),
    ],
)
def test_a_table_that_cannot_be_read_whole_is_refused(
    change: tuple[str, str], message: str
) -> None:
    text = (OVSTEST_DATA / "xeon-benchmark-zones-10000-1000-100.after.txt").read_text()
    assert change[0] in text
    with pytest.raises(ParseError, match=message):
        parse(text.replace(*change), "out.txt")


def test_a_patch_table_with_an_unknown_phase_is_refused() -> None:
    text = PATCH.read_text().replace(
        "| flush full zone        |", "| flush all zones        |"
    )
    with pytest.raises(ParseError, match="unknown phase 'flush all zones'"):
        parse(text)
