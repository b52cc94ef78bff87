"""The synthetic demo dataset on the real Kirklees geography (the embedded default)."""

from kcpp_analysis.data.demo.generator import generate_demo

__all__ = ["generate_demo"]
