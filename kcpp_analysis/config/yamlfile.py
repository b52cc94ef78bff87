"""Reading parameters and sources files safely, and one way to describe a validation error.

Parameters and sources files are parsed with a safe loader that also refuses anchors and
aliases (nested aliases can expand a few lines into gigabytes, "billion laughs") and files
over :data:`MAX_YAML_BYTES`, checked before the file is read. Every pydantic error anywhere
in the toolkit is turned into text by :func:`validation_lines`, so messages read the same.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.hashing import sha256_bytes

MAX_YAML_BYTES = 2_000_000


class NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors (``&name``) and aliases (``*name``)."""

    def compose_node(self, parent, index):
        ev = self.peek_event()
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError(
                f"line {ev.start_mark.line + 1}: YAML aliases (*name) are not allowed in "
                "parameters or sources files"
            )
        if getattr(ev, "anchor", None):
            raise yaml.YAMLError(
                f"line {ev.start_mark.line + 1}: YAML anchors (&name) are not allowed in "
                "parameters or sources files"
            )
        return super().compose_node(parent, index)


def safe_yaml(raw: bytes | str, path: Path | str = ""):
    """Parse YAML text: safe types only, no anchors or aliases, at most
    :data:`MAX_YAML_BYTES`. Raises ``yaml.YAMLError`` (callers name the file).

    >>> safe_yaml("a: 1")
    {'a': 1}
    """
    if len(raw) > MAX_YAML_BYTES:
        raise yaml.YAMLError(f"file is larger than {MAX_YAML_BYTES:,} bytes")
    if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - pure-Python PyYAML
        return yaml.load(raw, Loader=NoAliasLoader)
    # libyaml (about 7x faster): the parse events are checked for anchors and aliases
    # before anything is constructed, so an alias never expands
    for ev in yaml.parse(raw, Loader=yaml.CSafeLoader):
        what = (
            "aliases (*name)"
            if isinstance(ev, yaml.AliasEvent)
            else "anchors (&name)"
            if getattr(ev, "anchor", None)
            else ""
        )
        if what:
            raise yaml.YAMLError(
                f"line {ev.start_mark.line + 1}: YAML {what} are not allowed in "
                "parameters or sources files"
            )
    return yaml.load(raw, Loader=yaml.CSafeLoader)


def read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before reading.

    A FIFO, device or socket (which would block or never end) and an oversized file are
    refused at once with a :class:`ConfigError` naming the file.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: not a regular file (a pipe, device or folder?)")
    if st.st_size > limit:
        raise ConfigError(f"{path}: {what} is larger than {limit:,} bytes")
    return path.read_bytes()


def read_yaml(path: Path, what: str = "parameters file") -> tuple[dict, str]:
    """A YAML file's top-level mapping and the SHA-256 of its bytes."""
    raw = read_regular_file(path, MAX_YAML_BYTES, what)
    try:
        data = safe_yaml(raw, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data, sha256_bytes(raw)


def validation_lines(
    err: ValidationError,
    where: Callable[[tuple], str] | None = None,
    *,
    limit: int = 10,
) -> list[str]:
    """One line per pydantic error: ``key '<dotted location>': <message>``.

    ``where`` may turn an error location into the words naming it (e.g. ``sources[2]``);
    unknown keys read "unknown key (not allowed)". Input values are never echoed (they may
    be large, or identifying).
    """
    out = []
    for e in err.errors()[:limit]:
        loc = tuple(e["loc"])
        msg = "unknown key (not allowed)" if e["type"] == "extra_forbidden" else e["msg"]
        name = where(loc) if where else "key '" + (".".join(map(str, loc)) or "(top level)") + "'"
        out.append(f"{name}: {msg}")
    return out
