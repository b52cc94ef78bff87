"""One SHA-256 helper for files, bytes and file trees (fingerprints, manifests, caches)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (:func:`hashlib.file_digest`).

    >>> import tempfile, os
    >>> fd, p = tempfile.mkstemp(); os.write(fd, b"abc"); os.close(fd)
    3
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    >>> os.remove(p)
    """
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_bytes(data: bytes | str) -> str:
    """Hex SHA-256 of bytes (text is encoded as UTF-8).

    >>> sha256_bytes("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def sha256_files(files: Iterable[tuple[str, Path]]) -> str:
    """One SHA-256 over named files (name, NUL, bytes, NUL for each, in the order given):
    changes when any file's name or content changes."""
    h = hashlib.sha256()
    for name, path in files:
        h.update(name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return h.hexdigest()
