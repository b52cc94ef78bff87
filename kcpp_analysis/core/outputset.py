"""Safe output folders: one writer at a time, verified sets, atomic swaps, no orphans.

Used by ``kcpp report`` (report sets under ``outputs/<year>/``) and ``kcpp prepare``
(prepared dataset folders). The rules:

- **One writer per folder.** A run holds an exclusive ``flock`` on ``.<name>.lock`` beside
  the folder for as long as it writes. A second run to the same folder is refused at once
  with the holder's process id. The kernel drops the lock when its holder dies, however it
  dies (SIGKILL included), so a lock is never stale.
- **Staging folders carry a marker** (``.kcpp-staging`` with the owner's process id). While
  holding the lock a run removes staging folders of the same target that carry the marker:
  no live run can own them (it would hold the lock), so they are provably abandoned.
  Folders without the marker are never touched.
- **Verify, then swap.** Every file of a new set is flushed to disk (``fsync``), re-read
  and compared with the size and SHA-256 recorded in its manifest; empty files, leftover
  ``*.tmp`` files and files missing from the manifest fail the check. Only a verified set
  replaces the previous one, by an atomic exchange of the two folder names
  (``renameat2(RENAME_EXCHANGE)``, Linux 3.15+; elsewhere two renames), so readers see the
  old set or the new set, never neither.
- **Workers die with their parent.** :func:`die_with_parent` (a process-pool initializer)
  asks Linux to SIGKILL the worker when the process that started it dies
  (``prctl(PR_SET_PDEATHSIG)``); a worker forked by the run's fork server (which stays up
  while any worker holds it open) also waits on the run's own pidfd and SIGKILLs itself
  when the run ends; Jupyter kernels started by a worker already exit when
  their parent goes (ipykernel's parent poller).

References: flock(2), rename(2) (``RENAME_EXCHANGE``), prctl(2) (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from kcpp_analysis.core.errors import KcppError
from kcpp_analysis.core.hashing import sha256_file

log = logging.getLogger(__name__)

MARKER = ".kcpp-staging"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_PR_SET_PDEATHSIG = 1


class BusyError(KcppError):
    """Another run is writing to the same output folder."""


@contextlib.contextmanager
def exclusive(target: Path, wait: float = 0.0) -> Iterator[Path]:
    """Hold the write lock of folder ``target`` (``.<name>.lock`` beside it).

    ``wait`` seconds are spent retrying (every 0.2 s) before giving up.

    Raises
    ------
    BusyError
        When another process holds it (named by process id).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise BusyError(
                f"another kcpp run (process {holder}) is writing to {target}; wait for it to "
                f"finish or choose another output folder (lock file {lock})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
            raise
        return False
    return True


def new_staging(target: Path, kind: str = "staging") -> Path:
    """Create a marked staging folder beside ``target`` (``.<name>.<kind>-<pid>-<ms>``)."""
    target = Path(target)
    d = target.parent / f".{target.name}.{kind}-{os.getpid()}-{int(time.time() * 1000)}"
    d.mkdir(parents=True)
    (d / MARKER).write_text(json.dumps({"pid": os.getpid(), "created": time.time()}) + "\n")
    return d


def remove_abandoned(target: Path) -> list[Path]:
    """Remove marked staging folders of ``target``; call only while holding its lock.

    Returns the folders removed. Unmarked folders, and folders of other targets, are left.
    """
    target = Path(target)
    gone = []
    for d in sorted(target.parent.glob(f".{target.name}.*-*")):
        if d.is_dir() and not d.is_symlink() and (d / MARKER).is_file():
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
            log.info("removed abandoned staging folder %s", d)
    return gone


def discard(folder: Path) -> None:
    """Remove a folder this module created (it must carry the marker)."""
    folder = Path(folder)
    if folder.is_dir() and (folder / MARKER).is_file():
        shutil.rmtree(folder, ignore_errors=True)


def inventory(folder: Path, skip: set[str] = frozenset()) -> dict[str, dict]:
    """Every file under ``folder`` (relative POSIX path -> bytes, sha256), except ``skip``."""
    folder = Path(folder)
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in skip and rel != MARKER:
            out[rel] = {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
    return out


def verify(folder: Path, files: dict[str, dict], skip: set[str] = frozenset()) -> list[str]:
    """Problems that make ``folder`` unfit to publish (empty list: fit).

    Each file listed in ``files`` must exist, be non-empty, and match its recorded size and
    SHA-256 after being flushed to disk; no other file (except ``skip`` and the marker) may
    exist, and no ``*.tmp`` file may be left.
    """
    folder = Path(folder)
    problems = []
    for rel, want in sorted(files.items()):
        p = folder / rel
        if not p.is_file():
            problems.append(f"{rel}: listed in the manifest but missing")
            continue
        with open(p, "rb") as f:
            os.fsync(f.fileno())
        size = p.stat().st_size
        if size == 0:
            problems.append(f"{rel}: empty file")
        elif size != want["bytes"] or sha256_file(p) != want["sha256"]:
            problems.append(f"{rel}: size or SHA-256 differs from the manifest")
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if not p.is_file() or rel in skip or rel == MARKER:
            continue
        if rel.endswith(".tmp"):
            problems.append(f"{rel}: unfinished temporary file")
        elif rel not in files:
            problems.append(f"{rel}: not listed in the manifest")
    return problems


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the names ``a`` and ``b``; False when the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(e, os.strerror(e), str(a))


def swap_in(stage: Path, target: Path) -> None:
    """Replace ``target`` by ``stage`` (hold the lock); the previous content is removed.

    The old content is removed only after the swap, and only because the caller checked it
    is a folder this tool writes (a report set or a prepared dataset).
    """
    stage, target = Path(stage), Path(target)
    _fsync_dir(stage)
    if target.exists():
        if _exchange(stage, target):
            # the old content now sits at the staging name: mark it, so that a crash before
            # the removal leaves a folder the next run may remove
            (stage / MARKER).write_text(json.dumps({"pid": os.getpid(), "replaced": True}))
            shutil.rmtree(stage, ignore_errors=True)  # now holds the previous content
        else:  # pragma: no cover - non-Linux fallback
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            (old / MARKER).write_text(json.dumps({"pid": os.getpid(), "replaced": True}))
            stage.rename(target)
            shutil.rmtree(old, ignore_errors=True)
    else:
        stage.rename(target)
    (target / MARKER).unlink(missing_ok=True)
    _fsync_dir(target.parent)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def die_with_parent(parent_pid: int) -> None:
    """Process-pool initializer: SIGKILL this worker when the process that forked it dies
    (Linux): the run itself, or the run's fork server, which exits as soon as the run does.

    If the run is already gone when this runs, exit at once.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            pass
    if os.getppid() != parent_pid:
        # forked by the run's fork server, which stays up while any of its workers does:
        # watch the run itself
        _die_with(parent_pid)


def _die_with(pid: int) -> None:
    """SIGKILL this process when process ``pid`` ends (a thread waiting on a Linux pidfd;
    exit at once if it has ended already)."""
    import select
    import threading

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # pragma: no cover - no pidfd (Linux < 5.3)
        fd = None

    def wait() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:  # pragma: no cover
            while _alive(pid):
                time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=wait, name="kcpp-die-with-run", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process holds the pid
        return True
    return True
