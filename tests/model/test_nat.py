"""NAT reverse keys: which ones a new connection may take."""

from __future__ import annotations

import ipaddress

import pytest

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.model import UDP_TIMEOUTS_S, Conntrack, Limits, NatAction
from ctbench.packets import Endpoints, udp_frame

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
TO_B = NatAction(dst_addr=int(ipaddress.ip_address(B)))


@pytest.mark.parametrize("backend", backend_names())
def test_a_reverse_key_that_is_a_live_connections_reply_is_refused(
    backend: str,
) -> None:
    # nat_get_unique_tuple() refuses a reverse key that conn_lookup() finds,
    # and conn_lookup() matches a connection's reply key as well as its
    # forward key: A -> C translated to A -> B would answer as B -> A, the
    # reply of the live A -> B connection.
    ct = Conntrack(create_table(BackendSpec(backend)), Limits(0))
    ct.execute([udp_frame(1, 2, Endpoints(A, B))], 0, True, 0)
    ct.execute([udp_frame(1, 2, Endpoints(A, C))], 0, True, 0, TO_B)
    assert ct.counters.refused_nat == 1
    assert ct.n_conns == 1
    # Once A -> B has expired, conn_lookup() no longer finds it.
    later = UDP_TIMEOUTS_S[0] * 1000
    ct.execute([udp_frame(1, 2, Endpoints(A, C))], 0, True, later, TO_B)
    assert ct.counters.refused_nat == 1
    assert [e.nat for e in ct.dump(now=later)] == [True]
