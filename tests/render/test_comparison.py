"""Golden files pin every comparison format for a hand-built comparison.

Regenerate after an intended change with ``CTBENCH_UPDATE_GOLDEN=1 pytest
tests/render/test_comparison.py`` and review the diff.  The bootstrap's
digits are masked: they follow numpy's random stream, which numpy does not
promise to keep across releases (NEP 19); tests/test_compare.py tests the
intervals themselves.
"""

from __future__ import annotations

import re

import pytest

from ctbench.compare import Settings, compare
from ctbench.render.comparison import FORMATS, render
from tests.helpers.golden import GoldenFiles
from tests.helpers.run_factory import make_run


def _comparison_text(fmt: str) -> str:
    base = make_run(seed=1)
    candidate = make_run(seed=2, scale=1.3, environment={"cpu_model": "Other CPU"})
    candidate.results[1].phases["flush_full_zone"].counters["removed"] += 1
    result = compare(base, candidate, Settings(), ("base.json", "new.json"))
    return _mask(render(result, fmt), fmt)


def _mask(text: str, fmt: str) -> str:
    if fmt == "json":
        return re.sub(r'"(low|high)":[-0-9.e]+', r'"\1":"..."', text)
    # An interval follows its ratio: "1.304 [1.281, 1.327]".
    return re.sub(r"(\d\.\d{3}) \[[0-9.]+, [0-9.]+\]", r"\1 [..., ...]", text)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_comparison_format_matches_golden_file(fmt: str, golden: GoldenFiles) -> None:
    golden.check(f"compare.{fmt}", _comparison_text(fmt))
