"""Executing one notebook in a worker process (papermill) and exporting it to HTML."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kcpp_analysis.run.pipeline.export import export_html, strip_stderr


def ipc_kernel_manager():
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


def execute_one(job: dict) -> dict:
    """Worker: run one notebook with papermill, then export HTML. Returns a status dict."""
    import warnings

    import nbformat
    import papermill as pm

    t0 = time.perf_counter()
    if "environ" in job:  # the run's environment and folder, not the fork server's
        os.environ.clear()
        os.environ.update(job["environ"])
    if "cwd" in job:
        os.chdir(job["cwd"])
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
    os.environ.update(job.get("env", {}))
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
                kernel_manager_class=ipc_kernel_manager(),
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
