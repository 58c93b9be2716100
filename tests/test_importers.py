"""Reading real-world shapes of inventory files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.sample import SAMPLE_HEADERS
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
