"""What an SSH user at 80x24 sees: every state legible without colour and in 16 colours,
keys that land where the fix goes, headers that survive scrolling, dialogs with their own
keys, the file's notices on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from coa_audit.tui.app import CoaAuditApp
from tests.conftest import device, oem_copy, settle, write_csv


async def test_without_colour_every_state_keeps_a_text_style(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.no_color
        bar = app.main.query_one("#summary").render()
        spans = {bar.plain[s.start : s.end]: s.style for s in bar.spans}
        blocked = next(v for k, v in spans.items() if k.endswith("blocked"))
        review = next(v for k, v in spans.items() if k.endswith("review"))
        assert blocked.reverse and review.underline
        assert all(v.foreground is None and not v.dim for v in spans.values())
        await pilot.press("right_square_bracket")
        await pilot.pause()
        panel = app.main.query_one("#findings").render()
        assert any(s.style.reverse for s in panel.spans)  # BLOCKED and its error codes
        assert all(s.style.foreground is None and not s.style.dim for s in panel.spans)


async def test_sixteen_colours_use_the_terminals_own_red_and_yellow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "vt100")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.ansi16 and app.has_class("-ansi16")
        grid = app.main.grid
        blocked, review = grid._style("grid--blocked"), grid._style("grid--review")
        assert blocked.bgcolor is not None and blocked.bgcolor.number == 1  # ANSI red
        assert review.bgcolor is not None and review.bgcolor.number == 3  # ANSI yellow
        assert review.color is not None and review.color.number == 0  # black on yellow


async def test_next_problem_lands_on_the_cell_the_finding_names(tmp_path: Path) -> None:
    rows = [device(1), device(2, Product_Key="JB7TK-VCXJ4-8C3MW"), device(3, COA_Present="No")]
    app = CoaAuditApp(write_csv(tmp_path / "p.csv", rows))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert grid.current_row() == 1 and grid.current_column().field == "coa_key"
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert grid.current_row() == 2 and grid.current_column().field == "coa_present"


async def test_a_half_scrolled_column_keeps_its_title(tmp_path: Path) -> None:
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        start = 0
        for col in grid.columns:
            if col.frozen:  # frozen at the left (identity): only the other columns scroll
                continue
            if col.width >= 12:
                break
            start += col.width + 1
        grid.scroll_to(x=start + 4, animate=False)
        await pilot.pause()
        header = "".join(seg.text for seg in grid.render_line(0))
        assert col.title[:6] in header


async def test_ctrl_c_says_how_to_quit_in_plain_words(tmp_path: Path) -> None:
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "Press q (or ctrl+q) to quit." in messages
        assert not any("[b]" in m for m in messages)


async def test_the_file_notices_target_and_agreement_are_on_screen(tmp_path: Path) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("Serial Number;COA Edition\nS-1;Windows 10 Professionnel é\n".encode("cp1252"))
    app = CoaAuditApp(src, target="windows-pro")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        # on the findings panel's edge, covering nothing (no toast over the findings)
        title = str(app.main.query_one("#findings").border_title)
        assert "Target: Windows Pro upgrade (commercial agreement)" in title and "1 note" in title
        assert not any("Target:" in n.message for n in app._notifications)
        await pilot.press("I")
        await pilot.pause()
        text = str(app.screen.query_one("#detail-text").render())
        assert "Agreement: commercial" in text and "Target:" in text and "(windows-pro)" in text
        notices = app.session.inventory.notices()
        assert notices and all(n[:40] in text for n in notices)


async def test_export_dialog_marks_remembered_details_and_has_its_own_keys(
    tmp_path: Path,
) -> None:
    from textual.widgets import Footer, Label

    from coa_audit.session.state import save_user_profile
    from coa_audit.tui.screens import ExportScreen, Tick

    save_user_profile({"customer": "Old Customer Ltd"}, ["customer"], "another-fleet.xlsx")
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        labels = [str(label.render()) for label in screen.query(Label)]
        assert "* Customer (remembered from another-fleet.xlsx)" in labels
        assert screen.query_one("#customer").value == "Old Customer Ltd"
        assert screen.query(Footer)  # the dialog's keys, not the grid's
        box = screen.query_one("#annotate", Tick)
        off = str(box.render())
        box.value = True
        await pilot.pause()
        assert "X" in str(box.render()) and "X" not in off  # on and off differ without colour


async def test_a_half_scrolled_column_shows_its_value_from_the_start(tmp_path: Path) -> None:
    """After a horizontal scroll the leftmost, half-hidden column shows the start of each
    value ("Windows 11 E…", never "0 Enterprise"), like its heading, and an edit's star."""
    from coa_audit.tui.grid import STATUS_WIDTH

    src = write_csv(tmp_path / "scroll.csv", [device(1), device(2)])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        inv = app.session.inventory
        ci = next(i for i, c in enumerate(grid.columns) if c.field == "target_image")
        col = grid.columns[ci]
        app.session.apply(0, col.index, "Windows 11 Enterprise LTSC 2024")
        start = sum(c.width + 1 for c in grid.columns[:ci] if not c.frozen)  # they scroll
        grid.scroll_to(start + 3, 0, animate=False, immediate=True)
        await pilot.pause()
        row = grid.render_line(1)  # the first device, under the heading
        text = "".join(seg.text for seg in row)
        # selection mark, row number, status, then the frozen identity columns
        left = grid._left + STATUS_WIDTH + 1 + sum(c.width + 1 for c in grid.columns if c.frozen)
        visible = text[left : left + col.width - 3]  # what is left of the column in view
        assert visible.startswith("Windows"), text
        assert visible.rstrip().endswith("*"), text  # the edit's star still shows
        assert inv.value(0, col.index) == "Windows 11 Enterprise LTSC 2024"


async def test_restore_counts_what_the_question_counted(tmp_path: Path) -> None:
    """One cell edited twice and another edited once: the question, the restore note and
    the status bar all say 2 (never "2 unsaved" then "Restored 3")."""
    from tests.conftest import killed_session

    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2), device(3)])
    killed_session(src, (0, "Notes", "one"), (0, "Notes", "uno"), (1, "Notes", "two"))
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "has 2 unsaved edits from an earlier session" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert "Restored 2 edits." in messages, messages
        assert "2 edits" in str(app.main.query_one("#summary").render())


async def test_go_to_a_row_by_its_number_or_by_a_serial(tmp_path: Path) -> None:
    """: (or ctrl+g) asks for a sheet row number or a serial or asset tag; the cursor goes
    there, showing every row if the filter hid it; a code on two rows names both."""
    src = write_csv(
        tmp_path / "fleet.csv",
        [device(1), device(2, COA_Present="No"), device(3), device(4, Serial_Number="5CG0000003")],
    )
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        await pilot.press("colon", *"3", "enter")  # the sheet's row 3: the second device
        await pilot.pause()
        assert app.session.inventory.row_numbers[grid.current_row()] == 3
        # a filter that hides the device: the grid shows every row to reach it
        while grid.filter != "blocked":
            await pilot.press("f")
        await pilot.press("ctrl+g", *"at-00001", "enter")  # an asset tag, any case
        await pilot.pause()
        assert grid.filter == "all" and grid.current_row() == 0
        await pilot.press("colon", *"5cg 0000003", "enter")  # spaces and case as scan ignores
        await pilot.pause()
        assert grid.current_row() == 2
        assert any("is on rows 4, 5" in n.message for n in app._notifications)
        await pilot.press("colon", *"999", "enter")
        await pilot.pause()
        assert grid.current_row() == 2
        assert any("No row 999" in n.message for n in app._notifications)


async def test_search_says_which_match_of_how_many(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(i) for i in range(1, 8)])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.session.author = "Tess Tester"  # who edits (asked at the first change otherwise)
        await pilot.press("slash", *"at-0000", "enter")
        await pilot.pause()
        assert any("at-0000: match 1 of 7 rows" in n.message for n in app._notifications)
        app.clear_notifications()
        await pilot.press("n", "n")
        await pilot.pause()
        assert any("match 3 of 7 rows" in n.message for n in app._notifications)
        # an edit changes what matches: counted again
        await pilot.press("e", "ctrl+u", *"X-1", "enter")
        app.clear_notifications()
        await pilot.press("N")
        await pilot.pause()
        assert any("match 2 of 6 rows" in n.message for n in app._notifications)


async def test_quit_names_walk_marks_not_yet_exported(tmp_path: Path) -> None:
    """A device marked present is a walk mark: quit says so apart from edited cells, and
    says where an export would put the walk."""
    from coa_audit.tui.screens import Question

    src = oem_copy(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.session.author = "Ann Verifier"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, Question)
        assert app.screen.question.startswith("1 walk mark (present, label")
        assert "not exported yet" in app.screen.question
        assert "walk.csv" in app.screen.detail
        await pilot.press("n")
        await pilot.press("e", "ctrl+u", *"fixed", "enter")
        await pilot.press("q")
        await pilot.pause()
        assert app.screen.question.startswith("1 edited cell and 1 walk mark")


async def test_escapes_in_a_cell_never_reach_the_terminal_through_the_edit_box(
    tmp_path: Path,
) -> None:
    """A notes cell holding OSC 52 (set the clipboard), OSC 0 (the window title) and
    ESC[2J (clear the screen): the edit box shows stand-ins, and an edit keeps the
    user's bytes in the corrected file."""
    from textual.widgets import Input

    hostile = "a\x1b]52;c;SGVsbG8=\x07b\x1b]0;owned\x07c\x1b[2Jd\u202e"
    src = write_csv(tmp_path / "fleet.csv", [device(1, Notes=hostile), device(2)])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.session.author = "Tess Tester"  # who edits (asked at the first change otherwise)
        grid = app.main.grid
        notes = next(i for i, c in enumerate(grid.columns) if c.field == "notes")
        grid.move_to(0, notes)
        await pilot.press("e")
        await pilot.pause()
        box = app.main.query_one("#edit-input", Input)
        assert "\x1b" not in box.value and "\x07" not in box.value and "\u202e" not in box.value
        assert "␛]52;c;SGVsbG8=␇" in box.value and "⟦U+202E⟧" in box.value
        screen = app.export_screenshot()
        assert "\x1b]52" not in screen and "\x1b[2J" not in screen
        await pilot.press("end", "X", "enter")
        await pilot.pause()
        inv = app.session.inventory
        assert inv.value(0, inv.mapping["notes"]) == hostile + "X"
