"""Reading the small files a run is given besides the inventory (policy, corrections,
mapping, profile): only regular files, and never more than a bound, so a FIFO or
/dev/zero named by mistake is refused at once instead of hanging or filling memory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coa_audit.core.errors import CoaError, UsageError

__all__ = ["AUX_LIMIT", "Inputs", "not_regular", "read_small", "read_small_text", "utf8_text"]

AUX_LIMIT = 64 * 1024**2  # far above any real policy, mapping, profile or corrections file


def not_regular(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (None when it is a regular file). ``stat``
    never blocks, unlike opening a FIFO."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except PermissionError:
        return "permission denied (check the file's permissions)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, device or socket): save it to a file first"
    return None


def read_small(
    path: Path, what: str, limit: int = AUX_LIMIT, error: type[CoaError] = UsageError
) -> bytes:
    """The bytes of the regular file ``path``, refused in one line when it is something
    else or larger than ``limit``. ``what`` names it in the message ("policy file")."""
    why = not_regular(path)
    if why is not None:
        raise error(f"{what} {path}: {why}")
    try:
        # O_NONBLOCK: a FIFO swapped in since the check never blocks (POSIX; Windows has no
        # FIFOs in its file system, nor the flag). O_BINARY: Windows would otherwise read in
        # text mode, turning CR LF into LF and stopping at the first Ctrl-Z byte
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):  # swapped since the check
            raise error(f"{what} {path}: is not a regular file")
        # a regular file says its size: a sparse giant is refused before a byte is read
        data = f.read(limit + 1) if st.st_size <= limit else b""
    if len(data) > limit or st.st_size > limit:
        raise error(
            f"{what} {path} is larger than {limit // 1024**2} MiB: that is not a {what}; "
            "check the path"
        )
    return data


def read_small_text(
    path: Path, what: str, error: type[CoaError] = UsageError, limit: int = AUX_LIMIT
) -> str:
    """``read_small`` decoded as UTF-8 (see ``utf8_text``)."""
    return utf8_text(read_small(path, what, limit, error), path, what, error)


def utf8_text(data: bytes, path: Path, what: str, error: type[CoaError] = UsageError) -> str:
    """``data`` decoded as UTF-8 (a BOM allowed); bytes that are not UTF-8 are named by
    line and column, with what to do."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"{what} {path}, line {line}, column {col}: the byte 0x{data[exc.start]:02X} is "
            "not UTF-8 text; save the file as UTF-8"
        ) from None


def shipped_toml(package: str, name: str) -> dict[str, Any]:
    """One of the package's own TOML data files (``coa_audit.<package>/data/<name>``),
    freshly parsed: by tomli's compiled parser where installed (about 2.5x faster than
    tomllib on these files, which every run reads cold), tomllib otherwise. A user's own
    files go through ``parse_toml``."""
    from importlib import resources

    raw = resources.files(f"coa_audit.{package}").joinpath(f"data/{name}").read_text("utf-8")
    try:
        from tomli import loads
    except ImportError:  # pragma: no cover - tomli is a dependency; tomllib reads the same
        from tomllib import loads
    return loads(raw)


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` for a file the user names (a policy, a mapping, a profile): a
    document nested deeper than Python's recursion allows is a TOML error like any other
    (one line, exit 2), not a crash."""
    import tomllib

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError(
            "it is nested too deep (tables or arrays inside one another thousands of times)"
        ) from None


class Inputs:
    """Every path a run reads (the inventory, its policy, mapping, evidence files and
    folders, walks, corrections, profile, an earlier packet). No output may be one of them,
    lie inside one of its folders, or resolve to one through a link: ``clash`` says which,
    and every writer of the tool asks it before placing a file."""

    def __init__(self) -> None:
        self._paths: list[Path] = []

    def add(self, *paths: str | Path | None) -> None:
        for p in paths:
            if p is not None and str(p) != "":
                self._paths.append(Path(p))

    def __iter__(self) -> Iterator[Path]:
        return iter(self._paths)

    def clash(self, output: str | Path) -> str | None:
        """Why writing ``output`` would overwrite an input of this run (None: it would not)."""
        out = Path(output)
        try:
            out_real = out.resolve()
        except (OSError, RuntimeError):
            return None
        for src in self._paths:
            try:
                real = src.resolve()
                if os.path.isdir(real):
                    if out_real == real or real in out_real.parents:
                        return f"it lies inside {src}, a folder that is an input of this run"
                    continue
                if out_real == real or (out.exists() and os.path.samefile(out, src)):
                    return f"it is {src}, an input of this run"
            except (OSError, RuntimeError):
                continue
        return None

    def refuse(self, output: str | Path, what: str) -> None:
        """A usage error (exit 2) when ``output`` would overwrite an input of this run."""
        why = self.clash(output)
        if why is not None:
            raise UsageError(f"{what} {output}: {why}; choose another file or folder")
