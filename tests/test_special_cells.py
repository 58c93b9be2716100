"""Edits to cells that other parts of the workbook know about (formulas in the calculation
chain, Excel tables' header and totals rows, merged ranges) leave a consistent package, or
are refused in one line before anything is written."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from openpyxl.worksheet.table import Table

from coa_audit.tui.app import CoaAuditApp
from tests.conftest import run_cli, settle

HEADERS = ["Serial Number", "COA", "COA Edition", "Cost", "Checked"]
CHAIN_REL = (
    '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/calcChain" Target="calcChain.xml"/>'
)
CHAIN_TYPE = (
    '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.calcChain+xml"/>'
)


def _workbook(path: Path, build) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Fleet"
    ws.append(HEADERS)
    ws.append(["5CG1", "Yes", "Windows 11 Pro", 900, '=IF(D2>0,"yes","no")'])
    ws.append(["5CG2", "Yes", "Windows 11 Pro", 950, '=IF(D3>0,"yes","no")'])
    ws.append(["5CG3", "No", "", 990, "manual"])
    ws.append(["5CG4", "No", "", 990, "manual"])
    build(ws)
    wb.save(path)
    return path


def _with_calc_chain(path: Path) -> Path:
    """Add the calculation chain Excel writes beside formulas (openpyxl writes none)."""
    out = path.with_name("chained.xlsx")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", CHAIN_REL.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", CHAIN_TYPE.encode() + b"</Types>")
            zout.writestr(info, data)
        zout.writestr(
            "xl/calcChain.xml",
            '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<c r="E2" i="1"/><c r="E3"/></calcChain>',
        )
    return out


def _fixes(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "field", "value"])
    w.writerows(rows)
    path.write_text(out.getvalue())
    return path


def _consistent(path: Path) -> zipfile.ZipFile:
    """The package names only parts it has, and both readers open it."""
    z = zipfile.ZipFile(path)
    names = set(z.namelist())
    types = z.read("[Content_Types].xml").decode()
    for part in re.findall(r'PartName="/([^"]+)"', types):
        assert part in names, part
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    for target in re.findall(r'Target="([^"]+)"', rels):
        assert target.lstrip("/").removeprefix("xl/") in {n.removeprefix("xl/") for n in names}
    openpyxl.load_workbook(path)
    python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Fleet").to_python()
    return z


def test_a_formula_replaced_by_a_value_drops_the_calculation_chain(tmp_path: Path) -> None:
    src = _with_calc_chain(_workbook(tmp_path / "f.xlsx", lambda ws: None))
    res = run_cli(
        "export",
        src,
        "--corrections",
        _fixes(tmp_path / "x.csv", [("2", "Checked", "no")]),
        "--checklist",
        "",
    )
    assert res.code == 0, res.stderr
    assert "a formula was replaced by a value in E2" in res.stderr
    out = tmp_path / "chained.corrected.xlsx"
    z = _consistent(out)
    assert "xl/calcChain.xml" not in z.namelist()
    assert "calcChain" not in z.read("xl/_rels/workbook.xml.rels").decode()
    assert "calcChain" not in z.read("[Content_Types].xml").decode()
    ws = openpyxl.load_workbook(out)["Fleet"]
    assert ws["E2"].value == "no" and ws["E3"].value == '=IF(D3>0,"yes","no")'


def test_an_edit_beside_formulas_keeps_every_other_part(tmp_path: Path) -> None:
    src = _with_calc_chain(_workbook(tmp_path / "f.xlsx", lambda ws: None))
    fixes = _fixes(tmp_path / "x.csv", [("4", "COA", "GML")])
    assert run_cli("export", src, "--corrections", fixes, "--checklist", "").code == 0
    a, b = zipfile.ZipFile(src), _consistent(tmp_path / "chained.corrected.xlsx")
    assert [n for n in a.namelist() if a.read(n) != b.read(n)] == ["xl/worksheets/sheet1.xml"]


@pytest.mark.parametrize(
    ("merge", "row", "header", "anchor"),
    [("B4:B5", "5", "COA", "B4"), ("B4:C5", "5", "COA Edition", "B4")],
)
def test_an_edit_inside_a_merged_range_is_refused_naming_the_anchor(
    tmp_path: Path, merge: str, row: str, header: str, anchor: str
) -> None:
    src = _workbook(tmp_path / "m.xlsx", lambda ws: ws.merge_cells(merge))
    res = run_cli(
        "export",
        src,
        "--corrections",
        _fixes(tmp_path / "x.csv", [(row, header, "GML")]),
        "--checklist",
        "",
    )
    assert res.code == 2
    assert f"merged range {merge}" in res.stderr and f"edit {anchor} instead" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.corrected.xlsx").exists()
    # the anchor itself is written, and the range stays merged
    fixes = _fixes(tmp_path / "y.csv", [("4", "COA", "GML")])
    assert run_cli("export", src, "--corrections", fixes, "--checklist", "").code == 0
    ws = openpyxl.load_workbook(_consistent(tmp_path / "m.corrected.xlsx").filename)["Fleet"]
    assert ws[anchor].value == "GML" and merge in {str(r) for r in ws.merged_cells.ranges}


def test_a_table_header_row_is_refused_and_totals_rows_are_no_devices(tmp_path: Path) -> None:
    def tables(ws) -> None:
        ws["A8"], ws["B8"] = "Serial", "Count"  # a second table below the inventory
        ws["A9"], ws["B9"] = "x", 1
        ws["A10"], ws["B10"] = "Total", 1
        t = Table(displayName="Counts", ref="A8:B10")
        t.totalsRowCount = 1
        ws.add_table(t)

    src = _workbook(tmp_path / "t.xlsx", tables)
    res = run_cli(
        "export",
        src,
        "--corrections",
        _fixes(tmp_path / "x.csv", [("8", "COA", "GML")]),
        "--checklist",
        "",
    )
    assert res.code == 2
    assert "header row of the Excel table 'Counts'" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = run_cli(
        "export",
        src,
        "--corrections",
        _fixes(tmp_path / "y.csv", [("10", "COA", "GML")]),
        "--checklist",
        "",
    )
    assert res.code == 2 and "row 10 is not a device row" in res.stderr


async def test_the_app_says_beforehand_what_an_edit_will_do(tmp_path: Path) -> None:
    src = _workbook(tmp_path / "a.xlsx", lambda ws: ws.merge_cells("B4:B5"))
    app = CoaAuditApp(src)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.main
        inv = app.session.inventory
        grid = screen.grid
        checked = next(i for i, c in enumerate(grid.columns) if c.index == 4)
        coa = next(i for i, c in enumerate(grid.columns) if c.index == inv.mapping["coa_present"])
        grid.move_to(0, checked)  # E2 holds a formula
        await pilot.press("e")
        await pilot.pause()
        label = str(screen.query_one("#edit-label").render())
        assert "formula" in label
        await pilot.press("escape")
        grid.move_to(3, coa)  # B5 lies inside the merged range B4:B5
        await pilot.press("e")
        await pilot.pause()
        assert not screen.query_one("#editbar").display
        notes = " ".join(n.message for n in app._notifications)
        assert "merged range B4:B5" in notes and "edit B4 instead" in notes
        screen.commit(3, inv.mapping["coa_present"], "GML")  # a direct commit is refused too
        assert inv.edits == {}


def test_an_unreadable_table_part_stops_the_export_in_one_line(tmp_path: Path) -> None:
    def table(ws) -> None:
        ws.add_table(Table(displayName="Fleet", ref="A1:E5"))

    good = _workbook(tmp_path / "g.xlsx", table)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, b"<table <<<" if info.filename.endswith("table1.xml") else data)
    fixes = _fixes(tmp_path / "x.csv", [("4", "COA", "GML")])
    res = run_cli("export", bad, "--corrections", fixes, "--checklist", "")
    # the package cannot be measured before reading (its table is not XML): the input is
    # refused (3), by check as by export, before anything is written
    assert res.code == 3 and "cannot be checked before reading" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.corrected.xlsx").exists()
    assert run_cli("check", bad).code == 3
