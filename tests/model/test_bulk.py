"""The bulk path and the per-frame path agree, step by step.

Random mixed batches (UDP, TCP, ICMP, IPv4 and IPv6, invalid frames,
duplicates, replies, frames of other lengths) go through the bulk executor
on one model and one frame at a time on another, over the same backend, with
limits that run out mid-batch, a clock that lets connections expire and be
met by commits, NAT connections made beforehand, flushes and sweeps between.
After every step the two models must hold the same states, counters, table
contents (the same handles, so the same allocation order), columns and
expiration lists.

The bulk executor runs with its thresholds lowered (segments from 2 frames,
chunks of 16), so that short batches drive its segmenting, conflict and
chunk code, and it is called directly, so that every batch takes it.  NAT
executes take the per-frame path in both models (the model never runs NAT
in bulk), which leaves NAT connections for the bulk executes to meet.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.model import Conntrack, Limits, NatAction
from ctbench.model.bulk import BulkExecutor
from ctbench.model.columns import FREE
from ctbench.packets import (
    ETH_TYPE_IP,
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Endpoints,
    icmp_echo_frame,
    ones_complement_residue,
    ovstest_frame,
    pseudo_header,
    tcp_frame,
    udp_frame,
)
from ctbench.parse import parse_frame

A, B = "10.1.1.1", "10.1.1.2"
PORTS = range(1, 7)
REPLY = Endpoints(B, A)
ZONES = (0, 1, 2)
NAT = NatAction(dst_addr=0x0A0000FE)  # 10.0.0.254


def _with_udp_checksum(frame: bytes) -> bytes:
    """The same IPv4 UDP frame with its checksum filled in: a valid frame of
    the same flow that the bulk parse leaves to the per-frame code."""
    l4 = frame[34:]
    pseudo = pseudo_header(ETH_TYPE_IP, frame[26:30], frame[30:34], 17, len(l4))
    residue = sum(ones_complement_residue(p) for p in (pseudo, l4)) % 0xFFFF
    csum = (0xFFFF - residue) or 0xFFFF
    return frame[:40] + csum.to_bytes(2, "big") + frame[42:]


POOL = (
    [ovstest_frame(s, d) for s in PORTS for d in PORTS] * 3
    + [udp_frame(d, s, REPLY) for s in PORTS for d in PORTS]
    + [ovstest_frame(s, s) + b"\0" * 4 for s in PORTS]  # padded: another length
    + [_with_udp_checksum(ovstest_frame(s, 1)) for s in PORTS]
    + [udp_frame(s, 2, Endpoints("::1", "::2")) for s in PORTS]
    + [
        tcp_frame(10, 80, f, Endpoints(A, B))
        for f in (TCP_SYN, TCP_ACK, TCP_FIN | TCP_ACK)
    ]
    + [tcp_frame(80, 10, f, REPLY) for f in (TCP_SYN | TCP_ACK, TCP_RST)]
    + [icmp_echo_frame(7, False, Endpoints(A, B)), icmp_echo_frame(7, True, REPLY)]
    + [b"", ovstest_frame(1, 2)[:40], ovstest_frame(3, 4)[:-1] + b"\x01"]
    + [ovstest_frame(1, 2)[:24] + b"\0\0" + ovstest_frame(1, 2)[26:]]  # bad csum
)

assert parse_frame(_with_udp_checksum(ovstest_frame(1, 1)), 0) is not None

step = st.tuples(
    st.integers(0, 2**32 - 1),  # the batch's seed
    st.integers(1, 120),  # frames
    st.sampled_from(ZONES),
    st.booleans(),  # commit
    # Clock advances, ms: 30 s and 60 s land exactly on UDP expirations.
    st.sampled_from([0, 0, 0, 30_000, 31_000, 60_000]),
    st.sampled_from(["execute", "execute", "execute", "nat", "flush", "sweep"]),
)


def _models(backend: str, limits: Limits) -> tuple[Conntrack, Conntrack]:
    return (
        Conntrack(create_table(BackendSpec.parse(backend)), limits),
        Conntrack(create_table(BackendSpec.parse(backend)), limits),
    )


def _state(model: Conntrack) -> tuple[object, ...]:
    cols = model.columns
    live = cols.live()
    views = cols.views()
    columns = tuple(
        getattr(views, name)[live].tolist()
        for name in ("state", "expiration", "exp_list", "zone", "proto", "nat")
    )
    return (
        sorted(model.table.items()),
        live.tolist(),
        columns,
        [cols.keys[h] for h in live.tolist()],
        dict(cols.rev_keys),
        vars(model.counters),
        model.n_conns,
        model.n_nat,
        {z: model.zone_count(z) for z in ZONES},
        model.expiration_list_sizes(),
        model._next_list,
    )


@pytest.mark.parametrize("backend", ["single", "per-zone", "sharded:shards=3"])
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    steps=st.lists(step, min_size=1, max_size=12),
    conn_limit=st.sampled_from([0, 0, 6, 25, 70]),
    zone_limit=st.sampled_from([None, None, 4, 30]),
)
def test_bulk_and_per_frame_paths_agree_after_every_step(
    backend: str,
    steps: list[tuple[int, int, int, bool, int, str]],
    conn_limit: int,
    zone_limit: int | None,
) -> None:
    bulk_model, each_model = _models(backend, Limits(conn_limit, zone_limit))
    executor = BulkExecutor(bulk_model, min_frames=2, chunk_frames=16)
    now = 0
    for seed, n, zone, commit, advance, action in steps:
        now += advance
        rng = random.Random(seed)
        batch = [rng.choice(POOL) for _ in range(n)]
        if action == "execute":
            got = executor.execute(batch, zone, commit, now)
            want = each_model.execute_each(batch, zone, commit, now, None)
            assert got == want
        elif action == "nat":
            for model in (bulk_model, each_model):
                model.execute(batch[:8], zone, commit, now, NAT)
        elif action == "flush":
            assert bulk_model.flush(zone) == each_model.flush(zone)
        else:
            assert bulk_model.sweep(now, 3) == each_model.sweep(now, 3)
        assert _state(bulk_model) == _state(each_model)


@pytest.mark.parametrize("backend", backend_names())
def test_every_backend_agrees_on_the_benchmark_workload(backend: str) -> None:
    """ovstest's zone workload (fill, flush, commit, lookups) on the model's
    own dispatch, against the per-frame path, for every registered design."""
    frames = [ovstest_frame(1 + i // 100, 1 + i % 100) for i in range(300)]
    bulk_model, each_model = _models(backend, Limits(1000))
    for zone in range(5):  # the limit clips the fifth zone's fill
        got = bulk_model.execute(frames, zone, True, 0)
        assert got == each_model.execute_each(frames, zone, True, 0, None)
    for model in (bulk_model, each_model):
        model.flush(1)
    for commit in (True, False):
        got = bulk_model.execute(frames, 1, commit, 0)
        assert got == each_model.execute_each(frames, 1, commit, 0, None)
    assert _state(bulk_model) == _state(each_model)
    assert bulk_model.counters.refused_full == 300 + 200


def test_a_conflict_ends_a_segment_and_the_rest_stays_in_bulk() -> None:
    """A duplicate late in a long batch splits it; both halves run in bulk
    and the duplicate finds the connection its first copy created."""
    frames = [ovstest_frame(1, p) for p in range(1, 201)]
    frames.append(frames[150])  # the 201st frame repeats the 151st
    model = Conntrack(create_table(BackendSpec("per-zone")), Limits(0))
    out = model.execute(frames, 0, True, 0)
    assert out[:200] == [0x21] * 200  # +new+trk
    assert out[200] == 0x21  # FIRST -> MULTIPLE answers +new again
    assert model.n_conns == 200
    views = model.columns.views()
    states = views.state[model.columns.live()]
    assert np.count_nonzero(states == 1) == 1  # that one is MULTIPLE now
    assert (views.exp_list[model.columns.live()] != FREE).all()
