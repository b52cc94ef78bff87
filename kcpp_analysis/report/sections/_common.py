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
    from kcpp_analysis.presentation import narrative

    title = narrative.lower_first(pr.title)
    if not ctx.compared_months(pr)[0]:
        return f"The data for {title} do not cover {ctx.year}, so {what}."
    return f"No {title} incidents were recorded in {ctx.year}, so {what}."


def iod_version(areas) -> str:
    """The Indices of Deprivation the areas table carries (IoD2025 for the reference
    extract; IoD2019 for a 2011-LSOA areas table)."""
    if "iod_version" in areas.columns and areas["iod_version"].notna().any():
        return str(areas["iod_version"].dropna().iloc[0])
    return "IoD2019"


def denominator(areas) -> str:
    """The population behind every rate, in words."""
    if "pop_0_15" in areas.columns:
        return "Census 2021 usual residents"
    return "residents (the areas table's population estimate)"
