"""Structure first, two header rows, values decide (issue 32): through the command.

A header whose words are unknown is found by its layout (a row of names above rows of
values) and what it leaves unmapped is said once; a title above it is no header; a file
with no header at all is refused saying so; group titles over labels are read as one header
in csv, xlsx and ods (merged or not) and the corrected inventory still edits the right
cell; where several columns could take a field, what their values are decides, and the
reason shown says so truly."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from tests.conftest import run_cli

# -- helpers ----------------------------------------------------------------------------------


def _csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _check(path: Path, *extra: str) -> dict:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never", *extra)
    assert res.code == 0, res.stderr
    return res.json()


def _columns(path: Path) -> str:
    res = run_cli("columns", path)
    assert res.code == 0, res.stderr
    return res.stdout


def _word(rng: random.Random, letters: str) -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(4, 9))).capitalize()


_LATIN = "bcdfghjklmnpqrstvwxz"
_VOWELS = "aeiou"
_GREEK = "αβγδεζηθικλμνξοπρστυφχψω"
_CYRILLIC = "бвгджзийклмнпрстуфхцчшщыэюя"


def _nonsense(rng: random.Random, script: str) -> str:
    if script == "latin":
        return "".join(rng.choice(_LATIN) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))
    return _word(rng, _GREEK if script == "greek" else _CYRILLIC)


def _devices(n: int) -> list[list[str]]:
    """Rows of a register: a serial, a host name, a floor number, an edition on the label."""
    return [
        [f"5CG41{i:05d}", f"PC-{i:04d}", str(1 + i % 5), "Windows 10 Pro" if i % 2 else ""]
        for i in range(n)
    ]


# -- structure first --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_a_register_whose_header_words_are_unknown_loads(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    script = ("latin", "greek", "cyrillic")[seed % 3]
    headers: list[str] = []
    while len(headers) < 4:  # four distinct words of no language the tool knows
        w = _nonsense(rng, script)
        if w not in headers:
            headers.append(w)
    rows = _devices(5)
    src = _csv(tmp_path / "reg.csv", [headers, *rows], rng.choice([",", ";", "\t"]))
    doc = _check(src)
    assert doc["source"]["header_row"] == 1
    assert [d["row"] for d in doc["devices"]] == [2, 3, 4, 5, 6]
    notice = next(n for n in doc["source"]["notices"] if "FOUND BY ITS LAYOUT" in n)
    for c, h in enumerate(headers):
        if h not in doc["mapping"].values():
            assert f"{h!r} (column {'ABCD'[c]})" in notice
    assert "--map" in notice
    # the serial column is named as the best candidate in the one serial notice
    serial = [n for n in doc["source"]["notices"] if "NO SERIAL NUMBER COLUMN" in n]
    assert len(serial) == 1 and f"{headers[0]!r} (column A)" in serial[0]
    # nothing is eligible without evidence that was recognised
    assert {d["status"] for d in doc["devices"]} == {"blocked"}
    # and --map names the columns of that very header
    named = _check(
        src, "--map", f"{headers[0]}=serial_number", "--map", f"{headers[3]}=coa_edition"
    )
    assert named["mapping"]["serial_number"] == headers[0]
    assert not any(
        "FOUND BY ITS LAYOUT" in n and headers[0] in n for n in named["source"]["notices"]
    )


@pytest.mark.parametrize("title", [["Inventory 2024"], ["Inventar 2024", "", "", "Stand: Mai"]])
def test_a_title_above_the_header_is_no_header(tmp_path: Path, title: list[str]) -> None:
    src = _csv(
        tmp_path / "t.csv", [title, [], ["Kod", "Nazwisko", "Pietro", "Uwagi"], *_devices(3)]
    )
    doc = _check(src)
    assert doc["source"]["header_row"] == 3
    assert [d["row"] for d in doc["devices"]] == [4, 5, 6]


def test_a_file_with_no_header_at_all_is_refused_saying_so(tmp_path: Path) -> None:
    src = _csv(tmp_path / "n.csv", _devices(6))
    res = run_cli("check", src)
    assert res.code == 3
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1
    assert "no header row: row 1 ('5CG4100000', 'PC-0000', '1')" in err
    assert "not column names" in err and "--map" in err and "coa-audit columns" in err
    # `columns` shows the row with its column letters rather than refusing
    cols = run_cli("columns", src)
    assert cols.code == 0 and "row 1:" in cols.stdout and "PC-0000" in cols.stdout


# -- two header rows --------------------------------------------------------------------------

UPPER = ["Device", "", "COA label", "", "Windows", ""]
LOWER = ["Serial", "Name", "Yes/No", "Edition printed", "Installed", "Site"]
DATA = [
    ["5CG4105001", "PC-HQ-01", "Yes", "Windows 10 Pro", "Windows 11 Pro", "HQ"],
    ["5CG4105002", "PC-HQ-02", "No", "", "Windows 11 Pro", "HQ"],
    ["5CG4105003", "PC-BR-03", "Yes", "Windows 10 Home", "Windows 10 Pro", "Branch"],
]
EXPECT_TWO = {
    "serial_number": "Device Serial",
    "hostname": "Device Name",
    "coa_present": "COA label Yes/No",
    "coa_edition": "COA label Edition printed",
    "current_os": "Windows Installed",
    "location": "Site",
}
MERGES = [(0, 1), (2, 3), (4, 5)]  # the group titles' spans, by column


def _xlsx(path: Path, above: list[list[str]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Fleet"
    for r in [*above, UPPER, LOWER, *DATA]:
        ws.append(r)
    top = len(above) + 1
    for a, b in MERGES:
        ws.merge_cells(start_row=top, start_column=a + 1, end_row=top, end_column=b + 1)
    wb.save(path)
    return path


def _ods(path: Path, above: list[list[str]]) -> Path:
    """An OpenDocument sheet whose group titles are merged cells (spanned, then covered)."""

    def cell(v: str, span: int = 1) -> str:
        attr = f' table:number-columns-spanned="{span}"' if span > 1 else ""
        if not v:
            return f"<table:table-cell{attr}/>"
        return (
            f'<table:table-cell office:value-type="string"{attr}><text:p>{escape(v)}</text:p>'
            "</table:table-cell>"
        )

    def row(cells: list[str]) -> str:
        return "<table:table-row>" + "".join(cells) + "</table:table-row>"

    titles = []
    for a, b in MERGES:
        titles.append(cell(UPPER[a], b - a + 1))
        titles.extend("<table:covered-table-cell/>" for _ in range(b - a))
    body = "".join(row([cell(v) for v in r]) for r in above) + row(titles)
    body += "".join(row([cell(v) for v in r]) for r in [LOWER, *DATA])
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Fleet">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
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


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods"])
@pytest.mark.parametrize("above", [[], [["Fleet register", "", "", ""], []]], ids=["top", "title"])
def test_two_header_rows_read_as_one(tmp_path: Path, fmt: str, above: list[list[str]]) -> None:
    src = tmp_path / f"two.{fmt}"
    if fmt == "csv":
        _csv(src, [*above, UPPER, LOWER, *DATA])
    elif fmt == "xlsx":
        _xlsx(src, above)
    else:
        _ods(src, above)
    doc = _check(src)
    lower = len(above) + 2
    assert doc["source"]["header_row"] == lower
    for field, header in EXPECT_TWO.items():
        assert doc["mapping"].get(field) == header, (field, doc["mapping"])
    assert [d["row"] for d in doc["devices"]] == [lower + 1, lower + 2, lower + 3]
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked", "blocked"]
    assert any(f"two rows ({lower - 1} and {lower})" in n for n in doc["source"]["notices"])


def test_a_two_header_row_workbook_is_corrected_in_the_right_cell(tmp_path: Path) -> None:
    src = _xlsx(tmp_path / "fleet.xlsx", [])
    fixes = tmp_path / "fix.csv"
    fixes.write_text(
        "row,serial_number,field,value\n"
        "4,,coa_present,Yes\n"
        ",5CG4105002,coa_edition,Windows 11 Pro\n"
        ",5CG4105003,COA label Edition printed,Windows 10 Pro\n",
        encoding="utf-8",
    )
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(tmp_path / "fleet.corrected.xlsx")["Fleet"]
    assert [c.value for c in ws[1]][:6] == ["Device", None, "COA label", None, "Windows", None]
    assert [c.value for c in ws[2]][:6] == LOWER  # the labels stay where they were
    assert ws["C4"].value == "Yes" and ws["D4"].value == "Windows 11 Pro"
    assert ws["D5"].value == "Windows 10 Pro" and ws["C5"].value == "Yes"
    assert ws["C3"].value == "Yes" and ws["D3"].value == "Windows 10 Pro"  # untouched
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:B1", "C1:D1", "E1:F1"}
    again = _check(tmp_path / "fleet.corrected.xlsx")
    assert [d["status"] for d in again["devices"]] == ["eligible", "eligible", "eligible"]


# -- values decide ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "states", [["Active", "Retired"], ["In use", "In stock", "Retired"], ["Managed", "Wiped"]]
)
def test_a_column_of_repeated_states_is_no_host_name_column(
    tmp_path: Path, states: list[str]
) -> None:
    rows = [[states[i % len(states)], f"CON-LT-{i:04d}", f"5CG{i:07d}"] for i in range(8)]
    src = _csv(tmp_path / "s.csv", [["Device", "Endpoint", "Serial number"], *rows])
    doc = _check(src)
    assert doc["mapping"]["hostname"] == "Endpoint"
    cols = _columns(src)
    line = next(x for x in cols.splitlines() if " Endpoint " in x)
    assert "by values: its values look like host names, those of 'Device' " in line
    # what the losing column's values are: a few words repeated, or names with spaces
    assert "repeat a few words" in line or "do not" in line
    assert repr(states[0]) in line
    # names that are all distinct keep their column, and no "by values" reason is made up
    rows = [[f"ws{i:03d}", f"CON-LT-{i:04d}", f"5CG{i:07d}"] for i in range(8)]
    src = _csv(tmp_path / "d.csv", [["Device", "Endpoint", "Serial number"], *rows])
    assert _check(src)["mapping"]["hostname"] == "Device"
    assert "by values" not in _columns(src)


@pytest.mark.parametrize("project", ["ITAM", "HW", "ASSET2", "CMDB_PC"])
def test_object_keys_are_no_product_keys(tmp_path: Path, project: str) -> None:
    rows = [[f"{project}-{1040 + i}", f"CON-LT-{i:04d}", f"5CG{i:07d}", "Yes"] for i in range(4)]
    src = _csv(tmp_path / "j.csv", [["Key", "Name", "Serial Number", "COA"], *rows])
    doc = _check(src)
    assert "coa_key" not in doc["mapping"]
    codes = {f["code"] for d in doc["devices"] for f in d["findings"]}
    assert not any(c.startswith("KEY_") for c in codes)
    notice = next(n for n in doc["source"]["notices"] if "'Key' (column A)" in n)
    assert "object or issue keys" in notice and f"{project}-1040" in notice
    # real keys in the same column are read as keys
    rows[0][0] = "VK7JG-NPHTM-C97JM-9MPGT-3V66T"
    rows[1][0] = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
    rows[2][0] = "NPPR9-FWDCX-D2C8J-H872K-2YT43"
    rows[3][0] = "DPH2V-TTNVB-4X9Q3-TJR4H-KHJW4"
    src = _csv(tmp_path / "k.csv", [["Key", "Name", "Serial Number", "COA"], *rows])
    assert _check(src)["mapping"]["coa_key"] == "Key"


def test_the_column_of_device_kinds_decides_the_asset_type(tmp_path: Path) -> None:
    """Open-AudIT's layout: form_factor (Desktop, Laptop) and type (computer, printer,
    switch); the type column tells the printer and the switch apart: out of scope."""
    rows = [
        ["Laptop", "computer", "5CG0000001", "pc-01", "Yes", "Windows 10 Pro"],
        ["", "printer", "PHBQB12345", "prn-01", "", ""],
        ["Desktop", "computer", "5CG0000003", "pc-03", "Yes", "Windows 10 Pro"],
        ["", "switch", "FOC2048X1AB", "sw-01", "", ""],
    ]
    src = _csv(
        tmp_path / "oa.csv",
        [["Device type", "Kind", "Serial", "Hostname", "COA", "COA edition"], *rows],
    )
    doc = _check(src)
    assert doc["mapping"]["asset_type"] == "Kind"
    assert [d["status"] for d in doc["devices"]] == [
        "eligible",
        "out-of-scope",
        "eligible",
        "out-of-scope",
    ]
    line = next(x for x in _columns(src).splitlines() if " Kind " in x)
    assert "its values look more like kinds of device than those of 'Device type'" in line


@pytest.mark.parametrize("family", [["Latitude", "OptiPlex"], ["ThinkPad T14 Gen 4"], ["HP"]])
def test_a_column_naming_no_operating_system_is_no_os_column(
    tmp_path: Path, family: list[str]
) -> None:
    rows = [[f"5CG{i:07d}", family[i % len(family)], "Yes", "Windows 10 Pro"] for i in range(3)]
    src = _csv(tmp_path / "a.csv", [["serialNumber", "systemFamily", "COA", "COA edition"], *rows])
    doc = _check(src)
    assert "current_os" not in doc["mapping"]
    notice = next(n for n in doc["source"]["notices"] if "'systemFamily'" in n)
    assert "name no operating system" in notice and repr(family[0][:24]) in notice
    # an OS column beside it takes the field
    rows = [[*r, "Windows 11 Pro"] for r in rows]
    src = _csv(
        tmp_path / "b.csv", [["serialNumber", "systemFamily", "COA", "COA edition", "OS"], *rows]
    )
    assert _check(src)["mapping"]["current_os"] == "OS"


@pytest.mark.parametrize("placeholder", ["NULL", "(null)", "None", "\\N", "-", "N/A"])
def test_export_placeholders_are_empty_when_columns_are_chosen(
    tmp_path: Path, placeholder: str
) -> None:
    rows = [[placeholder, f"CON-LT-{i:04d}", f"5CG{i:07d}", "Yes"] for i in range(4)]
    src = _csv(tmp_path / "p.csv", [["Hostname", "Computer name", "Serial", "COA"], *rows])
    doc = _check(src)
    assert doc["mapping"]["hostname"] == "Computer name"
    line = next(x for x in _columns(src).splitlines() if " Computer name " in x)
    assert "'Hostname' is empty" in line


@pytest.mark.parametrize(
    ("department", "place"),
    [
        ("Afdeling", "Locatie"),
        ("Abteilung", "Standort"),
        ("Departamento", "Ubicación"),
        ("Reparto", "Sede"),
        ("Department", "Location"),
        ("Dział", "Lokalizacja"),
    ],
)
def test_a_place_is_the_location_not_a_department(
    tmp_path: Path, department: str, place: str
) -> None:
    rows = [[f"5CG{i:07d}", "Finance", "Utrecht", "Yes"] for i in range(3)]
    src = _csv(tmp_path / "l.csv", [["Serial", department, place, "COA"], *rows])
    assert _check(src)["mapping"]["location"] == place
