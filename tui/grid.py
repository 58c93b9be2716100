"""The inventory grid: Textual's line API over the columnar store.

Only visible lines are rendered, straight from the inventory's column lists (with the edit
overlay), through a view (an array of row indices) for filter and sort. Cost per frame is
the number of visible lines, whatever the fleet size. Every cell is plain text: built into
Segments from ``safe_text``, never parsed as markup.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NewType

from rich.cells import cell_len, set_cell_size
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from coa_audit.core.audit import Audit, mask_key, mask_keys
from coa_audit.core.events import seen as was_seen
from coa_audit.core.model import FIELD_LABELS, ColumnIndex, RowIndex
from coa_audit.core.status import PROBLEM_LEVELS, Status
from coa_audit.core.text import safe_text

# a row's place in the grid's current view (filtered, sorted), not the device's index
ViewPos = NewType("ViewPos", int)

__all__ = ["COLLECTION_FILTERS", "FILTERS", "Column", "Grid", "ViewPos"]

FILTERS = ("all", "problems", "blocked", "review", "eligible", "not-pc", "not-seen")
# with evidence collected from the PCs (--evidence): the two lists a register cannot give
COLLECTION_FILTERS = ("not-collected", "not-in-register")

_PROBLEM = re.compile(b"[" + bytes(PROBLEM_LEVELS) + b"]")  # a problem row's status byte
MAX_COL_WIDTH = 28  # a fitted column: one long value never starves the others at 80 columns
FIT_MAX_WIDTH = 80  # fitted on request (the fit key): every sampled value whole
TITLE_ROOM = 14  # a long heading is cut rather than widen its column
KEY_WIDTH = 29  # a whole 5x5 product key, masked or not
SAMPLE_ROWS = 400  # values measured per column: the first rows, then evenly through the file
WIDTH_STEP = 2  # what < and > take off or add
# identity columns: frozen at the left beside Row and Status unless the user unfreezes them
IDENTITY_FIELDS = ("asset_tag", "serial_number", "hostname")
# What an auditor reads first: identity, then the licence evidence, then the rest.
DISPLAY_ORDER = (
    "asset_tag",
    "serial_number",
    "hostname",
    "coa_present",
    "coa_edition",
    "oa3_edition",  # the register's firmware key description, beside the label's edition
    "coa_key",
    "target_image",
    "licensed_product",
    "current_os",
    "manufacturer",
    "model",
    "location",
    "asset_status",
    "deleted_on",
    "notes",
    "sighted",  # the walk's columns (session): marks, by whom and when
    "label",
    "attested",
    "removed",
)
STATUS_WIDTH = 9  # "taken out"


@dataclass(frozen=True)
class Column:
    index: ColumnIndex
    title: str
    field: str | None
    width: int
    frozen: bool = False  # stays at the left while the other columns scroll


def _sample(n: int) -> list[int]:
    """Rows whose values fit a column: the first ones (on screen at once), then rows spread
    evenly through the file (never all of a million)."""
    head = min(n, SAMPLE_ROWS // 4)
    step = max(1, n // (SAMPLE_ROWS - head)) if n > head else 1
    return sorted(set(range(head)) | set(range(head, n, step)))


def _fitted(lengths: list[int], title: str, whole: bool) -> int:
    """A column's width from its sampled values' lengths: the 90th percentile (one long
    value does not widen it) within MAX_COL_WIDTH, or (``whole``) the longest, within
    FIT_MAX_WIDTH."""
    lengths = sorted(lengths)
    if not lengths:
        body = 0
    elif whole:
        body = lengths[-1]
    else:
        body = lengths[min(len(lengths) - 1, len(lengths) * 9 // 10)]
    head = _cells(safe_text(title)) if whole else min(TITLE_ROOM, _cells(safe_text(title)))
    return max(4, min(FIT_MAX_WIDTH if whole else MAX_COL_WIDTH, max(body, head)))


def _cell(text: str, width: int, marker: str = "") -> str:
    """``text`` in ``width`` cells; a ``marker`` (the edit star) always shows at its end."""
    text = safe_text(text)
    room = width - len(marker)
    if room <= 0:  # a sliver of a column: the star wins it
        return marker[:width].ljust(width)
    if text.isascii():  # most cells: a character is a cell
        if len(text) > room:
            text = text[: room - 1] + "…"
        return (text + marker).ljust(width)
    # wide letters (Chinese, Japanese, Korean) take two cells, combining marks none
    if cell_len(text) > room:
        text = set_cell_size(text, room - 1) + "…"
    return text + marker + " " * max(0, width - cell_len(text) - len(marker))


def _masked_order(values: Sequence[str]) -> Callable[[int], str]:
    """A sort key giving each row its key cell as the grid shows it masked (each distinct
    value masked once)."""
    masked: dict[str, str] = {}

    def key(row: int) -> str:
        value = values[row]
        shown = masked.get(value)
        if shown is None:
            shown = masked[value] = mask_key(value) if value else value
        return shown

    return key


def _cells(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    return len(text) if text.isascii() else cell_len(text)


# Rules that depend on the terminal (set on the App): not scoped to the widget's own CSS.
TERMINAL_CSS = """
/* 16 colours (TERM=vt100, xterm): the terminal's own red and yellow, never a nearest match
   that turns review red and blocked magenta */
App.-ansi16 Grid > .grid--error { background: ansi_red; color: ansi_bright_white; }
App.-ansi16 Grid > .grid--warning { background: ansi_yellow; color: ansi_black; }
App.-ansi16 Grid > .grid--edited { color: ansi_bright_yellow; text-style: bold underline; }
App.-ansi16 Grid > .grid--cursor { background: ansi_blue; color: ansi_bright_white; }
App.-ansi16:light Grid { background: ansi_bright_white; color: ansi_black; }
App.-ansi16:light Grid > .grid--header { background: ansi_white; color: ansi_black; }
App.-ansi16:light Grid > .grid--muted { color: ansi_bright_black; }
App.-ansi16:light Grid > .grid--edited { color: ansi_blue; }
/* a light theme's green is too pale for the word "ok" on its grid: the theme's own text */
App:light Grid > .grid--status-ok { color: $foreground; }
/* no colour: the status word says it all; blocked rows are bold too, the cursor reversed */
App:nocolor Grid > .grid--error { text-style: bold; }
App:nocolor Grid > .grid--edited { text-style: bold underline; }
App:nocolor Grid > .grid--cursor { text-style: bold reverse; }
"""
# the colour systems in which the grid checks its own colours as the terminal shows them (a
# 256-colour one gives each its nearest); 16 colours take the terminal's own (TERMINAL_CSS),
# NO_COLOR none at all
_CHECKED = {"truecolor": ColorSystem.TRUECOLOR, "256": ColorSystem.EIGHT_BIT}


def _luminance(colour: Color) -> float:
    """WCAG 2 relative luminance."""

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: Color, bg: Color) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# the tinted rows, blocked then review: each must differ from the plain rows and the other
_TINTED = ("grid--error", "grid--warning")


@lru_cache(maxsize=64)
def distinct_tints(
    plain: Color, tints: tuple[Color, ...], system: ColorSystem
) -> tuple[Color, ...]:
    """``tints`` as a terminal of ``system`` can tell them apart: each moved further from
    ``plain`` (on the line from ``plain`` through it) until its nearest colour there is
    ``TINT_DISTANCE`` from ``plain``'s and from the tints' before it. A theme's muted red
    and yellow, a fifth of the way from a dark background, land on greys of the 256-colour
    ramp a step from the background's."""
    taken = [plain.downgrade(system).get_truecolor()]
    base = plain.get_truecolor()
    out = []
    for tint in tints:
        chosen, rgb = tint, tint.get_truecolor()
        for k in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0):
            step = [
                max(0, min(255, round(p + k * (t - p)))) for p, t in zip(base, rgb, strict=True)
            ]
            candidate = Color.from_rgb(*step)
            shown = candidate.downgrade(system).get_truecolor()
            if all(colour_distance(shown, other) >= TINT_DISTANCE for other in taken):
                chosen = candidate
                break
        taken.append(chosen.downgrade(system).get_truecolor())
        out.append(chosen)
    return tuple(out)


# how far apart (RGB) two row tints must be to be told apart at a glance: over three steps
# of the 256-colour grey ramp (each about 10); one step, the trap, is not
TINT_DISTANCE = 32.0


def colour_distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


@lru_cache(maxsize=256)
def legible(style: Style, base: Style, system: ColorSystem, least: float) -> Style:
    """``style`` as a terminal of ``system`` shows it (each colour its nearest), with the
    text colour given up for the grid's own where that nearest pair reads worse than
    ``least`` (WCAG) or than the grid's own text does: a theme's green that is readable in
    truecolor can land on a 256-colour green that is not."""
    fg, bg = style.color or base.color, style.bgcolor or base.bgcolor
    if fg is None or bg is None or base.color is None or base.bgcolor is None:
        return style
    own = contrast(base.color.downgrade(system), base.bgcolor.downgrade(system))
    if contrast(fg.downgrade(system), bg.downgrade(system)) >= min(own, least):
        return style
    text = base.color  # the theme's own text: on its own tint, or any other
    if contrast(text.downgrade(system), bg.downgrade(system)) < min(own, least):
        text = Color.from_rgb(0, 0, 0) if _luminance(bg) > 0.18 else Color.from_rgb(255, 255, 255)
    return style + Style(color=text)


# the row of a status takes its tone's colours (core.status names the tone, the CSS above
# and Grid's own colour it per theme): the one mapping from status to colour
_TONE_CLASS = {f"grid--{s.word}": f"grid--{s.tone}" for s in Status}


class Grid(ScrollView, can_focus=True):
    """Row numbers and status fixed at the left; mapped fields, then the other columns."""

    COMPONENT_CLASSES = {
        "grid--header",
        "grid--rownum",
        "grid--cursor",
        "grid--cursor-row",
        "grid--error",
        "grid--warning",
        "grid--success",
        "grid--muted",
        "grid--edited",
        "grid--status-ok",
        "grid--selected",
    }
    DEFAULT_CSS = """
    Grid {
        background: $surface;
    }
    Grid > .grid--header { text-style: bold; background: $panel; color: $text; }
    Grid > .grid--rownum { color: $foreground-muted; }
    Grid > .grid--cursor { background: $accent; color: $text; text-style: bold; }
    Grid > .grid--cursor-row { text-style: bold; }
    Grid > .grid--error { background: $error-muted; color: auto 90%; }
    Grid > .grid--warning { background: $warning-muted; color: auto 90%; }
    Grid > .grid--success { color: $text; }
    Grid > .grid--muted { color: $text-muted; }
    Grid > .grid--edited { text-style: italic underline; color: $text-accent; }
    Grid > .grid--status-ok { color: $text-success; }
    Grid > .grid--selected { text-style: bold reverse; }
    """

    BINDINGS = [
        Binding("up,k", "move(-1, 0)", "Up", show=False, id="grid.up"),
        Binding("down,j", "move(1, 0)", "Down", show=False, id="grid.down"),
        Binding("left,h", "move(0, -1)", "Left", show=False, id="grid.left"),
        Binding("right,l", "move(0, 1)", "Right", show=False, id="grid.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="grid.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="grid.page_down"),
        Binding("home", "first_column", "First column", show=False, id="grid.first_column"),
        Binding("end", "last_column", "Last column", show=False, id="grid.last_column"),
        Binding("g", "first_row", "First row", show=False, id="grid.first_row"),
        Binding("G", "last_row", "Last row", show=False, id="grid.last_row"),
        Binding(
            "less_than_sign",
            "resize(-1)",
            "Narrower",
            show=False,
            tooltip="Make this column narrower",
            id="grid.narrow",
        ),
        Binding(
            "greater_than_sign",
            "resize(1)",
            "Wider",
            show=False,
            tooltip="Make this column wider",
            id="grid.widen",
        ),
        Binding(
            "F",
            "fit_column",
            "Fit column",
            show=False,
            tooltip="Fit this column to its values (again: back to the usual width)",
            id="grid.fit",
        ),
        Binding(
            "H",
            "hide_column",
            "Hide column",
            show=False,
            tooltip="Hide this column (* shows every hidden column again)",
            id="grid.hide",
        ),
        Binding(
            "asterisk",
            "show_columns",
            "Show hidden columns",
            show=False,
            tooltip="Show every hidden column again",
            id="grid.show_all",
        ),
        Binding(
            "P",
            "freeze_column",
            "Freeze column",
            show=False,
            tooltip="Freeze this column at the left beside Row and Status, or unfreeze it",
            id="grid.freeze",
        ),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)
    cursor_col: reactive[int] = reactive(0, always_update=True, repaint=False)
    # a filter the screen sets on top of the status filter (rows whose cell, as shown,
    # holds a value): given the view in order, gives the rows to keep in the same order
    view_filter: Callable[[Sequence[int]], Sequence[int]] | None = None

    class CursorMoved(Message):
        def __init__(self, row: int | None) -> None:
            self.row = row
            super().__init__()

    def __init__(self, audit: Audit, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.audit = audit
        self._reveal = False
        self.filter = "all"
        self.sort: tuple[int, bool] | None = None  # (column position, descending)
        self._sort_col: ColumnIndex | None = None  # the sorted column, by its source index
        # the user's column choices, by source column: they survive loading and remapping
        self.hidden: set[ColumnIndex] = set()
        self.widths: dict[ColumnIndex, int] = {}
        self.fitted: set[ColumnIndex] = set()  # fitted whole by the fit key
        self._frozen: set[ColumnIndex] | None = None  # None: the identity columns mapped
        self._pane = 0  # cells at the left that never scroll: row, status, frozen columns
        self._order: Sequence[int] | None = None  # sorted row indices, None = source order
        self._view: Sequence[int] = range(len(audit.inv))
        self.columns: list[Column] = []
        self.selected: set[RowIndex] = set()  # devices chosen for a bulk action
        self.rebuild_columns()

    # -- data ------------------------------------------------------------------------------
    def adopt(self, audit: Audit) -> None:
        """Show ``audit`` (the same file with more rows read, or read whole) in place of the
        one shown: the rows shown so far keep their place, so cursor, filter, sort and
        selection stay as they were."""
        row = self.current_row()
        self.audit = audit
        self.rebuild_columns()
        if self.sort is not None:
            position, descending = self.sort
            self.set_sort(position, descending)  # sorts the new rows too, keeps the cursor
        else:
            self._apply_view(keep=row)

    @property
    def inv(self):  # -> Inventory
        return self.audit.inv

    @property
    def reveal_keys(self) -> bool:
        """Whether product keys show in full (v). A sort by the key column follows: masked,
        it orders the masked text shown, never the hidden keys."""
        return self._reveal

    @reveal_keys.setter
    def reveal_keys(self, reveal: bool) -> None:
        changed = reveal != self._reveal
        self._reveal = reveal
        if changed and self.sort is not None and self.columns[self.sort[0]].field == "coa_key":
            self.set_sort(*self.sort)

    @property
    def view(self) -> Sequence[int]:
        return self._view

    def rebuild_columns(self) -> None:
        """Mapped fields first (canonical order), then unmapped source columns."""
        inv = self.inv
        mapped = [(f, inv.mapping[f]) for f in DISPLAY_ORDER if f in inv.mapping]
        used = {c for _, c in mapped}
        order: list[tuple[str, str | None, int]] = [(FIELD_LABELS[f], f, c) for f, c in mapped]
        order += [(inv.headers[c], None, c) for c in range(inv.width) if c not in used]
        frozen = self._frozen
        if frozen is None:
            frozen = {inv.mapping[f] for f in IDENTITY_FIELDS if f in inv.mapping}
        here = self.current_column()
        sample = _sample(len(inv))
        cols = []
        for title, fname, c in order:
            if c in self.hidden:
                continue
            width = self.widths.get(ColumnIndex(c))
            if width is None:
                width = KEY_WIDTH if fname == "coa_key" else self._fit(c, title, sample)
            cols.append(Column(ColumnIndex(c), title, fname, width, c in frozen))
        # the frozen columns first: they sit at the left, the others scroll
        self.columns = [c for c in cols if c.frozen] + [c for c in cols if not c.frozen]
        self._place(here)
        # the row number, and a column before it for the selection mark
        self._left = max(5, len(str(inv.row_numbers[-1] if len(inv) else 1)) + 2)
        self._update_size()

    def _fit(self, c: int, title: str, sample: Sequence[int]) -> int:
        value = self.inv.value
        lengths = [_cells(safe_text(value(r, c))) for r in sample]
        return _fitted(lengths, title, ColumnIndex(c) in self.fitted)

    def _place(self, here: Column | None) -> None:
        """After the columns changed: the cursor and the sort on the same source columns."""
        where = {c.index: i for i, c in enumerate(self.columns)}
        if here is not None and here.index in where:
            self.cursor_col = where[here.index]
        elif self.columns:
            self.cursor_col = min(self.cursor_col, len(self.columns) - 1)
        if self.sort is not None:
            at = where.get(self._sort_col) if self._sort_col is not None else None
            if at is None:  # its column is gone (remapped): the file's order
                self.sort, self._order, self._sort_col = None, None, None
            else:
                self.sort = (at, self.sort[1])

    def _update_size(self) -> None:
        self._pane = (
            self._left + STATUS_WIDTH + 1 + sum(c.width + 1 for c in self.columns if c.frozen)
        )
        width = self._pane + sum(c.width + 1 for c in self.columns if not c.frozen)
        self.virtual_size = Size(width, len(self._view) + 1)

    def current_row(self) -> RowIndex | None:
        """The inventory row index under the cursor, or None when the view is empty."""
        if not self._view:
            return None
        return RowIndex(self._view[min(self.cursor_row, len(self._view) - 1)])

    def current_column(self) -> Column | None:
        return self.columns[self.cursor_col] if self.columns else None

    def set_filter(self, name: str) -> None:
        row = self.current_row()
        self.filter = name
        self._apply_view(keep=row)

    def set_sort(self, position: int | None, descending: bool = False) -> None:
        row = self.current_row()
        if position is None:
            self.sort, self._order, self._sort_col = None, None, None
        else:
            column = self.columns[position]
            values = self.inv.column_values(column.index)
            self.sort, self._sort_col = (position, descending), column.index
            key: Callable[[int], str] = values.__getitem__
            if column.field == "coa_key" and not self._reveal:
                key = _masked_order(values)  # the text shown: the hidden keys' order never shows
            self._order = array("I", sorted(range(len(values)), key=key, reverse=descending))
        self._apply_view(keep=row)

    def _apply_view(self, keep: RowIndex | None = None) -> None:
        status = self.audit.status_view
        base: Sequence[int] = self._order if self._order is not None else range(len(self.inv))
        f = self.filter
        if f == "all":
            view: Sequence[int] = base
        elif f == "not-seen":  # the walk's devices still to see: in scope, nobody saw them
            inv = self.inv
            seen = inv.column_values(inv.column("sighted"))
            label = inv.column_values(inv.column("label"))
            out = Status.OUT_OF_SCOPE
            view = array(
                "I", [r for r in base if status[r] != out and not was_seen(seen[r], label[r])]
            )
        elif f in COLLECTION_FILTERS:
            collection = self.inv.collection
            rows = set(collection.not_collected) if collection and f == "not-collected" else set()
            view = array("I", [r for r in base if r in rows])  # PCs not in the register: a list
        else:
            want = {
                "problems": PROBLEM_LEVELS,
                "blocked": (Status.BLOCKED,),
                "review": (Status.REVIEW,),
                "eligible": (Status.ELIGIBLE,),
                "not-pc": (Status.OUT_OF_SCOPE,),
            }[f]
            if len(want) == 1:
                w = want[0]
                view = array("I", [r for r in base if status[r] == w])
            else:
                view = array("I", [r for r in base if status[r] in want])
        if self.view_filter is not None:  # the screen's filter on a column's value, after
            view = self.view_filter(view)  # the status filter: the two combine
        self._view = view
        self._update_size()
        pos = self.position_of(keep) if keep is not None and view else None
        self.move_to(pos or 0, self.cursor_col)
        self.refresh()

    def position_of(self, row: RowIndex) -> ViewPos | None:
        """Where inventory row ``row`` sits in the current view, or None."""
        view = self._view
        if isinstance(view, range):
            return ViewPos(row) if 0 <= row < len(view) else None
        if self._order is None:  # filtered source order: view is sorted
            import bisect

            i = bisect.bisect_left(view, row)
            return ViewPos(i) if i < len(view) and view[i] == row else None
        try:
            return ViewPos(view.index(row))
        except ValueError:
            return None

    # -- navigation ------------------------------------------------------------------------
    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def move_to(self, row: int, col: int) -> None:
        n = len(self._view)
        row = max(0, min(row, n - 1)) if n else 0
        col = max(0, min(col, len(self.columns) - 1)) if self.columns else 0
        old_row = self.cursor_row
        self.cursor_row, self.cursor_col = row, col
        self._scroll_to_cursor()
        self.refresh_rows(old_row, row)
        self.post_message(self.CursorMoved(self.current_row()))

    def refresh_rows(self, *positions: int) -> None:
        top = round(self.scroll_offset.y)
        for p in positions:
            y = p - top + 1
            if 1 <= y < self.size.height:
                self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_offset.y)
        height = self.page_height
        y = top
        if self.cursor_row < top:
            y = self.cursor_row
        elif self.cursor_row >= top + height:
            y = self.cursor_row - height + 1
        x = round(self.scroll_offset.x)
        if self.columns and not self.columns[self.cursor_col].frozen:  # a frozen one shows
            start = sum(c.width + 1 for c in self.columns[: self.cursor_col] if not c.frozen)
            end = start + self.columns[self.cursor_col].width + 1
            avail = max(1, self.scrollable_content_region.width - self._pane)
            if start < x:
                x = start
            elif end > x + avail:
                x = end - avail
        if (x, y) != (round(self.scroll_offset.x), top):
            self.scroll_to(x, y, animate=False, immediate=True)
            self.refresh()

    def action_move(self, drow: int, dcol: int) -> None:
        self.move_to(self.cursor_row + drow, self.cursor_col + dcol)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor_row + direction * self.page_height, self.cursor_col)

    def action_first_row(self) -> None:
        self.move_to(0, self.cursor_col)

    def action_last_row(self) -> None:
        self.move_to(len(self._view) - 1, self.cursor_col)

    def action_first_column(self) -> None:
        self.move_to(self.cursor_row, 0)
        if round(self.scroll_offset.x):  # a frozen first column: the others back to the start
            self.scroll_to(0, round(self.scroll_offset.y), animate=False, immediate=True)
            self.refresh()

    def action_last_column(self) -> None:
        self.move_to(self.cursor_row, len(self.columns) - 1)

    # -- columns: width, hidden, frozen (kept by source column) ----------------------------
    def _columns_changed(self) -> None:
        self.rebuild_columns()
        self.move_to(self.cursor_row, self.cursor_col)
        self.refresh()

    def action_resize(self, direction: int) -> None:
        """The current column narrower (-1) or wider (1)."""
        col = self.current_column()
        if col is None:
            return
        width = max(1, min(FIT_MAX_WIDTH * 2, col.width + direction * WIDTH_STEP))
        self.widths[col.index] = width
        self._columns_changed()

    def action_fit_column(self) -> None:
        """The current column fitted to its sampled values whole (within FIT_MAX_WIDTH);
        again, or after < or >: back to the usual fitted width."""
        col = self.current_column()
        if col is None:
            return
        if col.index in self.fitted and col.index not in self.widths:
            self.fitted.discard(col.index)
        else:
            self.fitted.add(col.index)
        self.widths.pop(col.index, None)
        self._columns_changed()

    def action_hide_column(self) -> None:
        col = self.current_column()
        if col is None:
            return
        if len(self.columns) == 1:
            self.notify("The last column shown stays.", timeout=3)
            return
        if self.sort is not None and self._sort_col == col.index:
            self.notify(
                "The rows are sorted by this column: o (the file's order) first, then hide it.",
                severity="warning",
                timeout=5,
            )
            return
        self.hidden.add(col.index)
        self._columns_changed()
        self.notify(f"{len(self.hidden)} hidden (* shows them again).", timeout=3)

    def action_show_columns(self) -> None:
        if not self.hidden:
            self.notify("No column is hidden.", timeout=2)
            return
        self.hidden.clear()
        self._columns_changed()

    def action_freeze_column(self) -> None:
        """Freeze the current column at the left (it stays while the others scroll), or
        unfreeze it."""
        col = self.current_column()
        if col is None:
            return
        frozen = {c.index for c in self.columns if c.frozen} | {
            c for c in (self._frozen or set()) if c in self.hidden
        }
        frozen ^= {col.index}
        self._frozen = frozen
        self._columns_changed()

    # -- mouse -----------------------------------------------------------------------------
    def column_at(self, x: int) -> int | None:
        """The position in ``columns`` of the column drawn at ``x`` cells from the grid's
        left edge (None: the row number and status, or past the last column)."""
        at = self._left + STATUS_WIDTH + 1
        if x < at:
            return None
        for i, c in enumerate(self.columns):
            if c.frozen:
                if x < at + c.width + 1:
                    return i
                at += c.width + 1
        x = x - self._pane + round(self.scroll_offset.x)
        at = 0
        for i, c in enumerate(self.columns):
            if not c.frozen:
                if x < at + c.width + 1:
                    return i
                at += c.width + 1
        return None

    async def on_click(self, event: events.Click) -> None:
        """A click on a cell puts the cursor there; on a heading it sorts by that column
        (again: the other way)."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        self.focus()
        col = self.column_at(offset.x)
        if offset.y == 0:
            if col is None:
                return
            descending = self.sort is not None and self.sort == (col, False)
            self.move_to(self.cursor_row, col)
            if hasattr(self.screen, "action_sort"):  # the screen says the sort on its line
                await self.screen.run_action(f"sort({descending})")
            else:
                self.set_sort(col, descending)
            return
        pos = round(self.scroll_offset.y) + offset.y - 1
        if pos < len(self._view):
            self.move_to(pos, self.cursor_col if col is None else col)

    def next_problem(self, direction: int) -> bool:
        """Move to the next (1) or previous (-1) device with findings. False if none."""
        status = self.audit.status_view
        view = self._view
        start = self.cursor_row + direction
        if isinstance(view, range) and direction > 0:
            m = _PROBLEM.search(status, start)
            if m:
                self.move_to(m.start(), self._finding_column(view[m.start()]))
                return True
            return False
        rng = range(start, len(view)) if direction > 0 else range(start, -1, -1)
        for pos in rng:
            if status[view[pos]] in PROBLEM_LEVELS:
                self.move_to(pos, self._finding_column(view[pos]))
                return True
        return False

    def _finding_column(self, row: int) -> int:
        """The grid column of the cell the device's first finding names (else the cursor's
        column): ] lands where the fix goes."""
        findings = self.audit.findings(row)
        col = self.inv.mapping.get(findings[0].field) if findings else None
        return next((i for i, c in enumerate(self.columns) if c.index == col), self.cursor_col)

    def search(self, needle: str, direction: int = 1, include_current: bool = False) -> bool:
        """Put the cursor on the next cell (row order of the view, then column order) whose
        text contains ``needle`` (case-insensitive). False when nothing matches."""
        needle = needle.lower()
        if not needle or not self._view:
            return False
        view = self._view
        n = len(view)
        cols = [self.inv.column_values(c.index) for c in self.columns]
        here = self.cursor_row
        # same row, after (or before) the cursor column
        row = view[here]
        span = (
            range(len(cols))
            if include_current
            else (
                range(self.cursor_col + 1, len(cols))
                if direction > 0
                else range(self.cursor_col - 1, -1, -1)
            )
        )
        for ci in span:
            if needle in cols[ci][row].lower():
                self.move_to(here, ci)
                return True
        chunk = 4096
        if direction > 0:
            starts = list(range(here + 1, n, chunk)) + list(range(0, here + 1, chunk))
        else:
            starts = list(range(here - 1, -1, -chunk)) + list(range(n - 1, here - 1, -chunk))
        for s in starts:
            if direction > 0:
                end = min(s + chunk, n if s > here else here + 1)
                positions = range(s, end)
            else:
                end = max(s - chunk, -1 if s < here else here - 1)
                positions = range(s, end, -1)
            rows = [view[p] for p in positions]
            hit_cols = [
                ci
                for ci, col in enumerate(cols)
                if needle in "\x00".join([col[r] for r in rows]).lower()
            ]
            if not hit_cols:
                continue
            for p, r in zip(positions, rows, strict=True):
                for ci in hit_cols:
                    if needle in cols[ci][r].lower():
                        self.move_to(p, ci)
                        return True
        return False

    def matching_positions(self, needle: str) -> list[int]:
        """The view positions of every row with a cell containing ``needle`` (as search
        finds them), in view order: search says "match 3 of 17 rows" from these."""
        needle = needle.lower()
        view = self._view
        if not needle or not view:
            return []
        cols = [self.inv.column_values(c.index) for c in self.columns]
        hits: list[int] = []
        chunk = 4096
        for s in range(0, len(view), chunk):
            rows = view[s : s + chunk]
            hit_cols = [
                col for col in cols if needle in "\x00".join([col[r] for r in rows]).lower()
            ]
            for p, r in enumerate(rows, s):
                if any(needle in col[r].lower() for col in hit_cols):
                    hits.append(p)
        return hits

    # -- rendering -------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        name = _TONE_CLASS.get(name, name)  # a status's row: its tone
        # overlays (cursor row, edited, row number) must not repaint the row's tint
        partial = name in ("grid--cursor-row", "grid--edited", "grid--rownum", "grid--status-ok")
        style = self.get_component_rich_style(name, partial=partial)
        system = _CHECKED.get(getattr(self.app, "colour_system", None) or "")
        if system is not None:  # as the terminal will show it, still told apart and readable
            if name in _TINTED:
                tints = [self.get_component_rich_style(n).bgcolor for n in _TINTED]
                plain = self.rich_style.bgcolor
                if plain is not None and None not in tints:
                    moved = distinct_tints(plain, tuple(tints), system)
                    style += Style(bgcolor=moved[_TINTED.index(name)])
            least = 3.0 if name == "grid--muted" else 4.5
            style = legible(style, self.rich_style, system, least)
        return style

    def _status_label(self, row: int, level: int) -> str:
        """The status as the grid shows it (the audit's words: "accepted", "taken out")."""
        return self.audit.shown_status(row)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            return self._header(width, round(scroll_x))
        pos = round(scroll_y) + y - 1
        if pos >= len(self._view):
            return Strip.blank(width, base)
        return self._row_line(pos, width, round(scroll_x))

    def _header(self, width: int, scroll_x: int) -> Strip:
        style = self._style("grid--header")
        left = [
            Segment("Row".rjust(self._left - 1) + " ", style),
            Segment("Status".ljust(STATUS_WIDTH) + " ", style),
        ]
        right = []
        start = 0
        for c in self.columns:
            if c.frozen:
                left.append(Segment(_cell(c.title, c.width) + " ", style))
                continue
            hidden = scroll_x - start  # a column half scrolled off: its title starts where
            if 0 < hidden < c.width:  # it comes into view, so no column loses its header
                text = " " * hidden + _cell(c.title, c.width - hidden)
            else:
                text = _cell(c.title, c.width)
            right.append(Segment(text + " ", style))
            start += c.width + 1
        return self._join(left, right, width, scroll_x, style)

    def _row_line(self, pos: int, width: int, scroll_x: int) -> Strip:
        inv = self.inv
        row = self._view[pos]
        level = self.audit.status_level(row)
        row_style = self._style(
            ("grid--eligible", "grid--review", "grid--blocked", "grid--out-of-scope")[level]
        )
        on_cursor = pos == self.cursor_row
        if on_cursor:
            row_style = row_style + self._style("grid--cursor-row")
        cursor_style = self._style("grid--cursor")
        edited_style = self._style("grid--edited")
        left = [
            Segment(
                "+" if row in self.selected else " ",
                row_style + self._style("grid--selected") if row in self.selected else row_style,
            ),
            Segment(
                str(inv.row_numbers[row]).rjust(self._left - 2) + " ",
                # 16 colours: the row's own colour (a muted grey is unreadable on yellow)
                row_style
                if self.app.has_class("-ansi16")
                else row_style + self._style("grid--rownum"),
            ),
            Segment(
                self._status_label(row, level).ljust(STATUS_WIDTH) + " ",
                row_style + self._style("grid--status-ok")
                if level == Status.ELIGIBLE
                else row_style,
            ),
        ]
        right: list[Segment] = []
        edits = inv.edits
        start = 0
        whole: tuple[str, Style, int] | None = None  # the cursor's cell, when cut
        for ci, col in enumerate(self.columns):
            value = inv.value(row, col.index)
            if value and not self.reveal_keys:  # keys masked wherever they sit
                value = mask_key(value) if col.field == "coa_key" else mask_keys(value)
            edited = bool(edits) and (row, col.index) in edits
            hidden = scroll_x - start  # a column half scrolled off shows its value from the
            if not col.frozen and 0 < hidden < col.width:  # start where it comes into view
                text = " " * hidden + _cell(value, col.width - hidden, "*" if edited else "")
            else:
                text = _cell(value, col.width, "*" if edited else "")
            style = row_style + edited_style if edited else row_style
            if on_cursor and ci == self.cursor_col:
                style = style + cursor_style
                if _cells(safe_text(value)) + edited > col.width:  # cut: shown whole below
                    whole = (safe_text(value) + ("*" if edited else ""), style, ci)
            out = left if col.frozen else right
            out.append(Segment(text, style))
            out.append(Segment(" ", row_style))
            if not col.frozen:
                start += col.width + 1
        strip = self._join(left, right, width, scroll_x, row_style)
        return strip if whole is None else self._whole(strip, *whole, width, scroll_x)

    def _cell_x(self, ci: int, scroll_x: int) -> int:
        """Where column ``ci`` starts on screen (negative: scrolled off to the left)."""
        x = self._left + STATUS_WIDTH + 1
        frozen = self.columns[ci].frozen
        if not frozen:
            x = self._pane - scroll_x
        for c in self.columns[:ci]:
            if c.frozen == frozen:
                x += c.width + 1
        return x

    def _whole(self, strip: Strip, text: str, style: Style, ci: int, width: int, sx: int) -> Strip:
        """The cursor's cell, cut in its column, drawn whole over the cells beside it (moved
        left as far as it needs, within the screen): a long value is read in place."""
        size = min(_cells(text), width)
        x = max(0, min(self._cell_x(ci, sx), width - size))
        cell = Strip([Segment(_cell(text, size), style)])
        return Strip.join([strip.crop(0, x), cell, strip.crop(x + size, width)])

    def _join(
        self, left: list[Segment], right: list[Segment], width: int, scroll_x: int, fill: Style
    ) -> Strip:
        left_strip = Strip(left).crop(0, width)  # frozen columns wider than the screen: cut
        lw = left_strip.cell_length
        right_strip = Strip(right).crop(scroll_x, scroll_x + max(0, width - lw))
        strip = Strip.join([left_strip, right_strip])
        return strip.extend_cell_length(width, fill).crop(0, width)

    def refresh_all(self) -> None:
        self._update_size()
        self.refresh()
