"""Execute without commit may still remove a connection, and must count it.

Found by the contract test on sharded:shards=3: an RST closes a TCP
connection, then a SYN without commit makes conn_update() answer
CT_UPDATE_NEW, which force-expires the old connection (as OVS does) even
though nothing new is committed.  The table lost the node but ``n_conns``
did not drop.
"""

from __future__ import annotations

import pytest

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.model import Conntrack, Limits
from ctbench.packets import TCP_RST, TCP_SYN, Endpoints, tcp_frame

B_TO_A = Endpoints("10.0.0.2", "10.0.0.1")


@pytest.mark.parametrize("backend", backend_names())
@pytest.mark.parametrize("zone_limit", [None, 5])
def test_replacing_a_closed_connection_without_commit_counts_the_removal(
    backend: str, zone_limit: int | None
) -> None:
    model = Conntrack(
        create_table(BackendSpec(backend)), Limits(0, default_zone_limit=zone_limit)
    )
    model.execute([tcp_frame(10, 80, TCP_SYN, B_TO_A)], 0, True, 0)
    assert model.n_conns == 1
    rst_then_syn = [
        tcp_frame(10, 80, TCP_RST, B_TO_A),
        tcp_frame(10, 80, TCP_SYN, B_TO_A),
    ]
    model.execute(rst_then_syn, 0, False, 0)
    assert len(model.table) == 0
    assert model.n_conns == 0
    assert model.counters.removed == 1
    assert sum(model.expiration_list_sizes()) == 0
    assert model.zone_count(0) == 0
