"""kcpp_analysis: the Kirklees Communities Partnership SIA analysis toolkit.

The small public API is re-exported here; each module documents its methods::

    import kcpp_analysis as k
    ds = k.load_dataset(k.prepare_demo())  # the demo dataset, prepared in the cache
    fit = k.fit_trend(k.monthly_counts(ds.incidents[ds.incidents.category == "robbery"]))
"""

from .config import Params, load_params
from .dataset import Dataset, load_dataset, write_dataset
from .demo import generate_demo
from .deprivation import (
    concentration,
    deprivation_correlation,
    hotspots,
    imd_without_crime,
    inequality_indices,
    lsoa_rates,
    rate_ratio,
    rates_by_decile,
)
from .disclosure import suppress_small_counts
from .errors import ConfigError, DataValidationError, KcppError, SourceError
from .kpis import evaluate_kpis, priority_assessment
from .prepare import prepare_demo
from .repeats import repeat_victimisation, time_to_repeat
from .surveys import compare_shares, weighted_share
from .trends import (
    compare_periods,
    fit_trend,
    forecast,
    forecast_total,
    mann_kendall,
    monthly_counts,
    seasonal_dispersion,
    seasonally_adjust,
    spc_xmr,
    year_on_year,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataValidationError",
    "Dataset",
    "KcppError",
    "Params",
    "SourceError",
    "__version__",
    "compare_periods",
    "compare_shares",
    "concentration",
    "deprivation_correlation",
    "evaluate_kpis",
    "fit_trend",
    "forecast",
    "forecast_total",
    "generate_demo",
    "hotspots",
    "imd_without_crime",
    "inequality_indices",
    "load_dataset",
    "load_params",
    "lsoa_rates",
    "mann_kendall",
    "monthly_counts",
    "prepare_demo",
    "priority_assessment",
    "rate_ratio",
    "rates_by_decile",
    "repeat_victimisation",
    "seasonal_dispersion",
    "seasonally_adjust",
    "spc_xmr",
    "suppress_small_counts",
    "time_to_repeat",
    "weighted_share",
    "write_dataset",
    "year_on_year",
]
