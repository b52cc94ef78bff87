"""Partial runs (``--themes``): carrying the other themes' pages over from the published
set, only when it was built from the same dataset, parameters, year and code."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.hashing import sha256_files
from kcpp_analysis.core.paths import PACKAGE_DIR
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
    """SHA-256 over the toolkit's source, templates and the two notebook templates.

    The package version does not change with every commit; this does, so a partial run
    never merges pages built by two versions of the code.
    """
    files = [
        (p.relative_to(PACKAGE_DIR).as_posix(), p)
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.is_file() and p.suffix in (".py", ".j2", ".css", ".tpl")
    ]
    files += [(t, Path(nb_dir) / t) for t in (THEME_TEMPLATE, OVERVIEW_TEMPLATE)]
    return sha256_files(files)


def carry_over(
    final: Path,
    stage: Path,
    themes: list[str],
    params: Params,
    ds: Dataset,
    year: str,
    nb_dir: Path,
) -> list[NotebookResult]:
    """For a run of some themes: copy the other themes' files from the published set.

    The published set must have been built from the same dataset (fingerprint), the same
    parameters (SHA-256 of every params file), the same SIA year and the same code
    (:func:`code_hash`: the toolkit's source and the notebook templates);
    otherwise mixing the two would publish pages that disagree, so the run is refused.
    Returns the carried-over notebooks (status and build time from the previous manifest).
    """
    rerun = set(themes)
    if rerun >= set(params.themes) or not final.exists():
        return []
    from kcpp_analysis.core import __version__

    m = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    differs = []
    if m.get("dataset", {}).get("fingerprint") != ds.fingerprint:
        differs.append("dataset")
    if m.get("params_sha256") != params.hashes:
        differs.append("parameters")
    if m.get("sia_year") != year:
        differs.append("SIA year")
    if m.get("packages", {}).get("kcpp-analysis") not in (__version__, None):
        differs.append("kcpp version")
    if m.get("code_sha256") != code_hash(nb_dir):
        differs.append("code (the toolkit or the notebook templates changed)")
    if m.get("status") != "succeeded" or "files" not in m:
        differs.append("status (the published set is incomplete or from an older kcpp)")
    if differs:
        raise ConfigError(
            f"--themes {' '.join(themes)}: the published set {final} differs in "
            f"{', '.join(differs)}, so updating only these themes would mix two versions. "
            "Run every theme (omit --themes), or pass --out to write elsewhere."
        )
    keep = []
    own = {f: meta.get("owner", "") for f, meta in m["files"].items()}
    for nb in m["notebooks"]:
        if nb["kind"] == "theme" and nb["name"] not in rerun and nb["name"] in params.themes:
            keep.append(
                NotebookResult(
                    name=nb["name"],
                    kind="theme",
                    title=params.themes[nb["name"]].title,
                    status=nb["status"],
                    seconds=nb.get("seconds", 0.0),
                    html=nb["html"],
                    ipynb=nb["ipynb"],
                    built=nb.get("built", m.get("created", "")),
                    written=sorted(f for f, o in own.items() if o == nb["name"]),
                )
            )
    names = {k.name for k in keep}
    for rel, owner in sorted(own.items()):
        if owner in names:
            src, dst = final / rel, stage / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    log.info("carried over from the published set: %s", sorted(names))
    return keep
