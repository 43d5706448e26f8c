"""How numbers read in every report: one place, so formats agree."""

from __future__ import annotations


def num(value: float | None) -> str:
    """Like the patch's tables: whole microseconds from 100 up, else 2 decimals."""
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


def fmt_count(value: float | None) -> str:
    return "-" if value is None else f"{int(value):,}"


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_bytes(n: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    for unit in units:
        if abs(n) < 1024 or unit == units[-1]:
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"


def fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.1f} ms"
    return f"{us:.0f} us"


def percent(value: float) -> str:
    """One decimal, or as many as it takes (up to 4) not to round a change
    below 100% up to "100.0"."""
    for digits in range(1, 5):
        text = f"{value:.{digits}f}"
        if value >= 100 or float(text) < 100:
            return text
    return text


def plural(n: object, word: str, many: str | None = None) -> str:
    """A count and its noun: '1 zone', '3 zones', '1,000 zones'; ``many``
    where an "s" is not the plural (plural(2, "batch", "batches")), and "?"
    for a count that is not known (absent, or not a whole number in a
    hand-edited file).  Every count in ctbench's output goes
    through here, so none reads "1 batches"."""
    words = word if n == 1 else (many or f"{word}s")
    known = isinstance(n, int) and not isinstance(n, bool)
    return f"{format(n, ',') if known else '?'} {words}"
