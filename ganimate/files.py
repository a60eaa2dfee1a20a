"""Atomic file writes: every file ganimate writes appears whole or not at all.

Writers get a temporary path beside the destination (same folder, so the final rename is atomic on
one file system), write it, and on success it is renamed over the destination; on any failure it is
removed and an existing destination is left untouched.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ganimate.errors import GanimateError

# What a user can do about the usual reasons a write fails.
_WRITE_FIXES = {
    errno.ENOSPC: "free some space or write to another disk",
    errno.EDQUOT: "free some space (disk quota) or write to another disk",
    errno.EROFS: "choose an output on a writable disk",
    errno.EACCES: "choose a folder you can write to, or fix its permissions",
    errno.EPERM: "choose a folder you can write to, or fix its permissions",
    errno.EFBIG: "the file is too large for this file system; write to another disk",
}


def safe_name(text: str) -> str:
    """``text`` as a file name: runs of anything but letters, digits, ``.``, ``_`` and ``-``
    become ``_``, no leading or trailing dot or underscore; never empty."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"


def write_error(path: str | os.PathLike, exc: OSError) -> GanimateError:
    """``cannot write PATH: <reason>; <fix>`` for an OSError raised while writing ``path``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    fix = _WRITE_FIXES.get(exc.errno)
    return GanimateError(f"cannot write {path}: {reason}" + (f"; {fix}" if fix else ""))


def folder_error(path: str | os.PathLike, exc: OSError) -> GanimateError:
    """The error for ``path`` whose folder could not be made or take a temporary file: what is
    wrong with the folder (:func:`unwritable_folder`) where that can be told, else
    :func:`write_error`."""
    reason = unwritable_folder(Path(path).parent)
    return write_error(path, exc) if reason is None else GanimateError(
        f"cannot write {path}: {reason}")


def umask() -> int:
    """The process umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file: the same inode when both exist (hard links, other
    spellings of a path), else the same path once resolved (an output about to replace its input).
    """
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def os_error_message(exc: OSError) -> str:
    """One line for an OSError that no writer caught: the file, the reason and the fix."""
    name = exc.filename or "output"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG):
        return str(write_error(name, exc))
    fix = _WRITE_FIXES.get(exc.errno)
    return f"{name}: {exc.strerror or exc}" + (f"; {fix}" if fix else "")


def unwritable_folder(folder: str | os.PathLike) -> str | None:
    """Why no file can be made in ``folder`` (made first where it is missing), in words, or None.

    The nearest folder on its path that exists must be a folder (``x.jpg/out.png``: x.jpg is a
    file) and must take a new file: a probe file is made there and removed, which is the only
    test that holds for root, read-only mounts and virtual file systems such as /proc.
    """
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder (choose another output path)"
    probe = existing / f".ganimate-probe-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        why = f"{exc.strerror}; " if exc.errno in _WRITE_FIXES else ""
        return f"{existing} is not writable ({why}choose another output folder)"
    return None


def check_output(path: str | os.PathLike, option: str = "-o", folder: bool = False) -> None:
    """Refuse, before any work, an output that cannot be written: ``path`` is a file to write
    (its folder is checked) or, with ``folder``, a folder to write files into."""
    path = Path(path)
    reason = unwritable_folder(path if folder else path.parent)
    if reason is not None:
        raise GanimateError(f"{option} {path}: {reason}")


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp",
                durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` when the block succeeds.

    The temporary name starts with a dot and ends with ``suffix`` (some writers pick the format
    from it). It gets the umask's permissions like a file made with ``open`` (mkstemp's 0600 would
    hide outputs from other users). ``durable`` fsyncs the file and its folder around the rename,
    for checkpoints that must survive a crash.
    OS errors (disk full, read-only file system, permissions) become a GanimateError that names
    ``path``, the reason and the fix (:func:`write_error`).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
        os.close(fd)
    except OSError as exc:
        raise folder_error(path, exc) from None
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        yield tmp
        if durable:
            _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        try:
            _fsync(path.parent, os.O_RDONLY)
        except OSError:  # some platforms cannot open folders; the rename is still atomic
            pass


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes, durable: bool = False) -> Path:
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
