"""Maps: class assignment, suppression hatching and what a map publishes."""

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.presentation.maps import (
    SUPPRESSED_COLOUR,
    assign_classes,
    choropleth,
    class_breaks,
)


def _squares(n=6):
    """n unit squares in a row (lon/lat-ish coordinates near Kirklees)."""
    from shapely.geometry import box

    return {f"A{i}": box(-1.8 + 0.01 * i, 53.6, -1.8 + 0.01 * (i + 1), 53.61) for i in range(n)}


def test_class_breaks_are_quantiles_and_assignment_is_right_closed():
    v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    b = class_breaks(v, 5)
    assert b == pytest.approx(np.round(np.quantile(v, np.linspace(0, 1, 6)), 1).tolist())
    # an edge value belongs to the class below it; the minimum to the first class
    assert assign_classes([1.0, 2.8, 2.81, 4.6, 10.0], b).tolist() == [0, 0, 1, 1, 4]


def test_choropleth_hatches_suppressed_areas_and_publishes_no_rate():
    geoms = _squares()
    rates = pd.Series([0.5, 1.0, 2.0, 3.0, 4.0, 99.0], index=list(geoms))
    hidden = pd.Series([False, False, False, False, False, True], index=list(geoms))
    c = choropleth(
        geoms, rates, title="t", legend_title="per 1,000", alt="a", suppressed=hidden, n_classes=2
    )
    d = c.data.set_index("code")
    # the suppressed area has class 0 and the "fewer than" label, and its rate (99, far
    # above the rest) does not stretch the breaks of the published areas
    assert d.loc["A5", "class"] == 0 and d.loc["A5", "class_range"] == "fewer than 5"
    # breaks 0.5, 2.0, 4.0 (median 2.0): 2.0 sits in the lower class, 3.0 in the upper
    assert d.loc[["A0", "A1", "A2", "A3"], "class"].tolist() == [1, 1, 1, 2]
    assert d.loc["A4", "class_range"] == "2.0 to 4.0"
    assert set(c.data.columns) == {"code", "class", "class_range", "outlined"}
    # the hidden area is drawn grey with a hatch, in a shape set of its own; no coloured
    # shape for it
    ax = c.figure.axes[0]
    hatched = [p for p in ax.collections if p.get_hatch()]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 1
    assert np.allclose(hatched[0].get_facecolor()[0][:3], [0xD9 / 255] * 3)
    shapes = sum(len(p.get_paths()) for p in ax.collections)
    assert shapes == len(geoms)  # every area once: five coloured, one hatched
    assert SUPPRESSED_COLOUR == "#d9d9d9"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["0.5 to 2.0", "2.0 to 4.0", "fewer than 5"]
    import matplotlib.pyplot as plt

    plt.close(c.figure)


def test_outlined_areas_are_flagged_and_drawn_on_top():
    geoms = _squares(3)
    c = choropleth(
        geoms,
        pd.Series([1.0, 2.0, 3.0], index=list(geoms)),
        title="t",
        legend_title="x",
        alt="a",
        outline=["A2"],
        n_classes=3,
    )
    assert c.data.set_index("code")["outlined"].tolist() == [False, False, True]
    ax = c.figure.axes[0]
    top = ax.collections[-1]  # drawn last, so on top
    assert len(top.get_paths()) == 1 and top.get_linewidth()[0] == pytest.approx(1.8)
    import matplotlib.pyplot as plt

    plt.close(c.figure)
