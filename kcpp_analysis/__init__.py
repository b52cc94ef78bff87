"""kcpp_analysis: the Kirklees Communities Partnership SIA analysis toolkit.

The package is in layers; each imports only the layers below it (a test checks the import
graph, function-level imports included):

0. :mod:`kcpp_analysis.core` - errors, paths, periods, hashing, output-set safety;
1. :mod:`kcpp_analysis.config` - every file under ``params/``, validated and hashed;
2. :mod:`kcpp_analysis.data` - sources, crosswalk, reference extracts, schemas, the prepared
   dataset and the synthetic demo;
3. :mod:`kcpp_analysis.analysis` - trends, deprivation, repeats, surveys, KPIs, the
   partnership's decision method, benchmarking, near repeats, profiles;
4. :mod:`kcpp_analysis.presentation` - charts, maps, narrative, disclosure control;
5. :mod:`kcpp_analysis.report` - context, sections, the disclosure gate, templates;
6. :mod:`kcpp_analysis.run` - the pipeline, publishing and the ``kcpp`` command.

The small public API is re-exported here lazily (``import kcpp_analysis`` loads nothing
heavy until a name is used)::

    import kcpp_analysis as k
    ds = k.load_dataset(k.prepare_demo())  # the demo dataset, prepared in the cache
    fit = k.fit_trend(k.monthly_counts(ds.incidents[ds.incidents.category == "robbery"]))
"""

from __future__ import annotations

import importlib
import os
import sys

from kcpp_analysis.core import __version__


def _arrow_memory_pool() -> None:
    """Arrow allocates through the C library's ``malloc`` unless the user chose otherwise
    (``ARROW_DEFAULT_MEMORY_POOL``).

    On this machine pyarrow's default pool (mimalloc) made the first filter of the demo's
    550,000-row incidents table take 0.9 s against 0.1 s with ``malloc`` (page faults on
    fresh arenas), and one theme (violence, assessed and rendered in a fresh process) took
    10.5 s with 1.6 s of system time against 9.4 s and 0.5 s with ``malloc``, best of 2
    (``benchmarks/bench_arrow_pool.py``). The variable is read when pyarrow is first
    imported (kernels started by ``kcpp report`` inherit it); if pyarrow is already loaded,
    its pool is switched here.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.set_memory_pool(pa.system_memory_pool())


_arrow_memory_pool()

#: public name -> the module that defines it
_API = {
    "ConfigError": "kcpp_analysis.core.errors",
    "DataValidationError": "kcpp_analysis.core.errors",
    "KcppError": "kcpp_analysis.core.errors",
    "SourceError": "kcpp_analysis.core.errors",
    "Params": "kcpp_analysis.config",
    "load_params": "kcpp_analysis.config",
    "Dataset": "kcpp_analysis.data.dataset",
    "load_dataset": "kcpp_analysis.data.dataset",
    "write_dataset": "kcpp_analysis.data.dataset",
    "generate_demo": "kcpp_analysis.data.demo",
    "prepare_demo": "kcpp_analysis.data.prepare",
    "concentration": "kcpp_analysis.analysis.deprivation",
    "deprivation_correlation": "kcpp_analysis.analysis.deprivation",
    "hotspots": "kcpp_analysis.analysis.deprivation",
    "imd_without_crime": "kcpp_analysis.analysis.deprivation",
    "inequality_indices": "kcpp_analysis.analysis.deprivation",
    "lsoa_rates": "kcpp_analysis.analysis.deprivation",
    "rate_ratio": "kcpp_analysis.analysis.deprivation",
    "rates_by_decile": "kcpp_analysis.analysis.deprivation",
    "evaluate_kpis": "kcpp_analysis.analysis.kpis",
    "assess_priority": "kcpp_analysis.analysis.assessment",
    "assess_theme_priorities": "kcpp_analysis.analysis.assessment",
    "repeat_victimisation": "kcpp_analysis.analysis.repeats",
    "time_to_repeat": "kcpp_analysis.analysis.repeats",
    "compare_shares": "kcpp_analysis.analysis.surveys",
    "weighted_share": "kcpp_analysis.analysis.surveys",
    "compare_periods": "kcpp_analysis.analysis.trends",
    "fit_trend": "kcpp_analysis.analysis.trends",
    "forecast": "kcpp_analysis.analysis.trends",
    "forecast_total": "kcpp_analysis.analysis.trends",
    "mann_kendall": "kcpp_analysis.analysis.trends",
    "monthly_counts": "kcpp_analysis.analysis.trends",
    "seasonal_dispersion": "kcpp_analysis.analysis.trends",
    "seasonally_adjust": "kcpp_analysis.analysis.trends",
    "spc_xmr": "kcpp_analysis.analysis.trends",
    "year_on_year": "kcpp_analysis.analysis.trends",
    "suppress_small_counts": "kcpp_analysis.presentation.disclosure",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str):
    """Import a public name's module on first use (PEP 562)."""
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module 'kcpp_analysis' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
