import base64
import html as html_lib
import re

import pandas as pd

from kcpp_analysis.presentation import charts
from kcpp_analysis.report.results import Figure


def test_chart_html_is_self_contained_png_with_alt_text():
    d = pd.DataFrame(
        {
            "quantile": range(1, 11),
            "rate": range(10, 0, -1),
            "ci_low": range(9, -1, -1),
            "ci_high": range(11, 1, -1),
        }
    )
    ch = charts.decile_chart(
        d,
        title="Rates fall with deprivation",
        ylabel="per 1,000",
        alt='Bar chart of rates by decile; "quoted" & <escaped>',
    )
    html = Figure.from_chart(ch)._repr_html_()
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(src)[:8] == b"\x89PNG\r\n\x1a\n"
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert html_lib.unescape(alt) == 'Bar chart of rates by decile; "quoted" & <escaped>'
    assert "<escaped>" not in html
    assert "http" not in html  # nothing fetched from elsewhere


def test_palette_is_okabe_ito():
    assert charts.OKABE_ITO["vermillion"] == "#D55E00" and charts.OKABE_ITO["blue"] == "#0072B2"


def _pixels(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_published_png_has_savefigs_pixels_in_fewer_bytes():
    """A chart is published as an RGB PNG when it is opaque: the same pixels, at the same
    size, as matplotlib's own ``savefig`` PNG, and smaller; a figure with transparent
    pixels keeps its alpha channel."""
    import io

    import numpy as np

    d = pd.DataFrame({"quantile": range(1, 11), "rate": range(10, 0, -1)})
    d["ci_low"], d["ci_high"] = d["rate"] - 1, d["rate"] + 1
    ch = charts.decile_chart(d, title="Rates", ylabel="per 1,000", alt="Bar chart of rates")
    ref = io.BytesIO()
    ch.figure.savefig(ref, format="png")
    png = base64.b64decode(Figure.from_chart(ch).png)
    assert png[25] == 2  # colour type 2: RGB, no alpha
    assert np.array_equal(_pixels(png), _pixels(ref.getvalue()))
    assert len(png) < len(ref.getvalue())

    see_through = charts.decile_chart(d, title="Rates", ylabel="per 1,000", alt="Bar chart")
    see_through.figure.patch.set_alpha(0.0)
    png = base64.b64decode(Figure.from_chart(see_through).png)
    assert png[25] == 6 and (_pixels(png)[..., 3] < 255).any()  # RGBA kept
