"""Log axes of times that read in units: 1 us, 10 us, ..., 100 ms, 1 s."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

# Above these many microseconds a tick reads in the larger unit.
_UNITS = ((1e6, "s"), (1e3, "ms"), (1.0, "µs"), (1e-3, "ns"))


def time_label(us: float) -> str:
    """12 -> '12 µs', 2500 -> '2.5 ms', 1e6 -> '1 s'."""
    for scale, unit in _UNITS:
        if us >= scale or scale == _UNITS[-1][0]:
            value = us / scale
            text = f"{value:.3g}"
            return f"{text} {unit}"
    return f"{us:g} µs"  # pragma: no cover


def count_label(n: float) -> str:
    """1000 -> '1k', 3e6 -> '3M'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.3g}"


def decade_limits(values: Iterable[float]) -> tuple[float, float]:
    """The whole decades that hold ``values``, at least one: a log axis
    then has at least two labelled ticks, however narrow the data."""
    positive = [v for v in values if v > 0]
    if not positive:
        return 1.0, 10.0
    low = math.floor(math.log10(min(positive)))
    high = math.ceil(math.log10(max(positive)))
    if high == low:
        high += 1
    return 10.0**low, 10.0**high


def _log_axis(axis: Axis, label: object, decades: float) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: label(v)))  # type: ignore[operator]
    if decades <= 2:
        # Few decades: label 2 and 5 within each, or the axis reads as two
        # ticks and a guess.
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0), numticks=12))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: label(v)))  # type: ignore[operator]
    else:
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10))))
        axis.set_minor_formatter(NullFormatter())


def log_time_axis(ax: Axes, which: str, values: Iterable[float]) -> None:
    """Make ``ax``'s x or y axis a log axis of microseconds, in units."""
    low, high = decade_limits(values)
    decades = math.log10(high / low)
    if which == "x":
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        _log_axis(ax.xaxis, time_label, decades)
    else:
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        _log_axis(ax.yaxis, time_label, decades)


def log_count_axis(ax: Axes, which: str, values: Iterable[float]) -> None:
    low, high = decade_limits(values)
    decades = math.log10(high / low)
    if which == "x":
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        _log_axis(ax.xaxis, count_label, decades)
    else:
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        _log_axis(ax.yaxis, count_label, decades)
