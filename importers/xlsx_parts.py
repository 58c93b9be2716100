"""Small, targeted reads of an xlsx package: which part holds a sheet, and the number
formats of a few cells (python-calamine gives values, not formats)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath

from defusedxml import ElementTree

__all__ = ["cell_formats", "sheet_part"]

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


_REF = re.compile(r"^\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?$")


def table_totals_rows(path: str, sheet: str) -> set[int]:
    """Row numbers of the totals rows of the Excel tables on ``sheet`` (a totals row is no
    device): read from each table part's ``ref`` and ``totalsRowCount``."""
    out: set[int] = set()
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return out
        p = PurePosixPath(part)
        rels_name = str(p.parent / "_rels" / f"{p.name}.rels")
        try:
            rels = ElementTree.fromstring(z.read(rels_name))
        except KeyError:
            return out
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
            count = int(table.get("totalsRowCount", "0") or 0)
            m = _REF.match(table.get("ref", ""))
            if count and m and m.group(2):
                last = int(m.group(2))
                out.update(range(last - count + 1, last + 1))
    return out


def _resolve(base: tuple[str, ...], target: str) -> list[str]:
    parts = list(base)
    for seg in target.split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return parts
