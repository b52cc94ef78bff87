import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcpp_analysis.core.errors import DataValidationError
from kcpp_analysis.data import schemas
from kcpp_analysis.data.dataset import Dataset, empty_table, normalise_table, validate_dataset


def _incidents(n=3, **over):
    df = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(n)],
            "date": pd.to_datetime(["2021-05-01"] * n),
            "date_precision": ["day"] * n,
            "source": ["police_crime"] * n,
            "category": ["robbery"] * n,
            "lsoa_code": ["E01011004"] * n,
            "victim_id": [None] * n,
            "domestic_abuse": [False] * n,
            "hate_crime": [False] * n,
            "vawg": [False] * n,
            "knife_crime": [False] * n,
            "drug_related": [False] * n,
            "alcohol_related": [False] * n,
            "hate_strand": [None] * n,
            "severity": [None] * n,
        }
    )
    for k, v in over.items():
        df[k] = v
    return normalise_table(df, "incidents")


def _areas():
    return normalise_table(
        pd.DataFrame(
            {
                "lsoa_code": ["E01011004"],
                "lsoa_name": ["Kirklees 040A"],
                "ward_code": ["E05001390"],
                "ward_name": ["Batley East"],
                "place": ["Batley & Spen"],
                "population": [1355],
                "imd_score": [52.755],
                "imd_rank": [1757],
                "imd_decile": [1],
                **{d: [0.1] for d in schemas.DOMAIN_SCORES},
            }
        ),
        "areas",
    )


def _validate_inc(df, params):
    schemas.validate_table(df, "incidents", schemas.incidents_schema(list(params.categories)))


def test_good_rows_pass(params):
    _validate_inc(_incidents(), params)
    schemas.validate_table(_areas(), "areas", schemas.areas_schema(params.sia.places))


def test_duplicate_incident_id_names_column_and_rows(params):
    df = _incidents(incident_id=["A", "B", "A"])
    with pytest.raises(DataValidationError) as ei:
        _validate_inc(df, params)
    msg = str(ei.value)
    assert "table 'incidents'" in msg and "column 'incident_id'" in msg
    assert "row 0: 'A'" in msg and "row 2: 'A'" in msg


def test_unknown_category_names_value_and_row(params):
    df = _incidents(category=["robbery", "robbbery", "robbery"])
    with pytest.raises(
        DataValidationError, match=r"column 'category' failed isin.*row 1: 'robbbery'"
    ):
        _validate_inc(df, params)


def test_bad_lsoa_code_pattern(params):
    df = _incidents(lsoa_code=["E01011004", "W01000001", "E0101100"])
    with pytest.raises(DataValidationError) as ei:
        _validate_inc(df, params)
    # rows are named; the values are not echoed (a code-shaped value may be a reference)
    assert "row 1: a value" in str(ei.value) and "row 2: a value" in str(ei.value)
    assert "W01000001" not in str(ei.value) and "E0101100" not in str(ei.value)
    assert ei.value.failures[0]["column"] == "lsoa_code"


def test_missing_column_is_named(params):
    df = _incidents().drop(columns=["source"])
    with pytest.raises(DataValidationError, match="column 'source' is missing"):
        _validate_inc(df, params)


def test_imd_decile_out_of_range(params):
    a = _areas()
    a.loc[0, "imd_decile"] = 11
    with pytest.raises(
        DataValidationError, match=r"column 'imd_decile' failed in_range.*row 0: 11"
    ):
        schemas.validate_table(a, "areas", schemas.areas_schema(params.sia.places))


def test_survey_weight_must_be_positive():
    s = normalise_table(
        pd.DataFrame(
            {
                "survey": ["r", "r"],
                "wave": ["2021/22", "2021/22"],
                "respondent_id": ["1", "2"],
                "place": ["Rural", "Rural"],
                "weight": [1.0, 0.0],
                "question": ["q", "q"],
                "positive": [True, False],
            }
        ),
        "survey",
    )
    with pytest.raises(
        DataValidationError, match=r"column 'weight' failed greater_than\(0\).*row 1"
    ):
        schemas.validate_table(s, "survey", schemas.survey_schema())


def test_incident_lsoa_missing_from_areas_is_reported(params):
    inc = _incidents(lsoa_code=["E01011004", "E01099999", "E01011004"])
    ds = Dataset(
        incidents=inc,
        areas=_areas(),
        survey=empty_table("survey"),
        indicators=empty_table("indicators"),
    )
    with pytest.raises(
        DataValidationError, match=r"missing from table 'areas'.*row 1: 'E01099999'"
    ):
        validate_dataset(ds, params)


def test_dates_outside_declared_coverage(params):
    inc = _incidents(date=pd.to_datetime(["2021-05-01", "2016-01-01", "2021-05-02"]))
    ds = Dataset(
        incidents=inc,
        areas=_areas(),
        survey=empty_table("survey"),
        indicators=empty_table("indicators"),
        meta={"coverage": {"start": "2017-04-01", "end": "2026-03-31"}},
    )
    with pytest.raises(
        DataValidationError, match=r"outside the declared coverage.*row 1: 2016-01-01"
    ):
        validate_dataset(ds, params)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.sampled_from(["a", "b", "c", "dd", "", "e" * 64]), max_size=40),
    keep=st.sampled_from(["first", "last", False]),
)
def test_duplicated_rows_agrees_with_pandas(values, keep):
    s = pd.Series(values, dtype="str")
    assert schemas.duplicated_rows(s, keep=keep).tolist() == s.duplicated(keep=keep).tolist()


def test_categorical_columns_are_stored_as_the_same_strings(params):
    df = _incidents(n=4, category=["robbery", "robbery", "burglary_all", "robbery"])
    cat = df.assign(
        category=df["category"].astype("category"),
        lsoa_code=pd.Categorical(["E01011004", None, "E01011004", "E01011004"]),
    )
    a, b = (
        normalise_table(df.assign(lsoa_code=cat["lsoa_code"].astype(object)), "incidents"),
        (normalise_table(cat, "incidents")),
    )
    for c in ("category", "lsoa_code"):
        assert b[c].dtype == a[c].dtype == "str"
        assert b[c].isna().tolist() == a[c].isna().tolist()
        assert b[c].dropna().tolist() == a[c].dropna().tolist()


def _outcome(df, params):
    try:
        _validate_inc(df, params)
    except DataValidationError as e:
        return sorted((f["column"], f["check"], f["row"]) for f in e.failures)
    return []


@settings(max_examples=60, deadline=None)
@given(
    cats=st.lists(st.sampled_from(["robbery", "burglary_all", "not_a_category"]), min_size=1),
    lsoas=st.lists(st.sampled_from(["E01011004", "e01011004", None]), min_size=1),
    sources=st.lists(st.sampled_from(["police_crime", "fire", "elsewhere"]), min_size=1),
    severities=st.lists(st.sampled_from([None, "low", "huge"]), min_size=1),
    n=st.integers(1, 30),
)
def test_validation_on_distinct_values_agrees_with_the_full_frame(
    cats, lsoas, sources, severities, n, params
):
    """Large frames are validated on their distinct values: the verdict and the failing
    rows named must be the full frame's, whatever mix of good and bad values it holds."""

    def cycle(xs):
        return [xs[i % len(xs)] for i in range(n)]

    df = _incidents(
        n=n,
        category=cycle(cats),
        lsoa_code=cycle(lsoas),
        source=cycle(sources),
        severity=cycle(severities),
    )
    saved = schemas.DISTINCT_ABOVE
    try:
        schemas.DISTINCT_ABOVE = 10**9
        full = _outcome(df, params)
        schemas.DISTINCT_ABOVE = 0
        schema = schemas.incidents_schema(list(params.categories))
        assert schemas._distinct_frame(df, schema) is not None
        assert _outcome(df, params) == full
    finally:
        schemas.DISTINCT_ABOVE = saved


def test_distinct_frame_keeps_dtypes_and_missing_values(params):
    df = _incidents(n=5, severity=[None, "low", None, "low", "low"])
    small = schemas._distinct_frame(
        pd.concat([df] * 30_000, ignore_index=True),
        schemas.incidents_schema(list(params.categories)),
    )
    assert list(small.dtypes) == list(df.dtypes)
    assert len(small) == 2 and small["severity"].isna().sum() == 1
    assert small["incident_id"].notna().all()  # no checks: one value, no missing one


@pytest.mark.parametrize("rows", [3, 150_000])
def test_categorical_text_columns_validate_as_their_values(params, rows):
    """``kcpp prepare`` validates categorical columns (small frames in full, large ones on
    distinct values): good values pass, an unknown category is named with its row."""
    df = pd.concat([_incidents(n=3)] * (rows // 3), ignore_index=True)
    df["incident_id"] = pd.Series([f"I{i}" for i in range(len(df))], dtype="str")
    df["category"] = df["category"].astype("category")
    df["lsoa_code"] = pd.Categorical(df["lsoa_code"], categories=["E01011004", "E0101100X"])
    _validate_inc(df, params)  # unused categories are not values
    df["category"] = df["category"].cat.add_categories(["not_a_category"])
    df.loc[rows - 2, "category"] = "not_a_category"
    with pytest.raises(DataValidationError, match=rf"row {rows - 2}: 'not_a_category'"):
        _validate_inc(df, params)
