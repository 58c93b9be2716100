"""Cells for workbooks the tool writes (report, checklist): text stays text.

Text that a spreadsheet would evaluate (starting with = + - @, tab or CR) is written as an
explicit string cell with the quotePrefix style, the way Excel stores text typed after an
apostrophe: it shows the text and never runs it (OWASP CSV/formula injection, CWE-1236).
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from coa_audit.exporters.safety import DANGEROUS_PREFIXES, is_dangerous, shown

__all__ = ["BOLD", "cell", "row_cells"]

BOLD = Font(bold=True)


def cell(ws: Any, value: object, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", shown(value))[:32767]
        c = WriteOnlyCell(ws, value=text)
        c.data_type = "s"  # never a formula, whatever the text starts with
        if is_dangerous(text):
            c.quotePrefix = True
    else:
        c = WriteOnlyCell(ws, value=value)
    if font is not None:
        c.font = font
    return c


def row_cells(ws: Any, values: list[object], font: Font | None = None) -> list[object]:
    """A row for ``ws.append``. Plain text and numbers go as they are (a cell object costs
    about as much again to write); text a spreadsheet would evaluate, text with characters
    XML cannot hold, over-long text and styled cells go as ``cell``."""
    if font is not None:
        return [cell(ws, v, font) for v in values]
    values = [shown(v) if isinstance(v, str) else v for v in values]
    return [
        cell(ws, v)
        if isinstance(v, str)
        and (v.startswith(DANGEROUS_PREFIXES) or len(v) > 32767 or ILLEGAL_CHARACTERS_RE.search(v))
        else v
        for v in values
    ]
