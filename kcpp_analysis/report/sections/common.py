"""Helpers shared by section modules (public: every section module uses them)."""

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


def year_incidents(ctx, pr, year: str | None = None):
    """The priority's incidents in the SIA year (or ``year``): 1 April to 31 March."""
    from kcpp_analysis.core.periods import in_fy

    inc = ctx.incidents(pr)
    return inc[in_fy(inc["date"], year or ctx.year)]


def has(inc, *cols) -> bool:
    """Whether every one of ``cols`` exists and holds at least one value."""
    return all(c in inc.columns and inc[c].notna().any() for c in cols)


def gap(title: str, what: str, columns: str = "") -> str:
    """The sentence a profile shows when the data lack the fields it needs (in words: the
    field names are in the data dictionary, ``columns`` is kept for the analyst's note)."""
    return (
        f"Not available for {title}: the data hold no {what}. The partner's extract can add "
        f"it; until then this profile is an intelligence gap."
    )
