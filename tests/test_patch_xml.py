"""The corrected workbook is patched at offsets found by a real XML tokenizer: comments,
CDATA, processing instructions, namespace prefixes, rows and cells without references,
shared formulas and odd attribute values never move or break an edit, and every patched
package is well-formed and reads back the same in openpyxl and python-calamine."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.xlsx_craft import HEADERS, Sheet, device_row, package

FIELDS = HEADERS  # corrections name the field by its header


def _fix(path: Path, edits: list[tuple[int, int, str]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "field", "value"])
    for row, col, value in edits:
        w.writerow([row, FIELDS[col], value])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _export(src: Path, edits: list[tuple[int, int, str]], *more: str):
    fix = _fix(src.parent / "fix.csv", edits)
    return run_cli("export", src, "--corrections", fix, "--checklist", "", *more)


def _well_formed(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                expat.ParserCreate().Parse(z.read(name), True)  # raises when broken


def _grids(path: Path, openpyxl_too: bool = True) -> list[list[list[object]]]:
    """The sheet as python-calamine and as openpyxl read it (None and "" for blank).
    openpyxl leaves the format's "_xHHHH_" escapes raw in inline strings, where Excel,
    LibreOffice and calamine decode them: its inline strings are decoded here."""
    from openpyxl.utils.escape import unescape

    b = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Fleet")
    grids = [b.to_python()]
    if openpyxl_too:
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        inline = set(re.findall(r'<(?:\w+:)?c r="([A-Z]+\d+)"[^>]*t="inlineStr"', xml))
        ws = openpyxl.load_workbook(path)["Fleet"]
        grids.append(
            [
                [unescape(c.value) if c.coordinate in inline else c.value for c in row]
                for row in ws.iter_rows()
            ]
        )
    return grids


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _expect(path: Path, rows: list[list[str]], openpyxl_too: bool = True) -> None:
    """Both readers see exactly ``rows`` in columns A-F."""
    _well_formed(path)
    for grid in _grids(path, openpyxl_too):
        seen = [[_text(v) for v in row[: len(HEADERS)]] for row in grid if any(row)]
        seen = [r + [""] * (len(HEADERS) - len(r)) for r in seen]
        want = [r + [""] * (len(HEADERS) - len(r)) for r in rows]
        assert seen == want


def _corrected(src: Path) -> Path:
    return src.with_name(f"{src.stem}.corrected.xlsx")


def test_a_comment_holding_a_row_tag_does_not_move_the_edit(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2), device_row(3)]
    # before row 2 sits a comment holding '<row r="3">': a byte search finds it first
    src = package(tmp_path / "inv.xlsx", Sheet(rows, comment_before={2}, pi_before={3}))
    res = _export(src, [(3, 4, "No")])
    assert res.code == 0, res.stderr
    rows[2][4] = "No"
    _expect(_corrected(src), rows)


def test_cdata_in_the_edited_row_stays_well_formed(tmp_path: Path) -> None:
    rows = [
        HEADERS,
        device_row(1),
        ["AT-2", "SN2", "HP", "x]]y <b> &amp;", "Yes", "Windows 11 Pro"],
    ]
    src = package(tmp_path / "inv.xlsx", Sheet(rows, cdata={(3, 3), (3, 1)}))
    res = _export(src, [(3, 4, "No")])
    assert res.code == 0, res.stderr
    rows[2][4] = "No"
    _expect(_corrected(src), rows)


def test_rows_and_cells_without_references_are_edited_in_place(tmp_path: Path) -> None:
    rows = [HEADERS, *(device_row(n) for n in range(1, 5))]
    sheet = Sheet(rows, no_row_ref={1, 2, 3, 4, 5}, no_cell_ref={3, 4})
    src = package(tmp_path / "inv.xlsx", sheet)
    res = _export(src, [(3, 5, "Windows 10 Home"), (4, 0, "AT-NEW")])
    assert res.code == 0, res.stderr
    rows[2][5], rows[3][0] = "Windows 10 Home", "AT-NEW"
    _expect(_corrected(src), rows)
    with zipfile.ZipFile(_corrected(src)) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert xml.count(b"<row") == len(rows)  # no duplicate row appended


def test_prefixed_namespace_and_odd_attribute_values(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows, prefix="x:", gt_attr={2, 3}))
    res = _export(src, [(2, 4, "No"), (3, 5, "Windows 11 Home")])
    assert res.code == 0, res.stderr
    rows[1][4], rows[2][5] = "No", "Windows 11 Home"
    _expect(_corrected(src), rows)
    with zipfile.ZipFile(_corrected(src)) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b"<c " not in xml and b"<x:c " in xml  # new cells carry the sheet's prefix


def test_a_relationship_target_in_another_case_still_gets_the_edit(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows), target="Worksheets/Sheet1.XML")
    res = _export(src, [(2, 4, "No")])
    assert res.code == 0, res.stderr
    rows[1][4] = "No"
    # openpyxl matches the target's case exactly and finds no sheet, in the source too
    _expect(_corrected(src), rows, openpyxl_too=False)


def test_text_that_looks_like_an_escape_is_kept_as_typed(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows))
    res = _export(src, [(2, 0, "ID_x0041_B"), (2, 3, "a_x005F_b")])
    assert res.code == 0, res.stderr
    rows[1][0], rows[1][3] = "ID_x0041_B", "a_x005F_b"
    _expect(_corrected(src), rows)


def test_a_number_typed_into_a_formula_cell_is_a_number(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2)]
    xml = (
        Sheet(rows)
        .xml()
        .replace(
            b'<c r="D2" t="inlineStr"><is><t>EliteBook 840</t></is></c>',
            b'<c r="D2" t="str"><f>"Elite"&amp;"Book"</f><v>EliteBook</v></c>',
        )
    )
    assert b't="str"' in xml
    src = package(tmp_path / "inv.xlsx", xml)
    res = _export(src, [(2, 3, "840")])
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(_corrected(src))["Fleet"]
    assert ws["D2"].value == 840 and ws["D2"].data_type == "n"
    assert "formula was replaced" in res.stderr


def test_editing_the_master_of_a_shared_formula_is_refused(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2), device_row(3)]
    # attributes in another order and quoted with apostrophes: still the master
    xml = (
        Sheet(rows, shared_formula=True)
        .xml()
        .replace(b'<f t="shared" ref="G2:G4" si="0">', b"<f si='0' ref='G2:G4' t='shared'>")
    )
    assert b"t='shared'" in xml
    src = package(tmp_path / "inv.xlsx", xml)
    fix = tmp_path / "fix.csv"
    fix.write_text("row,field,value\n2,Check,5\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 2, res.stderr
    assert "master formula" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not _corrected(src).exists()
    # a cell that only shares the formula can take a value; the others keep theirs
    fix.write_text("row,field,value\n3,Check,5\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(_corrected(src))["Fleet"]
    assert [ws[f"G{r}"].value for r in (2, 3, 4)] == ["=1+1", 5, "=1+1"]


def test_edits_leave_shared_formulas_and_cells_right_of_the_data_alone(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2), device_row(3)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows, shared_formula=True, trailing="keep me"))
    res = _export(src, [(2, 4, "No"), (3, 4, "No")], "--annotate")
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(_corrected(src))["Fleet"]
    assert ws["H2"].value == "keep me"  # --annotate never writes over a cell with content
    assert [ws[f"G{r}"].value for r in (2, 3, 4)] == ["=1+1", "=1+1", "=1+1"]
    assert ws["E2"].value == "No" and ws["E3"].value == "No"
    assert ws["I1"].value == "coa-audit status" and ws["J1"].value == "coa-audit findings"
    assert ws["I2"].value in ("eligible", "review", "blocked")


def test_strict_open_xml_is_patched(tmp_path: Path) -> None:
    rows = [HEADERS, device_row(1), device_row(2)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows), strict=True)
    res = _export(src, [(3, 4, "No")])
    assert res.code == 0, res.stderr
    out = _corrected(src)
    _well_formed(out)
    sheet = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Fleet")
    got = [[_text(v) for v in row] for row in sheet.to_python()]
    rows[2][4] = "No"
    assert got == rows


def test_a_sheet_that_is_not_well_formed_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    rows = [HEADERS, device_row(1)]
    src = package(tmp_path / "inv.xlsx", Sheet(rows))
    good = zipfile.ZipFile(src).read("xl/worksheets/sheet1.xml")
    # a stray end tag after the data: calamine reads on, an XML parser refuses it
    package(src, good.replace(b"</sheetData>", b"</sheetData></bogus>", 1))
    res = _export(src, [(2, 4, "No")])
    if res.code == 0:  # the reader refused it first is fine too; a written file is not
        pytest.fail("a broken part was patched and written")
    assert res.code in (3, 4), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not _corrected(src).exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'<row r="3">', b'<row r="3" spans="1:6" spans="1:6">'),  # a duplicate attribute
        (b"</worksheet>", b"</worksheet><x/>"),  # junk after the document element
    ],
    ids=["duplicate attribute", "junk after the root"],
)
def test_a_patched_part_that_would_not_parse_is_never_written(
    tmp_path: Path, old: bytes, new: bytes
) -> None:
    """Flaws the reader reads past: the export's own parse of the patched part refuses."""
    src = package(tmp_path / "inv.xlsx", Sheet([HEADERS, device_row(1), device_row(2)]))
    good = zipfile.ZipFile(src).read("xl/worksheets/sheet1.xml")
    assert old in good
    package(src, good.replace(old, new, 1))
    assert run_cli("check", src, "--fail-on", "never").code == 0  # the reader takes it
    before = src.read_bytes()
    res = _export(src, [(2, 4, "No")])
    assert res.code == 4, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "would not be well-formed" in err, err
    assert not _corrected(src).exists() and src.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


_VALUE = st.one_of(
    st.sampled_from(["No", "Windows 10 Home", "<b>&amp;", "]]>", "ID_x0041_B", "  spaced  "]),
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\x85"
        ),
        min_size=1,
        max_size=12,
    ).filter(lambda s: s.strip() == s and not s.startswith(("=", "+", "-", "@"))),
)


@settings(
    max_examples=int(__import__("os").environ.get("COA_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_worksheet_shapes_patch_exactly(tmp_path_factory, data) -> None:
    n = data.draw(st.integers(2, 6), label="devices")
    rows = [HEADERS, *(device_row(i) for i in range(1, n + 1))]
    numbers = list(range(1, n + 2))
    subset = st.sets(st.sampled_from(numbers))
    cells = st.sets(st.tuples(st.sampled_from(numbers), st.integers(0, 5)))
    sheet = Sheet(
        rows,
        prefix=data.draw(st.sampled_from(["", "x:", "main:"]), label="prefix"),
        comment_before=data.draw(subset, label="comments"),
        cdata=data.draw(cells, label="cdata"),
        pi_before=data.draw(subset, label="pis"),
        no_row_ref=data.draw(subset, label="rows without r"),
        no_cell_ref=data.draw(subset, label="cells without r"),
        gt_attr=data.draw(subset, label="odd attributes"),
        shared_formula=data.draw(st.booleans(), label="shared formula"),
    )
    # a row without r follows the previous one: keep the numbering the same as with r
    edits = data.draw(
        st.lists(
            st.tuples(st.integers(2, n + 1), st.sampled_from([3, 4, 5]), _VALUE),
            min_size=1,
            max_size=6,
            unique_by=lambda e: (e[0], e[1]),
        ),
        label="edits",
    )
    folder = tmp_path_factory.mktemp("fuzz")
    src = package(folder / "inv.xlsx", sheet)
    res = _export(src, edits)
    assert res.code == 0, res.stderr
    for row, col, value in edits:
        rows[row - 1][col] = value
    _expect(_corrected(src), rows)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 6),
    prefix=st.sampled_from(["", "x:"]),
    odd=st.sets(st.integers(1, 7)),
    formula=st.booleans(),
    wanted=st.sets(st.integers(1, 9)),
    merged=st.booleans(),
)
def test_the_fast_lexer_reads_plain_parts_exactly_as_expat(
    n: int, prefix: str, odd: set[int], formula: bool, wanted: set[int], merged: bool
) -> None:
    """Parts as spreadsheet programs write them take a byte-level lexer; it must find the
    very offsets the XML tokenizer finds."""
    from coa_audit.importers.xlsx_parts import scan_sheet

    rows = [HEADERS, *(device_row(i) for i in range(1, n + 1))]
    xml = Sheet(rows, prefix=prefix, gt_attr=odd, shared_formula=formula and n > 1).xml()
    xml = xml.replace(f'<{prefix}c r="A2" t'.encode(), f'<{prefix}c r="A2" s="3" t'.encode())
    if merged:
        xml = xml.replace(
            f"</{prefix}sheetData>".encode(),
            f'</{prefix}sheetData><{prefix}mergeCells count="1"><{prefix}mergeCell '
            f'ref="A1:B1"/></{prefix}mergeCells>'.encode(),
        )
    from coa_audit.importers.xlsx_parts import _scan_plain

    assert _scan_plain(xml, set(wanted), True) is not None  # the lexer, not expat, read it
    fast = scan_sheet(xml, wanted, widest=True)
    slow = scan_sheet(xml, wanted, widest=True, tokenizer=True)
    assert fast == slow
    assert [r.number for r in fast.rows] == sorted(w for w in wanted if w <= n + 1)


def test_a_workbook_replaced_in_place_has_its_own_sheet_edited(tmp_path: Path) -> None:
    """The same file name, another package: its sheet in another part. What one export
    learnt of the first package (where each sheet is) is not used for the second."""
    first = [HEADERS, device_row(1)]
    src = package(tmp_path / "inv.xlsx", Sheet(first))
    assert _export(src, [(2, 4, "No")]).code == 0
    second = [HEADERS, device_row(7), device_row(8)]
    package(
        src,
        Sheet(second),
        target="worksheets/fleet2.xml",
        member="xl/worksheets/fleet2.xml",
    )
    res = _export(src, [(3, 4, "No")])
    assert res.code == 0, res.stderr
    second[2][4] = "No"
    _expect(_corrected(src), second, openpyxl_too=False)
