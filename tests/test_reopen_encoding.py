"""A text file read wrongly is read again on screen with another encoding or delimiter
(E, or the palette's "Reopen with encoding…"), checked as --encoding and --delimiter are;
and a resumed session reads the file as the session that made the edits read it, from what
its journal recorded (issue 32 item 3)."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from pathlib import Path

import pytest

from coa_audit.session.journal import journal_path
from coa_audit.session.session import OpenOptions, open_session
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.screens import (
    BusyScreen,
    DetailScreen,
    LoadingScreen,
    Question,
    ReopenScreen,
)
from tests.conftest import SAMPLES, device, press, settle, write_csv
from tests.encoding_samples import LANGUAGES, encode, register

RUSSIAN = next(lang for lang in LANGUAGES if lang.code == "ru")
# Czech whose only letter beyond ASCII is ň: its head reads best as Windows-1252 ("Plzeò")
PLACES = ("Plzeň", "Brno", "Plzeň", "Praha")


@pytest.fixture
def russian(tmp_path: Path) -> Path:
    path = tmp_path / "register-ru.csv"
    path.write_bytes(encode(register(RUSSIAN, 6, delimiter=";"), "cp1251"))
    return path


@pytest.fixture
def czech(tmp_path: Path) -> Path:
    rows = [device(n, Location=place) for n, place in enumerate(PLACES)]
    return write_csv(tmp_path / "register-cz.csv", rows, delimiter=";", encoding="cp1250")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def said(app: CoaAuditApp) -> list[str]:
    return [n.message for n in app._notifications]


async def loaded(app: CoaAuditApp, pilot) -> MainScreen:
    await settle(app, pilot)
    await pilot.pause()
    assert isinstance(app.screen, MainScreen), app.error
    app.session.author = "Tess Tester"
    return app.screen


async def show_column(screen: MainScreen, header: str) -> None:
    grid = screen.grid
    col = next(i for i, c in enumerate(grid.columns) if _nfc(c.title) == _nfc(header))
    grid.move_to(grid.cursor_row, col)
    await screen.app.workers.wait_for_complete()
    await pilot_pause(screen)


async def pilot_pause(screen: MainScreen) -> None:
    """Let the grid draw the columns the cursor moved to."""
    for _ in range(3):
        await screen.app.animator.wait_until_complete()
        await asyncio.sleep(0.05)


async def reopened(app: CoaAuditApp, pilot) -> MainScreen:
    """Wait for the reading under way to end and its file to be shown."""
    for _ in range(200):
        await settle(app, pilot)
        if not isinstance(app.screen, BusyScreen):
            break
    screen = app.screen
    for _ in range(100):  # laid out: the grid has its rows
        await pilot.pause(0.02)
        if not isinstance(screen, MainScreen) or screen.grid.size.height > 5:
            break
    return screen  # type: ignore[return-value]


# -- reopening on screen ---------------------------------------------------------------------


async def test_a_register_read_in_the_wrong_code_page_is_reopened_right_from_the_dialog(
    russian: Path,
) -> None:
    app = CoaAuditApp(russian, options=OpenOptions(encoding="cp1252"))  # wrong, forced
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        site = RUSSIAN.headers[0]
        assert _nfc(site) not in [_nfc(h) for h in app.session.inventory.headers]
        first = app.session
        # the palette names it, with its key
        commands = {c.title: c.help for c in app.get_system_commands(app.main)}
        title = next(t for t in commands if t.startswith("Reopen with encoding…"))
        assert commands[title] == "key: E"
        await press(pilot, "E")
        dialog = app.screen
        assert isinstance(dialog, ReopenScreen)
        text = _screen_text(app)
        assert "Windows-1252 (Western), cp1252" in text and "semicolon" in text
        box = dialog.query_one("#reopen-encoding")
        assert box.has_focus and box.value == "cp1252"
        # a name that is no encoding is said in the dialog, which stays open
        box.value = ""
        await press(pilot, *"cp9999", "enter")
        assert app.screen is dialog
        error = str(dialog.query_one("#reopen-error").render())
        assert "cp9999" in error and "no text encoding" in error, error
        assert box.has_focus and app.session is first
        # so is a delimiter that cannot split a record
        box.value = ""
        await press(pilot, *"cp1251", "tab")
        delimiter = dialog.query_one("#reopen-delimiter")
        assert delimiter.has_focus and delimiter.value == "semicolon"
        delimiter.value = ""
        await press(pilot, *"ab", "enter")
        assert app.screen is dialog
        assert "one character" in str(dialog.query_one("#reopen-error").render())
        delimiter.value = ""
        await press(pilot, *";", "enter")
        screen = await reopened(app, pilot)
        assert isinstance(screen, MainScreen) and app.session is not first
        assert app.session.read_as == {"encoding": "cp1251", "delimiter": ";"}
        inv = app.session.inventory
        assert [_nfc(h) for h in inv.headers[2:6]] == [_nfc(h) for h in RUSSIAN.headers]
        assert len(inv) == 6
        await show_column(screen, site)
        shown = _screen_text(app)
        assert _nfc(site) in shown
        assert any(_nfc(place) in shown for place in RUSSIAN.sites), shown
        assert any("Reopened register-ru.csv" in m and "cp1251" in m for m in said(app))


async def test_a_reading_that_fails_is_said_in_the_dialog_and_the_file_stays(
    russian: Path,
) -> None:
    app = CoaAuditApp(russian, options=OpenOptions(encoding="cp1252"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        first = app.session
        await press(pilot, "E")
        box = app.screen.query_one("#reopen-encoding")
        box.value = ""
        await press(pilot, *"utf-8", "enter")  # the bytes are no UTF-8: the reader refuses
        await reopened(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ReopenScreen), type(dialog)
        assert "Not reopened" in str(dialog.query_one("#reopen-error").render())
        assert dialog.query_one("#reopen-encoding").value == "utf-8"  # what was tried
        await press(pilot, "escape")
        assert isinstance(app.screen, MainScreen) and app.session is first
        assert app.options.encoding == "cp1252"  # the options the shown file was read with
        assert app.error is None


async def test_a_file_that_could_not_be_read_is_read_again_from_its_error(
    russian: Path,
) -> None:
    app = CoaAuditApp(russian, options=OpenOptions(encoding="utf-8"))  # its bytes are not
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LoadingScreen) and app.error is not None
        assert "E: read it with another encoding or delimiter" in _screen_text(app)
        await press(pilot, "E")
        dialog = app.screen
        assert isinstance(dialog, ReopenScreen)
        assert "Not read:" in str(dialog.query_one("#reopen-error").render())
        box = dialog.query_one("#reopen-encoding")
        assert box.value == "utf-8"
        box.value = ""
        await press(pilot, *"windows-1251", "enter")
        screen = await reopened(app, pilot)
        assert isinstance(screen, MainScreen), app.error
        assert app.error is None and app.error_code == 0
        inv = app.session.inventory
        assert [_nfc(h) for h in inv.headers[2:6]] == [_nfc(h) for h in RUSSIAN.headers]


async def test_unexported_edits_refuse_a_reopen_and_a_workbook_says_it_has_no_encoding(
    russian: Path, tmp_path: Path
) -> None:
    app = CoaAuditApp(russian, options=OpenOptions(encoding="cp1252"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        first = app.session
        inv = first.inventory
        screen.commit(0, inv.mapping["coa_edition"], "Windows 11 Pro")
        await press(pilot, "E")
        assert isinstance(app.screen, MainScreen) and app.session is first
        assert any("Not reopened: 1 edited cell not exported" in m for m in said(app))
        assert len(first.inventory.edits) == 1
        # undone, nothing is left to lose: the dialog opens
        await press(pilot, "U")
        await press(pilot, "E")
        assert isinstance(app.screen, ReopenScreen)
    book = tmp_path / "oem-fleet.xlsx"
    book.write_bytes((SAMPLES / "oem-fleet.xlsx").read_bytes())
    app = CoaAuditApp(book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await press(pilot, "E")
        assert isinstance(app.screen, MainScreen)
        assert any("applies only to text files" in m for m in said(app)), said(app)


async def test_the_detected_code_page_notice_names_the_palette_entry(czech: Path) -> None:
    app = CoaAuditApp(czech)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await press(pilot, "I")
        assert isinstance(app.screen, DetailScreen)
        text = " ".join(str(app.screen.query_one("#detail-text").render()).split())
        assert "(detected: not UTF-8); use --encoding to overrule, or on screen E" in text
        assert "Reopen with encoding…" in text


# -- a resumed session reads the file as it was read -------------------------------------------


def _crashed_cp1250_session(czech: Path) -> None:
    """The register opened with --encoding cp1250 --delimiter ';', the first Plzeň
    renamed, then the process killed (no close entry, nothing exported)."""
    session = open_session(czech, encoding="cp1250", delimiter=";")
    session.start_journal()
    inv = session.inventory
    assert inv.field(0, "location") == "Plzeň"
    session.apply(0, inv.mapping["location"], "Plzeň-Bory")
    assert session.journal is not None
    session.journal.close()


def test_the_journal_records_how_the_file_was_read_and_a_resume_reads_it_so(czech: Path) -> None:
    _crashed_cp1250_session(czech)
    opened = [
        json.loads(line)
        for line in journal_path(czech).read_text(encoding="utf-8").splitlines()
        if json.loads(line)["t"] == "open"
    ]
    assert opened[0]["encoding"] == "cp1250" and opened[0]["delimiter"] == ";"
    # opened again with nothing named, the file reads otherwise (Plzeò)
    detected = open_session(czech)
    assert detected.inventory.field(0, "location") == "Plzeò"
    pending, _log = detected.pending()
    earlier = pending[0]
    assert earlier.read_as == {"encoding": "cp1250", "delimiter": ";"}
    # restored onto that reading (unjournaled: nothing adopted), the edit is not placed:
    # its cell reads otherwise
    skipped = open_session(czech).restore(earlier).skipped
    assert len(skipped) == 1 and "no longer holds 'Plzeň'" in skipped[0], skipped
    # what the user names wins; what the session already reads so needs nothing
    assert OpenOptions(encoding="cp1252").to_resume(detected, earlier) is None
    resume = OpenOptions().to_resume(detected, earlier)
    assert resume is not None and (resume.encoding, resume.delimiter) == ("cp1250", ";")
    session = resume.open(czech)
    assert OpenOptions(encoding="windows-1250").to_resume(session, earlier) is None
    pending, _log = session.pending()
    restored = session.restore(next(p for p in pending if p.sid == earlier.sid))
    assert (restored.applied, restored.skipped) == (1, [])
    inv = session.inventory
    assert [inv.field(r, "location") for r in range(4)] == ["Plzeň-Bory", *PLACES[1:]]
    assert inv.field(0, "serial_number") == device(0)["Serial Number"]


def test_a_journal_written_before_the_reading_was_recorded_still_restores(
    tmp_path: Path,
) -> None:
    rows = [device(n, Location=place) for n, place in enumerate(("Praha", "Brno"))]
    src = write_csv(tmp_path / "plain.csv", rows)
    session = open_session(src)
    session.start_journal()
    session.apply(1, session.inventory.mapping["location"], "Ostrava")
    assert session.journal is not None
    session.journal.close()
    path = journal_path(src)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for entry in lines:  # as an older version wrote it
        entry.pop("encoding", None)
        entry.pop("delimiter", None)
    path.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    again = open_session(src)
    pending, _log = again.pending()
    assert pending[0].read_as == {}
    assert OpenOptions().to_resume(again, pending[0]) is None
    assert again.restore(pending[0]).applied == 1
    assert again.inventory.field(1, "location") == "Ostrava"


async def test_the_app_resumes_a_session_reading_the_file_as_it_did(czech: Path) -> None:
    _crashed_cp1250_session(czech)
    app = CoaAuditApp(czech)  # no --encoding, no --delimiter: detection reads cp1252
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, Question)
        assert app.session.inventory.field(0, "location") == "Plzeò"
        question = _screen_text(app)
        assert "Windows-1250 (Central European), cp1250" in question
        assert "restoring reads it that way again" in question
        await pilot.press("y")
        screen = await reopened(app, pilot)
        assert isinstance(screen, MainScreen), type(screen)
        inv = app.session.inventory
        assert app.session.read_as == {"encoding": "cp1250", "delimiter": ";"}
        assert [inv.field(r, "location") for r in range(4)] == ["Plzeň-Bory", *PLACES[1:]]
        assert inv.field(0, "serial_number") == device(0)["Serial Number"]
        assert len(inv.edits) == 1
        assert any("Restored 1 edit." in m for m in said(app)), said(app)
        await show_column(screen, "Location")
        shown = _screen_text(app)
        # edited: marked * (whole where the column fits it, else cut with …)
        assert re.search(r"Plzeň-Bo(?:ry|…)\*", shown) and "Brno" in shown, shown
        assert "Plzeò" not in shown


async def test_options_the_user_names_win_over_the_journal(czech: Path) -> None:
    _crashed_cp1250_session(czech)
    app = CoaAuditApp(czech, options=OpenOptions(encoding="cp1252"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, Question)
        question = _screen_text(app)
        assert "it is read now as Windows-1252" in question and "never applied" in question
        await pilot.press("y")
        await settle(app, pilot)
        assert app.session.read_as["encoding"] == "cp1252"
        assert app.session.inventory.edits == {}  # its cell reads otherwise: not placed
        assert any("Not applied (1)" in m for m in said(app)), said(app)


def _screen_text(app: CoaAuditApp) -> str:
    """What the 80x24 screen shows, as words."""
    import html
    import re

    svg = app.export_screenshot()
    body = svg[svg.index("</style>") :]  # the screen's text, after the styles
    text = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")
    return _nfc(" ".join(re.sub("[█▀▄▌▐│┃]", " ", text).split()))  # frames are no words


def test_export_resume_reads_the_file_as_the_resumed_session_did(
    czech: Path, tmp_path: Path
) -> None:
    """`export --resume` with no --encoding: the file is read as the crashed session read it
    (cp1250, ';'), so its edit lands and every other cell reads right in the output."""
    from tests.conftest import run_cli

    _crashed_cp1250_session(czech)
    out = tmp_path / "out"
    res = run_cli("export", czech, "--resume", "--checklist", "", "--out-dir", out)
    assert res.code == 0, res.stdout + res.stderr
    assert "reading the file as the resumed session did (encoding cp1250" in res.stderr
    assert "resumed 1 journaled edit(s)" in res.stderr, res.stderr
    corrected = next(p for p in out.iterdir() if p.suffix == ".csv" and ".walk" not in p.name)
    text = corrected.read_bytes().decode("cp1250")
    assert "Plzeň-Bory" in text and text.count("Plzeň") == 2 and "Plzeò" not in text
