"""`coa-audit export`: faithful corrected files, the report, the checklist."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import (
    SAMPLES,
    counted_forks,
    device,
    killed_session,
    oem_copy,
    run_cli,
    write_csv,
)

HEADER_ARGS = (
    "--customer",
    "Contoso Ltd",
    "--agreement-number",
    "EA-77",
    "--provider",
    "Fabrikam Imaging",
)


def _rich_workbook(path: Path) -> Path:
    """Two sheets, styles, number formats, a formula, validation, a chart, a comment, a name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Fleet"
    ws.append([*SAMPLE_HEADERS, "Cost"])
    rows = [
        device(1),
        device(2, COA_Present="No", COA_Edition="", Product_Key=""),
        device(3, Notes=""),
        device(4, COA_Edition="Windows 10 Home"),
    ]
    for i, r in enumerate(rows):
        ws.append([r[h] for h in SAMPLE_HEADERS] + [1000 + i])
    for c in ws[1]:
        c.font = Font(bold=True, color="FF0000")
        c.fill = PatternFill("solid", fgColor="DDEBF7")
    ws["O2"].number_format = "#,##0.00"
    ws["O6"] = "=SUM(O2:O5)"
    ws.column_dimensions["H"].width = 33
    dv = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("G2:G50")
    ws["H1"].comment = Comment("Edition on the label", "auditor")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=15, min_row=1, max_row=5), titles_from_data=True)
    ws.add_chart(chart, "Q2")
    wb.defined_names["Costs"] = DefinedName("Costs", attr_text="Fleet!$O$2:$O$5")
    other = wb.create_sheet("Notes")
    other["A1"] = "untouched"
    other["B2"] = 42
    wb.save(path)
    return path


def _corrections(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "serial_number", "field", "value"])
    w.writerows(rows)
    path.write_text(out.getvalue())
    return path


def test_xlsx_export_changes_only_the_edited_cells(tmp_path: Path) -> None:
    src = _rich_workbook(tmp_path / "fleet.xlsx")
    before = src.read_bytes()
    fixes = _corrections(
        tmp_path / "fix.csv",
        [
            ("3", "", "coa_present", "GML"),
            ("3", "", "COA Edition", "Windows 11 Pro"),
            ("", "5CG0000003", "notes", "label checked 2026-11-28"),  # previously empty cell
            ("5", "", "Cost", "1234.5"),  # a number typed into a numeric column
            ("7", "", "coa_edition", "Windows 11 Pro"),  # a row below the data: a new row
        ][:4],
    )
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    assert src.read_bytes() == before  # the source is never modified
    out = tmp_path / "fleet.corrected.xlsx"
    a, b = zipfile.ZipFile(src), zipfile.ZipFile(out)
    assert a.namelist() == b.namelist()
    changed = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert changed == ["xl/worksheets/sheet1.xml"]
    assert any("chart" in n for n in a.namelist()) and any("comment" in n for n in a.namelist())
    # read back with openpyxl
    wa, wb_ = openpyxl.load_workbook(src), openpyxl.load_workbook(out)
    sa, sb = wa["Fleet"], wb_["Fleet"]
    assert (sb["G3"].value, sb["H3"].value) == ("GML", "Windows 11 Pro")
    assert sb["M4"].value == "label checked 2026-11-28"
    assert sb["O5"].value == 1234.5 and isinstance(sb["O5"].value, float)
    edited = {"G3", "H3", "M4", "O5"}
    for row_a, row_b in zip(sa.iter_rows(), sb.iter_rows(), strict=True):
        for ca, cb in zip(row_a, row_b, strict=True):
            if ca.coordinate in edited:
                continue
            assert (ca.value, ca.number_format, repr(ca.font), repr(ca.fill), repr(ca.border)) == (
                cb.value,
                cb.number_format,
                repr(cb.font),
                repr(cb.fill),
                repr(cb.border),
            ), ca.coordinate
    assert sb["G3"].style_id == sa["G3"].style_id  # an edited cell keeps its style
    assert sb["O6"].value == "=SUM(O2:O5)"
    assert (
        sb.data_validations.dataValidation[0].sqref == sa.data_validations.dataValidation[0].sqref
    )
    assert wb_["Notes"]["B2"].value == 42 and "Costs" in wb_.defined_names
    # and with python-calamine
    rows = (
        python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Fleet").to_python()
    )
    assert rows[2][6] == "GML" and rows[3][12] == "label checked 2026-11-28"
    # the audit sees the corrected data
    doc = run_cli("check", out, "--format", "json").json()
    assert doc["devices"][1]["status"] == "eligible"
    # the changes are in the report
    report = openpyxl.load_workbook(tmp_path / "fleet.audit.xlsx")
    changes = list(report["Changes"].values)
    assert changes[0] == (
        "Row",
        "Device",
        "Field",
        "Old value",
        "New value",
        "By",
        "When",
        "How",
        "Why",
        "Source",
    )
    assert {(r[0], r[3], r[4], r[5], r[7], r[9]) for r in changes[1:]} == {
        (3, "No", "GML", "no name given", "corrections file", "corrections"),
        (3, None, "Windows 11 Pro", "no name given", "corrections file", "corrections"),
        (4, None, "label checked 2026-11-28", "no name given", "corrections file", "corrections"),
        (5, "1003", "1234.5", "no name given", "corrections file", "corrections"),
    }


def test_edit_to_a_missing_row_and_cell_lands(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Serial Number", "COA Edition", "Notes"])
    ws.append(["S1", "Windows 10 Pro"])  # no Notes cell at all
    ws.append([])
    ws.append(["S2", "Windows 10 Home", "x"])
    wb.save(tmp_path / "gaps.xlsx")
    fixes = _corrections(tmp_path / "f.csv", [("2", "", "Notes", "n1"), ("4", "", "Notes", "n2")])
    assert (
        run_cli("export", tmp_path / "gaps.xlsx", "--corrections", fixes, "--checklist", "").code
        == 0
    )
    got = openpyxl.load_workbook(tmp_path / "gaps.corrected.xlsx").active
    assert (got["C2"].value, got["C4"].value, got["A4"].value) == ("n1", "n2", "S2")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("99", "", "coa_present", "Yes")], "line 2: row 99 is not a device row"),
        ([("2", "", "colour", "red")], "line 2: unknown field 'colour'"),
        (
            [("2", "", "notes", "ok"), ("", "DUP", "notes", "x")],
            "line 3: serial_number 'DUP' is ambiguous",
        ),
        ([("", "NOPE", "notes", "x")], "no device has serial_number 'NOPE'"),
    ],
)
def test_corrections_errors_write_nothing(tmp_path: Path, rows, message: str) -> None:
    src = write_csv(
        tmp_path / "inv.csv",
        [device(1, Serial_Number="DUP"), device(2, Serial_Number="DUP"), device(3)],
    )
    fixes = _corrections(tmp_path / "fix.csv", rows)
    before = sorted(os.listdir(tmp_path))
    res = run_cli("export", src, "--corrections", fixes)
    assert res.code == 2
    assert message in res.stderr and "nothing was written" in res.stderr
    assert res.stderr.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("sample", ["reseller-export.csv", "intune-export.csv"])
def test_csv_dialect_round_trip(tmp_path: Path, sample: str) -> None:
    src = tmp_path / sample
    src.write_bytes((SAMPLES / sample).read_bytes())
    # the Intune sample's edition is its "OA3 edition" column: the firmware key description
    field = "oa3_edition" if sample.startswith("intune") else "coa_edition"
    fixes = _corrections(tmp_path / "fix.csv", [("3", "", field, 'Windows 11 Pro; "Zürich"')])
    assert run_cli("export", src, "--corrections", fixes, "--checklist", "").code == 0
    out = src.with_name(src.stem + ".corrected.csv")
    a, b = src.read_bytes(), out.read_bytes()
    assert a[:3] == b[:3]  # BOM (or its absence) kept
    la, lb = a.split(b"\r\n"), b.split(b"\r\n")
    assert len(la) == len(lb)
    diff = [i for i, (x, y) in enumerate(zip(la, lb, strict=True)) if x != y]
    assert diff == [2]  # line 3 only
    doc = run_cli("check", out, "--format", "json", "--fail-on", "never").json()
    value = 'Windows 11 Pro; "Zürich"'
    if field == "coa_edition":
        assert doc["devices"][1]["edition"]["text"] == value
    else:  # read back whole: its finding quotes it ("Zürich" is not understood)
        said = [f["message"] for f in doc["devices"][1]["findings"] if f["field"] == field]
        assert said and f"'{value}'" in said[0], said


def test_checklist_eligible_table_matches_check(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    res = run_cli(
        "export",
        src,
        *HEADER_ARGS,
        "--prepared-by",
        "A. Auditor",
        "--json",
    )
    assert res.code == 0, res.stderr
    doc = run_cli("check", src, "--format", "json").json()
    eligible = [
        (str(d["row"]), d["serial_number"]) for d in doc["devices"] if d["status"] == "eligible"
    ]
    # rows that are not PCs are counted apart, not listed as excluded
    excluded = [
        str(d["row"]) for d in doc["devices"] if d["status"] not in ("eligible", "out-of-scope")
    ]
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    section = md.split("## Eligible devices")[1].split("## Excluded devices")[0]
    md_rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")][1:]
    assert [(r[0].strip("| "), r[2]) for r in md_rows] == eligible
    xl = openpyxl.load_workbook(tmp_path / "oem-fleet.checklist.xlsx")
    values = list(xl["Checklist"].values)
    start = next(i for i, v in enumerate(values) if v[0] == "Row") + 1
    xl_rows = [(str(v[0]), v[2]) for v in values[start : start + len(eligible)]]
    assert xl_rows == eligible
    assert [str(v[0]) for v in list(xl["Excluded"].values)[1:]] == excluded
    assert xl["Checklist"].print_title_rows == f"${start}:${start}"
    assert xl["Checklist"].sheet_properties.pageSetUpPr.fitToPage
    assert json.loads((tmp_path / "oem-fleet.audit.json").read_text())["summary"] == doc["summary"]


@pytest.mark.parametrize(("paper", "width_pt"), [("A4", 842), ("Letter", 792)])
def test_pdf_text_holds_header_and_every_eligible_serial(
    tmp_path: Path, paper: str, width_pt: int
) -> None:
    from pypdf import PdfReader

    src = oem_copy(tmp_path)
    assert (
        run_cli(
            "export",
            src,
            *HEADER_ARGS,
            "--checklist",
            "pdf",
            "--paper",
            paper,
        ).code
        == 0
    )
    reader = PdfReader(tmp_path / "oem-fleet.checklist.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    for needle in ("Contoso Ltd", "EA-77", "Fabrikam Imaging", "Windows Enterprise upgrade"):
        assert needle in text
    doc = run_cli("check", src, "--format", "json").json()
    serials = [d["serial_number"] for d in doc["devices"] if d["status"] == "eligible"]
    assert serials and all(s in text for s in serials)
    assert len(reader.pages) > 2
    assert round(float(reader.pages[0].mediabox.width)) == width_pt
    assert text.count("Asset tag") >= len(reader.pages) - 1  # headings repeat on every page
    assert f"page 2 of {len(reader.pages)}" in text


DANGEROUS = ["=cmd|' /C calc'!A0", "+1+2", "-2-3", "@SUM(1)", "\tTAB", "\rCR"]


def test_formula_injection_is_neutralised(tmp_path: Path) -> None:
    rows = [device(i + 1, Asset_Tag=v, COA_Present="No") for i, v in enumerate(DANGEROUS)]
    rows.append(device(9, Serial_Number='=HYPERLINK("http://x")'))
    src = write_csv(tmp_path / "inj.csv", rows)
    assert run_cli("export", src, "--checklist", "xlsx,md").code == 0
    report = openpyxl.load_workbook(tmp_path / "inj.audit.xlsx")
    # XML turns a raw CR into LF on reading; the cell still starts with it
    tags = {c.value.replace("\n", "\r"): c for c in report["Findings"]["C"][1:]}
    for v in DANGEROUS:
        cell = tags[v]  # the text is kept exactly
        assert cell.data_type == "s" and cell.quotePrefix
    checklist = openpyxl.load_workbook(tmp_path / "inj.checklist.xlsx")
    serial_cells = [c for c in checklist["Checklist"]["C"] if c.value == '=HYPERLINK("http://x")']
    assert serial_cells and serial_cells[0].data_type == "s" and serial_cells[0].quotePrefix
    ex_tags = {c.value.replace("\n", "\r"): c for c in checklist["Excluded"]["B"][1:]}
    assert all(ex_tags[v].quotePrefix for v in DANGEROUS)
    # the csv report prefixes a quote
    out = run_cli("check", src, "--format", "csv").stdout
    got = {r["asset_tag"] for r in csv.DictReader(io.StringIO(out, newline=""))}
    assert {"'" + v for v in DANGEROUS} <= got
    # the corrected inventory keeps the user's own cells exactly
    corrected = (tmp_path / "inj.corrected.csv").read_bytes()
    assert corrected == src.read_bytes()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_interrupted_export_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    assert run_cli("export", src, "--checklist", "md").code == 0
    report = tmp_path / "inv.audit.xlsx"
    good = report.read_bytes()

    import xlsxwriter.workbook as wbmod

    def half_then_die(self) -> None:  # the report writer dies half-way through the file
        self.filename.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(wbmod.Workbook, "close", half_then_die)
    res = run_cli("export", src, "--checklist", "md")
    assert res.code == 130
    assert report.read_bytes() == good  # the previous good file is still in place
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    import gc

    gc.collect()  # the interrupted workbook's writers complain here, not in a later test


def test_resume_applies_the_journal(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1, COA_Present="No"), device(2)])
    killed_session(src, (0, "COA Present", "GML"))
    res = run_cli("export", src, "--resume", "--checklist", "")
    assert res.code == 0 and "resumed 1" in res.stderr
    doc = run_cli("check", tmp_path / "inv.corrected.csv", "--format", "json").json()
    assert doc["summary"]["blocked"] == 0
    changes = list(openpyxl.load_workbook(tmp_path / "inv.audit.xlsx")["Changes"].values)
    assert changes[1][changes[0].index("Source")] == "journal"


def test_annotate_adds_status_and_findings(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    assert run_cli("export", src, "--annotate", "--checklist", "").code == 0
    ws = openpyxl.load_workbook(tmp_path / "oem-fleet.corrected.xlsx")["Fleet"]
    # the sample's last column is O (Asset Type): the annotations go right of it
    assert (ws["P4"].value, ws["Q4"].value) == ("coa-audit status", "coa-audit findings")
    assert ws["P6"].value == "blocked" and ws["Q6"].value.startswith("COA_MISSING")


def _ods_cell(v: str | tuple[str, str]) -> str:
    """A text cell, or ("float", "12.5") / ("date", "2023-03-01") for a typed one."""
    from xml.sax.saxutils import escape

    if isinstance(v, tuple):
        kind, value = v
        attr = "office:date-value" if kind == "date" else "office:value"
        return (
            f'<table:table-cell office:value-type="{kind}" {attr}="{value}">'
            f"<text:p>{escape(value)}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
        "</table:table-cell>"
    )


def repack_ods(path: Path, change: Callable[[bytes], bytes]) -> Path:
    """``path`` (an ods) written again with its content.xml passed through ``change``, the
    mimetype first and stored, as the format wants."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["content.xml"] = change(parts["content.xml"])
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", parts.pop("mimetype"), compress_type=zipfile.ZIP_STORED)
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def _minimal_ods(path: Path, rows: list[list[str | tuple[str, str]]]) -> Path:
    """A bare OpenDocument spreadsheet, enough for python-calamine."""
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in r) + "</table:table-row>" for r in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Devices">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return path


def test_non_patchable_formats_become_xlsx_and_say_so(tmp_path: Path) -> None:
    rows = [list(SAMPLE_HEADERS)] + [[device(i)[h] for h in SAMPLE_HEADERS] for i in (1, 2)]
    src = _minimal_ods(tmp_path / "fleet.ods", rows)
    fixes = _corrections(tmp_path / "f.csv", [("3", "", "coa_present", "No")])
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    assert "cannot be patched: written as xlsx" in res.stderr
    out = tmp_path / "fleet.corrected.xlsx"
    doc = run_cli("check", out, "--format", "json").json()
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked"]
    assert openpyxl.load_workbook(out).sheetnames == ["Devices"]


def test_formats_written_anew_keep_numbers_and_dates(tmp_path: Path) -> None:
    """An ods (like xls and xlsb) becomes a new xlsx: its numbers stay numbers and its dates
    dates, not text; an edited cell holds what was typed."""
    import datetime

    heads = [*SAMPLE_HEADERS, "Cost"]
    rows: list[list[str | tuple[str, str]]] = [list(heads)]
    for i in (1, 2):
        d = device(i)
        row: list[str | tuple[str, str]] = [d[h] for h in SAMPLE_HEADERS]
        row[SAMPLE_HEADERS.index("Purchase Date")] = ("date", "2023-03-0" + str(i))
        rows.append([*row, ("float", f"{1000 + i}.5")])
    src = _minimal_ods(tmp_path / "fleet.ods", rows)
    fixes = _corrections(
        tmp_path / "f.csv", [("3", "", "coa_present", "No"), ("2", "", "Cost", "99")]
    )
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(tmp_path / "fleet.corrected.xlsx").active
    got = {h: [ws.cell(r, c + 1) for r in (2, 3)] for c, h in enumerate(heads)}
    assert [c.value for c in got["Cost"]] == [99, 1002.5]
    assert all(c.data_type == "n" for c in got["Cost"])
    dates = [c.value for c in got["Purchase Date"]]
    assert dates == [datetime.datetime(2023, 3, 1), datetime.datetime(2023, 3, 2)]
    assert [c.value for c in got["COA Present"]] == ["Yes", "No"]
    assert got["Asset Tag"][0].value == device(1)["Asset Tag"]


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="elsewhere a thread watches the supervisor, and a process with a thread never forks",
)
def test_the_command_as_users_run_it_writes_on_two_cores(tmp_path: Path) -> None:
    """``coa-audit export`` as a user runs it (the supervised worker, in a process of its
    own) forks its second writer: a thread the worker started once kept it writing every
    file on one core, at half the speed, and no in-process test could see it. Who forks is
    recorded by a ``sitecustomize`` the command's Python reads at start."""
    import subprocess

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    log = tmp_path / "forks.log"
    (hooks / "sitecustomize.py").write_text(
        "import os, sys\n"
        "_fork = os.fork\n"
        "def fork():\n"
        "    caller = sys._getframe(1).f_globals.get('__name__', '?')\n"
        "    pid = _fork()\n"
        "    if pid:\n"
        f"        with open({str(log)!r}, 'a') as f: f.write(caller + '\\n')\n"
        "    return pid\n"
        "os.fork = fork\n"
    )
    src = oem_copy(tmp_path)
    coa = str(Path(sys.executable).parent / "coa-audit")
    env = {**os.environ, "PYTHONPATH": str(hooks)}
    proc = subprocess.run(
        [coa, "export", str(src), "--json", "-q"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    forks = log.read_text().split() if log.exists() else []
    assert "coa_audit.exporters.side_by_side" in forks, forks


def test_export_on_two_cores_writes_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command splits the files between itself and a forked child; every file is the
    one a plain one-by-one export writes."""
    import re

    from coa_audit.exporters.export import ExportRequest, export_all
    from coa_audit.session.session import open_session

    src = oem_copy(tmp_path)
    fix = _corrections(tmp_path / "fix.csv", [("6", "", "COA Present", "GML")])
    forks = counted_forks(monkeypatch)
    two = tmp_path / "two"
    two.mkdir()
    res = run_cli("export", src, "--corrections", fix, "--out-dir", two, "--json")
    assert res.code == 0, res.stderr
    assert len(forks) == 1  # really written side by side

    one = tmp_path / "one"
    one.mkdir()
    session = open_session(src)
    from coa_audit.importers.corrections import read_corrections

    for c in read_corrections(fix, session.inventory):
        session.apply(c.row, c.col, c.value, origin="corrections")
    export_all(
        session.audit,
        session.changes(),
        ExportRequest(out_dir=one, json_report=True),
        baseline=session.baseline,
    )
    session.close()
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert len(names) == 6 and not [n for n in names if n.endswith(".tmp")]
    stem = src.stem
    corrected = f"{stem}.corrected.xlsx"
    assert (one / corrected).read_bytes() == (two / corrected).read_bytes()
    for name in (f"{stem}.audit.xlsx", f"{stem}.checklist.xlsx"):
        a, b = openpyxl.load_workbook(one / name), openpyxl.load_workbook(two / name)
        assert a.sheetnames == b.sheetnames

        def rows(ws) -> list[tuple[object, ...]]:  # the time of each edit and run aside
            stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
            return [
                tuple("<time>" if stamp.match(str(v)) else v for v in r)
                for r in ws.values
                if not str(r[0]).startswith("Generated")
            ]

        for ws in a.worksheets:
            assert rows(ws) == rows(b[ws.title]), ws.title

    def md_lines(folder: Path) -> list[str]:
        text = (folder / f"{stem}.checklist.md").read_text(encoding="utf-8")
        text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?", "<time>", text)
        return [line for line in text.splitlines() if "Generated" not in line]

    assert md_lines(one) == md_lines(two)
    from pypdf import PdfReader

    assert len(PdfReader(one / f"{stem}.checklist.pdf").pages) == len(
        PdfReader(two / f"{stem}.checklist.pdf").pages
    )


def test_a_file_the_other_core_cannot_write_fails_the_export_in_one_line(
    tmp_path: Path,
) -> None:
    src = oem_copy(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{src.stem}.checklist.pdf").mkdir()  # the PDF (the child's file) cannot land
    res = run_cli("export", src, "--out-dir", out)
    assert res.code == 4, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "checklist.pdf" in lines[0], res.stderr
    # all or none: the folder holds what it held, the folder in the way, and nothing else
    assert [p.name for p in out.iterdir()] == [f"{src.stem}.checklist.pdf"]


@pytest.mark.parametrize("via", ["in process", "the program"])
def test_a_refused_export_leaves_no_file_at_all(tmp_path: Path, via: str) -> None:
    """The corrected CSV cannot hold a character its encoding lacks: the export is refused
    and none of its outputs appears, not the checklist another process was writing side by
    side, nor the folder the outputs are written in before they are put in place."""
    import subprocess
    import sys

    src = write_csv(
        tmp_path / "inv.csv", [device(1, Notes="Büro"), device(2)], encoding="cp1252"
    )  # read as Windows-1252, so written back in it
    fixes = _corrections(tmp_path / "fix.csv", [("2", "", "notes", "snow ☃")])
    before = sorted(os.listdir(tmp_path))
    args = ["export", str(src), "--corrections", str(fixes)]
    if via == "in process":
        res = run_cli(*args)
        code, err = res.code, res.stderr
    else:
        coa = str(Path(sys.executable).parent / "coa-audit")
        proc = subprocess.run([coa, *args], capture_output=True, text=True, timeout=120)
        code, err = proc.returncode, proc.stderr
    assert code == 4, err
    assert "cannot store" in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == before


def test_an_edit_keeps_the_line_ending_of_its_own_line(tmp_path: Path) -> None:
    """A CSV whose lines end in CR LF, LF and CR by turns (pasted together from several
    tools): editing one field of each changes that field and nothing else."""
    lines = [
        ("Serial Number,COA Edition,Notes", "\r\n"),
        ("S1,Windows 11 Pro,a", "\n"),
        ("S2,Windows 11 Pro,b", "\r"),
        ("S3,Windows 11 Pro,c", "\r\n"),
        ("S4,Windows 11 Pro,d", ""),  # the last line ends with no line ending at all
    ]
    src = tmp_path / "mixed.csv"
    src.write_bytes("".join(t + e for t, e in lines).encode())
    fixes = _corrections(
        tmp_path / "fix.csv",
        [("2", "", "notes", "A"), ("3", "", "notes", "B"), ("4", "", "notes", "C"),
         ("5", "", "notes", "D")],
    )  # fmt: skip
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    want = "".join(
        (t[:-1] + t[-1].upper() if i else t) + e for i, (t, e) in enumerate(lines)
    ).encode()
    assert (tmp_path / "mixed.corrected.csv").read_bytes() == want


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    """Writes past a size limit fail (EFBIG, as ENOSPC would): one line naming the output
    where it was going (not the hidden folder it is written in), and no file left."""
    import resource
    import signal
    import subprocess
    import sys

    src = tmp_path / "fleet.csv"
    src.write_bytes((SAMPLES / "reseller-export.csv").read_bytes())
    out = tmp_path / "out"
    out.mkdir()

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))

    coa = str(Path(sys.executable).parent / "coa-audit")
    proc = subprocess.run(
        [coa, "export", str(src), "--out-dir", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=small_files,
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no file was written" in lines[0], proc.stderr
    assert f"cannot write {out}{os.sep}fleet." in lines[0] and ".coa-audit-export" not in lines[0]
    assert list(out.iterdir()) == []
