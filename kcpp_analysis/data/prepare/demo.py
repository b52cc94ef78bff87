"""``kcpp prepare``: build a prepared dataset from the demo generator or a sources file."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.paths import default_prepared_dir
from kcpp_analysis.data.dataset import Dataset, check_files, read_meta, write_dataset
from kcpp_analysis.data.demo.generator import (
    DEFAULT_SEED,
    GENERATOR_VERSION,
    generate_demo,
    generator_fingerprint,
)

log = logging.getLogger(__name__)


def prepare_demo(
    out: str | Path | None = None,
    *,
    seed: int = DEFAULT_SEED,
    params: Params | None = None,
    reuse: bool = True,
    force: bool = False,
) -> Path:
    """Generate the demo dataset and write it to ``out`` (default: the cache, see
    :func:`kcpp_analysis.core.paths.default_prepared_dir`).

    With ``reuse`` (the default) an existing dataset made by the same generator version,
    seed and generator fingerprint (code, reference extract and params,
    :func:`kcpp_analysis.data.demo.generator.generator_fingerprint`), whose files still match their
    recorded hashes, is kept as it is.
    """
    out = (Path(out) if out is not None else default_prepared_dir()).resolve()
    params = params or load_params()
    if reuse and (out / "dataset.json").exists():
        try:
            meta = read_meta(out)
            gen = meta.get("generator", {})
            if (
                gen.get("version") == GENERATOR_VERSION
                and gen.get("seed") == seed
                and gen.get("fingerprint") == generator_fingerprint(params)
            ):
                check_files(out)  # every file still matches its recorded hash
                log.info("reusing demo dataset at %s", out)
                return out
        except Exception as exc:  # stale or damaged: regenerate
            log.info("regenerating demo dataset (%s)", exc)
    t0 = time.perf_counter()
    ds: Dataset = generate_demo(seed=seed, params=params)
    ds.meta["timing_seconds"] = {"generate": round(time.perf_counter() - t0, 2)}
    return write_dataset(ds, out, params=params, force=force)
