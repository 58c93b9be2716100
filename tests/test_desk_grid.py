"""The auditor's desk (issue 34): column widths, the column keys, frozen identity columns, the
mouse and the masked key's sort, driven by Textual's pilot at 80x24 as a user drives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from coa_audit.core.audit import mask_key
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.grid import Grid
from tests.conftest import KEY_ALPHABET, device, press, settle, write_csv

ROWS = 110
LONG_SERIAL = "5CG-" + "LONG-SERIAL-OF-ONE-ODD-DEVICE-0001"  # 38 characters


def _tail(m: int) -> str:
    return "".join(KEY_ALPHABET[(m // 24**i) % 24] for i in range(5))


def _key(n: int) -> str:
    """Keys whose hidden order (their first group) is not their masked order (the last)."""
    return f"{KEY_ALPHABET[(n // 5) % 24] * 5}-VCXJ4-8C3MW-YK3DF-{_tail((n * 37) % ROWS)}"


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """110 devices, one with a serial far longer than the others; host names out of order."""
    rows = []
    for n in range(ROWS):
        row = device(n, Hostname=f"PC-{(n * 37) % ROWS:05d}", Product_Key=_key(n))
        if n == 3:
            row["Serial Number"] = LONG_SERIAL
        rows.append(row)
    return write_csv(tmp_path / "register.csv", rows)


async def opened(app: CoaAuditApp, pilot) -> MainScreen:
    await settle(app, pilot)
    await pilot.pause()
    assert isinstance(app.screen, MainScreen), app.error
    app.session.author = "Tess Tester"
    return app.screen


def lines(grid: Grid) -> list[str]:
    return [grid.render_line(y).text for y in range(grid.size.height)]


def position(grid: Grid, title: str) -> int:
    return next(i for i, c in enumerate(grid.columns) if c.title == title)


async def to_column(pilot, grid: Grid, title: str) -> None:
    """Right arrow until the cursor is on the column called ``title``, as a user would."""
    for _ in range(len(grid.columns)):
        if grid.columns[grid.cursor_col].title == title:
            return
        await press(pilot, "right")
    assert grid.columns[grid.cursor_col].title == title


async def test_widths_leave_the_edition_readable_and_a_long_value_whole(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid
        shown = lines(grid)
        assert "COA edition" in shown[0]  # its heading and its values whole, at open
        assert "Windows 11 Pro" in shown[1]
        serial = grid.columns[position(grid, "Serial")]
        assert serial.width < len(LONG_SERIAL)  # one long serial does not widen the column
        assert LONG_SERIAL not in "\n".join(shown)
        # the cursor on the long serial: its whole value is on screen, in its row
        await press(pilot, "down", "down", "down")
        await to_column(pilot, grid, "Serial")
        assert LONG_SERIAL in lines(grid)[4]
        assert "Windows 11 Pro" in lines(grid)[5]  # the rows around it as they were


async def test_column_keys_widen_narrow_fit_hide_and_show(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid
        await to_column(pilot, grid, "Serial")
        width = grid.columns[grid.cursor_col].width
        await press(pilot, "greater_than_sign")
        assert grid.columns[grid.cursor_col].width == width + 2
        await press(pilot, "less_than_sign", "less_than_sign")
        assert grid.columns[grid.cursor_col].width == width - 2
        await press(pilot, "F")  # fitted to its values: the long serial whole
        assert grid.columns[grid.cursor_col].width == len(LONG_SERIAL)
        assert LONG_SERIAL in "\n".join(lines(grid))
        await press(pilot, "F")  # again: the usual width
        assert grid.columns[grid.cursor_col].width == width
        await to_column(pilot, grid, "Location")
        assert "Location" in lines(grid)[0]
        await press(pilot, "H")
        assert "Location" not in [c.title for c in grid.columns]
        assert "Location" not in lines(grid)[0]
        assert grid.current_column() is not None and grid.current_column().title != "Location"
        await press(pilot, "asterisk")
        assert "Location" in [c.title for c in grid.columns]
        await press(pilot, "home")
        await to_column(pilot, grid, "Location")
        assert "Location" in lines(grid)[0]


async def test_identity_columns_stay_at_the_left_and_a_column_freezes(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid
        await press(pilot, "end")  # the last column: everything else scrolls off
        last = grid.columns[-1].title
        header, first = lines(grid)[0], lines(grid)[1]
        assert grid.scroll_offset.x > 0
        assert header.index("Row") < header.index("Status") < header.index("Asset tag")
        assert header.index("Asset tag") < header.index("Serial") < header.index("Hostname")
        assert last in header
        assert "AT-00000" in first and "5CG0000000" in first and "PC-00000" in first
        assert "COA edition" not in header  # scrolled off
        # the COA edition frozen too: it stays beside them at the last column
        await press(pilot, "home")
        await to_column(pilot, grid, "COA edition")
        await press(pilot, "P")
        await press(pilot, "end")
        header = lines(grid)[0]
        assert "COA edition" in header and last in header and "Hostname" in header
        # unfrozen again, it scrolls with the rest
        await to_column_from_end(pilot, grid, "COA edition")
        await press(pilot, "P", "end")
        assert "COA edition" not in lines(grid)[0]
        await press(pilot, "home")
        await to_column(pilot, grid, "Serial")
        await press(pilot, "P", "end")  # an identity column unfrozen scrolls away too
        header = lines(grid)[0]
        assert "Serial" not in header and "Asset tag" in header


async def to_column_from_end(pilot, grid: Grid, title: str) -> None:
    for _ in range(len(grid.columns)):
        if grid.columns[grid.cursor_col].title == title:
            return
        await press(pilot, "left")
    assert grid.columns[grid.cursor_col].title == title


async def test_a_click_on_a_cell_puts_the_cursor_there(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid
        x = lines(grid)[0].index("COA edition") + 2
        await pilot.click("#grid", offset=(x, 5))  # the fifth row under the heading
        await settle(app, pilot)
        assert grid.cursor_row == 4
        assert grid.current_column() is not None
        assert grid.current_column().title == "COA edition"
        assert grid.current_row() == 4
        x = lines(grid)[0].index("Hostname") + 1
        await pilot.click("#grid", offset=(x, 2))
        await settle(app, pilot)
        assert (grid.cursor_row, grid.current_column().title) == (1, "Hostname")  # type: ignore[union-attr]


async def test_a_click_on_a_heading_sorts_and_again_reverses(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        grid = screen.grid
        hosts = [lines(grid)[y].split()[4] for y in range(1, 6)]
        assert hosts != sorted(hosts)  # out of order in the file
        x = lines(grid)[0].index("Hostname") + 1
        await pilot.click("#grid", offset=(x, 0))
        await settle(app, pilot)
        shown = [lines(grid)[y].split()[4] for y in range(1, 11)]
        assert shown == [f"PC-{n:05d}" for n in range(10)]
        assert grid.sort == (position(grid, "Hostname"), False)
        await pilot.click("#grid", offset=(x, 0))
        await settle(app, pilot)
        shown = [lines(grid)[y].split()[4] for y in range(1, 11)]
        top = round(grid.scroll_offset.y)  # the cursor's device kept in view: it is last now
        assert shown == [f"PC-{n:05d}" for n in range(ROWS - 1 - top, ROWS - 11 - top, -1)]
        hosts = [grid.inv.field(r, "hostname") for r in grid.view]
        assert hosts == sorted(hosts, reverse=True)
        assert grid.sort == (position(grid, "Hostname"), True)


async def test_the_masked_key_sorts_by_its_masked_text(register: Path) -> None:
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid
        await to_column(pilot, grid, "Product key")
        keys = grid.inv.column_values(grid.current_column().index)  # type: ignore[union-attr]
        by_hidden = sorted(range(ROWS), key=keys.__getitem__)
        by_masked = sorted(range(ROWS), key=lambda r: mask_key(keys[r]))
        assert by_hidden != by_masked  # the test can tell them apart
        await press(pilot, "s")
        assert list(grid.view) == by_masked
        x = lines(grid)[0].index("Product key")
        on_screen = [line[x : x + 29].strip() for line in lines(grid)[1:8]]
        top = round(grid.scroll_offset.y)  # the cursor's row kept its place in the new order
        assert on_screen == [mask_key(keys[r]) for r in by_masked[top : top + 7]]
        assert all(k.startswith("XXXXX-XXXXX-XXXXX-XXXXX-") for k in on_screen)
        await press(pilot, "S")
        assert list(grid.view) == sorted(range(ROWS), key=lambda r: mask_key(keys[r]), reverse=True)
        await press(pilot, "v")  # keys shown: they sort by what is shown, the whole key
        assert list(grid.view) == sorted(range(ROWS), key=keys.__getitem__, reverse=True)
        await press(pilot, "v")  # masked again: the masked order again
        assert list(grid.view)[:3] == by_masked[::-1][:3]


async def test_the_wheel_scrolls_down_and_back_up(register: Path) -> None:
    from textual import events

    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = (await opened(app, pilot)).grid

        def wheel(kind: type[events.MouseEvent]) -> None:
            # as the terminal sends it: over the grid, at its fifth row
            grid.post_message(kind(grid, 20, 5, 0, 0, 0, False, False, False, 20, 6))

        first = lines(grid)[1]
        for _ in range(3):
            wheel(events.MouseScrollDown)
        await settle(app, pilot)
        assert grid.scroll_offset.y > 0
        assert lines(grid)[1] != first and lines(grid)[1].split()[0] != "2"
        for _ in range(3):
            wheel(events.MouseScrollUp)
        await settle(app, pilot)
        assert grid.scroll_offset.y == 0 and lines(grid)[1] == first


async def test_i_shows_the_current_cell_whole_however_long(tmp_path: Path) -> None:
    """A note longer than the screen is wide is cut in its column; ``i`` shows it whole, and a
    product key in it stays masked there until keys are shown."""
    words = " ".join(f"word{i:03d}" for i in range(40))  # 319 characters, four screens wide
    key = "JB7TK-VCXJ4-8C3MW-YK3DF-CCCCC"
    note = f"Relabelled {words} with key {key} end-of-note"
    register = write_csv(tmp_path / "notes.csv", [device(1, Notes=note), device(2)])
    app = CoaAuditApp(register)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await opened(app, pilot)
        await to_column(pilot, main.grid, "Notes")
        assert "end-of-note" not in "\n".join(lines(main.grid))  # cut in the grid
        await press(pilot, "i")
        shown = " ".join(str(app.screen.query_one("#detail-text").render()).split())
        assert "(Notes), whole:" in shown
        assert note.replace(key, mask_key(key)) in shown  # every word, the key masked
        assert key not in shown
        await press(pilot, "escape", "v", "i")  # keys shown: the cell as it is
        shown = " ".join(str(app.screen.query_one("#detail-text").render()).split())
        assert note in shown
