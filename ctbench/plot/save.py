"""A figure to a file: the format from the extension, written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ctbench.files import write_file
from ctbench.plot import FORMATS, PlotError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Raster resolution: 150 dots per inch reads well on screen and in a PR.
PNG_DPI: Final = 150


def output_format(path: Path) -> str:
    """'png', 'svg' or 'pdf' from ``path``'s extension, or a PlotError."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise PlotError(
            f"-o {path}: the extension must be one of "
            f"{', '.join('.' + f for f in FORMATS)} (got {path.suffix or 'none'})"
        )
    return fmt


def save_figure(fig: Figure, path: Path) -> None:
    fmt = output_format(path)
    buffer = io.BytesIO()
    # No date in the file: the same inputs give the same SVG and PDF.
    metadata = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=metadata)
    write_file(path, buffer.getvalue())
