"""The mark that keeps tests needing parallel threads off GIL builds."""

from __future__ import annotations

import sys

from ctbench.environment import gil_enabled
from tests.helpers.free_threading import GIL_SKIP_REASON, requires_free_threading


def test_the_mark_skips_exactly_where_the_gil_is_on() -> None:
    (mark,) = requires_free_threading.mark.args
    assert mark is gil_enabled()
    assert requires_free_threading.mark.kwargs["reason"] == GIL_SKIP_REASON


def test_gil_enabled_follows_the_interpreter() -> None:
    check = getattr(sys, "_is_gil_enabled", None)
    assert gil_enabled() is (True if check is None else bool(check()))


@requires_free_threading
def test_runs_only_without_the_gil() -> None:
    # New in 3.13; mypy checks against 3.11 (pyproject.toml).
    assert not sys._is_gil_enabled()  # type: ignore[attr-defined]
