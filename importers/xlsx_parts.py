"""Small, targeted reads of an xlsx package: which part holds a sheet, and the number
formats of a few cells (python-calamine gives values, not formats)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree

from coa_audit.core.model import column_letter

__all__ = ["SpecialCells", "cell_formats", "sheet_part", "special_cells", "table_totals_rows"]

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_BUILTIN_FORMATS = {0: "General", 1: "0", 49: "@"}


def sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding worksheet ``sheet`` (None when there is none)."""
    wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rid = next(
        (
            el.get(f"{{{_REL_NS}}}id")
            for el in wb.iter()
            if el.tag.endswith("}sheet") and el.get("name") == sheet
        ),
        None,
    )
    if rid is None:
        return None
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    for el in rels.iter():
        if el.tag.endswith("}Relationship") and el.get("Id") == rid:
            target = el.get("Target", "")
            return (
                target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            )
    return None


def _xf_formats(z: zipfile.ZipFile) -> list[str]:
    """Format code of every cell style (cellXfs), by style index."""
    try:
        root = ElementTree.fromstring(z.read("xl/styles.xml"))
    except KeyError:
        return []
    custom: dict[int, str] = {}
    xfs: list[str] = []
    for el in root.iter():
        if el.tag.endswith("}numFmt"):
            custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "General")
    for parent in root.iter():
        if parent.tag.endswith("}cellXfs"):
            for xf in parent:
                fid = int(xf.get("numFmtId", "0"))
                xfs.append(custom.get(fid, _BUILTIN_FORMATS.get(fid, "General")))
    return xfs


def cell_formats(path: str, sheet: str, columns: Iterable[str]) -> dict[tuple[str, int], str]:
    """{(column letter, row number): format code} for every cell of ``columns`` that has a
    non-General format. One regex pass per column over the sheet XML."""
    out: dict[tuple[str, int], str] = {}
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return out
        formats = _xf_formats(z)
        xml = z.read(part)
    for letter in columns:
        cell = re.compile(rb"<(?:\w+:)?c\b([^>]*?\br=\"" + letter.encode() + rb"(\d+)\"[^>]*)>")
        for m in cell.finditer(xml):
            s = re.search(rb'\bs="(\d+)"', m.group(1))
            if s is None:
                continue
            idx = int(s.group(1))
            code = formats[idx] if idx < len(formats) else "General"
            if code != "General":
                out[(letter, int(m.group(2)))] = code
    return out


@dataclass(frozen=True)
class TablePart:
    """An Excel table on a sheet: its name, columns c1..c2 and rows r1..r2 (0-based columns,
    spreadsheet rows), header and totals row counts."""

    name: str
    c1: int
    r1: int
    c2: int
    r2: int
    header_rows: int
    totals_rows: int


def _tables(z: zipfile.ZipFile, part: str) -> Iterator[TablePart]:
    """The tables of the sheet in ``part``, from its relationships (targets resolved
    case-insensitively, as Excel does)."""
    p = PurePosixPath(part)
    try:
        rels = ElementTree.fromstring(z.read(str(p.parent / "_rels" / f"{p.name}.rels")))
    except KeyError:
        return
    names = {n.lower(): n for n in z.namelist()}
    for el in rels.iter():
        if not el.tag.endswith("}Relationship") or not el.get("Type", "").endswith("/table"):
            continue
        target = el.get("Target", "")
        member = (
            target.lstrip("/")
            if target.startswith("/")
            else str(PurePosixPath(*_resolve(p.parent.parts, target)))
        )
        real = names.get(member.lower())
        if real is None:
            continue
        table = ElementTree.fromstring(z.read(real))
        m = _RANGE.match(table.get("ref", ""))
        if not m or not m.group(3):
            continue
        yield TablePart(
            table.get("displayName") or table.get("name") or "table",
            _col(m.group(1)),
            int(m.group(2)),
            _col(m.group(3)),
            int(m.group(4)),
            0 if table.get("headerRowCount", "1") == "0" else 1,
            int(table.get("totalsRowCount", "0") or 0),
        )


def table_totals_rows(path: str, sheet: str) -> set[int]:
    """Row numbers of the totals rows of the Excel tables on ``sheet`` (a totals row is no
    device)."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return set()
        return {r for t in _tables(z, part) for r in range(t.r2 - t.totals_rows + 1, t.r2 + 1)}


def _resolve(base: tuple[str, ...], target: str) -> list[str]:
    parts = list(base)
    for seg in target.split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return parts


# -- cells that other parts of the package know about ----------------------------------------

_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b([^>]*?)(/?)>")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)(\d+)\"")
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def _col(letters: str | bytes) -> int:
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


@dataclass
class SpecialCells:
    """What the package says about cells beyond their values, for one sheet."""

    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (col, row) -> kind
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # c1, r1, c2, r2
    table_rows: list[tuple[str, int, int, int, str]] = field(default_factory=list)
    calc_chain: bool = False

    def refusal(self, col: int, row: int) -> str | None:
        """Why an edit of cell (absolute col, row) would leave the package inconsistent, as
        one line; None when it can be written."""
        ref = f"{column_letter(col)}{row}"
        for c1, r1, c2, r2 in self.merged:
            if c1 <= col <= c2 and r1 <= row <= r2 and (col, row) != (c1, r1):
                anchor = f"{column_letter(c1)}{r1}"
                return (
                    f"cell {ref} is inside the merged range {anchor}:{column_letter(c2)}{r2}, "
                    f"which shows only its top-left cell: edit {anchor} instead"
                )
        for name, c1, c2, r, what in self.table_rows:
            if c1 <= col <= c2 and r == row:
                return (
                    f"cell {ref} is in the {what} row of the Excel table {name!r}, which Excel "
                    "keeps in step with the table's definition: edit it in Excel"
                )
        if self.formulas.get((col, row)) == "shared-master":
            return (
                f"cell {ref} holds the master formula that other cells share: replacing it "
                "would break them; edit it in Excel"
            )
        return None

    def replaces_formula(self, col: int, row: int) -> bool:
        return (col, row) in self.formulas


def special_cells(path: str, sheet: str, xml: bytes | None = None) -> SpecialCells:
    """Formulas, merged ranges, table header and totals rows of ``sheet``, and whether the
    package keeps a calculation chain (``xml``: the sheet part, when already read)."""
    out = SpecialCells()
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return out
        out.calc_chain = any(n.lower() == "xl/calcchain.xml" for n in z.namelist())
        if xml is None:
            xml = z.read(part)
        for m in _MERGE.finditer(xml):
            c1, r1, c2, r2 = _col(m.group(1)), int(m.group(2)), _col(m.group(3)), int(m.group(4))
            out.merged.append((c1, r1, c2, r2))
        for m in _FORMULA.finditer(xml):
            # the cell that holds this formula starts at the last "<c " (or "<x:c ") before it
            at = max(xml.rfind(b"<c ", 0, m.start()), xml.rfind(b":c ", 0, m.start()))
            if at < 0:
                continue
            cell = _CELL_REF.match(xml, xml.rfind(b"<", 0, at + 1))
            if cell is None:
                continue
            key = (_col(cell.group(1)), int(cell.group(2)))
            attrs = m.group(1)
            shared_master = b't="shared"' in attrs and b" ref=" in attrs
            out.formulas[key] = "shared-master" if shared_master else "formula"
        for t in _tables(z, part):
            if t.header_rows:
                out.table_rows.append((t.name, t.c1, t.c2, t.r1, "header"))
            for r in range(t.r2 - t.totals_rows + 1, t.r2 + 1):
                out.table_rows.append((t.name, t.c1, t.c2, r, "totals"))
    return out
