"""The corrected inventory: the user's own file with only the edited cells changed.

- xlsx/xlsm: the zip package is copied part by part; only the worksheet part of the audited
  sheet is rewritten, and in it only the ``<c>`` elements of edited cells (as inline strings,
  or numbers where the cell was a number and the new text is one). Every other part keeps
  its bytes: styles, formulas, charts, images, comments, validations, macros, names.
- csv: every record without an edit is copied byte for byte; an edited record is written
  again in the source's dialect (delimiter, encoding, BOM, line ending).
- xls, xlsb, ods: cannot be patched in place; the audited sheet is written as a new xlsx.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from coa_audit.core.errors import InputError, UsageError
from coa_audit.core.model import Inventory, column_letter
from coa_audit.core.text import safe_text
from coa_audit.exporters.atomic import OutputError, atomic_writer
from coa_audit.importers.formats import input_format
from coa_audit.importers.xlsx_parts import (
    CellAt,
    RowAt,
    SheetScan,
    SpecialCells,
    read_member,
    scan_sheet,
    sheet_part,
    special_from,
    well_formed,
)

__all__ = ["corrected_path", "write_corrected"]

_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,14})(?:\.\d+)?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\r\x0e-\x1f\ufffe\uffff]")  # CR: XML drops it


def corrected_path(inv: Inventory, out_dir: Path | None = None) -> Path:
    src = Path(inv.source.path)
    # a text file keeps its own suffix (.csv, .tsv, .txt); see importers.formats
    ext = input_format(inv.source.format).corrected_suffix or src.suffix or ".csv"
    folder = out_dir if out_dir is not None else src.parent
    return folder / f"{src.stem}.corrected{ext}"


ANNOTATION_HEADERS = ("coa-audit status", "coa-audit findings")
Annotations = Sequence[tuple[str, str]] | None


def write_corrected(inv: Inventory, target: Path, annotations: Annotations = None) -> list[str]:
    """Write the corrected inventory to ``target`` atomically; never over the source.
    ``annotations`` (status, findings) per row adds two columns after the last one."""
    src = Path(inv.source.path)
    if target.resolve() == src.resolve():
        raise OutputError(f"refusing to write over the source file {src}")
    spec = input_format(inv.source.format)
    if spec.spreadsheetml:
        return _write_patched_package(inv, src, target, annotations)
    if spec.text:
        _write_csv(inv, src, target, annotations)
        return []
    return _write_new_xlsx(inv, target, annotations)


# -- edits by spreadsheet position -------------------------------------------------------------


def _edits_by_row(inv: Inventory) -> dict[int, dict[int, str]]:
    """spreadsheet row -> {source column index: new text}; the derived columns (collected
    evidence, the walk's marks) are not the file's and are never written"""
    out: dict[int, dict[int, str]] = {}
    width = inv.source_width
    for (row, col), value in inv.edits.items():
        if col < width:
            out.setdefault(inv.row_numbers[row], {})[col] = value
    return out


# -- CSV --------------------------------------------------------------------------------------


def _write_csv(inv: Inventory, src: Path, target: Path, annotations: Annotations) -> None:
    dialect = inv.source.csv or {}
    encoding = str(dialect.get("encoding", "utf-8"))
    delimiter = str(dialect.get("delimiter", ","))
    line_ending = str(dialect.get("line_ending", "\n"))
    bom = bool(dialect.get("bom", False))
    edits = _edits_by_row(inv)
    extra: dict[int, list[str]] = {}
    if annotations is not None:
        width = inv.source_width
        extra[inv.source.header_row] = list(ANNOTATION_HEADERS)
        for r, (status, findings) in enumerate(annotations):
            extra[inv.row_numbers[r]] = [status, findings]
    out_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    lead = b""  # the byte-order mark, written once: never one per record
    if bom and encoding in ("utf-8-sig", "utf-8"):
        lead = codecs.BOM_UTF8
    elif encoding in ("utf-16", "utf-32"):
        with open(src, "rb") as binary:
            head = binary.read(4)
        for mark, name in (
            (codecs.BOM_UTF32_LE, "utf-32-le"),
            (codecs.BOM_UTF32_BE, "utf-32-be"),
            (codecs.BOM_UTF16_LE, "utf-16-le"),
            (codecs.BOM_UTF16_BE, "utf-16-be"),
        ):
            if head.startswith(mark) and name.startswith(encoding):
                lead, out_encoding = mark, name
                break
        else:
            lead, out_encoding = codecs.BOM_UTF16_LE, f"{encoding}-le"
    if annotations is not None:
        with open(src, encoding=encoding, newline="") as f:
            # after the widest record: a cell right of the headers keeps its text
            width = max([width, *(len(rec) for rec in csv.reader(f, delimiter=delimiter))])
    with open(src, encoding=encoding, newline="") as f, atomic_writer(target) as out:
        out.write(lead)
        pulled: list[str] = []

        def feed() -> Iterator[str]:
            for line in f:
                pulled.append(line)
                yield line

        reader = csv.reader(feed(), delimiter=delimiter)
        line = 1
        for fields in reader:
            raw = "".join(pulled)
            pulled.clear()
            change = edits.get(line)
            more = extra.get(line)
            if change or more:
                fields = list(fields)
                for col, value in (change or {}).items():
                    if col >= len(fields):
                        fields.extend([""] * (col + 1 - len(fields)))
                    fields[col] = value
                if more:
                    fields = fields[:width] + [""] * (width - len(fields)) + more
                # the record keeps its own line ending (a file may mix LF, CRLF and CR):
                # only the edited field changes
                ending = next(
                    (e for e in ("\r\n", "\n", "\r") if raw.endswith(e)),
                    "" if raw else line_ending,
                )
                buf = io.StringIO()
                csv.writer(buf, delimiter=delimiter, lineterminator=ending or "\n").writerow(fields)
                raw = buf.getvalue() if ending else buf.getvalue()[:-1]
                _reads_back(raw, fields, delimiter, target, line)
            try:
                out.write(raw.encode(out_encoding, errors="strict"))
            except UnicodeEncodeError as exc:
                bad = raw[exc.start]
                raise OutputError(
                    f"cannot write {target}: line {line} holds {bad!r} (U+{ord(bad):04X}), "
                    f"which the file's encoding ({encoding}) cannot store; save the inventory "
                    "as UTF-8 (CSV UTF-8) and export again, or type another character"
                ) from None
            line = reader.line_num + 1
        if pulled:
            out.write("".join(pulled).encode(out_encoding))


def _reads_back(raw: str, fields: list[str], delimiter: str, target: Path, line: int) -> None:
    """The edited record, read again as the file will be read, must give exactly the
    cells written; otherwise nothing is written (a delimiter that is also a quote or a line
    break, a value the dialect cannot hold)."""
    try:
        back = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter))
    except csv.Error:
        back = []
    if back != [fields]:
        raise OutputError(
            f"cannot write {target}: the edited record on line {line} would not read back "
            f"as written in this file's dialect (delimiter {delimiter!r}); save the inventory "
            "as a comma-separated CSV (UTF-8) and export again"
        )


# -- xlsx / xlsm: patch the package -----------------------------------------------------------


_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _xml_text(value: str) -> str:
    """Text for a cell: "_x0041_" typed by the user stays that text (its "_" written as
    "_x005F_", the format's own escape), characters XML cannot hold become "_xHHHH_"."""
    value = _ESCAPE_LIKE.sub("_x005F_", value)
    value = _XML_ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return escape(value)


def _cell_xml(prefix: str, ref: str, style: str | None, value: str, numeric: bool) -> bytes:
    s = f' s="{style}"' if style else ""
    if value == "":
        return f'<{prefix}c r="{ref}"{s}/>'.encode()
    if numeric:
        return f'<{prefix}c r="{ref}"{s}><{prefix}v>{value}</{prefix}v></{prefix}c>'.encode()
    return (
        f'<{prefix}c r="{ref}"{s} t="inlineStr"><{prefix}is><{prefix}t xml:space="preserve">'
        f"{_xml_text(value)}</{prefix}t></{prefix}is></{prefix}c>"
    ).encode()


Change = dict[int, tuple[str, bool | None]]  # absolute column -> (text, numeric or undecided)


def _is_number(cell: CellAt, value: str, numeric: bool | None) -> bool:
    """Whether the new value goes in as a number: as the caller decided, else a number-shaped
    value replacing a number or a formula's result, text otherwise."""
    if numeric is not None:
        return numeric
    if not _NUMBER.match(value):
        return False
    if cell.formula:
        return True
    return cell.type in (None, "n") and cell.has_value


def _patch_sheet(xml: bytes, edits: dict[int, Change], scan: SheetScan) -> bytes:
    """Rewrite only the cells named in ``edits`` (row -> {absolute col: (text, numeric)}),
    splicing bytes at ``scan``'s offsets (found by a real XML tokenizer, the edited rows'
    cells included); every other byte stays."""
    if scan.data_start < 0:
        raise OutputError("cannot patch the worksheet: it has no sheetData element")
    clash = sorted(scan.duplicate_rows & edits.keys())
    if clash:
        raise OutputError(
            f"cannot patch the worksheet: row {clash[0]} appears twice in it; "
            "open and save the file in Excel first"
        )
    splices: list[tuple[int, int, int, bytes]] = []  # (start, order, end, new bytes)
    found = {row.number: row for row in scan.rows}
    numbers = [n for n, _at in scan.row_starts]
    ascending = all(a < b for a, b in itertools.pairwise(numbers))
    pending_new: dict[int, list[bytes]] = {}  # insertion offset -> new rows, in order
    for order, (rnum, change) in enumerate(sorted(edits.items())):
        row = found.get(rnum)
        if row is None:
            if ascending:
                i = bisect.bisect_right(numbers, rnum)
                at = scan.row_starts[i][1] if i < len(numbers) else None
            else:
                at = next((s for n, s in scan.row_starts if n > rnum), None)
            key = at if at is not None else -1
            pending_new.setdefault(key, []).append(_new_row(scan.prefix, rnum, change))
            continue
        splices.extend(_patch_row(xml, row, change, order))
    tail = b"".join(pending_new.pop(-1, []))
    for at, rows in pending_new.items():
        splices.append((at, -1, at, b"".join(rows)))
    if scan.data_close is None:  # <sheetData/>: it gets content
        open_tag = re.sub(rb"\s*/>$", b">", xml[scan.data_start : scan.data_end])
        close = f"</{scan.prefix}sheetData>".encode()
        splices.append((scan.data_start, -2, scan.data_end, open_tag + tail + close))
    elif tail:
        splices.append((scan.data_close, 1 << 40, scan.data_close, tail))
    splices.sort(key=lambda s: (s[0], s[1]))
    out: list[bytes] = []
    pos = 0
    for start, _order, end, data in splices:
        if start < pos:
            raise OutputError("cannot patch the worksheet: two edits overlap (please report)")
        out.append(xml[pos:start])
        out.append(data)
        pos = end
    out.append(xml[pos:])
    return b"".join(out)


def _new_row(prefix: str, rnum: int, change: Change) -> bytes:
    cells = b"".join(
        _cell_xml(prefix, f"{column_letter(c)}{rnum}", None, v, bool(num))
        for c, (v, num) in sorted(change.items())
    )
    return f'<{prefix}row r="{rnum}">'.encode() + cells + f"</{prefix}row>".encode()


def _patch_row(
    xml: bytes, row: RowAt, change: Change, order: int
) -> list[tuple[int, int, int, bytes]]:
    """The splices that put ``change`` into an existing row."""
    prefix, rnum = row.prefix, row.number
    if row.close is None:  # <row r="5"/>: write it again with its cells
        open_tag = re.sub(rb"\s*/>$", b">", xml[row.start : row.open_end])
        cells = b"".join(
            _cell_xml(prefix, f"{column_letter(c)}{rnum}", None, v, bool(num))
            for c, (v, num) in sorted(change.items())
        )
        return [(row.start, order, row.end, open_tag + cells + f"</{prefix}row>".encode())]
    by_col: dict[int, CellAt] = {}
    for cell in row.cells:
        if cell.col in by_col and cell.col in change:
            raise OutputError(
                f"cannot patch the worksheet: cell {column_letter(cell.col)}{rnum} appears "
                "twice in it; open and save the file in Excel first"
            )
        by_col.setdefault(cell.col, cell)
    out: list[tuple[int, int, int, bytes]] = []
    for c, (value, num) in sorted(change.items()):
        ref = f"{column_letter(c)}{rnum}"
        at = by_col.get(c)
        if at is not None:
            new = _cell_xml(prefix, ref, at.style, value, _is_number(at, value, num))
            out.append((at.start, order, at.end, new))
            continue
        after = next((x.start for x in row.cells if x.col > c), row.close)
        out.append((after, order, after, _cell_xml(prefix, ref, None, value, bool(num))))
    return out


def _write_patched_package(
    inv: Inventory, src: Path, target: Path, annotations: Annotations
) -> list[str]:
    """Patch the package; returns notes for the user (formulas replaced by values)."""
    first = inv.source.first_col
    numeric_cols = {c for c, rows in inv.numeric.items() if rows}
    edits: dict[int, dict[int, tuple[str, bool | None]]] = {}
    for rnum, change in _edits_by_row(inv).items():
        edits[rnum] = {}
        for col, value in change.items():
            # numbers the user typed into a numeric column become numbers; otherwise the
            # edited cell keeps its own type (None: decide from the cell)
            numeric: bool | None = None
            if col in numeric_cols and _NUMBER.match(value) and not value.startswith("0"):
                numeric = True
            edits[rnum][first + col] = (value, numeric)
    user_cells = {(first + c, inv.row_numbers[r]) for r, c in inv.edits if c < inv.source_width}
    try:
        with zipfile.ZipFile(src) as zin:
            part = sheet_part(zin, inv.source.sheet or "")
            if part is None:
                raise OutputError(
                    f"sheet {inv.source.sheet!r} not found in {src}: this package is not one "
                    "the export can patch"
                )
            sheet_xml = read_member(zin, part)
            if annotations is not None:
                # after every cell present, so no cell that holds anything is overwritten
                a = max(first + inv.source_width, scan_sheet(sheet_xml, widest=True).max_col + 1)
                head = edits.setdefault(inv.source.header_row, {})
                head[a] = (ANNOTATION_HEADERS[0], False)
                head[a + 1] = (ANNOTATION_HEADERS[1], False)
                for r, (status, findings) in enumerate(annotations):
                    cells = edits.setdefault(inv.row_numbers[r], {})
                    cells[a], cells[a + 1] = (status, False), (findings, False)
            # rows that only get the annotations (right of every cell) need no cells read
            user_rows = {r for _c, r in user_cells}
            scan = scan_sheet(sheet_xml, user_rows, located=edits.keys())
            special = special_from(zin, part, scan)
            _refuse_inconsistent(special, user_cells)
            replaced = sorted(cell for cell in user_cells if special.replaces_formula(*cell))
            drop_chain = bool(replaced) and special.calc_chain
            patched: dict[str, bytes] = {}
            if edits:
                patched[part] = _patch_sheet(sheet_xml, edits, scan)
            if drop_chain:
                for name, pattern in _CHAIN_REFERRERS.items():
                    if name in zin.NameToInfo:
                        patched[name] = pattern.sub(b"", read_member(zin, name))
            for name, part_xml in patched.items():
                broken = well_formed(part_xml)
                if broken is not None:  # never write a package a reader would refuse
                    raise OutputError(
                        f"cannot patch {src}: the patched part {name} would not be "
                        f"well-formed XML ({broken}); nothing was written"
                    )
            with atomic_writer(target) as f, zipfile.ZipFile(f, "w") as zout:
                for info in zin.infolist():
                    if drop_chain and info.filename.lower() == "xl/calcchain.xml":
                        continue  # Excel rebuilds it; a stale entry makes it repair the file
                    kept = patched.get(info.filename)
                    if kept is None:
                        kept = sheet_xml if info.filename == part else read_member(zin, info)
                    zout.writestr(info, kept, compress_type=info.compress_type)
    except (ValueError, zipfile.BadZipFile, KeyError, ParseError) as exc:
        # the source package does not read as the patch must read it (a part that is not
        # XML, a row number that is no row): the input's fault, as check would say it
        raise InputError(
            f"cannot patch {src}: {safe_text(str(exc))[:200]}; open it in a spreadsheet "
            "program and save it again (no file was written)"
        ) from None
    if not replaced:
        return []
    where = ", ".join(f"{column_letter(c)}{r}" for c, r in replaced[:5])
    more = f" and {len(replaced) - 5} more" if len(replaced) > 5 else ""
    return [f"a formula was replaced by a value in {where}{more}"]


# Where the calculation chain is named besides its own part: the workbook's relationships and
# the content types. Removing those single elements keeps the package consistent.
_CHAIN_REFERRERS = {
    "xl/_rels/workbook.xml.rels": re.compile(
        rb"<(?:\w+:)?Relationship\b[^>]*?Type=\"[^\"]*/calcChain\"[^>]*?/>"
    ),
    "[Content_Types].xml": re.compile(
        rb"<(?:\w+:)?Override\b[^>]*?PartName=\"/xl/calcChain\.xml\"[^>]*?/>", re.IGNORECASE
    ),
}


def _refuse_inconsistent(special: SpecialCells, cells: set[tuple[int, int]]) -> None:
    """Edits that would leave the package inconsistent are refused, in one line, before
    anything is written."""
    refused = [
        why for cell in sorted(cells, key=lambda x: (x[1], x[0])) if (why := special.refusal(*cell))
    ]
    if refused:
        more = (
            f" ({len(refused) - 1} more edit(s) refused the same way)" if len(refused) > 1 else ""
        )
        raise UsageError(f"cannot write the corrected workbook: {refused[0]}{more}")


# -- xls / xlsb / ods: a new workbook ---------------------------------------------------------


def _typed_cells(inv: Inventory) -> Callable[[int, int], object] | None:
    """(inventory row, column) -> the source's own value with its type (number, date,
    true/false, text) as the reader gives it, or None when the source cannot be read again."""
    from coa_audit.importers.load import typed_sheet

    got = typed_sheet(Path(inv.source.path), inv.source.format, inv.source.sheet or "")
    if got is None:
        return None
    grid, (row0, col0) = got
    first = inv.source.first_col
    numbers = inv.row_numbers

    def value(r: int, c: int) -> object:
        i, j = numbers[r] - 1 - row0, first + c - col0
        if 0 <= i < len(grid) and 0 <= j < len(grid[i]):
            return grid[i][j]
        return ""

    return value


_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:\x00-\x1f\x7f-\x9f]")


def excel_sheet_name(name: str) -> str:
    """``name`` as Excel accepts a sheet name: none of \\ / ? * [ ] : or control
    characters (each becomes "_"), no apostrophe at either end, 1 to 31 characters, never
    the reserved "History"."""
    fixed = _SHEET_FORBIDDEN.sub("_", name).strip("'")
    fixed = fixed[:31].strip("'") or "Inventory"
    return "Inventory" if fixed.casefold() == "history" else fixed


def _write_new_xlsx(inv: Inventory, target: Path, annotations: Annotations) -> list[str]:
    """xls, xlsb and ods become a new xlsx: every value keeps its type (numbers stay
    numbers, dates dates); an edited cell holds what was typed (a number typed into a
    column of numbers is a number)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    name = excel_sheet_name(inv.source.sheet or "Inventory")
    ws = wb.create_sheet(name)
    notes = []
    if name != (inv.source.sheet or "Inventory"):
        notes.append(
            f"the sheet {safe_text(inv.source.sheet or '')!r} is named {name!r} in the xlsx: Excel "
            "allows no \\ / ? * [ ] :, control characters or more than 31 characters in a "
            "sheet name"
        )

    def text_cell(v: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", v))
        cell.data_type = "s"  # text stays text, even when it starts with "="
        return cell

    def out(v: object) -> object:
        if isinstance(v, str):
            return text_cell(v) if v else None
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return int(v)
        return v

    typed = _typed_cells(inv)
    numeric_cols = {c for c, rows in inv.numeric.items() if rows}
    edits = inv.edits
    extra_head = list(ANNOTATION_HEADERS) if annotations is not None else []
    ws.append([text_cell(h) for h in [*inv.headers[: inv.source_width], *extra_head]])
    for r in range(len(inv)):
        row: list[object] = []
        for c in range(inv.source_width):
            if (r, c) in edits or typed is None:
                text = inv.value(r, c)
                was = typed(r, c) if typed is not None else None
                number = c in numeric_cols or (
                    isinstance(was, int | float) and not isinstance(was, bool)
                )
                if number and _NUMBER.match(text) and not text.startswith("0"):
                    row.append(float(text) if "." in text else int(text))
                else:
                    row.append(text_cell(text) if text else None)
            else:
                row.append(out(typed(r, c)))
        if annotations is not None:
            row += [text_cell(v) for v in annotations[r]]
        ws.append(row)
    with atomic_writer(target) as f:
        wb.save(f)
    return notes
