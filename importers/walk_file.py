"""Read a walk file (``exporters.walk_file``) back: marks by device, and scanned codes.

Two layouts are read: today's, one column per field of a mark (``WALK_FILE_COLUMNS``), and
the one written before marks had fields (``LEGACY_WALK_FILE_COLUMNS``: the mark as one text,
"differs: Home (by Ana, 2026-12-07 00:51)"), whose texts ``core.events.legacy_mark`` reads,
each mark keeping its name and time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from coa_audit.core.errors import UsageError
from coa_audit.core.events import Mark, ScanFlag, Stamp, legacy_mark, legacy_stamp
from coa_audit.core.files import read_small_text
from coa_audit.core.model import (
    LEGACY_WALK_FILE_COLUMNS,
    LEGACY_WALK_MARKS,
    WALK_FILE_COLUMNS,
    WALK_MARKS,
)

__all__ = ["WalkFile", "WalkMark", "read_walk"]


@dataclass(frozen=True)
class WalkMark:
    line: int
    row: str  # the spreadsheet row the mark was made on
    serial_number: str
    asset_tag: str
    hostname: str
    mark: Mark


@dataclass
class WalkFile:
    marks: list[WalkMark] = field(default_factory=list)
    scans: list[ScanFlag] = field(default_factory=list)


def _text(cell: str) -> str:
    """A cell as it was before the writer's guard against formulas: the writer
    (``exporters.safety.neutralise``) puts exactly one apostrophe before a value a
    spreadsheet would evaluate and before one that starts with an apostrophe, so exactly one
    comes off."""
    return cell[1:] if cell.startswith("'") else cell


def read_walk(path: Path) -> WalkFile:
    """The walk in ``path``; a file that is not one is refused in one line (exit 2)."""
    try:
        text = read_small_text(path, "walk file")
    except FileNotFoundError:
        raise UsageError(f"walk file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"walk file {path} cannot be read: {exc}") from None
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:
        raise UsageError(f"walk file {path} is not a CSV file coa-audit wrote: {exc}") from None
    header = tuple(h.strip() for h in rows[0]) if rows else ()
    if header not in (WALK_FILE_COLUMNS, LEGACY_WALK_FILE_COLUMNS):
        raise UsageError(
            f"{path} is not a walk file written by coa-audit export (its first line must be "
            f"{','.join(WALK_FILE_COLUMNS)})"
        )
    legacy = header == LEGACY_WALK_FILE_COLUMNS
    out = WalkFile()
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise UsageError(f"{path}, line {n}: {len(cells)} fields, expected {len(header)}")
        cells = [_text(c) for c in cells]
        try:
            if legacy:
                _legacy_line(out, n, cells)
            else:
                _line(out, n, cells)
        except ValueError as exc:
            raise UsageError(
                f"{path}, line {n}: not a mark or a scan ({exc}): the walk file was changed "
                "by hand; export it again"
            ) from None
    return out


def _line(out: WalkFile, n: int, cells: list[str]) -> None:
    kind, row, serial, tag, host, word, outcome, says, basis, ref, why, by, at, how = cells
    stamp = Stamp.from_dict({"by": by, "at": at, "how": how, "why": why})
    if kind == "scan":
        if outcome not in ("unknown", "duplicate"):
            raise ValueError(f"a scan is unknown or duplicate, not {outcome!r}")
        out.scans.append(ScanFlag(ref, outcome, stamp))
    elif kind == "mark" and word in WALK_MARKS:
        mark = Mark(WALK_MARKS[word], outcome, stamp, says, basis, ref)
        out.marks.append(WalkMark(n, row, serial, tag, host, mark))
    else:
        raise ValueError(f"{kind!r}, {word!r}")


def _legacy_line(out: WalkFile, n: int, cells: list[str]) -> None:
    kind, row, serial, tag, host, word, value, by = cells
    if kind == "scan":
        if word not in ("unknown", "duplicate"):
            raise ValueError(f"a scan is unknown or duplicate, not {word!r}")
        out.scans.append(ScanFlag(value, word, legacy_stamp(by, how="scanned")))
    elif kind == "mark" and word in LEGACY_WALK_MARKS and value.strip():
        mark = legacy_mark(LEGACY_WALK_MARKS[word], value)
        out.marks.append(WalkMark(n, row, serial, tag, host, mark))
    else:
        raise ValueError(f"{kind!r}, {word!r}")
