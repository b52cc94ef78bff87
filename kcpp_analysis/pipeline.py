"""``kcpp report``: execute the theme notebooks and the overview, export HTML.

Steps:

1. validate every params file, the report parameters (year format, known themes) and the
   prepared dataset (full schema validation) **before** any notebook runs;
2. execute ``notebooks/theme_report.ipynb`` once per theme and ``notebooks/sia_overview.ipynb``
   with papermill, in parallel worker processes (default: one per core), each notebook with
   its own kernel and working directory;
3. convert each executed notebook to self-contained HTML with code hidden (nbconvert);
4. check that no victim identifier from the dataset appears in any HTML, table or executed
   notebook;
5. write ``index.html``, ``manifest.json`` and ``run.log``.

Everything is written into a staging folder beside the target; only when the run has
finished (successfully or with failed themes, which are marked as such) does the staging
folder replace ``outputs/<year>/``. An interrupted run leaves the previous report set
untouched, so a stale HTML never looks current. A failed notebook keeps its executed copy
(with the error) under ``notebooks/``, is marked failed in ``index.html`` and
``manifest.json``, and makes the run's exit status non-zero; the other notebooks still run.
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

from .config import Params, check_fy_label, load_params
from .dataset import Dataset, load_dataset
from .errors import ConfigError, KcppError
from .paths import default_outputs_dir, notebooks_dir
from .periods import fy_bounds

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


@dataclass
class RunResult:
    out_dir: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(n.status == "succeeded" for n in self.notebooks)

    @property
    def failures(self) -> list[str]:
        return [
            f"{n.name}: {n.error} (executed notebook kept at {n.ipynb})"
            for n in self.notebooks
            if n.status != "succeeded"
        ]


def year_slug(year: str) -> str:
    """``'2025/26'`` -> ``'2025-26'`` (folder name)."""
    return check_fy_label(year).replace("/", "-")


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
    out["kernel_stderr"] = errlog.read_text(errors="replace")[-4000:] if errlog.exists() else ""
    return out


NBCONVERT_TEMPLATES = Path(__file__).resolve().parent / "report" / "nbconvert"


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
    from .report.context import document_control

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
        from .prepare import prepare_demo

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


def _leaks(paths: list[Path], victims: set[str]) -> list[str]:
    if not victims:
        return []
    token = re.compile(r"[A-Za-z0-9_\-]{6,}")
    found = []
    for p in paths:
        text = p.read_text(encoding="utf-8", errors="replace")
        hits = {t for t in token.findall(text) if t in victims}
        if hits:
            found.append(f"{p.name} ({len(hits)} victim id(s))")
    return found


def _index_html(
    results: list[NotebookResult], year: str, ds: Dataset, manifest: dict, params: Params
) -> str:
    """The report set's index page (Jinja2 template, autoescaped)."""
    from .report.render import render

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
    nb_dir = Path(notebooks) if notebooks else notebooks_dir()
    for t in (THEME_TEMPLATE, OVERVIEW_TEMPLATE):
        if not (nb_dir / t).exists():
            raise KcppError(f"notebook template {nb_dir / t} not found")
    data_path, ds, t_data = _resolve_dataset(Path(data) if data else None, params)
    _check_year(ds, year)
    jobs = max(1, jobs or os.cpu_count() or 1)

    root = Path(out) if out else default_outputs_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / year_slug(year)
    stage = root / f".{final.name}.staging-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "notebooks").mkdir(parents=True)
    (stage / "tables").mkdir()
    # the run's own log file: INFO and above from this package, whatever the caller configured
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
        )
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        pkg_log.removeHandler(handler)
        pkg_log.setLevel(old_level)
        handler.close()


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
        with ProcessPoolExecutor(max_workers=min(jobs, len(jobs_list)), mp_context=ctx) as pool:
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

    # privacy: no victim identifier may appear in any output
    outputs = [stage / r.html for r in results if r.status == "succeeded"]
    outputs += sorted((stage / "tables").glob("*.csv")) + sorted(
        (stage / "notebooks").glob("*.ipynb")
    )
    leaks = _leaks(outputs, _victim_tokens(ds))
    if leaks:
        for r in results:
            if any(leak.startswith(r.html) for leak in leaks):
                r.status, r.error = "failed", "victim identifiers found in the output"
                (stage / r.html).unlink(missing_ok=True)
        for leak in leaks:
            log.error("privacy check failed: %s", leak)
        for f in [*(stage / "tables").glob("*.csv"), *(stage / "notebooks").glob("*.ipynb")]:
            if any(leak.startswith(f.name) for leak in leaks):
                f.unlink()
    for r in results:
        if r.status != "succeeded":
            (stage / r.html).unlink(missing_ok=True)

    manifest = {
        "sia_year": year,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
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
        "jobs": jobs,
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
            }
            for r in results
        ],
        "tables": sorted(p.name for p in (stage / "tables").glob("*.csv")),
        "privacy_check": "passed" if not leaks else f"failed: {leaks}",
        "timings_seconds": {
            "load_and_validate": round(t_data, 2),
            "execute_and_export": round(t_exec, 2),
            "total": round(time.perf_counter() - t_start, 2),
        },
    }
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (stage / "index.html").write_text(
        _index_html(results, year, ds, manifest, params), encoding="utf-8"
    )
    log.info(
        "report set finished in %.1fs: %s", manifest["timings_seconds"]["total"], manifest["status"]
    )
    handler.flush()
    # atomic swap: the previous set is replaced only now
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    stage.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return RunResult(out_dir=final, notebooks=results, manifest=manifest)
