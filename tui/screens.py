"""Modal screens: help, confirm, column mapping, loading."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Checkbox, Footer, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from coa_audit.core.errors import UsageError
from coa_audit.core.model import CANONICAL_FIELDS, FIELD_LABELS, RowIndex
from coa_audit.core.text import editable, from_editable, plural, safe_text
from coa_audit.exporters.export import ExportRequest
from coa_audit.exporters.formats import CHECKLISTS
from coa_audit.importers.encodings import DELIMITER_NAMES, encoding_label
from coa_audit.importers.load import text_options

__all__ = [
    "BusyScreen",
    "ConfirmScreen",
    "DetailScreen",
    "ExportScreen",
    "HelpScreen",
    "LoadingScreen",
    "MappingScreen",
    "PromptScreen",
    "Question",
    "Reading",
    "ReopenScreen",
    "RestoreScreen",
    "ScanResult",
    "ScanScreen",
]


def dismiss_once(screen: Screen[Any], result: Any) -> None:
    """Dismiss ``screen`` once, and only while it is on top: an Enter typed fast (a barcode
    scanner, a key held down) can reach a screen that is already closing, and a second
    dismissal would close the screen below it."""
    if getattr(screen, "_dismissed", False) or screen.app.screen is not screen:
        return
    screen._dismissed = True  # type: ignore[attr-defined]
    screen.dismiss(result)


def plain(text: str) -> Text:
    """Untrusted text as a renderable that can never be markup."""
    return Text(safe_text(text), no_wrap=False)


AnswerT = TypeVar("AnswerT")


class LoadingScreen(Screen[None]):
    """Shown from the first frame while the file loads; escape cancels. When a text file
    could not be read, E reads it again with another encoding or delimiter."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel loading", id="loading.cancel"),
        Binding("q", "app.quit", "Quit", id="loading.quit"),
        Binding("E", "reopen", "Reopen with encoding…", id="loading.reopen"),
    ]
    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen > Vertical { width: 70; height: auto; border: round $accent; padding: 1 2; }
    LoadingScreen #error { color: $error; width: 100%; height: auto; }
    """

    def __init__(self, filename: str, error: str | None = None, text: bool = False) -> None:
        """``text``: the file is a text table (E may read it again another way)."""
        super().__init__()
        self.filename = filename
        self.error = error  # shown at once: the load failed after its first rows were shown
        self.text = text
        self.has_failed = False

    def on_mount(self) -> None:
        if self.error is not None:
            self.failed(self.error + "   (q quits)")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(f"Opening {self.filename}"), id="title")
            yield Label("reading…", id="stage")
            yield ProgressBar(total=100, show_eta=False, id="bar")
            yield Label("", id="error")
        yield Footer()

    def progress(self, stage: str, done: int, total: int) -> None:
        self.query_one("#stage", Label).update(stage + "…")
        bar = self.query_one("#bar", ProgressBar)
        bar.update(total=max(total, 1), progress=done)

    def failed(self, message: str) -> None:
        self.has_failed = True
        self.query_one("#stage", Label).update("cannot open this file")
        if self.text:
            message += "   (E: read it with another encoding or delimiter)"
        self.query_one("#error", Label).update(plain(message))
        self.query_one("#bar", ProgressBar).display = False
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reopen":  # only once a text file failed to read
            return self.has_failed and self.text
        return True

    def action_cancel(self) -> None:
        self.app.cancel_loading()  # type: ignore[attr-defined]

    def action_reopen(self) -> None:
        self.app.ask_reopen()  # type: ignore[attr-defined]


class BusyScreen(ModalScreen[None]):
    """Holds the keys while a background job (export, restore) runs on the data; it hides
    the grid so nothing reads the data while the job changes it. With ``cancel``, Escape
    asks the job to stop."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="busy.cancel")]
    DEFAULT_CSS = """
    BusyScreen { align: center middle; background: $background; }
    BusyScreen > Vertical { width: 60; height: auto; border: round $accent; padding: 1 2;
                            background: $surface; }
    BusyScreen ProgressBar { display: none; }
    """

    def __init__(self, text: str, cancel: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.text, self.cancel = text, cancel

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.text), id="busy-text")
            yield Label("", id="busy-step")
            yield ProgressBar(total=100, show_eta=False)
            if self.cancel is not None:
                yield Label("escape: cancel (no file is left half written)")

    def progress(self, done: int, total: int, step: str = "") -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        if step:
            self.query_one("#busy-step", Label).update(plain(step))

    def action_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel()
            self.query_one("#busy-step", Label).update("Cancelling…")


class DetailScreen(ModalScreen[None]):
    """The current device's findings in full and its current cell whole (escape or i
    closes)."""

    BINDINGS = [Binding("escape,i,q", "app.pop_screen", "Close", id="details.close")]
    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    DetailScreen > VerticalScroll { width: 90%; height: 80%; border: round $accent;
                                    background: $surface; padding: 0 1; }
    """

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.text, id="detail-text")


class Question(ModalScreen[AnswerT]):
    """A question in a box, answered by the keys its ``keys`` line names."""

    DEFAULT_CSS = """
    Question { align: center middle; }
    Question > Vertical { width: 90%; max-width: 72; height: auto; max-height: 100%;
                          border: thick $warning; padding: 1 2; background: $surface; }
    Question Static { width: 100%; height: auto; }
    Question #detail, Question #keys { margin-top: 1; }
    """
    keys = ""

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical():  # Static wraps: the whole question shows at 80x24
            yield Static(plain(self.question), id="question")
            if self.detail:
                yield Static(plain(self.detail), id="detail")
            yield Static(Text(self.keys, style="bold"), id="keys")


class ConfirmScreen(Question[bool]):
    """A yes/no question answered with y or n (escape means no)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    keys = "y: yes    n: no"

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class BasisScreen(Question[str]):
    """What an acceptance rests on: l a check of the label, d a document, f firmware data
    collected from the PC (escape: no acceptance)."""

    BINDINGS = [
        Binding("l", "answer('label')", "Label checked", id="basis.label"),
        Binding("d", "answer('document')", "Document", id="basis.document"),
        Binding("f", "answer('firmware')", "Firmware data", id="basis.firmware"),
        Binding("escape", "cancel", "Cancel", id="basis.cancel"),
    ]
    keys = "l: I checked the label    d: a document    f: collected firmware data    esc: cancel"

    def __init__(self, devices: int) -> None:
        word = "this device" if devices == 1 else f"{devices} devices"
        super().__init__(
            f"Accept {word} under review. What is the acceptance based on?",
            "The packet prints the basis as it is: a document is never printed as a "
            "physical check.",
        )

    def action_answer(self, basis: str) -> None:
        self.dismiss(basis)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RestoreScreen(Question[str]):
    """Unsaved edits of an earlier session: restore (y), ask again next time (escape), or
    discard them for good (d, then confirm). Escape never throws work away."""

    BINDINGS = [
        Binding("y", "choose('restore')", "Restore", id="restore.yes"),
        Binding("escape,l,n", "choose('later')", "Later", id="restore.later"),
        Binding("d", "choose('discard')", "Discard", id="restore.discard"),
    ]
    keys = "y: restore    escape: later (ask again next time)    d: discard"

    def action_choose(self, choice: str) -> None:
        if choice != "discard":
            self.dismiss(choice)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss("discard")

        self.app.push_screen(
            ConfirmScreen("Discard these edits for good?", "They cannot be restored afterwards."),
            confirmed,
        )


class HelpScreen(ModalScreen[None]):
    """Every key, from the bindings themselves (so help can never go stale)."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 96; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        from rich.console import Group
        from rich.table import Table

        title = Text()
        title.append("coa-audit keys", style="bold")
        title.append("   (escape closes; ctrl+p lists every action too)\n")
        # a table, so a long action wraps in its own column; actions in words (the bindings'
        # ids are internal names, kept in self.rows for the tests only)
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
        table.add_column("Key", style="bold", no_wrap=True, min_width=8)
        table.add_column("What it does", overflow="fold")
        for key, words, _ident in self.rows:
            table.add_row(safe_text(key), safe_text(words))
        self.rows_renderable = Group(title, table)
        with VerticalScroll():
            yield Static(self.rows_renderable)


class MappingScreen(ModalScreen[dict[str, int] | None]):
    """See and change which source column is which field. Enter on a column picks its field;
    ctrl+s (or a) applies and re-audits; escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="mapping.cancel"),
        Binding("a,ctrl+s", "apply", "Apply and re-audit", id="mapping.apply"),
    ]
    DEFAULT_CSS = """
    MappingScreen { align: center middle; }
    MappingScreen > Vertical { width: 90%; max-width: 100; height: 90%; border: round $accent;
                               background: $surface; }
    MappingScreen OptionList { height: 1fr; }
    MappingScreen #fields { display: none; }
    """

    def __init__(self, headers: list[str], letters: list[str], mapping: dict[str, int]) -> None:
        super().__init__()
        self.headers, self.letters = headers, letters
        self.mapping = dict(mapping)
        self.editing: int | None = None

    def _column_options(self) -> list[Option]:
        by_col = {c: f for f, c in self.mapping.items()}
        out = []
        for c, h in enumerate(self.headers):
            field = by_col.get(c)
            label = Text()
            label.append(f"{self.letters[c]:<4}")
            label.append(f"{safe_text(h)[:34]:<36}")
            label.append(
                FIELD_LABELS[field] if field else "(unmapped)", style="bold" if field else "dim"
            )
            out.append(Option(label, id=f"col-{c}"))
        return out

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(
                    "Column mapping: enter picks a field for the column; "
                    "a applies and re-audits; escape cancels",
                    style="bold",
                )
            )
            yield OptionList(*self._column_options(), id="columns")
            fields = [Option(FIELD_LABELS[f] + f"  ({f})", id=f"f-{f}") for f in CANONICAL_FIELDS]
            yield OptionList(
                Option("(unmapped: carry the column through)", id="f--"), *fields, id="fields"
            )
        yield Footer()

    def on_mount(self) -> None:
        columns = self.query_one("#columns", OptionList)
        columns.highlighted = 0
        columns.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id or ""
        columns = self.query_one("#columns", OptionList)
        fields = self.query_one("#fields", OptionList)
        if oid.startswith("col-"):
            self.editing = int(oid[4:])
            columns.display = False
            fields.display = True
            fields.highlighted = 0
            fields.focus()
            return
        if oid.startswith("f-") and self.editing is not None:
            field = oid[2:]
            for f, c in list(self.mapping.items()):
                if c == self.editing or (field != "-" and f == field):
                    del self.mapping[f]
            if field != "-":
                self.mapping[field] = self.editing
            highlighted = self.editing
            self.editing = None
            columns.clear_options()
            columns.add_options(self._column_options())
            columns.highlighted = highlighted
            fields.display = False
            columns.display = True
            columns.focus()

    def action_apply(self) -> None:
        self.dismiss(self.mapping)

    def action_cancel(self) -> None:
        if self.editing is not None:
            self.editing = None
            self.query_one("#fields").display = False
            self.query_one("#columns").display = True
            self.query_one("#columns").focus()
            return
        self.dismiss(None)


class Tick(Checkbox):
    """A checkbox whose state shows without colour: X when on, blank when off (Textual's
    draws an X both ways and tells them apart by colour alone)."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Export with the defaults filled in: enter (or ctrl+s) writes, escape cancels. The
    packet's details remembered from the last export are offered here, marked, never used
    unseen; one remembered from another file says which."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "submit", "Export", id="export.submit"),
    ]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > VerticalScroll { width: 90%; max-width: 90; height: 90%; max-height: 30;
                                    border: round $accent; background: $surface; padding: 0 1; }
    ExportScreen Input { margin: 0 0 0 0; }
    /* the field being typed in shows without colour: a heavy frame instead of the thin one */
    ExportScreen Input:focus { border: heavy $accent; }
    ExportScreen Tick:focus > .toggle--label { text-style: bold reverse; }
    ExportScreen .row { height: auto; }
    ExportScreen .remembered { color: $warning; text-style: bold; }
    """

    def __init__(
        self,
        out_dir: str,
        remembered: dict[str, str],
        remembered_from: str = "",
        note: str = "",
        *,
        source_name: str = "",
        eligible: int = 0,
        filter_name: str = "all",
        filter_rows: Sequence[int] = (),
        target_label: str = "",
        warnings: Callable[[ExportRequest], list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.warnings = warnings  # what the review step says before writing (for a request)
        self.filter_name, self.filter_rows = filter_name, filter_rows
        self.target_label = target_label
        self.out_dir, self.remembered, self.note = out_dir, remembered, note
        self.remembered_from, self.source_name, self.eligible = (
            remembered_from,
            source_name,
            eligible,
        )

    def compose(self) -> ComposeResult:
        from coa_audit.exporters.checklist import HEADER_FIELDS, SIGNATURE_FIELDS

        with VerticalScroll():
            yield Static(
                Text(
                    "Export: corrected inventory, audit report, checklist  "
                    "(ctrl+s exports, escape cancels)",
                    style="bold",
                )
            )
            if self.note:
                yield Static(plain(self.note))
            other = self.remembered_from and self.remembered_from != self.source_name
            if self.remembered:
                where = (
                    f" with another file ({self.remembered_from})"
                    if other
                    else " with this file"
                    if self.remembered_from
                    else ""
                )
                yield Static(
                    plain(
                        f"Details marked * were remembered from your last export{where}: "
                        "check each one before exporting."
                    ),
                    classes="remembered",
                )
            yield Label("Output folder")
            yield Input(editable(self.out_dir), id="out_dir")
            for key, label in (*HEADER_FIELDS, *SIGNATURE_FIELDS):
                if key == "date":
                    continue
                value = self.remembered.get(key, "")
                if key == "licences":
                    label += f" (eligible now: {self.eligible})"
                if value:
                    label = (
                        f"* {label} (remembered{' from ' + self.remembered_from if other else ''})"
                    )
                yield Label(plain(label))
                yield Input(editable(value), id=key)
            yield Label("One checklist per value of (a field, such as location; empty: one)")
            yield Input("", id="checklist_by")
            for out in CHECKLISTS:
                yield Tick(out.checkbox, True, id=out.key)
            yield Tick(
                "Add status and findings columns to the corrected inventory", False, id="annotate"
            )
            yield Tick(
                f"Worklist of the {len(self.filter_rows)} rows the filter shows "
                f"({self.filter_name}), with findings and what to do",
                False,
                id="worklist",
            )
        yield Footer()  # this dialog's keys, not the screen's below

    def on_mount(self) -> None:
        self.query_one("#out_dir", Input).focus()  # the first field shown
        self._as_opened = self._form_state()

    def _form_state(self) -> list[tuple[str | None, object]]:
        """Every field and box as it stands: escape asks only when something changed."""
        fields: list[tuple[str | None, object]] = [(i.id, i.value) for i in self.query(Input)]
        return fields + [(c.id, c.value) for c in self.query(Checkbox)]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        """Show the packet's header as it will be printed; write only once it is confirmed
        (escape goes back to the form, every field as typed)."""
        request = self.request()
        if not request.checklist:
            dismiss_once(self, request)  # no packet: no header to review
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                dismiss_once(self, request)

        said = self.warnings(request) if self.warnings is not None else []
        self.app.push_screen(ReviewScreen(request, self.target_label, said), confirmed)

    def request(self) -> ExportRequest:
        """The request the form's fields make."""
        from pathlib import Path

        from textual.widgets import Checkbox

        from coa_audit.exporters.checklist import HEADER_FIELDS, SIGNATURE_FIELDS

        header = {
            k: from_editable(self.query_one(f"#{k}", Input).value.strip())
            for k, _ in (*HEADER_FIELDS, *SIGNATURE_FIELDS)
            if k != "date"
        }
        formats = [o.key for o in CHECKLISTS if self.query_one(f"#{o.key}", Checkbox).value]
        return ExportRequest(
            out_dir=Path(self.query_one("#out_dir", Input).value.strip() or "."),
            checklist=formats,
            annotate=self.query_one("#annotate", Checkbox).value,
            header={k: v for k, v in header.items() if v},
            checklist_by=self.query_one("#checklist_by", Input).value.strip() or None,
            worklist_rows=(
                list(self.filter_rows) if self.query_one("#worklist", Checkbox).value else None
            ),
        )

    def action_cancel(self) -> None:
        """Escape closes the form; when something was typed or ticked it asks first (y
        discards it, n or escape goes back to the form with every field as typed)."""
        if self._form_state() == getattr(self, "_as_opened", None):
            dismiss_once(self, None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                dismiss_once(self, None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard what you typed in the export form?",
                "y: discard it and close the form. n or escape: back to the form, every "
                "field as typed.",
            ),
            answered,
        )


class ReviewScreen(ModalScreen[bool]):
    """The packet's header and signature lines exactly as they will be printed, and where
    the files go: enter (or y) writes, escape goes back to the form."""

    BINDINGS = [
        Binding("enter,y", "answer(True)", "Write", id="review.write"),
        Binding("escape,n", "answer(False)", "Back to the form", id="review.back"),
    ]
    DEFAULT_CSS = """
    ReviewScreen { align: center middle; }
    ReviewScreen > VerticalScroll { width: 90%; max-width: 90; height: auto; max-height: 90%;
                                    border: heavy $accent; background: $surface; padding: 0 1; }
    """

    def __init__(
        self, request: ExportRequest, target_label: str, warnings: Sequence[str] = ()
    ) -> None:
        super().__init__()
        self.request, self.target_label, self.warnings = request, target_label, warnings

    def compose(self) -> ComposeResult:
        from coa_audit.exporters.checklist import printed_header

        text = Text()
        for warning in self.warnings:  # before anything is written, never after
            text.append(f"WARNING: {safe_text(warning)}\n", style="bold")
        if self.warnings:
            text.append("\n")
        text.append("The packet will print this header. Write it?\n", style="bold")
        for label, value in printed_header(self.request.header, self.target_label):
            text.append(f"{label}: ", style="bold")
            text.append(safe_text(value) + "\n")
        text.append("\nInto: ", style="bold")
        text.append(safe_text(str(self.request.out_dir)) + "\n")
        text.append("\nenter: write the files    escape: back to the form", style="bold")
        with VerticalScroll():
            yield Static(text)
        yield Footer()  # this step's keys, not the form's

    def action_answer(self, yes: bool) -> None:
        dismiss_once(self, yes)


class PromptScreen(ModalScreen[str | None]):
    """One line of text asked for: enter gives it, escape cancels. ``required`` refuses an
    empty answer (a reason, a name) with a line saying so."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 90%; max-width: 76; height: auto; max-height: 100%;
                              border: thick $accent; padding: 0 1; background: $surface; }
    PromptScreen Static { width: 100%; height: auto; }
    PromptScreen #prompt-error { color: $error; text-style: bold; }
    """

    def __init__(
        self, question: str, value: str = "", *, required: bool = True, enter: str = "save"
    ) -> None:
        super().__init__()
        self.question, self.value, self.required, self.enter = question, value, required, enter

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), id="prompt-question")
            yield Input(editable(self.value), id="prompt-input")
            yield Static("", id="prompt-error")
            yield Static(Text(f"enter: {self.enter}    escape: cancel", style="bold"))

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = " ".join(from_editable(event.value).split())
        if self.required and not value:
            self.query_one("#prompt-error", Static).update("An answer is needed (escape cancels).")
            return
        self._answer(value)

    def action_cancel(self) -> None:
        self._answer(None)

    def _answer(self, value: str | None) -> None:
        dismiss_once(self, value)


# a delimiter by the name --delimiter accepts for it (a tab is hard to type in a box)
_DELIMITER_WORDS = {c: n for n, c in reversed(DELIMITER_NAMES.items()) if n.isalpha()}


def delimiter_name(char: str) -> str:
    """How a delimiter is typed and said: ``tab``, ``semicolon``... or the character."""
    return _DELIMITER_WORDS.get(char, char)


def reading_words(read_as: dict[str, str]) -> str:
    """How a file was read, in words: ``Windows-1250 (Central European), cp1250, delimiter
    semicolon (;)``, or ``sheet 'Assets'`` for a workbook."""
    parts = []
    if "encoding" in read_as:
        parts.append(encoding_label(read_as["encoding"]))
    if "delimiter" in read_as:
        char = read_as["delimiter"]
        name = delimiter_name(char)
        parts.append(f"delimiter {name}" + (f" ({char})" if name != char and char.strip() else ""))
    if "sheet" in read_as:
        parts.append(f"sheet {read_as['sheet']!r}")
    return ", ".join(parts) or "as detected"


@dataclass(frozen=True)
class Reading:
    """How to read a text table again: its encoding and delimiter (None: detected), as
    ``--encoding`` and ``--delimiter`` take them."""

    encoding: str | None
    delimiter: str | None


class ReopenScreen(ModalScreen[Reading | None]):
    """Reopen with encoding…: the text file read again with another encoding and/or
    delimiter. Both are checked as ``--encoding`` and ``--delimiter`` are
    (``importers.load.text_options``) and what cannot be is said here, the box kept open.
    Enter reopens, tab goes to the other box, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reopen.cancel")]
    DEFAULT_CSS = """
    ReopenScreen { align: center middle; }
    ReopenScreen > Vertical { width: 90%; max-width: 76; height: auto; max-height: 100%;
                              border: thick $accent; padding: 0 1; background: $surface; }
    ReopenScreen Static, ReopenScreen Label { width: 100%; height: auto; }
    /* the box being typed in shows without colour: a heavy frame instead of the thin one */
    ReopenScreen Input:focus { border: heavy $accent; }
    ReopenScreen #reopen-error { color: $error; text-style: bold; }
    """

    def __init__(
        self, filename: str, now: str, encoding: str, delimiter: str, error: str = ""
    ) -> None:
        """``now``: how the file is read now, in words; ``encoding`` and ``delimiter``: what
        the boxes hold at first; ``error``: why the last attempt failed."""
        super().__init__()
        self.filename, self.now, self.error = filename, now, error
        self.encoding, self.delimiter = encoding, delimiter

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(f"Reopen {safe_text(self.filename)} with another encoding", style="bold"),
                id="reopen-title",
            )
            yield Static(plain(f"Read now as {self.now}."), id="reopen-now")
            yield Label("Encoding: utf-8, cp1250 ... cp1258, cp932, gb18030, big5, koi8-r...")
            yield Input(editable(self.encoding), id="reopen-encoding")
            yield Label("Delimiter: ; , | or tab, comma, semicolon, pipe")
            yield Input(editable(delimiter_name(self.delimiter)), id="reopen-delimiter")
            yield Static(plain(self.error), id="reopen-error")
            yield Static(
                Text("enter: reopen   tab: next box   empty: detect   escape: cancel", style="bold")
            )

    def on_mount(self) -> None:
        self.query_one("#reopen-encoding", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        boxes = [self.query_one(f"#reopen-{k}", Input) for k in ("encoding", "delimiter")]
        encoding, delimiter = (from_editable(b.value).strip() or None for b in boxes)
        try:
            text_options(encoding, None)
        except UsageError as exc:
            self._refuse(boxes[0], str(exc).replace("--encoding ", "Encoding ", 1))
            return
        try:
            encoding, delimiter = text_options(encoding, delimiter)
        except UsageError as exc:
            self._refuse(boxes[1], str(exc).replace("--delimiter ", "Delimiter ", 1))
            return
        dismiss_once(self, Reading(encoding, delimiter))

    def _refuse(self, box: Input, why: str) -> None:
        """Say why in the dialog, on the box to correct."""
        self.query_one("#reopen-error", Static).update(plain(why))
        box.focus()

    def action_cancel(self) -> None:
        dismiss_once(self, None)


class ScanInput(Input):
    """The scan box. Enter is taken in order with the characters (Input's own Enter is a
    binding, run after every character already typed: two codes scanned close together
    would run into one)."""

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's handler in turn: Input's still types the characters
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            value, self.value = self.value, ""
            self.post_message(self.Submitted(self, value))


@dataclass
class ScanResult:
    """What one code did in scan mode."""

    code: str
    outcome: str  # sighted, again, unknown, duplicate
    rows: tuple[RowIndex, ...] = ()  # the devices the code named


class ScanScreen(Screen[list[ScanResult]]):
    """Scan mode: serial numbers or asset tags typed, or read by a USB barcode scanner (it
    types the code and Enter), one after another. Each code finds its device, marks it
    checked and shows its status in a band of colour wide enough to read at arm's length;
    codes that match no device, or several, are flagged and listed. Escape leaves."""

    BINDINGS = [Binding("escape", "leave", "Leave scan mode", id="scan.leave")]
    AUTO_FOCUS = "#scan-input"  # a scanner types at once: no key may reach an unfocused screen
    DEFAULT_CSS = """
    ScanScreen { layout: vertical; background: $surface; }
    ScanScreen #scan-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    ScanScreen #scan-input { margin: 1 1 0 1; }
    ScanScreen #scan-band { height: 9; margin: 1 1; content-align: center middle;
                            text-align: center; text-style: bold; border: heavy $panel; }
    ScanScreen #scan-band.-success { background: $success 40%; border: heavy $success; }
    ScanScreen #scan-band.-warning { background: $warning 40%; border: heavy $warning; }
    ScanScreen #scan-band.-error { background: $error 40%; border: heavy $error; }
    ScanScreen #scan-band.-muted { border: heavy $panel; }
    ScanScreen #scan-log { height: 1fr; padding: 0 1; }
    """

    def __init__(
        self,
        lookup: Callable[[str], list[RowIndex]],
        mark: Callable[[RowIndex], tuple[str, str, str]],
        confirm: Callable[[RowIndex, str, str], tuple[str, str, str]] | None = None,
        expect: Callable[[RowIndex], str] | None = None,
    ) -> None:
        """``lookup`` gives the rows a code names; ``mark`` marks a row present and returns
        (status word, tone, one line about the device); ``confirm`` records what the label of
        a row says ("as expected", "differs" with its words, "missing") and returns the same.

        A scan says a device is on the floor, nothing more. Right after it, one entry tells
        what its label shows: Enter alone (as expected), ``d`` Enter then the label's words
        (differs), ``x`` Enter (no label). A scanner's burst is always a whole code and
        Enter, so scanning the next device simply leaves the label unconfirmed. ``expect``
        says what the register expects the label to show, stated before "as expected" so
        that Enter confirms something a second reader can check."""
        super().__init__()
        self.lookup, self.mark, self.confirm, self.expect = lookup, mark, confirm, expect
        self.row_names: Callable[[Sequence[int]], list[str]] = lambda rows: [
            str(r) for r in rows
        ]  # spreadsheet row numbers of inventory rows (set by the app)
        self.results: list[ScanResult] = []
        self.seen: set[int] = set()
        self.pending: RowIndex | None = None  # the device just scanned, its label not yet told
        self.asking: RowIndex | None = None  # the device whose label's words are being typed
        self.labels: dict[str, int] = {}  # labels told in this scan, by outcome
        self._early: list[tuple[str, str | None]] = []  # keys typed before the box existed

    def compose(self) -> ComposeResult:
        yield Static(
            Text("Scan: a serial or asset tag, Enter. Escape leaves, on the last device's row."),
            id="scan-title",
        )
        yield ScanInput(placeholder="serial number or asset tag", id="scan-input")
        yield Static(Text("Waiting for the first code", style="bold"), id="scan-band")
        yield Static("", id="scan-log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan-input", Input).focus()
        early, self._early = self._early, []
        for key, character in early:
            self.feed(key, character)

    def on_key(self, event: events.Key) -> None:
        """A key that reached the screen, not the box (the box had no focus yet)."""
        if self.focused is self.query_one("#scan-input", Input):
            return  # the box had it already
        if self.feed(event.key, event.character if event.is_printable else None):
            event.stop()

    def feed_early(self, keys: list[tuple[str, str | None]]) -> None:
        """Keys typed before this screen was made: typed into the box once it exists."""
        self._early.extend(keys)

    def feed(self, key: str, character: str | None) -> bool:
        """Type a key into the box: keys a scanner sent while this screen was still opening
        reach the screen below, which hands them here. False: not a key for the box."""
        if key != "enter" and not character:
            return False
        if not self.query("#scan-input"):  # not composed yet: on_mount types them
            self._early.append((key, character))
            return True
        box = self.query_one("#scan-input", Input)
        box.focus()
        if key == "enter":
            value, box.value = box.value, ""
            self.on_input_submitted(Input.Submitted(box, value))
        else:
            box.insert_text_at_cursor(character or "")
        return True

    def _band(self, headline: str, detail: str, tone: str, ask: str = "") -> None:
        band = self.query_one("#scan-band", Static)
        for t in ("success", "warning", "error", "muted"):
            band.set_class(t == tone, f"-{t}")
        text = Text(" ".join(headline.upper()), style="bold", justify="center")
        # the file's words as plain text, one line of the band per line of the detail
        text.append("\n\n" + "\n".join(map(safe_text, detail.split("\n"))), style="not bold")
        if ask:
            text.append("\n" + ask, style="bold")
        band.update(text)

    def _label(self, row: RowIndex, outcome: str, says: str = "") -> None:
        assert self.confirm is not None
        word, tone, about = self.confirm(row, outcome, says)
        self.labels[outcome] = self.labels.get(outcome, 0) + 1
        told = f"label {outcome}" + (f": {says}" if says else "")
        self._band(word, f"{told} - {about}", tone)
        self.pending = self.asking = None
        self._log()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        code = " ".join(event.value.split())  # the box was emptied when Enter came
        if self.asking is not None:  # the words of a label that differs
            if code:
                self._label(self.asking, "differs", code)
            else:
                self.asking = None
                self._band("label not told", "nothing typed: the label is not confirmed", "muted")
            return
        if self.pending is not None and self.confirm is not None:
            if not code:
                self._label(self.pending, "as expected")
                return
            if code.lower() == "x":
                self._label(self.pending, "missing")
                return
            if code.lower() == "d":
                self.asking = self.pending
                self._band("label differs", "type what the label says, then Enter", "warning")
                return
        if not code:
            return
        self.pending = None
        rows = self.lookup(code)
        if not rows:
            result = ScanResult(code, "unknown")
            self._band("unknown code", f"{code!r} is no serial number or asset tag here", "error")
        elif len(rows) > 1:
            result = ScanResult(code, "duplicate", tuple(rows))
            self._band(
                "several devices",
                f"{code!r} is on rows {', '.join(self.row_names(rows))}: check which device "
                "this is",
                "error",
            )
        else:
            row = rows[0]
            again = row in self.seen
            self.seen.add(row)
            word, tone, about = self.mark(row)
            result = ScanResult(code, "again" if again else "sighted", (row,))
            ask = ""
            if self.confirm is not None:
                self.pending = row
                expected = self.expect(row) if self.expect is not None else ""
                ask = (f"Register expects: {expected}\n" if expected else "") + (
                    "Label? Enter: as expected | d Enter: differs | x Enter: no label"
                )
            self._band(word, ("scanned before: " if again else "") + about, tone, ask)
        self.results.append(result)
        self._log()

    def summary(self) -> str:
        """What this scan did, counted one way for the log and for leaving: devices present,
        labels by what they showed, codes that were not one device, codes scanned again."""
        done = sum(1 for r in self.results if r.outcome == "sighted")
        flagged = sum(1 for r in self.results if r.outcome in ("unknown", "duplicate"))
        again = sum(1 for r in self.results if r.outcome == "again")
        text = f"{plural(done, 'device')} present"
        if self.labels:
            text += "; labels: " + ", ".join(f"{n} {k}" for k, n in sorted(self.labels.items()))
        else:
            text += "; no label told"
        text += f"; {plural(flagged, 'code')} not one device"
        return text + (f"; {again} scanned again" if again else "")

    def _log(self) -> None:
        log = Text(f"{self.summary()}. Recent scans:", style="bold")
        words = {"sighted": "present", "again": "SCANNED AGAIN", "unknown": "NO DEVICE"}
        for r in self.results[-6:][::-1]:  # the latest first
            what = words.get(r.outcome) or "on rows " + ", ".join(self.row_names(r.rows))
            log.append(f"\n  {safe_text(r.code)}: {what}")
        self.query_one("#scan-log", Static).update(log)

    def action_leave(self) -> None:
        self.dismiss(self.results)
