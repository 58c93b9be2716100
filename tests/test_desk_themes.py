"""Legible everywhere (issue 34 part 5): every theme, light or dark, in 16 colours and
without colour, and the theme chosen remembered for the next run."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem

from coa_audit.session.state import load_user_profile, save_theme, save_user_profile
from coa_audit.tui.app import CoaAuditApp
from coa_audit.tui.grid import TINT_DISTANCE, colour_distance, contrast
from tests.conftest import settle, states_register

# drives the app, times nothing, types no burst: shares the cores with the others
pytestmark = pytest.mark.untimed

# an SGR parameter that sets a colour: 30-38 / 40-48 (38 and 48 lead 256 and RGB colours),
# 90-97 / 100-107 the bright ones; 39 and 49 only give the terminal its own colours back
_COLOUR_SGR = re.compile(r"^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$")


def _terminal(monkeypatch: pytest.MonkeyPatch, term: str, no_color: bool = False) -> None:
    monkeypatch.setenv("TERM", term)
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)


async def _ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app.session.author = "Tess Tester"  # named: the question at the first edit is not
    await pilot.press("G", "e", "ctrl+u", *"AT-00005-REPLACED", "enter")  # an edited cell
    await pilot.press("right_square_bracket")  # the blocked device and its findings
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
def test_sixteen_colours_snapshot(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    """PuTTY's default (TERM=xterm, 16 colours): a light theme paints its panels light
    (not the terminal's dark default under dark text), a dark one keeps the terminal's."""
    states_register(tmp_path)
    monkeypatch.chdir(tmp_path)
    _terminal(monkeypatch, "xterm")
    save_theme(theme)  # chosen at an earlier run
    assert snap_compare(CoaAuditApp(Path("states.csv")), terminal_size=(80, 24), run_before=_ready)


def test_no_color_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR with a 16-colour TERM: the words and the text styles say it all."""
    states_register(tmp_path)
    monkeypatch.chdir(tmp_path)
    _terminal(monkeypatch, "xterm-16color", no_color=True)
    save_theme("textual-light")
    assert snap_compare(CoaAuditApp(Path("states.csv")), terminal_size=(80, 24), run_before=_ready)


def _sent(app: CoaAuditApp) -> str:
    """The whole screen as the terminal would receive it: what the app's console (its colour
    system read from TERM) makes of a full update, the bytes its driver writes."""
    update = app.screen._compositor.render_update(full=True)
    assert update is not None
    return update.render_segments(app.console)


def _sgr_params(text: str) -> list[str]:
    return [p for seq in re.findall(r"\x1b\[([0-9;:]*)m", text) for p in seq.split(";") if p]


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
async def test_no_color_sends_no_colour_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    _terminal(monkeypatch, "xterm-16color", no_color=True)
    save_theme(theme)
    app = CoaAuditApp(states_register(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.theme == theme
        sent = _sent(app)
        params = _sgr_params(sent)
        assert params, "the app styles nothing at all"
        colours = sorted({p for p in params if _COLOUR_SGR.match(p)})
        assert colours == [], colours
        assert "1" in params and "7" in params  # bold (blocked) and reverse (the cursor)
        words = re.sub(r"\x1b\[[0-9;:]*[A-Za-z]", "", sent)
        assert "BLOCKED" in words and "REVIEW" in words and re.search(r"\bok\b", words)


async def test_sixteen_colours_send_only_the_sixteen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TERM=xterm-16color under a light theme: no 256 or RGB colour, and the panels are
    painted (a background colour other than the terminal's own fills the screen)."""
    _terminal(monkeypatch, "xterm-16color")
    save_theme("textual-light")
    app = CoaAuditApp(states_register(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        params = _sgr_params(_sent(app))
        assert "38" not in params and "48" not in params
        assert "107" in params  # bright white behind the light theme's panels


async def test_the_theme_chosen_is_restored_at_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = states_register(tmp_path)
    save_user_profile({"customer": "Contoso"}, ["customer"], "states.csv")
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.theme == "textual-dark"
        app.theme = "solarized-light"  # as the palette's Theme sets it
        await pilot.pause()
        await pilot.press("q")
    again = CoaAuditApp(path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.theme == "solarized-light"
        assert again.main is not None and not again.current_theme.dark
    # the one settings file keeps the packet's details beside the theme
    assert load_user_profile() == ({"customer": "Contoso"}, "states.csv")


async def test_a_theme_this_textual_lacks_is_not_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_theme("no-such-theme")
    app = CoaAuditApp(states_register(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.theme == "textual-dark" and app.is_running


def test_contrast_is_wcag() -> None:
    black, white = RichColor.from_rgb(0, 0, 0), RichColor.from_rgb(255, 255, 255)
    assert round(contrast(black, white), 2) == 21.0 and contrast(white, white) == 1.0
    # WCAG's own example: #777777 on white is 4.48, just under AA
    assert round(contrast(RichColor.parse("#777777"), white), 2) == 4.48


@pytest.mark.parametrize(
    ("colorterm", "system"),
    [("truecolor", ColorSystem.TRUECOLOR), ("", ColorSystem.EIGHT_BIT)],
    ids=["truecolor", "256"],
)
async def test_every_theme_colours_each_status_legibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, colorterm: str, system: ColorSystem
) -> None:
    """In every built-in theme, light and dark, in truecolor and in 256 colours (each colour
    its nearest),
    each status word's row keeps its text readable on its own tint (WCAG AA, 4.5:1, or as
    readable as the theme's own text where that is less), and the tints of blocked and
    review differ from the plain rows and from each other."""
    _terminal(monkeypatch, "xterm-256color")
    if colorterm:
        monkeypatch.setenv("COLORTERM", colorterm)
    app = CoaAuditApp(states_register(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        themes = [n for n, t in app.available_themes.items() if not t.ansi]
        assert len(themes) > 10 and any(not app.get_theme(n).dark for n in themes)
        for name in themes:
            app.theme = name
            await pilot.pause()
            plain, text = grid.rich_style.bgcolor, grid.rich_style.color
            assert plain is not None and text is not None, name
            seen: dict[str, tuple[RichColor, RichColor]] = {}
            for y in range(1, 6):
                for seg in grid.render_line(y):
                    word = seg.text.strip()
                    if word in ("BLOCKED", "REVIEW", "ok", "not PC") and seg.style:
                        fg, bg = seg.style.color, seg.style.bgcolor or plain
                        assert fg is not None and bg is not None, (name, word)
                        seen[word] = (fg, bg)
            assert set(seen) == {"BLOCKED", "REVIEW", "ok", "not PC"}, (name, seen)
            # as the terminal shows it: a 256-colour one takes each colour's nearest
            drawn = {
                w: (fg.downgrade(system), bg.downgrade(system)) for w, (fg, bg) in seen.items()
            }
            own = contrast(text.downgrade(system), plain.downgrade(system))
            for word, (fg, bg) in drawn.items():
                least = min(own, 3.0 if word == "not PC" else 4.5)  # not PC: muted on purpose
                assert contrast(fg, bg) >= least, (name, word, round(contrast(fg, bg), 2))
            # blocked, review and plain rows told apart at a glance, not two greys 10 apart
            tints = [tuple(drawn[w][1].get_truecolor()) for w in ("BLOCKED", "REVIEW", "ok")]
            for a, b in itertools.combinations(tints, 2):
                assert colour_distance(a, b) >= TINT_DISTANCE, (name, tints)
