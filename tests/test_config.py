import pytest
import yaml

from kcpp_analysis.config.params import load_params
from kcpp_analysis.core.errors import ConfigError

PLAN_PRIORITIES = {
    "violence": {
        "serious_violence",
        "domestic_abuse",
        "vawg",
        "modern_slavery",
        "youth_exploitation",
    },
    "asb": {"asb", "neighbourhood_crime"},
    "communities": {
        "hate_crime",
        "community_tensions",
        "prevent",
        "migration",
        "inclusive_communities",
    },
    "risk": {"drugs_alcohol", "road_safety", "water_safety", "reoffending"},
}

# The plan's outcome framework (issue 2): every measure must be in kpis.yaml.
PLAN_BASELINES = {
    "violence_with_injury": 4404,
    "repeat_domestic_abuse": 47.9,
    "nuisance_asb": 5131,
    "fly_tipping": 6017,
    "housing_satisfaction": 68,
    "deliberate_fires": 1054,
    "vehicle_offences": 1971,
    "total_crime": 45418,
    "residential_burglary": 1307,
    "repeat_hate_crime": 25.9,
}
PLAN_THRESHOLDS = {
    "asb_concern": ("at_most", 60),
    "satisfied_local_area": ("at_least", 72),
    "young_people_feel_safe": ("at_least", 75),
    "feel_safe": ("at_least", 80),
    "get_along": ("at_least", 55),
    "ksi_casualties": ("reduce_by_per_year", 10),
}


def test_project_params_load_with_all_16_priorities(params):
    got = {t: {p.id for p in th.priorities} for t, th in params.themes.items()}
    assert got == PLAN_PRIORITIES
    assert len(params.wards) == 23
    assert {w.place for w in params.wards} == set(params.sia.places)


def test_every_plan_kpi_is_defined_with_its_baseline(params):
    kpis = {k.id: k for k in params.kpis}
    assert len(kpis) == 23
    for kid, base in PLAN_BASELINES.items():
        assert kpis[kid].baseline == base, kid
    for kid, (rule, value) in PLAN_THRESHOLDS.items():
        assert (kpis[kid].target.rule, kpis[kid].target.value) == (rule, value), kid


def _edit(path, fn):
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_unknown_key_is_an_error_naming_file_and_key(params_copy):
    _edit(params_copy / "sia.yaml", lambda d: d.update(sia_yeer="2025/26"))
    with pytest.raises(ConfigError, match=r"sia.yaml: key 'sia_yeer': unknown key"):
        load_params(params_copy)


def test_kpi_naming_a_missing_category_is_an_error(params_copy):
    def f(d):
        d["kpis"][0]["select"]["categories"] = ["violence_with_injurry"]

    _edit(params_copy / "kpis.yaml", f)
    with pytest.raises(
        ConfigError,
        match=r"kpis.yaml: key 'kpis.0\(violence_with_injury\).select.categories' names unknown category 'violence_with_injurry'",
    ):
        load_params(params_copy)


def test_bad_financial_year_is_rejected(params_copy):
    _edit(params_copy / "sia.yaml", lambda d: d.update(sia_year="2025/27"))
    with pytest.raises(ConfigError, match="sia_year"):
        load_params(params_copy)


def test_theme_priority_with_unknown_key(params_copy):
    _edit(params_copy / "themes" / "risk.yaml", lambda d: d["priorities"][0].update(colour="red"))
    with pytest.raises(ConfigError, match=r"risk.yaml: key 'priorities.0.colour'"):
        load_params(params_copy)


def test_ward_in_unknown_place_is_an_error(params_copy):
    _edit(params_copy / "wards.yaml", lambda d: d["wards"][0].update(place="Batley"))
    with pytest.raises(ConfigError, match="Batley East.*not one of"):
        load_params(params_copy)


def test_raw_name_mapped_twice_is_an_error(params_copy):
    _edit(
        params_copy / "categories.yaml",
        lambda d: d["categories"]["robbery"]["raw"]["police_uk"].append("Shoplifting"),
    )
    with pytest.raises(ConfigError, match="'Shoplifting'.*both"):
        load_params(params_copy)


def test_ward_place_yaml_matches_shared_assumed_lookup(params, real_dir):
    import pandas as pd

    real = pd.read_csv(real_dir / "kirklees_ward_to_place_ASSUMED.csv")
    ours = {w.ward_code: (w.ward_name, w.place) for w in params.wards}
    assert ours == {r.WD19CD: (r.WD19NM, r.place) for r in real.itertuples()}


@pytest.mark.parametrize(
    "direction,rule,value",
    [("higher", "below_baseline", None), ("lower", "at_least", 5.0), ("higher", "at_most", 5.0)],
)
def test_kpi_target_rule_must_fit_its_direction(params_copy, direction, rule, value):
    def edit(d):
        k = d["kpis"][0]
        k["direction"] = direction
        k["target"] = {"rule": rule, **({"value": value} if value is not None else {})}

    _edit(params_copy / "kpis.yaml", edit)
    with pytest.raises(ConfigError, match=r"does not fit direction"):
        load_params(params_copy)


@pytest.mark.parametrize("baseline", [float("inf"), -5.0])
def test_kpi_baseline_must_be_plausible(params_copy, baseline):
    _edit(params_copy / "kpis.yaml", lambda d: d["kpis"][0].update(baseline=baseline))
    with pytest.raises(ConfigError, match=r"not a plausible value"):
        load_params(params_copy)
