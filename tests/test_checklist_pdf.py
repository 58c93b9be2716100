"""The PDF checklist: every letter drawn in the fonts shipped with coa-audit (no system font
needed), a character none of them has stops the export naming it, and the layout keeps
together what a reader reads together (a table's headings and its first row, a paragraph,
the statement and the signatures)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from pypdf import PdfReader

from coa_audit.exporters.checklist import STATEMENT, build_checklist
from coa_audit.exporters.checklist.pdf import FONT_DIRS_ENV, SHIPPED_FONTS, write_pdf
from tests.conftest import REPO, device, run_cli, write_csv


@pytest.fixture
def no_system_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The font search after the shipped fonts points at an empty folder."""
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv(FONT_DIRS_ENV, str(empty))
    return empty


def _pages(pdf: Path) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(pdf).pages]


def _lines(page: object) -> list[tuple[float, str]]:
    """(height from the foot of the page, text) of each piece of text on a page, but the
    running header and the footer."""
    out: list[tuple[float, str]] = []

    def visit(text: str, cm: object, tm: list[float], fd: object, fs: object) -> None:
        if text.strip():
            out.append((tm[5], text.strip()))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    top = max(y for y, _t in out)  # the running header
    return [(y, t) for y, t in out if 40 < y < top - 1]


@pytest.mark.parametrize(
    "customer", ["Zakład Łódź Sp. z o.o.", "Müller GmbH", "Ñandú S.A.", "株式会社山田製作所"]
)
def test_every_letter_of_a_name_is_drawn_with_no_system_font(
    tmp_path: Path, no_system_fonts: Path, customer: str
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(n) for n in range(1, 4)])
    res = run_cli("export", src, "--checklist", "pdf", "--customer", customer)
    assert res.code == 0, res.stderr
    reader = PdfReader(tmp_path / "inv.checklist.pdf")
    pages = [p.extract_text() for p in reader.pages]
    assert f"Customer: {customer}" in pages[0]
    for n, page in enumerate(pages, 1):
        # the running header: the name, then the page count (once lost after a CJK name)
        assert f"{customer} - agreement" in page
        assert page.count(f"page {n} of {len(pages)}") == 2  # the header's and the footer's
    assert not any("?" in p or "\ufffd" in p for p in pages)
    # the fonts embedded are the shipped ones
    fonts = {
        str(f.get_object()["/BaseFont"])
        for p in reader.pages
        for f in p["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in f for f in fonts), fonts
    assert any("DroidSansFallback" in f for f in fonts) == (customer == "株式会社山田製作所")


@pytest.mark.parametrize("alias", ["{nb}", "{total}", "{nb}/{total}"])
def test_a_value_spelled_like_a_page_count_alias_is_printed_as_it_is(
    tmp_path: Path, alias: str
) -> None:
    """fpdf2 replaces its page-count alias in every text it draws; a customer, a provider or
    a model spelled like one is printed as it is, and every page still counts itself."""
    src = write_csv(tmp_path / "inv.csv", [device(n, Model=f"Book {alias}") for n in range(60)])
    res = run_cli(
        "export", src, "--checklist", "pdf", "--customer", f"Acme {alias} Ltd",
        "--provider", f"Imaging {alias}",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    pages = _pages(tmp_path / "inv.checklist.pdf")
    assert len(pages) > 1
    whole = " ".join(pages)
    assert f"Customer: Acme {alias} Ltd" in whole
    assert f"Book {alias}" in whole and f"Imaging {alias}" in whole
    for n, page in enumerate(pages, 1):
        assert f"Acme {alias} Ltd - agreement" in page
        assert page.count(f"page {n} of {len(pages)}") == 2


@pytest.mark.parametrize(
    ("name", "code"), [("Acme 🦄 Ltd", "U+1F984 '🦄'"), ("Acme \ue000 Ltd", "U+E000")]
)
def test_a_character_no_shipped_font_has_stops_the_export(
    tmp_path: Path, no_system_fonts: Path, name: str, code: str
) -> None:
    """An emoji none of the fonts has, a private-use character: exit 4, one line naming
    the character (by its code; the character too when a terminal can show it) and where
    it is, and no PDF, never one with a ? or an empty box in the customer's name."""
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    res = run_cli("export", src, "--checklist", "pdf", "--customer", name)
    assert res.code == 4, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert code in lines[0] and "customer name" in lines[0] and "no file was written" in lines[0]
    assert "as md or xlsx (--checklist md)" in lines[0]  # and what to do
    assert "\ue000" not in lines[0]  # a character no terminal shows is named, not printed
    assert not (tmp_path / "inv.checklist.pdf").exists()


def test_the_shipped_fonts_and_their_licences_are_package_data() -> None:
    """Every font beside its licence, and the package data takes every file of the folder
    (a wheel built without them would fall back on system fonts, or stop)."""
    names = sorted(p.name for p in SHIPPED_FONTS.iterdir())
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallback.ttf"} <= set(names)
    assert {"LICENSE-DejaVu.txt", "LICENSE-DroidSansFallback.txt"} <= set(names)
    assert "Apache License" in (SHIPPED_FONTS / "LICENSE-DroidSansFallback.txt").read_text()
    assert "Bitstream Vera" in (SHIPPED_FONTS / "LICENSE-DejaVu.txt").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    # the fonts folder is a package of its own (a namespace package of data files)
    assert "coa_audit.exporters.checklist.fonts" in project["tool"]["setuptools"]["packages"]
    patterns = project["tool"]["setuptools"]["package-data"]["coa_audit.exporters.checklist.fonts"]
    for name in names:
        assert any(fnmatch(name, pat) for pat in patterns), name


def _table_heads_have_a_row(pdf: Path) -> None:
    """On every page, each table's title has its headings after it, and each heading row a
    row of the table after it (a row starts with its row number)."""
    for n, page in enumerate(PdfReader(pdf).pages, 1):
        lines = _lines(page)
        for y, text in lines:
            if re.fullmatch(
                r"(Eligible devices|Excluded devices|Rows that are not PCs) \(\d+\)", text
            ):
                assert any(t == "Row" and yy < y for yy, t in lines), (n, text)
            if text == "Row":  # the heading of the first column
                assert any(re.match(r"\d+\b", t) and yy < y - 1 for yy, t in lines), (n, lines)


def test_a_table_never_leaves_its_headings_alone_at_the_foot_of_a_page(
    tmp_path: Path, no_system_fonts: Path
) -> None:
    """As many eligible devices as it takes for the table after them (the excluded
    devices) to start at every height of a page: its title and headings always go to the
    next page with its first row when the row does not fit."""
    for count in range(16, 32):
        devices = [device(n) for n in range(1, count + 1)]
        devices += [device(n, COA_Edition="Windows 10 Home") for n in range(500, 503)]
        src = write_csv(tmp_path / f"inv{count}.csv", devices)
        res = run_cli("export", src, "--checklist", "pdf", "--customer", "Contoso Ltd")
        assert res.code == 0, res.stderr
        pdf = tmp_path / f"inv{count}.checklist.pdf"
        _table_heads_have_a_row(pdf)
        pages = _pages(pdf)
        assert len(pages) > 2
        # the statement's last sentence and both signature blocks: on one page, the last
        end = " ".join(re.split(r"(?<=\.)\s+", STATEMENT)[-1].split())
        last = pages[-1]
        assert end in last and "Customer's authorised signatory" in last, count
        assert "OEM/LSP verifier" in last and last.index(end) < last.index("OEM/LSP")


def test_paragraphs_are_kept_whole_and_a_page_never_starts_mid_sentence(
    tmp_path: Path, no_system_fonts: Path
) -> None:
    """Edits listed as paragraphs of one to four lines: each is whole on one page. One
    longer than a page breaks between two sentences."""
    from coa_audit.session.session import open_session

    src = write_csv(tmp_path / "inv.csv", [device(n) for n in range(1, 4)])
    session = open_session(src)
    try:
        cl = build_checklist(session.audit, {"customer": "Contoso Ltd"})
    finally:
        session.close()
    edits = [
        f"Edit {i} begins here, " + "a word of the edit " * (8 + 7 * (i % 5)) + f"edit {i} ends."
        for i in range(90)
    ]
    long = " ".join(
        f"Sentence {i} starts and runs on " + "for a few words more " * 6 + f"to its end {i}."
        for i in range(120)
    )
    cl = dataclasses.replace(cl, edits=[*edits[:60], long, *edits[60:]])
    target = write_pdf(cl, tmp_path / "edits.pdf")
    pages = _pages(target)
    for text in edits:
        assert sum(text in p for p in pages) == 1, text
    for i in range(120):
        assert sum(f"Sentence {i} starts" in p and f"to its end {i}." in p for p in pages) == 1
    _table_heads_have_a_row(target)
    assert "Customer's authorised signatory" in pages[-1] and STATEMENT[-40:] in pages[-1]


def test_control_characters_are_named_by_code_and_many_undrawable_ones_in_one_line(
    tmp_path: Path, no_system_fonts: Path
) -> None:
    """An escape sequence in an asset tag is drawn as the codes of its controls (no font has
    the control pictures the terminal shows); a name of many characters no font has is
    named in one short line."""
    src = write_csv(tmp_path / "inv.csv", [device(1, Asset_Tag="\x1b]0;owned\x07AT")])
    res = run_cli("export", src, "--checklist", "pdf")
    assert res.code == 0, res.stderr
    text = "".join("".join(_pages(tmp_path / "inv.checklist.pdf")).split())  # lines joined
    assert "⟦U+001B⟧]0;owned⟦U+0007⟧AT" in text
    (tmp_path / "inv.checklist.pdf").unlink()
    many = "".join(chr(0xE000 + n) for n in range(40))
    res = run_cli("export", src, "--checklist", "pdf", "--customer", many)
    assert res.code == 4, res.stderr
    line = res.stderr.strip()
    assert "U+E000, U+E001" in line and "and 35 more" in line and len(line) < 300, line
    assert not (tmp_path / "inv.checklist.pdf").exists()


def test_the_same_register_gives_the_same_pages_whatever_the_process(tmp_path: Path) -> None:
    """Each page's drawing is the same from one run to the next (a signed packet printed
    again is the packet that was signed): glyphs are numbered in the order the text uses
    them, never in the order of a set, which changes with each process's hash seed."""
    import os
    import subprocess
    import sys

    rows = [device(n, Model=f"Mödel {n} Ψ Ж 山田") for n in range(1, 40)]
    src = write_csv(tmp_path / "inv.csv", rows)
    pages: list[list[bytes]] = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        coa = str(Path(sys.executable).parent / "coa-audit")
        args = [coa, "export", str(src), "--checklist", "pdf", "--out-dir", str(out), "-q"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        reader = PdfReader(out / "inv.checklist.pdf")
        pages.append([p.get_contents().get_data() for p in reader.pages])
    assert len(pages[0]) > 1 and pages[0] == pages[1]
