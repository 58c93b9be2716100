"""Small, targeted reads of an xlsx package: which part holds a sheet, and the number
formats of a few cells (python-calamine gives values, not formats)."""

from __future__ import annotations

import codecs
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.etree.ElementTree import Element
from xml.parsers import expat

from defusedxml import ElementTree

from coa_audit.core.model import column_letter

__all__ = [
    "SheetScan",
    "SpecialCells",
    "cell_formats",
    "ods_bounds_problem",
    "read_member",
    "scan_sheet",
    "sheet_bounds_problem",
    "sheet_part",
    "special_cells",
    "special_from",
    "table_totals_rows",
    "well_formed",
]

# the relationships namespace of Transitional and of Strict Open XML
_REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_BUILTIN_FORMATS = {0: "General", 1: "0", 49: "@"}


def read_member(z: zipfile.ZipFile, name: str | zipfile.ZipInfo) -> bytes:
    """A member of a package, read no further than the size its header declares (Python's
    ``ZipFile.read`` inflates a member whole before it compares: a 1 KB header claiming a
    5 KB part that inflates to 1 GiB took 2 GiB to refuse). What lies about its size fails
    its checksum at the declared end, and raises ``zipfile.BadZipFile``."""
    info = name if isinstance(name, zipfile.ZipInfo) else z.getinfo(name)
    with z.open(info) as f:
        return f.read(info.file_size)


def _member(z: zipfile.ZipFile, name: str) -> str | None:
    """The zip member called ``name``, compared without case as Excel does, and with "\\"
    read as "/" (packages written on Windows by hand: the reader opens them so)."""
    if name in z.NameToInfo:
        return name
    folded = name.lower()
    return next((n for n in z.namelist() if n.replace("\\", "/").lower() == folded), None)


def sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding worksheet ``sheet`` (None when there is none). Transitional
    and Strict Open XML both; relationship targets are resolved relative to the workbook,
    absolute ones from the package root, and matched to members without case."""
    book = _member(z, "xl/workbook.xml")
    rels_name = _member(z, "xl/_rels/workbook.xml.rels")
    if book is None or rels_name is None:
        return None
    path = _sheet_paths(z, book, rels_name).get(sheet)
    return None if path is None else _member(z, path)


# The sheets' paths of the workbooks read lately: each look at a sheet opens the package
# again, and a workbook of 2,000 sheets is 2,000 entries to parse each time. Keyed by the
# file and both parts' sizes, checksums and places in it, so a file changed since is read
# again.
_PATHS: dict[tuple[object, ...], dict[str, str]] = {}


def _sheet_paths(z: zipfile.ZipFile, book: str, rels_name: str) -> dict[str, str]:
    """Each sheet's name and the path its relationship points to (the first of each)."""
    b, r = z.getinfo(book), z.getinfo(rels_name)
    key: tuple[object, ...] = (z.filename, book, b.CRC, b.file_size, b.header_offset)
    key += (rels_name, r.CRC, r.file_size, r.header_offset)
    paths = _PATHS.get(key) if z.filename else None
    if paths is not None:
        return paths
    ids: dict[str, str] = {}  # sheet name -> relationship id
    for el in ElementTree.fromstring(read_member(z, book)).iter():
        if el.tag.endswith("}sheet") and (name := el.get("name")) is not None:
            rid = next(
                (
                    value
                    for attr, value in el.attrib.items()
                    if attr.endswith("}id") and attr[1:].startswith(_REL_NAMESPACES)
                ),
                None,
            )
            if rid is not None:
                ids.setdefault(name, rid)
    targets: dict[str, str] = {}  # relationship id -> target
    for el in ElementTree.fromstring(read_member(z, rels_name)).iter():
        if el.tag.endswith("}Relationship") and (rid := el.get("Id")) is not None:
            targets.setdefault(rid, el.get("Target", ""))
    paths = {}
    for name, rid in ids.items():
        target = targets.get(rid)
        if target is not None:
            paths[name] = (
                target.lstrip("/")
                if target.startswith("/")
                else "/".join(_resolve(("xl",), target))
            )
    if z.filename:
        if len(_PATHS) >= 8:
            _PATHS.clear()
        _PATHS[key] = paths
    return paths


def _xf_formats(z: zipfile.ZipFile) -> list[str]:
    """Format code of every cell style (cellXfs), by style index."""
    try:
        root = ElementTree.fromstring(read_member(z, "xl/styles.xml"))
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


# What a byte-level search must step over whole, never look inside: a comment, a CDATA
# section, a processing instruction. Each alternative ends at its terminator or at the end of
# the part, so a match never fails after scanning ahead (a failed scan retried from the next
# byte is what makes a search quadratic).
_OPAQUE = rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)"
# the attributes of a start tag up to its end: values may hold ">" but never "<", so a
# search for one tag stops at the next "<" whatever the bytes (linear over a part)
_TAG_ATTRS = rb"""(?>[^<>"']+|"[^"<]*"|'[^'<]*')*"""


def cell_formats(path: str, sheet: str, columns: Iterable[str]) -> dict[tuple[str, int], str]:
    """{(column letter, row number): format code} for every cell of ``columns`` that has a
    non-General format. One forward pass over the sheet XML, in time linear in the part
    (comments, CDATA and processing instructions are stepped over, not read as cells)."""
    out: dict[tuple[str, int], str] = {}
    letters = sorted({c for c in columns if c.isalpha() and c.isascii()}, key=len, reverse=True)
    if not letters:
        return out
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return out
        formats = _xf_formats(z)
        xml = read_member(z, part)
    wanted = b"|".join(x.upper().encode() for x in letters)
    # a cell start tag whose reference is in a wanted column (the look-ahead stops at the
    # tag's end or the next "<")
    cell = (
        rb"<(?:[A-Za-z_][\w.\-]*:)?c(?=[\s/>])(?=[^<>]*?\sr\s*=\s*[\"'](?:"
        + wanted
        + rb")\d)("
        + _TAG_ATTRS
        + rb")"
    )
    for m in re.finditer(_OPAQUE + b"|" + cell, xml, re.S):
        attrs = m.group(1)
        if attrs is None:
            continue
        got = _attrs(attrs)
        ref = _CELL_COL.match(got.get("r", "").encode())
        style = got.get("s", "")
        if ref is None or not style.isdigit() or len(style) > 9:
            continue
        idx = int(style)
        code = formats[idx] if idx < len(formats) else "General"
        if code != "General":
            out[(ref.group(1).decode(), int(ref.group(2)))] = code
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


# header and totals rows of a sheet's tables the tool keeps, all told: Excel writes at most
# one of each per table; a package that claims more is damaged or hostile (each is a row the
# reader of totals would enumerate)
TABLE_ROWS_LIMIT = 65_536
_TABLE_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?$")
_COUNT = re.compile(r"^\d{1,7}$")


class TableProblem(ValueError):
    """A table part that does not fit its sheet (its words say how, as one line)."""


def _table_part(table: Element, member: str) -> TablePart:
    """The table in the parsed part ``table``, checked against the sheet's limits: its range
    inside the sheet, header and totals rows inside its range. Raises TableProblem."""
    get = table.get
    name = str(get("displayName") or get("name") or member)[:80]
    ref = str(get("ref", ""))
    m = _TABLE_REF.match(ref.upper())
    if m is None:
        raise TableProblem(f"table {name!r} covers {ref[:40]!r}, which is no range of a sheet")
    c1, r1 = _col(m.group(1)), int(m.group(2))
    c2, r2 = (_col(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    if not (0 <= c1 <= c2 < MAX_COL and 1 <= r1 <= r2 <= MAX_ROW):
        raise TableProblem(f"table {name!r} covers {ref[:40]!r}, outside any sheet")
    header_text = str(get("headerRowCount", "1") or "1")
    totals_text = str(get("totalsRowCount", "0") or "0")
    if not _COUNT.match(header_text) or not _COUNT.match(totals_text):
        raise TableProblem(
            f"table {name!r} claims {header_text[:20]!r} header and {totals_text[:20]!r} "
            "totals rows, which are no row counts"
        )
    header = 0 if int(header_text) == 0 else 1
    totals = int(totals_text)
    if header + totals > r2 - r1 + 1:
        raise TableProblem(
            f"table {name!r} claims {totals:,} totals rows in a range of {r2 - r1 + 1:,} rows"
        )
    return TablePart(name, c1, r1, c2, r2, header, totals)


def _tables(z: zipfile.ZipFile, part: str, strict: bool = False) -> Iterator[TablePart]:
    """The tables of the sheet in ``part``, from its relationships (targets resolved
    case-insensitively, as Excel does). A table part that does not fit the sheet, or whose
    header and totals rows pass ``TABLE_ROWS_LIMIT`` all told, is left out, or with
    ``strict`` raises TableProblem saying why."""
    p = PurePosixPath(part)
    try:
        rels = ElementTree.fromstring(read_member(z, str(p.parent / "_rels" / f"{p.name}.rels")))
    except KeyError:
        return
    names = {n.lower(): n for n in z.namelist()}
    kept = 0
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
        try:
            try:
                table = ElementTree.fromstring(read_member(z, real))
            except ValueError as exc:  # not XML, or XML with entities
                raise TableProblem(f"table part {real} is unreadable ({exc})") from None
            t = _table_part(table, real)
            kept += t.header_rows + t.totals_rows
            if kept > TABLE_ROWS_LIMIT:
                raise TableProblem(
                    f"the sheet's tables claim over {TABLE_ROWS_LIMIT:,} header and totals rows"
                )
        except TableProblem:
            if strict:
                raise
            if kept > TABLE_ROWS_LIMIT:
                return
            continue
        yield t


def table_totals_rows(path: str, sheet: str) -> set[int]:
    """Row numbers of the totals rows of the Excel tables on ``sheet`` (a totals row is no
    device). At most ``TABLE_ROWS_LIMIT`` rows: a table that claims more is left out."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return set()
        return {r for t in _tables(z, part) for r in range(t.r2 - t.totals_rows + 1, t.r2 + 1)}


def tables_problem(z: zipfile.ZipFile, part: str) -> str | None:
    """Why the tables of the sheet in ``part`` are no tables of it (one line), or None."""
    try:
        for _t in _tables(z, part, strict=True):
            pass
    except TableProblem as exc:
        return f"{exc} (damaged or hostile)"
    return None


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
    # name, c1, c2, first row, "header" or "totals", last row
    table_rows: list[tuple[str, int, int, int, str, int]] = field(default_factory=list)
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
        for name, c1, c2, first, what, last in self.table_rows:
            if c1 <= col <= c2 and first <= row <= last:
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


def special_cells(path: str, sheet: str) -> SpecialCells:
    """Formulas, merged ranges, table header and totals rows of ``sheet``, and whether the
    package keeps a calculation chain."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return SpecialCells()
        return special_from(z, part, scan_sheet(read_member(z, part)))


def special_from(z: zipfile.ZipFile, part: str, scan: SheetScan) -> SpecialCells:
    """The special cells of the sheet in ``part``, from its scan and the package's tables."""
    out = SpecialCells(formulas=scan.formulas, merged=scan.merged)
    out.calc_chain = any(n.lower() == "xl/calcchain.xml" for n in z.namelist())
    for t in _tables(z, part):
        if t.header_rows:
            out.table_rows.append((t.name, t.c1, t.c2, t.r1, "header", t.r1))
        if t.totals_rows:
            out.table_rows.append((t.name, t.c1, t.c2, t.r2 - t.totals_rows + 1, "totals", t.r2))
    return out


# -- where rows and cells are, from a real XML tokenizer ---------------------------------------

# The end of a start tag from its "<": attribute values are quoted and may hold ">" ("a>b")
# but never "<" (XML forbids it), so a look for one tag never runs past the next "<".
_START_TAG = re.compile(rb"""<[^\s/<>]+(?:\s+[^\s=/<>]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*(/?)>""")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_NOT_UTF8 = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"'](?!utf-?8[\"'])", re.I)
MAX_ROW, MAX_COL = 1_048_576, 16_384


@dataclass
class CellAt:
    """A cell element of a wanted row: its column and byte range in the sheet part."""

    col: int
    start: int
    end: int = -1
    style: str | None = None
    type: str | None = None
    formula: bool = False
    has_value: bool = False


@dataclass
class RowAt:
    """A wanted row element: number, byte range, the end of its start tag and where its
    content ends (``close``: the offset of "</row>", None for an empty ``<row .../>``)."""

    number: int
    start: int
    open_end: int
    end: int = -1
    close: int | None = None
    prefix: str = ""
    cells: list[CellAt] = field(default_factory=list)


@dataclass
class SheetScan:
    """Where everything an edit needs sits in a worksheet part, found with expat: comments,
    CDATA, processing instructions, namespace prefixes and rows or cells without a
    reference are all understood, and the offsets are exact bytes to splice at."""

    prefix: str = ""  # the namespace prefix of sheetData ("x:" or "")
    data_start: int = -1  # "<sheetData"
    data_open_end: int = -1  # just after its start tag
    data_close: int | None = None  # "</sheetData>" (None: <sheetData/>)
    data_end: int = -1
    rows: list[RowAt] = field(default_factory=list)  # the wanted rows, in document order
    row_starts: list[tuple[int, int]] = field(default_factory=list)  # (number, "<row") of all
    max_col: int = -1  # the rightmost cell element present (0-based), -1 when none
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (col, row) -> kind
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    duplicate_rows: set[int] = field(default_factory=set)


def _tag_end(xml: bytes, at: int) -> tuple[int, bool]:
    """(offset after the start tag at ``at``, whether it is an empty element)."""
    m = _START_TAG.match(xml, at)
    if m is None:
        raise ValueError(f"unreadable start tag at byte {at}")
    return m.end(), m.group(1) == b"/"


def _element_end(xml: bytes, at: int, name: str) -> tuple[int, int | None]:
    """(offset after the element, offset of its end tag or None) from the offset expat gives
    at its end: the end tag "</name", or for an empty element the byte after it."""
    tag = b"</" + name.encode()
    if xml.startswith(tag, at) and xml[at + len(tag) : at + len(tag) + 1] in b"> \t\r\n":
        return xml.index(b">", at) + 1, at
    return at, None


def _cell_ref(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref)
    if m is None:
        return None
    col, row = _col(m.group(1).upper()), int(m.group(2))
    if not (0 <= col < MAX_COL and 1 <= row <= MAX_ROW):
        return None
    return col, row


def scan_sheet(
    xml: bytes,
    wanted: Iterable[int] = (),
    widest: bool = False,
    tokenizer: bool = False,
    located: Iterable[int] = (),
) -> SheetScan:
    """Tokenize a worksheet part once. Rows without ``r`` follow the previous row and cells
    without ``r`` the previous cell, as the format says; ``wanted`` rows keep their cells;
    ``widest`` finds the rightmost cell. Raises ValueError for a part that is not
    well-formed or not a worksheet it understands.

    A part as spreadsheet programs write it (no comment, CDATA, DOCTYPE or processing
    instruction, so every "<" opens a tag; every row and cell with its reference first; no
    extension list inside the data) is read by a byte-level lexer that is exact under those
    conditions and about four times faster; any other part goes through expat
    (``tokenizer``: always). ``located`` rows are found without their cells (enough to add
    cells right of every cell, as ``--annotate`` does)."""
    if xml.startswith((b"\xff\xfe", b"\xfe\xff")) or _NOT_UTF8.match(xml[:300]):
        raise ValueError("the worksheet part is not stored as UTF-8")
    want = set(wanted)
    rows_wanted = want | set(located)
    if not tokenizer:
        plain = _scan_plain(xml, want, widest, rows_wanted)
        if plain is not None:
            return plain
    scan = SheetScan()
    parser = expat.ParserCreate()
    names: dict[str, tuple[str, str]] = {}  # element name -> (prefix with ":", local name)
    path: list[str] = []  # local names of the open elements
    state = {"row": 0, "col": -1, "max_col": -1}
    seen_rows: set[int] = set()
    open_row: list[RowAt] = []  # the wanted row being read (0 or 1)
    open_cell: list[CellAt] = []
    cells_of: list[bool] = []  # whether the open row keeps its cells

    def split(name: str) -> tuple[str, str]:
        got = names.get(name)
        if got is None:
            prefix, _, bare = name.rpartition(":")
            got = names[name] = (prefix + ":" if prefix else "", bare)
        return got

    def start(name: str, attrs: dict[str, str]) -> None:
        prefix, bare = split(name)
        path.append(bare)
        depth = len(path)
        if depth < 2 or path[1] != "sheetData":
            if depth == 3 and bare == "mergeCell" and path[1] == "mergeCells":
                m = _RANGE.match(attrs.get("ref", ""))
                if m and m.group(3):
                    scan.merged.append(
                        (_col(m.group(1)), int(m.group(2)), _col(m.group(3)), int(m.group(4)))
                    )
            return
        if depth == 4 and bare == "c" and path[2] == "row":
            ref = attrs.get("r")
            got = _cell_ref(ref) if ref is not None else None
            if ref is not None and got is None:
                raise ValueError(f"cell reference {ref[:20]!r} is not a cell")
            col = got[0] if got is not None else state["col"] + 1
            if col >= MAX_COL:
                raise ValueError("a cell lies beyond the last column")
            state["col"] = col
            if col > state["max_col"]:
                state["max_col"] = col
            if open_row and cells_of[-1]:
                cell = CellAt(col, parser.CurrentByteIndex, style=attrs.get("s"))
                cell.type = attrs.get("t")
                open_row[0].cells.append(cell)
                open_cell.append(cell)
        elif depth == 5 and path[3] == "c":
            if bare == "f":
                shared = attrs.get("t") == "shared" and "ref" in attrs
                scan.formulas[(state["col"], state["row"])] = (
                    "shared-master" if shared else "formula"
                )
                if open_cell:
                    open_cell[0].formula = True
            elif bare in ("v", "is") and open_cell:
                open_cell[0].has_value = True
        elif depth == 3 and bare == "row":
            ref = attrs.get("r")
            if ref is not None:
                if not ref.isdigit() or not 1 <= int(ref) <= MAX_ROW:
                    raise ValueError(f"row number {ref[:20]!r} is not a row")
                number = int(ref)
            else:
                number = state["row"] + 1
                if number > MAX_ROW:
                    raise ValueError("a row lies beyond the last row")
            state["row"], state["col"] = number, -1
            if number in seen_rows:
                scan.duplicate_rows.add(number)
            seen_rows.add(number)
            at = parser.CurrentByteIndex
            scan.row_starts.append((number, at))
            if number in rows_wanted:
                row = RowAt(number, at, _tag_end(xml, at)[0], prefix=prefix)
                scan.rows.append(row)
                open_row.append(row)
                cells_of.append(number in want)
        elif depth == 2 and scan.data_start < 0:  # sheetData itself
            at = parser.CurrentByteIndex
            scan.prefix = prefix
            scan.data_start = at
            scan.data_open_end = _tag_end(xml, at)[0]

    def end(name: str) -> None:
        bare = path.pop()
        depth = len(path) + 1
        if open_cell and depth == 4 and bare == "c":
            open_cell.pop().end = _element_end(xml, parser.CurrentByteIndex, name)[0]
        elif open_row and depth == 3 and bare == "row":
            row = open_row.pop()
            cells_of.pop()
            row.end, row.close = _element_end(xml, parser.CurrentByteIndex, name)
        elif depth == 2 and bare == "sheetData" and scan.data_end < 0:
            scan.data_end, scan.data_close = _element_end(xml, parser.CurrentByteIndex, name)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise ValueError(f"the worksheet part is not well-formed XML ({exc})") from None
    scan.max_col = state["max_col"]
    return scan


def well_formed(xml: bytes) -> str | None:
    """None when ``xml`` parses, else what expat says is wrong."""
    try:
        expat.ParserCreate().Parse(xml, True)
    except expat.ExpatError as exc:
        return str(exc)
    return None


# a name starts after a space or a quote (never inside another name: a long run of name
# bytes without "=" is tried once, not once per byte)
_ATTR = re.compile(rb"""(?<![^\s"'])([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData(?=[\s/>])")
_CELL_COL = re.compile(rb"([A-Z]{1,3})(\d+)$")
_MERGE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?mergeCell(?=[\s/>])")


def _attrs(tag: bytes) -> dict[str, str]:
    return {
        m.group(1).decode(): (m.group(2) if m.group(2) is not None else m.group(3) or b"").decode()
        for m in _ATTR.finditer(tag)
    }


def _scan_plain(
    xml: bytes, want: set[int], widest: bool, rows_wanted: set[int] | None = None
) -> SheetScan | None:
    """The scan of a part as spreadsheet programs write it, or None when the part is not
    plain enough for this lexer (then expat reads it)."""
    if rows_wanted is None:
        rows_wanted = want
    head = 3 if xml.startswith(codecs.BOM_UTF8) else 0
    if b"<!" in xml or xml.find(b"<?", head + 1) != -1:
        return None
    m = _SHEET_DATA.search(xml)
    if m is None or xml.count(b"sheetData") > 2:  # its start and end tags, nothing else
        return None
    p = m.group(1) or b""
    scan = SheetScan(prefix=p.decode(), data_start=m.start())
    scan.data_open_end, empty = _tag_end(xml, m.start())
    lo = hi = scan.data_open_end
    if empty:
        scan.data_end = scan.data_open_end
    else:
        close = xml.find(b"</" + p + b"sheetData>", lo)
        if close < 0:
            return None
        scan.data_close, hi = close, close
        scan.data_end = close + len(b"</" + p + b"sheetData>")
    if xml.find(b"extLst", lo, hi) != -1:
        return None
    row, cell = b"<" + p + b"row", b"<" + p + b"c"
    ep = re.escape(p)
    # a row or cell tag whose first attribute is not its reference: expat numbers it
    if re.compile(rb"<" + ep + rb"(?:row|c)(?:[\t\r\n/>]| (?!r=\"))").search(xml, lo, hi):
        return None
    seen: set[int] = set()
    # every search below is bounded by the next row or cell found (a row or cell that is
    # never closed is then noticed at once, not by a search to the end of the part each
    # time) and no reference runs past a "<": one forward pass, linear in the part
    cell_refs = re.compile(re.escape(cell) + rb' r="([^"<]*)"')
    end_row, end_cell = b"</" + p + b"row>", b"</" + p + b"c>"
    row_refs = list(re.compile(re.escape(row) + rb' r="([^"<]*)"').finditer(xml, lo, hi))
    for i, rm in enumerate(row_refs):
        text = rm.group(1)
        if not text.isdigit() or len(text) > 7 or not 1 <= int(text) <= MAX_ROW:
            return None  # expat's reading says what is wrong
        number, at = int(text), rm.start()
        if number in seen:
            scan.duplicate_rows.add(number)
        seen.add(number)
        scan.row_starts.append((number, at))
        if number not in rows_wanted:
            continue
        open_end, empty = _tag_end(xml, at)
        r = RowAt(number, at, open_end, prefix=scan.prefix)
        if empty:
            r.end = open_end
        else:
            bound = row_refs[i + 1].start() if i + 1 < len(row_refs) else hi
            close = xml.find(end_row, open_end, bound)
            if close < 0:
                return None
            r.close, r.end = close, close + len(end_row)
            found = list(cell_refs.finditer(xml, open_end, close)) if number in want else []
            for j, cm in enumerate(found):
                ref = _CELL_COL.match(cm.group(1))
                if ref is None or int(ref.group(2)) != number:
                    return None
                start = cm.start()
                tag_end, cell_empty = _tag_end(xml, start)
                attrs = _attrs(xml[start + len(cell) : tag_end])
                c = CellAt(_col(ref.group(1)), start, style=attrs.get("s"), type=attrs.get("t"))
                until = found[j + 1].start() if j + 1 < len(found) else close
                c.end = tag_end if cell_empty else xml.find(end_cell, tag_end, until)
                if c.end < 0:
                    return None
                if not cell_empty:
                    inner = xml[tag_end : c.end]
                    c.formula = re.search(rb"<" + re.escape(p) + rb"f[\s/>]", inner) is not None
                    c.has_value = (
                        re.search(rb"<" + re.escape(p) + rb"(?:v|is)[\s>]", inner) is not None
                    )
                    c.end += len(end_cell)
                r.cells.append(c)
        scan.rows.append(r)
    formula = b"<" + p + b"f"
    owners = cell_refs.finditer(xml, lo, hi)  # the cells in order: the last one before a formula
    owner: re.Match[bytes] | None = None
    ahead = next(owners, None)
    at = xml.find(formula, lo, hi)
    while at >= 0:
        if xml[at + len(formula) : at + len(formula) + 1] not in (b" ", b">", b"/"):
            at = xml.find(formula, at + 1, hi)
            continue
        while ahead is not None and ahead.start() < at:
            owner, ahead = ahead, next(owners, None)
        if owner is None:
            return None
        ref = _CELL_COL.match(owner.group(1))
        if ref is None:
            return None
        attrs = _attrs(xml[at + 2 + len(p) : _tag_end(xml, at)[0]])
        shared = attrs.get("t") == "shared" and "ref" in attrs
        key = (_col(ref.group(1)), int(ref.group(2)))
        scan.formulas[key] = "shared-master" if shared else "formula"
        at = xml.find(formula, at + 1, hi)
    if widest:
        letters = {
            m.group(1)
            for m in re.compile(re.escape(cell) + rb' r="([A-Z]{1,3})').finditer(xml, lo, hi)
        }
        scan.max_col = max((_col(x) for x in letters), default=-1)
    for mm in _MERGE_CELL.finditer(xml, scan.data_end):
        span = _attrs(xml[mm.end() : _tag_end(xml, mm.start())[0]]).get("ref", "")
        rng = _RANGE.match(span)
        if rng and rng.group(3):
            scan.merged.append(
                (_col(rng.group(1)), int(rng.group(2)), _col(rng.group(3)), int(rng.group(4)))
            )
    return scan


# -- what reading a sheet would allocate, before the reader allocates it ----------------------

AREA_LIMIT = 30_000_000  # cells: beyond this a sheet must be about as full as it is wide
AREA_PER_CELL = 16  # a sheet may span at most this many cells per cell it really holds
TEXT_LIMIT = 1024**3  # characters of shared text the cells may ask for, all told
SI_LIMIT = 1024**2  # bytes of one shared string item (Excel's own limit is 32,767 characters)

_REF_ROW = re.compile(rb' r="[A-Za-z]{0,3}\$?(\d+)"')
_REF_COL = re.compile(rb'c r="([A-Za-z]{1,3})\d')
# A reference written any way XML allows but the one these patterns read (' r="A1"'): another
# space before it, spaces around "=", single quotes. The reader takes them all, so a part
# that may hold any of them has its references rewritten the one way before it is measured.
# Whether it may is told by bytes no canonical part holds: a quote, a tab or a carriage
# return anywhere, a newline after the prolog, a space beside "=" (single bytes are found at
# memory speed; a part without them, as every spreadsheet program writes, costs two searches).
_LOOSE_REF = re.compile(rb"""\s+r\s*=\s*(["'])([^"'<>]*)\1""")


def _loose(xml: bytes) -> bool:
    return (
        b"'" in xml
        or b"\t" in xml
        or b"\r" in xml
        or xml.find(b"\n", 200) >= 0
        or b" =" in xml
        or b"= " in xml
    )


# a row number beyond the sheet's last (1,048,576 has 7 digits), or a column beyond XFD
_FAR_ROW = re.compile(rb' r="[A-Za-z]{0,3}\$?(\d{7,})"')
_FAR_COL = re.compile(
    rb'c r="\$?(?:[A-Za-z]{4}|[Y-Zy-z][A-Za-z]{2}|[Xx][G-Zg-z][A-Za-z]|[Xx][Ff][E-Ze-z])\d'
)


def _canonical_refs(xml: bytes, loose: bool) -> bytes:
    """``xml`` with every cell and row reference written ' r="..."', as the bound patterns
    read them (``loose``: it may hold another spelling)."""
    return _LOOSE_REF.sub(rb' r="\2"', xml) if loose else xml


# Sheets (path, name) whose part holds a cell of the error type (t="e": #REF!, #N/A...),
# noted while the bounds check reads the part: the reader gives such a cell as blank, so
# the loader puts the error's text back (``error_cells``) and a COA cell holding #REF! is not
# read as an empty one.
ERROR_SHEETS: set[tuple[str, str]] = set()
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")


def _may_hold_errors(xml: bytes, loose: bool) -> bool:
    if loose:
        return _ERROR_TYPE.search(xml) is not None
    return b't="e"' in xml


_ERROR_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?c(?=[\s/>])(" + _TAG_ATTRS + rb")>(.*?)</(?:[A-Za-z_][\w.\-]*:)?c>",
    re.S,
)
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?v(?:\s[^>]*)?>([^<]*)<", re.S)


def error_cells(path: str, sheet: str) -> dict[tuple[int, int], str]:
    """{(0-based column, row number): the error's text} of every error cell of ``sheet``
    ("#REF!"; "#ERROR!" when the cell names none)."""
    out: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return out
        xml = read_member(z, part)
    for m in re.finditer(_OPAQUE + b"|" + _ERROR_CELL.pattern, xml, re.S):
        attrs = m.group(1)
        if attrs is None:
            continue
        got = _attrs(attrs)
        if got.get("t") != "e":
            continue
        ref = _CELL_COL.match(got.get("r", "").upper().encode())
        if ref is None:
            continue
        value = _VALUE.search(m.group(2) or b"")
        text = value.group(1).decode("utf-8", "replace").strip() if value else ""
        out[(_col(ref.group(1)), int(ref.group(2)))] = text or "#ERROR!"
    return out


def sheet_bounds_problem(path: str, sheet: str) -> str | None:
    """Why reading ``sheet`` would ask the reader for far more memory than the file holds
    (None when it would not): a cell placed far from the others (the reader allocates the
    whole rectangle between them), or shared text that cells reuse over and over."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return None
        xml = read_member(z, part)
        loose = _loose(xml)
        xml = _canonical_refs(xml, loose)
        if _may_hold_errors(xml, loose):
            ERROR_SHEETS.add((path, sheet))
        strings = _member(z, "xl/sharedStrings.xml")
        size = z.getinfo(strings).file_size if strings is not None else 0
        # each cell that names a shared text gets its own copy from the reader: a small
        # file can ask for gigabytes by naming one long text many times (the part is read
        # only when its size says that could happen)
        risky = size > SI_LIMIT or size * (len(xml) // 16) > TEXT_LIMIT
        sst = read_member(z, strings) if risky and strings is not None else b""
        tables = tables_problem(z, part)
    if tables is not None:
        return f"sheet {sheet!r}: {tables}"
    # bounds from two quick passes (how many letters and digits references have at most),
    # exact positions only when those bounds could be too large
    letters = 1
    if re.search(rb' r="[A-Za-z]{2}', xml):
        letters = 3 if re.search(rb' r="[A-Za-z]{3}', xml) else 2
    past = (
        f"sheet {sheet!r} has a cell past %s, the last a sheet has (damaged or hostile); "
        "copy the data to a new sheet"
    )
    # a reference past the sheet's last column or row: the reader would allocate to it, or
    # wrap it onto a real cell (a row number of 2**32 + 2 lands on row 2); looked for only
    # where the quick bounds leave room for one
    if letters == 3 and _FAR_COL.search(xml):
        return past % "column XFD"
    cols = (26, 702, MAX_COL)[letters - 1]
    last = xml.rfind(b' r="')
    m = _REF_ROW.search(xml, max(last - 1, 0)) if last >= 0 else None
    digits = len(m.group(1)) if m else 1
    rows = MAX_ROW + 1
    if not re.search(rb' r="[A-Za-z]{0,3}\$?\d{%d}' % (digits + 1), xml):
        rows = min(10**digits - 1, MAX_ROW)
    if (digits >= 7 or rows > MAX_ROW) and any(int(n) > MAX_ROW for n in _FAR_ROW.findall(xml)):
        return past % f"row {MAX_ROW:,}"
    # rows without a number follow on from the one before (a closing "</x:row>" counts
    # too: a bound, never short)
    unnumbered = xml.count(b"<row>") if xml.find(b"<row>") >= 0 else 0
    if b":" in xml[:512] and xml.find(b":row>") >= 0:
        unnumbered += xml.count(b":row>")
    rows += unnumbered
    if rows * cols <= AREA_LIMIT:
        cells = 1
    else:
        cols = max((_col(x.upper()) for x in set(_REF_COL.findall(xml))), default=0) + 1
        rows = max(map(int, _REF_ROW.findall(xml)), default=1)
        rows += unnumbered
        cells = max(xml.count(b'c r="'), 1)  # cells without a reference make this stricter
    area = rows * cols
    if area > AREA_LIMIT and area > AREA_PER_CELL * cells:
        return (
            f"sheet {sheet!r} asks for more cells than coa-audit will allocate: it spans "
            f"{rows:,} rows by {cols:,} columns ({area:,} cells) but holds about {cells:,} "
            "(damaged or hostile); copy the data to a new sheet"
        )
    if sst:
        starts = [m.start() for m in re.finditer(rb"<(?:\w+:)?si[\s>]", sst)] + [len(sst)]
        sizes = [b - a for a, b in itertools.pairwise(starts)]
        widest = max(sizes, default=0)
        if widest > SI_LIMIT:
            return (
                f"one shared text in {path} is {widest:,} bytes long, more than a "
                "spreadsheet cell can hold (32,767 characters): damaged or hostile"
            )
        if xml.count(b't="s"') * widest > TEXT_LIMIT:
            asked = sum(
                sizes[i]
                for i in map(int, re.findall(rb't="s"[^<>]*>\s*<(?:\w+:)?v>(\d{1,9})<', xml))
                if i < len(sizes)
            )
            if asked > TEXT_LIMIT:
                return (
                    f"sheet {sheet!r} repeats shared text {asked // 1024**2:,} MiB in all: "
                    "reading it would take far more memory than the file holds "
                    "(damaged or hostile)"
                )
    return None


_SST_START = re.compile(_OPAQUE + rb"|<(?:[A-Za-z_][\w.\-]*:)?sst\b(" + _TAG_ATTRS + rb")", re.S)
_UNIQUE_COUNT = re.compile(rb"""\suniqueCount\s*=\s*["']\s*(\d{1,30})""")


def _sst_start(xml: bytes) -> bytes | None:
    """The attributes of the first ``sst`` start tag outside comments, CDATA and
    processing instructions (None when there is none)."""
    for m in _SST_START.finditer(xml):
        if m.group(1) is not None:
            return m.group(1)
    return None


def shared_strings_problem(path: str) -> str | None:
    """Why opening the workbook would ask for far more memory than its shared strings hold
    (None when it would not): the reader reserves room for as many texts as the part's
    ``uniqueCount`` says before reading one, and a text takes at least five bytes of the
    part (``<si/>``)."""
    with zipfile.ZipFile(path) as z:
        name = _member(z, "xl/sharedStrings.xml")
        if name is None:
            return None
        size = z.getinfo(name).file_size
        with z.open(name) as f:
            head = f.read(64 * 1024)
        start = _sst_start(head)
        if start is None and len(head) < size:  # after a long prologue: the whole part
            start = _sst_start(read_member(z, name))
    count = _UNIQUE_COUNT.search(start) if start is not None else None
    if count is None:
        return None
    claimed = int(count.group(1))
    if claimed > max(size // 5, 1024):
        return (
            f"its shared strings claim {claimed:,} texts in {size:,} bytes: reading it would "
            "reserve far more memory than the file holds (damaged or hostile)"
        )
    return None


# What python-calamine allocates for an OpenDocument spreadsheet, counted before it opens it.
# It builds every table when it opens the file. Per table it first keeps each row's cells as
# written (a cell repeated n times is n cells, each with its own copy of its text and
# formula; empty cells only when something follows them in the row), then a rectangle of
# values and one of formulas from the first to the last row that holds one, each row as many
# times as it is repeated; the rows of the sheet read are then handed to Python one object a
# cell. Repeats are capped as the reader caps them (16,384 columns, 1,048,576 rows).
ODS_COST_FLOOR = 256 * 1024**2  # bytes the reader may be asked for, whatever the file's size
ODS_COST_PER_BYTE = 16  # beyond that floor, bytes per byte of content.xml (a real file: 1-2)
_ODS_KEPT_CELL = 32 + 24  # a value and a formula, as first kept
_ODS_VALUE_CELL = 32 + 64  # a value in the rectangle, and the object Python makes of it
_ODS_FORMULA_CELL = 24
# the tokens counted, in one forward pass over a part expat found well-formed (so no "<"
# inside an attribute value): tables and rows, and within a row its cells and spaces
_ODS_TOKEN = re.compile(
    _OPAQUE + rb"|<(/?)(table:table|table:table-row)(?=[\s/>])(" + _TAG_ATTRS + rb")(/?)>",
    re.S,
)
_ODS_CELL = re.compile(
    _OPAQUE
    + rb"|<(table:table-cell|table:covered-table-cell|text:s)(?=[\s/>])("
    + _TAG_ATTRS
    + rb")",
    re.S,
)
# every attribute of a tag, its value consumed whole (so nothing inside a value is ever read
# as an attribute of its own); a name starts only after a space, as in _ATTR
_ODS_ATTR = re.compile(rb"""(?<![^\s])([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODS_NUMBER = re.compile(rb"\s*\+?(\d{1,12})\s*")


def _ods_attrs(tag: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) or m.group(3) or b"" for m in _ODS_ATTR.finditer(tag)}


def _ods_count(value: bytes | None) -> int:
    """A repeat count as the reader reads it; one it cannot read makes it refuse the file,
    so any such count is 1 here (a bound, never short of what it allocates)."""
    if value is None:
        return 1
    m = _ODS_NUMBER.fullmatch(value)
    return int(m.group(1)) if m else 1


@dataclass
class _OdsSpan:
    """The rows of one rectangle (values, or formulas) of a table, as the reader builds it."""

    first_row: int = -1  # rows before the first row that holds one
    rows: int = 0  # rows from the first to the last that holds one, repeats counted
    first_col: int = MAX_COL
    last_col: int = -1
    text: int = 0  # bytes of text copied into it

    def add(self, at: int, repeats: int, first: int, last: int, text: int) -> None:
        if self.first_row < 0:
            self.first_row = at
        self.rows = at + repeats - self.first_row
        self.first_col, self.last_col = min(self.first_col, first), max(self.last_col, last)
        self.text += text * repeats

    @property
    def width(self) -> int:
        return self.last_col - self.first_col + 1 if self.rows else 0


@dataclass
class _OdsCost:
    """What the reader allocates for the tables of a content.xml, added up row by row."""

    cost: int = 0
    widest: tuple[int, str, int, int] = (0, "", 0, 0)  # cost, sheet, rows, columns
    table: str | None = None  # the table being read (the reader reads one with a name)
    nested: int = 0  # tables open inside it (counted as its own rows: a bound)
    rows: int = 0  # its rows so far, repeats counted (capped as the reader caps them)
    kept: int = 0  # bytes of its cells as first kept
    values: _OdsSpan = field(default_factory=_OdsSpan)
    formulas: _OdsSpan = field(default_factory=_OdsSpan)

    def open_table(self, attrs: bytes) -> None:
        if self.table is not None:
            self.nested += 1
            return
        name = _ods_attrs(attrs).get(b"table:name")
        if name is not None:
            self.table = name.decode(errors="replace")
            self.rows = self.kept = 0
            self.values, self.formulas = _OdsSpan(), _OdsSpan()

    def close_table(self) -> None:
        if self.nested:
            self.nested -= 1
            return
        values, formulas = self.values, self.formulas
        cost = (
            2 * self.kept  # a vector grows by doubling
            + values.rows * values.width * _ODS_VALUE_CELL
            + 2 * values.text
            + formulas.rows * formulas.width * _ODS_FORMULA_CELL
            + formulas.text
        )
        self.cost += cost
        if cost > self.widest[0]:
            self.widest = (cost, self.table or "", values.rows, values.width)
        self.table = None

    def row(self, xml: bytes, attrs: bytes, start: int, end: int) -> None:
        """The row whose start tag has ``attrs`` and whose content is xml[start:end]. A cell
        with any office: attribute counts as a value, whose text is at most its bytes up to
        the next cell (a bound: the reader copies less)."""
        if self.table is None:
            return
        got = _ods_attrs(attrs).get(b"table:number-rows-repeated")
        repeats = min(_ods_count(got), MAX_ROW - self.rows)
        # an empty cell at the end of a row is never kept, however often it repeats (how
        # LibreOffice pads a row)
        tail = xml.rfind(b"<table:", start, end)
        if tail >= 0:
            pad = xml[tail:end].rstrip()
            if (
                pad.endswith(b"/>")
                and pad.startswith((b"<table:table-cell", b"<table:covered-table-cell"))
                and b"<" not in pad[1:]
                and b"office:" not in pad
                and b"table:formula" not in pad
            ):
                end = tail
        if start == end:
            self.rows += repeats
            return
        body = xml[start:end]
        if b"repeated" not in body and b"text:s" not in body:
            # every cell one column: all of it kept, values and formulas as wide as the row
            n = min(body.count(b"<table:table-cell") + body.count(b"<table:covered-"), MAX_COL)
            self.kept += n * _ODS_KEPT_CELL + 2 * len(body)
            if n and b"office:" in body:
                self.values.add(self.rows, repeats, 0, n - 1, len(body))
            if n and b"table:formula" in body:
                self.formulas.add(self.rows, repeats, 0, n - 1, len(body))
            self.rows += repeats
            return
        col = pending = kept = vtext = ftext = spaces = 0  # columns kept, empty not yet
        v1 = f1 = MAX_COL
        v2 = f2 = -1
        n = kinds = 0  # the cell before: its repeats, 1 a value and 2 a formula
        at = -1  # where it starts (-1: none yet)
        for m in _ODS_CELL.finditer(xml, start, end):
            what = m.group(1)
            if what is None:
                continue
            if what == b"text:s":
                spaces += _ods_count(_ods_attrs(m.group(2)).get(b"text:c"))
                continue
            if at >= 0 and col < MAX_COL:  # the cell before, its content up to here
                if pending:  # kept once any cell follows them
                    pending = min(pending, MAX_COL - col)
                    col += pending
                    kept += pending * _ODS_KEPT_CELL
                n = min(n, MAX_COL - col)
                if kinds:
                    text = m.start() - at + spaces
                    col, pending = col + n, 0
                    kept += n * (_ODS_KEPT_CELL + 2 * text)
                    if kinds & 1:
                        v1, v2, vtext = min(v1, col - n), col - 1, vtext + n * text
                    if kinds & 2:
                        f1, f2, ftext = min(f1, col - n), col - 1, ftext + n * text
                else:
                    pending = n
            tag = m.group(2)
            n = 1
            if b"repeated" in tag:
                n = _ods_count(_ods_attrs(tag).get(b"table:number-columns-repeated"))
            kinds = (b"office:" in tag) | (b"table:formula" in tag) << 1
            at, spaces = m.start(), 0
        if at >= 0 and kinds and col < MAX_COL:
            text = end - at + spaces
            col += min(pending, MAX_COL - col)
            n = min(n, MAX_COL - col)
            kept += n * (_ODS_KEPT_CELL + 2 * text)
            col += n
            if kinds & 1:
                v1, v2, vtext = min(v1, col - n), col - 1, vtext + n * text
            if kinds & 2:
                f1, f2, ftext = min(f1, col - n), col - 1, ftext + n * text
        self.kept += kept
        if v2 >= 0:
            self.values.add(self.rows, repeats, v1, v2, vtext)
        if f2 >= 0:
            self.formulas.add(self.rows, repeats, f1, f2, ftext)
        self.rows += repeats


def _ods_count_part(xml: bytes) -> _OdsCost:
    """One forward pass over a well-formed content.xml."""
    count = _OdsCost()
    row: tuple[bytes, int] | None = None  # the open row: its attributes, where its content starts
    for m in _ODS_TOKEN.finditer(xml):
        name = m.group(2)
        if name is None:
            continue
        closing, attrs, empty = m.group(1), m.group(3), m.group(4)
        if row is not None and (name == b"table:table-row" or not closing):
            # a row ends at its end tag (or, for a bound, at the next row or table)
            count.row(xml, row[0], row[1], m.start())
            row = None
        if name == b"table:table":
            if closing:
                count.close_table()
            else:
                count.open_table(attrs)
                if empty:
                    count.close_table()
        elif not closing:
            if empty:
                count.row(xml, attrs, m.end(), m.end())
            else:
                row = (attrs, m.end())
    if row is not None:
        count.row(xml, row[0], row[1], len(xml))
    while count.table is not None:  # a table never closed: what the reader kept of it
        count.nested = 0
        count.close_table()
    return count


def ods_bounds_problem(path: str) -> str | None:
    """Why opening an OpenDocument spreadsheet would ask the reader for far more memory
    than the file holds (None when it would not). Its rows and cells can say "repeat me a
    million times", and the reader builds every table when it opens the file: what it
    allocates is counted over content.xml (repeats multiplied, copies of texts and formulas
    included), in time linear in the part, and must stay under ``ODS_COST_FLOOR`` or
    ``ODS_COST_PER_BYTE`` bytes per byte of the part. expat reads the part first (without a
    handler: C speed); one that is not well-formed XML is refused (a count of it would be no
    bound), then one forward pass counts."""
    with zipfile.ZipFile(path) as z:
        name = _member(z, "content.xml")
        if name is None:
            return None
        xml = read_member(z, name)
    try:
        expat.ParserCreate().Parse(xml, True)
    except expat.ExpatError as exc:
        return (
            f"its content.xml is not well-formed XML ({exc}): it is damaged or hostile; "
            "open it in a spreadsheet program and save it again"
        )
    count = _ods_count_part(xml)
    allowed = max(ODS_COST_FLOOR, ODS_COST_PER_BYTE * len(xml))
    if count.cost > allowed:
        _cost, sheet, rows, cols = count.widest
        return (
            f"reading it would take about {count.cost / 1024**3:,.1f} GiB, far more than its "
            f"{len(xml):,} bytes of content explain (sheet {sheet!r} repeats its cells to "
            f"{rows:,} rows by {cols:,} columns): damaged or hostile; copy the data to a new "
            "spreadsheet"
        )
    return None
