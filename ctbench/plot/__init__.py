"""ctbench plot: figures of runs, sweeps and comparisons (matplotlib).

matplotlib is an optional extra (``pip install 'ctbench[plot]'``), imported
only when a figure is made, so every other command works without it.  The
figures are built on ``matplotlib.figure.Figure`` directly, never through
pyplot: no GUI backend, no global state, headless anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ctbench.errors import CtbenchError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT: Final = "pip install 'ctbench[plot]'"
# What savefig writes, by the output file's extension.
FORMATS: Final = ("png", "svg", "pdf")


class PlotError(CtbenchError):
    """A figure that cannot be made."""


def new_figure(width: float, height: float) -> Figure:
    """An empty figure, or a PlotError saying how to install matplotlib."""
    try:
        import matplotlib  # noqa: F401  (a missing package fails here)
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(
            f"ctbench plot needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None
    return Figure(figsize=(width, height), layout="constrained")
