import hashlib
import json

import pytest

from kcpp_analysis.core.errors import DataValidationError, KcppError
from kcpp_analysis.data.dataset import TABLES, load_dataset, write_dataset


def test_prepared_dataset_round_trips(demo_dir, demo):
    ds = load_dataset(demo_dir)
    assert len(ds.incidents) == len(demo.incidents)
    assert ds.synthetic
    meta = json.loads((demo_dir / "dataset.json").read_text())
    for t in TABLES:
        f = demo_dir / f"{t}.parquet"
        assert meta["tables"][t]["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
        assert meta["tables"][t]["rows"] == len(getattr(ds, t))


def test_tables_are_read_as_pandas_reads_them_in_one_chunk(demo_dir, tmp_path):
    """Each table of the prepared demo, and a file of several row groups with missing
    values, a category and an index, reads exactly as ``pd.read_parquet`` reads it (values,
    dtypes, index), with every Arrow-backed column in one chunk."""
    import pandas as pd

    from kcpp_analysis.data.dataset import read_parquet_whole

    odd = pd.DataFrame(
        {
            "s": ["a", None, "c", "d"] * 50,
            "c": pd.Categorical(["x", "y", None, "x"] * 50),
            "n": [1.5, None, 3.0, 4.0] * 50,
            "t": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01"] * 50),
        },
        index=pd.Index(range(1000, 1200), name="row"),
    )
    odd.to_parquet(tmp_path / "odd.parquet", row_group_size=30)
    files = [demo_dir / f"{t}.parquet" for t in TABLES] + [tmp_path / "odd.parquet"]
    for f in files:
        ours, theirs = read_parquet_whole(f), pd.read_parquet(f)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        for c in ours.columns:
            if isinstance(ours[c].array, pd.arrays.ArrowStringArray):
                assert ours[c].array.__arrow_array__().num_chunks == 1, (f.name, c)
    assert theirs["s"].array.__arrow_array__().num_chunks > 1  # the file does have several groups


def test_changed_table_is_detected(demo_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    with open(copy / "indicators.parquet", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(KcppError, match="does not match the hash"):
        load_dataset(copy)


def test_not_a_dataset(tmp_path):
    with pytest.raises(KcppError, match="no dataset.json"):
        load_dataset(tmp_path)


def test_failed_write_leaves_previous_dataset_untouched(demo, demo_dir, tmp_path, params):
    import dataclasses
    import shutil

    target = tmp_path / "ds"
    shutil.copytree(demo_dir, target)
    before = (target / "dataset.json").read_text()
    bad_inc = demo.incidents.copy()
    bad_inc.loc[5, "category"] = "not_a_category"
    bad = dataclasses.replace(demo, incidents=bad_inc)
    with pytest.raises(DataValidationError, match="row 5: 'not_a_category'"):
        write_dataset(bad, target, params=params)
    assert (target / "dataset.json").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds.tmp")]


def test_parquet_bytes_do_not_depend_on_how_the_frame_was_built(tmp_path):
    """Same values, built as one chunk or as many (filters, concat): same SHA-256.

    60,000 distinct 64-character ids overflow parquet's 1 MB dictionary page, where the
    encoding depends on the chunk layout (``DataFrame.to_parquet`` gives other bytes).
    """
    import pandas as pd

    from kcpp_analysis.data.dataset import _to_parquet

    n = 60_000
    ids = pd.Series([f"{i:064x}" for i in range(n)], dtype="str")
    one = pd.DataFrame({"incident_id": ids, "n": range(n)})
    parts = pd.concat([one.iloc[i : i + 7001] for i in range(0, n, 7001)], ignore_index=True)
    _to_parquet(one, tmp_path / "a.parquet")
    _to_parquet(parts, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_parquet_bytes_are_the_same_for_text_held_as_strings_or_categories(tmp_path):
    """A text column written from strings, or from a categorical with its categories in
    another order and unused ones, gives the same bytes, and reads back as strings."""
    import numpy as np
    import pandas as pd

    from kcpp_analysis.data.dataset import _to_parquet

    rng = np.random.default_rng(3)
    vals = rng.choice(["robbery", "burglary_all", "drugs", None], 200_000)
    text = pd.Series(vals, dtype="str")
    cat = pd.Series(
        pd.Categorical(vals, categories=["zzz_unused", "drugs", "robbery", "burglary_all"])
    )
    ids = pd.Series([f"I{i}" for i in range(len(vals))], dtype="str")
    _to_parquet(pd.DataFrame({"incident_id": ids, "category": text}), tmp_path / "a.parquet")
    _to_parquet(pd.DataFrame({"incident_id": ids, "category": cat}), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "b.parquet")
    assert back["category"].dtype == "str" and back["category"].isna().sum() == text.isna().sum()
    assert back["category"].dropna().tolist() == text.dropna().tolist()
