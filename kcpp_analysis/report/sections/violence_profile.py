"""The serious violence profile (Serious Violence Duty): its kinds, with three-year pooled
counts so rare kinds are shown honestly rather than only suppressed, and its cohorts.

Kinds: each offence category of the priority's selection (``params/categories.yaml``), and
across them the domestic, non-domestic and knife-involved offences. For each: this year's
count, the three years to this year pooled, and the pooled rate per 100,000 residents a
year. A kind too rare to show in one year (homicide, typically) is shown pooled; when even
three years hold fewer than the threshold it reads "fewer than N over three years".

Cohorts: victims and identified offenders by Census 2021 age band, with rates per 1,000
residents of the band; the share of each under 25 (summed from the published bands, so it
can never reveal a hidden band); victims in domestic against non-domestic offences;
offenders with two or more serious violence offences in the year; and people who are both
victim and offender (the same keyed pseudonym in both roles; counts only).

Attempted murder, GBH and wounding, firearm offences and rape are Home Office offence codes
inside these groups: the data hold them only when a partner extract carries the offence
code, and the page says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import AGE_BANDS
from kcpp_analysis.core.periods import in_fy, previous_fy
from kcpp_analysis.data.schemas import AGE_POP_COLUMNS
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has,
    has_incidents,
    table_name,
)

KIND = "violence_profile"
TITLE = "Kinds and cohorts of serious violence"
POP_COLUMNS = AGE_POP_COLUMNS


class Settings(SectionSettings):
    for_priority: str
    pooled_years: int


def applies(ctx, pr) -> bool:
    return pr.id == ctx.settings(KIND, pr).for_priority and has_incidents(ctx, pr)


def _absent_kinds(ctx, pr, inc: pd.DataFrame) -> list[str]:
    """The priority's categories with no record in the data in any year: their source is
    not in this dataset (e.g. police.uk's unsplit violence when a partner extract with
    offence codes is held), so a row of zeros would misread as none happened."""
    cats = ctx.params.priority_categories(pr) or []
    held = set(inc["category"].unique())
    return [ctx.params.categories[c].label for c in cats if c not in held]


def _kinds(ctx, pr, inc: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    cats = ctx.params.priority_categories(pr) or sorted(inc["category"].unique())
    held = set(inc["category"].unique())
    rules = [(ctx.params.categories[c].label, inc["category"] == c) for c in cats if c in held]
    if "domestic_abuse" in inc:
        da = inc["domestic_abuse"].fillna(False).astype(bool)
        rules += [("Domestic-related", da), ("Not domestic-related", ~da)]
    if "knife_crime" in inc:
        rules.append(("Knife or sharp instrument", inc["knife_crime"].fillna(False).astype(bool)))
    pop = float(ctx.dataset.areas["population"].sum())
    in_year = in_fy(inc["date"], years[-1])
    pooled = np.zeros(len(inc), dtype=bool)
    for y in years:
        pooled |= np.asarray(in_fy(inc["date"], y), dtype=bool)
    rows = []
    for label, m in rules:
        m = m.to_numpy(dtype=bool)
        n3 = int((m & pooled).sum())
        rows.append(
            {
                "kind": label,
                "current": int((m & np.asarray(in_year, dtype=bool)).sum()),
                "pooled": n3,
                "rate_per_100k_a_year": 100_000 * n3 / len(years) / pop if pop else np.nan,
            }
        )
    return pd.DataFrame(rows)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    inc = ctx.incidents(pr)
    years = [ctx.year]
    for _ in range(settings.pooled_years - 1):
        years.insert(0, previous_fy(years[0]))
    span = f"{years[0]} to {years[-1]}"
    kinds = _kinds(ctx, pr, inc, years)
    kinds_t = gate.table(
        kinds,
        table_name(ctx, pr.id, "violence_kinds"),
        counts=["current", "pooled"],
        column_totals=False,
        derived={"pooled": ["rate_per_100k_a_year"]},
        formats={"rate_per_100k_a_year": ",.1f"},
        caption=f"Kinds of serious violence: {ctx.year}, and the {len(years)} years {span} "
        "pooled (the offence categories overlap with the domestic and knife rows)",
    )
    sentences = []
    for i, r in enumerate(kinds.itertuples()):
        if kinds_t.hidden(i, "current"):
            if kinds_t.hidden(i, "pooled"):
                sentences.append(
                    f"{r.kind}: fewer than {gate.threshold} over the {len(years)} years {span}."
                )
            else:
                sentences.append(
                    f"{r.kind}: {narrative.fmt_count(r.pooled)} over the {len(years)} years "
                    f"{span} ({r.rate_per_100k_a_year:,.1f} per 100,000 residents a year); too "
                    "few in one year to show alone."
                )
    if not has(inc, "offence"):
        sentences.append(
            "Attempted murder, GBH and wounding, firearm offences and rape are offence codes "
            "within these groups; the data hold no offence code, so they cannot be shown "
            "separately (a partner extract with the Home Office offence code would)."
        )
    tables = [kinds_t]
    cur = inc[in_fy(inc["date"], ctx.year)]
    areas = ctx.dataset.areas
    if has(cur, "victim_age_band") and all(c in areas.columns for c in POP_COLUMNS.values()):
        pop = pd.Series({b: float(areas[c].sum()) for b, c in POP_COLUMNS.items()})
        coh = pd.DataFrame({"age_band": list(AGE_BANDS)})
        v = cur.dropna(subset=["victim_id", "victim_age_band"]).drop_duplicates("victim_id")
        coh["victims"] = coh["age_band"].map(v["victim_age_band"].value_counts()).fillna(0)
        coh["victims_per_1000"] = 1000 * coh["victims"] / coh["age_band"].map(pop)
        derived = {"victims": ["victims_per_1000"]}
        counts = ["victims"]
        if has(cur, "offender_age_band"):
            o = cur.dropna(subset=["offender_id", "offender_age_band"]).drop_duplicates(
                "offender_id"
            )
            coh["offenders"] = coh["age_band"].map(o["offender_age_band"].value_counts()).fillna(0)
            coh["offenders_per_1000"] = 1000 * coh["offenders"] / coh["age_band"].map(pop)
            derived["offenders"] = ["offenders_per_1000"]
            counts.append("offenders")
        coh_t = gate.table(
            coh,
            table_name(ctx, pr.id, "violence_cohorts"),
            counts=counts,
            derived=derived,
            formats={"victims_per_1000": ",.2f", "offenders_per_1000": ",.2f"},
            caption=f"Victims and identified offenders of serious violence by age, {ctx.year} "
            "(each person once; rates per 1,000 residents of the band)",
        )
        tables.append(coh_t)
        for who in counts:
            young = [coh_t.value(i, who) for i in (0, 1)]  # 0-15 and 16-24, as published
            total = sum(coh_t.value(i, who) or 0 for i in range(len(coh)))
            if None not in young and not any(coh_t.hidden(i, who) for i in range(len(coh))):
                if total >= gate.threshold:
                    sentences.append(
                        f"{narrative.fmt_pct(100 * sum(young) / total)} of {who} were under 25 "
                        f"({narrative.fmt_count(sum(young))} of {narrative.fmt_count(total)})."
                    )
    facts = []
    if "domestic_abuse" in cur and has(cur, "victim_id"):
        v = cur.dropna(subset=["victim_id"])
        dom = v[v["domestic_abuse"].fillna(False).astype(bool)]["victim_id"].nunique()
        facts.append(("victims of domestic-related serious violence", dom))
        facts.append(("victims of other serious violence", v["victim_id"].nunique() - dom))
    if has(cur, "offender_id"):
        per = cur.dropna(subset=["offender_id"]).groupby("offender_id").size()
        facts.append(("offenders with two or more offences this year", int((per >= 2).sum())))
        if has(cur, "victim_id"):
            both = set(cur["offender_id"].dropna()) & set(cur["victim_id"].dropna())
            facts.append(("people both victim and offender (same pseudonym)", len(both)))
    if facts:
        f = pd.DataFrame(facts, columns=["measure", "people"])
        tables.append(
            gate.table(
                f,
                table_name(ctx, pr.id, "violence_people"),
                counts=["people"],
                column_totals=False,
                caption=f"People in serious violence, {ctx.year} (pseudonymised; counts only)",
            )
        )
    absent = _absent_kinds(ctx, pr, inc)
    if absent:  # last, so the pack's one-line view keeps a finding first
        sentences.append(
            f"Not held in these data in any year, so not shown: {narrative.join_list(absent)}."
        )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        tuple(tables),
        (),
        (
            "Kinds are the offence categories in the partnership's definition of serious "
            "violence, with the domestic abuse and knife flags across them. Pooling three "
            "years keeps a rare kind visible without showing a small count for one year.",
        ),
        signals={"published": True},
    )
