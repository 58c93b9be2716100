"""coa-audit's full-screen auditor: the app opens the file, offers what a crash left, runs
the export, and guards quitting; the main screen (``main_screen.py``) is where the user
works, the dialogs are in ``screens.py``.

Loading, restoring and exporting run in thread workers that post the messages of
``messages.py``; a worker never touches a widget. Every edit goes through the session
(history, journal, incremental audit) before the screen updates, and the session tells the
app when its journal fails (``Session.on_journal_problem``) instead of being asked.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen

from coa_audit.core.errors import Cancelled, CoaError, UsageError, internal_error
from coa_audit.core.policy import Policy
from coa_audit.core.text import plural, safe_text
from coa_audit.exporters.checklist import (
    PROFILE_FIELDS,
    check_header,
    packet_size_warning,
    review_warnings,
)
from coa_audit.exporters.export import ExportRequest, export_session
from coa_audit.importers.formats import input_format
from coa_audit.importers.load import detect_format
from coa_audit.session.journal import JournalLog, SessionLog
from coa_audit.session.mappings import mapping_overrides, saved_mapping_for
from coa_audit.session.session import OpenOptions, Session, same_reading
from coa_audit.session.state import (
    load_theme,
    load_user_profile,
    process_running,
    save_theme,
    save_user_profile,
)
from coa_audit.tui.grid import TERMINAL_CSS, Grid
from coa_audit.tui.main_screen import MainScreen
from coa_audit.tui.messages import (
    ExportDone,
    ExportProgress,
    JournalProblem,
    Loaded,
    LoadFailed,
    LoadProgress,
    RestoreDone,
    RestoreProgress,
    RowsSoFar,
)
from coa_audit.tui.screens import (
    BusyScreen,
    ConfirmScreen,
    ExportScreen,
    LoadingScreen,
    Reading,
    ReopenScreen,
    RestoreScreen,
    reading_words,
)

__all__ = ["CoaAuditApp", "MainScreen", "run_app"]


def _colours() -> str | None:
    """The terminal's colour system as Rich reads TERM and COLORTERM: truecolor, 256,
    standard (16) or None."""
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True).color_system


# What the terminal cannot show as the theme says. 16 colours draw the panels in the
# terminal's own default colours (Textual's ANSI look): right for a dark theme, but a light
# one would leave them dark under its dark text, so it paints them light itself.
LEGIBLE_CSS = """
App.-ansi16:light Screen { background: ansi_bright_white; color: ansi_black; }
App.-ansi16:light ModalScreen { background: transparent; }
App.-ansi16:light Input { background: ansi_white; color: ansi_black; }
App.-ansi16:light Toast { background: ansi_white; color: ansi_black; }
"""


class LoadCancelled(Exception):
    pass


class CoaAuditApp(App[None]):
    TITLE = "coa-audit"
    ENABLE_COMMAND_PALETTE = True
    CSS = TERMINAL_CSS + LEGIBLE_CSS

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
        walk: Sequence[str | Path] = (),
        options: OpenOptions | None = None,
    ) -> None:
        """``options`` (as the command line builds them) stand for the keywords before it."""
        # 16 colours: the terminal's own ANSI colours, sent as they are (converted to RGB
        # and back they land on the wrong ones: review red, blocked magenta). NO_COLOR (set
        # at all, as Textual reads it): ANSI too, so that Textual strips every colour (its
        # NoColor filter) instead of greying them and still sending their codes
        no_colour = "NO_COLOR" in os.environ
        # the colours this terminal shows: "truecolor", "256", "standard" or None
        self.colour_system = None if no_colour else _colours()
        self.ansi16 = self.colour_system == "standard"
        super().__init__(ansi_color=True if self.ansi16 or no_colour else None)
        self._theme_saved = load_theme()  # restored at mount, if this Textual still has it
        self._theme_restored = False  # Textual's own setting of its default is no choice
        self.path = Path(path)
        self.options = options or OpenOptions(
            sheet=sheet,
            target=target,
            agreement=agreement,
            policy_path=policy_path,
            maps=tuple(maps),
            mapping_file=mapping_file,
            evidence=tuple(evidence),
        )
        self.walks = [Path(w) for w in walk]  # walk files to put back, merged
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
        # a reopen under way (E, or a restore of a session that read the file another
        # way): the options to go back to if it fails, and the session to restore after it
        self._reopen_from: OpenOptions | None = None
        self._restore_after_reopen: SessionLog | None = None
        self._opened_state: object = None  # the cells as the file opened (walks put back)
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
        """The one sink of every notification (a screen's ``notify`` comes here): plain
        text, never markup, and every control character and escape shown as a picture
        (``safe_text``), so that a file name, header or cell quoted in a notice can never
        drive the terminal (set its title, clear it), whoever composed the notice."""
        super().notify(
            safe_text(message),
            title=safe_text(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

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
    def watch_theme(self, theme: str) -> None:
        """The theme chosen (the palette's Theme) is remembered with the other settings."""
        if self._theme_restored and theme != self._theme_saved:
            self._theme_saved = theme
            save_theme(theme)

    def on_mount(self) -> None:
        if self._theme_saved in self.available_themes:
            self.theme = self._theme_saved
        self._theme_restored = True
        if self.ansi16:
            self.add_class("-ansi16")  # the grid tints in the terminal's own colours
        self.push_screen(LoadingScreen(safe_text(self.path.name)))
        self.load()

    def _text_file(self) -> bool:
        """Whether the file is a text table (it has an encoding and a delimiter): asked once
        it failed to read, so E may offer to read it another way."""
        try:
            return input_format(detect_format(self.path)).text
        except (CoaError, OSError):
            return False

    def cancel_loading(self) -> None:
        self._cancel.set()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise LoadCancelled
        now = time.monotonic()
        if now - self._last_progress > 0.05 or done >= total:
            self._last_progress = now
            self.post_message(LoadProgress(stage, done, total))

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        # a reopen keeps the file shown until the new reading is whole: no first rows
        glimpse = self._glimpse if self._reopen_from is None else None
        try:
            session = self.options.open(self.path, self._progress, glimpse)
            if self.walks:
                self.walk_missed = session.load_walks(self.walks)
        except LoadCancelled:
            self.post_message(LoadFailed(None))
            return
        except CoaError as exc:
            self.post_message(LoadFailed(str(exc), exc.exit_code))
            return
        except Exception as exc:  # a bug: show it as one line, keep the app usable
            self.post_message(LoadFailed(internal_error(exc)))
            return
        self.post_message(Loaded(session))

    def _glimpse(self, part: Session) -> None:
        """From the load's thread: the rows read so far, to show."""
        self.post_message(RowsSoFar(part))

    def on_load_progress(self, msg: LoadProgress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.progress(msg.stage, msg.done, msg.total)
        elif isinstance(self.screen, BusyScreen) and self._reopen_from is not None:
            self.screen.progress(msg.done, msg.total, msg.stage.capitalize())
        elif self.main is not None and msg.stage == "reading":
            self.main.loading_progress(msg.done, msg.total)

    def on_rows_so_far(self, msg: RowsSoFar) -> None:
        """The first rows on screen while the rest loads: moving, searching, filtering and
        sorting work on them; every change waits for the whole file."""
        if self._cancel.is_set() or self.error is not None:
            return
        if self.main is None:
            self.main = MainScreen(msg.session)
            self.switch_screen(self.main)
        elif self.main.session.loading:
            self.main.adopt(msg.session)

    def on_load_failed(self, msg: LoadFailed) -> None:
        if self._reopen_from is not None:
            self._reopen_failed(msg.message)
            return
        if msg.message is None:
            self.exit(message="coa-audit: loading cancelled")
            return
        self.error = msg.message
        self.error_code = msg.exit_code
        if self.main is not None:  # the first rows were shown: the error replaces them
            self.main = None
            self.switch_screen(
                LoadingScreen(safe_text(self.path.name), msg.message, text=self._text_file())
            )
        elif isinstance(self.screen, LoadingScreen):
            self.screen.text = self._text_file()
            self.screen.failed(msg.message + "   (q quits)")

    def on_loaded(self, msg: Loaded) -> None:
        restore: SessionLog | None = None
        if self._reopen_from is not None:  # read again another way: it replaces the one shown
            restore = self._restore_after_reopen
            self._reopen_from = self._restore_after_reopen = None
            if isinstance(self.screen, BusyScreen):
                self.pop_screen()
            if self.session is not None:
                self.session.close()  # nothing unexported (ask_reopen saw to it)
            self.main = None
            self.notify(
                f"Reopened {safe_text(self.path.name)}: read as "
                f"{reading_words(msg.session.read_as)}.",
                timeout=6,
            )
        self.session = msg.session
        self._opened_state = msg.session.state()
        if self.main is None:
            self.main = MainScreen(msg.session)
            self.switch_screen(self.main)
        else:  # its first rows are on screen: the whole file takes their place
            self.main.adopt(msg.session)
        msg.session.on_journal_problem = self._journal_problem
        pending, log = msg.session.pending()
        self._warn_other_editors(log)
        self.load_special_cells()
        if self.walks:
            placed = len(msg.session.changes())
            missed = "; ".join(self.walk_missed[:3]) + (" ..." if len(self.walk_missed) > 3 else "")
            names = ", ".join(safe_text(w.name) for w in self.walks)
            self.notify(
                f"Walk {names}: {plural(placed, 'device field')} marked"
                + (f"; {len(self.walk_missed)} to look at: {missed}" if self.walk_missed else "."),
                severity="warning" if self.walk_missed else "information",
                timeout=10,
            )
        if restore is not None:  # the file now reads as that session read it: restore it
            self._restore_after(restore, pending, log)
        elif pending:  # each session a crash left, newest first, one question each
            self._restore_queue = list(pending[1:])
            self._restore_total = len(pending)
            self._offer_restore(pending[0], log)
        elif not self.options.maps and not self.options.mapping_file:
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
                "never applied elsewhere. "
            )
        reopen = self._reopen_to_restore(earlier)
        recorded = earlier.read_as
        if reopen is not None:
            detail += (
                f"That session read the file as {reading_words(recorded)}: restoring reads "
                "it that way again."
            )
        elif recorded and not same_reading(self.session.read_as, recorded):
            detail += (
                f"That session read the file as {reading_words(recorded)}, and it is read now "
                f"as {reading_words(self.session.read_as)}: an edit whose cell reads "
                "differently is listed, never applied."
            )

        def chosen(choice: str | None) -> None:
            assert self.session is not None
            if choice == "restore" and reopen is not None:
                self.reopen(
                    reopen,
                    f"Reading {self.path.name} as the earlier session did "
                    f"({reading_words(recorded)})…",
                    restore=earlier,
                )
            elif choice == "restore":
                self._edits_before_restore = self.session.edit_count
                self.push_screen(BusyScreen("Restoring edits…"))
                self.run_restore(earlier)
            elif choice == "discard":
                self.session.discard(earlier)
                self.notify(f"Discarded {plural(count, 'edit')} of the earlier session.", timeout=5)
                self._offer_next_restore(log)
            else:
                self.notify(
                    "The earlier edits are kept: you will be asked again next time.", timeout=5
                )
                self._offer_next_restore(log)

        self._restore_log = log
        self.push_screen(RestoreScreen(question, detail.strip()), chosen)

    def _reopen_to_restore(self, earlier: SessionLog) -> OpenOptions | None:
        """The options that read the file as ``earlier`` read it, when the file is read
        another way now and that way was not named by the user (what the user names wins);
        never once this session has changes of its own (they are tied to this reading)."""
        assert self.session is not None
        if self._changed_since_open():
            return None
        return self.options.to_resume(self.session, earlier)

    def _restore_after(
        self, earlier: SessionLog, pending: list[SessionLog], log: JournalLog
    ) -> None:
        """The file was read again as ``earlier`` read it: restore it now (the question was
        answered), then offer the sessions still queued."""
        assert self.session is not None
        queued = {q.sid for q in self._restore_queue}
        self._restore_queue = [p for p in pending if p.sid in queued]
        self._restore_log = log
        again = next((p for p in pending if p.sid == earlier.sid), None)
        if again is None:  # another session dealt with it meanwhile
            self.notify("The earlier session's edits were restored or discarded meanwhile.")
            self._offer_next_restore(log)
            return
        self._edits_before_restore = self.session.edit_count
        self.push_screen(BusyScreen("Restoring edits…"))
        self.run_restore(again)

    def _offer_next_restore(self, log: JournalLog | None) -> None:
        if self._restore_queue and log is not None:
            self._offer_restore(self._restore_queue.pop(0), log)

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
                self.post_message(RestoreProgress(done, total))

        try:
            result = self.session.restore(earlier, progress)
        except Exception as exc:  # a bug: say so, keep the app usable
            self.post_message(RestoreDone(None, internal_error(exc, False)))
            return
        self.post_message(RestoreDone(result, None))

    def on_restore_progress(self, msg: RestoreProgress) -> None:
        if isinstance(self.screen, BusyScreen):
            self.screen.progress(msg.done, msg.total)

    def on_restore_done(self, msg: RestoreDone) -> None:
        if isinstance(self.screen, BusyScreen):
            self.pop_screen()
        assert self.main is not None
        self.main.grid.rebuild_columns()
        self.main.grid.set_filter(self.main.grid.filter)
        self.main.after_change()
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

    def _journal_problem(self) -> None:
        """From whichever thread wrote the journal: said on the app's own."""
        self.post_message(JournalProblem())

    def on_journal_problem(self, _msg: JournalProblem) -> None:
        self.check_journal()

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
                # never os.kill(pid, 0) here: on Windows that ends the other session
                if not process_running(pid):
                    continue
                self.notify(
                    f"Another coa-audit session (pid {pid}) has this file open: "
                    "edits in both may conflict.",
                    severity="warning",
                    timeout=10,
                )
                break

    # -- reading the file again another way -----------------------------------------------
    def _changed_since_open(self) -> bool:
        """Whether this session holds changes no export has and reading the file again would
        not bring back (walk files are put back on every reading)."""
        session = self.session
        return session is not None and session.dirty and session.state() != self._opened_state

    def ask_reopen(self, error: str = "", tried: Reading | None = None) -> None:
        """E (and the palette's Reopen with encoding…): the text file read again with
        another encoding and/or delimiter, through the load that opened it. Refused while
        this session holds changes not exported (each is tied to its row as this reading
        shows it), and for a workbook (it has neither)."""
        session = self.session
        if session is None and self.error is not None and isinstance(self.screen, LoadingScreen):
            self._ask_read_again(error, tried)  # the file could not be read at all
            return
        if session is None or self.main is None:
            return
        src = session.inventory.source
        fmt = input_format(src.format)
        name = safe_text(self.path.name)
        if not fmt.text:
            article = "an" if fmt.label[:1].lower() in "aeiou" else "a"
            self.notify(
                f"Reopen with encoding applies only to text files (csv, tsv, txt): {name} is "
                f"{article} {fmt.label}, which has no encoding or delimiter to choose.",
                severity="warning",
                timeout=8,
            )
            return
        if self._changed_since_open():
            cells, marks = session.unexported()
            what = " and ".join(
                p
                for p in (
                    plural(cells, "edited cell") if cells else "",
                    plural(marks, "walk mark") if marks else "",
                )
                if p
            )
            self.notify(
                f"Not reopened: {what or 'a change'} not exported yet, each tied to its row "
                "as this reading shows it. Export (ctrl+s) or undo them (U) first.",
                severity="warning",
                timeout=10,
            )
            return
        now = session.read_as
        if tried is None:
            encoding, delimiter = now.get("encoding", ""), now.get("delimiter", "")
        else:
            encoding, delimiter = tried.encoding or "", tried.delimiter or ""

        def chosen(reading: Reading | None) -> None:
            if reading is None:
                return
            options = dataclasses.replace(
                self.options, encoding=reading.encoding, delimiter=reading.delimiter
            )
            how = reading_words(
                {
                    k: v
                    for k, v in (("encoding", reading.encoding), ("delimiter", reading.delimiter))
                    if v
                }
            )
            self.reopen(options, f"Reading {self.path.name} again ({how})…")

        self.push_screen(
            ReopenScreen(self.path.name, reading_words(now), encoding, delimiter, error), chosen
        )

    def _ask_read_again(self, error: str, tried: Reading | None) -> None:
        """The file could not be read: E on the error reads it again with another encoding
        or delimiter, from the start (its loading screen and first rows as at the open)."""
        now = {
            k: v
            for k, v in (("encoding", self.options.encoding), ("delimiter", self.options.delimiter))
            if v
        }
        tried = tried or Reading(self.options.encoding, self.options.delimiter)

        def chosen(reading: Reading | None) -> None:
            if reading is None:
                return
            self.options = dataclasses.replace(
                self.options, encoding=reading.encoding, delimiter=reading.delimiter
            )
            self.error, self.error_code = None, 0
            self._cancel.clear()
            self.switch_screen(LoadingScreen(safe_text(self.path.name), text=True))
            self.load()

        self.push_screen(
            ReopenScreen(
                self.path.name,
                reading_words(now) if now else "the encoding and delimiter detected",
                tried.encoding or "",
                tried.delimiter or "",
                error or f"Not read: {self.error}",
            ),
            chosen,
        )

    def reopen(self, options: OpenOptions, text: str, restore: SessionLog | None = None) -> None:
        """Read the file again with ``options`` through the load that opened it, behind a
        busy screen (escape cancels); the file shown stays until the new reading is whole,
        and stays if it fails. ``restore``: the earlier session to restore once read."""
        self._reopen_from, self.options = self.options, options
        self._restore_after_reopen = restore
        self._cancel.clear()
        self.push_screen(BusyScreen(text, cancel=self.cancel_loading))
        self.load()

    def _reopen_failed(self, message: str | None) -> None:
        """The new reading failed or was cancelled: the file stays as it was read."""
        assert self._reopen_from is not None
        tried = Reading(self.options.encoding, self.options.delimiter)
        self.options, self._reopen_from = self._reopen_from, None
        restore, self._restore_after_reopen = self._restore_after_reopen, None
        self._cancel.clear()
        if isinstance(self.screen, BusyScreen):
            self.pop_screen()
        if restore is not None:
            self.notify(
                "The file could not be read as the earlier session read it"
                + (f" ({message})" if message else " (cancelled)")
                + ": its edits are kept, and offered again next time.",
                severity="warning",
                timeout=15,
            )
            self._offer_next_restore(self._restore_log)
        elif message is None:
            self.notify("Reopening cancelled: the file stays as it was read.", timeout=5)
        else:  # said in the dialog, with what was tried, to try another
            self.ask_reopen(f"Not reopened: {message}", tried)

    # -- export ----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.session is not None and self.session.dirty

    def export(self) -> None:
        """ctrl+s: the export screen with the defaults filled in, then a worker writes."""
        assert self.session is not None
        inv = self.session.inventory
        note = input_format(inv.source.format).export_note

        def chosen(request: ExportRequest | None) -> None:
            if request is None:
                return
            self._export_cancel.clear()
            self.push_screen(BusyScreen("Exporting…", cancel=self._export_cancel.set))
            self.run_export(request)

        remembered, remembered_from = load_user_profile()
        audit, policy = self.session.audit, self.session.policy
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
                warnings=lambda req: [
                    *review_warnings(audit, _checked(req.header, policy)),
                    *filter(None, [packet_size_warning(audit, req.checklist, req.checklist_by)]),
                ],
            ),
            chosen,
        )

    def on_export_progress(self, msg: ExportProgress) -> None:
        if isinstance(self.screen, BusyScreen):
            self.screen.progress(msg.done, msg.total, f"Writing the {msg.step}")

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, request: ExportRequest) -> None:
        assert self.session is not None and self.main is not None
        session = self.session
        last = [0.0]

        def progress(step: str, done: int, total: int) -> None:
            if self._export_cancel.is_set():
                raise Cancelled("cancelled")
            now = time.monotonic()
            if now - last[0] > 0.05 or done == 0:
                last[0] = now
                self.post_message(ExportProgress(step, done, total))

        try:
            written = export_session(session, request, progress)
        except CoaError as exc:
            self.post_message(ExportDone(None, str(exc)))
            return
        except Exception as exc:  # a bug: say so, keep the session (and its journal)
            self.post_message(ExportDone(None, internal_error(exc)))
            return
        save_user_profile(request.header, PROFILE_FIELDS, Path(session.inventory.source.path).name)
        self.post_message(ExportDone(written, None))

    def on_export_done(self, msg: ExportDone) -> None:
        if isinstance(self.screen, BusyScreen):
            self.pop_screen()
        if msg.error is not None or msg.written is None:
            self.notify(safe_text(msg.error or "export failed"), severity="error", timeout=10)
            return
        names = ", ".join(safe_text(w.path.name) for w in msg.written)
        self.notify(f"Wrote {names}", timeout=8)
        if self.is_web:  # coa-audit serve: the files are on the server; each is downloaded too
            for w in msg.written:
                self.deliver_binary(w.path)
            self.notify(
                f"Downloading {plural(len(msg.written), 'file')}: if the browser asks, allow "
                "this address to download several files",
                timeout=8,
            )

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, except that ``coa-audit serve``'s web driver sends each packet
        whole (``tui.web_driver``)."""
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.web_driver" and driver.__name__ == "WebDriver":
            from coa_audit.tui.web_driver import WholeWebDriver

            return WholeWebDriver
        return driver

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


def run_app(
    path: str | Path, options: OpenOptions, walk: Sequence[str | Path] = ()
) -> tuple[str, int] | None:
    """Run the app; returns the load error the user saw and its exit code, if the file could
    not be opened."""
    app = CoaAuditApp(path, walk=walk, options=options)
    app.run()
    return (app.error, app.error_code) if app.error else None


def _checked(header: dict[str, str], policy: Policy) -> dict[str, str]:
    """The header as the packet will read it; as typed while a field is still wrong (the
    export says so when it runs)."""
    try:
        return check_header(header, policy)
    except UsageError:
        return header
