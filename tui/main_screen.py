"""The main screen: the grid of devices, the status line, the findings of the device under
the cursor, and every key that reads or changes the inventory. It asks the session for
every rule (what may be edited, accepted, exported) and never decides one itself."""

from __future__ import annotations

import bisect
import functools
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label, Static

from coa_audit.core.audit import Audit, mask_key, mask_keys
from coa_audit.core.codes import code_info
from coa_audit.core.editions import suggestions
from coa_audit.core.errors import CoaError
from coa_audit.core.history import Edit
from coa_audit.core.model import ColumnIndex, RowIndex
from coa_audit.core.status import Status
from coa_audit.core.text import editable, from_editable, plural, safe_text
from coa_audit.session.mappings import save_mapping
from coa_audit.session.session import Session
from coa_audit.session.state import (
    load_author,
    save_author,
)
from coa_audit.tui.burst import ScanGuard
from coa_audit.tui.grid import COLLECTION_FILTERS, FILTERS, Column, Grid
from coa_audit.tui.screens import (
    BasisScreen,
    DetailScreen,
    HelpScreen,
    MappingScreen,
    PromptScreen,
    ScanResult,
    ScanScreen,
)

if TYPE_CHECKING:
    from coa_audit.tui.app import CoaAuditApp

__all__ = ["MainScreen", "after_load"]

# the colours of each status tone (core.status names the tone); without colour (NO_COLOR)
# each tone keeps a text style of its own, never a grey that vanishes on black
TONE_STYLES = {
    "error": "bold red",
    "warning": "bold yellow",
    "success": "bold green",
    "muted": "dim",
}
# a finding's mark and tone by severity: the mark says it without colour
_SEVERITY_MARKS = {
    "error": ("x ", "error"),
    "warning": ("! ", "warning"),
    "info": ("i ", "success"),
    "out-of-scope": ("- ", "muted"),
}
MONO_STYLES = {
    "error": "bold reverse",
    "warning": "bold underline",
    "success": "bold",
    "muted": "italic",
}


_AUTHOR_QUESTION = (
    "Who is working? Your name goes on every edit and mark made from now on (w changes it "
    "when someone else takes over)."
)


def after_load(action: Callable[..., Any]) -> Callable[..., Any]:
    """An action that changes data waits until the whole file is read and audited: while
    rows are still loading it says so and does nothing."""

    @functools.wraps(action)
    def guarded(self: MainScreen, *args: Any, **kwargs: Any) -> Any:
        if self.session.loading:
            self.notify(
                "Still reading the file: edits, marks, the mapping and export wait until "
                "every row is read and audited.",
                severity="warning",
                timeout=4,
            )
            return None
        return action(self, *args, **kwargs)

    return guarded


# what each status filter shows, in the words f, the header and the command palette share:
# the filter's name is the one word all three say
FILTER_WORDS = {
    "all": "every device",
    "problems": "devices under review or blocked",
    "blocked": "blocked devices",
    "review": "devices under review",
    "eligible": "eligible devices",
    "not-pc": "devices that are not PCs",
    "not-seen": "devices the walk has not seen yet",
    "not-collected": "devices whose PC reported no evidence",
    "not-in-register": "PCs that reported in but are not in the register",
}


@dataclass(frozen=True)
class ValueFilter:
    """Rows whose cell in one column, as the grid shows it (keys masked unless shown),
    equals a value, contains it or is blank; ``negate`` keeps the other rows."""

    column: ColumnIndex
    title: str
    op: str  # "equals", "contains" or "blank"
    value: str = ""
    negate: bool = False

    def words(self, short: bool = False) -> str:
        """``where Location = Site B``: plain text (the title and value are the file's);
        ``short``: in fewer words (``where Edition lacks Home``)."""
        name, value = safe_text(self.title), safe_text(self.value)
        if self.op == "blank":
            said = ("not blank" if short else "is not blank") if self.negate else "is blank"
            return f"where {name} {said}"
        if self.op == "equals":
            return f"where {name} {'≠' if self.negate else '='} {value}"
        if short:
            return f"where {name} {'lacks' if self.negate else 'has'} {value}"
        return f"where {name} {'does not contain' if self.negate else 'contains'} {value}"

    @functools.cached_property
    def _folded(self) -> str:
        return self.value.casefold()  # once, not once a row

    def keeps(self, shown: str) -> bool:
        cell, value = shown.strip().casefold(), self._folded
        if self.op == "blank":
            hit = not cell
        elif self.op == "equals":
            hit = cell == value
        else:
            hit = value in cell
        return hit != self.negate


def parse_value_filter(answer: str) -> tuple[str, str, bool]:
    """The value prompt's answer as (operator, value, negated): ``= Site B`` equals,
    ``Home`` (or ``~ Home``) contains, nothing is blank; ``!`` in front negates any."""
    text = answer.strip()
    negate = text.startswith("!")
    if negate:
        text = text[1:].strip()
    op = "contains"
    if text.startswith("="):
        op, text = "equals", text[1:].strip()
    elif text.startswith("~"):
        text = text[1:].strip()
    return ("blank", "", negate) if not text else (op, text, negate)


def fit_header(parts: dict[str, list[tuple[str, str]]], width: int) -> Text:
    """The status line in words: every part in its longest form that lets the line fit
    ``width``, then shorter forms, narrower gaps, then whole parts left out (least needed
    first); never a part cut in the middle of a word."""
    forms = dict.fromkeys(parts, 0)
    gaps = (" · ", "  ", " ")
    gap = 0
    # each step: a part to its next shorter form, or the gaps narrower
    ladder = [
        "eligible", "gap", "not_pc", "out", "where", "gap", "devices", "sort", "selected",
        "drop:zero", "drop:sort", "drop:filter_all", "where", "where", "drop:edits",
    ]  # fmt: skip
    dropped: set[str] = set()
    drop_order = ["out", "not_pc", "eligible", "review", "devices", "blocked", "filter", "where"]

    def build() -> Text:
        text = Text()
        first = True
        for name, options in parts.items():
            if name in dropped:
                continue
            said, style = options[min(forms[name], len(options) - 1)]
            if not first:
                text.append(gaps[gap])
            text.append(said, style=style)
            first = False
        return text

    text = build()
    steps = iter(ladder)
    while width and text.cell_len > width:
        step = next(steps, None)
        if step is None:
            left = [n for n in drop_order if n in parts and n not in dropped]
            if not left:
                break
            dropped.add(left[0])
        elif step == "gap":
            gap = min(gap + 1, len(gaps) - 1)
        elif step == "drop:zero":  # a count of nothing says least
            counts = ("eligible", "review", "blocked")
            dropped.update(n for n in counts if n in parts and parts[n][0][0].startswith("0 "))
        elif step.startswith("drop:"):
            dropped.add(step[5:])
        elif step in parts:
            forms[step] += 1
        text = build()
    return text


class FilterCommands(Provider):
    """The command palette's filters: one entry per status filter, named as f names it,
    and the value filter and clearing every filter."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        names = FILTERS + (COLLECTION_FILTERS if screen.audit.inv.collection else ())
        return [
            (
                f"filter: {name}",
                f"Show {FILTER_WORDS[name]} (f cycles the filters)",
                functools.partial(screen.show_filter, name),
            )
            for name in names
        ]

    async def discover(self) -> Hits:
        for said, helptext, run in self._entries():
            yield DiscoveryHit(said, run, help=helptext)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for said, helptext, run in self._entries():
            score = matcher.match(said)
            if score > 0:
                yield Hit(score, matcher.highlight(said), run, help=helptext)


class NoEvidenceBanner(Static):
    """Said loudly when no column can carry licence evidence; a click opens the mapping."""

    async def on_click(self) -> None:
        await self.screen.run_action("mapping")


class MainScreen(Screen[None]):
    # description: the footer's word; tooltip: what help and the command palette say
    BINDINGS = [
        Binding(
            "right_square_bracket",
            "next_problem",
            "Next problem",
            tooltip="Next device with a finding",
            id="main.next_problem",
        ),
        Binding(
            "left_square_bracket",
            "prev_problem",
            "Prev problem",
            show=False,
            tooltip="Previous device with a finding",
            id="main.prev_problem",
        ),
        Binding(
            "f",
            "cycle_filter",
            "Filter",
            tooltip="Filter by status, in turn: " + ", ".join(FILTERS),
            id="main.filter",
        ),
        Binding(
            "vertical_line",
            "value_filter",
            "Filter by value",
            show=False,
            tooltip="Filter by this column's value: equals, contains, is blank, or not",
            id="main.value_filter",
        ),
        Binding(
            "C",
            "clear_filters",
            "Clear filters",
            show=False,
            tooltip="Clear every filter: status, value and search (every device shown)",
            id="main.clear_filters",
        ),
        Binding(
            "y",
            "copy_cell",
            "Copy cell",
            show=False,
            tooltip="Copy this cell to the clipboard (keys masked unless shown)",
            id="main.copy_cell",
        ),
        Binding(
            "Y",
            "copy_row",
            "Copy row",
            show=False,
            tooltip="Copy this row to the clipboard, tab-separated (keys masked unless shown)",
            id="main.copy_row",
        ),
        Binding(
            "slash", "search", "Search", show=False, tooltip="Search every column", id="main.search"
        ),
        Binding(
            "colon,ctrl+g",
            "goto",
            "Go to",
            show=False,
            tooltip="Go to a row: its number in the sheet, or a serial or asset tag",
            id="main.goto",
        ),
        Binding("n", "search_next", "Next match", show=False, id="main.search_next"),
        Binding("N", "search_prev", "Previous match", show=False, id="main.search_prev"),
        Binding(
            "s",
            "sort(False)",
            "Sort ascending",
            show=False,
            tooltip="Sort by this column, A to Z",
            id="main.sort_ascending",
        ),
        Binding(
            "S",
            "sort(True)",
            "Sort descending",
            show=False,
            tooltip="Sort by this column, Z to A",
            id="main.sort_descending",
        ),
        Binding(
            "o",
            "original_order",
            "Original order",
            show=False,
            tooltip="Back to the file's row order",
            id="main.original_order",
        ),
        Binding("e,enter", "edit", "Edit", tooltip="Edit this cell", id="main.edit"),
        Binding(
            "U,ctrl+z", "undo", "Undo", show=False, tooltip="Undo the last change", id="main.undo"
        ),
        Binding(
            "R,ctrl+y", "redo", "Redo", show=False, tooltip="Redo what was undone", id="main.redo"
        ),
        Binding(
            "d",
            "jump_related",
            "Go to duplicate",
            show=False,
            tooltip="Go to the other device with the same serial, key or tag",
            id="main.jump_related",
        ),
        Binding(
            "i",
            "details",
            "Findings in full",
            show=False,
            tooltip="This device's findings in full, with what to do, and this cell whole",
            id="main.details",
        ),
        Binding(
            "v",
            "toggle_keys",
            "Show/mask keys",
            show=False,
            tooltip="Show product keys in full, or masked again",
            id="main.toggle_keys",
        ),
        Binding(
            "m",
            "mapping",
            "Columns",
            show=False,
            tooltip="Which column is which field: see and change it",
            id="main.mapping",
        ),
        Binding(
            "I",
            "about",
            "File, policy and notices",
            show=False,
            tooltip="The file as read, the policy and target, notes about reading it",
            id="main.about",
        ),
        Binding(
            "E",
            "reopen",
            "Reopen with encoding…",
            show=False,
            tooltip="Reopen with encoding…: read this text file again with another encoding "
            "or delimiter",
            id="main.reopen",
        ),
        Binding(
            "c",
            "sighted",
            "Present",
            tooltip="Mark this device (or the selected) present on site",
            id="main.sighted",
        ),
        Binding(
            "b",
            "scan",
            "Scan",
            tooltip="Scan mode: scan serials or tags, then confirm each label",
            id="main.scan",
        ),
        Binding(
            "z",
            "not_found",
            "Not found",
            show=False,
            tooltip="Mark this device (or the selected) looked for on site and not found",
            id="main.not_found",
        ),
        Binding(
            "a",
            "accept",
            "Accept",
            show=False,
            tooltip="Accept a device under review: on a label check, a document or firmware data",
            id="main.accept",
        ),
        Binding(
            "p",
            "walk_progress",
            "Walk progress",
            show=False,
            tooltip="What the walk has seen so far, site by site (f: the devices still to see)",
            id="main.walk_progress",
        ),
        Binding(
            "w",
            "who",
            "Who is working",
            show=False,
            tooltip="Who is working (the name on every edit and mark), and why",
            id="main.who",
        ),
        Binding(
            "x",
            "take_out",
            "Take out of order",
            show=False,
            tooltip="Take this device out of the imaging order (a reason is asked)",
            id="main.take_out",
        ),
        Binding(
            "space",
            "select",
            "Select row",
            show=False,
            tooltip="Select or unselect this row, then move down one",
            id="main.select",
        ),
        Binding(
            "A",
            "select_all",
            "Select all shown",
            show=False,
            tooltip="Select every row the filter shows (again: select none)",
            id="main.select_all",
        ),
        Binding(
            "equals_sign",
            "set_field",
            "Set column on selected",
            show=False,
            tooltip="Set this column to one value on every selected row",
            id="main.set_field",
        ),
        Binding(
            "ctrl+s",
            "export",
            "Export",
            tooltip="Export: corrected inventory, audit report, checklist",
            id="main.export",
        ),
        Binding("question_mark,f1", "help", "Help", tooltip="These keys", id="main.help"),
        Binding(
            "q",
            "quit_guarded",
            "Quit",
            tooltip="Quit (asks when something is not exported)",
            id="main.quit",
        ),
        Binding(
            "escape",
            "close_bars",
            "Close",
            show=False,
            tooltip="Close the edit or search bar",
            id="main.close_bars",
        ),
    ]
    DEFAULT_CSS = """
    MainScreen { layout: vertical; }
    #summary { height: 1; background: $panel; color: $text; padding: 0 1; }
    #no-evidence { height: auto; max-height: 3; background: $error; color: $text;
        text-style: bold; padding: 0 1; display: none; }
    #grid { height: 1fr; }
    #findings { height: 7; border-top: solid $accent; padding: 0 1;
        border-title-align: left; border-title-color: $text; }
    #editbar { height: 3; display: none; }
    #editbar Label { width: auto; max-width: 50%; padding: 1 1 0 1; }
    #editbar Input { width: 1fr; }
    #search { display: none; }
    /* while a field is typed in (an edit, a search), notices stand above it, never on it */
    MainScreen.-typing ToastRack { margin-bottom: 4; }
    """
    COMMANDS = {FilterCommands}  # the palette's filters, in f's words

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.audit: Audit = session.audit
        self.history = session.history
        self.editing: tuple[RowIndex, ColumnIndex] | None = None
        self.last_search = ""
        self._matches: tuple[tuple[object, ...], list[int]] | None = None  # search's count
        self.related_index = 0
        self._scan_screen: ScanScreen | None = None  # open, or opening
        self._scan_early: list[tuple[str, str | None]] | None = None  # keys before it opened
        self.scan_guard = ScanGuard(self, self._scanned)  # a scanner's burst runs no command
        self._loaded = (0, 0)  # (read, size) while the file is still loading
        self.value_filter: ValueFilter | None = None  # | sets it, C clears it

    def compose(self) -> ComposeResult:
        yield Static(id="summary")
        yield NoEvidenceBanner(
            Text(
                "No licence evidence column was recognised (COA, COA edition, product key, OA3 "
                "description): every device is blocked. Press m to map the column that holds it."
            ),
            id="no-evidence",
        )
        yield Grid(self.audit, id="grid")
        yield Static(id="findings")
        with Horizontal(id="editbar"):
            yield Label(id="edit-label")
            yield Input(id="edit-input")
        yield Input(id="search", placeholder="search serial, tag, host, edition… (enter finds)")
        yield Footer(show_command_palette=False)  # 80 columns: ? lists ctrl+p too

    def on_mount(self) -> None:
        self.grid.focus()
        self.refresh_status()
        self.call_after_refresh(self.refresh_status)

    def adopt(self, session: Session) -> None:
        """Show ``session`` in place of the one shown (more rows of a file still loading, or
        the whole file read and audited), keeping the cursor, filter, sort and search."""
        self.session = session
        self.audit = session.audit
        self.history = session.history
        self._matches = None
        self.grid.adopt(session.audit)
        self.refresh_status()

    def loading_progress(self, done: int, total: int) -> None:
        """The share of the file read, said while its first rows are already shown."""
        self._loaded = (done, total)
        if self.session.loading:
            self.query_one("#summary", Static).update(self._loading_text())

    def _loading_text(self) -> Text:
        done, total = self._loaded
        share = f" ({100 * done // total}%)" if total > 0 else ""
        return Text(  # fits 80 columns at a million rows
            f"Reading{share}: {len(self.audit.inv):,} rows so far; statuses provisional, "
            "edits wait.",
            style="bold",
        )

    def show_target(self) -> None:
        """The target, the agreement and the notes about the file, on the findings panel's
        top edge: always there, covering nothing (a toast at open hid the findings)."""
        notices = self.audit.inv.notices()
        pol = self.audit.policy
        panel = self.query_one("#findings", Static)
        # who is working first: the name every change from now on carries (w changes it)
        who = " ".join(safe_text(self.session.author).split())[:40]
        title = Text(f" {who} (w) · " if who else " Nobody named (w) · ", style="bold")
        title.append(
            f"Target: {pol.target_label} ({pol.agreement} agreement). I: file, policy"
            + (f", {plural(len(notices), 'note')} " if notices else " "),
            style="bold" if notices else "",
        )
        panel.border_title = title

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_status)

    @property
    def grid(self) -> Grid:
        return self.query_one("#grid", Grid)

    @property
    def app_(self) -> CoaAuditApp:
        return self.app  # type: ignore[return-value]

    # -- status lines ----------------------------------------------------------------------
    def refresh_status(self) -> None:
        self.query_one("#no-evidence").display = not self.audit.inv.evidence_mapped
        grid = self.grid
        bar = self.query_one("#summary", Static)
        if self.session.loading:
            bar.update(self._loading_text())
            self.show_target()
            self.refresh_findings()
            return
        s = self.audit.summary()
        edits = self.session.edit_count
        not_pc = s.not_pc  # taken out of the order is not "not a PC"
        success, warning = self.tone("success"), self.tone("warning")
        error, muted = self.tone("error"), self.tone("muted")
        parts: dict[str, list[tuple[str, str]]] = {
            "devices": [(plural(s.devices, "device"), ""), (f"{s.devices} dev", "")],
            "eligible": [
                (f"{s.eligible} eligible ({s.attested} accepted)", success),
                (f"{s.eligible} eligible", success),
            ]
            if s.attested
            else [(f"{s.eligible} eligible", success)],
            "review": [(f"{s.review} review", warning)],
            "blocked": [(f"{s.blocked} blocked", error)],
        }
        if not_pc:
            parts["not_pc"] = [
                ("1 not a PC" if not_pc == 1 else f"{not_pc} not PCs", muted),
                (f"{not_pc} non-PC", muted),
            ]
        if s.removed:
            parts["out"] = [(f"{s.removed} taken out", muted), (f"{s.removed} out", muted)]
        parts["edits"] = [(f"{edits} edits", "")]
        parts["filter_all" if grid.filter == "all" else "filter"] = [(f"filter: {grid.filter}", "")]
        if self.value_filter is not None:
            vf = self.value_filter
            parts["where"] = [
                (vf.words(), "bold"),
                (vf.words(short=True), "bold"),
                (f"where {safe_text(vf.title)} …", "bold"),
                ("where …", "bold"),
            ]
        if grid.sort is not None:
            pos, desc = grid.sort
            arrow = "↓" if desc else "↑"
            parts["sort"] = [
                (f"sort: {safe_text(grid.columns[pos].title)} {arrow}", ""),
                (f"sorted {arrow}", ""),
            ]
        if grid.reveal_keys:
            parts["keys"] = [("keys shown", "bold")]
        if grid.selected:
            n = len(grid.selected)
            parts["selected"] = [(f"{n} selected", "bold reverse"), (f"{n} sel", "bold reverse")]
        text = fit_header(parts, bar.size.width)  # size: inside padding
        bar.update(text)
        self.show_target()
        self.refresh_findings()

    def refresh_findings(self) -> None:
        panel = self.query_one("#findings", Static)
        row = self.grid.current_row()
        if row is None:
            panel.update(Text("No device matches this filter (f changes it, C clears all)."))
            return
        full = self.findings_text(row)
        width, height = panel.content_region.width, panel.content_region.height
        if width and height and len(full.wrap(self.app.console, width)) > height:
            panel.update(self.findings_text(row, compact=True))  # one line each, i: in full
        else:
            panel.update(full)

    def findings_text(self, row: int, compact: bool = False) -> Text:
        """The current device's findings: in full, or one line each with a pointer to i."""
        inv = self.audit.inv
        text = Text()
        status = self.audit.status(row)
        style = self.tone(Status.of(status).tone)
        text.append(f"Row {inv.row_numbers[row]}  ")
        text.append(status.upper(), style=style)
        tag, serial = inv.field(row, "asset_tag"), inv.field(row, "serial_number")
        text.append(f"  tag {safe_text(tag) or '-'}  serial {safe_text(serial) or '-'}\n")
        findings = self.audit.findings(row)
        if not findings:
            if self.session.loading:  # a later row may repeat its serial or key
                text.append("No findings in the rows read so far; the rest is still loading.")
            else:
                text.append(
                    "No findings: this device can be certified.", style=self.tone("success")
                )
        for f in findings:
            mark, tone = _SEVERITY_MARKS.get(f.severity, ("! ", "warning"))
            text.append(mark + f.code, style=self.tone(tone))
            if f.column:
                text.append(f" [{f.column}]")
            if f.related_rows:
                rows = ", ".join(map(str, f.related_rows[:5]))
                text.append(f" (d: go to row {rows})", style="bold")
            message = f.detail if compact else f.message
            text.append(": " + safe_text(message.strip()))
            text.append("\n")
        if compact:
            text.append("i: every finding in full, with what to do", style="italic")
            text.no_wrap, text.overflow = True, "ellipsis"
        text.rstrip()
        return text

    def tone(self, tone: str) -> str:
        """The text style of a status tone, in colour or (NO_COLOR) without."""
        return (MONO_STYLES if self.app.no_color else TONE_STYLES)[tone]

    def about_text(self) -> Text:
        """The file as read (sheet, header row, notices), the policy, target and agreement in
        use, and the mapping: what `check` prints, on screen."""
        inv, pol = self.audit.inv, self.audit.policy
        src = inv.source
        text = Text("This file and the rules in use\n\n", style="bold")
        for label, value in (
            ("File", Path(src.path).name),
            ("Format", src.format),
            ("Sheet", src.sheet or "(one table)"),
            ("Header row", str(src.header_row)),
            ("SHA-256", src.sha256),
            ("Target", f"{pol.target_label} ({pol.target})"),
            ("Agreement", pol.agreement),
            (
                "Policy",
                pol.source + (f" (SHA-256 {pol.source_sha256})" if pol.source_sha256 else ""),
            ),
        ):
            text.append(f"{label}: ", style="bold")
            text.append(safe_text(value) + "\n")
        notices = inv.notices()
        text.append(f"\nNotes from reading the file ({len(notices)})\n", style="bold")
        here = "E (or ctrl+p: Reopen with encoding…)"
        text_table = src.csv is not None
        told = False
        for n in notices or ["none"]:
            if text_table and "--encoding" in n:  # the reading's own notice: how, here too
                n, told = f"{n}, or on screen {here}", True
            text.append(f"- {safe_text(n)}\n")
        if text_table and not told:  # how to read it another way, here
            text.append(
                f"- letters or columns read wrong? {here} reads this file again with another "
                "encoding or delimiter\n"
            )
        text.append("\nColumn mapping\n", style="bold")
        for fname, col in inv.source_mapping.items():
            text.append(f"{fname}: {inv.letter(col)} {safe_text(inv.headers[col])}\n")
        if inv.collection is not None:
            text.append("\nEvidence collected from the PCs\n", style="bold")
            for cf in inv.collection.files:
                text.append(
                    f"{safe_text(Path(cf.path).name)}: {cf.rows} rows, SHA-256 {cf.sha256}\n"
                )
        return text

    def action_about(self) -> None:
        self.app.push_screen(DetailScreen(self.about_text()))

    def action_details(self) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        text = self.findings_text(row)
        col = self.grid.current_column()
        if col is not None:  # the cell under the cursor, whole however narrow its column
            inv = self.audit.inv
            text.append(f"\n\nCell {inv.letter(col.index)}{inv.row_numbers[row]} ", style="bold")
            text.append(f"({safe_text(col.title)}), whole:\n", style="bold")
            text.append(safe_text(self.shown_value(row, col)) or "(blank)")
        self.app.push_screen(DetailScreen(text))

    def on_grid_cursor_moved(self, _event: Grid.CursorMoved) -> None:
        self.related_index = 0
        self.refresh_findings()

    # -- navigation ------------------------------------------------------------------------
    def action_next_problem(self) -> None:
        if not self.grid.next_problem(1):
            self.notify("No further device with findings.", timeout=2)

    def action_prev_problem(self) -> None:
        if not self.grid.next_problem(-1):
            self.notify("No earlier device with findings.", timeout=2)

    def action_cycle_filter(self) -> None:
        filters = FILTERS + (COLLECTION_FILTERS if self.audit.inv.collection else ())
        self.show_filter(filters[(filters.index(self.grid.filter) + 1) % len(filters)])

    def show_filter(self, name: str) -> None:
        """The status filter ``name`` (f's next one, or the palette's "filter: name"); a
        value filter stays on top of it."""
        self.grid.set_filter(name)
        self.refresh_status()
        if name == "not-in-register":
            self.show_not_in_register()

    # -- the auditor's desk: filter by value, clear, copy ----------------------------------
    def shown_value(self, row: RowIndex, col: Column) -> str:
        """A cell as the grid shows it: product keys masked unless the user shows keys."""
        value = self.audit.inv.value(row, col.index)
        if value and not self.grid.reveal_keys:
            return mask_key(value) if col.field == "coa_key" else mask_keys(value)
        return value

    def _set_value_filter(self, vf: ValueFilter | None) -> None:
        self.value_filter = vf
        grid = self.grid
        col = next((c for c in grid.columns if c.index == vf.column), None) if vf else None
        if vf is None or col is None:
            self.value_filter = None
            grid.view_filter = None
        else:

            def keep(view: Sequence[int]) -> Sequence[int]:
                shown = self.shown_value
                return array("I", [r for r in view if vf.keeps(shown(RowIndex(r), col))])

            grid.view_filter = keep
        grid.set_filter(grid.filter)  # the view again, both filters applied
        self.refresh_status()

    def action_value_filter(self) -> None:
        """Filter on the cursor's column by what its cells show: equals, contains, is
        blank, or (! in front) not."""
        col = self.grid.current_column()
        if col is None:
            return
        title = safe_text(col.title)

        def done(answer: str | None) -> None:
            if answer is None:
                return
            op, value, negate = parse_value_filter(answer)
            self._set_value_filter(ValueFilter(col.index, col.title, op, value, negate))
            assert self.value_filter is not None
            self.notify(
                f"Showing {plural(len(self.grid.view), 'row')} "
                f"{self.value_filter.words()} (C clears every filter).",
                timeout=4,
            )

        self.app.push_screen(
            PromptScreen(
                f"Show the rows where {title}: = Site B equals it; Home contains it; nothing "
                "is blank; ! in front means not (!= Site B, !Home, !). Keys are read as shown.",
                required=False,
                enter="filter",
            ),
            done,
        )

    def action_clear_filters(self) -> None:
        """Every filter off: the status filter, the value filter and the search."""
        self.last_search, self._matches = "", None
        self.grid.view_filter, self.value_filter = None, None
        self.show_filter("all")
        self.notify("Filters cleared: every device shown, no search.", timeout=3)

    def action_copy_cell(self) -> None:
        """The cell under the cursor, as shown (keys masked unless shown), to the clipboard
        (OSC 52: it works over SSH too)."""
        row, col = self.grid.current_row(), self.grid.current_column()
        if row is None or col is None:
            return
        inv = self.audit.inv
        self.app.copy_to_clipboard(self.shown_value(row, col))
        self.notify(
            f"Copied cell {inv.letter(col.index)}{inv.row_numbers[row]} ({col.title})",
            timeout=3,
        )

    def action_copy_row(self) -> None:
        """The row under the cursor, every column as shown, tab-separated."""
        row = self.grid.current_row()
        if row is None:
            return
        columns = self.grid.columns
        cells = [" ".join(self.shown_value(row, c).split()) for c in columns]  # one line
        self.app.copy_to_clipboard("\t".join(cells))
        number = self.audit.inv.row_numbers[row]
        self.notify(f"Copied row {number}, {plural(len(cells), 'field')}", timeout=3)

    def show_not_in_register(self) -> None:
        """The PCs that reported in but are missing from the register (they have no row)."""
        collection = self.audit.inv.collection
        text = Text()
        records = collection.not_in_register if collection else []
        text.append(f"Reported in, not in the register ({len(records)})", style="bold")
        text.append("   (escape closes; then f shows the next filter)\n\n")
        for rec in records:
            text.append(
                f"{safe_text(rec['hostname']) or '-'}  serial "
                f"{safe_text(rec['serial_number']) or '-'}  {safe_text(rec['manufacturer'])} "
                f"{safe_text(rec['model'])}  {safe_text(rec['firmware_key_description'])}  "
                f"({safe_text(rec['file'])} row {rec['row']})\n"
            )
        if not records:
            text.append("None: every PC that reported in is in the register.")
        self.app.push_screen(DetailScreen(text))

    def action_sort(self, descending: bool) -> None:
        self.grid.set_sort(self.grid.cursor_col, descending)
        self.refresh_status()

    def action_original_order(self) -> None:
        self.grid.set_sort(None)
        self.refresh_status()

    def action_toggle_keys(self) -> None:
        self.grid.reveal_keys = not self.grid.reveal_keys
        if self.value_filter is not None:  # it reads the cells as shown
            self.grid.set_filter(self.grid.filter)
        self.grid.refresh()
        self.refresh_status()

    def action_jump_related(self) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        related = [r for f in self.audit.findings(row) for r in f.related_rows]
        if not related:
            self.notify("This device shares no serial, key or asset tag.", timeout=2)
            return
        target = related[self.related_index % len(related)]
        index = self.audit.inv.row_of(target)
        pos = self.grid.position_of(index) if index is not None else None
        if pos is None:
            self.grid.set_filter("all")
            pos = self.grid.position_of(index) if index is not None else None
        if pos is not None:
            keep = self.related_index + 1
            self.grid.move_to(pos, self.grid.cursor_col)
            self.related_index = keep
            self.refresh_status()

    def action_goto(self) -> None:
        """A row by its number in the sheet, or a device by its serial or asset tag (as scan
        mode finds it): the cursor goes there, showing every row if the filter hid it."""
        lookup = self.session.code_index()
        inv = self.audit.inv

        def go(answer: str | None) -> None:
            if not answer:
                return
            rows = lookup(answer)
            if not rows and answer.isdigit():
                index = inv.row_of(int(answer))
                rows = [index] if index is not None else []
            if not rows:
                self.notify(
                    f"No row {safe_text(answer)} and no device with that serial or asset tag.",
                    severity="warning",
                    timeout=5,
                )
                return
            self._show_row(rows[0])
            if len(rows) > 1:
                self.notify(
                    f"{safe_text(answer)} is on rows "
                    + ", ".join(str(inv.row_numbers[r]) for r in rows)
                    + ": this is the first.",
                    severity="warning",
                    timeout=8,
                )

        self.app.push_screen(
            PromptScreen(
                "Go to: a row number of the sheet, or a serial number or asset tag", enter="go"
            ),
            go,
        )

    def _show_row(self, row: RowIndex) -> None:
        """The cursor on ``row``, showing every row if the filter hid it."""
        pos = self.grid.position_of(row)
        if pos is None:
            self.grid.set_filter("all")
            pos = self.grid.position_of(row)
        if pos is None and self.value_filter is not None:  # the value filter hid it
            self._set_value_filter(None)
            pos = self.grid.position_of(row)
        if pos is not None:
            self.grid.move_to(pos, self.grid.cursor_col)
            self.refresh_status()

    # -- search ----------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        self.add_class("-typing")
        box.value = editable(self.last_search)
        box.focus()

    def _find(self, direction: int, include_current: bool = False) -> None:
        if not self.last_search:
            self.action_search()
            return
        if not self.grid.search(self.last_search, direction, include_current):
            self.notify(f"Not found: {safe_text(self.last_search)}", timeout=3)
            return
        grid = self.grid
        key = (self.last_search.lower(), id(grid.view), len(grid.view), self.history.version)
        if self._matches is None or self._matches[0] != key:
            self._matches = (key, grid.matching_positions(self.last_search))
        hits = self._matches[1]
        at = bisect.bisect_left(hits, grid.cursor_row) + 1
        where = f"match {at} of {len(hits)}" if at <= len(hits) else f"{len(hits)}"
        self.notify(
            f"{safe_text(self.last_search)}: {where} {'row' if len(hits) == 1 else 'rows'} "
            "(n next, N previous)",
            timeout=3,
        )

    def action_search_next(self) -> None:
        self._find(1)

    def action_search_prev(self) -> None:
        self._find(-1)

    # -- editing ---------------------------------------------------------------------------
    @after_load
    def action_edit(self) -> None:
        row, col = self.grid.current_row(), self.grid.current_column()
        if row is None or col is None:
            return
        refused, _warning = self.session.cell_notice(row, col.index)
        if refused is not None:
            self.notify(f"Not editable here: {safe_text(refused)}.", severity="warning", timeout=10)
            return
        self.editing = (row, col.index)
        box = self.query_one("#edit-input", Input)
        field = col.field or ""
        box.suggester = SuggestFromList(suggestions(field), case_sensitive=False) if field else None
        # a cell's escapes and controls shown as stand-ins, never sent to the terminal;
        # from_editable gives the user's bytes back when the edit is saved
        box.value = editable(self.audit.inv.value(row, col.index))
        self.query_one("#editbar").display = True
        self.add_class("-typing")
        self._preview(box.value)
        box.focus()
        box.cursor_position = len(box.value)

    def _preview(self, value: str) -> None:
        if self.editing is None:
            return
        row, col = self.editing
        status, codes = self.session.preview(row, col, from_editable(value))
        title = self.grid.current_column()
        name = title.title if title else "cell"
        label = Text()
        label.append(f"{safe_text(name)[:20]}: ")
        style = self.tone(Status.of(status).tone)
        label.append(f"would be {status.upper()}", style=style)
        if codes:
            label.append(f" ({codes[0]}{', …' if len(codes) > 1 else ''})")
        _refused, warning = self.session.cell_notice(row, col)
        if warning:
            label.append(f"; {warning}", style="bold")
        if self.query_one("#edit-input", Input).suggester is not None:
            # the grey completion is only a suggestion: say which key takes it
            label.append("\nEnter saves what is typed; → takes the grey text", style="italic")
        self.query_one("#edit-label", Label).update(label)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "edit-input":
            self._preview(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "edit-input" and self.editing is not None:
            row, col = self.editing
            self.action_close_bars()
            self.commit(row, col, from_editable(event.value))
        elif event.input.id == "search":
            self.last_search = from_editable(event.value)
            self.action_close_bars()
            if event.value:
                self._find(1, include_current=True)

    def commit(self, row: RowIndex, col: ColumnIndex, value: str, origin: str = "screen") -> None:
        refused, _warning = self.session.cell_notice(row, col)
        if refused is not None:
            self.notify(f"Not edited: {safe_text(refused)}.", severity="error", timeout=10)
            return

        def apply() -> None:
            if self.session.apply(row, col, value, origin) is not None:
                self.after_change()

        self._with_author(apply)  # every edit carries who made it

    def after_change(self) -> None:
        self.grid.refresh_all()
        self.refresh_status()

    @after_load
    def action_undo(self) -> None:
        self._step(self.history.undo_stack, self.session.undo)

    @after_load
    def action_redo(self) -> None:
        self._step(self.history.redo_stack, self.session.redo)

    def _step(self, stack, op) -> None:
        if not stack:
            self.notify(
                "Nothing to " + ("undo" if op == self.session.undo else "redo") + ".", timeout=2
            )
            return
        edits = op()
        edit = edits[-1]  # the first edit of the step: where the user began it
        hidden = sum(1 for e in edits if self.grid.position_of(e.row) is None)
        undone = op == self.session.undo
        inv = self.audit.inv
        # say what the step did: the cell, and the value it holds now
        value = edit.old if undone else edit.new
        said = (
            f"{'Undone' if undone else 'Redone'}: row {inv.row_numbers[edit.row]}, "
            f"{safe_text(inv.headers[edit.col])} is {safe_text(mask_keys(value))!r} again"
            if len(edits) == 1
            else f"{'Undone' if undone else 'Redone'}: {plural(len(edits), 'edit')} of one step"
        )
        if hidden:
            said += f"; {hidden} on rows the filter hides"
        self.notify(said + ".", timeout=4)
        pos = self.grid.position_of(edit.row)
        col_pos = next((i for i, c in enumerate(self.grid.columns) if c.index == edit.col), None)
        if pos is not None and col_pos is not None:
            self.grid.move_to(pos, col_pos)
        self.after_change()

    def action_close_bars(self) -> None:
        self.editing = None
        self.query_one("#editbar").display = False
        self.query_one("#search").display = False
        self.remove_class("-typing")
        self.grid.focus()

    # -- the walk through the fleet ---------------------------------------------------------
    def _targets(self) -> list[RowIndex]:
        """The selected rows, else the row under the cursor."""
        if self.grid.selected:
            return sorted(self.grid.selected)
        row = self.grid.current_row()
        return [] if row is None else [row]

    def _with_author(self, then: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``then`` once someone said who is working (asked at the first change of the
        session, the last name offered, never assumed); it may be a coroutine function (scan
        mode opens a screen)."""
        if self.session.author:
            result = then()
            if result is not None:
                self.run_worker(result, exclusive=True, group="walk")
            return
        self._ask_author(then)

    @work(exclusive=True, group="walk")
    async def _ask_author(self, then: Callable[[], Awaitable[None] | None] | None = None) -> None:
        """Who is working (and, optionally, why the edits that follow are made), then
        ``then``: the name screen is gone (popped and awaited) before anything else opens, so
        no key lands on a closing screen."""
        question = _AUTHOR_QUESTION
        offered = self.session.author or load_author()
        while True:
            name = await self.app.push_screen_wait(PromptScreen(question, offered))
            if not name:
                return
            if not self.session.code_index()(name):
                break
            # a scanner's burst reached the prompt: a device's code is no one's name
            question = (
                f"{safe_text(name)!r} is a device's serial number or asset tag, not a name. "
                + _AUTHOR_QUESTION
            )
        changed = name != self.session.author
        self.session.author = name
        save_author(name)
        if then is None:  # w: a new person, or the same one with a new reason
            why = await self.app.push_screen_wait(
                PromptScreen(
                    "Why are the edits that follow made? (optional: it goes beside each, in "
                    'the audit report and the packet, e.g. "serials from the Dell invoice '
                    '88123")',
                    "" if changed else self.session.reason,
                    required=False,
                )
            )
            if why is not None:
                self.session.reason = " ".join(why.split())
        self.show_target()
        if then is not None:
            result = then()
            if result is not None:
                await result

    def action_who(self) -> None:
        self._ask_author()

    def action_walk_progress(self) -> None:
        """The walk so far, counted as the packet counts it, and per site how many of its
        devices someone has seen."""
        text = Text("The walk so far\n\n", style="bold")
        text.append(self.session.walk_counts().sentence() + ".\n\n")
        for place, seen, total in self.session.walk_by_site():
            text.append(f"{safe_text(place)}: {seen} of {total} seen\n")
        text.append("\nf shows the devices still to see (filter: not-seen).", style="italic")
        self.app.push_screen(DetailScreen(text))

    def _walked(self, edits: list[Edit], what: str) -> None:
        self.grid.selected.clear()
        self.notify(f"{plural(len(edits), 'device')} {what}.", timeout=4)
        self.after_change()

    @after_load
    def action_sighted(self) -> None:
        rows = self._targets()
        if rows:
            self._with_author(lambda: self._walked(self.session.sight(rows), "marked present"))

    @after_load
    def action_not_found(self) -> None:
        rows = self._targets()
        if rows:
            self._with_author(
                lambda: self._walked(self.session.not_found(rows), "marked not found on site")
            )

    @after_load
    def action_accept(self) -> None:
        rows = self._targets()
        refused = self.session.not_acceptable(rows)  # the session's rule, said as it says it
        if refused is not None:
            self.notify(safe_text(refused[0].upper() + refused[1:]) + ".", severity="error")
            return

        async def ask() -> None:
            basis = await self.app.push_screen_wait(BasisScreen(len(rows)))
            if basis is None:
                return
            question = {
                "label": "You looked at the label yourself. What does it show? (evidence and "
                'edition, e.g. "GML label, Windows 10 Pro")',
                "document": 'Which document? Its kind and reference (e.g. "Dell invoice '
                '88123", "PKID report 2026-11")',
                "firmware": "Any note on the firmware data? (optional: the collection file "
                "is named by itself)",
            }[basis]
            text = await self.app.push_screen_wait(
                PromptScreen(question, required=basis != "firmware")
            )
            if text is None:
                return
            note, reference = (text, "") if basis != "document" else ("", text)
            self._walk_call(
                lambda: self.session.attest(rows, basis, reference=reference, note=note),
                "accepted",
            )

        self._with_author(ask)

    @after_load
    def action_take_out(self) -> None:
        rows = self._targets()
        if rows:
            self._with_reason(
                f"Take {plural(len(rows), 'device')} out of the imaging order. Why?",
                lambda why: self.session.take_out(rows, why),
                "taken out of the order",
            )

    def _with_reason(self, question: str, call: Callable[[str], list[Edit]], what: str) -> None:
        """Ask who is working (once), then the reason, then make the marks."""

        async def ask() -> None:
            why = await self.app.push_screen_wait(PromptScreen(question))
            if why:
                self._walk_call(lambda: call(why), what)

        self._with_author(ask)

    def _walk_call(self, call: Callable[[], list[Edit]], what: str) -> None:
        try:
            edits = call()
        except CoaError as exc:
            self.notify(safe_text(str(exc)), severity="error", timeout=8)
            return
        self._walked(edits, what)

    @after_load
    def action_select(self) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        self.grid.selected.symmetric_difference_update({row})
        self.grid.action_move(1, 0)
        self.grid.refresh()
        self.refresh_status()

    @after_load
    def action_select_all(self) -> None:
        """Select every row the filter shows; again to clear the selection."""
        shown = self.grid.view
        if len(self.grid.selected) >= len(shown) and all(r in self.grid.selected for r in shown):
            self.grid.selected.clear()
        else:
            self.grid.selected.update(cast("Sequence[RowIndex]", shown))  # the view's rows
        self.grid.refresh()
        self.refresh_status()

    @after_load
    def action_set_field(self) -> None:
        """Set the cursor's column to one value on every selected row (one undo step)."""
        rows, col = sorted(self.grid.selected), self.grid.current_column()
        if not rows or col is None:
            self.notify("Select rows first: space selects one, A all the filter shows.")
            return
        if self.audit.inv.is_derived(col.index):
            self.notify(
                "This column is not the file's: it cannot be set.", severity="error", timeout=6
            )
            return

        def value(text: str | None) -> None:
            if text is None:
                return
            refused = [r for r in rows if self.session.cell_notice(r, col.index)[0] is not None]
            cells = [(r, col.index, text) for r in rows if r not in set(refused)]

            def apply() -> None:
                edits = self.session.apply_many(cells)
                self.grid.selected.clear()
                note = f"; {len(refused)} refused (special cells)" if refused else ""
                self.notify(
                    f"{safe_text(col.title)} set on {plural(len(edits), 'row')}{note}.", timeout=5
                )
                self.after_change()

            self._with_author(apply)

        self.app.push_screen(
            PromptScreen(
                f"Set {safe_text(col.title)} on {len(rows)} selected row(s) to:", required=False
            ),
            value,
        )

    def on_key(self, event: events.Key) -> None:
        """Keys a scanner sends right behind the key that opens scan mode arrive here before
        the scan screen exists: they are kept for it, never run as commands. Outside scan
        mode, with the grid focused, the guard holds printable keys for a moment: a
        scanner's burst is taken as a scan (the cursor goes to the device), never as
        commands."""
        scan, early = self._scan_screen, self._scan_early
        printable = event.character if event.is_printable else None
        if scan is not None and scan.feed(event.key, printable):
            event.stop()
            event.prevent_default()
        elif early is not None and (event.key == "enter" or printable):
            early.append((event.key, printable))
            event.stop()
            event.prevent_default()
        elif self.focused is self.grid and self.scan_guard.take(event):
            event.stop()  # held, or sent again in turn, or a scan: see tui/burst.py
            event.prevent_default()
        elif self.session.author and any(
            b.action == "scan" for b in self._bindings.key_to_bindings.get(event.key, [])
        ):
            self._scan_early = []  # until the scan screen takes them

    def _scanned(self, code: str) -> None:
        """A scanner's burst outside scan mode: the cursor goes to the device, as go to
        finds it; nothing is marked and no key of it ran as a command."""
        rows, inv = self.session.code_index()(code), self.audit.inv
        said, hint = f"Scanned '{safe_text(code)}'", "(press b for scan mode to mark devices)"
        if not rows:
            self.notify(
                f"{said}: no device has this serial number or asset tag {hint}.",
                severity="warning",
                timeout=8,
            )
            return
        self._show_row(rows[0])
        where = ", ".join(str(inv.row_numbers[r]) for r in rows)
        if len(rows) == 1:
            self.notify(f"{said}: row {where} {hint}", timeout=6)
        else:
            self.notify(
                f"{said}: on rows {where}; the cursor is on the first {hint}",
                severity="warning",
                timeout=8,
            )

    @after_load
    async def action_scan(self) -> None:
        if self.session.author:  # awaited: a code scanned at once reaches the new screen
            await self._scan()
        else:
            self._with_author(self._scan)

    async def _scan(self) -> None:
        inv, audit = self.audit.inv, self.audit

        def mark(row: RowIndex) -> tuple[str, str, str]:
            self.session.sight([row], scanned=True)
            return told(row)

        def confirm(row: RowIndex, outcome: str, says: str) -> tuple[str, str, str]:
            self.session.confirm_label([row], outcome, says, scanned=True)
            return told(row)

        def told(row: RowIndex) -> tuple[str, str, str]:
            level = Status(audit.status_level(row))
            about = ", ".join(
                v
                for v in (
                    f"row {inv.row_numbers[row]}",
                    inv.field(row, "serial_number"),
                    inv.field(row, "asset_tag"),
                    inv.field(row, "model"),
                )
                if v
            )
            if level in (Status.REVIEW, Status.BLOCKED):  # why, and what to do, at arm's length
                first = next(iter(audit.findings(row)), None)
                if first is not None:
                    info = code_info(first.code)
                    about += f"\n{info.title}: {info.action}"
            return level.word, level.tone, about

        def done(results: list[ScanResult] | None) -> None:
            self._scan_screen = None
            results = results or []
            for r in results:
                if r.outcome in ("unknown", "duplicate"):
                    self.session.record_scan(r.code, r.outcome)
            found = [r for r in results if r.rows and r.outcome != "duplicate"]
            if found:
                pos = self.grid.position_of(found[-1].rows[0])
                if pos is None:
                    self.grid.set_filter("all")
                    pos = self.grid.position_of(found[-1].rows[0])
                if pos is not None:
                    self.grid.move_to(pos, self.grid.cursor_col)
            flagged = [r for r in results if r.outcome in ("unknown", "duplicate")]
            self.notify(f"Scan: {screen.summary()}.", timeout=6)
            self.after_change()
            if flagged:
                text = Text("Scanned codes that were not one device\n\n", style="bold")
                for r in flagged:
                    what = (
                        "matched no device"
                        if r.outcome == "unknown"
                        else ("is on rows " + ", ".join(str(inv.row_numbers[x]) for x in r.rows))
                    )
                    text.append(f"{safe_text(r.code)}: {what}\n")
                self.app.push_screen(DetailScreen(text))

        screen = ScanScreen(self.session.code_index(), mark, confirm, self.session.expected_label)
        screen.row_names = lambda rows: [str(inv.row_numbers[r]) for r in rows]
        screen.feed_early(self._scan_early or [])
        self._scan_screen, self._scan_early = screen, None
        await self.app.push_screen(screen, done)

    # -- mapping, export, help, quit --------------------------------------------------------
    @after_load
    def action_mapping(self) -> None:
        inv = self.audit.inv
        letters = [inv.letter(c) for c in range(inv.source_width)]

        def done(mapping: dict[str, int] | None) -> None:
            if mapping is not None:
                self.apply_mapping(mapping)

        self.app.push_screen(MappingScreen(inv.source_headers, letters, inv.source_mapping), done)

    def apply_mapping(
        self, mapping: dict[str, int], origin: str = "screen", save: bool = True
    ) -> None:
        """Remap through the session (journaled, audited again), and keep a mapping the user
        set for the next file with these headers."""
        if not self.session.remap(dict(mapping), origin):
            return
        self.grid.rebuild_columns()
        self.grid.set_filter(self.grid.filter)
        self.refresh_status()
        note = "Mapping changed: the inventory was audited again."
        if save:
            try:
                path = save_mapping(self.audit.inv.source_headers, self.session.mapping_by_header())
                note += f" Saved for files with these headers ({safe_text(path.name)})."
            except OSError as exc:
                note += f" It could not be saved ({safe_text(str(exc))})."
        self.notify(note, timeout=5)

    @after_load
    def action_export(self) -> None:
        self.app_.export()

    @after_load
    def action_reopen(self) -> None:
        self.app_.ask_reopen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.app_.key_help()))

    def action_quit_guarded(self) -> None:
        self.app_.quit_guarded()
