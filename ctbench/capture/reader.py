"""pcap and pcapng files, read with dpkt's header and block classes.

dpkt parses each structure (the file header and record headers of pcap;
the section, interface and packet blocks of pcapng, with their options,
byte orders and timestamp resolutions); this module walks the file and
checks every length against the file before anything is read, so a
hostile file fails with one line instead of a traceback or a huge
allocation.  dpkt's own readers are not used: they yield no record
lengths, ignore a pcapng packet's interface and read a block of any
claimed length.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Final

import dpkt
import dpkt.pcap
import dpkt.pcapng

from ctbench.capture import link
from ctbench.capture.contents import Capture, CaptureError
from ctbench.files import ReadError, read_bytes

# Classic pcap magics (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
# microsecond and nanosecond timestamps, in either byte order.
_PCAP_MAGICS: Final = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
_FILE_HEADER_LEN: Final = 24
_RECORD_HEADER_LEN: Final = 16
# pcapng block types (draft-ietf-opsawg-pcapng): section header, interface
# description, enhanced packet, simple packet, obsolete packet.
_SHB: Final = 0x0A0D0D0A
_IDB: Final = 1
_EPB: Final = 6
_SPB: Final = 3
_PB: Final = 2
_OPT_TSRESOL: Final = 9
_OPT_TSOFFSET: Final = 14
_NS_PER_S: Final = 1_000_000_000
# dpkt raises its own errors, and struct's or IndexError on a short buffer.
_PARSE_ERRORS: Final = (dpkt.Error, struct.error, ValueError, IndexError)


def read_capture(path: Path) -> Capture:
    """Every record of the pcap or pcapng file at ``path``."""
    try:
        data = read_bytes(path)
    except ReadError as exc:
        raise CaptureError(str(exc)) from None
    magic = data[:4]
    if magic in _PCAP_MAGICS:
        return _read_pcap(str(path), data)
    if magic == _PCAPNG_MAGIC:
        return _read_pcapng(str(path), data)
    if len(data) < 4:
        raise CaptureError(f"{path}: too short for a capture ({len(data)} bytes)")
    raise CaptureError(
        f"{path}: bad magic 0x{magic.hex()}: not a pcap or pcapng capture"
    )


def _convert(where: str, link_type: int) -> link.Converter:
    convert = link.converter(link_type)
    if convert is None:
        raise CaptureError(
            f"{where}: unsupported {link.describe(link_type)}; ctbench reads "
            "Ethernet, Linux cooked (SLL, SLL2) and raw IP captures"
        )
    return convert


def _read_pcap(where: str, data: bytes) -> Capture:
    order, ns_per_unit = _PCAP_MAGICS[data[:4]]
    if len(data) < _FILE_HEADER_LEN:
        raise CaptureError(f"{where}: truncated pcap file header")
    little = order == "<"
    header = (dpkt.pcap.LEFileHdr if little else dpkt.pcap.FileHdr)(
        data[:_FILE_HEADER_LEN]
    )
    # The link type's upper bits carry an FCS length (pcap-savefile(5)).
    link_type = header.linktype & 0x0FFFFFFF
    snaplen = header.snaplen
    convert = _convert(where, link_type)
    record_class = dpkt.pcap.LEPktHdr if little else dpkt.pcap.PktHdr
    capture = Capture(where, "pcap", (link.describe(link_type),))
    frames = capture.frames
    ts_ns = capture.ts_ns
    pos = _FILE_HEADER_LEN
    end = len(data)
    number = 0
    while pos < end:
        number += 1
        if end - pos < _RECORD_HEADER_LEN:
            raise CaptureError(f"{where}: record {number}: truncated record header")
        record = record_class(data[pos : pos + _RECORD_HEADER_LEN])
        caplen = record.caplen
        pos += _RECORD_HEADER_LEN
        if snaplen and caplen > snaplen:
            raise CaptureError(
                f"{where}: record {number}: length {caplen} is larger than the "
                f"snap length {snaplen}"
            )
        if caplen > end - pos:
            raise CaptureError(
                f"{where}: record {number}: length {caplen} runs past the end of "
                f"the file ({end - pos} bytes left): truncated capture?"
            )
        if record.tv_usec >= _NS_PER_S // ns_per_unit:
            raise CaptureError(
                f"{where}: record {number}: bad timestamp fraction {record.tv_usec}"
            )
        frames.append(convert(data[pos : pos + caplen]))
        ts_ns.append(record.tv_sec * _NS_PER_S + record.tv_usec * ns_per_unit)
        if record.len > caplen:
            capture.cut += 1
        pos += caplen
    return capture


class _Interface:
    __slots__ = ("convert", "name", "snaplen", "units_per_s", "offset_ns")

    def __init__(
        self, where: str, block: dpkt.pcapng.InterfaceDescriptionBlock, little: bool
    ) -> None:
        self.convert = _convert(where, block.linktype)
        self.name = link.describe(block.linktype)
        self.snaplen = block.snaplen
        self.units_per_s = 1_000_000  # no if_tsresol: microseconds
        self.offset_ns = 0
        for option in block.opts:
            if option.code == _OPT_TSRESOL and option.data:
                exponent = option.data[0] & 0x7F
                base = 2 if option.data[0] & 0x80 else 10
                if base**exponent > 10**18:
                    raise CaptureError(f"{where}: absurd timestamp resolution")
                self.units_per_s = base**exponent
            elif option.code == _OPT_TSOFFSET and len(option.data) == 8:
                order = "<q" if little else ">q"
                self.offset_ns = struct.unpack(order, option.data)[0] * _NS_PER_S

    def ns(self, units: int) -> int:
        return units * _NS_PER_S // self.units_per_s + self.offset_ns


def _read_pcapng(where: str, data: bytes) -> Capture:
    capture = Capture(where, "pcapng", ())
    frames = capture.frames
    ts_ns = capture.ts_ns
    names: list[str] = []
    interfaces: list[_Interface] = []
    little = True
    pos = 0
    end = len(data)
    number = 0
    block_number = 0
    while pos < end:
        block_number += 1
        if end - pos < 12:
            raise CaptureError(f"{where}: block {block_number}: truncated block header")
        if data[pos : pos + 4] == _PCAPNG_MAGIC:
            # A section header block: its byte-order magic decides how this
            # section's lengths read.
            bom = data[pos + 8 : pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                little = True
            elif bom == b"\x1a\x2b\x3c\x4d":
                little = False
            else:
                raise CaptureError(
                    f"{where}: block {block_number}: bad byte-order magic"
                )
            interfaces = []  # interface numbers restart in each section
        order = "<" if little else ">"
        block_type, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4 or length > end - pos:
            raise CaptureError(
                f"{where}: block {block_number}: length {length} is "
                + (
                    "larger than the rest of the file"
                    if length > end - pos
                    else "invalid"
                )
            )
        body = data[pos : pos + length]
        pos += length
        try:
            if block_type == _SHB:
                shb = (
                    dpkt.pcapng.SectionHeaderBlockLE
                    if little
                    else dpkt.pcapng.SectionHeaderBlock
                )(body)
                if shb.v_major != 1:
                    version = f"{shb.v_major}.{shb.v_minor}"
                    raise CaptureError(f"{where}: unsupported pcapng version {version}")
            elif block_type == _IDB:
                idb_class = (
                    dpkt.pcapng.InterfaceDescriptionBlockLE
                    if little
                    else dpkt.pcapng.InterfaceDescriptionBlock
                )
                interface = _Interface(where, idb_class(body), little)
                interfaces.append(interface)
                if interface.name not in names:
                    names.append(interface.name)
            elif block_type in (_EPB, _PB, _SPB):
                number += 1
                frame, caplen, wire_len, units, iface = _packet(
                    block_type, body, little
                )
                if iface >= len(interfaces):
                    raise CaptureError(
                        f"{where}: packet {number}: interface {iface} is not described"
                    )
                interface = interfaces[iface]
                if interface.snaplen and caplen > interface.snaplen:
                    raise CaptureError(
                        f"{where}: packet {number}: length {caplen} is larger than "
                        f"the snap length {interface.snaplen}"
                    )
                frames.append(interface.convert(frame))
                ns = (
                    interface.ns(units)
                    if units is not None
                    else ts_ns[-1]
                    if ts_ns
                    else 0
                )
                if not -(2**63) <= ns < 2**63:
                    raise CaptureError(
                        f"{where}: packet {number}: timestamp out of range"
                    )
                ts_ns.append(ns)
                if wire_len > caplen:
                    capture.cut += 1
        except _PARSE_ERRORS as exc:
            detail = str(exc) if isinstance(exc, ValueError) else ""
            raise CaptureError(
                f"{where}: block {block_number}: malformed "
                f"({' '.join(detail.split())[:80] or exc.__class__.__name__})"
            ) from None
    capture.link_types = tuple(names)
    return capture


def _packet(
    block_type: int, body: bytes, little: bool
) -> tuple[bytes, int, int, int | None, int]:
    """A packet block's frame, captured and wire lengths, timestamp units
    (None for a simple packet block, which has none) and interface."""
    if block_type == _SPB:
        # type, length, original length, data, padding, length: no class in
        # dpkt, and no timestamp; its interface is the first one.
        wire_len = struct.unpack_from("<I" if little else ">I", body, 8)[0]
        caplen = min(wire_len, len(body) - 16)
        return body[12 : 12 + caplen], caplen, wire_len, None, 0
    if block_type == _EPB:
        cls = (
            dpkt.pcapng.EnhancedPacketBlockLE
            if little
            else dpkt.pcapng.EnhancedPacketBlock
        )
    else:
        cls = dpkt.pcapng.PacketBlockLE if little else dpkt.pcapng.PacketBlock
    block = cls(body)
    if block.caplen > len(body) - 32:
        # Caught with the other parse errors, and said with the file's name.
        raise ValueError(f"captured length {block.caplen} larger than its block")
    units = (block.ts_high << 32) | block.ts_low
    return bytes(block.pkt_data), block.caplen, block.pkt_len, units, block.iface_id
