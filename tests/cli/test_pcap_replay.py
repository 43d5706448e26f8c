"""ctbench pcap and ctbench replay through the command line."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ctbench.results import load
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.paths import CAPTURES

MIXED = CAPTURES / "mixed.pcap"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0"], "batch_size must be between 1 and NETDEV_MAX_BURST(32)"),
        (["33"], "batch_size must be between 1 and NETDEV_MAX_BURST(32)"),
        (["1", "--zone", "65536"], "--zone must be between 0 and 65535"),
        (["--format", "markdown"], "markdown is a --summary format"),
        (["--format", "xml"], "--format must be one of text, json, csv"),
        (["--summary", "--format", "xml"], "with --summary"),
        (["-o", "x.json"], "add --summary"),
        (["-b", "nosuch"], "nosuch"),
        (["--clock", "moon"], "moon"),
        (
            ["-b", "single", "-b", "per-zone"],
            "pcap tracks the packets with one backend: -b is given 2 times "
            "(single, per-zone)",
        ),
    ],
)
def test_pcap_bad_arguments_are_one_line(args: list[str], message: str) -> None:
    result = run_cli("pcap", MIXED, *args)
    assert result.out == "" and message in assert_one_line_error(result)


def test_pcap_backend_defaults_to_per_zone_and_takes_one() -> None:
    summary = run_cli("pcap", MIXED, "--summary", "--format", "csv")
    assert summary.code == 0 and ",per-zone," in summary.out
    one = run_cli("pcap", MIXED, "--summary", "-b", "single", "--format", "csv")
    assert ",single," in one.out and ",per-zone," not in one.out


def test_zone_help_names_only_options_the_command_has() -> None:
    pcap_help = run_cli("pcap", "--help").out
    assert "--zones" not in pcap_help
    assert "Conntrack zone of every packet." in pcap_help
    replay_help = " ".join(run_cli("replay", "--help").out.split())
    assert "(the first zone with --zones)" in replay_help


def test_pcap_missing_file_is_one_line() -> None:
    assert_one_line_error(run_cli("pcap", CAPTURES / "nosuch.pcap"))


def test_pcap_csv_and_json_records_agree_with_text() -> None:
    text = run_cli("pcap", MIXED).out.splitlines()
    rows = list(
        csv.DictReader(io.StringIO(run_cli("pcap", MIXED, "--format", "csv").out))
    )
    records = json.loads(run_cli("pcap", MIXED, "--format", "json").out)
    assert len(rows) == len(records) == len(text)
    for line, row, record in zip(text, rows, records, strict=True):
        number, state = line.split(": ")
        assert row["number"] == number and row["state"] == state
        assert record["number"] == int(number) and record["state"] == state
        assert str(record["timestamp_ns"]) == row["timestamp_ns"]
        assert ("inv" in state) == (record["invalid_reason"] is not None)
    # The TCP handshake's first packet: its key as conntrack looked it up.
    syn = next(r for r in records if r["key"] and r["key"]["proto"] == 6)
    assert syn["state"] == "new|trk"
    assert syn["key"]["src"] == "10.0.0.1" and syn["key"]["dport"] == 8080
    related = [r for r in records if r["related"]]
    assert related and all(r["state"] == "rel|rpl|trk" for r in related)


def test_pcap_summary_reports_states_and_reasons(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    result = run_cli("pcap", MIXED, "--summary", "--format", "table", "-o", out)
    assert result.code == 0, result.err
    assert (
        "each packet's state (first repetition): new|trk 10, est|trk 12, est|rpl|trk 20"
        in result.out
    )
    assert "inv|trk because: ICMP type not tracked 6, not IPv4 or IPv6 2" in result.out
    run = load(out)
    assert run.command == "replay" and run.results[0].label == "per-zone"
    assert run.results[0].extra["states"]["rel|rpl|trk"] == 2


def test_the_summary_says_what_invalid_and_inv_trk_each_count() -> None:
    # tcp.pcap: packets 6 and 8 belong to a tracked connection whose TCP
    # state rejects them; 23 to 25 match none and cannot start one.  All
    # five come out inv|trk; the model counts only the three as invalid.
    result = run_cli("pcap", CAPTURES / "tcp.pcap", "--summary")
    assert result.code == 0, result.err
    assert "each packet's state (first repetition): " in result.out
    assert "inv|trk 5" in result.out
    assert (
        "3 invalid without a connection (unreadable, or could not start one; "
        "inv|trk also counts those a tracked connection rejected)"
    ) in result.out


def test_pcap_zone_is_the_zone_of_every_record() -> None:
    records = json.loads(run_cli("pcap", MIXED, "--zone", "7", "--format", "json").out)
    assert {r["zone"] for r in records} == {7}


def test_replay_runs_backends_side_by_side_and_saves_results(tmp_path: Path) -> None:
    out = tmp_path / "replay.json"
    result = run_cli(
        "replay",
        MIXED,
        CAPTURES / "mixed.pcapng",
        "--repeat",
        "3",
        "-q",
        "-o",
        out,
        "--format",
        "table",
    )
    assert result.code == 0, result.err
    assert "single" in result.out and "per-zone" in result.out
    run = load(out)
    assert [r.label for r in run.results] == ["single", "per-zone"]
    packets = run.params["packets"]
    for r in run.results:
        phase = r.phases["execute_batch"]
        assert len(phase.samples) == 3 * run.params["batches"]
        # Each repetition starts from an empty table: the same work each time.
        assert phase.counters["lookups"] == 3 * packets
        assert phase.counters["created"] % 3 == 0
        assert phase.counters["removed"] == 0  # the flushes are not counted
        assert r.extra["repetitions"] == 3 and r.extra["pps"] > 0
    assert run.results[0].extra["states"] == run.results[1].extra["states"]
    # report and compare take replay runs.
    assert run_cli("report", out, "--format", "markdown").code == 0
    compared = run_cli("compare", out, out)
    assert compared.code in (0, 3), compared.err


def test_replay_zones_spread_connections_deterministically(tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        out = tmp_path / f"z{i}.json"
        result = run_cli(
            "replay",
            MIXED,
            "--zones",
            "8",
            "--zone",
            "100",
            "-q",
            "-b",
            "per-zone",
            "-o",
            out,
        )
        assert result.code == 0, result.err
        runs.append(load(out))
    first, second = runs
    assert first.params["batches"] == second.params["batches"]
    assert first.results[0].extra["states"] == second.results[0].extra["states"]
    one_zone = tmp_path / "one.json"
    run_cli("replay", MIXED, "-q", "-b", "per-zone", "-o", one_zone)
    # A batch also ends where the zone changes.
    assert load(one_zone).params["batches"] < first.params["batches"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeat", "0"], "--repeat must be between 1"),
        (["--zones", "0"], "--zones must be between 1"),
        (["--zone", "65535", "--zones", "2"], "--zones must be between 1 and 1"),
        (["--batch-size", "33"], "NETDEV_MAX_BURST"),
    ],
)
def test_replay_bad_arguments_are_one_line(args: list[str], message: str) -> None:
    result = run_cli("replay", MIXED, "-q", *args)
    assert result.out == "" and message in assert_one_line_error(result)


def test_pcap_ctrl_c_keeps_the_lines_printed_and_closes_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collections.abc import Iterator

    from ctbench.capture import track as core

    real = core.track_batches

    def interrupted_after_two(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for i, item in enumerate(real(*args, **kwargs)):
            if i == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(
        "ctbench.capture.packet_states.track_batches", interrupted_after_two
    )
    result = run_cli("pcap", MIXED, "--format", "json")
    assert result.code == 130
    assert len(json.loads(result.out)) == 2
    assert "interrupted after 2 of 52 packets" in result.err
    text = run_cli("pcap", MIXED)
    assert text.code == 130 and text.out == "1: inv|trk\n2: inv|trk\n"


def test_an_empty_capture_prints_nothing_but_cannot_be_replayed(tmp_path: Path) -> None:
    from ctbench.capture import pcap_bytes

    empty = tmp_path / "empty.pcap"
    empty.write_bytes(pcap_bytes([], []))
    assert run_cli("pcap", empty) == (0, "", "")  # as ovstest: no line
    for args in (["replay", empty, "-q"], ["pcap", empty, "--summary"]):
        result = run_cli(*args)
        assert result.code == 2 and "holds no packets, nothing to replay" in result.err


def test_pcap_summary_ctrl_c_during_the_write_waits_for_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def ctrl_c_while_writing(fd: int) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", ctrl_c_while_writing)
    out = tmp_path / "summary.json"
    code, text, err = run_cli("pcap", MIXED, "--summary", "-o", out)
    assert code == 130  # as the Ctrl-C asked, once the file is whole
    assert "packets" in text
    assert load(out).complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_captures_from_different_years_each_give_their_own_span(
    tmp_path: Path,
) -> None:
    from ctbench.capture import pcap_bytes
    from ctbench.packets import Endpoints, udp_frame

    frame = udp_frame(1, 2, Endpoints("10.0.0.1", "10.0.0.2"))
    year_2020, year_2026 = 1_577_836_800 * 10**9, 1_767_225_600 * 10**9
    old, new = tmp_path / "2020.pcap", tmp_path / "2026.pcap"
    old.write_bytes(pcap_bytes([frame] * 2, [year_2020, year_2020 + 1_500_000_000]))
    new.write_bytes(pcap_bytes([frame] * 2, [year_2026, year_2026 + 2 * 10**9]))
    saved = tmp_path / "run.json"
    result = run_cli("replay", old, new, "-q", "-b", "single", "-o", saved)
    assert result.code == 0, result.err
    assert f"each file's traffic: {old} 1.500 s, {new} 2.000 s" in result.out
    assert "s of traffic" not in result.out
    capture = load(saved).params["capture"]
    assert capture["spans_s"] == [1.5, 2.0] and capture["duration_s"] == 3.5
    alone = run_cli("replay", old, "-q", "-b", "single")
    assert "(Ethernet, 1.500 s of traffic)" in alone.out
