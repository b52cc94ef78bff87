"""Carrying pages over from the published set, only when it was built from the same inputs.

Two uses: ``--themes`` (the other themes' pages are carried over) and a re-run with nothing
changed (every page, PDFs included, is carried over instead of being computed again; pass
``--fresh`` to recompute). "The same inputs" is :func:`run_inputs`: the dataset's
fingerprint, the SHA-256 of every parameters file, the SIA year, the code and its resources
(:func:`code_hash`), the package versions and last year's published set (this year's tables
are protected together with it)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.hashing import sha256_file, sha256_files
from kcpp_analysis.core.paths import PACKAGE_DIR
from kcpp_analysis.core.periods import previous_fy
from kcpp_analysis.data.dataset import Dataset
from kcpp_analysis.run.pipeline.plan import OVERVIEW_TEMPLATE, THEME_TEMPLATE, NotebookResult

log = logging.getLogger(__name__)


def is_report_set(folder: Path) -> bool:
    """True for a folder ``kcpp report`` wrote (its manifest names an SIA year)."""
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and "sia_year" in m


def foreign_files(folder: Path, listed, keep=("manifest.json", "run.log")) -> list[str]:
    """Files inside ``folder`` that the tool did not write (not ``listed``, relative paths):
    a set is replaced as a whole, so they would be lost."""
    listed = set(listed) | set(keep)
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() or p.is_symlink():
            rel = p.relative_to(folder).as_posix()
            if rel not in listed:
                out.append(rel)
    return out


def relative_to_set(paths: list[str], stage: Path) -> list[str]:
    out = []
    for p in paths:
        try:
            out.append(Path(p).resolve().relative_to(stage.resolve()).as_posix())
        except ValueError:
            continue
    return sorted(set(out))


def code_hash(nb_dir: Path) -> str:
    """SHA-256 over the toolkit's files (source, templates, styles and the reference
    extracts in ``resources/``) and the two notebook templates.

        The package version does not change with every commit; this does, so a partial run
        never merges pages built by two versions of the code.
    """
    files = [
        (p.relative_to(PACKAGE_DIR).as_posix(), p)
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    files += [(t, Path(nb_dir) / t) for t in (THEME_TEMPLATE, OVERVIEW_TEMPLATE)]
    return sha256_files(files)


def previous_set_hash(final: Path, year: str) -> str:
    """SHA-256 of last year's published manifest beside ``final`` ("absent" when none): this
    year's small cells are protected together with what that set published."""
    prev = final.parent / previous_fy(year).replace("/", "-") / "manifest.json"
    try:
        return sha256_file(prev)
    except OSError:
        return "absent"


def run_inputs(params: Params, ds: Dataset, year: str, nb_dir: Path, final: Path) -> dict:
    """Everything a set's pages are computed from; the manifest records it as ``inputs``."""
    from kcpp_analysis.run.pipeline.publish import versions

    return {
        "dataset": ds.fingerprint,
        "parameters": params.hashes,
        "SIA year": year,
        "code": code_hash(nb_dir),
        "packages": versions(),
        "last year's set": previous_set_hash(final, year),
    }


def differences(manifest: dict, inputs: dict) -> list[str]:
    """The inputs in which a published set's manifest differs from this run's, by name
    (with a reason when the set cannot be reused at all)."""
    old = manifest.get("inputs")
    if not isinstance(old, dict):
        return ["inputs (the published set is from an older kcpp)"]
    out = [k for k, v in inputs.items() if old.get(k) != v]
    if manifest.get("status") != "succeeded" or "files" not in manifest:
        out.append("status (the published set is incomplete)")
    return out


def reusable(final: Path, inputs: dict) -> dict | None:
    """The published set's manifest when every page of it can be reused as it is (same
    inputs, complete, every file present and unchanged), else None."""
    if not is_report_set(final):
        return None
    m = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    if differences(m, inputs):
        return None
    from kcpp_analysis.core.outputset import verify

    if verify(final, m["files"], skip={"manifest.json", "run.log"}):
        return None  # a file was changed or removed since: compute again
    return m


def carried_results(m: dict, names: set[str], params: Params) -> list[NotebookResult]:
    """The notebooks ``names`` of a published manifest, as results of this run."""
    own = {f: meta.get("owner", "") for f, meta in m["files"].items()}
    keep = []
    for nb in m["notebooks"]:
        if nb["name"] in names and (nb["kind"] == "overview" or nb["name"] in params.themes):
            keep.append(
                NotebookResult(
                    name=nb["name"],
                    kind=nb["kind"],
                    title=nb["title"]
                    if nb["kind"] == "overview"
                    else params.themes[nb["name"]].title,
                    status=nb["status"],
                    seconds=nb.get("seconds", 0.0),
                    html=nb["html"],
                    ipynb=nb["ipynb"],
                    built=nb.get("built", m.get("created", "")),
                    written=sorted(f for f, o in own.items() if o == nb["name"]),
                )
            )
    return keep


def copy_owned(final: Path, stage: Path, m: dict, names: set[str]) -> None:
    """Copy the files the notebooks ``names`` wrote (their PDFs included) into ``stage``."""
    for rel, meta in sorted(m["files"].items()):
        if meta.get("owner", "") in names:
            src, dst = final / rel, stage / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def carry_over(
    final: Path,
    stage: Path,
    themes: list[str],
    params: Params,
    inputs: dict,
) -> list[NotebookResult]:
    """For a run of some themes: copy the other themes' files from the published set.

    The published set must have been built from the same inputs (:func:`run_inputs`);
    otherwise mixing the two would publish pages that disagree, so the run is refused.
    Returns the carried-over notebooks (status and build time from the previous manifest).
    """
    rerun = set(themes)
    if rerun >= set(params.themes) or not final.exists():
        return []
    m = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    differs = differences(m, inputs)
    if differs:
        raise ConfigError(
            f"--themes {' '.join(themes)}: the published set {final} differs in "
            f"{', '.join(differs)}, so updating only these themes would mix two versions. "
            "Run every theme (omit --themes), or pass --out to write elsewhere."
        )
    names = {
        nb["name"]
        for nb in m["notebooks"]
        if nb["kind"] == "theme" and nb["name"] not in rerun and nb["name"] in params.themes
    }
    keep = carried_results(m, names, params)
    copy_owned(final, stage, m, {k.name for k in keep})
    log.info("carried over from the published set: %s", sorted(k.name for k in keep))
    return keep
