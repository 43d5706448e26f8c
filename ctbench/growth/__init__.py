"""How a cost grows: power-law fits on log-log axes, with honest intervals."""

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
