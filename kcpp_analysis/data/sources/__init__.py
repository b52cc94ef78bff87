"""Source readers for ``kcpp prepare --sources FILE``: one module per source kind, each
registering itself in :data:`kcpp_analysis.data.sources.registry.REGISTRY` on import."""

from kcpp_analysis.data.sources import (  # noqa: F401  (each module registers its kinds)
    area_counts,
    fixmystreet,
    geography,
    health,
    homeoffice,
    insight,
    partner,
    policeuk,
    stats19,
    tables,
)
from kcpp_analysis.data.sources.registry import REGISTRY

__all__ = ["REGISTRY"]
