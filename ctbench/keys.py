"""Connection keys as fixed-layout ``bytes``: cheap to hash and to compare.

OVS's ``struct conn_key`` holds the source and destination endpoints, the L3
type, the zone and the IP protocol (lib/conntrack-private.h).  ctbench packs
the same fields into one ``bytes`` object per key::

    src address | dst address | src "port" | dst "port" | zone | protocol
    4 or 16       4 or 16       2 or 4       2 or 4       2      1

all big-endian.  A bytes object caches its hash after the first lookup and
compares with ``memcmp``, and numpy can build thousands of them at once from a
view of the frames (:mod:`ctbench.parse`), which tuples of integers cannot.

For TCP and UDP the "ports" are the 16-bit ports.  For ICMP they carry OVS's
ICMP fields, ``(type << 24) | (code << 16) | id`` on the source side and the
reversed type on the destination side (``extract_l4_icmp``), so that the
reverse of a request's key is its reply's key; they take 4 bytes each.

The length says the family (IPv4 keys are 15 or 19 bytes, IPv6 keys 39 or
43), and the protocol is the last byte, never 0 for a tracked protocol, so
two keys of different families or protocols never compare equal.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from ctbench.packets import ETH_TYPE_IP, ETH_TYPE_IPV6, IPPROTO_ICMP, IPPROTO_ICMPV6

ConnKey = bytes

_ICMP_PROTOS: Final = frozenset((IPPROTO_ICMP, IPPROTO_ICMPV6))

# Key lengths: (address bytes, port bytes) -> length.
IPV4_PORTS_LEN: Final = 4 + 4 + 2 + 2 + 2 + 1  # 15
IPV4_ICMP_LEN: Final = 4 + 4 + 4 + 4 + 2 + 1  # 19
IPV6_PORTS_LEN: Final = 16 + 16 + 2 + 2 + 2 + 1  # 39
IPV6_ICMP_LEN: Final = 16 + 16 + 4 + 4 + 2 + 1  # 43
# length -> (address bytes, port bytes)
_LAYOUT: Final = {
    IPV4_PORTS_LEN: (4, 2),
    IPV4_ICMP_LEN: (4, 4),
    IPV6_PORTS_LEN: (16, 2),
    IPV6_ICMP_LEN: (16, 4),
}


class KeyFields(NamedTuple):
    """A key's fields as integers, for display, dumps and tests."""

    src: int
    dst: int
    src_port: int
    dst_port: int
    dl_type: int
    zone: int
    proto: int


def zone_suffix(zone: int, proto: int) -> bytes:
    """The last three bytes of every key of ``zone`` and ``proto``."""
    return zone.to_bytes(2, "big") + bytes((proto,))


def make_key(
    src: int,
    dst: int,
    src_port: int,
    dst_port: int,
    dl_type: int,
    zone: int,
    proto: int,
) -> ConnKey:
    """Pack a key's fields (see the module docstring for the layout)."""
    alen = 4 if dl_type == ETH_TYPE_IP else 16
    plen = 4 if proto in _ICMP_PROTOS else 2
    return (
        src.to_bytes(alen, "big")
        + dst.to_bytes(alen, "big")
        + src_port.to_bytes(plen, "big")
        + dst_port.to_bytes(plen, "big")
        + zone_suffix(zone, proto)
    )


def key_fields(key: ConnKey) -> KeyFields:
    alen, plen = _LAYOUT[len(key)]
    ports = 2 * alen
    return KeyFields(
        src=int.from_bytes(key[:alen], "big"),
        dst=int.from_bytes(key[alen:ports], "big"),
        src_port=int.from_bytes(key[ports : ports + plen], "big"),
        dst_port=int.from_bytes(key[ports + plen : ports + 2 * plen], "big"),
        dl_type=ETH_TYPE_IP if alen == 4 else ETH_TYPE_IPV6,
        zone=int.from_bytes(key[-3:-1], "big"),
        proto=key[-1],
    )


def key_zone(key: ConnKey) -> int:
    return int.from_bytes(key[-3:-1], "big")


def key_proto(key: ConnKey) -> int:
    return key[-1]


def reverse_key(key: ConnKey) -> ConnKey:
    """The key of the reply direction (OVS's conn_key_reverse): endpoints
    swapped, zone and protocol kept."""
    alen, plen = _LAYOUT[len(key)]
    ports = 2 * alen
    end = ports + 2 * plen
    return (
        key[alen:ports]
        + key[:alen]
        + key[ports + plen : end]
        + key[ports : end - plen]
        + key[end:]
    )


def replace_fields(
    key: ConnKey,
    *,
    src: int | None = None,
    dst: int | None = None,
    src_port: int | None = None,
    dst_port: int | None = None,
) -> ConnKey:
    """``key`` with some endpoint fields replaced (a NAT translation)."""
    f = key_fields(key)
    return make_key(
        f.src if src is None else src,
        f.dst if dst is None else dst,
        f.src_port if src_port is None else src_port,
        f.dst_port if dst_port is None else dst_port,
        f.dl_type,
        f.zone,
        f.proto,
    )
