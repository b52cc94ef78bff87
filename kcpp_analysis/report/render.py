"""Rendering: Jinja2 templates (autoescaping on) for sections, pages and the index."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from kcpp_analysis.presentation.narrative import fmt_number, plural
from kcpp_analysis.presentation.recommendation import rag_label


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape always on."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kcpp_analysis.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["rag_label"] = rag_label
    env.filters["plural"] = plural
    return env


def render(template: str, **values) -> str:
    """Render a package template with ``values``."""
    return environment().get_template(template).render(**values)
