"""The auditor's desk (issue 34): copy a cell or a row, filter by a column's value, the
status line in words, the export form's escape, toasts clear of the edit field, and one
vocabulary for filters. Driven by Textual's pilot at 80x24 through the keys a user presses."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input
from textual.widgets._toast import Toast

from coa_audit.core.keys import mask_key
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.grid import FILTERS, Grid
from coa_audit.tui.screens import ConfirmScreen, ExportScreen, HelpScreen, PromptScreen
from tests.conftest import device, press, settle, write_csv


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """Five devices: sheet rows 2 to 6; row 5 is blocked (no COA), the others eligible."""
    return write_csv(
        tmp_path / "fleet.csv",
        [
            device(1, Location="Site B"),
            device(2, Location="Site A"),
            device(3, Location=""),
            device(4, Location="Site B", COA_Present="No"),
            device(5, Location="Main Site B"),
        ],
    )


async def opened(app: CoaAuditApp, pilot) -> MainScreen:
    await settle(app, pilot)
    assert isinstance(app.screen, MainScreen), app.error
    app.session.author = "Tess Tester"
    return app.screen


def summary(screen: MainScreen) -> str:
    return str(screen.query_one("#summary").render())


def shown_rows(grid: Grid) -> list[int]:
    """The sheet row numbers the grid draws, top to bottom."""
    rows = []
    for y in range(1, grid.size.height):
        words = grid.render_line(y).text.split()
        if words and words[0].isdigit():
            rows.append(int(words[0]))
    return rows


# every word the status line may say for the fleet below, whole
WORDS = "0 1 4 5 dev devices eligible review blocked edits filter: all where Location = Site B"
WORDS += " … keys shown sel selected sort: sorted ↓"


def told(app: CoaAuditApp) -> list[str]:
    return [n.message for n in app._notifications]


async def to_column(pilot, screen: MainScreen, field: str) -> None:
    """The cursor to ``field``'s column, by arrow keys from the first column."""
    target = next(i for i, c in enumerate(screen.grid.columns) if c.field == field)
    await press(pilot, "home", *["right"] * target)
    assert screen.grid.cursor_col == target


async def value_filter(pilot, screen: MainScreen, answer: str) -> None:
    await press(pilot, "vertical_line")
    assert isinstance(screen.app.screen, PromptScreen)
    await pilot.press(*answer, "enter") if answer else await pilot.press("enter")
    await settle(screen.app, pilot)
    assert screen.app.screen is screen


# -- copy ---------------------------------------------------------------------------------
async def test_y_copies_the_cell_and_Y_the_row_with_a_toast(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await to_column(pilot, screen, "serial_number")
        await press(pilot, "down")  # sheet row 3
        await press(pilot, "y")
        assert app.clipboard == "5CG0000002"
        assert "Copied cell B3 (Serial)" in told(app)
        await press(pilot, "Y")
        fields = app.clipboard.split("\t")
        assert len(fields) == len(screen.grid.columns) and "5CG0000002" in fields
        assert "Site A" in fields and "AT-00002" in fields
        assert f"Copied row 3, {len(fields)} fields" in told(app)


async def test_a_key_copies_masked_unless_keys_are_shown(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        key = app.session.inventory.field(0, "coa_key")
        await to_column(pilot, screen, "coa_key")
        await press(pilot, "y")
        assert app.clipboard == mask_key(key) and key not in app.clipboard
        await press(pilot, "Y")
        assert mask_key(key) in app.clipboard.split("\t") and key not in app.clipboard
        await press(pilot, "v")  # keys shown: copied as shown
        await press(pilot, "y")
        assert app.clipboard == key


async def test_copy_is_in_the_command_palette(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(app, pilot)
        said = await palette(app, pilot, "copy")
        assert any(s.startswith("Copy this cell") for s in said), said
        assert any(s.startswith("Copy this row") for s in said), said


# -- filter by value ----------------------------------------------------------------------
# at 80 columns the header says "contains" as "has", "does not contain" as "lacks"
@pytest.mark.parametrize(
    ("answer", "header", "rows"),
    [
        ("= Site B", "where Location = Site B", [2, 5]),
        ("!= Site B", "where Location ≠ Site B", [3, 4, 6]),
        ("Site B", "where Location has Site B", [2, 5, 6]),
        ("!Site B", "where Location lacks Site B", [3, 4]),
        ("", "where Location is blank", [4]),
        ("!", "where Location not blank", [2, 3, 5, 6]),
    ],
)
async def test_value_filter_each_operator(
    fleet: Path, answer: str, header: str, rows: list[int]
) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await to_column(pilot, screen, "location")
        await value_filter(pilot, screen, answer)
        assert shown_rows(screen.grid) == rows
        assert header in summary(screen)  # "filter: all" makes room for it at 80 columns
        await press(pilot, "f", "f")  # the status filter on top: blocked (row 5 only)
        assert "filter: blocked" in summary(screen) and header in summary(screen)
        assert shown_rows(screen.grid) == [r for r in rows if r == 5]
        await press(pilot, "C")  # every filter cleared
        assert shown_rows(screen.grid) == [2, 3, 4, 5, 6]
        assert "where" not in summary(screen) and "filter: all" in summary(screen)


async def test_value_filter_reads_keys_as_shown_and_clear_forgets_the_search(
    fleet: Path,
) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await press(pilot, "slash")
        await pilot.press(*"Site", "enter")
        await settle(app, pilot)
        assert screen.last_search == "Site"
        await to_column(pilot, screen, "coa_key")
        await value_filter(pilot, screen, "JB7TK")  # the key's hidden start: not shown
        assert shown_rows(screen.grid) == []
        await press(pilot, "v")  # keys shown: now it is
        assert shown_rows(screen.grid) == [2, 3, 4, 5, 6]
        await press(pilot, "v", "C")
        assert screen.last_search == "" and screen.value_filter is None
        await press(pilot, "n")  # no search left: n asks for one
        assert screen.query_one("#search", Input).display


async def test_the_header_names_the_sort_column(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await to_column(pilot, screen, "serial_number")
        await press(pilot, "S")
        assert "sort: Serial ↓" in summary(screen)
        await press(pilot, "s")
        assert "sort: Serial ↑" in summary(screen)


# -- the status line in words -------------------------------------------------------------
async def test_the_header_at_80_columns_reads_in_words(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        assert summary(screen) == (
            "5 devices · 4 eligible · 0 review · 1 blocked · 0 edits · filter: all"
        )
        # crowded: a sort, a value filter, keys shown, a selection: shorter, whole words
        await to_column(pilot, screen, "location")
        await value_filter(pilot, screen, "= Site B")
        await press(pilot, "S", "v", "space")
        line = summary(screen)
        assert len(line) <= 78, line
        words = set(WORDS.split(" ")) | {"·"}
        assert set(line.split()) <= words, line
        # what the user set stays said: the value filter, keys shown, the selection
        assert "where Location = Site B" in line and "keys shown" in line and "1 sel" in line


# -- the export form's escape ---------------------------------------------------------------
async def test_escape_in_a_changed_export_form_asks(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ExportScreen)
        await press(pilot, "escape")  # nothing typed: closes at once
        assert app.screen is screen
        await press(pilot, "ctrl+s")
        form = app.screen
        assert isinstance(form, ExportScreen)
        await pilot.press("tab", *"Contoso")
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)  # asked, nothing thrown away yet
        await press(pilot, "n")  # keep: back to the form as typed
        assert app.screen is form and form.query_one("#customer", Input).value == "Contoso"
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "y")  # discard
        assert app.screen is screen


# -- toasts clear of the edit field -------------------------------------------------------
async def test_a_toast_during_an_edit_does_not_cover_the_edit_field(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn
        screen = await opened(app, pilot)
        await to_column(pilot, screen, "location")
        await press(pilot, "e")
        field = screen.query_one("#editbar")
        assert field.display and field.region.height
        app.notify("The journal could not be written: edits are kept in memory only.")
        await pilot.pause()
        await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert toasts and all(t.region.height for t in toasts)
        for toast in toasts:
            assert not toast.region.overlaps(field.region), (toast.region, field.region)
        await press(pilot, "escape")


# -- one vocabulary for filters -------------------------------------------------------------
async def palette(app: CoaAuditApp, pilot, query: str) -> list[str]:
    """What the command palette lists for ``query``, as typed into it."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    for _ in range(20):
        await pilot.pause(0.05)
    options = app.screen.query_one(CommandList)
    said = [
        str(options.get_option_at_index(i).prompt).split("\n")[0]
        for i in range(options.option_count)
    ]
    await pilot.press("escape")
    await pilot.pause()
    return said


async def test_filter_words_are_the_same_in_f_help_and_the_palette(fleet: Path) -> None:
    app = CoaAuditApp(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        by_f = []
        for _ in FILTERS:
            await press(pilot, "f")
            by_f.append(summary(screen).split("filter: ")[1].split()[0])
        said = await palette(app, pilot, "filter:")
        in_palette = [s.removeprefix("filter: ") for s in said if s.startswith("filter: ")]
        assert sorted(in_palette) == sorted(by_f), (in_palette, by_f)
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        f_help = next(row[1] for row in app.screen.rows if row[2] == "main.filter")
        assert f_help.split(": ", 1)[1].split(", ") == ["all", *by_f[:-1]]
        await press(pilot, "escape")
        # the palette's entry sets the filter it names
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"filter: blocked")
        for _ in range(20):
            await pilot.pause(0.05)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and "filter: blocked" in summary(screen)
        assert shown_rows(screen.grid) == [5]
