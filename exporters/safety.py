"""The one layer every text the tool writes passes through, whatever the file: formula
neutralising (OWASP "CSV injection", CWE-1236) and product keys masked, by their shape
wherever they sit and by column in the key column, unless the user asked to see them
(``--show-keys``). The corrected inventory (and a generated sample inventory) is the user's
own data and keeps every value; every other file is written through here:

- ``cell``: a spreadsheet cell written as text (a CSV field, a Markdown table cell): keys
  masked, then an apostrophe before text a spreadsheet would evaluate (``neutralise``).
  ``CsvTable`` is the only CSV writer of the exporters; it takes rows only through ``cell``.
- ``xlsx_text``: a workbook cell (``exporters.xlsx_cells.Book``, the only workbook writer):
  keys masked, and whether the cell needs the quote-prefix style (the text stays exact).
- ``printed``: running text (the check report on a terminal, a packet's paragraphs, the
  PDF, a page header): keys masked, controls shown as pictures.
- ``shown`` / ``shown_json``: keys masked in a text / every string of a JSON value.
- ``shown_value``: a value of a named field: the key column's values masked whole.

``tests/test_writer_layer.py`` fails when an exporter writes a CSV row or a worksheet cell
any other way.

A key is recognised in every spelling: five groups of five letters and digits, separated by
any dash, space, underscore or dot (fullwidth and other lookalikes too, several together,
" - "), or none at all; in either case, in fullwidth or other compatibility letters
(NFKC), with Cyrillic or Greek lookalike capitals, with zero-width characters anywhere.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from coa_audit.core.keys import FILLERS, holds_key, mask_keys
from coa_audit.core.text import safe_text

__all__ = [
    "FORMULA_TRIGGERS",
    "CsvTable",
    "cell",
    "holds_key",
    "is_dangerous",
    "keys_shown",
    "mask_keys",
    "neutralise",
    "printed",
    "shown",
    "shown_column",
    "shown_json",
    "shown_value",
    "xlsx_text",
]

_SHOW_KEYS: ContextVar[bool] = ContextVar("show_keys", default=False)


@contextlib.contextmanager
def keys_shown(show: bool) -> Iterator[None]:
    """Within this block reports show full product keys when ``show``."""
    token = _SHOW_KEYS.set(show)
    try:
        yield
    finally:
        _SHOW_KEYS.reset(token)


def shown(text: str) -> str:
    """``text`` as a report may show it: product keys masked unless asked for."""
    return text if _SHOW_KEYS.get() else mask_keys(text)


def shown_column(values: list[str]) -> list[str]:
    """A whole column as ``shown`` gives it, in one pass when it holds no key at all."""
    if _SHOW_KEYS.get() or not holds_key(values):
        return values
    return [mask_keys(v) for v in values]


# the fields whose every value is a key (or what is left of one): masked whole
KEY_FIELDS = frozenset({"coa_key"})
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)


def shown_value(field: str | None, text: str) -> str:
    """A value of ``field`` as a report may show it: in the key column masked whole (a
    key typed short or long is a key all the same: only its last five letters show),
    elsewhere as ``shown``."""
    if _SHOW_KEYS.get():
        return text
    if field not in KEY_FIELDS:
        return mask_keys(text)
    letters = [m.start() for m in _ALNUM.finditer(text)]
    hide = set(letters[:-5]) if len(letters) > 5 else set(letters)
    return "".join("X" if i in hide else ch for i, ch in enumerate(text))


def shown_json(value: Any) -> Any:
    """Every string of a JSON value (keys of objects too) as ``shown`` gives it."""
    if _SHOW_KEYS.get():
        return value
    if isinstance(value, str):
        return mask_keys(value)
    if isinstance(value, dict):
        return {shown_json(k): shown_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_json(v) for v in value]
    return value


# -- formulas --------------------------------------------------------------------------------

# What a spreadsheet takes as the start of a formula (or as the rest of a line): = + - @,
# tab, CR, LF, NUL, and their fullwidth, small and lookalike forms (Excel reads fullwidth
# ＝ as = in East Asian locales)
FORMULA_TRIGGERS = frozenset(
    "=+-@\t\r\n\x00\x0b\x0c"
    "\uff1d\uff0b\uff0d\uff20"  # fullwidth ＝ ＋ － ＠
    "\ufe66\ufe62\ufe63\ufe6b"  # small ﹦ ﹢ ﹣ ﹫
    "\u2212\u2796\u2795\u2797\u229c\u2a74\u2a75"  # minus sign, heavy plus and minus, ⊜ ⩴ ⩵
    "\u207a\u207b\u207c\u208a\u208b\u208c"  # super- and subscript + - =
)
# a trigger after leading blanks or characters that draw nothing; a DDE call at the start
# (cmd|' /C calc'!A0), with or without its = sign
_LEAD = f"[\\s{FILLERS}]*"
_HIDDEN_TRIGGER = re.compile(f"{_LEAD}[{re.escape(''.join(sorted(FORMULA_TRIGGERS)))}]")
_DDE = re.compile(f"{_LEAD}[\\w.]+\\|")


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` as a formula (or a DDE call)."""
    if not text:
        return False
    if text[0] in FORMULA_TRIGGERS:
        return True
    if not text[0].isalnum() and _HIDDEN_TRIGGER.match(text):
        return True
    return "|" in text and _DDE.match(text) is not None


QUOTE = "'"


def neutralise(text: str) -> str:
    """An apostrophe before text a spreadsheet would evaluate, so that it shows the text;
    also before text that starts with the apostrophe itself, so that a reader takes off
    exactly one, always (``importers.walk_file`` does)."""
    return QUOTE + text if text.startswith(QUOTE) or is_dangerous(text) else text


def cell(value: object) -> str:
    """A cell written as text (CSV, a Markdown table): keys masked, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return neutralise(shown(str(value)))


def xlsx_text(text: str) -> tuple[str, bool]:
    """A workbook cell's text (keys masked) and whether it takes the quote-prefix style
    (the text stays exactly as it is; Excel shows it as text typed after an apostrophe)."""
    text = shown(text)
    return text, is_dangerous(text)


def printed(text: str) -> str:
    """Running text (a terminal, a page, a header): keys masked, controls shown."""
    return safe_text(shown(text))


class CsvTable:
    """The exporters' one CSV writer (RFC 4180, CRLF: a CR in a value gets quoted): every
    cell goes through ``cell``, then ``clean`` (say, ``core.text.safe_field``: no terminal
    escape in a report meant for pipes)."""

    def __init__(
        self, header: Sequence[str] = (), clean: Callable[[str], str] | None = None
    ) -> None:
        self._out = io.StringIO()
        self._w = csv.writer(self._out, lineterminator="\r\n")
        self._clean = clean
        # cells as written, by the value given: most repeat (codes, statuses, messages)
        self._cells: dict[str, str] = {}
        if header:
            self.row(header)

    def _cell(self, value: str) -> str:
        got = self._cells.get(value)
        if got is None:
            got = cell(value)
            if self._clean is not None:
                got = self._clean(got)
            if len(self._cells) > 200_000:  # unique values (serials) would fill it
                self._cells.clear()
            self._cells[value] = got
        return got

    def row(self, values: Iterable[object]) -> None:
        text = self._cell
        self._w.writerow(
            [
                text(v)
                if type(v) is str
                else ""
                if v is None
                else str(v)
                if type(v) is int
                else text(str(v))
                for v in values
            ]
        )

    def text(self) -> str:
        return self._out.getvalue()
