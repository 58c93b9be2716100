"""Write files atomically: a temporary file in the same folder, flushed, fsynced, renamed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from coa_audit.core.errors import OutputError

__all__ = ["OutputError", "atomic_writer", "write_bytes_atomic"]


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
    target = Path(target)
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
