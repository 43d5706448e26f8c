"""Reading captures: formats, link types, and hostile files."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from ctbench.capture import CaptureError, pcap_bytes, read_capture
from ctbench.capture.link import LINUX_SLL, LINUX_SLL2, RAW
from ctbench.packets import OVSTEST_PAYLOAD
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.paths import CAPTURES


def write(tmp_path: Path, data: bytes, name: str = "c.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pcapng_and_pcap_of_the_same_packets_read_alike(tmp_path: Path) -> None:
    ethernet = read_capture(CAPTURES / "mixed.pcap")
    assert ethernet.format == "pcap" and ethernet.link_types == ("Ethernet",)
    ng = read_capture(CAPTURES / "mixed.pcapng")
    assert ng.format == "pcapng" and ng.link_types == ("Ethernet",)
    # The pcapng capture is another run of the same traffic; rewritten as
    # pcap by ctbench it reads back identical, timestamps to the nanosecond.
    again = read_capture(write(tmp_path, pcap_bytes(ng.frames, ng.ts_ns)))
    assert again.frames == ng.frames and list(again.ts_ns) == list(ng.ts_ns)
    assert len(ethernet) > 40 and len(ng) > 40


@pytest.mark.parametrize(
    ("name", "link"),
    [
        ("mixed.sll.pcap", "Linux cooked (SLL)"),
        ("mixed.sll2.pcap", "Linux cooked v2 (SLL2)"),
    ],
)
def test_cooked_captures_become_ethernet_frames(name: str, link: str) -> None:
    capture = read_capture(CAPTURES / name)
    assert capture.link_types == (link,)
    # Every IPv4 frame's EtherType sits where Ethernet puts it.
    types = {frame[12:14] for frame in capture.frames}
    assert b"\x08\x00" in types and b"\x86\xdd" in types


def test_snap_length_cut_records_are_counted() -> None:
    capture = read_capture(CAPTURES / "mixed.snap64.pcap")
    assert capture.cut > 0
    assert max(map(len, capture.frames)) <= 64


def _pcap(
    link: int, frames: list[bytes], order: str = "<", nano: bool = False
) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)
    for i, frame in enumerate(frames):
        out += struct.pack(order + "IIII", 100 + i, 5, len(frame), len(frame)) + frame
    return out


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_byte_orders_and_resolutions(tmp_path: Path, order: str, nano: bool) -> None:
    capture = read_capture(
        write(tmp_path, _pcap(1, [OVSTEST_PAYLOAD] * 2, order, nano))
    )
    assert capture.frames == [OVSTEST_PAYLOAD] * 2
    assert capture.ts_ns[1] == 101 * 10**9 + (5 if nano else 5000)


def test_raw_ip_and_cooked_records_are_converted(tmp_path: Path) -> None:
    ip = OVSTEST_PAYLOAD[14:]
    raw = read_capture(write(tmp_path, _pcap(RAW, [ip])))
    assert raw.frames[0][12:] == OVSTEST_PAYLOAD[12:]
    sll = bytes(2) + b"\x00\x01\x00\x06" + bytes(8) + b"\x08\x00"
    assert (
        read_capture(write(tmp_path, _pcap(LINUX_SLL, [sll + ip]))).frames[0][12:]
        == OVSTEST_PAYLOAD[12:]
    )
    sll2 = b"\x08\x00" + bytes(2) + bytes(4) + b"\x00\x01\x00\x06" + bytes(8)
    assert (
        read_capture(write(tmp_path, _pcap(LINUX_SLL2, [sll2 + ip]))).frames[0][12:]
        == OVSTEST_PAYLOAD[12:]
    )
    # Too short for its link header: an empty frame, which conntrack calls
    # invalid.
    assert read_capture(write(tmp_path, _pcap(LINUX_SLL2, [b"\x08"]))).frames == [b""]


# Hostile files: each a one-line error, exit status 2, nothing printed.
_GOOD = _pcap(1, [OVSTEST_PAYLOAD, OVSTEST_PAYLOAD])
_NG = (CAPTURES / "mixed.pcapng").read_bytes()


def _record_len(data: bytes, value: int) -> bytes:
    # The first record's captured length (file header 24, then ts 8 bytes).
    return data[:32] + struct.pack("<I", value) + data[36:]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "too short for a capture"),
        (b"\xd4\xc3", "too short for a capture"),
        (b"GIF89a" + bytes(40), "bad magic 0x47494638"),
        (_GOOD[:20], "truncated pcap file header"),
        (_GOOD[:30], "record 1: truncated record header"),
        (_GOOD[:-5], "record 2: length 42 runs past the end of the file"),
        (_record_len(_GOOD, 70000), "record 1: length 70000 is larger than the snap"),
        (_record_len(_GOOD, 60000), "record 1: length 60000 runs past the end"),
        (_record_len(_GOOD, 2**32 - 1), "larger than the snap length"),
        (_GOOD[:20] + struct.pack("<I", 105) + _GOOD[24:], "unsupported link type 105"),
        (_NG[:10], "block 1: truncated block header"),
        (
            _NG[:4] + struct.pack("<I", 2**31) + _NG[8:],
            "larger than the rest of the file",
        ),
        (_NG[:4] + struct.pack("<I", 5) + _NG[8:], "length 5 is invalid"),
        (_NG[:8] + b"\x00\x00\x00\x00" + _NG[12:], "bad byte-order magic"),
        (_NG[: len(_NG) - 7], "is larger than the rest of the file"),
        (_NG[: len(_NG) - 100] + bytes(3), "truncated block header"),
    ],
)
def test_hostile_files_are_one_line_errors(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(CaptureError, match=message.replace("(", r"\(")):
        read_capture(path)
    for command in (["pcap", path], ["replay", path, "-q"]):
        result = run_cli(*command)
        assert result.out == ""
        assert message.split(":")[0] in assert_one_line_error(result)


def test_a_record_beyond_the_snap_length_is_refused(tmp_path: Path) -> None:
    data = bytearray(_GOOD)
    data[16:20] = struct.pack("<I", 10)  # snap length 10, records of 42
    with pytest.raises(
        CaptureError, match="record 1: length 42 is larger than the snap length 10"
    ):
        read_capture(write(tmp_path, bytes(data)))


def test_zero_length_records_are_invalid_packets(tmp_path: Path) -> None:
    path = write(tmp_path, _pcap(1, [b"", OVSTEST_PAYLOAD, b""]))
    assert run_cli("pcap", path).out == "1: inv|trk\n2: new|trk\n3: inv|trk\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_directory_is_refused_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        result = run_cli("pcap", path)
        assert (
            result.code == 2
            and "not a regular file" in result.err
            or "directory" in result.err.lower()
        )
