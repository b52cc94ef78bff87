"""Partner extracts: the documented CSV layouts partners send (see docs/data_dictionary.md).

Layouts (one row per incident; dates ``YYYY-MM-DD``; flags ``Y``/``N`` or blank):

- ``police_crime``: ``crime_ref, recorded_date, offence_group, lsoa_code, victim_ref,
  domestic_abuse, hate_crime, hate_strand, vawg, knife_crime, drug_related, alcohol_related``
  (``offence_group``: a Home Office offence group of ``categories.yaml``)
- ``police_asb``: ``incident_ref, date, asb_type, lsoa_code, victim_ref``
  (``asb_type``: Personal / Nuisance / Environmental)
- ``council_asb``: ``incident_ref, date, incident_type, lsoa_code`` (e.g. Fly-tipping)
- ``fire``: ``incident_ref, date, incident_type, lsoa_code`` (Deliberate primary/secondary fire)

Victim references are re-pseudonymised at prepare time with a keyed hash:
``victim_id = "P" + HMAC-SHA256(key, victim_ref)[:24 hex]``, the key read from an
environment variable (``KCPP_PSEUDONYM_KEY`` by default) and never written anywhere. The
partner's own reference therefore never reaches the prepared dataset, and ids cannot be
linked back without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import FLAGS, HATE_STRANDS
from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import read_csv_checked
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

LAYOUTS = {
    "police_crime": {
        "id": "crime_ref",
        "date": "recorded_date",
        "category": "offence_group",
        "scheme": "home_office",
        "source": "police_crime",
        "columns": [
            "crime_ref",
            "recorded_date",
            "offence_group",
            "lsoa_code",
            "victim_ref",
            *FLAGS[:2],
            "hate_strand",
            *FLAGS[2:],
        ],
    },
    "police_asb": {
        "id": "incident_ref",
        "date": "date",
        "category": "asb_type",
        "scheme": "asb_type",
        "source": "police_asb",
        "columns": ["incident_ref", "date", "asb_type", "lsoa_code", "victim_ref"],
    },
    "council_asb": {
        "id": "incident_ref",
        "date": "date",
        "category": "incident_type",
        "scheme": "council",
        "source": "council",
        "columns": ["incident_ref", "date", "incident_type", "lsoa_code"],
    },
    "fire": {
        "id": "incident_ref",
        "date": "date",
        "category": "incident_type",
        "scheme": "fire",
        "source": "fire",
        "columns": ["incident_ref", "date", "incident_type", "lsoa_code"],
    },
}


MIN_KEY_BYTES = 32
#: the key's empirical entropy (bits per byte times length) must reach this
MIN_KEY_BITS = 120


def key_weakness(raw: bytes, key_env: str) -> str | None:
    """Why a pseudonymisation key is weak, or None. Never returns the key.

    Weak: surrounding white space (a trailing newline silently changes every pseudonym),
    shorter than :data:`MIN_KEY_BYTES` bytes, a repetition of a shorter piece, containing
    the variable's own name, fewer than 8 distinct bytes, an empirical entropy below
    :data:`MIN_KEY_BITS` bits, or obviously not a secret (a path, or the value of a common
    environment variable such as ``$HOME``).

    >>> import secrets
    >>> key_weakness(secrets.token_hex(32).encode(), "K") is None
    True
    >>> key_weakness(b"abc" * 11, "K"), key_weakness(b"password" * 4, "K")
    ('a repetition of a shorter piece', 'a repetition of a shorter piece')
    >>> key_weakness(secrets.token_hex(32).encode() + b"\\n", "K")
    'surrounding white space (a trailing newline?)'
    """
    if raw != raw.strip():
        return "surrounding white space (a trailing newline?)"
    if len(raw) < MIN_KEY_BYTES:
        return f"shorter than {MIN_KEY_BYTES} bytes"
    n = len(raw)
    for period in range(1, n // 2 + 1):
        if n % period == 0 and raw[:period] * (n // period) == raw:
            return "a repetition of a shorter piece"
    if key_env.encode().lower() in raw.lower():
        return "it contains the variable's own name"
    counts = np.bincount(np.frombuffer(raw, dtype=np.uint8), minlength=256)
    if (counts > 0).sum() < 8:
        return "fewer than 8 distinct characters"
    p = counts[counts > 0] / n
    if float(-(p * np.log2(p)).sum()) * n < MIN_KEY_BITS:
        return f"less than {MIN_KEY_BITS} bits of entropy"
    common = {
        os.environb.get(k.encode(), b"") if hasattr(os, "environb") else b""
        for k in ("HOME", "PATH", "USER", "PWD", "SHELL")
    } - {b""}
    if raw in common or raw.startswith(b"/"):
        return "a path or another environment variable's value"
    return None


def pseudonymisation_key(path, key_env: str, what: str) -> bytes:
    """The keyed-hash key from environment variable ``key_env``, as bytes (a key that is not
    UTF-8 is used byte for byte). Refused, with a message naming the variable and the reason
    and never the value, when unset or weak (:func:`key_weakness`)."""
    raw = os.environb.get(key_env.encode()) if hasattr(os, "environb") else None
    if raw is None:
        s = os.environ.get(key_env)
        raw = s.encode("utf-8", "surrogateescape") if s is not None else None
    if not raw:
        raise SourceError(
            f"{path}: has {what} but the pseudonymisation key environment variable "
            f"{key_env} is not set"
        )
    why = key_weakness(raw, key_env)
    if why:
        raise SourceError(
            f"{path}: the pseudonymisation key in {key_env} is too weak ({why}): use at "
            f'least {MIN_KEY_BYTES} random bytes (e.g. `python -c "import secrets; '
            f'print(secrets.token_hex(32))"`), kept secret and the same every year'
        )
    return raw


def pseudonymise(refs: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash of victim references (HMAC-SHA256); missing stays missing.

    >>> ids = pseudonymise(pd.Series(["abc", None, "abc"]), b"k")
    >>> ids[0] == ids[2], ids[0][:1], len(ids[0]), pd.isna(ids[1])
    (True, 'P', 25, True)
    """

    def h(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == "":
            return None
        return "P" + hmac.new(key, str(v).strip().encode(), hashlib.sha256).hexdigest()[:24]

    return refs.map(h).astype(object)


def _flag(s: pd.Series, path: Path, col: str, lines: pd.Series) -> pd.Series:
    v = s.fillna("N").astype(str).str.strip().str.upper()
    bad = ~v.isin(["Y", "N", "YES", "NO", "TRUE", "FALSE", "1", "0", ""])
    if bad.any():
        i = bad.idxmax()
        raise SourceError(f"{path}: column '{col}' line {lines[i]}: {shown(s[i])} is not Y/N")
    return v.isin(["Y", "YES", "TRUE", "1"])


def read_partner_extract(
    path: Path, extract: str, params: Params, *, key_env: str = "KCPP_PSEUDONYM_KEY"
) -> tuple[pd.DataFrame, dict]:
    """Read one partner extract into canonical incident rows (and quality counts)."""
    lay = LAYOUTS[extract]
    df = read_csv_checked(path, lay["columns"], kind=f"partner extract ({extract})")
    if df.empty:
        raise SourceError(f"{path}: file has a header but no rows")
    lines = df["_line"]
    dates = pd.to_datetime(df[lay["date"]], format="%Y-%m-%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column '{lay['date']}' line {lines[i]}: {shown(df.loc[i, lay['date']])} "
            "is not a YYYY-MM-DD date"
        )
    mapping = {
        n.lower(): code
        for code, c in params.categories.items()
        for n in c.raw.get(lay["scheme"], [])
    }
    cat = df[lay["category"]].fillna("").str.strip().str.lower().map(mapping)
    if cat.isna().any():
        i = cat.isna().idxmax()
        raise SourceError(
            f"{path}: column '{lay['category']}' line {lines[i]}: unknown value "
            f"{shown(df.loc[i, lay['category']])} (not in categories.yaml {lay['scheme']} names)"
        )
    ids = df[lay["id"]].fillna("").str.strip()
    if (ids == "").any():
        i = (ids == "").idxmax()
        raise SourceError(f"{path}: column '{lay['id']}' line {lines[i]}: empty reference")
    q = {"rows_read": len(df)}
    dup = ids.duplicated()
    q["duplicates_dropped"] = int(dup.sum())
    out = pd.DataFrame(
        {
            "incident_id": (extract + "-" + ids).to_numpy(),
            "date": dates.to_numpy(),
            "date_precision": "day",
            "source": lay["source"],
            "category": cat.to_numpy(),
            "lsoa_code": df["lsoa_code"].fillna("").str.strip().to_numpy(),
            "victim_id": None,
            "hate_strand": None,
            "severity": None,
        }
    )
    for f in FLAGS:
        out[f] = _flag(df[f], path, f, lines).to_numpy() if f in df.columns else False
    if "victim_ref" in df.columns and df["victim_ref"].notna().any():
        key = pseudonymisation_key(path, key_env, "victim references")
        out["victim_id"] = pseudonymise(df["victim_ref"], key).to_numpy()
    if "hate_strand" in df.columns:
        hs = df["hate_strand"].fillna("").str.strip().str.lower().str.replace(" ", "_")
        bad = (hs != "") & ~hs.isin(HATE_STRANDS)
        if bad.any():
            i = bad.idxmax()
            raise SourceError(
                f"{path}: column 'hate_strand' line {lines[i]}: {shown(df.loc[i, 'hate_strand'])} "
                f"is not one of {HATE_STRANDS}"
            )
        out["hate_strand"] = hs.where(hs != "", None).to_numpy()
    _optional_volt(df, out, path, lines, key_env)
    out = out[~dup.to_numpy()].reset_index(drop=True)
    q["rows_kept"] = len(out)
    return out, q


#: optional columns any extract may carry (victim / offender / location / time profiles)
OPTIONAL_COLUMNS = (
    "time_from",
    "time_to",
    "victim_age_band",
    "victim_sex",
    "offender_ref",
    "offender_age_band",
    "location_type",
    "outcome_group",
    "caller_ref",
    "easting",
    "northing",
)
SEX_CODES = {"f": "female", "female": "female", "m": "male", "male": "male", "other": "other"}


def _optional_volt(df, out, path, lines, key_env) -> None:
    """Parse the optional VOLT columns present in ``df`` into ``out`` (in place). A missing
    column means "not available", never an error; a bad value is an error naming the file,
    column and line (reference columns are never echoed)."""
    from kcpp_analysis.config.models import AGE_BANDS, LOCATION_TYPES

    def bad(col, mask, what, echo=True):
        i = mask.idxmax()
        value = f"{shown(df.loc[i, col])} " if echo else ""
        raise SourceError(f"{path}: column '{col}' line {lines[i]}: {value}{what}")

    for col in ("time_from", "time_to"):
        if col in df.columns:
            raw = df[col].fillna("").str.strip()
            t = pd.to_datetime(raw, format="%Y-%m-%d %H:%M", errors="coerce")
            m = (raw != "") & t.isna()
            if m.any():
                bad(col, m, "is not a YYYY-MM-DD HH:MM time")
            out[col] = t.to_numpy()
    for col in ("victim_age_band", "offender_age_band"):
        if col in df.columns:
            v = df[col].fillna("").str.strip()
            m = (v != "") & ~v.isin(AGE_BANDS)
            if m.any():
                bad(col, m, f"is not one of {', '.join(AGE_BANDS)}")
            out[col] = v.where(v != "", None).to_numpy()
    if "victim_sex" in df.columns:
        v = df["victim_sex"].fillna("").str.strip().str.lower()
        m = (v != "") & ~v.isin(SEX_CODES)
        if m.any():
            bad("victim_sex", m, "is not female, male or other")
        out["victim_sex"] = v.map(SEX_CODES).to_numpy()
    if "location_type" in df.columns:
        v = df["location_type"].fillna("").str.strip().str.lower()
        m = (v != "") & ~v.isin(LOCATION_TYPES)
        if m.any():
            bad("location_type", m, f"is not one of {', '.join(LOCATION_TYPES)}")
        out["location_type"] = v.where(v != "", None).to_numpy()
    if "outcome_group" in df.columns:
        v = df["outcome_group"].fillna("").str.strip()
        out["outcome_group"] = v.where(v != "", None).to_numpy()
    for col, dest in (("offender_ref", "offender_id"), ("caller_ref", "caller_id")):
        if col in df.columns and df[col].notna().any():
            key = pseudonymisation_key(path, key_env, f"{col} values")
            # the same keyed hash as victims, so a person who is both can be counted
            out[dest] = pseudonymise(df[col], key).to_numpy()
    for col, dest, hi in (("easting", "x", 800_000), ("northing", "y", 1_400_000)):
        if col in df.columns:
            raw = df[col].fillna("").str.strip()
            v = pd.to_numeric(raw, errors="coerce")
            m = ((raw != "") & v.isna()) | (v < 0) | (v > hi)
            if m.any():
                bad(col, m, f"is not a British National Grid {col} in metres (0 to {hi:,})")
            out[dest] = v.to_numpy(dtype=float)


class PartnerExtract(Entry):
    kind: Literal["partner_extract"]
    extract: Literal[tuple(LAYOUTS)]  # type: ignore[valid-type]
    path: str  # a file or a glob: every file it matches is read
    victim_key_env: str = "KCPP_PSEUDONYM_KEY"  # env var holding the pseudonymisation secret


def _read(e: PartnerExtract, rc: ReadContext) -> ReadResult:
    files = rc.resolve(e.path)
    parts = [read_partner_extract(x, e.extract, rc.params, key_env=e.victim_key_env) for x in files]
    df = pd.concat([d for d, _ in parts], ignore_index=True)
    q = {k: sum(int(qq.get(k, 0)) for _, qq in parts) for k in parts[0][1]}
    q["files"] = len(parts)
    dup = df["incident_id"].duplicated()
    if dup.any():  # the same reference in two files: kept once, counted
        q["duplicates_dropped"] = q.get("duplicates_dropped", 0) + int(dup.sum())
        df = df[~dup].reset_index(drop=True)
    return ReadResult(df, q, tuple(files))


register(
    SourceKind(
        "partner_extract",
        PartnerExtract,
        "incidents",
        _read,
        produces=tuple(sorted({v["source"] for v in LAYOUTS.values()})),
        once=False,
        description="partner extracts: police crime (with victim references and flags), police "
        "ASB, council ASB and fly-tipping, fire-service deliberate fires",
    )
)
