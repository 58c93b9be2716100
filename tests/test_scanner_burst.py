"""A USB barcode scanner types a code a few milliseconds a character, then Enter. On the main
screen single letters are commands, so such a burst outside scan mode must never run one: it
is taken as a scan (the cursor goes to the device). A person's keys still run, in order, a
few tens of milliseconds late. The decision (tui/burst.py) over many spellings first, then
the app driven as a user and a scanner would drive it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual import events
from textual.keys import key_to_character

from coa_audit.core.model import RowIndex
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.burst import BURST_WINDOW, ENTER, SCAN_MIN_LENGTH, Burst, Key
from coa_audit.tui.grid import Grid
from coa_audit.tui.screens import ScanScreen
from tests.conftest import SAMPLES, let_keys_through, press, settle

W = BURST_WINDOW

# -- the decision, over many spellings ----------------------------------------------------------

printable = st.characters(codec="utf-8").filter(str.isprintable)
# the codes a scanner types: serial numbers, asset tags, anything printable
codes = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=SCAN_MIN_LENGTH),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/. ", min_size=SCAN_MIN_LENGTH),
    st.text(alphabet="UuRrSsoAcaxedivmnNfbqgGjklhI=/:?[] ", min_size=SCAN_MIN_LENGTH),
    st.text(alphabet=printable, min_size=SCAN_MIN_LENGTH, max_size=60),
)
# a scanner's gap between characters: well inside the window
fast = st.floats(min_value=0.0, max_value=W * 0.9)
# a person's gap: longer than the window (up to a slow second)
slow = st.floats(min_value=W * 1.01, max_value=1.0)
others = st.sampled_from(
    ["down", "up", "left", "pagedown", "home", "tab", "escape", "ctrl+z", "ctrl+s", "f1"]
)


def keys_of(text: str) -> list[Key]:
    return [(ch, ch) for ch in text]


def drive(burst: Burst, typed: list[tuple[str, str | None, float]], timer: bool = True):
    """What the screen does with ``typed`` (key, character, time): the keys that run as
    commands, in order, and the scans. ``timer``: the window's timer fires when due (else
    only the next key finds the held keys late)."""
    ran: list[Key] = []
    scans: list[str] = []
    for key, char, at in typed:
        left = burst.remaining(at)
        if timer and left is not None and left <= 0:
            ran += burst.due(at)
        verdict = burst.feed(key, char, at)
        ran += verdict.run
        if not verdict.taken:
            ran.append((key, char))  # nothing held: the key goes on at once
        if verdict.scan is not None:
            scans.append(verdict.scan)
    ran += burst.due(float("inf"))
    return ran, scans


@given(codes, st.data(), st.floats(min_value=0, max_value=1e6))
def test_a_fast_burst_ending_in_enter_is_a_scan_and_runs_nothing(
    code: str, data: st.DataObject, start: float
) -> None:
    gaps = data.draw(st.lists(fast, min_size=len(code), max_size=len(code)))
    burst, at, typed = Burst(), start, []
    for ch, gap in zip(code, gaps, strict=True):
        at += gap
        typed.append((ch, ch, at))
    # every key is held, none runs, until Enter makes the whole burst one scan
    for key, char, when in typed:
        verdict = burst.feed(key, char, when)
        assert verdict.held and not verdict.run and verdict.scan is None
        assert burst.due(when + W * 0.5) == ()  # its timer: not yet
    verdict = burst.feed(ENTER, "\r", at + data.draw(fast))
    assert verdict.scan == code and not verdict.run and verdict.taken
    assert burst.held == () and burst.remaining() is None


@given(codes, st.data(), st.booleans())
def test_the_same_keys_at_a_persons_pace_run_as_commands_in_order(
    code: str, data: st.DataObject, timer: bool
) -> None:
    at, typed = 0.0, []
    for ch in [*code, "enter"]:
        at += data.draw(slow)
        typed.append((ch, "\r" if ch == "enter" else ch, at))
    ran, scans = drive(Burst(), typed, timer)
    assert scans == []
    assert [k for k, _ in ran] == [*code, "enter"]


@given(st.text(alphabet=printable, min_size=1, max_size=30), others, st.data())
def test_a_held_key_then_a_key_no_scanner_types_runs_both_in_order(
    text: str, other: str, data: st.DataObject
) -> None:
    burst, at = Burst(), 10.0
    for ch in text:
        at += data.draw(fast)
        assert burst.feed(ch, ch, at).held
    verdict = burst.feed(other, None, at + data.draw(fast))
    assert verdict.scan is None and not verdict.held
    assert verdict.run == (*keys_of(text), (other, None))
    assert burst.held == ()
    # nothing held: the next such key goes on at once, unchanged
    assert not burst.feed(other, None, at + 0.001).taken


@given(st.text(alphabet=printable, min_size=1, max_size=SCAN_MIN_LENGTH - 1), st.data())
def test_fewer_than_four_keys_then_enter_are_commands(text: str, data: st.DataObject) -> None:
    burst, at = Burst(), 0.0
    for ch in text:
        at += data.draw(fast)
        burst.feed(ch, ch, at)
    verdict = burst.feed(ENTER, "\r", at + data.draw(fast))
    assert verdict.scan is None
    assert verdict.run == (*keys_of(text), (ENTER, "\r"))  # s then Enter: sort, then edit


@given(codes, codes, st.data(), st.booleans())
def test_a_pause_inside_a_burst_ends_it(
    first: str, second: str, data: st.DataObject, timer: bool
) -> None:
    """Keys before a pause longer than the window are a person's: they run; what follows
    fast and ends in Enter is a scan of its own."""
    at, typed = 0.0, []
    for ch in first:
        at += data.draw(fast)
        typed.append((ch, ch, at))
    at += data.draw(slow)
    for ch in second:
        typed.append((ch, ch, at))
        at += data.draw(fast)
    typed.append((ENTER, "\r", at))
    ran, scans = drive(Burst(), typed, timer)
    assert ran == keys_of(first) and scans == [second]


@given(codes, st.data())
def test_a_key_the_timer_could_not_vouch_for_joins_the_burst(
    code: str, data: st.DataObject
) -> None:
    """``join_late``: the screen's timer had not said the window passed (the app was busy,
    and keys typed ms apart may be stamped tens apart): a key after the window joins, so the
    burst is still one scan and none of it runs."""
    burst, at = Burst(), 0.0
    for ch in code:
        at += data.draw(st.one_of(fast, slow))
        verdict = burst.feed(ch, ch, at, join_late=True)
        assert verdict.held and not verdict.run
    assert burst.feed(ENTER, "\r", at + data.draw(slow), join_late=True).scan == code


def test_a_non_printable_key_with_nothing_held_goes_on_unchanged() -> None:
    burst = Burst()
    for key in ("down", "pagedown", "ctrl+z", ENTER, "escape"):
        verdict = burst.feed(key, None, 1.0)
        assert not verdict.taken and verdict.run == () and verdict.scan is None


def test_the_window_and_the_clock() -> None:
    """A held key runs once the window passed with nothing after it, not before; the clock
    is time.monotonic unless given."""
    now = [100.0]
    burst = Burst(clock=lambda: now[0])
    assert burst.feed("s", "s").held
    assert burst.remaining() == pytest.approx(W)
    now[0] += W * 0.99
    assert burst.due() == ()  # a timer that fired a little early waits out the rest
    assert burst.remaining() == pytest.approx(W * 0.01)
    now[0] += W * 0.02
    assert burst.due() == (("s", "s"),) and burst.remaining() is None
    assert burst.due() == ()
    # late: the next key finds the held one past its window and runs it first
    burst.feed("f", "f")
    now[0] += 1.0
    verdict = burst.feed("j", "j")
    assert verdict.run == (("f", "f"),) and verdict.held and burst.held == (("j", "j"),)


# -- on screen ------------------------------------------------------------------------------


@pytest.fixture
def oem(tmp_path: Path) -> Path:
    dst = tmp_path / "oem-fleet.xlsx"
    shutil.copyfile(SAMPLES / "oem-fleet.xlsx", dst)
    return dst


def command_keys() -> list[Key]:
    """Every printable key bound on the main screen or the grid, as a keyboard sends it."""
    keys: list[Key] = []
    for binding in [*MainScreen.BINDINGS, *Grid.BINDINGS]:
        assert not isinstance(binding, tuple)
        for key in binding.key.split(","):
            char = key_to_character(key)
            if char is not None and char.isprintable() and (key, char) not in keys:
                keys.append((key, char))
    return keys


def key_of(char: str) -> Key:
    named = {k for k, c in command_keys() if c == char}
    return (named.pop() if named else char, char)


async def scanner(app: CoaAuditApp, pilot, keys: list[Key]) -> None:
    """Type ``keys`` and Enter as a USB scanner does: back to back, as the terminal hands
    over a burst (the pilot's press waits for the app to go idle between keys, tens of
    milliseconds apart: a person's pace)."""
    for key, char in [*keys, (ENTER, "\r")]:
        app.post_message(events.Key(key, char).set_sender(app))
    await let_keys_through(pilot)


async def opened(app: CoaAuditApp, pilot) -> MainScreen:
    await settle(app, pilot)
    assert isinstance(app.screen, MainScreen), app.error
    return app.screen


def said(app: CoaAuditApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_scanner_burst_in_the_grid_runs_no_command(oem: Path) -> None:
    """An edit is made; a scanner then types DOUUTTZSS (two undos and two sorts in it), then
    every command key there is: the edit stays, nothing is sorted, selected, marked or
    opened. Each burst is said as a code that named no device."""
    app = CoaAuditApp(oem)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(app, pilot)
        session, grid = screen.session, screen.grid
        inv = session.inventory
        col = inv.mapping["notes"]
        assert session.apply(RowIndex(3), col, "checked by hand") is not None
        screen.after_change()
        grid.move_to(2, 3)
        await pilot.pause()

        def state() -> object:
            return (
                inv.value(RowIndex(3), col),
                dict(inv.edits),
                session.edit_count,
                grid.sort,
                grid.filter,
                list(grid.view),
                set(grid.selected),
                grid.reveal_keys,
                (grid.cursor_row, grid.cursor_col),
                list(app.screen_stack),
                screen.focused,
                [inv.field(r, "sighted") for r in range(len(inv))],
            )

        before = state()
        assert before[0] == "checked by hand"
        await scanner(app, pilot, [key_of(c) for c in "DOUUTTZSS"])
        assert state() == before
        assert any("Scanned 'DOUUTTZSS': no device" in m for m in said(app)), said(app)
        everything = command_keys()
        assert {"U", "s", "S", "A", "c", "a", "x", "e", "q", "b"} <= {c for _, c in everything}
        await scanner(app, pilot, everything)
        assert state() == before and app.is_running
        code = "".join(c for _, c in everything)
        assert any(f"Scanned '{code}'" in m for m in said(app))


async def test_a_burst_of_a_devices_serial_moves_the_cursor_there(oem: Path) -> None:
    app = CoaAuditApp(oem)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(app, pilot)
        grid, inv = screen.grid, screen.session.inventory
        target = next(r for r in range(10, len(inv)) if screen.audit.status(r) == "eligible")
        serial = inv.field(target, "serial_number")
        while grid.filter != "blocked":  # a filter that hides the device
            await press(pilot, "f")
        assert grid.position_of(RowIndex(target)) is None
        await scanner(app, pilot, [key_of(c) for c in serial])
        assert grid.current_row() == target and grid.filter == "all"
        number = inv.row_numbers[target]
        notice = f"Scanned '{serial}': row {number} (press b for scan mode to mark devices)"
        assert notice in said(app)
        assert not inv.field(target, "sighted")  # found, not marked: that is scan mode
        assert isinstance(app.screen, MainScreen)
        # one serial on two rows: both named in one notice, the cursor on the first
        await scanner(app, pilot, [key_of(c) for c in "5CG0000099"])
        assert inv.row_numbers[grid.current_row()] == 16
        assert any("Scanned '5CG0000099': on rows 16, 17" in m for m in said(app))


async def test_a_typed_command_key_still_runs(oem: Path) -> None:
    """A person's keys run as before, a few tens of milliseconds late: f, s, j one by one,
    a key and an arrow typed together, and e with what follows typed into the edit bar."""
    app = CoaAuditApp(oem)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(app, pilot)
        grid = screen.grid
        await pilot.press("f")
        await pilot.pause(W * 3)
        assert grid.filter == "problems"
        await pilot.press("f")
        await let_keys_through(pilot)
        assert grid.filter == "blocked"
        await press(pilot, "o", "s")
        assert grid.sort == (grid.cursor_col, False)
        await press(pilot, "o")
        assert grid.sort is None
        row = grid.cursor_row
        await press(pilot, "j", "j", "j")
        assert grid.cursor_row == row + 3
        # held j and an arrow right behind it: both run, in the order typed
        for key, char in (("j", "j"), ("down", None)):
            app.post_message(events.Key(key, char).set_sender(app))
        await let_keys_through(pilot)
        assert grid.cursor_row == row + 5
        # e then x y fast, no Enter: e opens the edit bar, x and y are typed into it (x is
        # not "take out")
        notes = next(i for i, c in enumerate(grid.columns) if c.field == "notes")
        grid.move_to(grid.cursor_row, notes)
        for char in "exy":
            app.post_message(events.Key(char, char).set_sender(app))
        await let_keys_through(pilot)
        box = screen.query_one("#edit-input")
        assert box.has_focus and str(box.value).endswith("xy")
        assert isinstance(app.screen, MainScreen)
        await press(pilot, "escape")
        assert grid.has_focus


async def test_typed_text_in_a_bar_or_scan_mode_is_not_held(oem: Path) -> None:
    """The guard is the grid's: a burst typed into the search bar is text for it, and scan
    mode still takes the codes a scanner types."""
    app = CoaAuditApp(oem)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(app, pilot)
        await press(pilot, "slash")
        box = screen.query_one("#search")
        assert box.has_focus
        for char in "UUsA":
            app.post_message(events.Key(char, char).set_sender(app))
        await pilot.pause()
        assert str(box.value).endswith("UUsA") and not screen.scan_guard.busy
        await press(pilot, "escape")
        assert screen.grid.has_focus
        # scan mode: b, then the scanner; the device is marked present there
        screen.session.author = "Ann Verifier"
        inv = screen.session.inventory
        await press(pilot, "b")
        assert isinstance(app.screen, ScanScreen)
        serial = inv.field(RowIndex(0), "serial_number")
        await scanner(app, pilot, [key_of(c) for c in serial])
        await pilot.pause()
        assert inv.field(RowIndex(0), "sighted")


def test_on_a_real_terminal_a_scan_is_a_scan_and_keys_still_run(tmp_path: Path) -> None:
    """`coa-audit tui` in a real process on a pty, the terminal a scanner types into: a burst
    and its Enter, 5 ms a character, are a scan (said, nothing sorted), even while the app is
    still busy drawing what it opened with; a device's serial, read whole in one go, moves the
    cursor there; a person's f still changes the filter."""
    import os
    import pty
    import select
    import signal
    import sys
    import time

    src = tmp_path / "oem-fleet.xlsx"
    shutil.copyfile(SAMPLES / "oem-fleet.xlsx", src)
    exe = Path(sys.executable).parent / "coa-audit"
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(exe), [str(exe), "tui", str(src)], env)
    seen = b""

    def until(needle: bytes, timeout: float = 20) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < end:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        assert needle in seen, seen[-400:]

    try:
        until(b"devices", 30)
        for byte in b"DOUUTTZSS\r":
            os.write(fd, bytes([byte]))
            time.sleep(0.005)
        until(b"DOUUTTZSS")
        os.write(fd, b"5CG0000023\r")
        until(b"5CG0000023': row")
        time.sleep(0.3)
        os.write(fd, b"f")  # a person's key, alone
        until(b"filter: problems")
        assert b"sort:" not in seen  # S twice in the burst: no sort ran
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
