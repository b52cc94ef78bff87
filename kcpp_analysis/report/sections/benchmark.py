"""How the area compares: England, its police force area and its nearest neighbours.

National part (real open data even in the demo): the IoD2025 police-recorded crime
indicators aggregated to every English local authority (:mod:`kcpp_analysis.analysis.benchmark`),
the area's rank and percentile, the force-area districts and the nearest neighbours
(standardised Euclidean distance on documented variables), a strip chart, a sentence hedged
by how far outside each group's spread the area sits, and the deprivation-adjusted
comparison (observed against expected from England's rates by IMD decile, indirect
standardisation with an exact Poisson interval). Force-area part: police.uk 12-month counts
(real) for every district and ward, with a funnel plot of the ward rates against the
force-area rate (exact Poisson 95% and 99.8% limits); the area's wards outside 99.8% are
named. Which indicators and crime types each priority uses: ``params/benchmark.yaml``.
"""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.benchmark import (
    england_rate,
    indirect_standardise,
    rank_and_percentile,
)
from kcpp_analysis.analysis.funnel import between_area_variance, classify, funnel_frame
from kcpp_analysis.config.benchmark import NN_VARIABLES
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.periods import months_span
from kcpp_analysis.data.national import INDICATOR_LABELS
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, table_name

log = logging.getLogger(__name__)

KIND = "benchmark"
TITLE = "How Kirklees compares"


class Settings(SectionSettings):
    funnel_points: int


def _force_area(ctx):
    def build():
        from kcpp_analysis.data.reference import reference_dir

        try:
            p = reference_dir(ctx.params.sia.lad_code) / "force_area_12m.csv"
        except (SourceError, OSError) as exc:
            log.warning("force-area comparison unavailable: %s", exc)
            return None
        return pd.read_csv(p) if p.is_file() else None

    return ctx._cached("force_area_12m", build)


def _force_area_period(ctx) -> str:
    """The months the force-area police.uk counts cover, read from the reference extract's
    manifest (the national file's name records them): "12 months May 2025 to April 2026"."""

    def build():
        from kcpp_analysis.data.reference import reference_dir

        try:
            m = json.loads((reference_dir(ctx.params.sia.lad_code) / "manifest.json").read_text())
        except (SourceError, OSError, ValueError) as exc:
            log.warning("force-area period unknown: %s", exc)
            return "latest 12 months"
        for name in m.get("inputs", {}):
            hit = re.search(r"_\d+m_(\d{4}-\d{2})_(\d{4}-\d{2})\.csv$", name)
            if hit:
                return months_span(*hit.group(1, 2))
        return "latest 12 months"

    return ctx._cached("force_area_period", build)


def _names(items: list, most: int = 6) -> str:
    if len(items) <= most:
        return narrative.join_list(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more (all in the CSV)"


def applies(ctx, pr) -> bool:
    spec = ctx.params.benchmark.priorities.get(pr.id)
    return spec is not None and ctx.comparators() is not None


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    la, by_decile = ctx.benchmark_tables()
    spec = ctx.params.benchmark.priorities[pr.id]
    cg = ctx.comparators()
    me, nn, force, fam = cg.me, cg.nearest, cg.force, cg.family
    name = ctx.params.sia.local_authority
    force_label = f"the other {me['pfa24_name']} districts"
    rows, strip, sentences, figures, tables = [], [], [], [], []
    areas = ctx.dataset.areas
    use_decile = "iod_version" in areas.columns and (areas["iod_version"] == "IoD2025").all()
    for ind in spec.indicators:
        label = INDICATOR_LABELS[ind]
        v = float(me[ind])
        rank, pct = rank_and_percentile(la[ind], v)
        row = {
            "indicator": label,
            "rate": v,
            "rank": rank,
            "of": int(la[ind].notna().sum()),
            "percentile": pct,
            "england": england_rate(la, ind),
            "force_mean": force[ind].mean(),
            "force_min": force[ind].min(),
            "force_max": force[ind].max(),
            "nn_mean": nn[ind].mean(),
            "nn_min": nn[ind].min(),
            "nn_max": nn[ind].max(),
        }
        if len(fam):
            row["group_mean"] = fam[ind].mean()
        if use_decile:
            pop_d = areas.groupby("imd_decile")["population"].sum()
            rate_d = by_decile[by_decile["indicator"] == ind].set_index("imd_decile")["rate"]
            o = v * float(areas["population"].sum()) / 1000
            # the IoD publishes rates, not counts: the ratio is a point estimate, and an
            # exact Poisson interval on a rate x residents "count" would be false precision
            row["adj_ratio"] = indirect_standardise(o, pop_d, rate_d)["ratio"]
        rows.append(row)
        for g, frame in (("England", la), ("West Yorkshire", force), ("Nearest neighbours", nn)):
            strip += [{"indicator": label, "rate": x, "group": g} for x in frame[ind].dropna()]
        strip.append({"indicator": label, "rate": v, "group": "target"})
    if rows:
        t = pd.DataFrame(rows)
        first = t.iloc[0]
        sentences.append(
            f"{first.indicator} in {name} is {first.rate:,.1f} per 1,000 (IoD2025), ranked "
            f"{first['rank']} of {first['of']} English local authorities (1 = highest), higher "
            f"than {first.percentile:.0f}% of them; England {first.england:,.1f}."
        )
        ind0 = spec.indicators[0]
        groups = [(nn, f"its {len(nn)} nearest neighbours"), (force, force_label)]
        if len(fam):
            groups.insert(0, (fam, cg.family_label.lower()))
        for grp, lab in groups:
            s = narrative.spread_sentence(
                f"Against {lab}", float(me[ind0]), grp[ind0], "that group"
            )
            if s:
                sentences.append(s.replace(": ", f": {name} ", 1))
        if use_decile and np.isfinite(first.get("adj_ratio", np.nan)):
            sentences.append(
                f"Allowing for deprivation, {narrative.possessive(name)} "
                f"{narrative.lower_first(first.indicator)} "
                f"rate is {first.adj_ratio:.2f} times the rate England's rates by IMD decile "
                "predict for its neighbourhoods (a point estimate: the IoD publishes rates, "
                "not counts, so no interval is given)."
            )
        fmt = {c: ",.1f" for c in t.columns if c not in ("indicator", "rank", "of", "percentile")}
        fmt.update({"rank": ".0f", "of": ".0f", "percentile": ".0f"})
        for c in ("adj_ratio",):
            if c in fmt:
                fmt[c] = ".2f"
        tables.append(
            gate.table(
                t,
                table_name(ctx, pr.id, "benchmark"),
                formats=fmt,
                caption=f"{name} against England, {me['pfa24_name']} and its nearest neighbours "
                "(IoD2025 crime indicators, real national data)",
            )
        )
        sf = pd.DataFrame(strip)
        chart = charts.strip_chart(
            sf,
            title=f"{pr.title}: {name} among English local authorities",
            alt=(
                f"Strip chart of {len(la)} English local authorities' rates for "
                f"{narrative.join_list([r['indicator'] for r in rows])}, with {name} "
                f"highlighted, {me['pfa24_name']} districts and the {len(nn)} nearest "
                "neighbours marked. " + " ".join(sentences[:1])
            ),
            name=table_name(ctx, pr.id, "benchmark_strip"),
            target_label=name,
        )
        figures.append(
            Figure.from_chart(chart, gate.table(sf, table_name(ctx, pr.id, "benchmark_strip")))
        )
    fa = _force_area(ctx)
    types = [t for t in spec.policeuk_types if fa is not None and t in fa.columns]
    if types:
        f = fa.assign(count=fa[types].sum(axis=1))
        f["rate"] = 1000 * f["count"] / f["population"]
        d = f[f["level"] == "district"].sort_values("rate", ascending=False)
        dt = gate.table(
            d[["name", "count", "population", "rate"]].rename(columns={"name": "district"}),
            table_name(ctx, pr.id, "force_districts"),
            counts=["count"],
            derived={"count": ["rate"]},
            formats={"rate": ",.1f", "population": ",.0f"},
            caption=(
                f"police.uk {narrative.join_list(types)}, {_force_area_period(ctx)}: districts of "
                f"{me['pfa24_name']} (real counts)"
            ),
        )
        tables.append(dt)
        w = f[(f["level"] == "ward") & (f["population"] > 0)].copy()
        force_rate = 1000 * w["count"].sum() / w["population"].sum()
        expected = force_rate * w["population"] / 1000
        bav = between_area_variance(w["count"], expected)
        cls = classify(w["count"], expected, bav.tau2)
        w["outside"] = np.where(
            cls == "above 99.8%", "above", np.where(cls == "below 99.8%", "below", "")
        )
        mine = w[w["ltla24_code"] == ctx.params.sia.lad_code]
        w["highlight"] = w["ltla24_code"] == ctx.params.sia.lad_code
        w["named"] = w["highlight"] & (w["outside"] == "above")
        w["label"] = w["name"]
        lim = funnel_frame(
            max(500, w["population"].min() * 0.9),
            w["population"].max() * 1.05,
            force_rate,
            tau2=bav.tau2,
            points=settings.funnel_points,
        )
        above = mine[mine["outside"] == "above"]["name"].tolist()
        below = mine[mine["outside"] == "below"]["name"].tolist()
        widened = (
            f" (widened for the real spread between wards, about {bav.tau_pct:.0f}% of the "
            "force rate)"
            if bav.tau2 > 0
            else ""
        )
        limits = f"the {me['pfa24_name']} rate beyond the 99.8% limits{widened}"
        start = f"On police.uk counts for the {_force_area_period(ctx)}, "
        if not above and not below:
            s = (
                f"{start}none of {narrative.possessive(name)} {len(mine)} wards is above or "
                f"below {limits}."
            )
        else:
            s = (
                f"{start}{len(above)} of {narrative.possessive(name)} {len(mine)} wards "
                f"{'is' if len(above) == 1 else 'are'} above {limits}"
                + (f" ({_names(above)})" if above else "")
                + f" and {len(below)} below"
                + (f" ({_names(below)})" if below else "")
                + "."
            )
        sentences.append(s)
        chart = charts.funnel_chart(
            w[["population", "rate", "highlight", "named", "label"]],
            lim,
            title=f"{pr.title}: {me['pfa24_name']} wards, police.uk 12 months (real counts)",
            alt=(
                f"Funnel plot of the {len(w)} wards of {me['pfa24_name']}: rate per 1,000 "
                f"residents against ward population, with the force-area rate "
                f"({force_rate:,.1f}) and 95% and 99.8% limits; {name}'s wards highlighted. {s}"
            ),
            name=table_name(ctx, pr.id, "force_funnel"),
        )
        fd = gate.table(
            w[["name", "ltla24_code", "count", "population", "rate", "outside"]],
            table_name(ctx, pr.id, "force_funnel"),
            counts=["count"],
            derived={"count": ["rate"]},
            column_totals=False,
        )
        figures.append(Figure.from_chart(chart, fd))
    nn_names = ", ".join(f"{r.ltla24_name} ({r.distance:.2f})" for r in nn.itertuples())
    notes = (
        "These comparisons use real national open data (IoD2025 police-recorded crime "
        "indicators; police.uk), not the local incident data: the synthetic-data banner does "
        "not apply to them. Local authority rates are the LSOA rates weighted by Census 2021 "
        "residents, an approximation of each authority's rate per 1,000 at-risk population. "
        "The deprivation-adjusted ratio divides the area's rate by the rate England's rates "
        "by IMD decile predict for its neighbourhoods (indirect standardisation); with rates "
        "and no counts published it has no interval and is not called significant. Funnel "
        "limits are exact Poisson limits (as PHEindicatormethods), widened by the "
        "DerSimonian-Laird between-area variance when areas vary more than chance.",
        f"Nearest neighbours (standardised Euclidean distance on "
        f"{', '.join(NN_VARIABLES[v] for v in ctx.params.benchmark.nearest_neighbours.variables)}): "
        f"{nn_names}.",
    )
    if len(fam) or cg.family_missing:
        notes += (
            f"{cg.family_label}: {', '.join(fam['ltla24_name'])}"
            + (f"; without a row here: {'; '.join(cg.family_missing)}" if cg.family_missing else "")
            + ".",
        )
    if spec.proxy_note and sentences:
        # what the measures stand for, in the same item as the first figure, so the pack's
        # one-line view ("Also checked") never quotes the figure without it
        sentences[0] = f"{spec.proxy_note} {sentences[0]}"
    return SectionResult(
        KIND,
        pr.id,
        TITLE.replace("Kirklees", name),
        a,
        tuple(sentences),
        tuple(tables),
        tuple(figures),
        notes,
    )
