"""A barcode scanner is a keyboard: it types a serial number or asset tag a few milliseconds
a character and presses Enter. On the main screen most single letters are commands (U undo,
s sort, A select all...), so a scan typed into the grid would run one command a character.
Here such a burst is told from a person's typing: a printable key is held back for a moment;
keys that follow faster than a person types join it; Enter after at least four of them is a
scan, handed over as its code, and none of its keys runs. Keys followed by nothing, or by any
other key, are sent again as typed, in order: a person's command runs a few tens of
milliseconds late and otherwise as before.

``Burst`` decides, from keys and the times they came, and knows nothing of Textual (the tests
drive it with made-up times); ``ScanGuard`` holds a screen's keys, its timer and the keys it
sends again."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import events
from textual._time import get_time as textual_time  # the clock Textual stamps events with
from textual.app import App, ScreenStackError
from textual.dom import DOMNode
from textual.timer import Timer
from textual.widget import Widget

__all__ = [
    "BURST_WINDOW",
    "ENTER",
    "MAX_HOLD",
    "SCAN_MIN_LENGTH",
    "Burst",
    "Key",
    "ReplayedKey",
    "ScanGuard",
    "Verdict",
    "after_keys",
    "send_in_turn",
]

# How long a printable key waits for the next one (seconds). A USB scanner sends a character
# every 1 to 16 ms (a key down and a key up per character at the USB polling rate), well
# inside it; a person's keystrokes are 50 ms or more apart, and a held key repeats every 30
# to 40 ms on common desktops (GNOME 30, Windows 33, X and KDE 40), so held j mostly moves
# one row at a time instead of piling up until the key is let go, as it would with a longer
# wait. 30 ms late is below what a person notices of a command.
BURST_WINDOW = 0.030
# Fewer characters ending in Enter are a person's keys (s then Enter: sort, then edit); no
# serial number or asset tag is this short
SCAN_MIN_LENGTH = 4
# However busy the app, held keys wait no longer than this (seconds) for it to be free to hear
# more: then a person's keys run
MAX_HOLD = 0.5
# the key that ends a scanner's burst (the scanner's suffix, as scan mode takes it)
ENTER = "enter"

# a key as typed: its name (bindings) and the character it types (None: not printable)
Key = tuple[str, str | None]


@dataclass(frozen=True)
class Verdict:
    """What became of a key given to ``Burst.feed``. Nothing set: the key goes on at once,
    unchanged (nothing was held before it)."""

    held: bool = False  # the key waits: it may be the start of a scanner's burst
    run: tuple[Key, ...] = ()  # keys to run now as commands, in the order typed
    scan: str | None = None  # the held keys and this Enter were a scan of this code

    @property
    def taken(self) -> bool:
        """The key fed was taken (held, sent again in turn, or part of a scan): it must not
        go on as it came."""
        return self.held or bool(self.run) or self.scan is not None


class Burst:
    """Keys in, one verdict each: hold, run these keys, or a scan of this code. Times are
    ``clock()`` (time.monotonic) unless given."""

    def __init__(
        self,
        window: float = BURST_WINDOW,
        min_length: int = SCAN_MIN_LENGTH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.min_length, self.clock = window, min_length, clock
        self._held: list[tuple[str, str, float]] = []  # key, character, when it came

    @property
    def held(self) -> tuple[Key, ...]:
        return tuple((key, char) for key, char, _ in self._held)

    def feed(
        self, key: str, character: str | None, at: float | None = None, join_late: bool = False
    ) -> Verdict:
        """``join_late``: a printable key that came after the window joins the held keys all
        the same (the caller's timer had not said the window passed: it cannot vouch for the
        gap); else the held keys run first, and the key starts a run of its own."""
        now = self.clock() if at is None else at
        late = () if join_late else self.due(now)
        if character is not None and character.isprintable():
            self._held.append((key, character, now))
            return Verdict(held=True, run=late)
        if not self._held:
            return Verdict(run=(*late, (key, character))) if late else Verdict()
        if key == ENTER and len(self._held) >= self.min_length:
            code = "".join(char for _, char, _ in self._held)
            self._held.clear()
            return Verdict(scan=code)
        # a held key then a key no scanner sends in a code (an arrow, ctrl+..., Enter after
        # too few): a person's keys, run in the order typed
        keys = (*self.held, (key, character))
        self._held.clear()
        return Verdict(run=keys)

    def due(self, at: float | None = None) -> tuple[Key, ...]:
        """The held keys, if no key came for the whole window after the last: they run as
        typed (taken out of the guard). Empty while the window is still open."""
        now = self.clock() if at is None else at
        if not self._held or now - self._held[-1][2] < self.window:
            return ()
        keys = self.held
        self._held.clear()
        return keys

    def remaining(self, at: float | None = None) -> float | None:
        """Seconds until the held keys are due; None: nothing held."""
        if not self._held:
            return None
        now = self.clock() if at is None else at
        return max(0.0, self._held[-1][2] + self.window - now)


class ReplayedKey(events.Key):
    """A held key sent again: it runs as typed, and the guard never holds it a second time."""


# handled as a key everywhere (on_key, Input, the app's bindings), not as a message of its own
ReplayedKey.handler_name = events.Key.handler_name


def after_keys(app: App[object], then: Callable[[], None]) -> None:
    """Call ``then`` once every key already sent to ``app`` has gone its whole way: the app
    passes a key to the focused widget, which hands it to each of its parents up to the app,
    each through its own queue; ``then`` follows the same road behind them, so it runs after
    their handlers and after what their actions scheduled on the app."""

    def follow(road: list[DOMNode]) -> None:
        # one queue after the other; a node gone meanwhile is skipped
        while road and not road[0].call_later(follow, road[1:]):
            road = road[1:]
        if not road:
            then()

    def start() -> None:  # on the app, after the keys before it were passed on
        try:
            first: DOMNode = app.focused or app.screen
        except ScreenStackError:  # no screen left: the app is closing
            then()
            return
        follow(list(first.ancestors_with_self))

    if not app.call_later(start):
        then()  # the app is closing: nothing more runs


def send_in_turn(app: App[object], keys: Sequence[Key], sent: Callable[[], None]) -> None:
    """Send ``keys`` to ``app`` as if typed again, each one only once the one before has gone
    its whole way (``after_keys``): a key that opens the edit bar has moved the focus there
    before the next key comes, so that key is typed into the bar. ``sent`` is called once all
    have gone."""
    if not keys:
        sent()
        return
    (key, character), rest = keys[0], keys[1:]
    app.post_message(ReplayedKey(key, character).set_sender(app))
    after_keys(app, lambda: send_in_turn(app, rest, sent))


class ScanGuard:
    """A screen's guard: ``take`` a key that reached it (the grid focused); a scan is given
    to ``on_scan``, held keys run when their window passes, through the app as typed.

    Keys are timed by when they came from the terminal (``event.time``, stamped by Textual's
    driver as it reads them: time.monotonic, perf_counter on Windows), not by when the screen
    handles them: while the app is busy (drawing a notice, reading a large file) the keys of
    a burst wait in its queues and reach the screen tens of milliseconds apart. And the held
    keys run only after a whole window in which the app was free to hear keys: while it is
    busy the driver's own reading waits too, so keys typed a few milliseconds apart may be
    stamped tens apart. A timer that comes half a window late says so, and the guard waits a
    window more (MAX_HOLD at most in all); a key stamped after the window that came before
    the timer could fire joins the held keys for the same reason."""

    def __init__(
        self,
        owner: Widget,
        on_scan: Callable[[str], None],
        window: float = BURST_WINDOW,
        clock: Callable[[], float] = textual_time,
    ) -> None:
        self.owner, self.on_scan = owner, on_scan
        self.burst = Burst(window, clock=clock)
        self._timer: Timer | None = None
        self._round = 0  # which wait the timer belongs to: an older one's tick is ignored
        self._deadline = 0.0  # when the timer should fire
        self._since: float | None = None  # when the held keys began to wait
        self._sending = 0  # runs of keys being sent again

    @property
    def busy(self) -> bool:
        """Keys held, or being sent again: what a test waits out before it looks."""
        return bool(self.burst.held) or self._sending > 0

    def take(self, event: events.Key) -> bool:
        """True: the key is the guard's (held, sent again in turn, or a scan's); it must go
        no further now. A key the guard sent again is never taken."""
        if isinstance(event, ReplayedKey):
            return False
        verdict = self.burst.feed(event.key, event.character, event.time, join_late=True)
        if verdict.held:
            self._wait()
        else:
            self._stop()
        self._send(verdict.run)
        if verdict.scan is not None:
            self.on_scan(verdict.scan)
        return verdict.taken

    def _wait(self) -> None:
        """Wait a whole window from now."""
        self._stop(keep_since=True)
        now, window = self.burst.clock(), self.burst.window
        self._since = now if self._since is None else self._since
        self._round += 1
        self._deadline = now + window
        self._timer = self.owner.set_timer(window, functools.partial(self._due, self._round))

    def _stop(self, keep_since: bool = False) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not keep_since:
            self._since = None

    def _due(self, round_: int) -> None:
        if round_ != self._round or not self.burst.held:
            return
        now = self.burst.clock()
        late = now - self._deadline > self.burst.window / 2
        if late and self._since is not None and now - self._since < MAX_HOLD:
            self._wait()  # the app was busy: keys already typed may not be read yet
            return
        # a key read in time but still in a queue behind a busy moment is let in first
        after_keys(self.owner.app, self._release)

    def _release(self) -> None:
        keys = self.burst.due()
        if keys:
            self._stop()
            self._send(keys)
        elif self.burst.held and self._timer is None:
            self._wait()  # keys came meanwhile: they wait their own window

    def _send(self, keys: Sequence[Key]) -> None:
        if not keys:
            return
        self._sending += 1

        def sent() -> None:
            self._sending -= 1

        send_in_turn(self.owner.app, keys, sent)
