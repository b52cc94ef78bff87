"""Trend analysis for monthly counts: is a problem rising?

- :mod:`.counts`: :func:`monthly_counts`, :func:`seasonally_adjust`;
- :mod:`.model`: the seasonal count model :func:`fit_trend` (:class:`TrendFit`) and
  :func:`recent_trend`;
- :mod:`.forecast`: :func:`forecast`, :func:`forecast_total`;
- :mod:`.change`: :func:`compare_periods`, :func:`seasonal_noise`, :func:`year_on_year`,
  :func:`period_change`;
- :mod:`.correlation`: correlated months (AR(1) residual autocorrelation, sums, sandwich);
- :mod:`.spc`: :func:`spc_xmr` (:class:`SpcResult`);
- :mod:`.kendall`: :func:`mann_kendall`.
"""

from kcpp_analysis.analysis.trends.change import (
    YOY_COLUMNS,
    compare_periods,
    period_change,
    seasonal_dispersion,
    seasonal_noise,
    year_on_year,
)
from kcpp_analysis.analysis.trends.counts import monthly_counts, seasonally_adjust
from kcpp_analysis.analysis.trends.forecast import forecast, forecast_total
from kcpp_analysis.analysis.trends.kendall import mann_kendall
from kcpp_analysis.analysis.trends.model import (
    DIRECTIONS,
    MIN_MONTHS,
    MIN_NONZERO_MONTHS,
    TrendFit,
    fit_trend,
    recent_trend,
)
from kcpp_analysis.analysis.trends.spc import SpcResult, spc_xmr

__all__ = [
    "DIRECTIONS",
    "MIN_MONTHS",
    "MIN_NONZERO_MONTHS",
    "YOY_COLUMNS",
    "SpcResult",
    "TrendFit",
    "compare_periods",
    "fit_trend",
    "forecast",
    "forecast_total",
    "mann_kendall",
    "period_change",
    "monthly_counts",
    "recent_trend",
    "seasonal_dispersion",
    "seasonal_noise",
    "seasonally_adjust",
    "spc_xmr",
    "year_on_year",
]
