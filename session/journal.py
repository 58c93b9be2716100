"""The edit journal: every operation of a session, appended at once, so a killed app or a
dropped SSH session loses nothing and restores exactly.

One JSON object per line in ``<state dir>/journals/<hash of the source path>.jsonl``, file
mode 0600 (on Windows an access list that admits only the user: ``session.state``; it holds
full product keys: it must restore them). Every line names the session
(``sid``) that wrote it, so sessions on one file never mix or delete each other's entries:

- ``open``: a session started (source, sha256 of the file, pid, host) and how it read the
  file: a text table's ``encoding`` and ``delimiter``, a workbook's ``sheet`` (a resumed
  session reads it the same way; a journal written before these were recorded lacks them);
- ``apply``: an edit, bound to its device: edit ``id``, spreadsheet ``row``, column ``col``
  and ``header``, the device's identifiers (serial, asset tag, hostname) as they were, the
  ``old`` and ``new`` values, ``origin``, its ``stamp`` (who, when, how, why:
  ``core.events.Stamp``) and, for a walk cell, its ``marks`` (``core.events.Mark``);
- ``scan``: a scanned code that named no device or several, with its ``stamp``;
- ``undo`` / ``redo``: of edit ``id``;
- ``remap``: the column mapping became ``mapping`` (field -> header);
- ``exported``: everything so far is in an exported file;
- ``close``: the session ended with nothing unexported;
- ``adopted`` / ``discarded``: another session's (``of``) edits were restored / thrown away.

Replaying a session's operations in order gives back its cells, mapping and undo history.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coa_audit.core.errors import UsageError
from coa_audit.core.events import Mark, ScanFlag, Stamp, legacy_stamp
from coa_audit.core.files import read_small
from coa_audit.core.model import CANONICAL_FIELDS, ID_FIELDS
from coa_audit.session.state import NotPrivate, not_private, private_append, state_dir

__all__ = ["Journal", "JournalLog", "Op", "SessionLog"]

JOURNAL_LIMIT = 2 * 1024**3  # far above a million journaled edits
_MAX_ROW = 1 << 31
_MAX_COL = 1 << 20


def _user_tag() -> str:
    """Who the user's own journal beside a shared one belongs to: the uid on POSIX; on
    Windows (no uids) a short hash of the user name, so two users never share one."""
    if hasattr(os, "getuid"):
        return str(os.getuid())
    name = os.environ.get("USERNAME") or os.environ.get("USER") or ""
    return "w" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]


def journal_path(source: str | Path) -> Path:
    resolved = str(Path(source).resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:24]
    return state_dir() / "journals" / f"{digest}.jsonl"


@dataclass(frozen=True)
class Op:
    """One journaled operation, validated."""

    kind: str  # apply, undo, redo, remap, scan
    id: int = 0
    row: int = 0  # spreadsheet row number
    col: int = 0
    header: str = ""
    ids: tuple[tuple[str, str], ...] = ()  # (field, value) that identified the device
    old: str = ""
    new: str = ""
    origin: str = "screen"
    time: float = 0.0
    mapping: tuple[tuple[str, str], ...] = ()  # remap: (field, header)
    group: int = 0  # apply: edits of one bulk action (one undo step) share it
    stamp: Stamp | None = None  # apply: who, when, how, why (None: written before stamps)
    marks: tuple[Mark, ...] | None = None  # apply to a walk cell (None: written before marks)
    old_marks: tuple[Mark, ...] | None = None  # the walk cell's marks before it
    scan: ScanFlag | None = None  # scan


@dataclass
class SessionLog:
    """What one session wrote."""

    sid: str
    sha256: str | None = None
    pid: int | None = None
    host: str | None = None
    started: float = 0.0
    ops: list[Op] = field(default_factory=list)
    exported_at: int = 0  # number of ops covered by the last export
    closed: bool = False
    settled: bool = False  # adopted or discarded by a later session
    # how the session read the file (None: not recorded, or not of this kind of file)
    encoding: str | None = None  # a text table's encoding, as the reader named it
    delimiter: str | None = None  # a text table's delimiter, one character
    sheet: str | None = None  # a workbook's sheet

    @property
    def read_as(self) -> dict[str, str]:
        """How this session read the file, as far as the journal recorded it."""
        got = {"encoding": self.encoding, "delimiter": self.delimiter, "sheet": self.sheet}
        return {k: v for k, v in got.items() if v is not None}

    @property
    def last_time(self) -> float:
        return max((op.time for op in self.ops), default=self.started)

    def net_cells(self) -> int:
        """How many cells differ from the file after replaying the ops (what a user calls
        "unsaved edits"); a walk cell counts by its marks too (a second person's mark that
        agrees with the first leaves the value as it was)."""
        edits: dict[int, Op] = {}
        value: dict[tuple[int, int], tuple[str, object]] = {}
        original: dict[tuple[int, int], tuple[str, object]] = {}
        for op in self.ops:
            if op.kind == "apply":
                edits[op.id] = op
                original.setdefault((op.row, op.col), (op.old, op.old_marks))
                value[(op.row, op.col)] = (op.new, op.marks)
            elif op.kind in ("undo", "redo") and op.id in edits:
                e = edits[op.id]
                undone = op.kind == "undo"
                value[(e.row, e.col)] = (e.old, e.old_marks) if undone else (e.new, e.marks)
        return sum(1 for key, v in value.items() if v != original[key])

    @property
    def pending(self) -> bool:
        """Work this session left that no export, restore or discard has dealt with."""
        if self.settled or len(self.ops) <= self.exported_at:
            return False
        return self.net_cells() > 0 or any(op.kind == "remap" for op in self.ops)


@dataclass
class JournalLog:
    sessions: dict[str, SessionLog] = field(default_factory=dict)
    skipped: int = 0  # unreadable lines: a line cut by a crash, garbage, values out of range
    problem: str | None = None  # why the journal could not be read at all

    def pending(self, own: str | None = None) -> list[SessionLog]:
        """Sessions other than ``own`` with work to restore, most recent first."""
        out = [s for s in self.sessions.values() if s.sid != own and s.pending]
        return sorted(out, key=lambda s: s.last_time, reverse=True)


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("not text")
    return v


def _int(v: Any, limit: int) -> int:
    if type(v) is not int or not 0 <= v < limit:  # bool, float, Infinity, huge: refused
        raise TypeError("not a small whole number")
    return v


def _time(v: Any) -> float:
    if type(v) not in (int, float) or not 0 <= v < 1e11:
        return 0.0
    return float(v)


def _pairs(v: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict):
        raise TypeError("not a table")
    return tuple((_text(k), _text(x)) for k, x in v.items())


def _read_as(entry: dict[str, Any], key: str) -> str | None:
    """One of the ways the file was read, from an ``open`` entry; None when it is absent
    (an older journal) or not what it could be (it is then not used)."""
    v = entry.get(key)
    if not isinstance(v, str) or not v or len(v) > _READ_LIMITS[key]:
        return None
    return v


_READ_LIMITS = {"encoding": 64, "delimiter": 1, "sheet": 255}


def _id_pairs(v: Any) -> tuple[tuple[str, str], ...]:
    pairs = _pairs(v)
    if any(f not in ID_FIELDS for f, _x in pairs):
        raise ValueError("an identifier that is no serial, asset tag or host name")
    return pairs


def _marks(v: Any) -> tuple[Mark, ...]:
    if not isinstance(v, list) or len(v) > 64:
        raise TypeError("not a list of marks")
    return tuple(Mark.from_dict(m) for m in v)


def _op(entry: dict[str, Any]) -> Op:
    kind = entry["t"]
    if kind == "apply":
        return Op(
            "apply",
            id=_int(entry["id"], _MAX_ROW),
            row=_int(entry["row"], _MAX_ROW),
            col=_int(entry["col"], _MAX_COL),
            header=_text(entry.get("header", "")),
            ids=_id_pairs(entry.get("ids", {})),
            old=_text(entry["old"]),
            new=_text(entry["new"]),
            origin=_text(entry.get("origin", "screen")),
            time=_time(entry.get("time")),
            group=_int(entry.get("g", 0), _MAX_ROW),
            stamp=Stamp.from_dict(entry["stamp"]) if "stamp" in entry else None,
            marks=_marks(entry["marks"]) if "marks" in entry else None,
            old_marks=_marks(entry["old_marks"]) if "old_marks" in entry else None,
        )
    if kind in ("undo", "redo"):
        return Op(kind, id=_int(entry["id"], _MAX_ROW), time=_time(entry.get("time")))
    if kind == "scan":  # a scanned code that named no device or several
        outcome = _text(entry["outcome"])
        if outcome not in ("unknown", "duplicate"):
            raise ValueError(outcome)
        if "stamp" in entry:
            stamp = Stamp.from_dict(entry["stamp"])
        else:  # written before stamps had fields: "NAME, YYYY-MM-DD HH:MM"
            stamp = legacy_stamp(_text(entry.get("by", "")), how="scanned")
        flag = ScanFlag(_text(entry["code"]), outcome, stamp)
        return Op("scan", scan=flag, time=_time(entry.get("time")))
    if kind == "remap":  # validated as strictly as --map: only fields that exist
        mapping = _pairs(entry["mapping"])
        # the file's own fields only: a derived field (collected, the walk's) is the tool's
        unknown = [f for f, _h in mapping if f not in CANONICAL_FIELDS]
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}")
        return Op("remap", mapping=mapping, time=_time(entry.get("time")))
    raise ValueError(kind)


def read_log(path: Path) -> JournalLog:
    """Every session in the journal; unreadable lines are skipped and counted."""
    log = JournalLog()
    if not os.path.lexists(path):
        return log
    try:  # the journal is a regular file of ours: never a link, a FIFO or a device
        if os.path.islink(path):
            raise UsageError(f"edit journal {path}: is a link, not a journal")
        raw = read_small(path, "edit journal", limit=JOURNAL_LIMIT)
    except UsageError as exc:
        log.skipped, log.problem = 1, str(exc)
        return log
    settled: list[str] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            kind = entry["t"]
            sid = _text(entry["sid"])
        except (ValueError, KeyError, TypeError, RecursionError):
            log.skipped += 1
            continue
        s = log.sessions.get(sid)
        if s is None:
            s = log.sessions[sid] = SessionLog(sid)
        try:
            if kind == "open":
                s.sha256 = entry.get("sha256") if isinstance(entry.get("sha256"), str) else None
                pid = entry.get("pid")
                s.pid = pid if type(pid) is int else None
                s.host = entry.get("host") if isinstance(entry.get("host"), str) else None
                s.started = _time(entry.get("time"))
                s.encoding = _read_as(entry, "encoding")
                s.delimiter = _read_as(entry, "delimiter")
                s.sheet = _read_as(entry, "sheet")
            elif kind == "exported":
                s.exported_at = len(s.ops)
            elif kind == "close":
                s.closed = True
            elif kind in ("adopted", "discarded"):
                settled.append(_text(entry["of"]))
            else:
                s.ops.append(_op(entry))
        except (ValueError, KeyError, TypeError, OverflowError):
            log.skipped += 1
    for sid in settled:
        if sid in log.sessions:
            log.sessions[sid].settled = True
    return log


class Journal:
    """One session's writer. Nothing touches the disk until the first entry; a failed write
    never stops the session: ``error`` says why edits are no longer protected."""

    def __init__(
        self, source: str | Path, sha256: str, read_as: dict[str, str] | None = None
    ) -> None:
        self.source = str(Path(source).resolve())
        self.path = journal_path(source)
        self.sha256 = sha256
        # how the file was read (encoding, delimiter, sheet): the ``open`` entry keeps it
        self.read_as = {k: v for k, v in (read_as or {}).items() if k in _READ_LIMITS and v}
        self.sid = uuid.uuid4().hex[:16]
        self.error: str | None = None
        self.warning: str | None = None  # said once on screen: a journal not private
        self._fd: int | None = None
        self._next_id = 1
        why = not_private(self.path)
        if why:  # not ours: never read (it could hold another's edits) nor written
            self._own_file(why)

    def _own_file(self, why: str) -> None:
        """Use the user's own journal beside a file another user owns or that cannot be
        made private, and say so (edits written there would be readable by others)."""
        shared = self.path
        self.path = shared.with_name(f"{shared.stem}.u{_user_tag()}{shared.suffix}")
        self.warning = (
            f"the edit journal {shared} is not private ({why}): edits are NOT protected "
            f"there, so they go to a new private file, {self.path.name}"
        )

    def probe(self) -> bool:
        """Check, without writing an entry, that the journal folder can be written; False,
        with ``error`` set, when it cannot (the session goes on unprotected)."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            self.error = f"{folder}: {exc.strerror or exc}"
            return False
        # Windows: os.access reads only the read-only flag, which folders ignore (the
        # access list is checked when the journal is opened: session.state)
        if not os.access(folder, os.W_OK | os.X_OK):
            self.error = f"{folder}: permission denied"
            return False
        return True

    def read(self) -> JournalLog:
        return read_log(self.path)

    def new_id(self) -> int:
        n = self._next_id
        self._next_id += 1
        return n

    # -- writing ---------------------------------------------------------------------------
    def write(self, entries: Iterable[dict[str, Any]], sync: bool = True) -> bool:
        """Append entries (one write, one fsync). False, with ``error`` set, when the journal
        cannot be written; the caller goes on without it."""
        if self.error is not None:
            return False
        try:
            if self._fd is None:
                try:
                    self._fd = private_append(self.path)
                except NotPrivate as exc:
                    if self.warning is not None:
                        raise  # the user's own file is not private either: unprotected
                    self._own_file(str(exc).split(": ", 1)[-1])
                    self._fd = private_append(self.path)
                self._append([self._stamp({"t": "open", **self._opening()})], True)
            self._append([self._stamp(e) for e in entries], sync)
            return True
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror or exc}"
            self.close()
            return False

    def _opening(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            **self.read_as,
        }

    def _stamp(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"sid": self.sid, "time": time.time(), **entry}

    def _append(self, entries: list[dict[str, Any]], sync: bool) -> None:
        assert self._fd is not None
        data = b"".join(
            json.dumps(e, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"
            for e in entries
        )
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if sync:
            os.fsync(self._fd)

    @property
    def started(self) -> bool:
        """True once this session has written to the journal."""
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
