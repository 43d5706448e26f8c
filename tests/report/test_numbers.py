"""report/numbers.py: how counts, times and sizes read in every report."""

from __future__ import annotations

import pytest

from ctbench.report.numbers import plural


@pytest.mark.parametrize(
    ("n", "word", "many", "text"),
    [
        (1, "zone", None, "1 zone"),
        (0, "zone", None, "0 zones"),
        (3, "zone", None, "3 zones"),
        (1000, "zone", None, "1,000 zones"),
        (1, "batch", "batches", "1 batch"),
        (2, "batch", "batches", "2 batches"),
        (None, "CPU", None, "? CPUs"),  # a count the file does not hold
    ],
)
def test_a_count_agrees_with_its_noun(
    n: int | None, word: str, many: str | None, text: str
) -> None:
    assert plural(n, word, many) == text
