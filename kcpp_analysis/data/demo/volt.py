"""Victim, offender, location and time fields for the synthetic demo (VOLT profiles).

Synthetic, with the structure the report sections should find (and the tests recover):

- **Time.** Violence in licensed premises happens at night (22:00-02:59) on Fridays and
  Saturdays; domestic violence in the evening; residential burglary in the daytime on
  weekdays, known only as a window (time from / time to, 1-10 hours: aoristic); vehicle crime
  overnight as a window; ASB in the late afternoon and evening; other crime 08:00-22:00.
  The date of a night-time-economy offence is moved to a Friday or Saturday of the same
  month, so monthly counts are unchanged.
- **Location type** by category (the vocabulary of ``config.LOCATION_TYPES``).
- **Victims** of person crimes: age band and sex (domestic abuse and VAWG mostly women aged
  25-49; other violence mostly men aged 16-34).
- **Offenders**: about a third of police-recorded crimes have an identified offender, drawn
  from a heavy-tailed (Pareto) pool so that the most prolific 10% of offenders commit about
  30% of the identified offences within a priority (measured on the demo: 28-29%, against
  10% for an even spread); offender age band.
- **Coordinates** (metres, a local transverse projection of the LSOA boundaries) for
  residential burglary and vehicle crime: a random point inside the LSOA, and **planted near
  repeats**: 20% of residential burglaries follow an earlier one within 100 m and 1-14 days
  (the follower takes the leader's LSOA).

Uses its own random generator, so the rest of the demo (calibrated totals, survey,
indicators) is unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NTE = ("violence_with_injury", "violence_without_injury", "public_order", "homicide")
VIOLENCE = (*NTE, "sexual_offences", "stalking_harassment")
NEAR_REPEAT_SHARE = 0.20
NEAR_REPEAT_DAYS = 14


def _hours(profile: str) -> np.ndarray:
    h = np.arange(24)
    if profile == "night":
        w = np.where((h >= 22) | (h <= 2), 10.0, 0.3)
    elif profile == "evening":
        w = np.where((h >= 18) & (h <= 23), 6.0, 0.8)
    elif profile == "day":
        w = np.where((h >= 10) & (h <= 16), 6.0, 0.6)
    elif profile == "asb":
        w = np.where((h >= 16) & (h <= 22), 6.0, 0.7)
    else:
        w = np.where((h >= 8) & (h <= 22), 3.0, 0.5)
    return w / w.sum()


def lonlat_to_metres(lon, lat, lon0: float = -1.75, lat0: float = 53.63):
    """Local transverse (equirectangular) projection in metres around (lon0, lat0): accurate
    to about 0.1% for distances within 30 km, enough for near-repeat bands of 100 m."""
    k = np.pi / 180 * 6_371_000
    return (np.asarray(lon) - lon0) * k * np.cos(np.radians(lat0)) + 400_000, (
        np.asarray(lat) - lat0
    ) * k + 400_000


def _points_in(rng, geoms: dict, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random point inside each code's polygon (rejection sampling), in metres."""
    from shapely import contains_xy

    x = np.full(len(codes), np.nan)
    y = np.full(len(codes), np.nan)
    for code in np.unique(codes):
        idx = np.flatnonzero(codes == code)
        g = geoms.get(code)
        if g is None:
            continue
        minx, miny, maxx, maxy = g.bounds
        todo = idx
        for _ in range(30):
            if not len(todo):
                break
            px = rng.uniform(minx, maxx, len(todo) * 3)
            py = rng.uniform(miny, maxy, len(todo) * 3)
            ok = contains_xy(g, px, py)
            px, py = px[ok][: len(todo)], py[ok][: len(todo)]
            take = todo[: len(px)]
            x[take], y[take] = lonlat_to_metres(px, py)
            todo = todo[len(px) :]
    return x, y


def add_volt(inc: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add the VOLT columns to the demo's incidents (``lsoa_code``, ``date``, ``category``
    already set) and plant near-repeat burglaries. Returns a new frame."""
    rng = np.random.default_rng(seed)
    inc = inc.copy()
    n = len(inc)
    cat = inc["category"].to_numpy()
    src = inc["source"].to_numpy()
    da = inc["domestic_abuse"].to_numpy()
    # --- location type ------------------------------------------------------------------
    loc = np.full(n, None, dtype=object)

    def pick(mask, types, p):
        k = int(mask.sum())
        if k:
            loc[mask] = rng.choice(np.array(types, dtype=object), size=k, p=p)

    nte_pool = np.isin(cat, NTE) & ~da
    pick(nte_pool, ["licensed premises", "street", "dwelling", "other"], [0.35, 0.4, 0.15, 0.1])
    pick(np.isin(cat, VIOLENCE) & da, ["dwelling", "street"], [0.85, 0.15])
    pick(
        np.isin(cat, ("sexual_offences", "stalking_harassment")) & ~da,
        ["dwelling", "street", "education", "transport", "other"],
        [0.4, 0.25, 0.1, 0.1, 0.15],
    )
    pick(cat == "residential_burglary", ["dwelling"], [1.0])
    pick(cat == "non_residential_burglary", ["retail", "education", "other"], [0.5, 0.2, 0.3])
    pick(
        np.isin(cat, ("vehicle_offences", "bicycle_theft")),
        ["street", "dwelling", "transport"],
        [0.6, 0.3, 0.1],
    )
    pick(cat == "shoplifting", ["retail"], [1.0])
    pick(
        np.isin(cat, ("theft_from_person", "robbery")),
        ["street", "transport", "licensed premises"],
        [0.6, 0.2, 0.2],
    )
    pick(
        np.isin(cat, ("criminal_damage_arson", "other_theft")),
        ["dwelling", "street", "retail", "other"],
        [0.4, 0.3, 0.15, 0.15],
    )
    pick(
        src == "police_asb", ["street", "open space", "dwelling", "transport"], [0.5, 0.2, 0.2, 0.1]
    )
    pick((src == "police_crime") & pd.isna(loc), ["street", "dwelling", "other"], [0.4, 0.3, 0.3])
    inc["location_type"] = loc
    # --- time ---------------------------------------------------------------------------
    timed = np.isin(src, ("police_crime", "police_asb", "fire"))
    profile = np.full(n, "other", dtype=object)
    night = nte_pool & (loc == "licensed premises")
    profile[night] = "night"
    profile[np.isin(cat, VIOLENCE) & da] = "evening"
    profile[cat == "residential_burglary"] = "day"
    profile[cat == "vehicle_offences"] = "overnight"
    profile[src == "police_asb"] = "asb"
    dates = inc["date"].to_numpy().astype("datetime64[D]")
    # night-time economy: move to a Friday or Saturday of the same month (counts by month kept)
    idx = np.flatnonzero(night)
    if len(idx):
        d = pd.DatetimeIndex(dates[idx])
        first = d.to_period("M").to_timestamp()
        # days of the month that are Fri (4) or Sat (5): first Friday, then step by 7 days
        off = (4 - first.day_of_week) % 7
        k = rng.integers(0, 8, len(idx))  # which Fri/Sat of the month
        cand = first + pd.to_timedelta(off + 7 * (k // 2) + (k % 2), unit="D")
        ok = cand.month == d.month
        new = np.where(ok, cand.to_numpy().astype("datetime64[D]"), dates[idx])
        dates[idx] = new
    inc["date"] = pd.to_datetime(dates)
    hour = np.zeros(n, dtype=np.int64)
    for prof in ("night", "evening", "day", "asb", "other"):
        m = timed & (profile == prof)
        hour[m] = rng.choice(24, size=int(m.sum()), p=_hours(prof))
    ov = timed & (profile == "overnight")
    hour[ov] = rng.choice(24, size=int(ov.sum()), p=_hours("night"))
    # the small hours of a Friday or Saturday night fall on the next day
    after_midnight = (profile == "night") & (hour <= 2)
    d = inc["date"].to_numpy() + after_midnight.astype("timedelta64[D]")
    last = inc["date"].to_numpy().max()
    d = np.minimum(d, last)
    inc["date"] = d
    start = d + hour.astype("timedelta64[h]")
    width = np.zeros(n, dtype=np.int64)
    window = timed & np.isin(cat, ("residential_burglary", "vehicle_offences"))
    width[window] = rng.integers(1, 11, int(window.sum()))  # known only as a window of hours
    tf = pd.Series(start).where(timed, pd.NaT)
    inc["time_from"] = tf.to_numpy()
    inc["time_to"] = (tf + pd.to_timedelta(width, unit="h")).to_numpy()
    # --- victims ------------------------------------------------------------------------
    bands = np.array(["0-15", "16-24", "25-34", "35-49", "50-64", "65+"], dtype=object)
    has_v = inc["victim_id"].notna().to_numpy()
    vab = np.full(n, None, dtype=object)
    vsex = np.full(n, None, dtype=object)
    women = has_v & (da | inc["vawg"].to_numpy())
    vab[women] = rng.choice(bands, int(women.sum()), p=[0.03, 0.17, 0.3, 0.32, 0.13, 0.05])
    vsex[women] = rng.choice(
        np.array(["female", "male"], dtype=object), int(women.sum()), p=[0.8, 0.2]
    )
    rest = has_v & ~women
    vab[rest] = rng.choice(bands, int(rest.sum()), p=[0.08, 0.25, 0.25, 0.22, 0.13, 0.07])
    vsex[rest] = rng.choice(
        np.array(["female", "male"], dtype=object), int(rest.sum()), p=[0.4, 0.6]
    )
    inc["victim_age_band"] = vab
    inc["victim_sex"] = vsex
    # --- offenders ----------------------------------------------------------------------
    crime = src == "police_crime"
    solved = crime & (rng.random(n) < 0.35)
    k = int(solved.sum())
    pool = max(1, k // 3)
    # heavy tail: Pareto weights over the offender pool
    w = rng.pareto(1.3, pool) + 1
    w = w / w.sum()
    who = rng.choice(pool, size=k, p=w)
    off = np.full(n, None, dtype=object)
    off[solved] = np.char.add("O", np.char.zfill(who.astype(str), 6))
    inc["offender_id"] = off
    oab = np.full(n, None, dtype=object)
    ob = rng.choice(bands, pool, p=[0.04, 0.3, 0.28, 0.25, 0.1, 0.03])
    oab[solved] = ob[who]
    inc["offender_age_band"] = oab
    # --- ASB callers: a heavy-tailed pool, so some callers ring again and again -------------
    asb = src == "police_asb"
    ka = int(asb.sum())
    if ka:
        cpool = max(1, ka // 2)
        cw = rng.pareto(1.5, cpool) + 1
        caller = rng.choice(cpool, size=ka, p=cw / cw.sum())
        cid = np.full(n, None, dtype=object)
        cid[asb] = np.char.add("C", np.char.zfill(caller.astype(str), 6))
        inc["caller_id"] = cid
    return inc


def add_coordinates(inc: pd.DataFrame, geoms: dict, seed: int) -> pd.DataFrame:
    """x, y for residential burglary and vehicle crime, with planted near repeats."""
    rng = np.random.default_rng(seed + 1)
    inc = inc.copy()
    inc["x"] = np.nan
    inc["y"] = np.nan
    m = inc["category"].isin(["residential_burglary", "vehicle_offences"]).to_numpy()
    idx = np.flatnonzero(m)
    x, y = _points_in(rng, geoms, inc["lsoa_code"].to_numpy()[idx])
    inc.loc[inc.index[idx], "x"] = x
    inc.loc[inc.index[idx], "y"] = y
    # planted near repeats: a follower burglary moves next to an earlier one
    b = np.flatnonzero(inc["category"].to_numpy() == "residential_burglary")
    b = b[np.argsort(inc["date"].to_numpy()[b], kind="stable")]
    nf = int(NEAR_REPEAT_SHARE * len(b))
    if nf and len(b) > 1:
        followers = rng.choice(np.arange(30, len(b)), size=min(nf, len(b) - 30), replace=False)
        nf = len(followers)
        # the leader is a burglary a few days earlier (about 30 burglaries back at most), so a
        # follower moves by days, not years: yearly and monthly totals hardly change
        leaders = followers - rng.integers(1, 30, nf)
        fi, li = b[followers], b[leaders]
        cols = inc.columns
        dx, dy = rng.uniform(-70, 70, (2, nf))
        inc.iloc[fi, cols.get_loc("x")] = inc["x"].to_numpy()[li] + dx
        inc.iloc[fi, cols.get_loc("y")] = inc["y"].to_numpy()[li] + dy
        lag = rng.integers(1, NEAR_REPEAT_DAYS + 1, nf).astype("timedelta64[D]")
        last = inc["date"].to_numpy().max().astype("datetime64[D]")
        new_date = np.minimum(inc["date"].to_numpy()[li].astype("datetime64[D]") + lag, last)
        shift = new_date - inc["date"].to_numpy()[fi].astype("datetime64[D]")
        inc.iloc[fi, cols.get_loc("date")] = new_date.astype("datetime64[ns]")
        for c in ("time_from", "time_to"):
            inc.iloc[fi, cols.get_loc(c)] = inc[c].to_numpy()[fi] + shift.astype("timedelta64[ns]")
        inc.iloc[fi, cols.get_loc("lsoa_code")] = inc["lsoa_code"].to_numpy()[li]
    return inc
