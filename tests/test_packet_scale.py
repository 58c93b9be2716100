"""A packet too long to print (issue 35): the PDF checklist's size is said before anything is
written, by the command and on the app's review step, with the way to split it; the estimate
is checked against the pages a PDF really has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from textual.widgets import Input, Static

from coa_audit.tui.app import CoaAuditApp
from coa_audit.tui.screens import ExportScreen, ReviewScreen
from tests.conftest import device, run_cli, settle, write_csv

ABOUT = re.compile(r"would run to about ([\d,]+) pages")


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 devices, every one eligible, half at Site A and half at Site B: about 310
    pages of PDF for the fleet, about 156 for each site."""
    folder = tmp_path_factory.mktemp("big")
    rows = [device(n, Location="Site A" if n % 2 else "Site B") for n in range(1, 4001)]
    return write_csv(folder / "fleet.csv", rows)


def test_the_command_says_a_pdf_of_hundreds_of_pages_before_writing_it(
    big_fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = run_cli("export", big_fleet, "--checklist", "pdf,md", "--out-dir", out)
    assert res.code == 0, res.stderr
    said = [line for line in res.stderr.splitlines() if ABOUT.search(line)]
    assert len(said) == 1, res.stderr
    assert said[0].startswith("warning: the PDF checklist would run to about")
    assert "--checklist-by location" in said[0] and "4,000 eligible devices" in said[0]
    # said before the files: the 'wrote' lines come after it
    assert res.stderr.index(said[0]) < res.stderr.index("wrote")
    # the estimate is the pages the PDF has, within a quarter either way
    pages = len(PdfReader(out / "fleet.checklist.pdf").pages)
    estimate = int(ABOUT.search(said[0]).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 0.75 <= estimate / pages <= 1.33, (estimate, pages)
    assert pages > 300


def test_no_pdf_no_page_warning(big_fleet: Path, tmp_path: Path) -> None:
    res = run_cli("export", big_fleet, "--checklist", "md,xlsx", "--out-dir", tmp_path / "o")
    assert res.code == 0, res.stderr
    assert "pages" not in res.stderr


@pytest.mark.untimed  # types no scanner burst, times nothing
async def test_the_review_step_says_the_size_and_a_split_by_site_clears_it(
    big_fleet: Path,
) -> None:
    app = CoaAuditApp(big_fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ExportScreen)
        form.query_one("#customer", Input).value = "Contoso"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        shown = " ".join(str(app.screen.query_one(Static).render()).split())
        assert "WARNING: the PDF checklist would run to about" in shown
        assert "one checklist per value of: location" in shown
        await pilot.press("escape")  # back to the form; nothing was written
        await pilot.pause()
        assert app.screen is form and not list(big_fleet.parent.glob("*.checklist.*"))
        form.query_one("#checklist_by", Input).value = "location"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        shown = " ".join(str(app.screen.query_one(Static).render()).split())
        assert "pages" not in shown  # each site's packet is about 156 pages
        await pilot.press("escape")
        await pilot.pause()
        form.query_one("#checklist_by", Input).value = ""
        # unticked, the PDF is not written: no word of its size either
        form.query_one("#pdf").value = False
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        shown = " ".join(str(app.screen.query_one(Static).render()).split())
        assert "pages" not in shown
