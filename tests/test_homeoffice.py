"""The Home Office CSP table reader on small files built from the documented layout."""

import pytest

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.sources.homeoffice import COLUMNS, read_home_office_csp

HEAD = ",".join(COLUMNS) + "\n"


def _row(fy="2023/24", q="1", csp="Kirklees", group="Violence against the person", n="10"):
    return (
        f"{fy},{q},West Yorkshire,{csp},Assault with injury,{group},Violence with injury,8N,{n}\n"
    )


def test_two_sheets_blank_rows_and_unassigned(tmp_path):
    a = tmp_path / "2023-24.csv"
    a.write_text(
        HEAD
        + _row(n="10")
        + _row(q="2", n="15")
        + ",,,,,,,,\n"  # a blank row
        + _row(csp="Unassigned", n="3")
        + _row(csp="Leeds", n='"1,200"')
    )
    b = tmp_path / "2024-25.csv"
    b.write_text(HEAD + _row(fy="2024/25", n="30") + _row(fy="2024/25", group="Robbery", n="4"))
    t, q = read_home_office_csp([a, b])
    k = t[(t.csp == "Kirklees")].set_index(["financial_year", "offence_group"])["count"]
    assert k[("2023/24", "Violence against the person")] == 25  # two quarters summed
    assert k[("2024/25", "Violence against the person")] == 30 and k[("2024/25", "Robbery")] == 4
    assert t[t.csp == "Leeds"]["count"].item() == 1200
    assert t[t.csp == "Unassigned"]["count"].item() == 3  # kept apart, never in a CSP
    assert q == {"files": 2, "rows_read": 6, "blank_rows": 1, "unassigned_rows": 1}


@pytest.mark.parametrize(
    "row,match",
    [
        (_row(fy="2023-24"), r"column 'Financial Year' line 3: '2023-24'"),
        (_row(q="5"), r"column 'Financial Quarter' line 3: '5' is not 1-4"),
        (_row(n="-2"), r"column 'Offence Count' line 3: '-2'"),
        (_row(n="lots"), r"column 'Offence Count' line 3: 'lots'"),
        (_row().rstrip("\n") + ",extra\n", r"line 3: row has the wrong number of columns"),
    ],
)
def test_bad_rows_are_named_by_file_column_and_line(tmp_path, row, match):
    p = tmp_path / "sheet.csv"
    p.write_text(HEAD + _row() + row)
    with pytest.raises(SourceError, match=r"sheet.csv: " + match):
        read_home_office_csp([p])


def test_missing_column_is_named(tmp_path):
    p = tmp_path / "sheet.csv"
    p.write_text(HEAD.replace("CSP Name", "Partnership") + _row())
    with pytest.raises(SourceError, match=r"sheet.csv: missing column\(s\) \['CSP Name'\]"):
        read_home_office_csp([p])


def test_chunked_reading_gives_the_same_totals(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text(HEAD + "".join(_row(q=str(1 + i % 4), n=str(i % 7)) for i in range(1000)))
    a, _ = read_home_office_csp([p], chunksize=37)
    b, _ = read_home_office_csp([p], chunksize=100_000)
    assert a.equals(b) and a["count"].sum() == sum(i % 7 for i in range(1000))


@pytest.mark.slow
def test_home_office_source_reaches_the_report(tmp_path, params, monkeypatch):
    """A sources file with a Home Office CSP export: prepare keeps it (hashed, in the
    fingerprint), and the serious-violence section compares Kirklees with its comparator
    partnerships, placing a planted high rate above the funnel limits."""
    import numpy as np
    import yaml

    from kcpp_analysis.analysis.benchmark import nearest_neighbours
    from kcpp_analysis.data.dataset import load_dataset
    from kcpp_analysis.data.national import load_benchmark
    from kcpp_analysis.data.prepare.sources import prepare_from_sources
    from kcpp_analysis.report.context import ReportContext
    from kcpp_analysis.report.sections import compute

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e")
    la, _ = load_benchmark()
    me = la[la.ltla24_code == "E08000034"].iloc[0]
    nn = nearest_neighbours(la, "E08000034")
    force = la[(la.pfa24_code == me.pfa24_code)]
    names = sorted(set(nn.csp24_name) | set(force.csp24_name))
    pop = dict(zip(la.csp24_name, la.population, strict=False))
    rng = np.random.default_rng(1)
    lines = [",".join(COLUMNS)]
    for fy in ("2022/23", "2023/24", "2024/25"):
        for n in names:
            rate = 40.0 if n == "Kirklees" else 20.0  # Kirklees planted at twice the rate
            count = int(rng.poisson(rate * pop[n] / 1000 / 4))
            for q in "1234":
                lines.append(f"{fy},{q},X,{n},Assault,Violence against the person,VWI,8N,{count}")
    csv = tmp_path / "ho.csv"
    csv.write_text("\n".join(lines) + "\n")
    src = tmp_path / "sources.yaml"
    src.write_text(
        yaml.safe_dump(
            {
                "coverage": {"first_year": "2022/23", "last_year": "2025/26"},
                "sources": [{"kind": "home_office_csp", "path": str(csv)}],
            }
        )
    )
    out = prepare_from_sources(src, tmp_path / "prep", synthesise_missing=True, params=params)
    ds = load_dataset(out)
    assert len(ds.extras["csp_counts"]) == 3 * len(names)
    import shutil

    from kcpp_analysis.config.params import load_params

    root = tmp_path / "params"
    shutil.copytree(params.root, root)
    (root / "crime_severity_weights.csv").write_text("offence_code,weight\n8N,100\n")
    p2 = load_params(root)
    ctx = ReportContext(params=p2, dataset=ds, year="2025/26", output_dir=tmp_path / "o")
    pr = p2.priority("serious_violence")
    r = compute("csp_trend", ctx, pr)
    assert "above the 99.8% funnel limits" in r.sentences[0]
    assert "Crime Severity Score" in r.sentences[0]
    s = r.tables[0].data
    assert list(s["financial_year"]) == ["2022/23", "2023/24", "2024/25"]
    # every row is offence code 8N with weight 100: the harm rate is 100 x the rate
    assert s["harm_per_1000"].astype(float).to_numpy() == pytest.approx(
        100 * s["rate"].astype(float).to_numpy(), rel=1e-6
    )
    # a tampered extra table is detected on load
    (out / "csp_counts.parquet").write_bytes(b"x")
    with pytest.raises(Exception, match="does not match the hash"):
        load_dataset(out)


def test_severity_weights_give_a_harm_rate(tmp_path, params):
    """With params/crime_severity_weights.csv, harm = sum(count x weight) per 1,000 residents:
    worked by hand for a two-code table; the file is part of the parameters (hashed)."""
    import shutil

    import pandas as pd

    from kcpp_analysis.config.params import load_params
    from kcpp_analysis.core.errors import ConfigError

    root = tmp_path / "params"
    shutil.copytree(params.root, root)
    (root / "crime_severity_weights.csv").write_text("offence_code,weight\n8N,100\n105A,2000\n")
    p2 = load_params(root)
    w = p2.severity_weights
    assert "crime_severity_weights.csv" in p2.hashes
    counts = pd.DataFrame({"offence_code": ["8N", "105A", "99"], "count": [10, 2, 5]})
    harm = (counts["count"] * counts["offence_code"].map(w).fillna(0)).sum()
    assert harm == 10 * 100 + 2 * 2000  # an unweighted code adds nothing
    (root / "crime_severity_weights.csv").write_text("offence_code,weight\n8N,-1\n")
    with pytest.raises(ConfigError, match=r"column 'weight' line 2"):
        load_params(root)
