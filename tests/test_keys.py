"""Connection keys as bytes: the layout, its fields, the reverse key."""

from hypothesis import given
from hypothesis import strategies as st

from ctbench.keys import (
    IPV4_ICMP_LEN,
    IPV4_PORTS_LEN,
    IPV6_ICMP_LEN,
    IPV6_PORTS_LEN,
    KeyFields,
    key_fields,
    key_proto,
    key_zone,
    make_key,
    replace_fields,
    reverse_key,
    zone_suffix,
)
from ctbench.packets import (
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
)


@st.composite
def fields(draw: st.DrawFn) -> KeyFields:
    v6 = draw(st.booleans())
    proto = draw(
        st.sampled_from(
            [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 if v6 else IPPROTO_ICMP]
        )
    )
    icmp = proto in (IPPROTO_ICMP, IPPROTO_ICMPV6)
    addr = st.integers(0, 2**128 - 1 if v6 else 2**32 - 1)
    port = st.integers(0, 2**32 - 1 if icmp else 0xFFFF)
    return KeyFields(
        draw(addr),
        draw(addr),
        draw(port),
        draw(port),
        ETH_TYPE_IPV6 if v6 else ETH_TYPE_IP,
        draw(st.integers(0, 0xFFFF)),
        proto,
    )


@given(fields())
def test_fields_round_trip(f: KeyFields) -> None:
    key = make_key(*f)
    assert key_fields(key) == f
    assert key_zone(key) == f.zone and key_proto(key) == f.proto
    assert key.endswith(zone_suffix(f.zone, f.proto))


@given(fields())
def test_reverse_key_swaps_the_endpoints(f: KeyFields) -> None:
    key = make_key(*f)
    swapped = f._replace(src=f.dst, dst=f.src, src_port=f.dst_port, dst_port=f.src_port)
    assert key_fields(reverse_key(key)) == swapped
    assert reverse_key(reverse_key(key)) == key


@given(fields(), fields())
def test_keys_are_equal_only_when_their_fields_are(a: KeyFields, b: KeyFields) -> None:
    assert (make_key(*a) == make_key(*b)) == (a == b)


def test_the_length_tells_the_family_and_the_port_width() -> None:
    lengths = {
        (ETH_TYPE_IP, IPPROTO_UDP): IPV4_PORTS_LEN,
        (ETH_TYPE_IP, IPPROTO_ICMP): IPV4_ICMP_LEN,
        (ETH_TYPE_IPV6, IPPROTO_TCP): IPV6_PORTS_LEN,
        (ETH_TYPE_IPV6, IPPROTO_ICMPV6): IPV6_ICMP_LEN,
    }
    for (dl_type, proto), length in lengths.items():
        assert len(make_key(1, 2, 3, 4, dl_type, 5, proto)) == length
    assert len(set(lengths.values())) == 4


def test_replace_fields_keeps_the_rest() -> None:
    key = make_key(1, 2, 3, 4, ETH_TYPE_IP, 9, IPPROTO_UDP)
    assert key_fields(replace_fields(key, dst=7, src_port=8)) == KeyFields(
        1, 7, 8, 4, ETH_TYPE_IP, 9, IPPROTO_UDP
    )
