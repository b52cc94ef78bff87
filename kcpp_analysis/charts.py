"""Consistent, accessible charts for the SIA reports.

One style for every chart: the Okabe-Ito colour-blind-safe palette, titles that state the
finding (passed in from :mod:`kcpp_analysis.narrative`), labelled axes with units, and alt
text. :func:`to_html` embeds a figure as a base64 PNG ``<img>`` with its alt text, so the
exported HTML is self-contained and readable by screen readers.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# Okabe & Ito (2008) colour-blind-safe palette
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
             "grey": "#999999"}
RAG_COLOURS = {"red": "#D55E00", "amber": "#E69F00", "green": "#009E73", "grey": "#999999"}
SPC_COLOURS = {"common cause": OKABE_ITO["grey"], "concern": OKABE_ITO["vermillion"],
               "improvement": OKABE_ITO["blue"]}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the figure, its alt text and the data behind it."""

    figure: plt.Figure
    alt: str
    data: pd.DataFrame
    name: str

    def to_html(self) -> str:
        return to_html(self.figure, self.alt)


def style() -> None:
    """Apply the report style to matplotlib (idempotent)."""
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.titlesize": 11,
        "axes.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
        "axes.grid": True, "grid.alpha": 0.3, "axes.prop_cycle": matplotlib.cycler(
            color=[OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")]),
        "legend.frameon": False, "figure.constrained_layout.use": True,
    })


def to_html(fig: plt.Figure, alt: str) -> str:
    """PNG-encode ``fig`` into an ``<img>`` with alt text, and close the figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure class="kcpp-chart"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(alt)}" style="max-width:100%"/></figure>')


def _shade(ax, interruptions, label_once=True) -> None:
    for i, (a, b, _label) in enumerate(interruptions):
        ax.axvspan(pd.Timestamp(a), pd.Timestamp(b) + pd.offsets.MonthEnd(0), color=OKABE_ITO["grey"],
                   alpha=0.18, lw=0, label="Covid-19 lockdown" if (i == 0 and label_once) else None)


def trend_chart(fitted: pd.DataFrame, *, title: str, ylabel: str, interruptions=(),
                alt: str, name: str = "trend") -> Chart:
    """Monthly observed counts, seasonal expectation, underlying trend and 95% band."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    f = fitted
    if f["expected"].notna().any():
        ax.fill_between(f["month"], f["lower"], f["upper"], color=OKABE_ITO["sky"], alpha=0.25,
                        lw=0, label="95% range expected")
        ax.plot(f["month"], f["expected"], color=OKABE_ITO["sky"], lw=1.2,
                label="Seasonal expectation")
        ax.plot(f["month"], f["trend"], color=OKABE_ITO["blue"], lw=2.2, label="Underlying trend")
    ax.plot(f["month"], f["observed"], color=OKABE_ITO["black"], lw=0.9, marker="o", ms=2.2,
            label="Recorded")
    _shade(ax, interruptions)
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.legend(loc="upper left", ncols=3, fontsize=8)
    return Chart(fig, alt, f, name)


def decile_chart(by_decile: pd.DataFrame, *, title: str, ylabel: str, alt: str,
                 name: str = "deciles", suppressed=None) -> Chart:
    """Rate per 1,000 by IMD decile with 95% confidence intervals.

    Deciles flagged in ``suppressed`` (small counts) get no bar, only a ``[c]`` label: a
    rate bar times the decile's population would reveal the suppressed count.
    """
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    hide = np.zeros(len(by_decile), dtype=bool) if suppressed is None else np.asarray(suppressed)
    for q in by_decile.loc[hide, "quantile"]:
        ax.text(q, 0, "[c]", ha="center", va="bottom", fontsize=8)
    d = by_decile[~hide].dropna(subset=["rate"])
    err = np.vstack([d["rate"] - d["ci_low"], d["ci_high"] - d["rate"]])
    ax.bar(d["quantile"], d["rate"], color=OKABE_ITO["blue"], alpha=0.85)
    ax.errorbar(d["quantile"], d["rate"], yerr=err, fmt="none", ecolor=OKABE_ITO["black"], capsize=3, lw=1)
    ax.set_xticks(range(1, int(by_decile["quantile"].max()) + 1))
    ax.set_xlabel("IMD 2019 decile (1 = most deprived 10% in England)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    return Chart(fig, alt, by_decile, name)


def bar_chart(labels, values, *, title: str, xlabel: str, alt: str, data: pd.DataFrame,
              name: str, lower=None, upper=None, highlight=None) -> Chart:
    """Horizontal bar chart (places, wards) with optional CIs."""
    style()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * n + 1.2))
    colours = [OKABE_ITO["orange"] if highlight is not None and h else OKABE_ITO["blue"]
               for h in (highlight if highlight is not None else [False] * n)]
    y = np.arange(n)[::-1]
    ax.barh(y, values, color=colours)
    if lower is not None and upper is not None:
        v = np.asarray(values, dtype=float)
        ax.errorbar(v, y, xerr=np.vstack([v - np.asarray(lower), np.asarray(upper) - v]),
                    fmt="none", ecolor=OKABE_ITO["black"], capsize=2, lw=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    return Chart(fig, alt, data, name)


def spc_chart(points: pd.DataFrame, *, title: str, ylabel: str, alt: str, name: str = "spc") -> Chart:
    """XmR chart: values coloured by special-cause variation, mean and process limits."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.2))
    ax.plot(points["month"], points["value"], color=OKABE_ITO["grey"], lw=0.8)
    for v, g in points.groupby("variation"):
        ax.scatter(g["month"], g["value"], color=SPC_COLOURS[v], s=16, zorder=3,
                   label=v.capitalize())
    ax.plot(points["month"], points["mean"], color=OKABE_ITO["black"], lw=1, label="Mean")
    ax.plot(points["month"], points["upper"], color=OKABE_ITO["black"], lw=0.8, ls="--",
            label="Process limits")
    ax.plot(points["month"], points["lower"].clip(lower=0), color=OKABE_ITO["black"], lw=0.8, ls="--")
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    ax.legend(loc="upper left", ncols=5, fontsize=8)
    return Chart(fig, alt, points, name)


def lorenz_chart(lorenz: pd.DataFrame, *, title: str, alt: str, name: str = "lorenz") -> Chart:
    """Lorenz curve of incidents across LSOAs against the line of equality."""
    style()
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.plot([0, 1], [0, 1], color=OKABE_ITO["grey"], ls="--", lw=1, label="Equal share")
    ax.plot(lorenz["cum_share_lsoas"], lorenz["cum_share_incidents"], color=OKABE_ITO["blue"],
            lw=2, label="Incidents")
    ax.set_xlabel("Cumulative share of LSOAs (fewest incidents first)")
    ax.set_ylabel("Cumulative share of incidents")
    ax.set_title(title, loc="left")
    ax.legend(loc="upper left")
    return Chart(fig, alt, lorenz, name)


def share_chart(shares: pd.DataFrame, *, title: str, alt: str, target: float | None = None,
                name: str = "survey") -> Chart:
    """Survey share (%) by wave with 95% CIs and the target line."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    x = np.arange(len(shares))
    s = 100 * shares["share"].to_numpy()
    err = np.vstack([s - 100 * shares["ci_low"].to_numpy(), 100 * shares["ci_high"].to_numpy() - s])
    ax.errorbar(x, s, yerr=err, fmt="o-", color=OKABE_ITO["blue"], capsize=3)
    if target is not None:
        ax.axhline(target, color=OKABE_ITO["vermillion"], ls="--", lw=1, label=f"Target {target:g}%")
        ax.legend(loc="lower left")
    ax.set_xticks(x, shares["wave"])
    ax.set_ylabel("% of respondents (weighted)")
    ax.set_xlabel("Survey wave (financial year)")
    ax.set_title(title, loc="left")
    return Chart(fig, alt, shares, name)


def indicator_chart(values: pd.DataFrame, *, title: str, ylabel: str, alt: str,
                    name: str = "indicator") -> Chart:
    """Annual partner indicator values (one line per indicator) by financial year."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    for ind, g in values.groupby("indicator_id"):
        ax.plot(g["period"], g["value"], marker="o", label=str(ind).replace("_", " "))
    ax.set_xlabel("Financial year")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", fontsize=8)
    return Chart(fig, alt, values, name)


def rag_chart(assess: pd.DataFrame, *, title: str, alt: str, name: str = "rag") -> Chart:
    """Count of priorities by RAG rating per theme (stacked bars)."""
    style()
    t = assess.groupby(["theme_title", "rag"]).size().unstack(fill_value=0)
    t = t.reindex(columns=[c for c in ("red", "amber", "green", "grey") if c in t.columns])
    fig, ax = plt.subplots(figsize=(7, 2.6))
    left = np.zeros(len(t))
    for c in t.columns:
        ax.barh(t.index, t[c], left=left, color=RAG_COLOURS[c], label=c.capitalize())
        left += t[c].to_numpy()
    ax.set_xlabel("Number of priorities")
    ax.set_title(title, loc="left")
    ax.legend(loc="lower right", ncols=4, fontsize=8)
    ax.grid(axis="y", visible=False)
    return Chart(fig, alt, t.reset_index(), name)
