"""A cell placed where no sheet has one is refused before the reader allocates to it, however
the package spells it. The reader (python-calamine) takes every spelling XML allows: single
quotes, any space before an attribute or around "=", member names with backslashes, a row
number past 2**32 (which it wraps onto a real row: a hidden "Windows 10 Pro" overwrote a
visible "No" and the device read as eligible). Each spelling of each far cell is generated
here; each must end in the one-line refusal (exit 3) that says why, and the same sheet without
the far cell must still be read."""

from __future__ import annotations

import sys
from itertools import product
from pathlib import Path

import pytest

from tests.conftest import run_bounded, run_cli
from tests.xlsx_craft import MAIN, package

HEADERS = ["Serial Number", "COA Present", "COA Edition"]


def _cell(ref: str, value: str, q: str, sp: str, eq: str) -> str:
    return f'<c{sp}r{eq}{q}{ref}{q} t="inlineStr"><is><t>{value}</t></is></c>'


def _row(r: int, cells: list[str], q: str, sp: str, eq: str) -> str:
    return f"<row{sp}r{eq}{q}{r}{q}>{''.join(cells)}</row>"


# how an attribute may be written: its quote, the space before it, the "=" and its spaces
SPELLINGS = {
    "double": ('"', " ", "="),
    "single": ("'", " ", "="),
    "tab": ('"', "\t", "="),
    "newline": ('"', "\n", "="),
    "return": ("'", "\r\n", "="),
    "spaced": ('"', " ", " = "),
    "tabbed": ("'", " ", "\t=\n"),
}
# far cells the reader would not allocate much for (so a miss here costs no memory): past
# the last row, wrapped past 2**32 onto row 2, past the last column
SMALL = {
    "row 2,000,000": (2_000_000, "A"),
    "row 2**32 + 2": (2**32 + 2, "B"),
    "column AAAA": (3, "AAAA"),
    "column XFE": (3, "XFE"),
}


def _book(path: Path, far: tuple[int, str] | None, spelling: str, member: str) -> Path:
    q, sp, eq = SPELLINGS[spelling]
    first = [_cell(f"{c}1", h, q, sp, eq) for c, h in zip("ABC", HEADERS, strict=True)]
    second = [_cell(f"{c}2", v, q, sp, eq) for c, v in zip("AB", ("5CG1", "No"), strict=True)]
    rows = [_row(1, first, q, sp, eq), _row(2, second, q, sp, eq)]
    if far is not None:
        r, col = far
        rows.append(_row(r, [_cell(f"{col}{r}", "Windows 10 Pro", q, sp, eq)], q, sp, eq))
    xml = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    return package(path, xml.encode(), member=member)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_cell_past_the_sheets_edge_is_refused_in_every_spelling(
    tmp_path: Path, spelling: str
) -> None:
    for (name, far), member in product(SMALL.items(), ("xl/worksheets/sheet1.xml",)):
        src = _book(tmp_path / "far.xlsx", far, spelling, member)
        res = run_cli("check", src, "--format", "json")
        assert res.code == 3, (name, res.code, res.stdout[:300])
        assert len(res.stderr.strip().splitlines()) == 1
        assert "the last a sheet has" in res.stderr, (name, res.stderr)
    plain = _book(tmp_path / "plain.xlsx", None, spelling, "xl/worksheets/sheet1.xml")
    res = run_cli("check", plain, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    assert res.json()["devices"][0]["status"] == "blocked"  # its COA column says No


@pytest.mark.skipif(sys.platform == "win32", reason="an address-space limit is POSIX")
@pytest.mark.parametrize(
    ("spelling", "member"),
    [
        ("double", "xl/worksheets/sheet1.xml"),
        ("single", "xl/worksheets/sheet1.xml"),
        ("tab", "xl/worksheets/sheet1.xml"),
        ("spaced", "xl/worksheets/sheet1.xml"),
        ("double", "xl\\worksheets\\sheet1.xml"),
        ("single", "XL/Worksheets/Sheet1.xml"),
    ],
)
def test_a_far_cell_that_would_cost_gigabytes_is_refused_before_reading(
    tmp_path: Path, spelling: str, member: str
) -> None:
    """XFD3000: 49 million cells for the reader to allocate (about 2 GB), in a 2 KB file.
    Under a 1 GiB limit a miss is the reader running out of memory, not this refusal."""
    src = _book(tmp_path / "far.xlsx", (3000, "XFD"), spelling, member)
    res = run_bounded("check", src, "--format", "json", gib=1)
    assert res.code == 3, res.stderr
    assert "asks for more cells than coa-audit will allocate" in res.stderr, res.stderr


def test_a_workbook_whose_structure_cannot_be_read_is_refused(tmp_path: Path) -> None:
    """A control character in a sheet's name makes the workbook part malformed XML: the
    sheet cannot be measured, so it is not read (the reader would read it, far cell and
    all)."""
    src = _book(tmp_path / "ctrl.xlsx", (2**32 + 2, "B"), "double", "xl/worksheets/sheet1.xml")
    import zipfile

    fixed = tmp_path / "ctrl2.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(fixed, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="Fleet"', b'name="Fleet\x01"')
            zout.writestr(info, data)
    res = run_cli("check", fixed, "--format", "json")
    assert res.code == 3
    assert "cannot be checked before reading" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# every error value the reader takes (others, "#SPILL!", "#GETTING_DATA", it refuses: exit 3)
# ("#N/A" and "#NULL!" are what an export writes for no value: blank, in a csv as here,
# core.editions.is_empty)
ERRORS = ["#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!"]


@pytest.mark.parametrize("spelling", ["double", "single", "spaced"])
def test_an_error_cell_is_read_as_its_error_never_as_blank(tmp_path: Path, spelling: str) -> None:
    """The reader gives an error cell (t="e") as blank, and a blank COA cell beside a Pro
    edition made the device eligible; its text is put back, as a csv export shows it, so
    the cell is not understood (review) and the message quotes it."""
    q, sp, eq = SPELLINGS[spelling]
    head = [_cell(f"{c}1", h, q, sp, eq) for c, h in zip("ABC", HEADERS, strict=True)]
    rows = [_row(1, head, q, sp, eq)]
    for n, error in enumerate(ERRORS, 2):
        formula = "<f>1/0</f>" if n % 2 else ""
        cells = [
            _cell(f"A{n}", f"5CG{n}", q, sp, eq),
            f"<c{sp}r{eq}{q}B{n}{q}{sp}t{eq}{q}e{q}>{formula}<v>{error}</v></c>",
            _cell(f"C{n}", "Windows 10 Pro", q, sp, eq),
        ]
        rows.append(_row(n, cells, q, sp, eq))
    clean = len(ERRORS) + 2
    ok = [
        _cell(f"{c}{clean}", v, q, sp, eq)
        for c, v in zip("ABC", ("5CGX", "Yes", "Windows 10 Pro"), strict=True)
    ]
    rows.append(_row(clean, ok, q, sp, eq))
    xml = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    src = package(tmp_path / "errors.xlsx", xml.encode())
    res = run_cli("check", src, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    devices = res.json()["devices"]
    assert [d["status"] for d in devices] == ["review"] * len(ERRORS) + ["eligible"]
    for error, d in zip(ERRORS, devices, strict=False):
        messages = " ".join(f["message"] for f in d["findings"])
        assert f"'{error}'" in messages, messages


@pytest.mark.skipif(sys.platform == "win32", reason="an address-space limit is POSIX")
def test_a_part_that_inflates_past_its_declared_size_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """A package whose sheet says 5 KB in its headers and inflates to 700 MiB: every read of
    a part stops at its declared size (Python's own read inflates the whole part first), so
    it is refused by its checksum under a 1 GiB limit, not after taking the memory."""
    import struct
    import zipfile

    src = _book(tmp_path / "plain.xlsx", None, "double", "xl/worksheets/sheet1.xml")
    lying = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info, zin.read(info))
        big = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        big.compress_type = zipfile.ZIP_DEFLATED
        with z.open(big, "w", force_zip64=False) as w:
            w.write(
                f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr">'.encode()
            )
            w.write(b"<is><t>")
            chunk = b"A" * (1 << 20)
            for _ in range(700):
                w.write(chunk)
            w.write(b"</t></is></c></row></sheetData></worksheet>")
    with zipfile.ZipFile(lying) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(lying.read_bytes())
    struct.pack_into("<I", data, info.header_offset + 22, 5000)  # the local header's size
    # the central directory's entry of the sheet: after the local data, before its name
    entry = data.find(
        b"xl/worksheets/sheet1.xml", info.header_offset + 30 + 24 + info.compress_size
    )
    start = data.rfind(b"PK\x01\x02", 0, entry)
    assert entry > 0 and start > 0
    struct.pack_into("<I", data, start + 24, 5000)  # the central directory's size
    lying.write_bytes(bytes(data))
    res = run_bounded("check", lying, "--format", "json", gib=1)
    assert res.code == 3, res.stderr
    assert "Bad CRC-32" in res.stderr and len(res.stderr.strip().splitlines()) == 1
