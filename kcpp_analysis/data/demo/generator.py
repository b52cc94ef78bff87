"""Deterministic synthetic Kirklees-like demo dataset (the embedded default).

Nothing here is real record-level data. The generator builds:

* **Geography**: the real one, from the reference extract shipped with the package
  (:mod:`kcpp_analysis.data.reference`): Kirklees' 260 LSOAs (2021 codes), 23 wards (2024) in
  the four places of ``params/wards.yaml``, IoD2025 scores, ranks and deciles, and Census
  2021 usual residents (433,206).
* **Incidents** for financial years 2017/18 to 2025/26 with daily dates: police recorded
  crime by Home Office offence group, police ASB by type, council fly-tipping, fire-service
  deliberate fires and road casualties (fatal / serious / slight). The expected count in
  LSOA ``l``, month ``m`` of category ``c`` is::

      E[c, l, m] = level_c(m) * season_c(month of year) * covid_c(m) * share_c,l(year)
      share_c,l  ∝ pattern_c,l * noise_l,year

  where ``pattern_c,l`` is real: the police.uk counts of the matching crime type in LSOA
  ``l`` over 2025-05..2026-04 (+0.5), or, where police.uk has no matching type (violence
  with and without injury, stalking and harassment, deliberate fires), the IoD2025
  police-recorded crime rate of the LSOA times its population (:data:`SPATIAL_PATTERN`);
  fly-tipping and road casualties keep a model pattern ``population_l * imd_score_l ** b_c
  * hotspot_l ** h_c``. So maps, hotspots and deprivation gradients look like Kirklees;
  ``level_c`` is a log-linear annual trend (plus a recording-improvement rise to 2019/20
  for violence, sexual, stalking and public-order offences), with counts drawn from a
  Poisson distribution. Each category's 2021/22 expected total is scaled to the plan's
  baseline exactly (total crime 45,418; violence with injury 4,404; ...).
* **Flags and victims**: exact yearly numbers of domestic-abuse and hate-crime incidents are
  flagged among eligible offences; victims are assigned by linking an incident, with a
  fixed probability, to the victim of a randomly chosen incident in the previous 365 days
  (so prolific victims attract more repeats), otherwise to a new victim. The link
  probabilities are set so 2021/22 gives about 47.9% repeat DA incidents and 25.9% repeat
  hate-crime victims; transgender and disability strands link more often.
* **Survey** waves (residents, tenants, young people) with design weights, and partner
  **indicators** (NRM referrals, first-time entrants, ...).

Every random draw comes from one ``numpy.random.Generator`` seeded with ``seed``, so the
same seed and version give byte-identical parquet files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import FLAGS
from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.hashing import sha256_bytes, sha256_files
from kcpp_analysis.core.paths import REFERENCE_DIR
from kcpp_analysis.core.periods import fy_bounds, fy_labels
from kcpp_analysis.data.dataset import Dataset, normalise_table
from kcpp_analysis.data.demo.health import demo_health
from kcpp_analysis.data.demo.insight import demo_insight
from kcpp_analysis.data.demo.tables import demo_indicators, demo_survey

log = logging.getLogger(__name__)

GENERATOR_NAME = "kcpp_analysis.data.demo.generator"
GENERATOR_VERSION = "2.0.0"  # 2: real LSOA 2021 geography, VOLT fields, near repeats


def generator_fingerprint(params: Params | None = None) -> str:
    """SHA-256 over the generator's code, the reference extract's manifest and the params
    files: a cached demo dataset is reused only when all three are unchanged."""
    from pathlib import Path

    files = [(f.name, f) for f in sorted(Path(__file__).parent.glob("*.py"))]
    man = REFERENCE_DIR / "E08000034" / "manifest.json"
    if man.is_file():
        files.append((man.name, man))
    hashes = "".join(f"{k}:{v}" for k, v in sorted((params.hashes if params else {}).items()))
    return sha256_bytes(sha256_files(files) + hashes)


DEFAULT_SEED = 20250401
FIRST_FY, LAST_FY = "2017/18", "2025/26"
BASE_FY = "2021/22"

# Ward profile: a mean IMD score (no longer used: the demo's areas are the real IoD2025
# LSOAs) and a town-centre hotspot weight, used for the categories with no real spatial
# pattern (fly-tipping, road casualties).
WARD_PROFILE = {
    "Batley East": (40, 1.6),
    "Batley West": (36, 1.2),
    "Birstall and Birkenshaw": (17, 1.0),
    "Cleckheaton": (19, 1.1),
    "Heckmondwike": (32, 1.2),
    "Liversedge and Gomersal": (16, 1.0),
    "Dewsbury East": (35, 1.2),
    "Dewsbury South": (29, 1.1),
    "Dewsbury West": (44, 1.8),
    "Mirfield": (13, 1.0),
    "Almondbury": (19, 1.0),
    "Ashbrow": (37, 1.2),
    "Crosland Moor and Netherton": (34, 1.1),
    "Dalton": (31, 1.1),
    "Golcar": (21, 1.0),
    "Greenhead": (39, 2.4),
    "Lindley": (12, 1.0),
    "Newsome": (33, 1.3),
    "Colne Valley": (14, 1.0),
    "Denby Dale": (10, 1.0),
    "Holme Valley North": (12, 1.0),
    "Holme Valley South": (11, 1.1),
    "Kirkburton": (10, 1.0),
}

SEASON = {  # multipliers January..December (normalised to mean 1 below)
    "flat": [1.0] * 12,
    "violence": [0.92, 0.87, 0.96, 0.98, 1.05, 1.07, 1.11, 1.06, 1.00, 0.98, 0.95, 1.05],
    "winter": [1.12, 1.00, 0.94, 0.88, 0.86, 0.84, 0.88, 0.92, 0.98, 1.12, 1.21, 1.25],
    "asb": [0.78, 0.78, 0.90, 1.02, 1.12, 1.16, 1.22, 1.15, 1.00, 1.08, 0.98, 0.81],
    "fire": [0.70, 0.80, 1.30, 1.55, 1.30, 1.10, 1.10, 1.00, 0.80, 0.90, 1.55, 0.90],
    "flytip": [0.85, 0.85, 0.95, 1.05, 1.10, 1.12, 1.10, 1.08, 1.05, 1.00, 0.95, 0.90],
}


@dataclass(frozen=True)
class CategorySpec:
    """How one category is generated."""

    source: str
    base: float  # expected 2021/22 total
    b: float  # deprivation exponent on IMD score
    growth: float  # annual log growth of the underlying level
    covid: float  # multiplier in national lockdown months
    season: str
    hotspot: float = 1.0  # exponent on the LSOA hotspot weight
    recording_rise: bool = False  # rises 2017/18 to 2019/20 from recording improvements


CATEGORY_SPECS: dict[str, CategorySpec] = {
    "homicide": CategorySpec("police_crime", 6, 0.7, 0.0, 1.0, "flat"),
    "violence_with_injury": CategorySpec(
        "police_crime", 4404, 0.75, 0.035, 0.78, "violence", 1.2, True
    ),
    "violence_without_injury": CategorySpec(
        "police_crime", 8900, 0.65, 0.02, 0.84, "violence", 1.0, True
    ),
    "stalking_harassment": CategorySpec("police_crime", 6660, 0.55, 0.01, 1.18, "flat", 0.8, True),
    "sexual_offences": CategorySpec("police_crime", 1400, 0.55, 0.025, 0.80, "violence", 1.0, True),
    "robbery": CategorySpec("police_crime", 420, 0.7, -0.02, 0.55, "winter", 1.5),
    "residential_burglary": CategorySpec("police_crime", 1307, 0.4, -0.07, 0.62, "winter", 0.6),
    "non_residential_burglary": CategorySpec("police_crime", 600, 0.3, -0.04, 0.75, "winter", 1.2),
    "vehicle_offences": CategorySpec("police_crime", 1971, 0.15, -0.045, 0.68, "winter", 0.5),
    "theft_from_person": CategorySpec("police_crime", 300, 0.4, 0.0, 0.40, "flat", 2.0),
    "bicycle_theft": CategorySpec("police_crime", 250, 0.3, -0.02, 0.95, "asb", 1.5),
    "shoplifting": CategorySpec("police_crime", 2600, 0.3, 0.07, 0.45, "flat", 2.5),
    "other_theft": CategorySpec("police_crime", 3300, 0.35, -0.02, 0.62, "flat", 1.5),
    "criminal_damage_arson": CategorySpec("police_crime", 5400, 0.6, -0.02, 0.84, "asb", 1.0),
    "drug_offences": CategorySpec("police_crime", 1100, 0.8, 0.0, 1.45, "flat", 1.5),
    "possession_of_weapons": CategorySpec("police_crime", 450, 0.75, 0.03, 1.10, "flat", 1.5),
    "public_order": CategorySpec("police_crime", 5600, 0.6, 0.0, 0.90, "asb", 1.3, True),
    "modern_slavery": CategorySpec("police_crime", 40, 0.6, 0.06, 1.0, "flat", 1.0),
    "misc_crimes_against_society": CategorySpec("police_crime", 664, 0.5, 0.0, 1.0, "flat"),
    "fraud_forgery": CategorySpec("police_crime", 46, 0.2, 0.0, 1.3, "flat"),
    "asb_personal": CategorySpec("police_asb", 2200, 0.6, -0.02, 1.3, "asb", 1.0),
    "asb_nuisance": CategorySpec("police_asb", 5131, 0.6, -0.035, 1.6, "asb", 1.1),
    "asb_environmental": CategorySpec("police_asb", 600, 0.5, -0.03, 1.2, "asb", 1.0),
    "fly_tipping": CategorySpec("council", 6017, 0.8, 0.01, 1.2, "flytip", 0.8),
    "deliberate_primary_fire": CategorySpec("fire", 250, 0.7, 0.0, 1.0, "flat", 1.0),
    "deliberate_secondary_fire": CategorySpec("fire", 804, 0.9, -0.02, 1.1, "fire", 1.0),
    "road_casualty": CategorySpec("roads", 1100, 0.15, -0.03, 0.60, "flat", 0.7),
}
RECORDING_RISE = {"2017/18": 0.86, "2018/19": 0.94}  # relative to the trend from 2019/20

# Domestic abuse: share of each offence group flagged, and exact yearly totals.
DA_PROPENSITY = {
    "violence_with_injury": 0.40,
    "violence_without_injury": 0.30,
    "stalking_harassment": 0.38,
    "criminal_damage_arson": 0.07,
    "sexual_offences": 0.18,
    "other_theft": 0.03,
    "homicide": 0.3,
}
DA_TOTAL = {
    "2017/18": 6100,
    "2018/19": 6700,
    "2019/20": 7000,
    "2020/21": 7400,
    "2021/22": 7300,
    "2022/23": 7450,
    "2023/24": 7600,
    "2024/25": 7700,
    "2025/26": 7850,
}
HATE_PROPENSITY = {
    "public_order": 0.10,
    "violence_without_injury": 0.025,
    "stalking_harassment": 0.02,
    "violence_with_injury": 0.02,
    "criminal_damage_arson": 0.01,
}
HATE_TOTAL = {
    "2017/18": 820,
    "2018/19": 900,
    "2019/20": 940,
    "2020/21": 1010,
    "2021/22": 1000,
    "2022/23": 1100,
    "2023/24": 1120,
    "2024/25": 1150,
    "2025/26": 1190,
}
HATE_STRAND_SHARE = {
    "race": 0.70,
    "religion": 0.10,
    "sexual_orientation": 0.11,
    "disability": 0.06,
    "transgender": 0.03,
}
# Probability that an incident is linked to a victim seen in the previous 365 days.
# Calibrated once (see tests/test_demo.py for the independent check of the outcomes).
DA_LINK = 0.47
HATE_LINK = {
    "race": 0.46,
    "religion": 0.47,
    "sexual_orientation": 0.49,
    "disability": 0.75,
    "transgender": 0.85,
}
KNIFE_PROPENSITY = {
    "violence_with_injury": 0.055,
    "robbery": 0.20,
    "possession_of_weapons": 0.45,
    "homicide": 0.4,
    "violence_without_injury": 0.008,
}
DRUG_PROPENSITY = {
    "drug_offences": 1.0,
    "residential_burglary": 0.10,
    "shoplifting": 0.12,
    "robbery": 0.15,
    "possession_of_weapons": 0.10,
}
ALCOHOL_PROPENSITY = {
    "violence_with_injury": 0.25,
    "violence_without_injury": 0.15,
    "public_order": 0.22,
    "criminal_damage_arson": 0.06,
}
PERSON_CRIMES = (
    "homicide",
    "violence_with_injury",
    "violence_without_injury",
    "stalking_harassment",
    "sexual_offences",
    "robbery",
    "theft_from_person",
)
ROAD_SEVERITY = {"fatal": 0.011, "serious": 0.165, "slight": 0.824}


def _fy_months() -> pd.DatetimeIndex:
    start, _ = fy_bounds(FIRST_FY)
    _, end = fy_bounds(LAST_FY)
    return pd.date_range(start, end, freq="MS")


def _covid_weight(months: pd.DatetimeIndex, params: Params) -> np.ndarray:
    """1 in lockdown months, 0.75 in other months of restrictions (Mar 2020-Jun 2021), else 0."""
    w = np.zeros(len(months))
    restr = (months >= "2020-03-01") & (months <= "2021-06-01")
    w[restr] = 0.75
    for it in params.sia.interruptions:
        w[(months >= pd.Timestamp(it.start)) & (months <= pd.Timestamp(it.end))] = 1.0
    return w


SPATIAL_PATTERN = {
    "homicide": ("policeuk", "Violence and sexual offences"),
    "violence_with_injury": ("iod", "violence_with_injury_rate_per_1_000_at_risk_population"),
    "violence_without_injury": (
        "iod",
        "violence_without_injury_rate_per_1_000_at_risk_population",
    ),
    "stalking_harassment": ("iod", "stalking_and_harassment_rate_per_1_000_at_risk_population"),
    "sexual_offences": ("policeuk", "Violence and sexual offences"),
    "robbery": ("policeuk", "Robbery"),
    "residential_burglary": ("policeuk", "Burglary"),
    "non_residential_burglary": ("policeuk", "Burglary"),
    "vehicle_offences": ("policeuk", "Vehicle crime"),
    "theft_from_person": ("policeuk", "Theft from the person"),
    "bicycle_theft": ("policeuk", "Bicycle theft"),
    "shoplifting": ("policeuk", "Shoplifting"),
    "other_theft": ("policeuk", "Other theft"),
    "criminal_damage_arson": ("policeuk", "Criminal damage and arson"),
    "drug_offences": ("policeuk", "Drugs"),
    "possession_of_weapons": ("policeuk", "Possession of weapons"),
    "public_order": ("policeuk", "Public order"),
    "modern_slavery": ("policeuk", "Other crime"),
    "misc_crimes_against_society": ("policeuk", "Other crime"),
    "fraud_forgery": ("policeuk", "Other crime"),
    "asb_personal": ("policeuk", "Anti-social behaviour"),
    "asb_nuisance": ("policeuk", "Anti-social behaviour"),
    "asb_environmental": ("policeuk", "Anti-social behaviour"),
    "deliberate_primary_fire": ("iod", "criminal_damage_rate_per_1_000_at_risk_population"),
    "deliberate_secondary_fire": ("iod", "criminal_damage_rate_per_1_000_at_risk_population"),
}


def _volt(inc: pd.DataFrame, seed: int, areas: pd.DataFrame) -> pd.DataFrame:
    """Victim, offender, location and time fields (:mod:`kcpp_analysis.data.demo.volt`), with
    coordinates and planted near repeats when the areas are the reference LSOAs."""
    from kcpp_analysis.data.demo.volt import add_coordinates, add_volt

    inc = add_volt(inc, seed + 7919)
    try:
        from kcpp_analysis.data.reference import geometries, reference_boundaries

        g = reference_boundaries("lsoa21")
    except (SourceError, OSError, ValueError) as exc:
        log.warning("demo: no LSOA boundaries, so no coordinates or near repeats (%s)", exc)
        g = None
    if g is not None:
        geoms = geometries(g)
        if set(areas["lsoa_code"]) <= set(geoms):
            inc = add_coordinates(inc, geoms, seed + 7919)
    return inc


def _spatial_patterns(areas: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per category, the real relative weight of each LSOA (see :data:`SPATIAL_PATTERN`),
    from the reference extract; empty when the areas are not the reference LSOAs."""
    from kcpp_analysis.data.reference import reference_crime_12m, reference_dir

    try:
        crime = reference_crime_12m()
        ind_path = reference_dir() / "iod2025_crime_indicators.csv"
    except (SourceError, OSError, ValueError) as exc:  # every category keeps the model pattern
        log.warning("demo: no reference crime extract, so no real spatial patterns (%s)", exc)
        return {}
    codes = areas["lsoa_code"]
    out: dict[str, np.ndarray] = {}
    ind = pd.read_csv(ind_path).set_index("lsoa_code") if ind_path.is_file() else None
    wide = (
        crime.pivot_table(index="lsoa_code", columns="crime_type", values="count", aggfunc="sum")
        if crime is not None
        else None
    )
    for cat, (kind, col) in SPATIAL_PATTERN.items():
        if kind == "policeuk" and wide is not None and col in wide.columns:
            v = codes.map(wide[col])
        elif kind == "iod" and ind is not None and col in ind.columns:
            v = codes.map(ind[col]) * areas["population"].to_numpy() / 1000
        else:
            continue
        if v.isna().any():
            continue  # another geography: keep the model pattern
        # + 0.5: an LSOA with no recorded incident in one year is not impossible
        out[cat] = v.to_numpy(dtype=float) + 0.5
    return out


def _lsoa_weights(rng, areas: pd.DataFrame, n_years: int) -> dict:
    hotspot_ward = areas["ward_name"].map(lambda w: WARD_PROFILE[w][1]).to_numpy()
    lsoa_effect = np.exp(rng.normal(0, 0.45, len(areas)))
    hot = hotspot_ward * lsoa_effect
    year_noise = np.exp(rng.normal(0, 0.12, (n_years, len(areas))))
    return {"hot": hot, "year_noise": year_noise}


def _choose_exact(rng, eligible_idx: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(eligible_idx))
    if k <= 0:
        return np.array([], dtype=np.int64)
    p = weights / weights.sum()
    return rng.choice(eligible_idx, size=k, replace=False, p=p)


def _link_victims(rng, dates: np.ndarray, link_p: float, prefix: str, start_no: int):
    """Assign victims to incidents sorted by date.

    An incident is linked, with probability ``link_p``, to the victim of an incident drawn
    uniformly from those in the previous 365 days (same-day earlier ones included),
    otherwise to a new victim. Returns (victim codes, home-incident index, next number).
    """
    n = len(dates)
    victim = np.empty(n, dtype=np.int64)
    home = np.arange(n)
    u = rng.random(n)
    pick = rng.random(n)
    day = dates.astype("datetime64[D]").astype(np.int64)
    lo = 0
    next_no = start_no
    for i in range(n):
        while day[lo] < day[i] - 365:
            lo += 1
        if i > lo and u[i] < link_p:
            j = lo + int(pick[i] * (i - lo))
            victim[i] = victim[j]
            home[i] = home[j]
        else:
            victim[i] = next_no
            next_no += 1
    codes = np.char.add(prefix, np.char.zfill(victim.astype(str), 7))
    return codes, home, next_no


def generate_demo(
    seed: int = DEFAULT_SEED, params: Params | None = None, areas: pd.DataFrame | None = None
) -> Dataset:
    """Generate the synthetic Kirklees-like demo dataset.

    Parameters
    ----------
    seed : int
        Seed for the single random generator; the same seed gives identical tables.
    params : Params, optional
        Validated parameters (wards, places, categories, lockdowns); defaults to the project's.
    areas : DataFrame, optional
        A real ``areas`` table (e.g. IoD2019 + ONS lookups): incidents are then generated on
        that geography, using its populations and IMD scores, instead of synthetic LSOAs.

    Returns
    -------
    Dataset
        The four canonical tables with ``meta`` marking every table synthetic.

    Examples
    --------
    >>> ds = generate_demo()
    >>> ds.areas["lsoa_code"].str.startswith("E01").all(), len(ds.areas)
    (np.True_, 260)
    """
    t0 = time.perf_counter()
    params = params or load_params()
    rng = np.random.default_rng(seed)
    unknown = set(CATEGORY_SPECS) - set(params.categories)
    if unknown:
        raise ValueError(f"demo categories missing from categories.yaml: {sorted(unknown)}")
    if areas is None:
        from kcpp_analysis.data.reference import reference_areas

        areas = reference_areas(params)
    areas = areas.reset_index(drop=True)
    spatial = _spatial_patterns(areas)
    months = _fy_months()
    n_m, n_l = len(months), len(areas)
    fy_of_month = fy_labels(pd.Series(months)).to_numpy()
    fys = list(dict.fromkeys(fy_of_month))
    fy_idx = np.array([fys.index(f) for f in fy_of_month])
    t_years = (np.arange(n_m) - (fys.index(BASE_FY) * 12 + 5.5)) / 12.0
    covid_w = _covid_weight(months, params)
    moy = months.month.to_numpy() - 1
    w = _lsoa_weights(rng, areas, len(fys))
    score = areas["imd_score"].to_numpy()
    pop = areas["population"].to_numpy().astype(float)
    base_mask = fy_of_month == BASE_FY

    parts = []
    for code, spec in CATEGORY_SPECS.items():
        season = np.asarray(SEASON[spec.season])
        season = season / season.mean()
        level = np.exp(spec.growth * t_years) * season[moy] * spec.covid**covid_w
        if spec.recording_rise:
            level = level * np.array([RECORDING_RISE.get(f, 1.0) for f in fy_of_month])
        level = level * spec.base / level[base_mask].sum()  # 2021/22 expectation = baseline
        share = spatial[code] if code in spatial else pop * score**spec.b * w["hot"] ** spec.hotspot
        share_y = share[None, :] * w["year_noise"]  # (years, lsoas)
        share_y = share_y / share_y.sum(axis=1, keepdims=True)
        lam = level[:, None] * share_y[fy_idx]  # (months, lsoas)
        # Each year's total is Poisson, except the baseline year whose total is the plan's
        # published figure; the total is spread over months x LSOAs multinomially.
        counts = np.zeros((n_m, n_l), dtype=np.int64)
        for yi, fy in enumerate(fys):
            rows = fy_idx == yi
            lam_y = lam[rows]
            total = round(spec.base) if fy == BASE_FY else rng.poisson(lam_y.sum())
            counts[rows] = rng.multinomial(total, (lam_y / lam_y.sum()).ravel()).reshape(
                lam_y.shape
            )
        cell = np.repeat(np.arange(n_m * n_l), counts.ravel())
        m_i, l_i = np.divmod(cell, n_l)
        days_in = months[m_i].days_in_month.to_numpy()
        day = (rng.random(len(cell)) * days_in).astype(np.int64)
        dates = months[m_i].to_numpy() + day.astype("timedelta64[D]")
        parts.append(
            pd.DataFrame({"date": dates, "category": code, "source": spec.source, "lsoa_i": l_i})
        )
    inc = pd.concat(parts, ignore_index=True)
    inc = inc.sort_values(["date", "category", "lsoa_i"], kind="stable").reset_index(drop=True)
    n = len(inc)
    inc["incident_id"] = np.char.add("DEMO-", np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    inc["fy"] = fy_labels(inc["date"]).to_numpy()
    cat = inc["category"].to_numpy()
    for f in FLAGS:
        inc[f] = False
    inc["victim_id"] = None
    inc["hate_strand"] = None
    inc["severity"] = None
    lsoa_i = inc["lsoa_i"].to_numpy().copy()

    cat_code, cat_names = pd.factorize(cat)  # once: every propensity reads the codes

    def propensity(table: dict) -> np.ndarray:
        """Each incident's weight from its category (0 for a category not in ``table``)."""
        return np.array([float(table.get(c, 0.0)) for c in cat_names])[cat_code]

    # --- domestic abuse: exact yearly totals, victims with repeats ---
    da_w = propensity(DA_PROPENSITY)
    fy_arr = inc["fy"].to_numpy()
    da_idx = np.concatenate(
        [
            _choose_exact(
                rng,
                np.flatnonzero((fy_arr == fy) & (da_w > 0)),
                da_w[(fy_arr == fy) & (da_w > 0)],
                DA_TOTAL[fy],
            )
            for fy in fys
        ]
    )
    da_idx.sort()
    inc.loc[da_idx, "domestic_abuse"] = True
    codes, home, _ = _link_victims(rng, inc["date"].to_numpy()[da_idx], DA_LINK, "DA", 1)
    inc.loc[da_idx, "victim_id"] = codes
    lsoa_i[da_idx] = lsoa_i[da_idx][home]  # repeats happen at the victim's home

    # --- hate crime by strand ---
    hate_w = propensity(HATE_PROPENSITY) * (~inc["domestic_abuse"].to_numpy())
    hate_idx = np.concatenate(
        [
            _choose_exact(
                rng,
                np.flatnonzero((fy_arr == fy) & (hate_w > 0)),
                hate_w[(fy_arr == fy) & (hate_w > 0)],
                HATE_TOTAL[fy],
            )
            for fy in fys
        ]
    )
    hate_idx.sort()
    strands = np.array(list(HATE_STRAND_SHARE))
    strand = rng.choice(strands, size=len(hate_idx), p=list(HATE_STRAND_SHARE.values()))
    inc.loc[hate_idx, "hate_crime"] = True
    inc.loc[hate_idx, "hate_strand"] = strand
    next_no = 1
    for s in strands:
        sel = hate_idx[strand == s]
        codes, home, next_no = _link_victims(
            rng, inc["date"].to_numpy()[sel], HATE_LINK[s], "HC", next_no
        )
        inc.loc[sel, "victim_id"] = codes
        lsoa_i[sel] = lsoa_i[sel][home]

    # --- other person crimes: one victim each, a few repeats by chance ---
    other = np.flatnonzero(np.isin(cat, PERSON_CRIMES) & inc["victim_id"].isna().to_numpy())
    pool = rng.integers(0, int(len(other) * 1.6), len(other))
    inc.loc[other, "victim_id"] = np.char.add("PV", np.char.zfill(pool.astype(str), 7))

    # --- other flags ---
    is_da = inc["domestic_abuse"].to_numpy()
    vawg_p = np.where(
        is_da
        & np.isin(
            cat,
            ("violence_with_injury", "violence_without_injury", "stalking_harassment", "homicide"),
        ),
        0.76,
        propensity(
            {
                "sexual_offences": 0.86,
                "stalking_harassment": 0.55,
                "violence_with_injury": 0.12,
                "violence_without_injury": 0.14,
            }
        ),
    )
    vawg_p = np.where(is_da & (cat == "sexual_offences"), 0.97, vawg_p)
    inc["vawg"] = rng.random(n) < vawg_p
    inc["knife_crime"] = rng.random(n) < propensity(KNIFE_PROPENSITY)
    inc["drug_related"] = rng.random(n) < propensity(DRUG_PROPENSITY)
    inc["alcohol_related"] = rng.random(n) < propensity(ALCOHOL_PROPENSITY)
    road = np.flatnonzero(cat == "road_casualty")
    road_fy = fy_arr[road]
    # seriousness falls a little over time on top of the falling total (KSI trending down)
    shift = (np.array([fys.index(f) for f in road_fy]) - fys.index(BASE_FY)) * 0.004
    u = rng.random(len(road))
    sev = np.where(
        u < ROAD_SEVERITY["fatal"],
        "fatal",
        np.where(
            u < ROAD_SEVERITY["fatal"] + ROAD_SEVERITY["serious"] - shift, "serious", "slight"
        ),
    )
    inc.loc[road, "severity"] = sev

    inc["lsoa_code"] = areas["lsoa_code"].to_numpy()[lsoa_i]
    inc["date_precision"] = "day"
    inc = _volt(inc, seed, areas)
    incidents = normalise_table(inc.drop(columns=["lsoa_i", "fy"]), "incidents")

    survey = demo_survey(rng, fys, BASE_FY)
    indicators = demo_indicators(rng, fys)
    insight = demo_insight(rng, fys, params)
    health = demo_health(rng, incidents)
    start, _ = fy_bounds(FIRST_FY)
    _, end = fy_bounds(LAST_FY)
    meta = {
        "kind": "demo",
        "title": "Synthetic Kirklees-like demo dataset",
        "synthetic_tables": ["incidents", "survey", "indicators", "insight", *sorted(health)],
        "spatial_pattern": {
            "police.uk 12 months 2025-05 to 2026-04": sorted(
                c for c in spatial if SPATIAL_PATTERN[c][0] == "policeuk"
            ),
            "IoD2025 crime indicators": sorted(
                c for c in spatial if SPATIAL_PATTERN[c][0] == "iod"
            ),
        },
        "generator": {
            "name": GENERATOR_NAME,
            "version": GENERATOR_VERSION,
            "seed": seed,
            "fingerprint": generator_fingerprint(params),
        },
        "coverage": {"start": str(start.date()), "end": str(end.date())},
        "sources": [
            {
                "kind": "demo",
                "description": "generated by kcpp_analysis.data.demo.generator",
                "rows": len(incidents),
            }
        ],
        "quality": {
            "unmatched_lsoa": 0,
            "no_location": 0,
            "outside_area": 0,
            "duplicates_dropped": 0,
        },
    }
    log.info(
        "generated demo dataset: %d incidents in %.1fs", len(incidents), time.perf_counter() - t0
    )
    return Dataset(
        incidents=incidents,
        areas=normalise_table(areas, "areas"),
        survey=survey,
        indicators=indicators,
        meta=meta,
        extras={"insight": insight, **health},
    )
