"""Workbooks the tool writes from scratch (report, checklist, worklist), through XlsxWriter
in constant-memory mode: each row goes to disk as it is added. Text stays text.

Every string is written as a string (never a formula, a number or a link, whatever it
looks like), through ``exporters.safety.xlsx_text``: keys masked, and text a spreadsheet
would evaluate if retyped (``safety.is_dangerous``: = + - @, tab, CR, LF, their fullwidth
and lookalike forms, after blanks too, DDE calls) also carries the quotePrefix style, the
way Excel stores text typed after an apostrophe (OWASP CSV/formula injection, CWE-1236).
Sheet names and page headers are masked too. Characters XML cannot hold become U+FFFD, a
carriage return a line break (what XML readers make of a raw one anyway), and text is cut
at Excel's 32,767 characters. ``Book`` and ``Sheet`` are the exporters' only way into a
workbook: the worksheet itself is private.

Why XlsxWriter (measured on the worst-case fleet, 107,117 finding rows of 10 cells, same
machine, one process each): openpyxl write-only 7.0 s, XlsxWriter constant_memory 5.9 s,
PyExcelerate 5.2 s (holds the sheet in memory), rustpy-xlsxwriter 0.9 s (a young binding
of rust_xlsxwriter whose dict-per-row API has no per-cell style). See ARCHITECTURE.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import IO, Any

from coa_audit.core.keys import SHORTEST_KEY
from coa_audit.exporters.safety import shown, xlsx_text

__all__ = ["Book", "Sheet"]

# what XML 1.0 cannot hold (the same set openpyxl refuses)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_TEXT = 32767

STYLES: dict[str, dict[str, object]] = {
    "plain": {},
    "bold": {"bold": True},
    "title": {"bold": True, "font_size": 14},
    "warning": {"bold": True, "font_color": "#C00000"},
}


class Book:
    """One workbook written to ``out`` (a binary file); ``close`` finishes it."""

    def __init__(self, out: IO[bytes]) -> None:
        import xlsxwriter

        self._wb = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._formats: dict[tuple[str, bool], Any] = {}
        # text as written (keys masked, illegal characters replaced), by the text given:
        # most cells of a report repeat (codes, messages, statuses)
        self._text: dict[str, tuple[str, bool]] = {}

    def text(self, value: str) -> tuple[str, bool]:
        """``value`` as the workbook holds it, and whether it needs the quote prefix."""
        known = self._text.get(value)
        if known is None:
            text, quoted = xlsx_text(value)
            if len(text) > MAX_TEXT or _ILLEGAL.search(text):
                text = _ILLEGAL.sub("\ufffd", text)[:MAX_TEXT]
            if "\r" in text:  # a line break, as every reader reads it back (XlsxWriter
                # would write CR as _x000D_, which openpyxl does not decode)
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            known = (text, quoted)
            if len(self._text) > 500_000:  # unique values (serials) would fill it
                self._text.clear()
            self._text[value] = known
        return known

    def format(self, style: str, quoted: bool = False) -> Any:
        key = (style, quoted)
        fmt = self._formats.get(key)
        if fmt is None:
            props = dict(STYLES[style])
            if quoted:
                props["quote_prefix"] = True
            fmt = self._formats[key] = self._wb.add_format(props) if props else None
        return fmt

    def sheet(self, title: str, widths: Sequence[float] = ()) -> Sheet:
        ws = self._wb.add_worksheet(_ILLEGAL.sub("\ufffd", shown(title)))
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        return Sheet(self, ws)

    def close(self) -> None:
        self._wb.close()


# a plain row of text and whole numbers is written as XlsxWriter writes it, a row at a time
# (XlsxWriter's cell by cell costs about 15 us a cell: most of a large fleet's workbook);
# tests turn this off to compare the bytes with XlsxWriter's own
RAW_ROWS = True
# text that every step between the value and its cell leaves as it is: shorter than any
# key (``core.keys.SHORTEST_KEY``), starting with a letter or digit (no formula, nothing
# hidden before it), ending with no blank to preserve, and holding nothing XML or
# XlsxWriter escapes (& < > " ' _xHHHH_, controls): asset tags and serials, mostly
_PLAIN_TEXT = re.compile(f"[A-Za-z0-9](?:[A-Za-z0-9 ./#-]{{0,{SHORTEST_KEY - 3}}}[A-Za-z0-9./#-])?")
_LETTERS: list[str] = []  # column letters, by index


def _letters(n: int) -> list[str]:
    from xlsxwriter.utility import xl_col_to_name

    while len(_LETTERS) < n:
        _LETTERS.append(xl_col_to_name(len(_LETTERS)))
    return _LETTERS


class Sheet:
    """Rows appended in order, as ``Worksheet.append`` does in openpyxl."""

    def __init__(self, book: Book, ws: Any) -> None:
        self.book = book
        self._ws = ws
        self.rows = 0  # rows written so far; the next row's 0-based index
        self._cells: dict[str, str] = {}  # a text's cell XML after its reference
        self._columns_seen, self._columns_plain = -1, False

    def _cell(self, value: str) -> str | None:
        """A text's cell as XlsxWriter writes it in constant-memory mode (an inline string,
        control characters as _xHHHH_), after ``<c r="A1"``; None for what only XlsxWriter
        may write: rich text, an overlong string, and text with the quote prefix (its style's
        number is given when XlsxWriter writes its row, which may be later)."""
        from xlsxwriter.worksheet import _preserve_whitespace

        xml = self._cells.get(value)
        if xml is not None:
            return xml
        if _PLAIN_TEXT.fullmatch(value):  # most identifiers: written as they are
            xml = f' t="inlineStr"><is><t>{value}</t></is></c>'
            if len(self._cells) > 100_000:
                self._cells.clear()
            self._cells[value] = xml
            return xml
        ws = self._ws
        text, quoted = self.book.text(value)
        if quoted or len(text) > ws.xls_strmax // 2:
            return None
        text = ws._escape_control_characters(text)
        if text.startswith("<r>") and text.endswith("</r>"):
            return None
        keep = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        xml = f' t="inlineStr"><is><t{keep}>{ws._escape_data(text)}</t></is></c>'
        if len(self._cells) > 100_000:  # unique values (serials) would fill it
            self._cells.clear()
        self._cells[value] = xml
        return xml

    def _raw(self, values: Sequence[object]) -> bool:
        """``values`` as one plain row written whole, as XlsxWriter would write it (the row
        before it written first, the sheet's dimensions kept); False, with nothing written,
        where XlsxWriter must write it (a row already started, a row or column with a format
        of its own, a value that is neither text nor a whole number)."""
        ws, r = self._ws, self.rows
        if (
            not RAW_ROWS
            or not ws.constant_memory
            or not ws.previous_row < r < ws.xls_rowmax
            or len(values) > ws.xls_colmax
            or r in ws.row_info
            or r in ws.comments
            # a row tag with attributes: a height of its own, or Excel 2010's extension
            or ws.default_row_height != ws.original_row_height
            or ws.excel_version == 2010
            or not self._plain_columns()
        ):
            return False
        filled = False
        for v in values:
            if type(v) is str or type(v) is int:
                filled = filled or v != "" or type(v) is int
            elif v is not None:
                return False
        if not filled:
            return False
        ws._write_single_row(r)  # the row before, as XlsxWriter writes it at a new row
        letters, number, known = _letters(len(values)), r + 1, self._cells.get
        cells: list[str] = []
        first = last = -1
        for c, v in enumerate(values):
            if type(v) is str:
                if not v:
                    continue
                xml = known(v) or self._cell(v)
                if xml is None:  # XlsxWriter writes this row (the row before is written)
                    return False
                cells.append(f'<c r="{letters[c]}{number}"{xml}')
            elif type(v) is int:
                cells.append(f'<c r="{letters[c]}{number}"><v>{v:.16G}</v></c>')
            else:
                continue
            if first < 0:
                first = c
            last = c
        ws._check_dimensions(r, first)
        ws._check_dimensions(r, last)
        # what ``_write_row`` writes for a row of the default height, in one write
        ws.fh.write(f'<row r="{number}">{"".join(cells)}</row>')
        self.rows += 1
        return True

    def _plain_columns(self) -> bool:
        """Whether no column of the sheet has a format of its own (checked again when
        columns are set)."""
        info = self._ws.col_info
        if self._columns_seen != len(info):
            self._columns_plain = all(i.column_format is None for i in info.values())
            self._columns_seen = len(info)
        return self._columns_plain

    def append(self, values: Sequence[object] = (), style: str = "plain") -> None:
        if style == "plain" and self._raw(values):
            return
        r = self.rows
        self.rows += 1
        write_string, text_of = self._ws.write_string, self.book.text
        fmt = self.book.format(style) if style != "plain" else None
        for c, v in enumerate(values):
            if type(v) is str:
                if v:
                    text, quoted = text_of(v)
                    write_string(r, c, text, self.book.format(style, True) if quoted else fmt)
            elif v is None:
                continue
            elif isinstance(v, bool):
                self._ws.write_boolean(r, c, v, fmt)
            elif isinstance(v, (int, float)):
                self._ws.write_number(r, c, v, fmt)
            else:
                text, quoted = text_of(str(v))
                write_string(r, c, text, self.book.format(style, True) if quoted else fmt)

    def pair(self, label: str, value: object) -> None:
        """A bold label and its value, plain, on one row: the label is written, then the
        value on the same row (XlsxWriter keeps the current row open until a later one is
        written; None leaves the label's cell as it is)."""
        self.append([label], "bold")
        self.rows -= 1
        self.append([None, value])

    def blank(self) -> None:
        self.rows += 1

    def freeze_header(self) -> None:
        self._ws.freeze_panes(1, 0)

    def autofilter(self, columns: int) -> None:
        """Filter buttons on the first row over every row written."""
        self._ws.autofilter(0, 0, max(self.rows - 1, 0), columns - 1)

    def for_print(self, title_row: int | None = None, header: str = "", a4: bool = False) -> None:
        """Landscape, fitted to the page width, gridlines printed, "Page N of M" at the foot;
        ``header`` on top of each page, row ``title_row`` (0-based) repeated on each."""
        ws = self._ws
        header = _ILLEGAL.sub("\ufffd", shown(header))
        ws.set_landscape()
        if a4:
            ws.set_paper(9)  # Letter printers scale to fit width
        ws.fit_to_pages(1, 0)
        ws.hide_gridlines(0)  # shown on screen and printed
        if header:
            ws.set_header("&L" + header.replace("&", "&&"))
        ws.set_footer("&CPage &P of &N")
        if title_row is not None:
            ws.repeat_rows(title_row)
