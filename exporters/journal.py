"""The edit journal: every edit made on screen, appended and flushed to disk at once, so a
killed app or a dropped SSH session loses nothing.

One JSON object per line in ``<state dir>/journals/<hash of the source path>.jsonl``:
``{"t": "open", ...}`` when a session starts, ``{"t": "set", "row", "col", "header", "old",
"new", "origin", "time"}`` for every change of a cell (edits, undos and redos alike, so
replaying the sets in order gives the final state), ``{"t": "exported"}`` after a successful
export. What is pending is every set after the last export marker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coa_audit.core.model import Inventory

__all__ = [
    "Journal",
    "Pending",
    "PendingEdit",
    "journal_dir",
    "load_user_profile",
    "save_user_profile",
]


def _config_dir() -> Path:
    base = os.environ.get("COA_AUDIT_CONFIG_DIR")
    if base:
        return Path(base)
    from platformdirs import user_config_dir

    return Path(user_config_dir("coa-audit"))


def load_user_profile() -> dict[str, str]:
    """The checklist details used last time (customer, agreement number, provider...)."""
    import tomllib

    try:
        data = tomllib.loads((_config_dir() / "profile.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.get("checklist", {}).items() if isinstance(v, str)}


def save_user_profile(header: dict[str, str]) -> None:
    """Remember the checklist details for the next export (best effort)."""
    import tomli_w

    keep = {
        k: v
        for k, v in header.items()
        if k in ("customer", "agreement_number", "provider", "prepared_by") and v
    }
    if not keep:
        return
    with contextlib.suppress(OSError):
        folder = _config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "profile.toml").write_text(tomli_w.dumps({"checklist": keep}), encoding="utf-8")


def journal_dir() -> Path:
    base = os.environ.get("COA_AUDIT_STATE_DIR")
    if base:
        root = Path(base)
    else:
        from platformdirs import user_state_dir

        root = Path(user_state_dir("coa-audit"))
    return root / "journals"


@dataclass(frozen=True)
class PendingEdit:
    row: int  # spreadsheet row number
    col: int  # source column index
    header: str
    old: str
    new: str
    time: float


@dataclass
class Pending:
    edits: list[PendingEdit] = field(default_factory=list)
    skipped: int = 0  # unreadable lines (a truncated last line after a crash, garbage)
    sha256: str | None = None  # of the source when the journal was started
    sessions: list[dict[str, Any]] = field(default_factory=list)

    def cells(self, inv: Inventory) -> tuple[list[tuple[int, int, str]], int]:
        """The edits as (row index, column, new value) for ``inv``, and how many entries
        were skipped (unreadable lines, or cells the file no longer has)."""
        out, skipped = [], self.skipped
        for e in self.edits:
            row = inv.row_of(e.row)
            if row is None or not 0 <= e.col < inv.width:
                skipped += 1
                continue
            out.append((row, e.col, e.new))
        return out, skipped


class Journal:
    def __init__(self, source: str | Path) -> None:
        self.source = str(Path(source).resolve())
        digest = hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:24]
        self.path = journal_dir() / f"{digest}.jsonl"
        self._fh: Any = None

    # -- reading ---------------------------------------------------------------------------
    def pending(self) -> Pending:
        """Edits not yet exported, from a previous (or crashed) session."""
        out = Pending()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return out
        except OSError:
            out.skipped = 1
            return out
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                kind = entry["t"]
            except (ValueError, KeyError, TypeError):
                out.skipped += 1
                continue
            if kind == "open":
                out.sha256 = out.sha256 or entry.get("sha256")
                out.sessions.append(entry)
            elif kind == "set":
                try:
                    out.edits.append(
                        PendingEdit(
                            int(entry["row"]),
                            int(entry["col"]),
                            str(entry.get("header", "")),
                            str(entry["old"]),
                            str(entry["new"]),
                            float(entry.get("time", 0)),
                        )
                    )
                except (KeyError, TypeError, ValueError):
                    out.skipped += 1
            elif kind in ("exported", "discarded"):
                out.edits.clear()
        return out

    # -- writing ---------------------------------------------------------------------------
    def _write(self, entry: dict[str, Any]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open for the session
        self._fh.write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def open_session(self, sha256: str) -> None:
        self._write(
            {
                "t": "open",
                "source": self.source,
                "sha256": sha256,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "time": time.time(),
            }
        )

    def record(
        self, row: int, col: int, header: str, old: str, new: str, origin: str = "screen"
    ) -> None:
        self._write(
            {
                "t": "set",
                "row": row,
                "col": col,
                "header": header,
                "old": old,
                "new": new,
                "origin": origin,
                "time": time.time(),
            }
        )

    def mark_exported(self) -> None:
        self._write({"t": "exported", "time": time.time()})

    def discard(self) -> None:
        """The user chose not to restore: mark the pending edits as discarded."""
        self._write({"t": "discarded", "time": time.time()})

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
