"""A large file in the app: its first rows are on screen while the rest loads, moving and
searching work on them, every change waits for the whole file, and a file that fails
half-way says so instead of leaving its first rows on screen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import coa_audit.session.session as session_module
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.screens import LoadingScreen
from tests.conftest import device, settle, write_csv

ROWS = 80_000  # the reader glimpses at 8,192 rows: under an eighth of the file


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [device(n) for n in range(ROWS)]
    rows[3] = device(3, COA_Edition="Windows 10 Home")  # blocked
    return write_csv(tmp_path_factory.mktemp("large") / "large.csv", rows)


class Held(threading.Event):
    """Set by the test to let the load go on; ``ended`` says how the load ended."""

    ended: threading.Event
    how: str = ""


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Held:
    """The load stops after its first glimpse until the test sets the event: what the
    screen shows while rows are still loading is then there to look at."""
    go = Held()
    go.ended = threading.Event()
    real = session_module.open_session

    def open_session(*args: Any, glimpse: Callable[[Any], None], **kw: Any) -> Any:
        def hold(part: Any) -> None:
            glimpse(part)
            assert go.wait(30), "the test never let the load go on"

        try:
            session = real(*args, glimpse=hold, **kw)
            go.how = "read whole"
            return session
        except BaseException as exc:
            go.how = type(exc).__name__
            raise
        finally:
            go.ended.set()

    monkeypatch.setattr(session_module, "open_session", open_session)
    return go


def summary(screen: MainScreen) -> str:
    return str(screen.query_one("#summary").render())


@asynccontextmanager
async def first_rows(path: Path) -> AsyncIterator[tuple[CoaAuditApp, Any, MainScreen]]:
    """The app on ``path``, once its first rows are on screen (the load held there)."""
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        yield app, pilot, await glimpsed(app, pilot)


async def glimpsed(app: CoaAuditApp, pilot: Any) -> MainScreen:
    for _ in range(2000):
        screen = app.screen
        if isinstance(screen, MainScreen) and screen.query("#grid") and summary(screen):
            return screen
        await pilot.pause(0.01)
    raise AssertionError(f"no rows on screen while loading; screen {app.screen}")


async def test_first_rows_are_usable_while_the_rest_loads(large: Path, held: Held) -> None:
    async with first_rows(large) as (app, pilot, screen):
        grid = screen.grid
        assert screen.session.loading and app.session is None
        assert len(grid.view) == 8192  # the first chunk read, not the file
        assert "Reading" in summary(screen) and "8,192 rows so far" in summary(screen)
        assert "edits wait" in summary(screen)
        assert "AT-00000" in grid.render_line(1).text
        # a clean device is not called certifiable before a later row could repeat its serial
        panel = str(screen.query_one("#findings").render())
        assert "rows read so far" in panel and "can be certified" not in panel

        await pilot.press("pagedown")
        assert grid.cursor_row == grid.page_height
        await pilot.press("slash", *"5CG0000200", "enter")
        assert screen.audit.inv.field(grid.current_row(), "serial_number") == "5CG0000200"
        cursor = grid.current_row()

        await pilot.press("e")  # a change waits: it says so and changes nothing
        assert screen.editing is None
        assert any("Still reading" in n.message for n in app._notifications)
        await pilot.press("c", "x", "a", "m", "ctrl+s")
        assert isinstance(app.screen, MainScreen) and screen.session.edit_count == 0

        held.set()
        await settle(app, pilot)
        assert app.session is not None and not screen.session.loading
        assert len(grid.view) == ROWS and grid.current_row() == cursor  # the cursor stayed
        assert "Reading" not in summary(screen) and f"{ROWS}" in summary(screen)
        assert "can be certified" in str(screen.query_one("#findings").render())
        app.session.author = "Tess Tester"  # who edits (asked at the first change otherwise)
        await pilot.press("e", "ctrl+u", *"Windows 11 Pro", "enter")
        assert screen.session.edit_count == 1  # edits work once the whole file is in


async def test_a_filter_and_sort_chosen_while_loading_hold_for_the_whole_file(
    large: Path, held: Held
) -> None:
    async with first_rows(large) as (app, pilot, screen):
        grid = screen.grid
        await pilot.press("f", "f")  # problems, then blocked
        assert grid.filter == "blocked" and len(grid.view) == 1
        held.set()
        await settle(app, pilot)
        assert grid.filter == "blocked" and len(grid.view) == 1
        assert screen.audit.inv.field(grid.current_row(), "asset_tag") == "AT-00003"


async def test_quitting_while_rows_load_stops_the_load(large: Path, held: Held) -> None:
    async with first_rows(large) as (app, pilot, _screen):
        await pilot.press("q")
        # the reader is held mid-file until held.set() below: the app ends without the rest
        # of the file (a printable key runs after the scanner's burst window, 30 ms, which a
        # loaded machine can stretch: waited for, up to 5 s, never for the file)
        for _ in range(100):
            if not app.is_running:
                break
            await asyncio.sleep(0.05)
        assert not app.is_running
        assert not held.is_set()
        held.set()
    assert held.ended.wait(30)
    assert held.how == "LoadCancelled"  # the reader stopped at its next chunk
    assert app.session is None  # nothing was opened, nothing journalled


async def test_a_file_that_fails_after_its_first_rows_says_why(tmp_path: Path) -> None:
    rows = [device(n) for n in range(ROWS)]
    path = write_csv(tmp_path / "broken.csv", rows)
    with path.open("a", encoding="utf-8") as f:  # a hostile line far past the first chunk
        f.write("," * 20_000 + "\r\n")
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)
        text = str(app.screen.query_one("#error").render())
        assert "more than a spreadsheet holds" in text and "q quits" in text
        assert app.error_code == 3
