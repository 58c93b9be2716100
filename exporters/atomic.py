"""Write files atomically: a temporary file in the same folder, flushed, fsynced, renamed."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from coa_audit.core.errors import OutputError

__all__ = ["OutputError", "atomic_writer", "in_the_way", "write_bytes_atomic"]


def in_the_way(target: Path) -> str | None:
    """Why a file cannot be put at ``target`` (None: it can): a folder, a device, a pipe or
    a socket holds the name (the name itself, not what a link there points to)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be replaced ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a folder"
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        return "is not a regular file (a pipe, device or socket)"
    return None


def _writable(target: Path) -> Path:
    """Where a file for ``target`` is written: ``target``, or the file a symbolic link there
    points to (the link stays a link). A file is written whole beside its name and renamed
    over it, which a device or a pipe cannot take: -o /dev/null as root would replace the
    device with a file. Those are refused, before anything is written."""
    path = Path(os.path.realpath(target)) if os.path.islink(target) else target
    why = in_the_way(path)
    if why is not None:
        shown = target if path == target else f"{target} (a link to {path})"
        raise OutputError(
            f"cannot write {shown}: it {why}; coa-audit writes a whole file or none, so give "
            "the name of a file (or no -o, to print to standard output)"
        )
    return path


def _mode_for(target: Path) -> int:
    """An existing file keeps its mode; a new one gets what open() would give it."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on success it replaces ``target`` in one step, on any failure the
    previous ``target`` (or none) stays in place and the temporary file is removed."""
    target = _writable(Path(target))
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        # Windows has no fchmod before 3.13 (and there it sets only the read-only flag):
        # the file keeps what the folder's inherited access list gives any new file
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            why = exc.strerror or str(exc)
            if isinstance(exc, PermissionError) and os.name == "nt":
                # Windows cannot replace a file another program holds open
                why += " (is it open in Excel or another program? close it there)"
            raise OutputError(f"cannot write {target}: {why}") from None
        raise
    # the folder's entry made durable (POSIX; Windows cannot open a folder this way and
    # makes the rename durable itself: the OSError is ignored)
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def write_bytes_atomic(target: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    with atomic_writer(target) as f:
        if callable(data):
            data(f)
        else:
            f.write(data)
