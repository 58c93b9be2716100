"""The full-screen app, driven by Textual's pilot as a user would drive it."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from textual.widgets import Static

from coa_audit.core.model import CANONICAL_FIELDS
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.grid import Grid
from coa_audit.tui.screens import (
    ExportScreen,
    HelpScreen,
    MappingScreen,
    Question,
    ReviewScreen,
)
from tests.conftest import (
    SAMPLES,
    device,
    killed_session,
    press,
    run_cli,
    settle,
    states_register,
    write_csv,
)


@pytest.fixture
def oem(tmp_path: Path) -> Path:
    dst = tmp_path / "oem-fleet.xlsx"
    shutil.copyfile(SAMPLES / "oem-fleet.xlsx", dst)
    return dst


async def loaded(app: CoaAuditApp, pilot, author: str = "Tess Tester") -> MainScreen:
    """The app with its file open and, unless ``author`` is "", the person working named
    (as w would: the question at the first change is tested in tests/test_audit_trail.py
    and tests/test_walk.py)."""
    await settle(app, pilot)
    await pilot.pause()
    assert isinstance(app.screen, MainScreen), app.error
    if author:
        app.session.author = author
    return app.screen


def summary_text(screen: MainScreen) -> str:
    return str(screen.query_one("#summary").render())


def grid_text(grid: Grid) -> str:
    return "\n".join(grid.render_line(y).text for y in range(grid.size.height))


async def test_opens_sample_with_the_same_counts_as_check(oem: Path) -> None:
    report = run_cli("check", oem, "--format", "json").json()["summary"]
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        text = summary_text(screen)
        assert f"{report['devices']} devices" in text
        assert f"{report['blocked']} blocked" in text and f"{report['review']} review" in text
        lines = grid_text(screen.grid)
        assert "Row" in lines.splitlines()[0] and "Status" in lines.splitlines()[0]
        assert "BLOCKED" in lines and "REVIEW" in lines


async def test_jump_to_problem_edit_undo_redo(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        grid = screen.grid
        await pilot.press("right_square_bracket")
        row = grid.current_row()
        assert row is not None and app.session is not None
        inv = app.session.inventory
        assert inv.row_numbers[row] == 6  # the first device with findings
        assert screen.audit.status(row) == "blocked"
        assert "COA_MISSING" in str(screen.query_one("#findings").render())
        # edit the COA cell of that device
        col = next(i for i, c in enumerate(grid.columns) if c.field == "coa_present")
        grid.move_to(grid.cursor_row, col)
        before = screen.audit.summary()
        await pilot.press("e")
        box = screen.query_one("#edit-input")
        assert box.has_focus and box.value == "No"
        box.value = ""
        await pilot.press(*"Yes")
        await pilot.pause()
        assert "would be REVIEW" in str(screen.query_one("#edit-label").render())
        await pilot.press("enter")
        await pilot.pause()
        assert grid.has_focus
        after = screen.audit.summary()
        assert screen.audit.status(row) == "review"
        assert (after.blocked, after.review) == (before.blocked - 1, before.review + 1)
        assert "1 edits" in summary_text(screen)
        assert "Yes*" in grid_text(grid)  # edited cells are marked
        await pilot.press("U")
        assert screen.audit.status(row) == "blocked" and inv.edits == {}
        assert "0 edits" in summary_text(screen)
        said = [n.message for n in app._notifications]  # undo says what it undid
        assert any("Undone: row 6, COA Present is 'No' again" in m for m in said), said
        await pilot.press("ctrl+y")
        assert screen.audit.status(row) == "review" and len(inv.edits) == 1
        await pilot.press("ctrl+z")
        await pilot.press("R")
        assert screen.audit.summary() == after


async def test_escape_cancels_an_edit(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        await pilot.press("e", "x", "y", "escape")
        assert screen.grid.has_focus and app.session.inventory.edits == {}


async def test_filter_cycles_and_holds(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        grid, audit = screen.grid, screen.audit
        seen = []
        for _ in range(7):
            await pilot.press("f")
            seen.append(grid.filter)
            want = {
                "problems": {1, 2},
                "blocked": {2},
                "review": {1},
                "eligible": {0},
                "not-pc": {3},
                "not-seen": {0, 1, 2},  # nobody walked: every device in scope
                "all": {0, 1, 2, 3},
            }[grid.filter]
            assert {audit.status_level(r) for r in grid.view} <= want
            assert f"filter: {grid.filter}" in summary_text(screen)
        assert seen == ["problems", "blocked", "review", "eligible", "not-pc", "not-seen", "all"]
        s = audit.summary()
        await pilot.press("f", "f")
        assert len(grid.view) == s.blocked


async def test_search_next_and_previous(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        grid = screen.grid
        inv = app.session.inventory
        await pilot.press("slash", *"5cg0000099", "enter")
        await pilot.pause()
        assert grid.has_focus
        first = grid.current_row()
        assert inv.field(first, "serial_number") == "5CG0000099"
        assert grid.current_column().field == "serial_number"
        await pilot.press("n")
        second = grid.current_row()
        assert second != first and inv.field(second, "serial_number") == "5CG0000099"
        await pilot.press("N")
        assert grid.current_row() == first
        await pilot.press("slash", "ctrl+u", *"no such text", "enter")
        assert grid.current_row() == first


async def test_sort_by_column(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        grid = screen.grid
        inv = app.session.inventory
        col = grid.current_column()
        await pilot.press("S")
        values = [inv.value(r, col.index) for r in list(grid.view)[:50]]
        assert values == sorted(values, reverse=True)
        await pilot.press("o")
        assert list(grid.view)[:3] == [0, 1, 2]


async def test_duplicate_jump(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        inv = app.session.inventory
        grid = screen.grid
        grid.move_to(grid.position_of(inv.row_of(16)), 0)  # serial shared with row 17
        await pilot.press("d")
        assert inv.row_numbers[grid.current_row()] == 17


async def test_mapping_change_reaudits(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(app, pilot)
        before = screen.audit.summary()
        await pilot.press("m")
        assert isinstance(app.screen, MappingScreen)
        # the COA Edition column (H, 8th) -> unmapped
        await pilot.press(*["down"] * 7, "enter")
        await pilot.press("enter")  # first choice: (unmapped)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert "coa_edition" not in app.session.inventory.mapping
        after = screen.audit.summary()
        assert after != before
        assert after.findings.get("EDITION_UNKNOWN", 0) > before.findings.get("EDITION_UNKNOWN", 0)


async def test_quit_asks_when_edits_were_not_exported(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        screen.commit(0, app.session.inventory.mapping["notes"], "checked")
        await pilot.press("q")
        assert isinstance(app.screen, Question)
        await pilot.press("n")
        assert isinstance(app.screen, MainScreen) and app.is_running
        await pilot.press("ctrl+q")  # the app-wide quit key is guarded too
        assert isinstance(app.screen, Question)
        await pilot.press("escape")
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_code == 0


async def test_journal_restores_edits_after_teardown(oem: Path, state_dir: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        inv = app.session.inventory
        screen.commit(1, inv.mapping["coa_present"], "GML")
        screen.commit(2, inv.mapping["coa_edition"], "Windows 11 Pro")
        screen.commit(2, inv.mapping["coa_edition"], "Windows 10 Pro")
        edits = dict(inv.edits)
    # torn down without exporting: the journal is on disk
    assert list((state_dir / "journals").iterdir())
    app2 = CoaAuditApp(oem)
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(app2, pilot)
        assert isinstance(app2.screen, Question)
        await pilot.press("y")
        await settle(app2, pilot)
        assert app2.session.inventory.edits == edits
        assert [e.origin for e in app2.main.history.undo_stack] == ["journal"] * 3
    # app2 was torn down too: its session (which adopted app1's edits) is offered now.
    # escape means "later": the next open asks again
    app3 = CoaAuditApp(oem)
    async with app3.run_test(size=(80, 24)) as pilot:
        await settle(app3, pilot)
        assert isinstance(app3.screen, Question)
        await pilot.press("escape")
        await pilot.pause()
        assert app3.session.inventory.edits == {}
    # discarding takes d and a confirmation; then the next open offers nothing
    app4 = CoaAuditApp(oem)
    async with app4.run_test(size=(80, 24)) as pilot:
        await settle(app4, pilot)
        assert isinstance(app4.screen, Question)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app4.session.inventory.edits == {}
    app5 = CoaAuditApp(oem)
    async with app5.run_test(size=(80, 24)) as pilot:
        await loaded(app5, pilot)


async def test_export_writes_corrected_file_and_leaves_source(oem: Path) -> None:
    digest = hashlib.sha256(oem.read_bytes()).hexdigest()
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        screen.commit(1, app.session.inventory.mapping["coa_present"], "GML")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ExportScreen)
        dialog = app.screen
        assert dialog.query_one("#out_dir").value == str(oem.parent)  # defaults filled in
        # focus starts on the first field shown, and the focused field shows without colour
        # (a heavy frame; the others keep the thin one)
        assert app.focused is dialog.query_one("#out_dir")
        assert dialog.query_one("#out_dir").styles.border.top[0] == "heavy"
        assert dialog.query_one("#customer").styles.border.top[0] != "heavy"
        await pilot.press("tab", *"Contoso", "enter")
        await pilot.pause()
        # a review step shows the header as it will be printed; nothing written yet
        assert isinstance(app.screen, ReviewScreen)
        shown = str(app.screen.query_one(Static).render())
        assert "Customer: Contoso" in shown
        target = app.session.policy.target_label
        assert f"Product being installed (edition and version): {target}" in shown
        assert "(version: ______)" in shown and "Agreement number: ____" in shown
        assert not oem.with_name("oem-fleet.checklist.pdf").exists()
        await pilot.press("escape")  # back to the form, as typed
        await pilot.pause()
        assert app.screen is dialog and dialog.query_one("#customer").value == "Contoso"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert not app.dirty
        await pilot.press("q")  # nothing unexported: no question
        await pilot.pause()
    out = oem.with_name("oem-fleet.corrected.xlsx")
    assert out.exists()
    for name in ("audit.xlsx", "checklist.pdf", "checklist.xlsx", "checklist.md"):
        assert oem.with_name(f"oem-fleet.{name}").exists()
    assert "Contoso" in oem.with_name("oem-fleet.checklist.md").read_text()
    assert hashlib.sha256(oem.read_bytes()).hexdigest() == digest
    doc = run_cli("check", out, "--format", "json").json()
    assert doc["devices"][1]["status"] == "review"


async def test_help_lists_every_binding(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {
            "main.next_problem",
            "main.edit",
            "main.undo",
            "main.export",
            "grid.first_row",
            "main.mapping",
            "main.quit",
        } <= ids
        assert {"main.sighted", "main.scan", "main.accept", "main.take_out"} <= ids
        # at 80 columns a long action wraps in its own column; actions in words, no
        # internal names (binding ids, action names) on screen
        await pilot.pause()
        from rich.console import Console

        out = Console(width=68, file=io.StringIO(), color_system=None)
        out.print(app.screen.rows_renderable)
        shown = out.file.getvalue()
        assert "main." not in shown and "grid." not in shown and "app." not in shown
        assert "_" not in shown, "an action's internal name reached the help"
        assert "Next device with a finding" in shown
        assert "Select or unselect this row, then move down one" in shown  # says it moves
        assert "find any action by its" in shown and "words" in shown  # wrapped, not cut
        commands = {c.title: c.help for c in app.get_system_commands(app.main)}
        assert {"Next device with a finding", "Edit this cell", "Undo the last change"} <= set(
            commands
        )
        assert commands["Undo the last change"] == "key: U, ^z"
        assert not any("." in h for h in commands.values()), "an id reached the palette"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_markup_and_escapes_in_cells_are_shown_literally(tmp_path: Path) -> None:
    nasty = [
        device(1, Notes="[bold red]loud[/bold red]", Hostname="[@click=app.quit]x"),
        device(2, Notes="esc\x1b[31mred\x1b]0;title\x07", Asset_Tag="[link=http://x]y[/link]"),
        device(3, Notes="rtl\u202eevil\u2028next\u200bzw", Location="[b]"),
    ]
    path = write_csv(tmp_path / "nasty.csv", nasty)
    app = CoaAuditApp(path)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await loaded(app, pilot)
        text = grid_text(screen.grid)
        await pilot.press("end")  # scroll right to the notes
        text += grid_text(screen.grid)
        assert "[bold red]loud[/bold red]" in text
        assert "[@click=app.quit]x" in text
        assert "[link=http://x]y[/link]" in text
        assert "\x1b" not in text and "␛[31mred" in text
        assert "\u202e" not in text and "\u2028" not in text and "\u200b" not in text
        for y in range(screen.grid.size.height):  # no style came from a cell's text
            for seg in screen.grid.render_line(y):
                assert seg.style is None or not seg.style.link
        await pilot.click("#grid", offset=(40, 2))
        assert app.is_running
        findings = str(screen.query_one("#findings").render())
        assert "\x1b" not in findings


async def test_unreadable_file_shows_the_error_and_stays_usable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    app = CoaAuditApp(bad)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.error and "damaged" in app.error
        assert app.is_running
        await pilot.press("q")
    assert app.return_code == 0


def _pin_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots are taken as a 256-colour terminal shows them, whatever runs the tests."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_snapshot_80x24(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(
        tmp_path / "snap.csv",
        [device(1), device(2, COA_Present="No"), device(3, COA_Edition="Windows 10 Enterprise")],
    )
    monkeypatch.chdir(tmp_path)
    _pin_colours(monkeypatch)

    async def ready(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("right_square_bracket")

    assert snap_compare(CoaAuditApp(Path("snap.csv")), terminal_size=(80, 24), run_before=ready)
    assert path.exists()


@pytest.mark.parametrize("colours", ["256", "no-color"])
def test_snapshot_every_state_80x24(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, colours: str
) -> None:
    """Every state a row can be in, at 80x24, in 256 colours and without colour: eligible,
    review, blocked, not a PC, an edited cell, a selected row, the findings panel."""
    states_register(tmp_path)
    monkeypatch.chdir(tmp_path)
    _pin_colours(monkeypatch)
    if colours == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)

    async def ready(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("G", "e", "ctrl+u", *"AT-00005-REPLACED", "enter")  # an edited cell
        await pilot.press("g", "space")  # a selected row
        await pilot.press("right_square_bracket")  # the blocked device and its findings
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(CoaAuditApp(Path("states.csv")), terminal_size=(80, 24), run_before=ready)


def test_snapshot_wide(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_csv(
        tmp_path / "snap.csv",
        [
            device(i, COA_Edition=e)
            for i, e in enumerate(
                ["Windows 11 Pro", "Windows 10 Home", "", "Windows 7 Professional"]
            )
        ],
    )
    monkeypatch.chdir(tmp_path)
    _pin_colours(monkeypatch)

    async def ready(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(CoaAuditApp(Path("snap.csv")), terminal_size=(200, 40), run_before=ready)


async def test_findings_panel_compacts_and_i_shows_everything(tmp_path: Path) -> None:
    rows = [
        device(
            1,
            COA_Present="No",
            Serial_Number="To be filled by O.E.M.",
            Product_Key="W269N-WFGWX-YVC9B-4J6C9-T83GX",
            Manufacturer="Apple",
            Target_Image="Windows 7 Ultimate",
        )
    ]
    app = CoaAuditApp(write_csv(tmp_path / "many.csv", rows))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        panel = str(screen.query_one("#findings").render())
        assert "i: every finding in full" in panel
        assert len(screen.audit.findings(0)) >= 5
        await press(pilot, "i")  # a printable key waits out the scanner guard's window
        detail = app.screen
        assert detail.__class__.__name__ == "DetailScreen"
        full = str(detail.text)
        for f in screen.audit.findings(0):
            assert f.code in full and f.message in full
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_a_file_without_evidence_columns_says_so_and_m_maps_one(tmp_path: Path) -> None:
    headers = ("Asset Tag", "Serial Number", "Hostname", "Label Text")
    rows = [{"Asset Tag": "A-1", "Serial Number": "5CG1", "Hostname": "PC-1", "Label Text": "W10P"}]
    path = write_csv(tmp_path / "plain.csv", rows, headers)
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        banner = screen.query_one("#no-evidence")
        assert banner.display and "Press m" in str(banner.render())
        assert screen.audit.summary().blocked == 1
        await pilot.click("#no-evidence")
        await pilot.pause()
        assert isinstance(app.screen, MappingScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("m")  # the keyboard way the banner names
        await pilot.pause()
        assert isinstance(app.screen, MappingScreen)


async def test_mapping_an_evidence_column_clears_the_notice(tmp_path: Path) -> None:
    headers = ("Serial Number", "Hostname", "Label Text")
    rows = [{"Serial Number": "5CG1", "Hostname": "PC-1", "Label Text": "Windows 11 Pro"}]
    path = write_csv(tmp_path / "plain.csv", rows, headers)
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        inv = screen.audit.inv
        assert inv.notices()[0].startswith("NO LICENCE EVIDENCE")
        await pilot.press("m")
        assert isinstance(app.screen, MappingScreen)
        # column C ("Label Text") -> COA edition, the field after (unmapped) and 7 others
        choice = 1 + CANONICAL_FIELDS.index("coa_edition")
        await pilot.press("down", "down", "enter", *["down"] * choice, "enter", "a")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert inv.mapping["coa_edition"] == 2
        assert not screen.query_one("#no-evidence").display
        assert not any(n.startswith("NO LICENCE EVIDENCE") for n in inv.notices())
        assert screen.audit.summary().eligible == 1


def _screen_text(app) -> str:
    import re

    svg = app.export_screenshot()
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ").replace("&#x27;", "'")
    return " ".join(text.split())


async def test_restore_question_is_whole_at_80x24_and_escape_keeps_the_edits(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2), device(3)])
    killed_session(
        src,
        (0, "Notes", "one"),
        (1, "Notes", "two"),
        (2, "Notes", "three"),
        undo=1,
    )
    for answer in ("escape", "y"):
        app = CoaAuditApp(src)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, Question)
            shown = _screen_text(app)
            assert "This file has 2 unsaved edits from an earlier session" in shown
            assert "Restore them?" in shown and "escape: later" in shown
            await pilot.press(answer)
            await settle(app, pilot)
            inv = app.session.inventory
            if answer == "escape":
                assert inv.edits == {}  # kept for later, not applied, not thrown away
                continue
            assert sorted(inv.edits.values()) == ["one", "two"]
            screen = app.main
            await pilot.press("U", "U")
            assert inv.edits == {}
            await pilot.press("U")  # the third edit was undone before the kill
            assert inv.edits == {}
            assert len(screen.history.redo_stack) == 3


async def test_a_journal_that_fails_mid_session_is_said_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session tells the app when its journal stops working; nobody has to ask."""
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No")])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        assert not any("NOT protected" in n.message for n in app._notifications)
        journal = app.session.journal

        def disk_full(_entries: object, _sync: bool = True) -> None:
            journal.error = f"{journal.path}: No space left on device"

        monkeypatch.setattr(journal, "write", disk_full)
        screen.commit(0, app.session.inventory.mapping["coa_present"], "GML")
        await pilot.pause()
        notes = " ".join(n.message for n in app._notifications)
        assert "NOT protected" in notes and "No space left on device" in notes
        assert app.session.audit.summary().eligible == 1  # editing still works


async def test_unwritable_state_folder_says_edits_are_not_protected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(blocker))
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No")])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        notes = " ".join(n.message for n in app._notifications)
        assert "NOT protected" in notes
        screen.commit(0, app.session.inventory.mapping["coa_present"], "GML")
        assert app.session.audit.summary().eligible == 1
        await pilot.press("q")
        assert isinstance(app.screen, Question)
        assert "LOST" in _screen_text(app)
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_mapping_set_on_screen_is_offered_for_the_next_file(tmp_path: Path) -> None:
    headers = ("Serial Number", "Hostname", "Label Text")
    first = write_csv(
        tmp_path / "jan.csv",
        [{"Serial Number": "5CG1", "Hostname": "PC-1", "Label Text": "Windows 11 Pro"}],
        headers,
    )
    app = CoaAuditApp(first)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        choice = 1 + CANONICAL_FIELDS.index("coa_edition")
        await pilot.press("m", "down", "down", "enter", *["down"] * choice, "enter", "a")
        await pilot.pause()
        assert app.session.inventory.mapping["coa_edition"] == 2
    second = write_csv(
        tmp_path / "feb.csv",
        [{"Serial Number": "5CG2", "Hostname": "PC-2", "Label Text": "Windows 10 Pro"}],
        headers,
    )
    app2 = CoaAuditApp(second)
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(app2, pilot)
        assert isinstance(app2.screen, Question)
        assert "saved a column mapping" in _screen_text(app2)
        await pilot.press("y")
        await pilot.pause()
        inv = app2.session.inventory
        assert inv.mapping["coa_edition"] == 2
        assert app2.session.audit.summary().eligible == 1
        assert app2.session.mapping_changes[-1].origin == "saved mapping"


async def test_a_journal_another_user_owns_is_never_written_nor_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared or pre-created state folder holds the journal file, world-writable and
    owned by someone else (what another user could plant to read the keys, or to offer
    edits of their own): the app says so on screen, neither reads nor appends to it, and
    writes the edits (full keys) to a new file readable by the user only."""
    import os
    import stat

    from coa_audit.session.journal import journal_path

    state = tmp_path / "shared-state"
    monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(state))
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No"), device(2)])
    planted = journal_path(src)
    planted.parent.mkdir(parents=True)
    planted.write_text('{"sid": "x", "time": 1, "t": "open", "source": "y"}\n')
    os.chmod(planted, 0o666)
    if os.getuid() == 0:
        os.chown(planted, 4242, 4242)  # another user's file
    else:
        monkeypatch.setattr(os, "getuid", lambda: os.stat(planted).st_uid + 1)
    before = planted.read_bytes()
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(app, pilot)
        assert not isinstance(app.screen, Question)  # its "edits" are not offered
        key_col = app.session.inventory.mapping["coa_key"]
        screen.commit(0, key_col, "VK7JG-NPHTM-C97JM-9MPGT-3V66T")
        await pilot.pause()
        notes = " ".join(n.message for n in app._notifications)
        assert "NOT protected there" in notes and "new private file" in notes
        assert app.session.journal_error is None
    assert planted.read_bytes() == before  # not one byte appended
    own = [p for p in planted.parent.iterdir() if p != planted and p.suffix == ".jsonl"]
    assert len(own) == 1 and "VK7JG-NPHTM-C97JM-9MPGT-3V66T" in own[0].read_text()
    assert stat.S_IMODE(own[0].stat().st_mode) == 0o600


async def test_a_tampered_journal_line_is_skipped_not_applied(tmp_path: Path) -> None:
    """A journal line remapping a column to a field that does not exist (or naming a
    device by an identifier that is none) is validated as strictly as --map: skipped and
    counted, never applied, never printed in the packet's column mapping."""
    import json as _json

    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2)])
    session = killed_session(src, (0, "Notes", "one"))
    path = session.journal.path
    sid = _json.loads(path.read_text().splitlines()[0])["sid"]
    with open(path, "a") as f:
        f.write(_json.dumps({"sid": sid, "time": 2, "t": "remap",
                             "mapping": {"no_such_field": "Notes"}}) + "\n")  # fmt: skip
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, Question)
        assert "1 unreadable journal line(s) will be skipped" in _screen_text(app)
        await pilot.press("y")
        await settle(app, pilot)
        inv = app.session.inventory
        assert "no_such_field" not in inv.mapping
        assert sorted(inv.edits.values()) == ["one"]


async def test_each_crashed_session_is_offered_in_turn(tmp_path: Path) -> None:
    """Two sessions ended without saving (two technicians on one machine, or two crashes):
    both are offered, newest first; an edit whose cell the other already changed is
    listed as not applied, never put elsewhere."""
    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2), device(3)])
    killed_session(src, (0, "Notes", "older"), (1, "Notes", "older only"))
    import time as _time

    _time.sleep(0.05)
    killed_session(src, (0, "Notes", "newer"), (2, "Notes", "newer only"))
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        shown = _screen_text(app)
        assert "(1 of 2)" in shown and "each is offered in turn" in shown
        await pilot.press("y")
        await settle(app, pilot)
        assert "(2 of 2)" in _screen_text(app)
        await pilot.press("y")
        await settle(app, pilot)
        inv = app.session.inventory
        notes = inv.mapping["notes"]
        values = [inv.value(r, notes) for r in range(3)]
        assert values == ["newer", "older only", "newer only"]
        messages = " ".join(n.message for n in app._notifications)
        assert "Not applied (1)" in messages
