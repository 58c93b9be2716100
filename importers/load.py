"""Read an inventory file (xlsx, xlsm, xlsb, xls, ods, csv/tsv/txt) into the core model."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import threading
import zipfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from coa_audit.core.audit import mask_keys
from coa_audit.core.errors import InputError, NoHeaderRow, UsageError, reader_crash
from coa_audit.core.files import not_regular
from coa_audit.core.model import ID_FIELDS, Inventory, SourceInfo, column_letter
from coa_audit.core.text import fold_words
from coa_audit.importers.cells import ColumnBuilder, cell_text
from coa_audit.importers.encodings import (
    canonical_encoding,
    encoding_label,
    guess_legacy,
    parse_delimiter,
)
from coa_audit.importers.formats import BY_EXTENSION, Book, Sheet, input_format, recognise
from coa_audit.importers.headers import (
    HEADER_SCAN_ROWS,
    HeaderRow,
    combine_headers,
    field_candidates,
    first_data_row,
    header_candidates,
    locate_header,
    map_headers,
)
from coa_audit.importers.xlsx_parts import ERROR_SHEETS, sheet_bounds_problem

__all__ = [
    "InputError",
    "SheetInfo",
    "detect_format",
    "list_sheets",
    "load_inventory",
    "sha256_of",
]

CHUNK = 8192
# Limits against decompression bombs, checked on the zip directory before anything expands.
MAX_UNCOMPRESSED = 4 * 1024**3
MAX_RATIO = 250
MAX_MEMBERS = 20_000
MAX_CSV_FIELD = 16 * 1024**2
# a spreadsheet has at most 16,384 columns: a text line with more separators is no register
# (a 16 MB header of 8 million fields took minutes and gigabytes to split)
MAX_COLUMNS = 16_384
# the sheets looked at for the device list when none is named (--sheet reads any): a
# workbook of thousands of sheets cost time in the square of their number
MAX_SHEETS_LOOKED_AT = 64

Progress = Callable[[int, int], None]
# the rows read so far, as an inventory of their own, while a large file is still loading
Glimpse = Callable[[Inventory], None]
GLIMPSE_GROWTH = 8


class _Glimpses:
    """Hands out inventories of the rows read so far, so a screen can show them while the
    rest loads: each time the rows read grew eightfold, while they are under an eighth of
    the file (a small file loads before a glimpse would help; each costs a copy and an audit
    of the rows so far, together about a tenth of the load at most)."""

    def __init__(self, call: Glimpse | None, make: Callable[[], Inventory]) -> None:
        self.call, self.make = call, make
        self.next_at = 1

    def __call__(self, rows: int, done: int, total: int) -> None:
        if self.call is None or rows < self.next_at or done * GLIMPSE_GROWTH > total:
            return
        self.next_at = rows * GLIMPSE_GROWTH
        self.call(self.make())


def _snapshot(
    src: SourceInfo,
    headers: list[str],
    builder: ColumnBuilder,
    numbers: array,
    mapping: dict[str, int],
) -> Inventory:
    """An inventory of what ``builder`` holds now, sharing no list with it."""
    part = replace(src, notices=list(src.notices), sha256="")
    columns = [c[:] for c in builder.columns]
    numeric = {c: set(v) for c, v in builder.numeric.items()}
    return Inventory(part, list(headers), columns, array("I", numbers), mapping, numeric)


@dataclass(frozen=True)
class SheetInfo:
    name: str
    visible: bool
    rows: int
    cols: int


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: Path) -> str:
    """The format by content (``importers.formats.recognise``: each format's recogniser),
    the extension deciding within a kind; a file no format recognises is refused."""
    ext = path.suffix.lower().lstrip(".")
    why = not_regular(path)
    if why is not None and why.startswith("is not a regular"):
        raise InputError(f"{path} {why}")  # a FIFO would block the open below for ever
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not an inventory file") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied (check the file's permissions)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{path} is empty: export the inventory again")
    spec = recognise(head, ext, lambda: _zip_members(path))
    refusal = spec.refuse(path) if spec is not None and spec.refuse is not None else None
    if refusal is not None:  # whatever the name: an encrypted workbook renamed .xlsx
        raise InputError(f"{path} {refusal}")
    claimed = BY_EXTENSION.get(ext)  # what the name says; the content decides
    if claimed is not None and claimed.zipped and (spec is None or not spec.zipped):
        raise InputError(
            f"{path} is not a valid {ext} file (it is not a zip package): it may be "
            "truncated or renamed; export it again"
        )
    if spec is None:
        raise InputError(
            f"{path} is not an inventory coa-audit reads: neither a workbook (xlsx, xlsm, "
            "xlsb, xls, ods) nor a text table; export the inventory as xlsx or csv"
        )
    return spec.name


def _zip_members(path: Path) -> set[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return set(z.namelist())
    except (zipfile.BadZipFile, OSError, NotImplementedError):  # a zip version it cannot read
        raise InputError(f"{path} is a damaged zip package: export the inventory again") from None


_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)


def check_zip_bomb(path: Path) -> None:
    """Refuse a zip package whose declared expansion is absurd, before anything expands."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        raise InputError(
            f"{path} is a damaged zip package (truncated or corrupt): export it again"
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise InputError(
            f"{path} has {len(infos)} parts, more than a spreadsheet ever needs: "
            "refusing to open it"
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise InputError(
            f"{path} would expand to {total / 1024**3:.1f} GiB: refusing to open it "
            "(possible decompression bomb)"
        )
    for i in infos:
        # a part Python's zip reader cannot open (a newer zip version, an unknown method):
        # refused here, in one line, rather than at whichever later read meets it first
        if i.extract_version > zipfile.MAX_EXTRACT_VERSION or i.compress_type not in _METHODS:
            raise InputError(
                f"{path}: part {i.filename} uses a zip feature coa-audit cannot read (version "
                f"{i.extract_version / 10:.1f}, method {i.compress_type}): save the file again "
                "from the spreadsheet program"
            )
        if i.file_size > 64 * 1024**2 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise InputError(
                f"{path}: part {i.filename} expands {i.file_size // max(i.compress_size, 1)}"
                " times: refusing to open it (possible decompression bomb)"
            )


_QUOTED = re.compile(r"""(["'`]).*?\1|«.*?»""")


def _calamine_error(path: Path, fmt: str, exc: BaseException) -> InputError:
    name = type(exc).__name__
    # the reader's own words may quote a cell (a product key...): quoted parts are left out
    msg = mask_keys(_QUOTED.sub("…", " ".join(str(exc).split())))[:160]
    if name == "PasswordError" or "password" in msg.lower():
        return InputError(f"{path} is password protected: save an unprotected copy and audit that")
    if "limit" in msg.lower():
        return InputError(
            f"{path} asks for more cells than coa-audit will allocate ({msg}): "
            "it is damaged or hostile"
        )
    return InputError(
        f"{path} cannot be read as {fmt} ({msg}): it may be damaged; "
        "open it in a spreadsheet program and save it again"
    )


_BOUNDED: set[tuple[str, int, int, str]] = set()  # (path, mtime, size, sheet) found safe


def _bounded(path: Path, sheet: str, check: Callable[[], str | None]) -> None:
    """Refuse ``path`` in one line when ``check`` says reading it would exhaust memory, or
    when the check itself fails (a package it cannot measure may hide what it looks for).
    A file found safe is not checked again in this process while its size and time stay:
    `columns` and an export read the same sheet more than once."""
    try:
        st = path.stat()
        key: tuple[str, int, int, str] | None = (str(path), st.st_mtime_ns, st.st_size, sheet)
    except OSError:
        key = None
    if key in _BOUNDED:
        return
    try:
        problem = check()
    except Exception as exc:  # fail closed: a package that cannot be measured is not read
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        problem = (
            f"its structure cannot be checked before reading ({detail}): it is damaged or "
            "hostile; open it in a spreadsheet program and save it again"
        )
    if problem is not None:
        raise InputError(f"{path}: {problem}")
    if key is not None:
        _BOUNDED.add(key)


# the reader python-calamine's from_path takes for each extension (others: by content)
_READER = {"xls": "xls", "xla": "xls", "xlsx": "xlsx", "xlsm": "xlsx", "xlam": "xlsx"}
_READER |= {"xlsb": "xlsb", "ods": "ods"}


def _open_workbook(path: Path, fmt: str) -> Book:
    import python_calamine

    spec = input_format(fmt)
    if spec.zipped:
        check_zip_bomb(path)
    check = spec.whole_book_check
    if check is not None:  # the whole workbook, before the reader builds any of it
        _bounded(path, "", lambda: check(path, fmt))
    try:
        if spec.open_book is not None:  # a format python-calamine does not read
            return spec.open_book(path)
        suffix = path.suffix.lower().lstrip(".")
        if _READER.get(suffix, fmt) != _READER.get(fmt, fmt):
            # python-calamine picks its reader by the name's extension: a workbook named as
            # another format ("fleet.xls" holding xlsx) is read by content instead
            with open(path, "rb") as f:
                return python_calamine.CalamineWorkbook.from_filelike(f)
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except InputError:
        raise
    except Exception as exc:
        raise _calamine_error(path, fmt, exc) from None


def _sheet(wb: Book, name: str, path: Path, fmt: str) -> Sheet:
    """The sheet from the reader, once it is known that reading it cannot exhaust memory:
    the reader allocates the whole rectangle its cells span, and every reuse of a shared
    text, so a tiny hostile file could ask for gigabytes (or abort the process)."""
    if input_format(fmt).spreadsheetml:
        _bounded(path, name, lambda: sheet_bounds_problem(str(path), name))
    try:
        return wb.get_sheet_by_name(name)
    except Exception as exc:
        raise _calamine_error(path, fmt, exc) from None


def typed_sheet(
    path: Path, fmt: str, name: str
) -> tuple[list[list[object]], tuple[int, int]] | None:
    """The values of sheet ``name`` with their types (numbers, dates, true/false, text) and
    the absolute (row, column) of the first one, for writing a spreadsheet again; None when
    the file cannot be read again as it was."""
    try:
        sheet = _sheet(_open_workbook(path, fmt), name, path, fmt)
        start = sheet.start or (0, 0)
        return sheet.to_python(skip_empty_area=False), (start[0], start[1])
    except Exception:
        return None


def list_sheets(path: Path) -> list[SheetInfo]:
    fmt = detect_format(path)
    if input_format(fmt).text:
        return [SheetInfo("", True, 0, 0)]
    wb = _open_workbook(path, fmt)
    out = []
    for n, meta in enumerate(wb.sheets_metadata):
        if n >= MAX_SHEETS_LOOKED_AT:  # named, not measured: each costs a look at the file
            out.append(SheetInfo(meta.name, str(meta.visible).endswith("Visible"), 0, 0))
            continue
        try:
            sheet = _sheet(wb, meta.name, path, fmt)
            rows, cols = sheet.height, sheet.width
        except Exception:
            rows = cols = 0
        out.append(SheetInfo(meta.name, str(meta.visible).endswith("Visible"), rows, cols))
    return out


# -- spreadsheets -----------------------------------------------------------------------------


def _sheet_rows(
    wb: Book, name: str, path: Path, fmt: str
) -> tuple[Iterator[list[object]], int, int]:
    """(row iterator from absolute row 0, absolute first column, total rows)."""
    sheet = _sheet(wb, name, path, fmt)
    try:
        start = sheet.start
        first_col = start[1] if start else 0
        return iter(sheet.iter_rows()), first_col, sheet.height + (start[0] if start else 0)
    except Exception as exc:
        raise _calamine_error(path, fmt, exc) from None


def _headed(rows: list[list[object]], overrides: dict[str, str] | None) -> HeaderRow | None:
    return locate_header([[cell_text(v) for v in r] for r in rows], overrides)


def _header_rank(found: HeaderRow) -> tuple[bool, int]:
    """A header whose words name fields beats one found by its layout, then more fields."""
    return (found.how == "words", found.score)


def _load_spreadsheet(
    path: Path,
    fmt: str,
    sheet: str | None,
    overrides: dict[str, str] | None,
    progress: Progress | None,
    glimpse: Glimpse | None = None,
) -> Inventory:
    wb = _open_workbook(path, fmt)
    metas = list(wb.sheets_metadata)
    notices: list[str] = []
    if sheet is not None:
        names = [m.name for m in metas]
        if sheet not in names:
            raise InputError(
                f"{path} has no sheet {sheet!r}; its sheets are: "
                f"{', '.join(repr(n) for n in names)}"
            )
        candidates = [sheet]
        hidden: list[str] = []
    else:
        candidates = [m.name for m in metas if str(m.visible).endswith("Visible")]
        hidden = [m.name for m in metas if not str(m.visible).endswith("Visible")]
        if hidden:
            shown = ", ".join(hidden[:10]) + (
                f" and {len(hidden) - 10} more" if len(hidden) > 10 else ""
            )
            notices.append(f"hidden sheet(s) not considered: {shown} (use --sheet)")
        if len(candidates) > MAX_SHEETS_LOOKED_AT:
            notices.append(
                f"the workbook has {len(candidates):,} visible sheets: the first "
                f"{MAX_SHEETS_LOOKED_AT} were looked at for the device list (name another "
                "with --sheet)"
            )
            candidates = candidates[:MAX_SHEETS_LOOKED_AT]
    best = None
    heads: list[tuple[str | None, list[list[str]]]] = []
    for name in candidates:
        it, first_col, total = _sheet_rows(wb, name, path, fmt)
        head = list(islice(it, HEADER_SCAN_ROWS))
        found = _headed(head, overrides)
        if found and (best is None or _header_rank(found) > _header_rank(best[1])):
            best = (name, found, it, head, first_col, total)
        if best is None and len(heads) < 20:  # for the candidates, should none be found
            heads.append((name, [[cell_text(v) for v in r] for r in head]))
    if best is None:
        where = f"sheet {sheet!r}" if sheet else "any visible sheet"
        if sheet is None and len(metas) > len(candidates) + len(hidden):
            where = f"the first {len(candidates)} of {len(metas):,} sheets"
        raise _no_header(
            f"{path}: no header row found in {where} (looked for headers such as "
            f"Serial Number, Asset Tag, COA Edition in the first {HEADER_SCAN_ROWS} rows, "
            "and for a row of names above rows of values)",
            "use --sheet or --map",
            heads,
        )
    name, found, it, head, first_col, total = best
    hrow = found.row
    upper = head[found.upper] if found.upper is not None else None
    headers = _headers_from(head[hrow], first_col, upper)
    sample = [[cell_text(v) for v in r] for r in head[hrow + 1 :]]
    mapping = _map(headers, overrides, path, sample)
    notices.extend(_header_notices(found, headers, mapping, first_col, lambda i: i + 1))
    track = [mapping[f] for f in ID_FIELDS if f in mapping]
    builder = ColumnBuilder(len(headers), track)
    numbers = array("I")
    rownum = hrow + 1  # 0-based index of the next row
    pending = head[hrow + 1 :]

    def rows() -> Iterator[list[object]]:
        yield from pending
        yield from it

    width = len(headers)
    source = rows()
    totals = _table_totals(path, fmt, name)
    src = SourceInfo(str(path), fmt, name, hrow + 1, "", first_col, notices)
    glimpses = _Glimpses(glimpse, lambda: _snapshot(src, headers, builder, numbers, mapping))
    while True:
        chunk = list(islice(source, CHUNK))
        if not chunk:
            break
        keep = []
        for r in chunk:
            rownum += 1
            if totals and rownum in totals:
                notices.append(f"row {rownum} is an Excel table's totals row: not a device")
                continue
            if r.count("") != len(r):
                if len(r) > width:
                    r = r[:width]
                keep.append(r)
                numbers.append(rownum)
        builder.add_rows(keep)
        if progress is not None:
            progress(rownum, total)
        glimpses(len(numbers), rownum, total)
    _drop_totals_row(builder, numbers, notices)
    src.candidates = _candidates(headers, sample, mapping, first_col)
    if input_format(fmt).spreadsheetml and any(builder.numeric.values()):
        _apply_number_formats(path, name, first_col, builder, numbers)
    if input_format(fmt).spreadsheetml and (str(path), name) in ERROR_SHEETS:
        _apply_error_cells(path, name, first_col, builder, numbers)
    return Inventory(src, headers, builder.columns, numbers, mapping, builder.numeric)


_ZERO_PAD = re.compile(r"^0+$")
_TOTAL_WORDS = frozenset(
    (
        "total",
        "totals",
        "grand total",
        "sum",
        "summe",
        "gesamt",
        "gesamtsumme",
        "insgesamt",
        "total general",
        "totaux",
        "somme",
        "suma",
    )
)
_NUMBER = re.compile(r"^-?[\d.,\s]+$")


def _table_totals(path: Path, fmt: str, sheet: str) -> set[int]:
    if not input_format(fmt).spreadsheetml:
        return set()
    from coa_audit.importers.xlsx_parts import table_totals_rows

    try:
        return table_totals_rows(str(path), sheet)
    except Exception:  # the table parts are a refinement: the values are already read
        return set()


def _drop_totals_row(builder: ColumnBuilder, numbers: array, notices: list[str]) -> None:
    """A last row that says "Total" and otherwise holds only numbers (SUBTOTAL formulas) is
    the sum of the table, not a device."""
    if not numbers or not builder.columns:
        return
    last = [col[-1] for col in builder.columns]
    filled = [v.strip() for v in last if v.strip()]
    labels = [v for v in filled if not _NUMBER.match(v)]
    if len(labels) != 1 or fold_words(labels[0]) not in _TOTAL_WORDS:
        return
    for col in builder.columns:
        col.pop()
    row = len(numbers) - 1
    for rows in builder.numeric.values():
        rows.discard(row)
    notices.append(f"row {numbers.pop()} is a totals row ({labels[0]!r}): not a device")


def _apply_number_formats(
    path: Path, sheet: str, first_col: int, builder: ColumnBuilder, numbers: array
) -> None:
    """Identifiers stored as numbers show as the spreadsheet shows them: a serial 123 with
    the format 00000 reads 00123 (only the few id columns holding numbers are looked at)."""
    from coa_audit.importers.xlsx_parts import cell_formats

    cols = {column_letter(first_col + c): c for c, rows in builder.numeric.items() if rows}
    try:
        formats = cell_formats(str(path), sheet, cols)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return  # formats are a refinement: the values are already read
    for (letter, rownum), code in formats.items():
        c = cols[letter]
        code = code.split(";")[0].strip('"')
        if not _ZERO_PAD.match(code):
            continue
        column = builder.columns[c]
        r = bisect_left(numbers, rownum)  # row numbers are increasing
        if (
            r < len(numbers)
            and numbers[r] == rownum
            and r in builder.numeric[c]
            and column[r].isdigit()
        ):
            column[r] = column[r].zfill(len(code))


def _apply_error_cells(
    path: Path, sheet: str, first_col: int, builder: ColumnBuilder, numbers: array
) -> None:
    """An error cell (#REF!, #N/A) reads as its error's text, as a csv export of the sheet
    shows it: the reader gives it as blank, and a blank COA cell beside an edition says
    nothing against the device, where "#REF!" is not understood (review)."""
    from coa_audit.importers.xlsx_parts import error_cells

    try:
        errors = error_cells(str(path), sheet)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"{path}: its error cells (#REF!...) cannot be read ({exc}): open it in a "
            "spreadsheet program and save it again"
        ) from None
    width = len(builder.columns)
    for (col, rownum), text in errors.items():
        c = col - first_col
        r = bisect_left(numbers, rownum)  # row numbers are increasing
        if 0 <= c < width and r < len(numbers) and numbers[r] == rownum:
            column = builder.columns[c]
            if not column[r]:
                column[r] = text


def _headers_from(
    row: list[object], first_col: int, upper: list[object] | None = None
) -> list[str]:
    """The source headers: the header row's cells, a blank one named by its column; with
    a row of group titles above it, each title before the labels it groups."""
    headers = [cell_text(v).strip() for v in row]
    if upper is not None:
        headers = combine_headers([cell_text(v) for v in upper], headers)
    while headers and not headers[-1]:
        headers.pop()
    return [h or f"(column {column_letter(first_col + i)})" for i, h in enumerate(headers)]


def _map(
    headers: list[str],
    overrides: dict[str, str] | None,
    path: Path,
    sample: list[list[str]],
) -> dict[str, int]:
    try:
        return map_headers(headers, overrides, sample)
    except KeyError as exc:
        raise MappingError(
            f"--map names a column {exc.args[0]!r} that {path.name} does not have; its headers "
            f"are: {', '.join(repr(h) for h in headers)}"
        ) from None


def _candidates(
    headers: list[str], sample: Sequence[Sequence[object]], mapping: dict[str, int], first_col: int
) -> dict[str, list[str]]:
    """The best columns for the serial number and the evidence when none was mapped (the
    notice names them)."""
    out = {}
    for need, cols in field_candidates(headers, sample, mapping).items():
        out[need] = [f"{headers[c]!r} (column {column_letter(first_col + c)})" for c in cols]
    return out


def _header_notices(
    found: HeaderRow,
    headers: list[str],
    mapping: dict[str, int],
    first_col: int,
    number: Callable[[int], int],
) -> list[str]:
    """What the reader says about a header it found by its layout (its words name no field
    this tool knows: the columns left unmapped, once) or made of two rows."""
    out = []
    shown = [
        f"{h!r} (column {column_letter(first_col + c)})"
        for c, h in enumerate(headers)
        if c not in mapping.values() and not h.startswith("(column ")
    ]
    refused: dict[int, tuple[str, str]] = getattr(mapping, "refused", {})
    for c, (fname, what) in sorted(refused.items()):
        out.append(
            f"{headers[c]!r} (column {column_letter(first_col + c)}) is not read as "
            f"{fname}: its values {what}"
        )
    if found.upper is not None:
        out.append(
            f"the header is two rows ({number(found.upper)} and {number(found.row)}): each "
            "group title is read before the labels under it"
        )
    if found.how == "layout":
        rest = ", ".join(shown[:12]) + (f" and {len(shown) - 12} more" if len(shown) > 12 else "")
        out.append(
            f"HEADER ROW FOUND BY ITS LAYOUT: row {number(found.row)} is a row of names above "
            "rows of values, but its words name few fields coa-audit knows"
            + (f"; not mapped: {rest}" if shown else "")
            + '. Name them with --map "Header=field" (coa-audit columns FILE shows them), '
            "or m on screen"
        )
    return out


def _no_header(
    what: str,
    todo: str,
    heads: list[tuple[str | None, list[list[str]]]],
    numbers: Sequence[int] | None = None,
) -> NoHeaderRow:
    """The refusal when no header row is found, naming the row most like one (and keeping
    the best few for `columns` to show); a file whose first row holds values like the rows
    below it is said to have no header at all."""
    for sheet, rows in heads:
        first = first_data_row(rows)
        if first is None:
            continue
        number = numbers[first] if numbers is not None and first < len(numbers) else first + 1
        where = f"sheet {sheet!r} " if sheet else ""
        cells = [c.strip() for c in rows[first] if c.strip()]
        shown = ", ".join(repr(c) for c in cells[:4]) + (", ..." if len(cells) > 4 else "")
        path = what.partition(": no header row found")[0]
        return NoHeaderRow(
            f"{path}: no header row: {where}row {number} ({shown}) holds values like the "
            "rows below it, not column names; add a row of column names above the data, or "
            'name the columns with --map "Header=field" (coa-audit columns FILE shows it)',
            [(sheet, number, [str(c) for c in rows[first]])],
        )
    found: list[tuple[int, str | None, int, list[str]]] = []
    for sheet, rows in heads:
        for rank, i in enumerate(header_candidates(rows)):
            number = numbers[i] if numbers is not None and i < len(numbers) else i + 1
            cells = [str(c) for c in rows[i]]
            while cells and not cells[-1].strip():
                cells.pop()
            found.append((rank, sheet, number, cells))
    found.sort(key=lambda f: f[0])
    candidates = [(s, n, cells) for _r, s, n, cells in found[:3]]
    hint = ""
    if candidates:
        sheet, number, cells = candidates[0]
        filled = [c for c in cells if c.strip()]
        shown = ", ".join(repr(c) for c in filled[:4]) + (", ..." if len(filled) > 4 else "")
        where = f"sheet {sheet!r} " if sheet else ""
        hint = f"; the row most like a header is {where}row {number} ({shown})"
    return NoHeaderRow(f"{what}{hint}; {todo} (coa-audit columns FILE shows it)", candidates)


class MappingError(UsageError):
    """A --map override does not fit the file (a usage error, exit 2)."""


# -- CSV --------------------------------------------------------------------------------------

_DELIMS = (",", ";", "\t", "|")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 written without a byte-order mark: text of mostly ASCII shows a NUL in every
    other byte."""
    half = len(head) // 2
    if half < 8:
        return None
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _utf32_without_bom(head: bytes) -> str | None:
    """UTF-32 text without a byte-order mark: three of every four bytes are zero."""
    quarter = len(head) // 4
    if quarter < 8:
        return None
    lanes = [head[i::4][:quarter].count(0) for i in range(4)]
    if min(lanes[1:]) > 0.9 * quarter and lanes[0] < 0.05 * quarter:
        return "utf-32-le"
    if min(lanes[:3]) > 0.9 * quarter and lanes[3] < 0.05 * quarter:
        return "utf-32-be"
    return None


SNIFF_BYTES = 256 * 1024  # the head of a text file its encoding is told from


@dataclass(frozen=True)
class Sniffed:
    """How a text file is decoded, and what the user is told about it."""

    encoding: str
    bom: bool
    notices: tuple[str, ...] = ()
    how: str = "detected"  # or "--encoding"

    @property
    def note(self) -> str:
        """The notice a refusal carries too: what the file was read as, and how to overrule."""
        return "; ".join(self.notices)


def _sniff_encoding(path: Path, forced: str | None = None) -> Sniffed:
    """UTF-8 unless the bytes say otherwise: a byte-order mark, UTF-16/32 without one, else
    the legacy code page the head reads best in (``importers.encodings``: Windows 1250-1258,
    Shift_JIS, GB18030, Big5, EUC-KR, KOI8, and Mac Roman for Excel for Mac's CR-only
    "CSV (Macintosh)"). Only the first ``SNIFF_BYTES`` are examined; ``forced`` (a name
    ``--encoding`` gave) is used as it is."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        more = bool(f.read(1))
    if forced is not None:
        return _forced(head, forced)
    if head.startswith(codecs.BOM_UTF8):
        return Sniffed("utf-8-sig", True)
    # UTF-32 first: its little-endian mark begins with UTF-16's
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Sniffed("utf-32", True)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Sniffed("utf-16", True)
    overrule = "use --encoding to overrule"
    start = head[:4096]
    for wide, size in ((_utf32_without_bom(start), 32), (_utf16_without_bom(start), 16)):
        if wide is not None:
            return Sniffed(
                wide,
                False,
                (f"the file is UTF-{size} without a byte-order mark: read as {wide} "
                 f"(detected); {overrule}",),
            )  # fmt: skip
    try:  # a character cut at the end of the head is no error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not more)
        return Sniffed("utf-8", False)
    except UnicodeDecodeError:
        pass
    if more:  # judge whole lines only
        cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
        head = head[: cut + 1] if cut > 0 else head
    cr_only = b"\r" in head and b"\n" not in head
    codec = guess_legacy(head, cr_only=cr_only)
    mac = codec == "mac_roman"
    why = "not UTF-8" + (", CR-only line ends as Excel for Mac writes" if mac else "")
    return Sniffed(
        codec, False, (f"read as {encoding_label(codec)} (detected: {why}); {overrule}",)
    )


def _forced(head: bytes, name: str) -> Sniffed:
    """The encoding ``--encoding`` named; a UTF byte-order mark it matches is kept as one."""
    codec = canonical_encoding(name) or name
    if codec in ("utf_8", "utf_8_sig") and head.startswith(codecs.BOM_UTF8):
        codec, bom = "utf-8-sig", True
    elif codec == "utf_16":
        bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    elif codec == "utf_32":
        bom = head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE))
    else:
        bom = False
    codec = codec.replace("_", "-") if codec.startswith("utf") else codec
    return Sniffed(codec, bom, (f"read as {encoding_label(codec)} (--encoding)",), "--encoding")


_NOT_DELIMITERS = frozenset("\"'\r\n\x00")  # quoting and line breaks cannot separate values


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the sample lines into the most consistent field counts."""
    # not splitlines(): it also splits at U+2028 and friends; CR-only files end lines in \r
    lines = sample.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:200]
    if lines and lines[0].lower().startswith("sep=") and len(lines[0]) == 5:
        named = lines[0][4]
        if named in _NOT_DELIMITERS or named.isalnum():
            raise InputError(
                f"the file's first line, sep={named}, names {named!r} as the delimiter: a "
                "value so split cannot be told apart from its neighbours; save it as a "
                "comma-separated CSV"
            )
        return named
    best, best_score = ",", -1.0
    for d in _DELIMS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        if common < 2:
            continue
        score = counts.count(common) / len(counts) * min(common, 50)
        if score > best_score:
            best, best_score = d, score
    return best


def _line_ending(sample: str) -> str:
    i = sample.find("\n")
    if i > 0 and sample[i - 1] == "\r":
        return "\r\n"
    if i < 0 and "\r" in sample:
        return "\r"
    return "\n"


def _load_csv(
    path: Path,
    overrides: dict[str, str] | None,
    progress: Progress | None,
    glimpse: Glimpse | None = None,
    sniffed: Sniffed | None = None,
    delimiter: str | None = None,
) -> Inventory:
    csv.field_size_limit(MAX_CSV_FIELD)
    sniffed = sniffed or _sniff_encoding(path)
    encoding, bom, notices = sniffed.encoding, sniffed.bom, list(sniffed.notices)
    size = os.path.getsize(path)
    with open(path, encoding=encoding, newline="", errors="strict") as f:
        sample = f.read(256 * 1024)
        if "\x00" in sample:
            sample = sample.replace("\x00", "")
            notices.append("NUL characters in the file were ignored")
        try:
            delim = delimiter or _sniff_delimiter(sample)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        f.seek(0)
        text = _NulStripper(f, delim, path)
        reader = csv.reader(text, delimiter=delim)
        starts: list[int] = []
        head: list[list[str]] = []
        line = 1
        for rec in reader:
            starts.append(line)
            line = reader.line_num + 1
            head.append(rec)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        if head and len(head[0]) == 1 and head[0][0].lower().startswith("sep="):
            head[0] = []
        found = locate_header(head, overrides)
        if found is None:
            raise _no_header(
                f"{path}: no header row found (looked for headers such as Serial "
                f"Number, Asset Tag, COA Edition in the first {HEADER_SCAN_ROWS} records, "
                "and for a record of names above records of values)",
                "check the delimiter or use --map",
                [(None, head)],
                starts,
            )
        hrow = found.row
        upper: list[object] | None = None
        if found.upper is not None:
            upper = list(head[found.upper])
        headers = _headers_from(list(head[hrow]), 0, upper)
        mapping = _map(headers, overrides, path, head[hrow + 1 :])
        notices.extend(_header_notices(found, headers, mapping, 0, lambda i: starts[i]))
        width = len(headers)
        builder = ColumnBuilder(width)
        numbers = array("I")
        dialect = {
            "delimiter": delim,
            "encoding": encoding,
            "bom": bom,
            "line_ending": _line_ending(sample),
        }
        src = SourceInfo(str(path), "csv", None, starts[hrow], "", 0, notices, dialect)
        glimpses = _Glimpses(glimpse, lambda: _snapshot(src, headers, builder, numbers, mapping))
        chunk: list[list[str]] = []
        for rec, start in zip(head[hrow + 1 :], starts[hrow + 1 :], strict=True):
            if any(rec):
                chunk.append(rec[:width] if len(rec) > width else rec)
                numbers.append(start)
        for rec in reader:
            if rec and any(rec):
                chunk.append(rec[:width] if len(rec) > width else rec)
                numbers.append(line)
            line = reader.line_num + 1
            if len(chunk) >= CHUNK:
                builder.add_rows(chunk)
                chunk = []
                if progress is not None:
                    progress(min(size, text.chars), size)
                glimpses(len(numbers), text.chars, size)
        builder.add_rows(chunk)
    _drop_totals_row(builder, numbers, notices)
    src.candidates = _candidates(headers, head[hrow + 1 :], mapping, 0)
    return Inventory(src, headers, builder.columns, numbers, mapping, {})


class _NulStripper:
    """A line iterator over a text file that drops NUL characters (csv refuses them) and
    refuses a line of more separators than a spreadsheet has columns, before the csv
    module splits it."""

    def __init__(self, f: io.TextIOBase, delim: str = ",", path: Path | None = None) -> None:
        self.f = f
        self.chars = 0
        self.delim, self.path, self.lines = delim, path, 0

    def __iter__(self) -> Iterator[str]:
        after_cr = False
        for line in self.f:
            self.chars += len(line)
            self.lines += 1
            if len(line) > MAX_COLUMNS and line.count(self.delim) >= MAX_COLUMNS:
                raise InputError(
                    f"{self.path or 'the file'}: line {self.lines} has over {MAX_COLUMNS:,} "
                    f"fields ({self.delim!r}-separated), more than a spreadsheet holds: it is "
                    "no inventory (damaged or hostile)"
                )
            if after_cr and line == "\r\n":
                after_cr = False
                continue  # wmic through cmd ends lines in CR CR LF: one line end, not two
            after_cr = line.endswith("\r") and not line.endswith("\r\n")
            if "\x00" in line:
                line = line.replace("\x00", "")
            yield line


# -- entry point ------------------------------------------------------------------------------


def text_options(encoding: str | None, delimiter: str | None) -> tuple[str | None, str | None]:
    """``--encoding`` and ``--delimiter`` as the reader uses them; a name or a character that
    cannot be is a usage error (exit 2), said in one line."""
    if encoding is not None and canonical_encoding(encoding) is None:
        raise UsageError(
            f"--encoding {encoding!r}: no text encoding is called that; name one such as "
            "utf-8, cp1250 ... cp1258, cp932 (Shift_JIS), gb18030, big5, euc-kr, koi8-r"
        )
    return encoding, (parse_delimiter(delimiter) if delimiter is not None else None)


def _not_for_workbooks(path: Path, fmt: str, encoding: str | None, delimiter: str | None) -> None:
    """A workbook has neither an encoding nor a delimiter to name: refused, not ignored."""
    given = [o for o, v in (("--encoding", encoding), ("--delimiter", delimiter)) if v]
    if given:
        label = input_format(fmt).label
        article = "an" if label[:1].lower() in "aeiou" else "a"
        raise UsageError(
            f"{' and '.join(given)}: {path.name} is {article} {label}, "
            "not a text table; leave it out (it applies to csv, tsv and txt files)"
        )


def _carry_note(exc: Exception, sniffed: Sniffed) -> None:
    """Add what the file was read as to a refusal's one line (values read in the wrong
    encoding are why no header is found; the user learns how to overrule it)."""
    note = sniffed.note
    if note and exc.args and isinstance(exc.args[0], str) and note not in exc.args[0]:
        exc.args = (f"{exc.args[0]} ({note})", *exc.args[1:])


def _undecodable(path: Path, sniffed: Sniffed | None, exc: UnicodeDecodeError) -> str:
    if sniffed is None:
        return f"{path}: the text encoding could not be read; save it as UTF-8"
    label = encoding_label(sniffed.encoding)
    how = (
        "as --encoding named"
        if sniffed.how == "--encoding"
        else f"as its first {SNIFF_BYTES // 1024} KB read"
    )
    return (
        f"{path}: byte {exc.object[exc.start : exc.start + 1]!r} further on is not {label}, "
        f"which the file was read as ({how}); name the file's encoding with --encoding "
        "(for example --encoding cp1252) or save it as UTF-8"
    )


def load_inventory(
    path: str | Path,
    sheet: str | None = None,
    overrides: dict[str, str] | None = None,
    progress: Progress | None = None,
    glimpse: Glimpse | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Inventory:
    """Read ``path`` into an Inventory. Raises InputError (unreadable) or MappingError.
    ``glimpse`` is given inventories of the rows read so far while a large file loads.
    ``encoding`` and ``delimiter`` (a text table's, as ``--encoding`` / ``--delimiter`` name
    them: ``text_options``) replace what would be detected."""
    path = Path(path)
    fmt = detect_format(path)
    encoding, delimiter = text_options(encoding, delimiter)
    sniffed: Sniffed | None = None
    # hashlib releases the GIL: the digest is computed on the other core while we parse
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(sha256_of(path)), daemon=True)
    hasher.start()
    ext = path.suffix.lower().lstrip(".")
    try:
        if input_format(fmt).text:
            if sheet:
                raise MappingError(
                    f"--sheet {sheet!r}: {path.name} is a CSV file, it has no sheets"
                )
            sniffed = _sniff_encoding(path, encoding)
            try:
                inv = _load_csv(path, overrides, progress, glimpse, sniffed, delimiter)
            except (InputError, UsageError) as exc:
                _carry_note(exc, sniffed)  # what it was read as, said beside why it failed
                claimed = BY_EXTENSION.get(ext)
                if isinstance(exc, InputError) and claimed is not None and not claimed.text:
                    raise InputError(
                        f"{path} is not a valid {ext} file (nor a readable text table): it may be "
                        "truncated or renamed; export it again"
                    ) from None
                raise
        else:
            _not_for_workbooks(path, fmt, encoding, delimiter)
            inv = _load_spreadsheet(path, fmt, sheet, overrides, progress, glimpse)
    except (InputError, MappingError):
        raise
    except UnicodeDecodeError as exc:
        raise InputError(_undecodable(path, sniffed, exc)) from None
    except csv.Error as exc:
        raise InputError(f"{path} is not a readable CSV file ({exc}); check its format") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except BaseException as exc:  # a reader dying on the file, in any of its ways
        why = reader_crash(exc)
        if why is None:
            raise
        raise InputError(f"{path}: {why}") from None
    if len(inv) == 0:
        empty = InputError(
            f"{path}: the header row was found (row {inv.source.header_row}) but no "
            "device rows follow it"
        )
        if sniffed is not None:
            _carry_note(empty, sniffed)
        raise empty
    hasher.join()
    inv.source.sha256 = digest[0] if digest else sha256_of(path)
    return inv
