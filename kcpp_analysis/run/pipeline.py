"""``kcpp report``: execute the theme notebooks and the overview, export HTML.

Steps:

1. validate every params file, the report parameters (year format, known themes) and the
   prepared dataset (full schema validation) **before** any notebook runs;
2. execute ``notebooks/theme_report.ipynb`` once per theme and ``notebooks/sia_overview.ipynb``
   with papermill, in parallel worker processes (default: one per core), each notebook with
   its own kernel and working directory;
3. convert each executed notebook to self-contained HTML with code hidden (nbconvert);
4. write ``index.html`` and ``run.log``; check that no victim identifier from the dataset
   appears in any file of the set (HTML, tables, executed notebooks, saved results, index,
   log and the manifest itself);
5. write ``manifest.json`` listing every file with its size, SHA-256 and owner (the
   notebook that wrote it), flush every file to disk and verify it against the manifest.

Everything is written into a marked staging folder beside the target while holding the
target's lock (:mod:`kcpp_analysis.core.outputset`: one writer per folder, workers die with the
run, abandoned staging folders are removed by the next run). Only a set in which every
notebook succeeded, the privacy check passed and every file verified replaces
``outputs/<year>/``, by an atomic exchange of folder names. Otherwise the previous set is
left untouched, this run's output is kept in ``outputs/<year>.failed/`` for diagnosis
(failed notebooks keep their executed copy with the error under ``notebooks/``; the other
notebooks still run) and the exit status is non-zero.

``--themes`` (some themes only) updates those themes and the overview in the published set
and carries the other themes' files over unchanged, provided the published set was built
from the same dataset, parameters, SIA year and code (else it is refused with the
reason); ``index.html`` and ``manifest.json`` give each page's build time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing as mp
import os
import platform
import re
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import ConfigError, KcppError
from kcpp_analysis.core.outputset import (
    MARKER,
    die_with_parent,
    discard,
    exclusive,
    inventory,
    new_staging,
    remove_abandoned,
    swap_in,
    verify,
)
from kcpp_analysis.core.paths import PACKAGE_DIR, default_outputs_dir, notebooks_dir
from kcpp_analysis.core.periods import check_fy_label, fy_bounds
from kcpp_analysis.data.dataset import Dataset, load_dataset

log = logging.getLogger(__name__)

THEME_TEMPLATE = "theme_report.ipynb"
OVERVIEW_TEMPLATE = "sia_overview.ipynb"
PACKAGES = [
    "kcpp-analysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "pandera",
    "pydantic",
    "duckdb",
    "pyarrow",
]


class NotebookParameters(BaseModel):
    """Parameters injected into a notebook: plain validated literals only."""

    model_config = ConfigDict(extra="forbid")
    year: str
    data_dir: str
    output_dir: str
    theme: str | None = None

    _fy = field_validator("year")(check_fy_label)

    @field_validator("data_dir", "output_dir")
    @classmethod
    def _plain_path(cls, v: str) -> str:
        if "\n" in v or "\x00" in v:
            raise ValueError("paths must be a single line")
        return v


@dataclass
class NotebookResult:
    name: str
    kind: Literal["theme", "overview"]
    title: str
    status: str = "queued"
    seconds: float = 0.0
    error: str = ""
    html: str = ""
    ipynb: str = ""
    built: str = ""  # when the run that built it started (earlier for carried-over themes)
    written: list[str] = field(default_factory=list)  # files it wrote, relative to the set


@dataclass
class RunResult:
    out_dir: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    published: bool = True
    problems: list[str] = field(default_factory=list)  # why the set was not published

    @property
    def ok(self) -> bool:
        return (
            self.published
            and not self.problems
            and all(n.status == "succeeded" for n in self.notebooks)
        )

    @property
    def failures(self) -> list[str]:
        out = [
            f"{n.name}: {n.error} (executed notebook kept at {self.out_dir / n.ipynb})"
            for n in self.notebooks
            if n.status != "succeeded"
        ]
        return out + self.problems


def year_slug(year: str) -> str:
    """``'2025/26'`` -> ``'2025-26'`` (folder name)."""
    return check_fy_label(year).replace("/", "-")


def _ipc_kernel_manager():
    """A Jupyter kernel manager on IPC sockets (files named by the kernel's unique id).

    With TCP, kernels started at the same moment can pick the same free port and one dies
    ("Address already in use": seen as "Kernel died before replying to kernel_info"). IPC
    sockets are files (``kernel-ipc-<n>``) in the current folder, which papermill sets to
    each notebook's own working folder (``cwd``), so two kernels never share one.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.transport = "ipc"

    return IPCKernelManager


def _execute_one(job: dict) -> dict:
    """Worker: run one notebook with papermill, then export HTML. Returns a status dict."""
    import warnings

    import nbformat
    import papermill as pm

    t0 = time.perf_counter()
    work = Path(job["workdir"])
    work.mkdir(parents=True, exist_ok=True)
    # the kernel inherits this worker's stderr: keep its chatter out of the terminal and put
    # it in the run log instead (returned below)
    errlog = work / "kernel-stderr.log"
    fd = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    (work / ".started").write_text("1")
    ledger = work / "written.txt"
    os.environ["KCPP_WRITE_LEDGER"] = str(ledger)  # the kernel inherits it
    out = {"name": job["name"], "status": "succeeded", "error": "", "seconds": 0.0}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pm.execute_notebook(
                job["template"],
                job["ipynb"],
                parameters=job["parameters"],
                kernel_name="python3",
                cwd=str(work),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                kernel_manager_class=_ipc_kernel_manager(),
            )
    except pm.PapermillExecutionError as exc:
        out.update(
            status="failed",
            error=f"cell {exc.exec_count} raised {exc.ename}: {str(exc.evalue)[:300]}",
        )
    except Exception as exc:  # kernel died, template missing, ...
        out.update(status="failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
    if out["status"] == "succeeded":
        try:
            nb = nbformat.read(job["ipynb"], as_version=4)
            errors = [
                o
                for c in nb.cells
                if c.cell_type == "code"
                for o in c.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            if errors:
                raise RuntimeError(f"notebook holds {len(errors)} error output(s)")
            out["stderr_outputs"] = strip_stderr(nb)
            nb.metadata["kcpp"] = job.get("page_meta", {})
            body = export_html(nb, job["title"])
            tmp = Path(job["html"]).with_suffix(".html.tmp")
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(job["html"])
        except Exception as exc:
            out.update(status="failed", error=f"HTML export failed: {exc}")
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["written"] = ledger.read_text(encoding="utf-8").split() if ledger.exists() else []
    out["kernel_stderr"] = errlog.read_text(errors="replace")[-4000:] if errlog.exists() else ""
    return out


NBCONVERT_TEMPLATES = PACKAGE_DIR / "report" / "nbconvert"


def strip_stderr(nb) -> str:
    """Remove stderr stream outputs (warnings) from an executed notebook; return their text.

    Warnings belong in ``run.log``, never on a published page.
    """
    text = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        keep = []
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                text.append(o.get("text", ""))
            else:
                keep.append(o)
        c["outputs"] = keep
    return "".join(text)


def export_html(nb, title: str) -> str:
    """HTML through the ``kcpp`` nbconvert template (extends ``lab``): code hidden, cells
    tagged ``remove-cell`` (and papermill's injected parameters) dropped."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cfg = Config()
    cfg.TagRemovePreprocessor.enabled = True
    cfg.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "injected-parameters"}
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    exporter = HTMLExporter(
        config=cfg,
        template_name="kcpp",
        extra_template_basedirs=[str(NBCONVERT_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def page_meta(params: Params, ds: Dataset, year: str) -> dict:
    """The document-control facts the nbconvert template prints on every page."""
    from kcpp_analysis.report.context import document_control

    d = document_control(params, ds, year)
    d["synthetic"] = bool(d["synthetic"])
    d["marking_css"] = re.sub(r"[^A-Za-z0-9 \-]", "", d["marking"])[:60] or "OFFICIAL"
    d["index_href"] = "index.html"
    return d


def _versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            v[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            v[p] = "not installed"
    return v


def _resolve_dataset(data: Path | None, params: Params) -> tuple[Path, Dataset, float]:
    t0 = time.perf_counter()
    if data is None:
        from kcpp_analysis.data.prepare.demo import prepare_demo

        data = prepare_demo(params=params)
    data = Path(data).resolve()
    ds = load_dataset(data, validate=True, params=params)
    return data, ds, time.perf_counter() - t0


def _check_year(ds: Dataset, year: str) -> None:
    s, e = fy_bounds(year)
    lo, hi = ds.coverage
    if s < lo or e > hi:
        raise ConfigError(
            f"SIA year {year} ({s.date()} to {e.date()}) is not covered by the "
            f"dataset ({lo.date()} to {hi.date()}); choose --year within it"
        )


def _victim_tokens(ds: Dataset) -> set[str]:
    v = ds.incidents["victim_id"].dropna()
    return set(v.astype(str).unique())


_TOKEN = re.compile(r"[A-Za-z0-9_\-]{6,}")


def _leaks(folder: Path, victims: set[str], extra: dict[str, str] | None = None) -> list[str]:
    """Files of ``folder`` (and named ``extra`` texts) holding a victim identifier.

    Every file is scanned: text files as text; parquet files by their string columns.
    Returns ``"<relative path> (<n> victim id(s))"`` per leaking file; never the ids.
    """
    if not victims:
        return []
    texts: dict[str, str] = dict(extra or {})
    found = []
    for p in sorted(Path(folder).rglob("*")):
        if not p.is_file() or p.name == MARKER:
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            t = pq.read_table(p)
            vals = [
                str(v)
                for c in t.column_names
                if str(t.schema.field(c).type) in ("string", "large_string")
                for v in t.column(c).to_pylist()
                if v is not None
            ]
            texts[rel] = "\n".join(vals)
        else:
            texts[rel] = p.read_text(encoding="utf-8", errors="replace")
    for rel, text in texts.items():
        hits = {t for t in _TOKEN.findall(text) if t in victims}
        if hits:
            found.append(f"{rel} ({len(hits)} victim id(s))")
    return found


def _index_html(
    results: list[NotebookResult], year: str, ds: Dataset, manifest: dict, params: Params
) -> str:
    """The report set's index page (Jinja2 template, autoescaped)."""
    from kcpp_analysis.report.render import render

    css = (NBCONVERT_TEMPLATES / "kcpp" / "kcpp.css").read_text(encoding="utf-8")
    return render(
        "index.html.j2",
        results=results,
        doc=page_meta(params, ds, year),
        created=manifest["created"],
        css=css,
        synthetic=ds.meta.get("synthetic_tables") or [],
    )


def _progress(console, results: list[NotebookResult]):
    from rich.table import Table

    t = Table(title="kcpp report", show_edge=False)
    t.add_column("notebook")
    t.add_column("status")
    t.add_column("time", justify="right")
    colour = {"queued": "dim", "running": "yellow", "succeeded": "green", "failed": "bold red"}
    for r in results:
        label = "done" if r.status == "succeeded" else r.status
        t.add_row(
            r.title, f"[{colour[r.status]}]{label}[/]", f"{r.seconds:.1f}s" if r.seconds else ""
        )
    return t


def run_report(
    *,
    data: str | Path | None = None,
    year: str | None = None,
    themes: list[str] | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
    notebooks: str | Path | None = None,
    params_dir: str | Path | None = None,
    console=None,
) -> RunResult:
    """Build the report set; see the module docstring for the steps.

    Parameters
    ----------
    data : path, optional
        Prepared dataset; None prepares (or reuses, by content hash) the demo dataset.
    year : str, optional
        SIA financial year (default ``params/sia.yaml``'s ``sia_year``).
    themes : list of str, optional
        Theme ids (default: all). The overview always runs.
    jobs : int, optional
        Parallel notebooks (default: number of cores).
    out : path, optional
        Outputs root (default ``outputs/``); the set goes to ``<out>/<year-slug>/``.
    notebooks : path, optional
        Folder with the two notebook templates (default: the project's ``notebooks/``).

    Raises
    ------
    KcppError
        For invalid parameters or dataset, before any notebook runs.
    """
    t_start = time.perf_counter()
    params = load_params(params_dir)
    year = year or params.sia.sia_year
    try:
        check_fy_label(year)
    except ValueError as exc:
        raise ConfigError(f"--year: {exc}") from None
    themes = list(themes or params.themes)
    unknown = [t for t in themes if t not in params.themes]
    if unknown:
        raise ConfigError(f"--themes: unknown theme(s) {unknown}; known: {list(params.themes)}")
    # every path is made absolute once, here: notebooks run in their own working folders
    nb_dir = (Path(notebooks) if notebooks else notebooks_dir()).resolve()
    for t in (THEME_TEMPLATE, OVERVIEW_TEMPLATE):
        if not (nb_dir / t).exists():
            raise KcppError(f"notebook template {nb_dir / t} not found")
    data_path, ds, t_data = _resolve_dataset(Path(data) if data else None, params)
    _check_year(ds, year)
    jobs = max(1, jobs or os.cpu_count() or 1)

    root = (Path(out) if out else default_outputs_dir()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    final = root / year_slug(year)
    if final.exists() and not _is_report_set(final):
        raise KcppError(
            f"{final} exists and is not a kcpp report set (no manifest.json naming an SIA "
            "year); refusing to replace it. Move it, or choose another --out."
        )
    with exclusive(final):
        remove_abandoned(final)
        stage = new_staging(final)
        try:
            carried = _carry_over(final, stage, themes, params, ds, year, nb_dir)
        except BaseException:
            discard(stage)
            raise
        (stage / "notebooks").mkdir(exist_ok=True)
        (stage / "tables").mkdir(exist_ok=True)
        # the run's own log file: INFO and above from this package, whatever the caller set
        pkg_log = logging.getLogger("kcpp_analysis")
        old_level = pkg_log.level
        handler = logging.FileHandler(stage / "run.log", encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        pkg_log.addHandler(handler)
        if pkg_log.getEffectiveLevel() > logging.INFO:
            pkg_log.setLevel(logging.INFO)
        try:
            return _run(
                params,
                ds,
                data_path,
                year,
                themes,
                jobs,
                nb_dir,
                stage,
                final,
                console,
                t_start,
                t_data,
                handler,
                carried,
            )
        except BaseException:
            discard(stage)
            raise
        finally:
            pkg_log.removeHandler(handler)
            pkg_log.setLevel(old_level)
            handler.close()


def _is_report_set(folder: Path) -> bool:
    """True for a folder ``kcpp report`` wrote (its manifest names an SIA year)."""
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and "sia_year" in m


def _relative(paths: list[str], stage: Path) -> list[str]:
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
    import hashlib

    pkg = PACKAGE_DIR
    h = hashlib.sha256()
    files = sorted(
        p for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".css", ".tpl")
    )
    files += [Path(nb_dir) / THEME_TEMPLATE, Path(nb_dir) / OVERVIEW_TEMPLATE]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _carry_over(
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


def _run(
    params,
    ds,
    data_path,
    year,
    themes,
    jobs,
    nb_dir,
    stage,
    final,
    console,
    t_start,
    t_data,
    handler: logging.Handler,
    carried: list[NotebookResult],
) -> RunResult:
    # kernels' own stderr goes to run.log only, never to the console
    kernel_log = logging.getLogger("kcpp_analysis.kernels")
    kernel_log.propagate = False
    kernel_log.setLevel(logging.INFO)
    for h in list(kernel_log.handlers):
        kernel_log.removeHandler(h)
    kernel_log.addHandler(handler)
    log.info(
        "kcpp report %s: dataset %s (%s), themes %s, %d job(s)",
        year,
        data_path,
        ds.fingerprint[:12],
        themes,
        jobs,
    )
    results, jobs_list = [], []
    meta = page_meta(params, ds, year)
    specs = [(t, "theme", params.themes[t].title, THEME_TEMPLATE) for t in themes]
    specs.append(("overview", "overview", "SIA overview: plan on a page", OVERVIEW_TEMPLATE))
    for name, kind, title, template in specs:
        try:
            p = NotebookParameters(
                year=year,
                data_dir=str(data_path),
                output_dir=str(stage),
                theme=name if kind == "theme" else None,
            )
        except ValidationError as exc:  # pragma: no cover - values validated above
            raise ConfigError(str(exc)) from None
        parameters = {k: v for k, v in p.model_dump().items() if v is not None}
        r = NotebookResult(
            name=name, kind=kind, title=title, html=f"{name}.html", ipynb=f"notebooks/{name}.ipynb"
        )
        results.append(r)
        jobs_list.append(
            {
                "name": name,
                "title": title,
                "template": str(nb_dir / template),
                "ipynb": str(stage / r.ipynb),
                "html": str(stage / r.html),
                "workdir": str(stage / ".work" / name),
                "parameters": parameters,
                "page_meta": meta,
            }
        )
    t_exec = time.perf_counter()
    by_name = {r.name: r for r in results}
    ctx = mp.get_context("spawn")
    live = None
    if console is not None:
        from rich.live import Live

        live = Live(
            _progress(console, results), console=console, refresh_per_second=4, transient=False
        )
        live.start()
    try:
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(jobs_list)),
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            # themes first; the overview reads their saved results, so it starts after them
            later = [j for j in jobs_list if j["name"] == "overview"]
            futures = {pool.submit(_execute_one, j): j for j in jobs_list if j not in later}
            pending = set(futures)
            while pending or later:
                if not pending:
                    futures.update({pool.submit(_execute_one, j): j for j in later})
                    pending = {f for f, j in futures.items() if j in later}
                    later = []
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for f in done:
                    j = futures[f]
                    r = by_name[j["name"]]
                    try:
                        res = f.result()
                        r.status, r.error, r.seconds = res["status"], res["error"], res["seconds"]
                        r.written = _relative(res.get("written", []), stage)
                        if res.get("stderr_outputs", "").strip():
                            kernel_log.info(
                                "%s warnings (kept off the page):\n%s",
                                r.name,
                                res["stderr_outputs"].strip()[-8000:],
                            )
                        if res.get("kernel_stderr", "").strip():
                            kernel_log.info(
                                "%s kernel stderr:\n%s", r.name, res["kernel_stderr"].strip()
                            )
                    except Exception as exc:  # worker process died
                        r.status, r.error = "failed", f"worker crashed: {exc}"
                    log.info("%s: %s in %.1fs %s", r.name, r.status, r.seconds, r.error)
                for j in jobs_list:
                    r = by_name[j["name"]]
                    if r.status == "queued" and (Path(j["workdir"]) / ".started").exists():
                        r.status = "running"
                if live:
                    live.update(_progress(console, results))
    finally:
        if live:
            live.stop()
    t_exec = time.perf_counter() - t_exec
    shutil.rmtree(stage / ".work", ignore_errors=True)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    for r in results:
        r.built = created
    # themes carried over from the published set come first, in the params' order
    order = {t: i for i, t in enumerate(params.themes)}
    results = sorted([*carried, *results], key=lambda r: order.get(r.name, len(order)))
    for r in results:
        if r.status != "succeeded":
            (stage / r.html).unlink(missing_ok=True)

    def owner_of(rel: str) -> str:
        for r in results:
            if rel in (r.html, r.ipynb) or rel in r.written:
                return r.name
        return "set"

    manifest = {
        "sia_year": year,
        "created": created,
        "status": "succeeded" if all(r.status == "succeeded" for r in results) else "failed",
        "dataset": {
            "path": str(data_path),
            "fingerprint": ds.fingerprint,
            "synthetic_tables": ds.meta.get("synthetic_tables", []),
            "generator": ds.meta.get("generator"),
            "coverage": ds.meta.get("coverage"),
            "rows": {t: v["rows"] for t, v in ds.meta.get("tables", {}).items()},
        },
        "params_sha256": params.hashes,
        "packages": _versions(),
        "code_sha256": code_hash(nb_dir),
        "jobs": jobs,
        "themes_run": [*themes, "overview"],
        "notebooks": [
            {
                "name": r.name,
                "kind": r.kind,
                "title": r.title,
                "status": r.status,
                "seconds": r.seconds,
                "error": r.error,
                "html": r.html if r.status == "succeeded" else None,
                "ipynb": r.ipynb,
                "built": r.built,
            }
            for r in results
        ],
        "tables": sorted(p.name for p in (stage / "tables").glob("*.csv")),
        "privacy_check": "not run",
        "timings_seconds": {
            "load_and_validate": round(t_data, 2),
            "execute_and_export": round(t_exec, 2),
        },
    }
    (stage / "index.html").write_text(
        _index_html(results, year, ds, manifest, params), encoding="utf-8"
    )
    log.info("notebooks finished: %s", manifest["status"])
    handler.flush()

    # privacy: no victim identifier may appear in any file of the set, the manifest included
    leaks = _leaks(stage, _victim_tokens(ds), extra={"manifest.json": json.dumps(manifest)})
    for leak in leaks:
        log.error("privacy check failed: %s", leak)
    if leaks:
        for r in results:
            if any(leak.startswith((r.html, r.ipynb)) for leak in leaks):
                r.status, r.error = "failed", "victim identifiers found in the output"
        for leak in leaks:  # never keep a leaking file, even unpublished
            (stage / leak.split(" (")[0]).unlink(missing_ok=True)
        manifest["status"] = "failed"
    manifest["privacy_check"] = "passed" if not leaks else f"failed: {leaks}"
    manifest["timings_seconds"]["total"] = round(time.perf_counter() - t_start, 2)
    skip = {"manifest.json", "run.log"}
    files = inventory(stage, skip=skip)
    manifest["files"] = {rel: {**v, "owner": owner_of(rel)} for rel, v in files.items()}
    text = json.dumps(manifest, indent=2) + "\n"
    (stage / "manifest.json").write_text(text, encoding="utf-8")
    handler.flush()

    # verify every file against the manifest on disk; publish only a complete, clean set
    problems = verify(stage, manifest["files"], skip=skip)
    problems += [f"privacy check failed: {leak}" for leak in leaks]
    published = manifest["status"] == "succeeded" and not problems
    if published:
        log.info("report set verified (%d files); publishing to %s", len(files), final)
        handler.flush()
        swap_in(stage, final)
        return RunResult(out_dir=final, notebooks=results, manifest=manifest)
    for pr in problems:
        log.error("not published: %s", pr)
    handler.flush()
    failed = final.with_name(f"{final.name}.failed")
    kept = stage
    if not failed.exists() or (failed / MARKER).is_file():
        discard(failed)
        stage.rename(failed)
        kept = failed
    return RunResult(
        out_dir=kept, notebooks=results, manifest=manifest, published=False, problems=problems
    )
