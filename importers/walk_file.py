"""Read a walk file (``exporters.walk_file``) back: marks by device, and scanned codes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from coa_audit.core.errors import UsageError
from coa_audit.core.files import read_small_text
from coa_audit.core.model import WALK_FILE_COLUMNS, WALK_MARKS

__all__ = ["WalkFile", "WalkMark", "read_walk"]

_COLUMNS = WALK_FILE_COLUMNS


@dataclass(frozen=True)
class WalkMark:
    line: int
    row: str  # the spreadsheet row the mark was made on
    serial_number: str
    asset_tag: str
    hostname: str
    mark: str  # present, label, accepted, taken out
    value: str  # exactly as made: what, by whom, when


@dataclass
class WalkFile:
    marks: list[WalkMark] = field(default_factory=list)
    scans: list[tuple[str, str, str]] = field(default_factory=list)  # code, outcome, by


def _text(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell  # the writer's guard against formulas


def read_walk(path: Path) -> WalkFile:
    """The walk in ``path``; a file that is not one is refused in one line (exit 2)."""
    try:
        text = read_small_text(path, "walk file")
    except FileNotFoundError:
        raise UsageError(f"walk file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"walk file {path} cannot be read: {exc}") from None
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or tuple(h.strip() for h in rows[0]) != _COLUMNS:
        raise UsageError(
            f"{path} is not a walk file written by coa-audit export (its first line must be "
            f"{','.join(_COLUMNS)})"
        )
    out = WalkFile()
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(_COLUMNS):
            raise UsageError(f"{path}, line {n}: {len(cells)} fields, expected {len(_COLUMNS)}")
        kind, row, serial, tag, host, mark, value, by = cells
        if kind == "scan":
            out.scans.append((_text(value), mark, _text(by)))
        elif kind == "mark" and mark in WALK_MARKS and value.strip():
            out.marks.append(WalkMark(n, row, serial, tag, host, mark, _text(value)))
        else:
            raise UsageError(
                f"{path}, line {n}: not a mark or a scan ({kind!r}, {mark!r}): the walk file "
                "was changed by hand; export it again"
            )
    return out
