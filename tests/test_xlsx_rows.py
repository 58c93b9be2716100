"""The workbooks' plain rows are written a row at a time (``xlsx_cells.RAW_ROWS``), as
XlsxWriter itself would write them cell by cell: the same bytes in every part of the file,
for every kind of value and every order of plain, styled, paired and blank rows. The
reference is XlsxWriter's own path, in the same run; spellings are generated."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coa_audit.exporters import xlsx_cells
from coa_audit.exporters.xlsx_cells import Book

# what a cell's text may hold: XML's specials, XlsxWriter's own escape (_x0041_), control
# characters, blanks at either end, formula triggers, a product key, rich-text look-alikes,
# characters outside the BMP, and text long enough to be cut
_PIECES = st.sampled_from(
    ["&", "<", ">", '"', "'", "_x0041_", "_x005F_", "\x00", "\x01", "\x0b", "\x1f", "\t",
     "\n", "\r", "\r\n", " ", "\u00a0", "\ufffe", "\uffff", "=", "+", "-", "@", "＝", "=1+1",
     "<r>", "</r>", "<r>x</r>", "😀", "Łódź", "株式", "JB7TK-VCXJ4-8C3MW-YK3DF-QWXYZ",
     "HP", "Pro", "0042", "1E5", ""]
)  # fmt: skip
_TEXT = st.one_of(
    st.lists(_PIECES, max_size=6).map("".join),
    st.text(max_size=30),
    st.sampled_from(["x" * 16_384, "é" * 16_384, "😀" * 16_384, " " + "y" * 40_000]),
)
_VALUE = st.one_of(
    _TEXT,
    st.none(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),  # XlsxWriter refuses the others
)
_ROW = st.tuples(
    st.sampled_from(["plain", "plain", "plain", "bold", "warning", "pair", "blank"]),
    st.lists(_VALUE, max_size=8),
)


def _write(rows: list[tuple[str, list[Any]]], raw: bool) -> dict[str, bytes]:
    xlsx_cells.RAW_ROWS = raw
    try:
        out = io.BytesIO()
        book = Book(out)
        sheet = book.sheet("One", [8, 12, 30])
        for n, (kind, values) in enumerate(rows):
            if n == len(rows) // 2:
                sheet = book.sheet("Two")
            if kind == "blank":
                sheet.blank()
            elif kind == "pair":
                sheet.pair(str(values[0]) if values else "Label", values[1] if values[1:] else 7)
            else:
                sheet.append(values, kind)
        book.close()
    finally:
        xlsx_cells.RAW_ROWS = True
    with zipfile.ZipFile(out) as z:  # the file's parts but its creation time
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ROW, min_size=1, max_size=25))
# a quoted text on a sheet whose row is still open when a styled row is written on another
# (the quote prefix's style number is given when XlsxWriter writes the row: at the end)
@example([("plain", []), ("plain", ["\x00"]), ("bold", ["&"]), ("pair", [])])
def test_rows_written_whole_are_the_bytes_xlsxwriter_writes(
    rows: list[tuple[str, list[Any]]],
) -> None:
    assert _write(rows, raw=True) == _write(rows, raw=False)


@pytest.mark.parametrize("first", ["plain", "bold"])
def test_a_fleet_sized_table_is_the_same_file(first: str) -> None:
    """A table of a few thousand devices, its heading styled or not, a pair and a blank
    row in the middle: the same parts, byte for byte."""
    rows: list[tuple[str, list[Any]]] = [(first, ["Row", "Asset tag", "Serial", "Note"])]
    for n in range(3000):
        rows.append(("plain", [n + 2, f"AT-{n:05d}", f"5CG{n:07d}", "=cmd" if n % 7 else ""]))
        if n == 1500:
            rows += [("pair", ["Count", 1500]), ("blank", [])]
    assert _write(rows, raw=True) == _write(rows, raw=False)


# the identifiers written as they are (``xlsx_cells._PLAIN_TEXT``) and their neighbours: a
# blank at either end, an underscore (_x0041_), quotes, &, lengths either side of a key's 25
# letters and digits (a key written whole is masked), a trigger first
_NEAR_PLAIN = st.text(alphabet="AZaz09 ./#-_'\"&=+@x", min_size=1, max_size=30) | st.sampled_from(
    ["A" * 24, "A" * 25, "A" * 26, "JB7TK-VCXJ4-8C3MW-YK3DF-QWXYZ", "JB7TKVCXJ48C3MWYK3DFQWXYZ",
     "A_x0041_", "0_x00aA_9", "A&B", "A<B>", "A'B", 'A"B', "A B", "A ", " A", "A\tB"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_NEAR_PLAIN, min_size=1, max_size=12))
def test_identifiers_written_as_they_are_are_the_cells_xlsxwriter_writes(texts: list[str]) -> None:
    rows: list[tuple[str, list[Any]]] = [("plain", [n, t, t[::-1]]) for n, t in enumerate(texts)]
    assert _write(rows, raw=True) == _write(rows, raw=False)


@pytest.mark.parametrize("height", [15, 30])
def test_a_sheet_whose_rows_have_another_height_is_written_by_xlsxwriter(height: float) -> None:
    """Rows of a height other than Excel's default carry it in their tag: such a sheet's
    rows are left to XlsxWriter, and the file is the same either way."""

    def write(raw: bool) -> bytes:
        xlsx_cells.RAW_ROWS = raw
        try:
            out = io.BytesIO()
            book = Book(out)
            sheet = book.sheet("One")
            sheet._ws.set_default_row(height)  # what no exporter does today
            for n in range(3):
                sheet.append([n, f"AT-{n:05d}", "Windows 11 Pro"])
            book.close()
        finally:
            xlsx_cells.RAW_ROWS = True
        with zipfile.ZipFile(out) as z:
            return z.read("xl/worksheets/sheet1.xml")

    assert write(raw=True) == write(raw=False)
