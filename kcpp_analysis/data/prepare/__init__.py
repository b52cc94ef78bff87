"""``kcpp prepare``: the demo dataset, or real sources, into a prepared dataset."""

from kcpp_analysis.data.prepare.demo import prepare_demo

__all__ = ["prepare_demo"]
