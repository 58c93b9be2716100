"""Where the session keeps what outlives a run: the user's state folder (edit journals) and
config folder (checklist profile, saved mappings). Both are private to the user.

Private means, on POSIX, owned by the user with mode 0600 (the folder 0700). Windows has no
owners or mode bits in ``st_mode`` (every file reads 0o666, or 0o444 when read-only):
there a file is private when its access list lets no one read it but the user, SYSTEM and
the Administrators (read through ctypes, ``_acl_readers``), or, when the list cannot be
read, when it lies inside the user's profile folder, where platformdirs puts both folders
(``%LOCALAPPDATA%``) and whose default access list is exactly that (``not_private``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from coa_audit.core.errors import CoaError
from coa_audit.core.files import parse_toml, read_small_text

__all__ = [
    "config_dir",
    "load_theme",
    "load_user_profile",
    "private_append",
    "private_write",
    "process_running",
    "save_theme",
    "save_user_profile",
    "state_dir",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Windows opens a file in text mode unless told (a journal line would end CR LF)
_BINARY = getattr(os, "O_BINARY", 0)


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
    # Windows: mode 0o700 gives a new folder an owner-only access list from Python 3.13
    # (3.12.4); before, it inherits the profile folder's, which is owner-only too
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
    if not _posix_owners():
        return _not_private_windows(path)
    if st.st_uid != os.getuid():
        return f"another user (uid {st.st_uid}) owns it"
    return None


def _posix_owners() -> bool:
    """Whether files have POSIX owners and mode bits here (``os.getuid``; Windows has
    neither: its ``st_mode`` says only whether a file is read-only)."""
    return hasattr(os, "getuid")


# who may read the user's files besides the user: SYSTEM, the Administrators (who can
# take any file, as root can), OWNER RIGHTS and CREATOR OWNER (the owner: the user)
_OWNER_ONLY_SIDS = frozenset({"S-1-5-18", "S-1-5-32-544", "S-1-3-4", "S-1-3-0"})
_SID_NAMES = {
    "S-1-1-0": "Everyone",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-32-545": "Users",
    "S-1-5-32-546": "Guests",
    "S-1-5-7": "Anonymous",
}
# FILE_READ_DATA, GENERIC_READ, GENERIC_ALL, MAXIMUM_ALLOWED: rights that read the data
_READ_RIGHTS = 0x1 | 0x80000000 | 0x10000000 | 0x02000000


def _not_private_windows(path: Path) -> str | None:
    """Windows' owner-only check, without mode bits: who the file's access list lets read
    it; when that cannot be read, whether it lies inside the user's profile folder (whose
    default access list admits only the user, SYSTEM and the Administrators)."""
    acl = _acl_readers(path)
    if acl is not None:
        user, readers = acl
        others = [
            sid
            for sid in dict.fromkeys(readers)
            if sid != user and sid not in _OWNER_ONLY_SIDS and not sid.startswith("S-1-5-5-")
        ]  # S-1-5-5-*: the user's own logon session
        if others:
            return "others can read it (" + ", ".join(_SID_NAMES.get(s, s) for s in others) + ")"
        return None
    if _in_profile(path):
        return None
    return (
        "it lies outside your user profile and its access list could not be read, so it "
        "cannot be shown to be yours alone"
    )


def _in_profile(path: Path) -> bool:
    """Whether ``path`` lies inside the user's home (profile) folder."""
    try:
        home = os.path.normcase(os.path.realpath(Path.home()))
        where = os.path.normcase(os.path.realpath(path))
        return os.path.commonpath([home, where]) == home
    except (OSError, RuntimeError, KeyError, ValueError, ImportError):  # ValueError: drives
        return False


def process_running(pid: int) -> bool:
    """Whether process ``pid`` runs (another session's, named by the journal). POSIX asks
    with signal 0. Windows must not: there ``os.kill`` with any signal but the console's
    Ctrl-C and Ctrl-Break ends the process (TerminateProcess), so its exit code is read
    (STILL_ACTIVE while it runs); False when that cannot be asked."""
    if sys.platform == "win32":
        try:
            import ctypes
            from ctypes import wintypes

            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
            kernel32.OpenProcess.restype = wintypes.HANDLE
            kernel32.GetExitCodeProcess.argtypes = [
                wintypes.HANDLE,
                ctypes.POINTER(wintypes.DWORD),
            ]
            kernel32.GetExitCodeProcess.restype = wintypes.BOOL
            kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
            kernel32.CloseHandle.restype = wintypes.BOOL
            handle = kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
            if not handle:
                return False
            try:
                code = wintypes.DWORD()
                ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
                return bool(ok) and code.value == 259  # STILL_ACTIVE
            finally:
                kernel32.CloseHandle(handle)
        except Exception:  # not asked: no warning rather than a wrong one
            return False
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False
    return True


def _acl_readers(path: Path) -> tuple[str, list[str]] | None:
    """Windows: the user's own SID and the SIDs that the file's access list lets read it
    (allow entries that apply to the file itself; deny entries are not counted, so a doubt
    is said, never hidden). None where that cannot be asked (not Windows) or fails."""
    if sys.platform != "win32":
        return None
    try:
        import ctypes
        from ctypes import wintypes

        pointer = ctypes.c_void_p
        advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.LocalFree.argtypes = [pointer]
        kernel32.LocalFree.restype = pointer
        kernel32.GetCurrentProcess.argtypes = []
        kernel32.GetCurrentProcess.restype = wintypes.HANDLE
        kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
        kernel32.CloseHandle.restype = wintypes.BOOL
        advapi32.OpenProcessToken.argtypes = [
            wintypes.HANDLE,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.HANDLE),
        ]
        advapi32.OpenProcessToken.restype = wintypes.BOOL
        advapi32.GetTokenInformation.argtypes = [
            wintypes.HANDLE,
            ctypes.c_int,
            pointer,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.DWORD),
        ]
        advapi32.GetTokenInformation.restype = wintypes.BOOL
        advapi32.ConvertSidToStringSidW.argtypes = [pointer, ctypes.POINTER(wintypes.LPWSTR)]
        advapi32.ConvertSidToStringSidW.restype = wintypes.BOOL
        advapi32.GetNamedSecurityInfoW.argtypes = [
            wintypes.LPCWSTR,
            ctypes.c_int,
            wintypes.DWORD,
            ctypes.POINTER(pointer),
            ctypes.POINTER(pointer),
            ctypes.POINTER(pointer),
            ctypes.POINTER(pointer),
            ctypes.POINTER(pointer),
        ]
        advapi32.GetNamedSecurityInfoW.restype = wintypes.DWORD
        advapi32.GetAclInformation.argtypes = [pointer, pointer, wintypes.DWORD, ctypes.c_int]
        advapi32.GetAclInformation.restype = wintypes.BOOL
        advapi32.GetAce.argtypes = [pointer, wintypes.DWORD, ctypes.POINTER(pointer)]
        advapi32.GetAce.restype = wintypes.BOOL

        def sid_text(sid: int | None) -> str | None:
            text = wintypes.LPWSTR()
            if not sid or not advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)):
                return None
            try:
                return text.value
            finally:
                kernel32.LocalFree(ctypes.cast(text, pointer))

        # the user: the process token's TokenUser (1), a SID_AND_ATTRIBUTES whose first
        # field points at the SID
        token = wintypes.HANDLE()
        token_query = 0x0008
        process = kernel32.GetCurrentProcess()
        if not advapi32.OpenProcessToken(process, token_query, ctypes.byref(token)):
            return None
        try:
            size = wintypes.DWORD()
            advapi32.GetTokenInformation(token, 1, None, 0, ctypes.byref(size))
            buffer = ctypes.create_string_buffer(size.value or 1)
            if not advapi32.GetTokenInformation(token, 1, buffer, size, ctypes.byref(size)):
                return None
            user = sid_text(ctypes.cast(buffer, ctypes.POINTER(pointer))[0])
        finally:
            kernel32.CloseHandle(token)
        if user is None:
            return None
        dacl, descriptor = pointer(), pointer()
        if advapi32.GetNamedSecurityInfoW(
            str(path),
            1,  # SE_FILE_OBJECT
            0x4,  # DACL_SECURITY_INFORMATION
            None,
            None,
            ctypes.byref(dacl),
            None,
            ctypes.byref(descriptor),
        ):
            return None
        try:
            if not dacl.value:  # no access list at all: everyone may do anything
                return user, ["S-1-1-0"]

            class _AclSize(ctypes.Structure):  # ACL_SIZE_INFORMATION
                _fields_ = [
                    ("AceCount", wintypes.DWORD),
                    ("AclBytesInUse", wintypes.DWORD),
                    ("AclBytesFree", wintypes.DWORD),
                ]

            info = _AclSize()
            if not advapi32.GetAclInformation(dacl, ctypes.byref(info), ctypes.sizeof(info), 2):
                return None
            readers = []
            for index in range(info.AceCount):
                ace = pointer()
                if not advapi32.GetAce(dacl, index, ctypes.byref(ace)) or not ace.value:
                    return None
                # ACE_HEADER: type, flags, size; an ACCESS_ALLOWED_ACE (type 0) then has
                # its access mask at offset 4 and its SID at offset 8
                kind, flags = ctypes.cast(ace, ctypes.POINTER(ctypes.c_ubyte))[0:2]
                if kind != 0 or flags & 0x08:  # not an allow entry, or INHERIT_ONLY
                    continue
                mask = ctypes.cast(ace.value + 4, ctypes.POINTER(wintypes.DWORD))[0]
                if mask & _READ_RIGHTS:
                    sid = sid_text(ace.value + 8)
                    if sid is None:
                        return None
                    readers.append(sid)
            return user, readers
        finally:
            kernel32.LocalFree(descriptor)
    except Exception:  # any failure: not read (the profile decides)
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
    # Windows has no O_NOFOLLOW (a link was refused above: not a regular file)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | _BINARY
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        if not _posix_owners():  # Windows: the access list, never the mode bits
            why = _not_private_windows(path)
            if why:
                raise NotPrivate(f"{path}: {why}")
            return fd
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
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
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, PRIVATE_FILE)
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

    section = _settings().get("checklist", {})
    if not isinstance(section, dict):
        return {}, ""
    values = {k: str(v) for k, v in section.items() if isinstance(v, str) and k != "source"}
    source = section.get("source", "")
    return values, source if isinstance(source, str) else ""


def save_user_profile(header: dict[str, str], keys: Iterable[str], source: str) -> None:
    """Remember the packet's details (the fields in ``keys``) and the file they were used
    with, for the next export (best effort)."""
    keep = {k: v for k, v in header.items() if k in set(keys) and k != "date" and v}
    if not keep:
        return
    keep["source"] = source
    _save_setting("checklist", keep)


def load_theme() -> str:
    """The app's theme chosen last ("" when none): restored at the next start."""
    section = _settings().get("display", {})
    theme = section.get("theme", "") if isinstance(section, dict) else ""
    return theme if isinstance(theme, str) else ""


def save_theme(name: str) -> None:
    """Remember the app's theme, beside the other settings (best effort, owner only)."""
    _save_setting("display", {"theme": name})


def _settings() -> dict[str, object]:
    """The user's settings (``profile.toml`` in the config folder: the one place they live,
    one section each); none when the file is missing or unreadable."""
    try:
        return parse_toml(read_small_text(config_dir() / "profile.toml", "profile"))
    except (OSError, ValueError, CoaError):
        return {}


def _save_setting(section: str, values: dict[str, str]) -> None:
    """Replace one section of the settings, keeping the others."""
    import tomli_w

    data = _settings()
    data[section] = values
    with contextlib.suppress(OSError):
        private_write(config_dir() / "profile.toml", tomli_w.dumps(data).encode())


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
