"""The pcap command's per-packet stream: one record per packet.

Not a report: a report is a run's statistics, this is every packet's
state, written as the packets are tracked, so that a stopped run keeps the
lines it printed.  ``text`` is ovstest's own line, ``N: flags``, byte for
byte; ``json`` is a JSON array of records (closed even when the run is
stopped); ``csv`` has a header line.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Callable
from typing import Any, Final

from ctbench.capture.packet_states import PacketRecord
from ctbench.keys import key_fields
from ctbench.packets import ETH_TYPE_IP, IPPROTO_ICMP, IPPROTO_ICMPV6, ct_state_flags
from ctbench.parse import Parsed

FORMATS: Final = ("text", "json", "csv")
CSV_FIELDS: Final = (
    "number",
    "timestamp_ns",
    "zone",
    "state",
    "l3",
    "proto",
    "src",
    "sport",
    "dst",
    "dport",
    "related",
    "invalid_reason",
)


def _key(parsed: Parsed | str) -> dict[str, Any] | None:
    if isinstance(parsed, str):
        return None
    f = key_fields(parsed.key)
    version = 4 if f.dl_type == ETH_TYPE_IP else 6
    src = str(
        ipaddress.ip_address(f.src) if version == 4 else ipaddress.IPv6Address(f.src)
    )
    dst = str(
        ipaddress.ip_address(f.dst) if version == 4 else ipaddress.IPv6Address(f.dst)
    )
    key: dict[str, Any] = {
        "l3": f"ipv{version}",
        "proto": f.proto,
        "src": src,
        "dst": dst,
    }
    if f.proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        # The key's ICMP "ports": type << 24 | code << 16 | identifier.
        key["icmp_type"] = f.src_port >> 24
        key["icmp_id"] = f.src_port & 0xFFFF
    else:
        key["sport"] = f.src_port
        key["dport"] = f.dst_port
    return key


def as_dict(record: PacketRecord) -> dict[str, Any]:
    parsed = record.parsed
    return {
        "number": record.number,
        "timestamp_ns": record.timestamp_ns,
        "zone": record.zone,
        "state": ct_state_flags(record.state),
        "key": _key(parsed),
        "related": not isinstance(parsed, str) and parsed.related,
        "invalid_reason": record.reason,
    }


class StreamWriter:
    """Text for each batch of records; ``close`` ends the document."""

    def __init__(self, fmt: str, write: Callable[[str], object]) -> None:
        self.fmt = fmt
        self._write = write
        self._count = 0
        if fmt == "json":
            write("[")
        elif fmt == "csv":
            write(",".join(CSV_FIELDS) + "\n")

    def add(self, records: list[PacketRecord]) -> None:
        if self.fmt == "text":
            self._write(
                "".join(f"{r.number}: {ct_state_flags(r.state)}\n" for r in records)
            )
        elif self.fmt == "json":
            parts = []
            for record in records:
                sep = "," if self._count else ""
                self._count += 1
                parts.append(sep + "\n" + json.dumps(as_dict(record)))
            self._write("".join(parts))
        else:
            buffer = io.StringIO()
            out = csv.writer(buffer, lineterminator="\n")
            for record in records:
                row = as_dict(record)
                key = row.pop("key") or {}
                out.writerow(
                    [
                        row["number"],
                        row["timestamp_ns"],
                        row["zone"],
                        row["state"],
                        key.get("l3", ""),
                        key.get("proto", ""),
                        key.get("src", ""),
                        key.get("sport", key.get("icmp_type", "")),
                        key.get("dst", ""),
                        key.get("dport", key.get("icmp_id", "")),
                        int(row["related"]),
                        row["invalid_reason"] or "",
                    ]
                )
            self._write(buffer.getvalue())

    def close(self) -> None:
        if self.fmt == "json":
            self._write("\n]\n" if self._count else "]\n")
