"""How crime, ASB and harm concentrate in deprived neighbourhoods, and where.

Public API (names fixed): :func:`lsoa_rates`, :func:`rates_by_decile`,
:func:`deprivation_correlation`, :func:`rate_ratio`, :func:`inequality_indices`,
:func:`concentration`, :func:`hotspots`, :func:`imd_without_crime`; helpers
:func:`lsoa_counts_by_year` and :func:`ward_rates`.

IMD deciles follow the published convention: decile 1 is the most deprived 10% of LSOAs in
England. Quintile q groups deciles 2q-1 and 2q.

References
----------
- Ulm, K. (1990). A simple method to calculate the confidence interval of a standardized
  mortality ratio. *Am. J. Epidemiol.* 131(2), 373-375 (exact Poisson limits via chi-square);
  Breslow & Day (1987), *Statistical Methods in Cancer Research* Vol. II (Byar's approximation).
- Public Health England (2018). *Technical Guide: Calculating the slope index of inequality
  and relative index of inequality*; Low, A. & Low, A. (2004). Measuring the gap: quantifying
  and comparing local health inequalities. *J. Public Health* 26(4), 388-395.
- Bonett, D.G. & Wright, T.A. (2000). Sample size requirements for estimating Pearson,
  Kendall and Spearman correlations. *Psychometrika* 65, 23-28.
- Bernasco, W. & Steenbeek, W. (2017). More places than crimes: implications for evaluating
  the law of crime concentration at place. *J. Quant. Criminol.* 33, 451-467.
- Mohler, G., Brantingham, P.J., Carter, J. & Short, M.B. (2019). Reducing bias in estimates
  for the law of crime concentration. *J. Quant. Criminol.* 35, 747-765.
- MHCLG (2019). *The English Indices of Deprivation 2019: Technical report*, section 3
  (exponential transformation and domain weights).

Modules: :mod:`.rates` (LSOA, ward and decile rates), :mod:`.gradient` (correlation, rate
ratio, SII/RII), :mod:`.concentration` (Gini, hotspots), :mod:`.imd` (IMD reconstruction).
"""

from kcpp_analysis.analysis.deprivation.concentration import (
    ConcentrationResult,
    HotspotResult,
    concentration,
    gini,
    hotspots,
    persistence_by_chance,
)
from kcpp_analysis.analysis.deprivation.gradient import (
    deprivation_correlation,
    inequality_indices,
    rate_ratio,
)
from kcpp_analysis.analysis.deprivation.imd import (
    IMD_DOMAIN_WEIGHTS,
    IMD_WEIGHTS,
    exponential_transform,
    imd_without_crime,
    recompute_imd,
)
from kcpp_analysis.analysis.deprivation.rates import (
    AREA_ATTRS,
    imd_quantile,
    lsoa_counts_by_year,
    lsoa_rates,
    rates_by_decile,
    ward_rates,
)

__all__ = [
    "AREA_ATTRS",
    "IMD_DOMAIN_WEIGHTS",
    "IMD_WEIGHTS",
    "ConcentrationResult",
    "HotspotResult",
    "concentration",
    "deprivation_correlation",
    "exponential_transform",
    "gini",
    "hotspots",
    "imd_quantile",
    "imd_without_crime",
    "inequality_indices",
    "lsoa_counts_by_year",
    "lsoa_rates",
    "persistence_by_chance",
    "rate_ratio",
    "rates_by_decile",
    "recompute_imd",
    "ward_rates",
]
