"""Layer 1, configuration: every file under ``params/`` loaded, validated into typed models
and hashed (nothing else in the package reads YAML)."""

from kcpp_analysis.config.params import Params, load_params

__all__ = ["Params", "load_params"]
