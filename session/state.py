"""Where the session keeps what outlives a run: the user's state folder (edit journals) and
config folder (checklist profile, saved mappings). Both are private to the user."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from coa_audit.core.errors import CoaError
from coa_audit.core.files import parse_toml, read_small_text

__all__ = [
    "config_dir",
    "load_user_profile",
    "private_append",
    "private_write",
    "save_user_profile",
    "state_dir",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def state_dir() -> Path:
    """``$COA_AUDIT_STATE_DIR``, else the platform's user state folder."""
    base = os.environ.get("COA_AUDIT_STATE_DIR")
    if base:
        return Path(base)
    from platformdirs import user_state_dir

    return Path(user_state_dir("coa-audit"))


def config_dir() -> Path:
    """``$COA_AUDIT_CONFIG_DIR``, else the platform's user config folder."""
    base = os.environ.get("COA_AUDIT_CONFIG_DIR")
    if base:
        return Path(base)
    from platformdirs import user_config_dir

    return Path(user_config_dir("coa-audit"))


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)


class NotPrivate(OSError):
    """A file that holds secrets is not the user's own, or others could read it."""


def not_private(path: Path) -> str | None:
    """Why ``path`` (if it exists) cannot hold the user's secrets: another user owns it, or
    it is not a regular file; None when it is the user's own (or absent)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"another user (uid {st.st_uid}) owns it"
    return None


def private_append(path: Path) -> int:
    """A file descriptor appending to ``path``, created readable by its owner only. An
    existing file must be the user's own and is made private; one another user owns (a
    shared or pre-created state folder) or that cannot be made private raises
    ``NotPrivate``: journals hold full product keys."""
    _private_folder(path.parent)
    why = not_private(path)
    if why:
        raise NotPrivate(f"{path}: {why}")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        st = os.fstat(fd)
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise NotPrivate(f"{path}: another user (uid {st.st_uid}) owns it")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, PRIVATE_FILE)
            if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
                raise NotPrivate(f"{path}: it cannot be made readable by its owner only")
    except OSError:
        os.close(fd)
        raise
    return fd


def private_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole (temporary file, fsync, rename), readable by its owner only."""
    _private_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def load_user_profile() -> tuple[dict[str, str], str]:
    """The packet's details used at the last export from the app, and the name of the file
    they were used with ("" when unknown). They are offered, never applied unseen."""

    try:
        text = read_small_text(config_dir() / "profile.toml", "profile")
        data = parse_toml(text)
    except (OSError, ValueError, CoaError):
        return {}, ""
    section = data.get("checklist", {})
    values = {k: str(v) for k, v in section.items() if isinstance(v, str) and k != "source"}
    source = section.get("source", "")
    return values, source if isinstance(source, str) else ""


def save_user_profile(header: dict[str, str], keys: Iterable[str], source: str) -> None:
    """Remember the packet's details (the fields in ``keys``) and the file they were used
    with, for the next export (best effort)."""
    import tomli_w

    keep = {k: v for k, v in header.items() if k in set(keys) and k != "date" and v}
    if not keep:
        return
    keep["source"] = source
    with contextlib.suppress(OSError):
        private_write(config_dir() / "profile.toml", tomli_w.dumps({"checklist": keep}).encode())


def load_author() -> str:
    """The name given last on this state folder ("" when none): offered in the prompt of
    the next session, never taken as who is working without being asked."""
    try:
        text = read_small_text(state_dir() / "verifier.txt", "name", limit=4096)
        return " ".join(text.split())[:200]
    except (OSError, UnicodeDecodeError, CoaError):
        return ""


def save_author(name: str) -> None:
    """Remember the name given, to offer it next time (best effort, owner only)."""
    with contextlib.suppress(OSError):
        private_write(state_dir() / "verifier.txt", " ".join(name.split()).encode("utf-8"))
