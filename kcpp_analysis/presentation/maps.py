"""Static maps for the SIA reports: LSOA and ward choropleths, hotspots, the reference map.

Maps are matplotlib figures drawn from GeoJSON boundaries with shapely, embedded as PNG
like every other chart, so the HTML stays one self-contained file and prints.

Conventions (every map):

- **Classes.** Rates are grouped into ``n_classes`` classes by quantiles of the published
  (unsuppressed) values, rounded to 1 decimal place and de-duplicated
  (:func:`class_breaks`); the breaks are stated in the legend and returned with the map.
  Class ``k`` holds values ``breaks[k] < v <= breaks[k+1]`` (the first class includes its
  lower edge) (:func:`assign_classes`). A sequential colour-blind-safe palette (viridis,
  reversed so darker is higher).
- **Suppression.** An area whose count the disclosure gate hides is drawn with a hatched
  grey "fewer than N" class, never a colour class (a class range times a population would
  narrow the count) and never a number.
- **Outlines.** Optional areas (e.g. persistent hotspots) are outlined in black.
- **Orientation and scale.** North is up; the map is drawn in longitude/latitude with the
  aspect ratio ``1/cos(latitude)``, which keeps shapes true at Kirklees' latitude to within
  about 1%. No scale bar is drawn (the legend is scale-free: classes, not distances).
- **Credit.** The boundary source is credited on the map and alt text describes what the
  map shows in words.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from kcpp_analysis.presentation.charts import OKABE_ITO, Chart, style

BOUNDARY_CREDIT = (
    "Boundaries: ONS Open Geography Portal (OGL v3.0); contains OS data "
    "\u00a9 Crown copyright and database right 2025."
)
SUPPRESSED_COLOUR = "#d9d9d9"


def class_breaks(values, n_classes: int = 5, decimals: int = 1) -> list[float]:
    """Quantile class breaks (``n_classes + 1`` edges, fewer when values tie), rounded.

    Examples
    --------
    >>> class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5)
    [1.0, 2.8, 4.6, 6.4, 8.2, 10.0]
    >>> class_breaks([2, 2, 2], 4)
    [2.0, 2.0]
    """
    v = np.asarray(pd.Series(values).dropna(), dtype=float)
    if v.size == 0:
        return []
    q = np.quantile(v, np.linspace(0, 1, n_classes + 1))
    edges = sorted(set(np.round(q, decimals).tolist()))
    if len(edges) == 1:
        edges = [edges[0], edges[0]]
    return [float(e) for e in edges]


def assign_classes(values, breaks: list[float]) -> np.ndarray:
    """Class index (0-based) of each value: ``breaks[k] < v <= breaks[k+1]``, the first
    class including its lower edge; NaN gives -1.

    Examples
    --------
    >>> assign_classes([1.0, 2.8, 2.9, 10.0, float("nan")], [1.0, 2.8, 4.6, 10.0]).tolist()
    [0, 0, 1, 2, -1]
    """
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=int)
    if len(breaks) < 2:
        return out
    inner = np.asarray(breaks[1:-1], dtype=float)
    k = np.searchsorted(inner, v, side="left")
    ok = ~np.isnan(v)
    out[ok] = k[ok]
    return out


def integer_labels(breaks: list[float]) -> list[str]:
    """Legend labels of :func:`assign_classes`' classes for whole-number values: the
    integers each class holds (``breaks[k] < v <= breaks[k+1]``, the first class from its
    lower edge); empty for a class that holds none.

    Examples
    --------
    >>> integer_labels([3.0, 4.0, 6.7, 8.0])
    ['3 to 4', '5 to 6', '7 to 8']
    >>> integer_labels([3.0, 3.0])
    ['3']
    >>> integer_labels([3.0, 3.5, 4.0])
    ['3', '4']
    """
    out = []
    for k in range(len(breaks) - 1):
        lo = int(np.ceil(breaks[k])) if k == 0 else int(np.floor(breaks[k])) + 1
        hi = int(np.floor(breaks[k + 1]))
        out.append("" if hi < lo else f"{lo:,}" if hi == lo else f"{lo:,} to {hi:,}")
    return out


def _palette(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["viridis_r"]
    return [cmap(0.08 + 0.84 * i / max(n - 1, 1)) for i in range(n)]


_PATHS: dict = {}


def _path(geom):
    """One matplotlib Path for a (multi)polygon with its holes (cached per geometry)."""
    from matplotlib.path import Path as MPath

    key = id(geom)
    hit = _PATHS.get(key)
    if hit is not None and hit[0] is geom:
        return hit[1]
    verts, codes = [], []
    for p in getattr(geom, "geoms", [geom]):
        for r in [p.exterior, *p.interiors]:
            xy = np.asarray(r.coords)
            verts.append(xy)
            c = np.full(len(xy), MPath.LINETO)
            c[0], c[-1] = MPath.MOVETO, MPath.CLOSEPOLY
            codes.append(c)
    path = MPath(np.concatenate(verts), np.concatenate(codes))
    _PATHS[key] = (geom, path)
    return path


def _draw_many(ax, geoms: list, facecolors, **kw) -> None:
    """Many polygons as one collection (much faster than a patch each)."""
    from matplotlib.collections import PathCollection

    if not geoms:
        return
    coll = PathCollection([_path(g) for g in geoms], facecolors=facecolors, **kw)
    coll.set_transform(ax.transData)
    ax.add_collection(coll)


def _frame(ax, geoms: dict) -> None:
    from shapely import total_bounds

    minx, miny, maxx, maxy = total_bounds(list(geoms.values()))
    pad = 0.02 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    ax.annotate(
        "N",
        xy=(0.97, 0.97),
        xytext=(0.97, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
    )


def choropleth(
    geoms: dict,
    values: pd.Series,
    *,
    title: str,
    legend_title: str,
    alt: str,
    suppressed: pd.Series | None = None,
    threshold: int = 5,
    outline: list | None = None,
    outline_label: str = "persistent hotspot",
    overlay: dict | None = None,
    n_classes: int = 5,
    name: str = "map",
    breaks: list[float] | None = None,
    suppressed_label: str | None = None,
    integer: bool = False,
) -> Chart:
    """Choropleth of ``values`` (indexed by area code) over ``geoms``.

    ``suppressed`` (bool, by code) areas are hatched and labelled ``suppressed_label``
    (default "fewer than ``threshold``"); ``breaks`` are the class edges (default: quantile
    breaks of the values shown, :func:`class_breaks`);
    ``integer`` values are whole numbers, labelled as the integers each class holds;
    ``outline`` codes are outlined; ``overlay`` (code -> geometry, e.g. wards) is drawn as
    thin boundaries on top. Returns a :class:`~kcpp_analysis.presentation.charts.Chart` whose ``data``
    holds ``code``, ``class`` (1-based; 0 = suppressed, -1 = no value), the class range as
    text and whether outlined; no rate or count leaves through the map's data.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    style()
    codes = list(geoms)
    v = values.reindex(codes).astype(float)
    hide = (
        suppressed.reindex(codes).fillna(False).astype(bool)
        if suppressed is not None
        else pd.Series(False, index=codes)
    )
    shown = v.where(~hide)
    breaks = class_breaks(shown, n_classes) if breaks is None else list(breaks)
    hidden_label = suppressed_label or f"fewer than {threshold}"
    cls = pd.Series(assign_classes(shown.to_numpy(), breaks), index=codes)
    n = max(len(breaks) - 1, 1)
    colours = _palette(n)
    outline = set(outline or [])
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    fig.subplots_adjust(left=0.01, right=0.70, top=0.92, bottom=0.06)
    shown_codes = [c for c in codes if not hide[c] and cls[c] >= 0]
    _draw_many(
        ax,
        [geoms[c] for c in shown_codes],
        [colours[cls[c]] for c in shown_codes],
        edgecolors="white",
        linewidths=0.3,
    )
    empty = [c for c in codes if not hide[c] and cls[c] < 0]
    _draw_many(ax, [geoms[c] for c in empty], "white", edgecolors="#bbbbbb", linewidths=0.3)
    _draw_many(
        ax,
        [geoms[c] for c in codes if hide[c]],
        SUPPRESSED_COLOUR,
        edgecolors="white",
        linewidths=0.3,
        hatch="////",
    )
    _draw_many(ax, list((overlay or {}).values()), "none", edgecolors="#444444", linewidths=0.7)
    _draw_many(
        ax, [geoms[c] for c in codes if c in outline], "none", edgecolors="black", linewidths=1.8
    )
    _frame(ax, {**geoms, **(overlay or {})})
    if integer and len(breaks) > 1:
        labels = integer_labels(breaks)
    else:
        labels = [
            f"{breaks[i]:,.1f} to {breaks[i + 1]:,.1f}" if len(breaks) > 1 else "" for i in range(n)
        ]
    handles = [
        Patch(facecolor=colours[i], label=labels[i])
        for i in range(n)
        if len(breaks) > 1 and labels[i]
    ]
    if hide.any():
        handles.append(Patch(facecolor=SUPPRESSED_COLOUR, hatch="////", label=hidden_label))
    if outline & set(codes):
        handles.append(Patch(facecolor="none", edgecolor="black", lw=1.8, label=outline_label))
    ax.legend(
        handles=handles,
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(1.0, 0.95),
        frameon=False,
        fontsize=8,
        title_fontsize=8,
    )
    ax.set_title(title, loc="left", fontsize=10)
    fig.text(0.01, 0.015, BOUNDARY_CREDIT, fontsize=6, color=OKABE_ITO["black"])
    data = pd.DataFrame(
        {
            "code": codes,
            "class": np.where(hide.to_numpy(), 0, np.where(cls.to_numpy() >= 0, cls + 1, -1)),
            "class_range": [
                hidden_label if hide[c] else (labels[cls[c]] if cls[c] >= 0 and labels else "")
                for c in codes
            ],
            "outlined": [c in outline for c in codes],
        }
    )
    return Chart(fig, alt, data, name)


def reference_map(
    ward_geoms: dict, ward_place: pd.DataFrame, *, title: str, alt: str, name: str = "places"
) -> Chart:
    """Wards coloured by place and labelled (``ward_place``: ``ward_code``, ``ward_name``,
    ``place``)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    style()
    wp = ward_place.drop_duplicates("ward_code").set_index("ward_code")
    places = sorted(wp["place"].unique())
    pal = [OKABE_ITO[k] for k in ("sky", "orange", "green", "purple", "yellow", "vermillion")]
    col = {p: pal[i % len(pal)] for i, p in enumerate(places)}
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    fig.subplots_adjust(left=0.01, right=0.74, top=0.92, bottom=0.06)
    _draw_many(
        ax,
        list(ward_geoms.values()),
        [col.get(wp["place"].get(code), "white") for code in ward_geoms],
        edgecolors="white",
        linewidths=1,
    )
    for code, g in ward_geoms.items():
        pt = g.representative_point()
        label = textwrap.fill(str(wp["ward_name"].get(code, code)), 13)
        ax.text(pt.x, pt.y, label, fontsize=5.5, ha="center", va="center", linespacing=0.9)
    _frame(ax, ward_geoms)
    ax.legend(
        handles=[Patch(facecolor=col[p], label=p) for p in places],
        title="Place",
        loc="upper left",
        bbox_to_anchor=(1.0, 0.95),
        frameon=False,
        fontsize=8,
        title_fontsize=8,
    )
    ax.set_title(title, loc="left", fontsize=10)
    fig.text(0.01, 0.015, BOUNDARY_CREDIT, fontsize=6)
    data = wp.reset_index()[["ward_code", "ward_name", "place"]]
    return Chart(fig, alt, data, name)
