"""Consistent, accessible charts for the SIA reports.

One style for every chart: the Okabe-Ito colour-blind-safe palette, titles that state the
finding (passed in from :mod:`kcpp_analysis.presentation.narrative`), labelled axes with units, and alt
text. :class:`kcpp_analysis.report.results.Figure` embeds a chart as a base64 PNG with its
alt text (through a template), so the exported HTML is self-contained and readable by
screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# Okabe & Ito (2008) colour-blind-safe palette
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
SPC_COLOURS = {
    "common cause": OKABE_ITO["grey"],
    "concern": OKABE_ITO["vermillion"],
    "improvement": OKABE_ITO["blue"],
}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the figure, its alt text and the data behind it."""

    figure: plt.Figure
    alt: str
    data: pd.DataFrame
    name: str


def _margins(fig, left: float = 0.09, bottom: float = 0.16) -> None:
    """Fixed margins (constrained layout costs ~0.15 s a chart and changes nothing here)."""
    fig.subplots_adjust(left=left, right=0.98, top=0.88, bottom=bottom)


def style() -> None:
    """Apply the report style to matplotlib (idempotent)."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            # a fixed title position: matplotlib otherwise measures every tick label to
            # lift the title over top ticks (none here), about 10 ms a chart
            "axes.titley": 1.0,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.prop_cycle": matplotlib.cycler(
                color=[
                    OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")
                ]
            ),
            "legend.frameon": False,
            "figure.constrained_layout.use": False,
        }
    )


def _shade(ax, interruptions, label_once=True) -> None:
    for i, (a, b, _label) in enumerate(interruptions):
        ax.axvspan(
            pd.Timestamp(a),
            pd.Timestamp(b) + pd.offsets.MonthEnd(0),
            color=OKABE_ITO["grey"],
            alpha=0.18,
            lw=0,
            label="Covid-19 lockdown" if (i == 0 and label_once) else None,
        )


def trend_chart(
    fitted: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    interruptions=(),
    alt: str,
    name: str = "trend",
) -> Chart:
    """Monthly observed counts, seasonal expectation, underlying trend and 95% band."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    _margins(fig)
    f = fitted
    if f["expected"].notna().any():
        ax.fill_between(
            f["month"],
            f["lower"],
            f["upper"],
            color=OKABE_ITO["sky"],
            alpha=0.25,
            lw=0,
            label="95% range expected",
        )
        ax.plot(
            f["month"], f["expected"], color=OKABE_ITO["sky"], lw=1.2, label="Seasonal expectation"
        )
        ax.plot(f["month"], f["trend"], color=OKABE_ITO["blue"], lw=2.2, label="Underlying trend")
    ax.plot(
        f["month"],
        f["observed"],
        color=OKABE_ITO["black"],
        lw=0.9,
        marker="o",
        ms=2.2,
        label="Recorded",
    )
    _shade(ax, interruptions)
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.legend(loc="upper left", ncols=3, fontsize=8)
    return Chart(fig, alt, f, name)


def decile_chart(
    by_decile: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    alt: str,
    name: str = "deciles",
    suppressed=None,
    marker: str = "[c]",
) -> Chart:
    """Rate per 1,000 by IMD decile with 95% confidence intervals.

    Deciles flagged in ``suppressed`` (small counts) get no bar, only a ``[c]`` label: a
    rate bar times the decile's population would reveal the suppressed count.
    """
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    _margins(fig)
    hide = np.zeros(len(by_decile), dtype=bool) if suppressed is None else np.asarray(suppressed)
    for q in by_decile.loc[hide, "quantile"]:
        ax.text(q, 0, marker, ha="center", va="bottom", fontsize=8)
    d = by_decile[~hide].dropna(subset=["rate"])
    err = np.vstack([d["rate"] - d["ci_low"], d["ci_high"] - d["rate"]])
    ax.bar(d["quantile"], d["rate"], color=OKABE_ITO["blue"], alpha=0.85)
    ax.errorbar(
        d["quantile"], d["rate"], yerr=err, fmt="none", ecolor=OKABE_ITO["black"], capsize=3, lw=1
    )
    ax.set_xticks(range(1, int(by_decile["quantile"].max()) + 1))
    ax.set_xlabel("IMD decile (1 = most deprived 10% in England)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    return Chart(fig, alt, by_decile, name)


def period_chart(
    frame: pd.DataFrame, *, title: str, ylabel: str, alt: str, name: str = "periods"
) -> Chart:
    """Counts by quarter or financial year (``label``, ``value``): used when a monthly
    series cannot be drawn without showing a suppressed month."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.2))
    _margins(fig)
    x = np.arange(len(frame))
    ax.bar(x, frame["value"], color=OKABE_ITO["blue"], alpha=0.85)
    step = max(1, len(frame) // 12)
    ax.set_xticks(x[::step], frame["label"].iloc[::step], rotation=0, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.grid(axis="x", visible=False)
    return Chart(fig, alt, frame, name)


def spc_chart(
    points: pd.DataFrame, *, title: str, ylabel: str, alt: str, name: str = "spc"
) -> Chart:
    """XmR chart: values coloured by special-cause variation, mean and process limits."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.2))
    _margins(fig)
    ax.plot(points["month"], points["value"], color=OKABE_ITO["grey"], lw=0.8)
    for v, g in points.groupby("variation"):
        ax.scatter(
            g["month"], g["value"], color=SPC_COLOURS[v], s=16, zorder=3, label=v.capitalize()
        )
    ax.plot(points["month"], points["mean"], color=OKABE_ITO["black"], lw=1, label="Mean")
    ax.plot(
        points["month"],
        points["upper"],
        color=OKABE_ITO["black"],
        lw=0.8,
        ls="--",
        label="Process limits",
    )
    ax.plot(
        points["month"], points["lower"].clip(lower=0), color=OKABE_ITO["black"], lw=0.8, ls="--"
    )
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    ax.legend(loc="upper left", ncols=5, fontsize=8)
    return Chart(fig, alt, points, name)


def share_chart(
    shares: pd.DataFrame, *, title: str, alt: str, target: float | None = None, name: str = "survey"
) -> Chart:
    """Survey share (%) by wave with 95% CIs and the target line."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    _margins(fig)
    x = np.arange(len(shares))
    s = 100 * shares["share"].to_numpy()
    err = np.vstack([s - 100 * shares["ci_low"].to_numpy(), 100 * shares["ci_high"].to_numpy() - s])
    ax.errorbar(x, s, yerr=err, fmt="o-", color=OKABE_ITO["blue"], capsize=3)
    if target is not None:
        ax.axhline(
            target, color=OKABE_ITO["vermillion"], ls="--", lw=1, label=f"Target {target:g}%"
        )
        ax.legend(loc="lower left")
    ax.set_xticks(x, shares["wave"])
    ax.set_ylabel("% of respondents (weighted)")
    ax.set_xlabel("Survey wave (financial year)")
    ax.set_title(title, loc="left")
    return Chart(fig, alt, shares, name)


def indicator_chart(
    values: pd.DataFrame, *, title: str, ylabel: str, alt: str, name: str = "indicator"
) -> Chart:
    """Annual partner indicator values (one line per indicator) by financial year."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    _margins(fig)
    for ind, g in values.groupby("indicator_id"):
        ax.plot(g["period"], g["value"], marker="o", label=str(ind).replace("_", " "))
    ax.set_xlabel("Financial year")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", fontsize=8)
    return Chart(fig, alt, values, name)


def strip_chart(
    frame: pd.DataFrame, *, title: str, alt: str, name: str = "benchmark", target_label: str = ""
) -> Chart:
    """One row per indicator: every area's rate as a grey dot, comparator groups coloured,
    the target area as a large vermillion dot (``frame``: ``indicator``, ``rate``, ``group``
    in {"England", "West Yorkshire", "Nearest neighbours", "target"})."""
    style()
    inds = list(dict.fromkeys(frame["indicator"]))
    fig, ax = plt.subplots(figsize=(8.0, 1.5 + 0.6 * len(inds)))
    fig.subplots_adjust(left=0.30, right=0.98, top=0.86, bottom=0.36)
    rng = np.random.default_rng(0)
    styles = {
        "England": dict(color="#bbbbbb", s=10, zorder=1),
        "Nearest neighbours": dict(color=OKABE_ITO["sky"], s=22, zorder=2),
        "West Yorkshire": dict(color=OKABE_ITO["orange"], s=26, zorder=3, marker="D"),
        "target": dict(color=OKABE_ITO["vermillion"], s=70, zorder=4, edgecolor="black"),
    }
    for g, st in styles.items():
        d = frame[frame["group"] == g]
        y = d["indicator"].map({k: i for i, k in enumerate(inds)}).to_numpy(dtype=float)
        jitter = rng.uniform(-0.18, 0.18, len(d)) if g == "England" else 0
        ax.scatter(d["rate"], y + jitter, label=target_label if g == "target" else g, **st)
    ax.set_yticks(range(len(inds)), inds)
    ax.invert_yaxis()
    ax.set_xlabel("Rate per 1,000 at-risk population (IoD2025 indicators)")
    ax.set_title(title, loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.32), ncols=4, fontsize=8, frameon=False)
    ax.grid(axis="y", visible=False)
    return Chart(fig, alt, frame, name)


def funnel_chart(
    points: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    title: str,
    alt: str,
    xlabel: str = "Residents",
    name: str = "funnel",
) -> Chart:
    """Funnel plot: rate per 1,000 against population, the target rate, and the 95% and
    99.8% limits (``limits``: ``population``, ``lo95``, ``hi95``, ``lo998``, ``hi998``,
    ``target``). ``points``: ``population``, ``rate``, ``highlight`` (bool), ``label``."""
    style()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    _margins(fig, left=0.1, bottom=0.15)
    ax.plot(
        limits["population"], limits["target"], color=OKABE_ITO["black"], lw=1, label="Target rate"
    )
    ax.plot(
        limits["population"],
        limits["hi95"],
        color=OKABE_ITO["black"],
        lw=0.8,
        ls="--",
        label="95% limits",
    )
    ax.plot(limits["population"], limits["lo95"], color=OKABE_ITO["black"], lw=0.8, ls="--")
    ax.plot(
        limits["population"],
        limits["hi998"],
        color=OKABE_ITO["vermillion"],
        lw=0.8,
        ls=":",
        label="99.8% limits",
    )
    ax.plot(limits["population"], limits["lo998"], color=OKABE_ITO["vermillion"], lw=0.8, ls=":")
    other = points[~points["highlight"]]
    hi = points[points["highlight"]]
    if len(other):
        ax.scatter(other["population"], other["rate"], color="#bbbbbb", s=14, label="Other areas")
    ax.scatter(
        hi["population"],
        hi["rate"],
        color=OKABE_ITO["blue"],
        s=22,
        zorder=3,
        label="Highlighted areas",
    )
    for r in points[points.get("named", False) == True].itertuples():  # noqa: E712
        ax.annotate(
            r.label, (r.population, r.rate), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Rate per 1,000 residents")
    ax.set_title(title, loc="left")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=7, ncols=2)
    return Chart(fig, alt, points, name)


def heatmap_chart(
    grid: np.ndarray, *, title: str, alt: str, hidden=None, name: str = "heatmap"
) -> Chart:
    """Day-of-week x hour heatmap (7 x 24); ``hidden`` cells are drawn grey and hatched."""
    style()
    fig, ax = plt.subplots(figsize=(8.5, 3.0))
    fig.subplots_adjust(left=0.12, right=0.93, top=0.86, bottom=0.18)
    g = np.ma.masked_array(grid, mask=hidden if hidden is not None else np.zeros_like(grid, bool))
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="#dddddd")
    im = ax.imshow(g, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("Hour of the day (aoristic: offences with a time window are spread over it)")
    ax.set_title(title, loc="left")
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    cb.set_label("Offences", fontsize=8)
    data = pd.DataFrame(grid, columns=[f"{h:02d}" for h in range(24)])
    data.insert(0, "day", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    return Chart(fig, alt, data, name)


CLASS_COLOURS = {
    "high focus": OKABE_ITO["vermillion"],
    "cross-cutting": OKABE_ITO["purple"],
    "continue to monitor": OKABE_ITO["blue"],
    "no data": OKABE_ITO["grey"],
}


def priority_chart(
    rows: pd.DataFrame, *, band: float, title: str, alt: str, name: str = "priorities"
) -> Chart:
    """Every priority's evidence score (0-100) as a bar, coloured by its recommended class,
    with its confidence grade at the bar's end and the high-focus band as a dashed line;
    ``rows``: ``priority``, ``score`` (NaN: not scored), ``confidence``, ``status``, in the
    order to draw (top first)."""
    style()
    n = len(rows)
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * n + 0.9))
    fig.subplots_adjust(
        left=0.36, right=0.97, top=1 - 0.45 / (0.24 * n + 0.9), bottom=0.5 / (0.24 * n + 0.9)
    )
    y = np.arange(n)[::-1]
    scores = rows["score"].astype(float).to_numpy()
    colours = [CLASS_COLOURS.get(s, OKABE_ITO["grey"]) for s in rows["status"]]
    ax.barh(y, np.nan_to_num(scores), color=colours, height=0.7)
    for yi, sc, conf in zip(y, scores, rows["confidence"], strict=True):
        label = "not scored" if np.isnan(sc) else f"{sc:.0f} ({conf})"
        ax.text((0 if np.isnan(sc) else sc) + 1, yi, label, va="center", fontsize=7)
    ax.axvline(band, color=OKABE_ITO["black"], ls="--", lw=0.8)
    ax.text(band, n - 0.4, " high-focus band", fontsize=7, va="bottom")
    ax.set_yticks(y, rows["priority"], fontsize=7.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Evidence score (0-100); confidence grade in brackets", fontsize=8)
    from matplotlib.patches import Patch

    seen = list(dict.fromkeys(rows["status"]))
    ax.legend(
        handles=[
            Patch(color=CLASS_COLOURS.get(s, OKABE_ITO["grey"]), label=s.capitalize()) for s in seen
        ],
        loc="lower right",
        fontsize=7,
        frameon=False,
    )
    ax.set_title(title, loc="left", fontsize=9)
    return Chart(fig, alt, rows, name)


def upset_chart(combos: pd.DataFrame, sets: list[str], *, title: str, alt: str, name: str) -> Chart:
    """UpSet chart (Lex et al. 2014): one bar per exact combination of sets (its count), with
    a dot matrix underneath marking the sets in it. ``combos``: ``count`` and one boolean
    column per set, in the order to draw; hidden counts must already be left out."""
    style()
    n = len(combos)
    fig = plt.figure(figsize=(6.5, 1.6 + 0.22 * len(sets) + 1.6))
    gs = fig.add_gridspec(2, 1, height_ratios=[2.2, 0.22 * len(sets) + 0.3], hspace=0.05)
    ax = fig.add_subplot(gs[0])
    dots = fig.add_subplot(gs[1], sharex=ax)
    fig.subplots_adjust(left=0.30, right=0.98, top=0.9, bottom=0.04)
    x = np.arange(n)
    ax.bar(x, combos["count"], color=OKABE_ITO["blue"], width=0.6)
    top = float(combos["count"].max()) if n else 1.0
    for xi, c in zip(x, combos["count"], strict=True):  # upright labels never collide
        ax.text(
            xi, c + 0.02 * top, f"{c:,.0f}", ha="center", va="bottom", fontsize=6.5, rotation=90
        )
    ax.set_ylim(0, 1.3 * top)
    ax.set_ylabel("Incidents (exact combination)", fontsize=7.5)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    fig.suptitle(title, x=0.02, ha="left", fontsize=9)  # over the whole figure: never cut
    for j, s in enumerate(sets):
        y = len(sets) - 1 - j
        on = combos[s].to_numpy(dtype=bool)
        dots.scatter(x[~on], [y] * int((~on).sum()), s=14, color="#dddddd")
        dots.scatter(x[on], [y] * int(on.sum()), s=14, color=OKABE_ITO["black"])
    for xi, row in zip(x, combos[sets].to_numpy(dtype=bool), strict=True):
        ys = [len(sets) - 1 - j for j, v in enumerate(row) if v]
        if len(ys) > 1:
            dots.plot([xi, xi], [min(ys), max(ys)], color=OKABE_ITO["black"], lw=1)
    dots.set_yticks(range(len(sets)), list(reversed(sets)), fontsize=7)
    dots.set_ylim(-0.6, len(sets) - 0.4)
    dots.tick_params(axis="x", bottom=False, labelbottom=False)
    for sp in ("top", "right", "bottom"):
        dots.spines[sp].set_visible(False)
    return Chart(fig, alt, combos, name)


def health_chart(vol: pd.DataFrame, *, title: str, alt: str, name: str) -> Chart:
    """Police and health records by financial year, each indexed to the first year (= 100),
    so sources of different sizes share one axis; ``vol``: ``financial_year`` and one count
    column per source."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    _margins(fig)
    labels = {
        "police": "Police-recorded",
        "ae_attendances": "A&E attendances for assault",
        "admissions": "Hospital admissions for assault",
    }
    colours = [OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["green"]]
    x = np.arange(len(vol))
    for c, col in zip([c for c in vol.columns if c in labels], colours, strict=False):
        v = vol[c].to_numpy(dtype=float)
        if v[0] > 0:
            ax.plot(x, 100 * v / v[0], marker="o", color=col, label=labels[c])
    ax.axhline(100, color="#999999", lw=0.6)
    ax.set_xticks(x, vol["financial_year"])
    ax.set_ylabel(f"Index ({vol['financial_year'].iloc[0]} = 100)")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(title, loc="left")
    return Chart(fig, alt, vol, name)


def forest_chart(frame: pd.DataFrame, *, title: str, xlabel: str, alt: str, name: str) -> Chart:
    """One row per factor: the estimate as a dot and its interval as a line, a reference
    line at 0 (``frame``: ``label``, ``rho``, ``ci_low``, ``ci_high``, ``associated``);
    factors whose interval excludes 0 are drawn in vermillion, the others in grey."""
    style()
    fig, ax = plt.subplots(figsize=(6.5, 1.0 + 0.32 * len(frame)))
    fig.subplots_adjust(left=0.42, right=0.97, top=0.86, bottom=0.22)
    y = np.arange(len(frame))
    colour = np.where(frame["associated"] != "", OKABE_ITO["vermillion"], "#777777")
    ax.hlines(y, frame["ci_low"], frame["ci_high"], colors=colour, lw=2)
    ax.scatter(frame["rho"], y, color=colour, zorder=3, s=22)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, frame["label"])
    ax.invert_yaxis()
    ax.set_xlim(-1, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    return Chart(fig, alt, frame, name)
