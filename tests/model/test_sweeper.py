"""The sweeper: one pass of OVS's conntrack_clean(), list by list."""

from __future__ import annotations

from ctbench.backends import BackendSpec, create_table
from ctbench.model import N_EXP_LISTS, Conntrack, Limits, SweepResult
from ctbench.packets import ovstest_frame

UDP_FIRST_MS = 60_000


def filled(n: int) -> Conntrack:
    """``n`` connections, spread round-robin over the 100 lists."""
    model = Conntrack(create_table(BackendSpec("per-zone")), Limits(0))
    model.execute([ovstest_frame(1, 1 + i) for i in range(n)], 0, True, 0)
    return model


def test_a_pass_counts_visited_connections_not_cleaned_ones() -> None:
    # 300 connections: 3 per list.  None has expired at t = 0.
    model = filled(300)
    assert model.sweep(0, max_visited=10) == SweepResult(visited=12, cleaned=0)
    # The bound is checked before each list: 12 > 10 stopped it after 4
    # lists, and the next pass resumes at list 4.
    assert model.sweep(UDP_FIRST_MS, max_visited=10) == SweepResult(12, 12)
    assert model.n_conns == 288


def test_passes_resume_where_the_last_stopped_and_wrap() -> None:
    model = filled(300)
    seen = 0
    for _ in range(N_EXP_LISTS // 4):
        seen += model.sweep(UDP_FIRST_MS, max_visited=10).cleaned
    assert seen == 300 and model.n_conns == 0
    # After the last list the next pass starts again at list 0.
    model.execute([ovstest_frame(1, 1)], 0, True, UDP_FIRST_MS)
    assert model.expiration_list_sizes()[0] == 1


def test_without_a_bound_every_list_is_swept() -> None:
    model = filled(250)
    model.execute([ovstest_frame(1, 1)], 0, False, 1_000)  # still alive
    assert model.sweep(UDP_FIRST_MS - 1) == SweepResult(250, 0)
    assert model.sweep(UDP_FIRST_MS) == SweepResult(250, 249)
    assert sum(model.expiration_list_sizes()) == model.n_conns == 1
