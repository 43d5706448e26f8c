"""pcap --ovstest PATH, with stand-ins that replay ovstest's real pcap
output, disagree with it, crash, hang or print garbage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.ovstest_standins import CRASH, GARBAGE, HANG, REPLAY, stand_in
from tests.helpers.paths import CAPTURES


def replaying(tmp_path: Path, name: str, record: Path | None = None) -> Path:
    code = REPLAY.format(path=str(CAPTURES / name))
    return stand_in(tmp_path, "ovstest", code, record=record)


def test_agreement_on_a_real_capture(tmp_path: Path) -> None:
    record = tmp_path / "argv"
    binary = replaying(tmp_path, "mixed.b1.ovstest.txt", record)
    result = run_cli("pcap", CAPTURES / "mixed.pcap", "--ovstest", binary)
    assert result.code == 0, result.err
    assert "agree on all 52 packets" in result.out
    # The capture itself is given, with the same batch size.
    assert record.read_text().split() == [
        "test-conntrack",
        "pcap",
        str(CAPTURES / "mixed.pcap"),
        "1",
    ]


def test_differences_are_listed_with_ovstest_bug_named(tmp_path: Path) -> None:
    binary = replaying(tmp_path, "mixed.b32.ovstest.txt")
    result = run_cli("pcap", CAPTURES / "mixed.pcap", "32", "--ovstest", binary)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1].startswith("19 of 52 packets differ")
    assert "6: ctbench est|rpl|trk, ovstest new|trk  (ovstest's bug" in result.out


def test_a_pcapng_capture_is_converted_for_ovstest(tmp_path: Path) -> None:
    record = tmp_path / "argv"
    binary = replaying(tmp_path, "mixed.pcapng.b1.ovstest.txt", record)
    result = run_cli("pcap", CAPTURES / "mixed.pcapng", "--ovstest", binary)
    assert result.code == 0, result.out
    assert "NOTE: ovstest cannot read this pcapng capture" in result.out
    given = record.read_text().split()[2]
    assert given != str(CAPTURES / "mixed.pcapng") and given.endswith(".pcap")


def test_ovstest_stopping_at_an_empty_record_is_noted(tmp_path: Path) -> None:
    binary = replaying(tmp_path, "edge.b1.ovstest.txt")
    result = run_cli("pcap", CAPTURES / "edge.pcap", "--ovstest", binary)
    assert result.code == 0
    assert "ovstest printed 45 of 46 packets" in result.out
    assert "zero-length record" in result.out


def test_crash_hang_and_garbage_are_one_line_errors(tmp_path: Path) -> None:
    mixed = CAPTURES / "mixed.pcap"
    crash = stand_in(tmp_path, "crash", CRASH)
    result = run_cli("pcap", mixed, "--ovstest", crash)
    assert "killed by SIGSEGV" in assert_one_line_error(result)
    hang = stand_in(tmp_path, "hang", HANG)
    result = run_cli("pcap", mixed, "--ovstest", hang, "--ovstest-timeout", "1")
    assert result.code == 2 and "no result within 1 s (hung?), killed" in result.err
    garbage = stand_in(tmp_path, "garbage", GARBAGE)
    result = run_cli("pcap", mixed, "--ovstest", garbage)
    assert result.code == 2 and "printed no packet lines" in result.err


def test_options_ovstest_cannot_check_are_refused(tmp_path: Path) -> None:
    binary = replaying(tmp_path, "mixed.b1.ovstest.txt")
    mixed = CAPTURES / "mixed.pcap"
    for extra in (["--summary"], ["--format", "json"]):
        result = run_cli("pcap", mixed, "--ovstest", binary, *extra)
        assert result.code == 2 and "takes no --summary" in result.err
    result = run_cli("pcap", mixed, "--ovstest", tmp_path / "nothing")
    assert result.code == 2 and "no such file" in result.err
    result = run_cli("pcap", mixed, "--ovstest-timeout", "5")
    assert result.code == 2 and "goes with --ovstest" in result.err


def _edited(tmp_path: Path, name: str, edit: Callable[[list[str]], list[str]]) -> Path:
    """A stand-in printing ovstest's real output for ``name``, edited."""
    lines = (CAPTURES / name).read_text().splitlines()
    text = tmp_path / "edited.txt"
    text.write_text("".join(f"{line}\n" for line in edit(lines)))
    return stand_in(tmp_path, "ovstest", REPLAY.format(path=str(text)))


def _renumbered(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        number, flags = line.split(": ")
        out.append(f"{int(number) + 1}: {flags}")
    return out


EDITS: dict[str, tuple[Callable[[list[str]], list[str]], list[str]]] = {
    # name: (edit of the real output, lines the check must print)
    "extra line": (
        lambda lines: [*lines, "53: new|trk"],
        ["ovstest printed packet 53, beyond the capture's 52"],
    ),
    "duplicated line": (
        lambda lines: [*lines[:7], lines[6], *lines[7:]],
        ["ovstest's line 8: packet 7 again"],
    ),
    "renumbered lines": (
        _renumbered,
        [
            "ovstest printed packet 53, beyond the capture's 52",
            "ovstest printed no line for packet 1",
            "5: ctbench new|trk, ovstest inv|trk",
        ],
    ),
    "garbage among the lines": (
        lambda lines: [*lines[:10], "hello", *lines[10:]],
        ["ovstest's line 11: 'hello' is not a packet line (N: FLAGS)"],
    ),
    "unknown flag": (
        lambda lines: [*lines[:6], "7: est|bogus", *lines[7:]],
        [
            "ovstest's line 7: '7: est|bogus' is not a packet line (N: FLAGS)",
            "ovstest printed no line for packet 7",
        ],
    ),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_lines_are_matched_by_packet_number(tmp_path: Path, name: str) -> None:
    edit, expected = EDITS[name]
    binary = _edited(tmp_path, "mixed.b1.ovstest.txt", edit)
    result = run_cli("pcap", CAPTURES / "mixed.pcap", "--ovstest", binary)
    assert result.code == 1, result.out + result.err
    lines = result.out.splitlines()
    for line in expected:
        assert line in lines
    assert "agree" not in result.out
    assert "do not pair up in" in lines[-1]


def test_lines_in_another_order_still_agree(tmp_path: Path) -> None:
    binary = _edited(tmp_path, "mixed.b1.ovstest.txt", lambda lines: lines[::-1])
    result = run_cli("pcap", CAPTURES / "mixed.pcap", "--ovstest", binary)
    assert result.code == 0, result.out
    assert "agree on all 52 packets" in result.out


def test_output_with_no_packet_line_is_shown_not_called_empty(
    tmp_path: Path,
) -> None:
    garbage = stand_in(tmp_path, "garbage", GARBAGE)
    result = run_cli("pcap", CAPTURES / "mixed.pcap", "--ovstest", garbage)
    assert "no output" not in assert_one_line_error(result)
    assert "100 line(s) that are not packet lines (N: FLAGS)" in result.err
    assert "the first (line 1): '\\x00\\x01 not a table'" in result.err
