"""Tests that need threads running in parallel, and the mark that skips
them, with the reason, where CPython's GIL makes threads take turns.

``@requires_free_threading`` on a test (or ``pytestmark =
requires_free_threading`` on a module) runs it only on a free-threaded
build (PEP 703: python3.13t, 3.14t) running without the GIL; its
``PYTHON_GIL=1`` or ``-X gil=1`` turns the GIL back on, and the test skips
then too.  docs/free-threading.md says how to get such a build, and
``tox -e py313t`` runs the suite on one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import pytest

from ctbench.environment import gil_enabled

GIL_SKIP_REASON: Final = (
    "needs threads that run in parallel: a free-threaded CPython "
    "(python3.13t or later) with the GIL disabled, such as tox -e py313t"
)

requires_free_threading: Final = pytest.mark.skipif(
    gil_enabled(), reason=GIL_SKIP_REASON
)


@contextmanager
def often_switching() -> Iterator[None]:
    """On a GIL build, switch threads every microsecond, so that threads
    sharing a model interleave often (a free-threaded build runs them in
    parallel anyway)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
