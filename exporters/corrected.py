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

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from coa_audit.core.errors import UsageError
from coa_audit.core.model import Inventory, column_letter
from coa_audit.core.text import safe_text
from coa_audit.exporters.atomic import OutputError, atomic_writer
from coa_audit.exporters.formats import INPUT_FORMATS
from coa_audit.importers.xlsx_parts import SpecialCells, sheet_part, special_cells

__all__ = ["corrected_path", "write_corrected"]

_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,14})(?:\.\d+)?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def corrected_path(inv: Inventory, out_dir: Path | None = None) -> Path:
    src = Path(inv.source.path)
    # a text file keeps its own suffix (.csv, .tsv, .txt); see formats.INPUT_FORMATS
    ext = INPUT_FORMATS[inv.source.format].corrected_suffix or src.suffix or ".csv"
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
    fmt = inv.source.format
    if fmt in ("xlsx", "xlsm"):
        return _write_patched_package(inv, src, target, annotations)
    if fmt == "csv":
        _write_csv(inv, src, target, annotations)
    else:
        _write_new_xlsx(inv, target, annotations)
    return []


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
    with open(src, encoding=encoding, newline="") as f, atomic_writer(target) as out:
        if bom and encoding in ("utf-8-sig", "utf-8"):
            out.write(b"\xef\xbb\xbf")
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
                buf = io.StringIO()
                csv.writer(buf, delimiter=delimiter, lineterminator=line_ending).writerow(fields)
                raw = buf.getvalue()
            out.write(raw.encode(out_encoding, errors="strict"))
            line = reader.line_num + 1
        if pulled:
            out.write("".join(pulled).encode(out_encoding))


# -- xlsx / xlsm: patch the package -----------------------------------------------------------


def _xml_text(value: str) -> str:
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


_COL_RE = re.compile(rb'\br="([A-Z]+)(\d+)"')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _patch_sheet(xml: bytes, edits: dict[int, dict[int, tuple[str, bool | None]]]) -> bytes:
    """Rewrite only the cells named in ``edits`` (row -> {absolute col: (text, numeric)})."""
    m = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", xml)
    if m is None:
        raise OutputError("the worksheet has no sheetData element")
    prefix = (m.group(1) or b"").decode()
    p = re.escape(m.group(1) or b"")
    if m.group(2) == b"/":  # <sheetData/>: an empty sheet
        xml = (
            xml[: m.start()] + f"<{prefix}sheetData></{prefix}sheetData>".encode() + xml[m.end() :]
        )
        m = re.search(rb"<" + p + rb"sheetData\b[^>]*>", xml)
        assert m is not None
    body_start = m.end()
    end = xml.index(b"</" + (m.group(1) or b"") + b"sheetData>", body_start)
    body = xml[body_start:end]
    row_re = re.compile(
        rb"<" + p + rb"row\b[^>]*?\br=\"(\d+)\"[^>]*?(?:/>|>.*?</" + p + rb"row>)", re.S
    )
    cell_re = re.compile(rb"<" + p + rb"c\b[^>]*?(?:/>|>.*?</" + p + rb"c>)", re.S)
    out = io.BytesIO()
    pending = dict(sorted(edits.items()))
    if len(pending) > 2000:  # most rows change (--annotate): one pass over every row
        pos = _patch_all_rows(body, pending, out, prefix, row_re, cell_re)
    else:  # a few edits: jump straight to each edited row (rows are in ascending order)
        pos = 0
        for rnum, change in pending.items():
            direct = re.compile(
                rb"<"
                + p
                + rb"row\b[^>]*?\br=\""
                + str(rnum).encode()
                + rb"\"[^>]*?(?:/>|>.*?</"
                + p
                + rb"row>)",
                re.S,
            )
            rm = direct.search(body, pos)
            if rm is not None:
                out.write(body[pos : rm.start()])
                out.write(_patch_row(rm.group(0), rnum, change, prefix, cell_re))
                pos = rm.end()
                continue
            # a row that does not exist yet goes before the first row numbered above it
            after = next((m for m in row_re.finditer(body, pos) if int(m.group(1)) > rnum), None)
            at = after.start() if after is not None else len(body)
            out.write(body[pos:at])
            out.write(_new_row(prefix, rnum, change))
            pos = at
        pending = {}
    out.write(body[pos:])
    for new_row, change in pending.items():
        out.write(_new_row(prefix, new_row, change))
    return xml[:body_start] + out.getvalue() + xml[end:]


def _patch_all_rows(
    body: bytes,
    pending: dict[int, dict[int, tuple[str, bool | None]]],
    out: io.BytesIO,
    prefix: str,
    row_re: re.Pattern[bytes],
    cell_re: re.Pattern[bytes],
) -> int:
    """Walk every row; rows named in ``pending`` are patched (and popped), missing ones
    inserted in order. Returns the position in ``body`` written up to."""
    pos = 0
    for rm in row_re.finditer(body):
        rnum = int(rm.group(1))
        for new_row in [r for r in pending if r < rnum]:
            out.write(body[pos : rm.start()])
            pos = rm.start()
            out.write(_new_row(prefix, new_row, pending.pop(new_row)))
        change = pending.pop(rnum, None)
        if change is None:
            continue
        out.write(body[pos : rm.start()])
        out.write(_patch_row(rm.group(0), rnum, change, prefix, cell_re))
        pos = rm.end()
    return pos


def _new_row(prefix: str, rnum: int, change: dict[int, tuple[str, bool | None]]) -> bytes:
    cells = b"".join(
        _cell_xml(prefix, f"{column_letter(c)}{rnum}", None, v, bool(num))
        for c, (v, num) in sorted(change.items())
    )
    return f'<{prefix}row r="{rnum}">'.encode() + cells + f"</{prefix}row>".encode()


def _patch_row(
    row_xml: bytes,
    rnum: int,
    change: dict[int, tuple[str, bool | None]],
    prefix: str,
    cell_re: re.Pattern[bytes],
) -> bytes:
    if row_xml.endswith(b"/>"):
        open_tag = row_xml[:-2] + b">"
        inner = b""
        close = f"</{prefix}row>".encode()
    else:
        gt = row_xml.index(b">") + 1
        open_tag = row_xml[:gt]
        close_at = row_xml.rindex(b"</")
        inner = row_xml[gt:close_at]
        close = row_xml[close_at:]
    pending = dict(sorted(change.items()))
    out = io.BytesIO()
    pos = 0
    for cm in cell_re.finditer(inner):
        cell = cm.group(0)
        ref = _COL_RE.search(cell[: cell.index(b">") + 1])
        if ref is None:
            continue
        col = _col_index(ref.group(1))
        for c in [c for c in pending if c < col]:
            out.write(inner[pos : cm.start()])
            pos = cm.start()
            value, num = pending.pop(c)
            out.write(_cell_xml(prefix, f"{column_letter(c)}{rnum}", None, value, bool(num)))
        if col in pending:
            value, num = pending.pop(col)
            out.write(inner[pos : cm.start()])
            style_m = re.search(rb'\bs="(\d+)"', cell[: cell.index(b">") + 1])
            style = style_m.group(1).decode() if style_m else None
            if num is None:  # keep the cell's type: a number stays a number
                head = cell[: cell.index(b">") + 1]
                was_number = b' t="' not in head or b' t="n"' in head
                num = (
                    was_number
                    and b"<" + prefix.encode() + b"v>" in cell
                    and bool(_NUMBER.match(value))
                )
            out.write(_cell_xml(prefix, f"{column_letter(col)}{rnum}", style, value, num))
            pos = cm.end()
    out.write(inner[pos:])
    for c, (value, num) in pending.items():
        out.write(_cell_xml(prefix, f"{column_letter(c)}{rnum}", None, value, bool(num)))
    return open_tag + out.getvalue() + close


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
    if annotations is not None:
        a = first + inv.source_width
        head = edits.setdefault(inv.source.header_row, {})
        head[a], head[a + 1] = (ANNOTATION_HEADERS[0], False), (ANNOTATION_HEADERS[1], False)
        for r, (status, findings) in enumerate(annotations):
            cells = edits.setdefault(inv.row_numbers[r], {})
            cells[a], cells[a + 1] = (status, False), (findings, False)
    user_cells = {(first + c, inv.row_numbers[r]) for r, c in inv.edits if c < inv.source_width}
    try:
        with zipfile.ZipFile(src) as zin:
            part = sheet_part(zin, inv.source.sheet or "")
            if part is None:
                raise OutputError(f"sheet {inv.source.sheet!r} not found in {src}")
            sheet_xml = zin.read(part)
            special = special_cells(str(src), inv.source.sheet or "", sheet_xml)
            _refuse_inconsistent(special, user_cells)
            replaced = sorted(cell for cell in user_cells if special.replaces_formula(*cell))
            drop_chain = bool(replaced) and special.calc_chain
            with atomic_writer(target) as f, zipfile.ZipFile(f, "w") as zout:
                for info in zin.infolist():
                    if drop_chain and info.filename.lower() == "xl/calcchain.xml":
                        continue  # Excel rebuilds it; a stale entry makes it repair the file
                    data = sheet_xml if info.filename == part else zin.read(info)
                    if info.filename == part and edits:
                        data = _patch_sheet(data, edits)
                    elif drop_chain and info.filename in _CHAIN_REFERRERS:
                        data = _CHAIN_REFERRERS[info.filename].sub(b"", data)
                    zout.writestr(info, data, compress_type=info.compress_type)
    except (zipfile.BadZipFile, KeyError, ValueError, ParseError) as exc:
        raise OutputError(f"cannot patch {src}: {safe_text(str(exc))[:200]}") from None
    if not replaced:
        return []
    cells = ", ".join(f"{column_letter(c)}{r}" for c, r in replaced[:5])
    more = f" and {len(replaced) - 5} more" if len(replaced) > 5 else ""
    return [f"a formula was replaced by a value in {cells}{more}"]


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


def _write_new_xlsx(inv: Inventory, target: Path, annotations: Annotations) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(inv.source.sheet or "Inventory")

    def clean(v: str) -> str:
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)

    from openpyxl.cell import WriteOnlyCell

    def text_cell(v: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=clean(v))
        cell.data_type = "s"  # text stays text, even when it starts with "="
        return cell

    extra_head = list(ANNOTATION_HEADERS) if annotations is not None else []
    ws.append([text_cell(h) for h in [*inv.headers[: inv.source_width], *extra_head]])
    for r in range(len(inv)):
        extra = list(annotations[r]) if annotations is not None else []
        values = (inv.value(r, c) for c in range(inv.source_width))
        ws.append([text_cell(v) for v in [*values, *extra]])
    with atomic_writer(target) as f:
        wb.save(f)
