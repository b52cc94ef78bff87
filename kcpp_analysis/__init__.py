"""kcpp_analysis: the Kirklees Communities Partnership SIA analysis toolkit."""

from .config import Params, load_params
from .errors import ConfigError, DataValidationError, KcppError, SourceError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataValidationError",
    "KcppError",
    "Params",
    "SourceError",
    "__version__",
    "load_params",
]
