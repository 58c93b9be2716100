"""coa-audit's full-screen auditor.

Loading runs in a thread worker that posts messages (progress, loaded, failed); the worker
never touches widgets. Every edit goes through core.History (which keeps the audit current
incrementally) and is appended to the edit journal before the screen updates.
"""

from __future__ import annotations

import bisect
import functools
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label, Static

from coa_audit.core.audit import Audit, mask_keys
from coa_audit.core.codes import code_info
from coa_audit.core.editions import suggestions
from coa_audit.core.errors import CoaError
from coa_audit.core.history import Edit
from coa_audit.core.status import Status
from coa_audit.core.text import editable, from_editable, plural, safe_text
from coa_audit.exporters.checklist import PROFILE_FIELDS, check_header, licences_warning
from coa_audit.exporters.export import Cancelled, ExportRequest, Written, export_all
from coa_audit.exporters.formats import INPUT_FORMATS
from coa_audit.session.journal import JournalLog, SessionLog
from coa_audit.session.mappings import mapping_overrides, save_mapping, saved_mapping_for
from coa_audit.session.session import Restored, Session, open_session
from coa_audit.session.state import (
    load_user_profile,
    load_verifier,
    save_user_profile,
    save_verifier,
)
from coa_audit.tui.grid import COLLECTION_FILTERS, FILTERS, TERMINAL_CSS, Grid
from coa_audit.tui.screens import (
    BusyScreen,
    ConfirmScreen,
    DetailScreen,
    ExportScreen,
    HelpScreen,
    LoadingScreen,
    MappingScreen,
    PromptScreen,
    RestoreScreen,
    ScanResult,
    ScanScreen,
)

__all__ = ["CoaAuditApp", "MainScreen", "run_app"]

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


_VERIFIER_QUESTION = (
    "Who is checking the devices? Your name goes on every mark made in this session "
    "(present, label, accepted, taken out)."
)


def _colours() -> str | None:
    """The terminal's colour system as Rich reads TERM and COLORTERM: truecolor, 256,
    standard (16) or None."""
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True).color_system


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


class LoadCancelled(Exception):
    pass


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
            tooltip="Show all devices, then only problems, blocked, review... in turn",
            id="main.filter",
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
            tooltip="This device's findings in full, with what to do",
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
            "a",
            "accept",
            "Accept after check",
            show=False,
            tooltip="Accept a device to review after checking it (a reason is asked)",
            id="main.accept",
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
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.audit: Audit = session.audit
        self.history = session.history
        self.editing: tuple[int, int] | None = None
        self.last_search = ""
        self._matches: tuple[tuple[object, ...], list[int]] | None = None  # search's count
        self.related_index = 0
        self._scan_screen: ScanScreen | None = None  # open, or opening
        self._scan_early: list[tuple[str, str | None]] | None = None  # keys before it opened
        self._loaded = (0, 0)  # (read, size) while the file is still loading

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
        return Text(
            f"Reading{share}: {len(self.audit.inv):,} rows so far. Statuses are provisional; "
            "edits wait until every row is read.",
            style="bold",
        )

    def show_target(self) -> None:
        """The target, the agreement and the notes about the file, on the findings panel's
        top edge: always there, covering nothing (a toast at open hid the findings)."""
        notices = self.audit.inv.notices()
        pol = self.audit.policy
        panel = self.query_one("#findings", Static)
        panel.border_title = Text(
            f" Target: {pol.target_label} ({pol.agreement} agreement). I: file, policy"
            + (f", {plural(len(notices), 'note')} " if notices else " "),
            style="bold" if notices else "",
        )

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
        sort = ""
        if grid.sort is not None:
            pos, desc = grid.sort
            sort = f"  sort: {safe_text(grid.columns[pos].title)} {'desc' if desc else 'asc'}"
        keys = "  keys shown" if grid.reveal_keys else ""
        edits = self.session.edit_count
        words = (
            ("devices", "eligible", "review", "blocked", "edits", "filter: ", "non-PC", "out"),
            ("devices", "eligible", "review", "blocked", "edits", "filter: ", "nonPC", "out"),
            ("dev", "ok", "rev", "blk", "ed", "f:", "nonPC", "out"),
        )
        not_pc = s.out_of_scope - s.removed  # taken out of the order is not "not a PC"
        # the long words when they fit (two spaces apart, then one), short ones on a narrow
        # terminal
        for w, gap in ((words[0], "  "), (words[1], " "), (words[2], "  ")):
            text = Text()
            text.append(f"{s.devices} {w[0]}{gap}")
            accepted = f" ({s.attested} accepted)" if s.attested else ""
            text.append(f"{s.eligible} {w[1]}{accepted}", style=self.tone("success"))
            text.append(gap)
            text.append(f"{s.review} {w[2]}", style=self.tone("warning"))
            text.append(gap)
            text.append(f"{s.blocked} {w[3]}", style=self.tone("error"))
            text.append(gap)
            if not_pc:
                text.append(f"{not_pc} {w[6]}", style=self.tone("muted"))
                text.append(gap)
            if s.removed:
                text.append(f"{s.removed} {w[7]}", style=self.tone("muted"))
                text.append(gap)
            text.append(f"{edits} {w[4]}{gap}{w[5]}{grid.filter}{sort}")
            text.append(keys, style="bold")
            if grid.selected:
                word = "selected" if w is words[0] else "sel"
                text.append(f"{gap}{len(grid.selected)} {word}", style="bold reverse")
            if not bar.size.width or text.cell_len <= bar.size.width:  # size: inside padding
                break
        bar.update(text)
        self.show_target()
        self.refresh_findings()

    def refresh_findings(self) -> None:
        panel = self.query_one("#findings", Static)
        row = self.grid.current_row()
        if row is None:
            panel.update(Text("No device matches this filter (f changes it)."))
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
            text.append("No findings: this device can be certified.", style=self.tone("success"))
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
        for n in notices or ["none"]:
            text.append(f"- {safe_text(n)}\n")
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
        if row is not None:
            self.app.push_screen(DetailScreen(self.findings_text(row)))

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
        grid = self.grid
        filters = FILTERS + (COLLECTION_FILTERS if self.audit.inv.collection else ())
        grid.set_filter(filters[(filters.index(grid.filter) + 1) % len(filters)])
        self.refresh_status()
        if grid.filter == "not-in-register":
            self.show_not_in_register()

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
            pos = self.grid.position_of(rows[0])
            if pos is None:
                self.grid.set_filter("all")
                pos = self.grid.position_of(rows[0])
            if pos is not None:
                self.grid.move_to(pos, self.grid.cursor_col)
                self.refresh_status()
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

    # -- search ----------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
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
        self._preview(box.value)
        box.focus()
        box.cursor_position = len(box.value)

    def _preview(self, value: str) -> None:
        if self.editing is None:
            return
        row, col = self.editing
        status, codes = self.audit.preview(row, col, from_editable(value))
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

    def commit(self, row: int, col: int, value: str, origin: str = "screen") -> None:
        refused, _warning = self.session.cell_notice(row, col)
        if refused is not None:
            self.notify(f"Not edited: {safe_text(refused)}.", severity="error", timeout=10)
            return
        if self.session.apply(row, col, value, origin) is None:
            return  # the value did not change
        self.app_.check_journal()
        self.after_change()

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
        self.app_.check_journal()
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
        self.grid.focus()

    # -- the walk through the fleet ---------------------------------------------------------
    def _targets(self) -> list[int]:
        """The selected rows, else the row under the cursor."""
        if self.grid.selected:
            return sorted(self.grid.selected)
        row = self.grid.current_row()
        return [] if row is None else [row]

    def _with_verifier(self, then: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``then`` once the verifier's name is known (asked once per session); it may
        be a coroutine function (scan mode opens a screen)."""
        if self.session.verifier:
            result = then()
            if result is not None:
                self.run_worker(result, exclusive=True, group="walk")
            return
        self._ask_verifier(then)

    @work(exclusive=True, group="walk")
    async def _ask_verifier(self, then: Callable[[], Awaitable[None] | None]) -> None:
        """The verifier's name, then ``then``: the name screen is gone (popped and awaited)
        before anything else opens, so no key lands on a closing screen."""
        question = _VERIFIER_QUESTION
        while True:
            name = await self.app.push_screen_wait(PromptScreen(question, ""))
            if not name:
                return
            if not self.session.code_index()(name):
                break
            # a scanner's burst reached the prompt: a device's code is no one's name
            question = (
                f"{safe_text(name)!r} is a device's serial number or asset tag, not a name. "
                + _VERIFIER_QUESTION
            )
        self.session.verifier = name
        save_verifier(name)
        result = then()
        if result is not None:
            await result

    def _walked(self, edits: list[Edit], what: str) -> None:
        self.app_.check_journal()
        self.grid.selected.clear()
        self.notify(f"{plural(len(edits), 'device')} {what}.", timeout=4)
        self.after_change()

    @after_load
    def action_sighted(self) -> None:
        rows = self._targets()
        if rows:
            self._with_verifier(lambda: self._walked(self.session.sight(rows), "marked present"))

    @after_load
    def action_accept(self) -> None:
        rows = self._targets()
        levels = self.audit.status_view
        wrong = [r for r in rows if levels[r] != Status.REVIEW]
        if not rows or wrong:
            word = self.audit.status(wrong[0]) if wrong else ""
            self.notify(
                "Only a device under REVIEW can be accepted after a physical check"
                + (": a blocked device needs its data fixed." if word == "blocked" else "."),
                severity="error",
                timeout=6,
            )
            return

        self._with_reason(
            f"Accept {plural(len(rows), 'device')} under review after a physical check. Why? "
            '(for example "label sighted: Windows 10 Pro", "OEM invoice 4471")',
            lambda why: self.session.attest(rows, why),
            "accepted",
        )

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
        """Ask the verifier's name (once), then the reason, then make the marks."""

        def answered(why: str | None) -> None:
            if not why:
                return
            try:
                edits = call(why)
            except CoaError as exc:
                self.notify(safe_text(str(exc)), severity="error", timeout=8)
                return
            self._walked(edits, what)

        async def ask() -> None:
            answered(await self.app.push_screen_wait(PromptScreen(question)))

        self._with_verifier(ask)

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
            self.grid.selected.update(shown)
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
            edits = self.session.apply_many(cells)
            self.app_.check_journal()
            self.grid.selected.clear()
            note = f"; {len(refused)} refused (special cells)" if refused else ""
            self.notify(
                f"{safe_text(col.title)} set on {plural(len(edits), 'row')}{note}.", timeout=5
            )
            self.after_change()

        self.app.push_screen(
            PromptScreen(
                f"Set {safe_text(col.title)} on {len(rows)} selected row(s) to:", required=False
            ),
            value,
        )

    def on_key(self, event: events.Key) -> None:
        """Keys a scanner sends right behind the key that opens scan mode arrive here before
        the scan screen exists: they are kept for it, never run as commands."""
        scan, early = self._scan_screen, self._scan_early
        printable = event.character if event.is_printable else None
        if scan is not None and scan.feed(event.key, printable):
            event.stop()
            event.prevent_default()
        elif early is not None and (event.key == "enter" or printable):
            early.append((event.key, printable))
            event.stop()
            event.prevent_default()
        elif self.session.verifier and any(
            b.action == "scan" for b in self._bindings.key_to_bindings.get(event.key, [])
        ):
            self._scan_early = []  # until the scan screen takes them

    @after_load
    async def action_scan(self) -> None:
        if self.session.verifier:  # awaited: a code scanned at once reaches the new screen
            await self._scan()
        else:
            self._with_verifier(self._scan)

    async def _scan(self) -> None:
        inv, audit = self.audit.inv, self.audit

        def mark(row: int) -> tuple[str, str, str]:
            self.session.sight([row], scanned=True)
            return told(row)

        def confirm(row: int, outcome: str, says: str) -> tuple[str, str, str]:
            self.session.confirm_label([row], outcome, says)
            return told(row)

        def told(row: int) -> tuple[str, str, str]:
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
            self.app_.check_journal()
            found = [r for r in results if r.rows and r.outcome != "duplicate"]
            if found:
                pos = self.grid.position_of(found[-1].rows[0])
                if pos is None:
                    self.grid.set_filter("all")
                    pos = self.grid.position_of(found[-1].rows[0])
                if pos is not None:
                    self.grid.move_to(pos, self.grid.cursor_col)
            flagged = [r for r in results if r.outcome in ("unknown", "duplicate")]
            present = sum(1 for r in results if r.outcome == "sighted")
            self.notify(
                f"Scan: {plural(present, 'device')} present, "
                f"{plural(len(flagged), 'code')} flagged.",
                timeout=6,
            )
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

        screen = ScanScreen(self.session.code_index(), mark, confirm)
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
        self.app_.check_journal()
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

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.app_.key_help()))

    def action_quit_guarded(self) -> None:
        self.app_.quit_guarded()


class CoaAuditApp(App[None]):
    TITLE = "coa-audit"
    ENABLE_COMMAND_PALETTE = True
    CSS = TERMINAL_CSS

    class Progress(Message):
        def __init__(self, stage: str, done: int, total: int) -> None:
            self.stage, self.done, self.total = stage, done, total
            super().__init__()

    class Glimpse(Message):
        """The rows read so far of a file still loading."""

        def __init__(self, session: Session) -> None:
            self.session = session
            super().__init__()

    class Loaded(Message):
        def __init__(self, session: Session) -> None:
            self.session = session
            super().__init__()

    class Failed(Message):
        def __init__(self, message: str | None, exit_code: int = 70) -> None:
            self.message = message
            self.exit_code = exit_code
            super().__init__()

    def __init__(
        self,
        path: str | Path,
        *,
        sheet: str | None = None,
        target: str | None = None,
        agreement: str | None = None,
        policy_path: str | Path | None = None,
        maps: Sequence[str] = (),
        mapping_file: str | Path | None = None,
        evidence: Sequence[str | Path] = (),
        walk: str | Path | None = None,
    ) -> None:
        # 16 colours: the terminal's own ANSI colours, sent as they are (converted to RGB
        # and back they land on the wrong ones: review red, blocked magenta)
        self.ansi16 = "NO_COLOR" not in os.environ and _colours() == "standard"
        super().__init__(ansi_color=True if self.ansi16 else None)
        self.path = Path(path)
        self.options = dict(
            sheet=sheet,
            target=target,
            agreement=agreement,
            policy_path=policy_path,
            maps=tuple(maps),
            mapping_file=mapping_file,
            evidence=tuple(evidence),
        )
        self.walk = Path(walk) if walk is not None else None  # a walk file to put back
        self.walk_missed: list[str] = []
        self.session: Session | None = None
        self.main: MainScreen | None = None
        self._journal_warned = False
        self._journal_private_said = False
        # sessions a crash left, offered one after another
        self._restore_queue: list[SessionLog] = []
        self._restore_total = 0
        self._restore_log: JournalLog | None = None
        self._edits_before_restore = 0
        self._cancel = threading.Event()
        self._export_cancel = threading.Event()
        self._last_progress = 0.0
        self.error: str | None = None
        self.error_code = 0  # the exit code that goes with ``error``

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: they quote file names, search terms and cell
        values, which must never be read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it copies in a text box): say what does, in plain words."""
        self.notify("Press q (or ctrl+q) to quit.", title="Do you want to quit?")

    def _fatal_error(self) -> None:
        """Textual's crash report shows local variables, which can hold product keys and
        whole rows: show the traceback without them."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    # -- loading ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.ansi16:
            self.add_class("-ansi16")  # the grid tints in the terminal's own colours
        self.push_screen(LoadingScreen(safe_text(self.path.name)))
        self.load()

    def cancel_loading(self) -> None:
        self._cancel.set()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise LoadCancelled
        now = time.monotonic()
        if now - self._last_progress > 0.05 or done >= total:
            self._last_progress = now
            self.post_message(self.Progress(stage, done, total))

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        try:
            session = open_session(
                self.path,
                progress=self._progress,
                glimpse=self._glimpse,
                **self.options,  # type: ignore[arg-type]
            )
            if self.walk is not None:
                self.walk_missed = session.load_walk(self.walk)
        except LoadCancelled:
            self.post_message(self.Failed(None))
            return
        except CoaError as exc:
            self.post_message(self.Failed(str(exc), exc.exit_code))
            return
        except Exception as exc:  # a bug: show it as one line, keep the app usable
            self.post_message(self.Failed(f"internal error: {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Loaded(session))

    def _glimpse(self, part: Session) -> None:
        """From the load's thread: the rows read so far, to show."""
        self.post_message(self.Glimpse(part))

    def on_coa_audit_app_progress(self, msg: Progress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.progress(msg.stage, msg.done, msg.total)
        elif self.main is not None and msg.stage == "reading":
            self.main.loading_progress(msg.done, msg.total)

    def on_coa_audit_app_glimpse(self, msg: Glimpse) -> None:
        """The first rows on screen while the rest loads: moving, searching, filtering and
        sorting work on them; every change waits for the whole file."""
        if self._cancel.is_set() or self.error is not None:
            return
        if self.main is None:
            self.main = MainScreen(msg.session)
            self.switch_screen(self.main)
        elif self.main.session.loading:
            self.main.adopt(msg.session)

    def on_coa_audit_app_failed(self, msg: Failed) -> None:
        if msg.message is None:
            self.exit(message="coa-audit: loading cancelled")
            return
        self.error = msg.message
        self.error_code = msg.exit_code
        if self.main is not None:  # the first rows were shown: the error replaces them
            self.main = None
            self.switch_screen(LoadingScreen(safe_text(self.path.name), msg.message))
        elif isinstance(self.screen, LoadingScreen):
            self.screen.failed(msg.message + "   (q quits)")

    def on_coa_audit_app_loaded(self, msg: Loaded) -> None:
        self.session = msg.session
        msg.session.verifier = msg.session.verifier or load_verifier()  # asked once per folder
        if self.main is None:
            self.main = MainScreen(msg.session)
            self.switch_screen(self.main)
        else:  # its first rows are on screen: the whole file takes their place
            self.main.adopt(msg.session)
        pending, log = msg.session.pending()
        self.check_journal()
        self._warn_other_editors(log)
        self.load_special_cells()
        if self.walk is not None:
            placed = len(msg.session.changes())
            missed = "; ".join(self.walk_missed[:3]) + (" ..." if len(self.walk_missed) > 3 else "")
            self.notify(
                f"Walk {self.walk.name}: {plural(placed, 'mark')} put back"
                + (f"; {len(self.walk_missed)} not placed: {missed}" if self.walk_missed else "."),
                severity="warning" if self.walk_missed else "information",
                timeout=10,
            )
        if pending:  # each session a crash left, newest first, one question each
            self._restore_queue = list(pending[1:])
            self._restore_total = len(pending)
            self._offer_restore(pending[0], log)
        elif not self.options["maps"] and not self.options["mapping_file"]:
            self._offer_saved_mapping()

    def _offer_saved_mapping(self) -> None:
        """A mapping the user saved for files with these headers is offered, never imposed."""
        assert self.session is not None and self.main is not None
        session = self.session
        found = saved_mapping_for(session.inventory.source_headers)
        if found is None:
            return
        path, saved = found
        mapping = mapping_overrides(saved, session.inventory.source_headers)
        if mapping == session.inventory.source_mapping:
            return

        def answer(yes: bool | None) -> None:
            if yes and self.main is not None:
                self.main.apply_mapping(mapping, origin="saved mapping", save=False)

        self.push_screen(
            ConfirmScreen(
                "You saved a column mapping for files with these headers. Use it?",
                f"Saved in {safe_text(str(path))}. n keeps the mapping read from the file.",
            ),
            answer,
        )

    def _offer_restore(self, earlier: SessionLog, log: JournalLog) -> None:
        assert self.session is not None
        count = earlier.net_cells()
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(earlier.last_time))
        which = ""
        if self._restore_total > 1:
            which = f" ({self._restore_total - len(self._restore_queue)} of {self._restore_total})"
        question = (
            f"This file has {plural(count, 'unsaved edit')} from an earlier session{which} "
            f"(last change {when}). Restore them?"
        )
        detail = ""
        if self._restore_total > 1:
            detail += (
                f"{self._restore_total} sessions ended without saving; each is offered in "
                "turn, and an edit whose cell another one changed is listed, never applied. "
            )
        if any(op.kind == "remap" for op in earlier.ops):
            detail += "That session also changed the column mapping. "
        if log.skipped:
            detail += f"{log.skipped} unreadable journal line(s) will be skipped. "
        if earlier.sha256 and earlier.sha256 != self.session.inventory.source.sha256:
            detail += (
                "The file has changed since: each edit goes back to its own device (found by "
                "serial, asset tag or host name), and edits that cannot be placed are listed, "
                "never applied elsewhere."
            )

        def chosen(choice: str | None) -> None:
            assert self.session is not None
            if choice == "restore":
                self._edits_before_restore = self.session.edit_count
                self.push_screen(BusyScreen("Restoring edits…"))
                self.run_restore(earlier)
            elif choice == "discard":
                self.session.discard(earlier)
                self.check_journal()
                self.notify(f"Discarded {plural(count, 'edit')} of the earlier session.", timeout=5)
                self._offer_next_restore(log)
            else:
                self.notify(
                    "The earlier edits are kept: you will be asked again next time.", timeout=5
                )
                self._offer_next_restore(log)

        self._restore_log = log
        self.push_screen(RestoreScreen(question, detail.strip()), chosen)

    def _offer_next_restore(self, log: JournalLog | None) -> None:
        if self._restore_queue and log is not None:
            self._offer_restore(self._restore_queue.pop(0), log)

    class RestoreProgress(Message):
        def __init__(self, done: int, total: int) -> None:
            self.done, self.total = done, total
            super().__init__()

    class RestoreDone(Message):
        def __init__(self, result: Restored | None, error: str | None) -> None:
            self.result, self.error = result, error
            super().__init__()

    @work(thread=True, exclusive=True, group="restore")
    def run_restore(self, earlier: SessionLog) -> None:
        """Replays the earlier session behind a busy screen (nothing reads the data while
        it changes) and reports progress."""
        assert self.session is not None
        last = [0.0]

        def progress(_stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.05 or done >= total:
                last[0] = now
                self.post_message(self.RestoreProgress(done, total))

        try:
            result = self.session.restore(earlier, progress)
        except Exception as exc:  # a bug: say so, keep the app usable
            self.post_message(self.RestoreDone(None, f"internal error: {type(exc).__name__}"))
            return
        self.post_message(self.RestoreDone(result, None))

    def on_coa_audit_app_restore_progress(self, msg: RestoreProgress) -> None:
        if isinstance(self.screen, BusyScreen):
            self.screen.progress(msg.done, msg.total)

    def on_coa_audit_app_restore_done(self, msg: RestoreDone) -> None:
        if isinstance(self.screen, BusyScreen):
            self.pop_screen()
        assert self.main is not None
        self.main.grid.rebuild_columns()
        self.main.grid.set_filter(self.main.grid.filter)
        self.main.after_change()
        self.check_journal()
        if msg.result is None:
            self.notify(msg.error or "restore failed", severity="error", timeout=10)
            return
        # the cells that differ from the file, as the question counted them and the bar shows
        restored = self.main.session.edit_count - self._edits_before_restore
        note = f"Restored {plural(max(restored, 0), 'edit')}."
        if msg.result.skipped:
            shown = "; ".join(msg.result.skipped[:3])
            more = f" and {len(msg.result.skipped) - 3} more" if len(msg.result.skipped) > 3 else ""
            note += f" Not applied ({len(msg.result.skipped)}): {shown}{more}."
            self.notify(note, severity="warning", timeout=20)
        else:
            self.notify(note, timeout=5)
        self._offer_next_restore(self._restore_log)

    @work(thread=True, exclusive=True, group="special")
    def load_special_cells(self) -> None:
        """Formulas, merged ranges and table rows of the sheet, read once off the UI thread
        so the edit bar can say beforehand what an edit will do."""
        if self.session is not None:
            self.session.load_special_cells()

    def check_journal(self) -> None:
        """Say once, loudly, when edits stop being protected by the journal."""
        if self.session is None or self._journal_warned:
            return
        warning = self.session.journal_warning
        if warning and not self._journal_private_said:
            self._journal_private_said = True
            self.notify(
                safe_text(warning[0].upper() + warning[1:]) + ".", severity="error", timeout=30
            )
        error = self.session.journal_error
        if error:
            self._journal_warned = True
            self.notify(
                f"Edits are NOT protected: the edit journal cannot be written ({error}). "
                "Editing still works; export (ctrl+s) before you quit.",
                severity="error",
                timeout=30,
            )

    def _warn_other_editors(self, log: JournalLog) -> None:
        p = self.path
        for lock in (p.with_name("~$" + p.name), p.with_name(f".~lock.{p.name}#")):
            if lock.exists():
                self.notify(
                    f"{safe_text(p.name)} looks open in Excel or LibreOffice "
                    f"({safe_text(lock.name)}): save and close it there first.",
                    severity="warning",
                    timeout=10,
                )
                break
        host = socket.gethostname()
        for s in list(log.sessions.values())[-5:]:
            pid = s.pid
            if s.host == host and not s.closed and pid is not None and pid != os.getpid():
                try:
                    os.kill(pid, 0)
                except OSError:
                    continue
                self.notify(
                    f"Another coa-audit session (pid {pid}) has this file open: "
                    "edits in both may conflict.",
                    severity="warning",
                    timeout=10,
                )
                break

    # -- export ----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.session is not None and self.session.dirty

    def export(self) -> None:
        """ctrl+s: the export screen with the defaults filled in, then a worker writes."""
        assert self.session is not None
        inv = self.session.inventory
        note = INPUT_FORMATS[inv.source.format].export_note

        def chosen(request: ExportRequest | None) -> None:
            if request is None:
                return
            self._export_cancel.clear()
            self.push_screen(BusyScreen("Exporting…", cancel=self._export_cancel.set))
            self.run_export(request)

        remembered, remembered_from = load_user_profile()
        self.push_screen(
            ExportScreen(
                str(Path(inv.source.path).parent),
                remembered,
                remembered_from,
                note,
                source_name=Path(inv.source.path).name,
                eligible=self.session.audit.summary().eligible,
                filter_name=self.main.grid.filter if self.main else "all",
                filter_rows=self.main.grid.view if self.main else (),
                target_label=self.session.audit.policy.target_label,
            ),
            chosen,
        )

    class Exported(Message):
        def __init__(
            self,
            written: list[Written] | None,
            error: str | None,
            edits: dict[tuple[int, int], str],
        ) -> None:
            self.written, self.error, self.edits = written, error, edits
            super().__init__()

    class ExportProgress(Message):
        def __init__(self, step: str, done: int, total: int) -> None:
            self.step, self.done, self.total = step, done, total
            super().__init__()

    def on_coa_audit_app_export_progress(self, msg: ExportProgress) -> None:
        if isinstance(self.screen, BusyScreen):
            self.screen.progress(msg.done, msg.total, f"Writing the {msg.step}")

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, request: ExportRequest) -> None:
        assert self.session is not None and self.main is not None
        session = self.session
        edits = dict(session.inventory.edits)
        last = [0.0]

        def progress(step: str, done: int, total: int) -> None:
            if self._export_cancel.is_set():
                raise Cancelled("cancelled")
            now = time.monotonic()
            if now - last[0] > 0.05 or done == 0:
                last[0] = now
                self.post_message(self.ExportProgress(step, done, total))

        try:
            request.header = check_header(request.header, session.policy)
            request.edited_by = session.verifier  # the name given, never the login name
            written = export_all(
                session.audit,
                session.changes(),
                request,
                session.mapping_changes,
                baseline=session.baseline,
                scans=session.scan_flags,
                progress=progress,
            )
        except CoaError as exc:
            self.post_message(self.Exported(None, str(exc), edits))
            return
        except Exception as exc:  # a bug: say so, keep the session (and its journal)
            self.post_message(
                self.Exported(None, f"internal error: {type(exc).__name__}: {exc}", edits)
            )
            return
        save_user_profile(request.header, PROFILE_FIELDS, Path(session.inventory.source.path).name)
        too_many = licences_warning(session.audit, request.header)  # the packet's own words
        if too_many:
            self.notify(too_many, severity="warning", timeout=12)
        self.post_message(self.Exported(written, None, edits))

    def on_coa_audit_app_exported(self, msg: Exported) -> None:
        if isinstance(self.screen, BusyScreen):
            self.pop_screen()
        if msg.error is not None or msg.written is None:
            self.notify(safe_text(msg.error or "export failed"), severity="error", timeout=10)
            return
        assert self.session is not None
        self.session.mark_exported(msg.edits)
        names = ", ".join(safe_text(w.path.name) for w in msg.written)
        self.notify(f"Wrote {names}", timeout=8)

    async def action_quit(self) -> None:
        """ctrl+q and the palette's Quit go through the same guard as q."""
        if self.main is None:
            self.exit()
        else:
            self.quit_guarded()

    def quit_guarded(self) -> None:
        if self.session is None:  # the first rows are shown, the rest is still loading
            self.cancel_loading()
            self.exit(message="coa-audit: loading cancelled")
            return
        unprotected = self.session is not None and self.session.journal_error is not None
        if not self.dirty:
            if self.session is not None:
                self.session.close()
            self.exit()
            return
        cells, marks = self.session.unexported() if self.session else (0, 0)
        what = (
            " and ".join(
                part
                for part in (
                    plural(cells, "edited cell") if cells else "",
                    plural(marks, "walk mark") + " (present, label, accepted, taken out)"
                    if marks
                    else "",
                )
                if part
            )
            or "A change"
        )
        verb = "is" if cells + marks == 1 or not (cells or marks) else "are"

        def answer(yes: bool | None) -> None:
            if yes:
                if self.session is not None:
                    self.session.close()
                self.exit()

        self.push_screen(
            ConfirmScreen(
                f"{what} {verb} not exported yet (ctrl+s exports). Quit anyway?",
                (
                    "The edit journal could not be written: these will be LOST."
                    if unprotected
                    else "They stay in the edit journal: opening this file again offers to "
                    "restore them."
                    + (
                        " Exporting writes the walk to NAME.walk.csv beside the outputs."
                        if marks
                        else ""
                    )
                ),
            ),
            answer,
        )

    # -- help and the command palette ------------------------------------------------------
    def _all_bindings(self) -> Iterable[tuple[Binding, str]]:
        for b in MainScreen.BINDINGS:
            if isinstance(b, Binding):
                yield b, "screen"
        for b in Grid.BINDINGS:
            if isinstance(b, Binding):
                yield b, "grid"

    def key_help(self) -> list[tuple[str, str, str]]:
        rows = []
        for b, _target in self._all_bindings():
            keys = ", ".join(self.get_key_display(Binding(k, "")) for k in b.key.split(","))
            rows.append((keys, b.tooltip or b.description, b.id or b.action))
        rows.append(
            ("ctrl+p", "Command palette: find any action by its words", "app.command_palette")
        )
        return rows

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.main is None or screen is not self.main:
            return
        main = self.main
        for b, target in self._all_bindings():
            if b.id in ("main.close_bars",):
                continue
            keys = ", ".join(self.get_key_display(Binding(k, "")) for k in b.key.split(","))

            async def run(action: str = b.action, where: str = target) -> None:
                await self.run_action(action, main.grid if where == "grid" else main)

            yield SystemCommand(b.tooltip or b.description, f"key: {keys}", run)


def run_app(path: str | Path, **options: object) -> tuple[str, int] | None:
    """Run the app; returns the load error the user saw and its exit code, if the file could
    not be opened."""
    app = CoaAuditApp(path, **options)  # type: ignore[arg-type]
    app.run()
    return (app.error, app.error_code) if app.error else None
