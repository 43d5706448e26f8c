"""How a cost grows: a grid of sizes run point by point (``ctbench sweep``),
and power-law fits on log-log axes, with honest intervals.

"sweep" names OVS's clean thread in the model (``Conntrack.sweep``); the
command ``ctbench sweep`` keeps its name, and its parts live here:

- :mod:`grid`: the validated grid, its points, their file names and
  command lines (the plan);
- :mod:`runner`: runs the points one after the other, keeping each finished
  one as an ordinary results file;
- :mod:`analysis`: from results files to observations and power-law fits;
- :mod:`document`: the sweep and plan files (JSON), written and read back
  with validation;
- :mod:`fit` and :mod:`student_t`: the fits and their intervals.
"""

from ctbench.growth.fit import (
    CONFIDENCE,
    POOR_FIT_FACTOR,
    PowerLawFit,
    fit_power_law,
)
from ctbench.growth.student_t import t_quantile

__all__ = [
    "CONFIDENCE",
    "POOR_FIT_FACTOR",
    "PowerLawFit",
    "fit_power_law",
    "t_quantile",
]
