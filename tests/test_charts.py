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
