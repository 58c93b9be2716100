"""Reading real-world shapes of inventory files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import device, run_cli, write_csv


def _report(path: Path, *args: str) -> dict:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never", *args)
    assert res.code == 0, res.stderr
    return res.json()


def test_values_keep_the_text_a_user_sees(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Asset Tag", "Serial Number", "COA Edition", "Purchase Date", "Hostname"])
    ws.append(["00123", 1234567890123, "Windows 11 Pro", dt.datetime(2023, 3, 1), "PC-1"])
    ws.append([4711, "S-2", "Windows 11 Pro", dt.date(2024, 12, 31), 42.5])
    wb.save(tmp_path / "v.xlsx")
    doc = _report(tmp_path / "v.xlsx")
    first, second = doc["devices"]
    assert first["asset_tag"] == "00123"
    assert first["serial_number"] == "1234567890123"
    assert second["asset_tag"] == "4711"
    assert "SERIAL_NUMERIC" in {f["code"] for f in first["findings"]}
    res = run_cli("check", tmp_path / "v.xlsx", "--format", "csv")
    assert "1.23" not in res.stdout


def test_sheet_choice_hidden_sheets_and_sheet_option(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Readme"
    ws.append(["This workbook lists devices"])
    inv = wb.create_sheet("Devices")
    inv.append(["x"])
    inv.append([])
    inv.append(list(SAMPLE_HEADERS))
    inv.append([device(1)[h] for h in SAMPLE_HEADERS])
    hidden = wb.create_sheet("Old")
    hidden.append(list(SAMPLE_HEADERS))
    for i in range(5):
        hidden.append([device(i + 10)[h] for h in SAMPLE_HEADERS])
    hidden.sheet_state = "hidden"
    wb.save(tmp_path / "s.xlsx")
    doc = _report(tmp_path / "s.xlsx")
    assert doc["source"]["sheet"] == "Devices" and doc["source"]["header_row"] == 3
    assert doc["devices"][0]["row"] == 4
    assert any("Old" in n for n in doc["source"]["notices"])
    assert _report(tmp_path / "s.xlsx", "--sheet", "Old")["summary"]["devices"] == 5
    res = run_cli("check", tmp_path / "s.xlsx", "--sheet", "Nope")
    assert res.code == 3 and "'Devices'" in res.stderr


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [device(1, Notes="a, b; c"), device(2, COA_Present="No")]
    path = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter)
    doc = _report(path)
    assert doc["summary"]["devices"] == 2 and doc["summary"]["blocked"] == 1


def test_csv_bom_sep_line_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    body = (
        "sep=;\r\nSerial Number;COA Edition;Asset Tag\r\n\r\n"
        "S1;Windows 10 Pro;T1\r\n;;\r\nS2;Windows 10 Home;T2\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    doc = _report(path)
    assert doc["mapping"]["serial_number"] == "Serial Number"  # BOM did not stick to the header
    assert [d["row"] for d in doc["devices"]] == [4, 6]  # lines of the records
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked"]


def test_csv_multiline_record_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        'Serial Number,COA Edition,Notes\nS1,Windows 10 Pro,"two\nlines"\nS2,Windows 10 Pro,x\n'
    )
    assert [d["row"] for d in _report(path)["devices"]] == [2, 4]


def test_number_formats_of_identifiers_are_kept(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Asset Tag", "Serial Number", "COA Edition"])
    ws.append([42, 123, "Windows 11 Pro"])
    ws.append([43, 98765, "Windows 11 Pro"])
    ws["B2"].number_format = "00000"
    ws["A3"].number_format = "000000"
    wb.save(tmp_path / "fmt.xlsx")
    doc = _report(tmp_path / "fmt.xlsx")
    assert [(d["asset_tag"], d["serial_number"]) for d in doc["devices"]] == [
        ("42", "00123"),
        ("000043", "98765"),
    ]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "w.csv", [device(1), device(2)], encoding=encoding)
    doc = _report(path)
    assert [d["asset_tag"] for d in doc["devices"]] == ["AT-00001", "AT-00002"]
    assert any("UTF-16" in n for n in doc["source"]["notices"])


def test_group_header_row_above_the_real_header(tmp_path: Path) -> None:
    """A row of group titles ("Device", "Licence") above the header, as OEM reports have."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Device", None, None, "Licence", None])
    ws.append(["Serial Number", "Hostname", "Model", "COA", "COA Edition"])
    ws.append(["5CG1", "PC-1", "EliteBook", "Yes", "Windows 11 Pro"])
    ws.append(["5CG2", "PC-2", "EliteBook", "No", ""])
    wb.save(tmp_path / "g.xlsx")
    doc = _report(tmp_path / "g.xlsx")
    assert doc["source"]["header_row"] == 2
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked"]


def test_header_row_that_starts_in_a_later_column(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["E3"] = "Serial Number", "COA", "COA Edition"
    ws["C4"], ws["D4"], ws["E4"] = "5CG1", "GML", "Windows 10 Pro"
    wb.save(tmp_path / "c.xlsx")
    doc = _report(tmp_path / "c.xlsx")
    assert doc["source"]["header_row"] == 3
    assert doc["devices"][0]["row"] == 4 and doc["devices"][0]["status"] == "eligible"
    f = [f for f in run_cli("check", tmp_path / "c.xlsx", "--format", "json").json()["devices"]]
    assert f[0]["serial_number"] == "5CG1"
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(",,Serial Number,COA,COA Edition\n,,5CG1,GML,Windows 10 Pro\n")
    assert _report(csv_path)["devices"][0]["status"] == "eligible"


def test_excel_table_totals_row_is_no_device(tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    ws = wb.active
    ws.append(["Serial Number", "COA", "COA Edition", "Cost"])
    ws.append(["5CG1", "Yes", "Windows 11 Pro", 900])
    ws.append(["5CG2", "Yes", "Windows 11 Pro", 950])
    ws.append(["Count: 2", "2", None, 1850])  # the table's totals row, as Excel saves it
    table = Table(displayName="Fleet", ref="A1:D4")
    table.totalsRowCount = 1
    ws.add_table(table)
    wb.save(tmp_path / "t.xlsx")
    doc = _report(tmp_path / "t.xlsx")
    assert [d["serial_number"] for d in doc["devices"]] == ["5CG1", "5CG2"]
    assert any("table's totals row" in n for n in doc["source"]["notices"])


@pytest.mark.parametrize("label", ["Total", "Totals", "Grand Total", "Summe", "Gesamt"])
def test_a_last_total_row_of_numbers_is_no_device(tmp_path: Path, label: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Serial Number,COA,COA Edition,Cost\n"
        "5CG1,Yes,Windows 11 Pro,900\n"
        "5CG2,Yes,Windows 11 Pro,950\n"
        f"{label},,,1850\n"
    )
    doc = _report(path)
    assert [d["serial_number"] for d in doc["devices"]] == ["5CG1", "5CG2"]
    assert doc["summary"]["blocked"] == 0


def test_a_device_named_total_is_still_a_device(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("Serial Number,COA,COA Edition\n5CG1,Yes,Windows 11 Pro\nTOTAL-7,Yes,Win 10\n")
    assert len(_report(path)["devices"]) == 2


def test_os_edition_column_is_the_installed_os_not_evidence(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("Serial Number,Hostname,OS Edition,Windows Edition\n5CG1,PC-1,Pro,Pro\n")
    doc = _report(path)
    assert "coa_edition" not in doc["mapping"]
    assert doc["mapping"]["current_os"] in ("OS Edition", "Windows Edition")
    assert doc["devices"][0]["status"] == "blocked"


def test_values_decide_between_two_os_columns(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text(
        "Serial Number,COA,OS Version,Operating System\n"
        "5CG1,Yes,10.0.22631,Microsoft Windows 11 Pro\n"
        "5CG2,Yes,10.0.19045,Microsoft Windows 10 Home\n"
    )
    assert _report(path)["mapping"]["current_os"] == "Operating System"


def test_values_decide_the_key_column(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text(
        "Serial Number,COA Edition,Key,Product Key\n"
        "5CG1,Windows 11 Pro,LOCKER-12,JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG\n"
        "5CG2,Windows 11 Pro,LOCKER-13,JB7TK-VCXJ4-8C3MW-YK3DF-8R2QH\n"
    )
    assert _report(path)["mapping"]["coa_key"] == "Product Key"


def test_a_licence_channel_column_is_read_as_evidence(tmp_path: Path) -> None:
    path = tmp_path / "slp.csv"
    path.write_text(
        "Serial Number,ProductKeyChannel,OA3xOriginalProductKeyDescription\n"
        "5CG1,OEM:DM,[4.0] Professional OEM:DM\n"
        "5CG2,Volume:MAK,[4.0] Professional OEM:DM\n"
        "5CG3,Retail,[4.0] Core OEM:DM\n"
    )
    doc = _report(path)
    assert doc["mapping"]["coa_present"] == "ProductKeyChannel"
    assert [d["status"] for d in doc["devices"]] == ["eligible", "review", "blocked"]
    assert "EVIDENCE_NOT_BASE" in {f["code"] for f in doc["devices"][1]["findings"]}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("v_GS_PC_BIOS.SerialNumber0", "serial_number"),  # a ConfigMgr SQL query, unaliased
        ("SMS_G_System_PC_BIOS.SerialNumber", "serial_number"),  # WQL
        ("tblAssetCustom.Serialnumber", "serial_number"),  # Lansweeper, unaliased
        ("tsysOS.OSname", "current_os"),
        ("OSname", "current_os"),
        ("dbo.v_R_System.Netbios_Name0", "hostname"),
        ("Model No.", "model"),
    ],
)
def test_query_and_table_prefixed_headers(tmp_path: Path, header: str, field: str) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f"Asset Tag,{header},COA Edition\nAT-1,X-1,Windows 11 Pro\n")
    assert _report(path)["mapping"][field] == header
