"""Link-layer headers in, Ethernet frames out.

conntrack reads Ethernet frames.  OVS's own pcap reader (lib/pcap-file.c)
accepts Ethernet and Linux cooked v1 (SLL) captures, and turns an SLL
header into an Ethernet header with a zero destination, the SLL address as
source and the SLL protocol as EtherType.  ctbench does the same for SLL,
for SLL2 (which ``tcpdump -i any`` writes) and for raw IP captures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

# LINKTYPE_* values (https://www.tcpdump.org/linktypes.html).
ETHERNET: Final = 1
RAW: Final = 101
LINUX_SLL: Final = 113
LINUX_SLL2: Final = 276
NAMES: Final = {
    ETHERNET: "Ethernet",
    RAW: "raw IP",
    LINUX_SLL: "Linux cooked (SLL)",
    LINUX_SLL2: "Linux cooked v2 (SLL2)",
}
# Header lengths: SLL (packet type, ARPHRD, address length, 8-byte address,
# protocol) and SLL2 (protocol, reserved, interface index, ARPHRD, packet
# type, address length, 8-byte address).
SLL_LEN: Final = 16
SLL2_LEN: Final = 20
_ZERO_MAC: Final = bytes(6)
_IPV4: Final = b"\x08\x00"
_IPV6: Final = b"\x86\xdd"


def _ethernet(data: bytes) -> bytes:
    return data


def _sll(data: bytes) -> bytes:
    if len(data) < SLL_LEN:
        return data[:0]  # too short for its header: an empty frame
    # lib/pcap-file.c refuses an address length other than 6; any address
    # serves here, since conntrack never reads the MAC addresses.
    return _ZERO_MAC + data[6:12] + data[14:16] + data[SLL_LEN:]


def _sll2(data: bytes) -> bytes:
    if len(data) < SLL2_LEN:
        return data[:0]
    return _ZERO_MAC + data[12:18] + data[0:2] + data[SLL2_LEN:]


def _raw(data: bytes) -> bytes:
    # The version nibble says which IP; anything else is no IP at all.
    version = data[0] >> 4 if data else 0
    ether_type = _IPV4 if version == 4 else _IPV6 if version == 6 else b"\0\0"
    return _ZERO_MAC + _ZERO_MAC + ether_type + data


CONVERTERS: Final[dict[int, Callable[[bytes], bytes]]] = {
    ETHERNET: _ethernet,
    RAW: _raw,
    LINUX_SLL: _sll,
    LINUX_SLL2: _sll2,
}


Converter = Callable[[bytes], bytes]


def converter(link_type: int) -> Converter | None:
    return CONVERTERS.get(link_type)


def describe(link_type: int) -> str:
    return NAMES.get(link_type, f"link type {link_type}")
