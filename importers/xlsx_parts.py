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
from xml.parsers import expat

from defusedxml import ElementTree

from coa_audit.core.model import column_letter

__all__ = [
    "SheetScan",
    "SpecialCells",
    "cell_formats",
    "ods_bounds_problem",
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


def _member(z: zipfile.ZipFile, name: str) -> str | None:
    """The zip member called ``name``, compared without case as Excel does."""
    if name in z.NameToInfo:
        return name
    folded = name.lower()
    return next((n for n in z.namelist() if n.lower() == folded), None)


def sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding worksheet ``sheet`` (None when there is none). Transitional
    and Strict Open XML both; relationship targets are resolved relative to the workbook,
    absolute ones from the package root, and matched to members without case."""
    book = _member(z, "xl/workbook.xml")
    rels_name = _member(z, "xl/_rels/workbook.xml.rels")
    if book is None or rels_name is None:
        return None
    wb = ElementTree.fromstring(z.read(book))
    rid = next(
        (
            value
            for el in wb.iter()
            if el.tag.endswith("}sheet") and el.get("name") == sheet
            for key, value in el.attrib.items()
            if key.endswith("}id") and key[1:].startswith(_REL_NAMESPACES)
        ),
        None,
    )
    if rid is None:
        return None
    rels = ElementTree.fromstring(z.read(rels_name))
    for el in rels.iter():
        if el.tag.endswith("}Relationship") and el.get("Id") == rid:
            target = el.get("Target", "")
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else "/".join(_resolve(("xl",), target))
            )
            return _member(z, path)
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


def special_cells(path: str, sheet: str) -> SpecialCells:
    """Formulas, merged ranges, table header and totals rows of ``sheet``, and whether the
    package keeps a calculation chain."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return SpecialCells()
        return special_from(z, part, scan_sheet(z.read(part)))


def special_from(z: zipfile.ZipFile, part: str, scan: SheetScan) -> SpecialCells:
    """The special cells of the sheet in ``part``, from its scan and the package's tables."""
    out = SpecialCells(formulas=scan.formulas, merged=scan.merged)
    out.calc_chain = any(n.lower() == "xl/calcchain.xml" for n in z.namelist())
    for t in _tables(z, part):
        if t.header_rows:
            out.table_rows.append((t.name, t.c1, t.c2, t.r1, "header"))
        for r in range(t.r2 - t.totals_rows + 1, t.r2 + 1):
            out.table_rows.append((t.name, t.c1, t.c2, r, "totals"))
    return out


# -- where rows and cells are, from a real XML tokenizer ---------------------------------------

# The end of a start tag from its "<": attribute values are quoted and may hold ">" ("a>b").
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
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


_ATTR = re.compile(rb"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
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
    cell_refs = re.compile(re.escape(cell) + rb' r="([^"]*)"')
    end_row, end_cell = b"</" + p + b"row>", b"</" + p + b"c>"
    for rm in re.compile(re.escape(row) + rb' r="([^"]*)"').finditer(xml, lo, hi):
        text = rm.group(1)
        if not text.isdigit() or not 1 <= int(text) <= MAX_ROW:
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
            close = xml.find(end_row, open_end, hi)
            if close < 0:
                return None
            r.close, r.end = close, close + len(end_row)
            found = cell_refs.finditer(xml, open_end, close) if number in want else ()
            for cm in found:
                ref = _CELL_COL.match(cm.group(1))
                if ref is None or int(ref.group(2)) != number:
                    return None
                start = cm.start()
                tag_end, cell_empty = _tag_end(xml, start)
                attrs = _attrs(xml[start + len(cell) : tag_end])
                c = CellAt(_col(ref.group(1)), start, style=attrs.get("s"), type=attrs.get("t"))
                c.end = tag_end if cell_empty else xml.find(end_cell, tag_end, close)
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
    at = xml.find(formula, lo, hi)
    while at >= 0:
        if xml[at + len(formula) : at + len(formula) + 1] not in (b" ", b">", b"/"):
            at = xml.find(formula, at + 1, hi)
            continue
        owner = xml.rfind(cell + b' r="', lo, at)
        if owner < 0:
            return None
        quote = owner + len(cell) + 4
        ref = _CELL_COL.match(xml[quote : xml.index(b'"', quote)])
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

_REF_ROW = re.compile(rb' r="[A-Za-z]{0,3}\$?(\d{1,9})"')
_REF_COL = re.compile(rb'c r="([A-Za-z]{1,3})\d')


def sheet_bounds_problem(path: str, sheet: str) -> str | None:
    """Why reading ``sheet`` would ask the reader for far more memory than the file holds
    (None when it would not): a cell placed far from the others (the reader allocates the
    whole rectangle between them), or shared text that cells reuse over and over."""
    with zipfile.ZipFile(path) as z:
        part = sheet_part(z, sheet)
        if part is None:
            return None
        xml = z.read(part)
        strings = _member(z, "xl/sharedStrings.xml")
        size = z.getinfo(strings).file_size if strings is not None else 0
        # each cell that names a shared text gets its own copy from the reader: a small
        # file can ask for gigabytes by naming one long text many times (the part is read
        # only when its size says that could happen)
        risky = size > SI_LIMIT or size * (len(xml) // 16) > TEXT_LIMIT
        sst = z.read(strings) if risky and strings is not None else b""
    # bounds from two quick passes (how many letters and digits references have at most),
    # exact positions only when those bounds could be too large
    letters = 1
    if re.search(rb' r="[A-Za-z]{2}', xml):
        letters = 3 if re.search(rb' r="[A-Za-z]{3}', xml) else 2
    cols = (26, 702, MAX_COL)[letters - 1]
    last = xml.rfind(b' r="')
    m = _REF_ROW.search(xml, max(last - 1, 0)) if last >= 0 else None
    digits = len(m.group(1)) if m else 1
    rows = MAX_ROW + 1
    if not re.search(rb' r="[A-Za-z]{0,3}\$?\d{%d}' % (digits + 1), xml):
        rows = min(10**digits - 1, MAX_ROW)
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
                for i in map(int, re.findall(rb't="s"[^>]*>\s*<(?:\w+:)?v>(\d{1,9})<', xml))
                if i < len(sizes)
            )
            if asked > TEXT_LIMIT:
                return (
                    f"sheet {sheet!r} repeats shared text {asked // 1024**2:,} MiB in all: "
                    "reading it would take far more memory than the file holds "
                    "(damaged or hostile)"
                )
    return None


_ODS_TABLE = re.compile(rb"<table:table\b[^>]*?table:name=\"([^\"]*)\"[^>]*>")
_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*?)(/?)>")
_ODS_REPEAT_ROWS = re.compile(rb'table:number-rows-repeated="(\d{1,9})"')
_ODS_REPEAT_COLS = re.compile(rb'table:number-columns-repeated="(\d{1,9})"')
_ODS_TRAILING_EMPTY = re.compile(
    rb'<table:(?:covered-)?table-cell\b[^>]*?table:number-columns-repeated="(\d{1,9})"'
    rb"[^>]*?/>\s*$"
)


def ods_bounds_problem(path: str) -> str | None:
    """The span check of ``sheet_bounds_problem`` for every table of an OpenDocument
    spreadsheet (the reader builds them all when it opens the file), whose rows and cells
    can say "repeat me a million times": the reader allocates every cell up to the last one
    that holds something (empty repeats at the end of a row or a table are not allocated,
    so LibreOffice's usual padding is no problem)."""
    with zipfile.ZipFile(path) as z:
        name = _member(z, "content.xml")
        if name is None:
            return None
        xml = z.read(name)
    for start in _ODS_TABLE.finditer(xml):
        end = xml.find(b"</table:table>", start.end())
        end = len(xml) if end < 0 else end
        problem = _ods_table_problem(xml, start.end(), end, start.group(1).decode(errors="replace"))
        if problem:
            return problem
    return None


def _ods_table_problem(xml: bytes, pos: int, end: int, sheet: str) -> str | None:
    rows = used_rows = widest = cells = 0
    for m in _ODS_ROW.finditer(xml, pos, end):
        repeat = _ODS_REPEAT_ROWS.search(m.group(1))
        count = int(repeat.group(1)) if repeat else 1
        width = valued = 0
        if not m.group(2):  # a row with cells
            close = xml.find(b"</table:table-row>", m.end(), end)
            body = xml[m.end() : close if close >= 0 else end]
            n = body.count(b"<table:table-cell") + body.count(b"<table:covered-table-cell")
            width = n + sum(int(x) - 1 for x in _ODS_REPEAT_COLS.findall(body))
            trailing = _ODS_TRAILING_EMPTY.search(body)
            if trailing:
                width -= int(trailing.group(1))
            valued = body.count(b"office:value-type") + body.count(b"<text:p")
            cells += valued * count
            if valued:
                widest = max(widest, width)
        rows += count
        if valued:
            used_rows = rows
    area = used_rows * widest
    if area > AREA_LIMIT and area > AREA_PER_CELL * max(cells, 1):
        return (
            f"sheet {sheet!r} asks for more cells than coa-audit will allocate: it spans "
            f"{used_rows:,} rows by {widest:,} columns ({area:,} cells) but holds about "
            f"{cells:,} (damaged or hostile); copy the data to a new sheet"
        )
    return None
