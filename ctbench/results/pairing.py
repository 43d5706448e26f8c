"""Which backend of one run goes with which of another: the same table.

A label is the backend spec as it was typed, so one table can carry two
labels (``-b sharded`` and ``-b sharded:shards=64`` both run 64 shards),
and a label can name two tables (``sharded`` before and after its default
changed).  What a backend ran is its name and its effective options, which
every result records (defaults included), so backends are paired on those;
a file written before its labels were numbered pairs all the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from ctbench.errors import CtbenchError
from ctbench.results.run import BackendResult

# A side: each backend with the label it is known by there.
Side = Sequence[tuple[str, BackendResult]]


class PairingError(CtbenchError, ValueError):
    """A pair asked for that names a backend a run does not hold."""


@dataclass(frozen=True)
class Pair:
    base_label: str
    cand_label: str
    base: BackendResult
    cand: BackendResult

    @property
    def label(self) -> str:
        """The pair's name in a report: the label, or both when they differ."""
        if self.base_label == self.cand_label:
            return self.base_label
        return f"{self.base_label} -> {self.cand_label}"


@dataclass(frozen=True)
class Pairing:
    pairs: list[Pair] = field(default_factory=list)
    only_base: list[str] = field(default_factory=list)
    only_cand: list[str] = field(default_factory=list)
    # Labels on both sides that name different tables there: not paired.
    other_tables: list[tuple[str, str, str]] = field(default_factory=list)


def table_of(result: BackendResult) -> str:
    """What table a backend ran, as a comparable key: its name and its
    effective options (``sharded:shards=64`` however it was typed)."""
    return result.backend + json.dumps(result.options, sort_keys=True, default=str)


def pair_backends(
    base: Side,
    cand: Side,
    requested: Sequence[tuple[str, str]] = (),
    names: tuple[str, str] = ("baseline", "candidate"),
) -> Pairing:
    """Pair each backend of ``base`` with one of ``cand``, in ``base``'s order.

    ``requested`` pairs (base label, candidate label) come first, whatever
    the tables; then backends that ran the same table, those with the same
    label before the others (a table run twice a side pairs in order).
    Raises PairingError for a requested label a side does not hold, or
    holds in another pair already.
    """
    left_base, left_cand = list(range(len(base))), list(range(len(cand)))
    chosen: dict[int, int] = {}  # base index -> candidate index
    for base_label, cand_label in requested:
        b = _take(left_base, base, base_label, names[0])
        chosen[b] = _take(left_cand, cand, cand_label, names[1])
    for same_label in (True, False):
        for b in list(left_base):
            label, table = base[b][0], table_of(base[b][1])
            match = next(
                (
                    c
                    for c in left_cand
                    if table_of(cand[c][1]) == table
                    and (cand[c][0] == label or not same_label)
                ),
                None,
            )
            if match is not None:
                left_base.remove(b)
                left_cand.remove(match)
                chosen[b] = match
    pairs = [
        Pair(base[b][0], cand[c][0], base[b][1], cand[c][1])
        for b, c in sorted(chosen.items())
    ]
    unpaired = {cand[c][0]: cand[c][1] for c in left_cand}
    other = [
        (base[b][0], base[b][1].spec_label, unpaired[base[b][0]].spec_label)
        for b in left_base
        if base[b][0] in unpaired
    ]
    return Pairing(
        pairs,
        [base[b][0] for b in left_base],
        [cand[c][0] for c in left_cand],
        other,
    )


def _take(left: list[int], side: Side, label: str, name: str) -> int:
    """The index of the backend ``label`` names on ``side``, taken from
    ``left``."""
    for i in left:
        if side[i][0] == label:
            left.remove(i)
            return i
    if any(item[0] == label for item in side):
        raise PairingError(f"--pair: {label} in {name} is paired twice")
    held = ", ".join(item[0] for item in side) or "none"
    raise PairingError(f"--pair: {name} has no backend {label} (it has {held})")
