"""A SYN on a closed TCP connection without commit force-expires it.

Found by the contract test on sharded:shards=3: an RST closes a TCP
connection, then a SYN without commit makes conn_update() answer
CT_UPDATE_NEW.  OVS then force-expires the old connection (expiration 0)
and leaves its removal to the sweeper; the model once unlinked it without
counting the removal.  Without commit nothing is created or removed.
"""

from __future__ import annotations

import pytest

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.model import Conntrack, Limits
from ctbench.packets import TCP_RST, TCP_SYN, Endpoints, tcp_frame

B_TO_A = Endpoints("10.0.0.2", "10.0.0.1")


@pytest.mark.parametrize("backend", backend_names())
@pytest.mark.parametrize("zone_limit", [None, 5])
def test_replacing_a_closed_connection_without_commit_force_expires_it(
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
    assert model.n_conns == len(model.table) == 1
    assert model.dump(now=0) == []  # expired: invisible to lookups and dumps
    assert model.counters.removed == 0
    assert model.sweep(0).cleaned == 1
    assert model.n_conns == len(model.table) == 0
    assert sum(model.expiration_list_sizes()) == 0
    assert model.zone_count(0) == 0


def test_a_failing_bind_never_keeps_the_lock() -> None:
    model = Conntrack(create_table(BackendSpec("per-zone")), thread_safe=True)
    with pytest.raises(IndexError):
        model.execute([tcp_frame(10, 80, TCP_SYN, B_TO_A)], 70_000, True, 0)
    assert not model.lock.locked()
