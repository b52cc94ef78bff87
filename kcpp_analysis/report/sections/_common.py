"""Helpers shared by section modules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SectionSettings(BaseModel):
    """Base for section settings: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def anchor(pr_id: str, kind: str) -> str:
    return f"{pr_id}-{kind.replace('_', '-')}"


def table_name(ctx, pr_id: str, what: str) -> str:
    theme = ctx.params.theme_of(pr_id)
    return f"{theme}_{pr_id}_{what}"


def has_incidents(ctx, pr) -> bool:
    return pr.selection is not None and len(ctx.incidents(pr)) > 0


def no_incidents_sentence(ctx, pr, what: str) -> str:
    """Why a section has nothing to show: the sources do not cover the SIA year at all, or
    they do and recorded no incidents. ``what`` completes "... so <what>"."""
    from ... import narrative

    title = narrative.lower_first(pr.title)
    if not ctx.compared_months(pr)[0]:
        return f"The data for {title} do not cover {ctx.year}, so {what}."
    return f"No {title} incidents were recorded in {ctx.year}, so {what}."
