"""pcap --ovstest PATH, with stand-ins that replay ovstest's real pcap
output, disagree with it, crash, hang or print garbage."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run_cli
from ovstest_standins import CRASH, GARBAGE, HANG, REPLAY, stand_in

CAPTURES = Path(__file__).parent / "data" / "captures"


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
    assert result.code == 2 and "killed by SIGSEGV" in result.err
    assert result.err.count("\n") == 1
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
