"""Formats are declared once (importers.formats for what comes in, exporters.formats for the
packet): detection, the export pipeline, the command line and the export screen all read
those tables, and a name no entry has is an error where it is read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from coa_audit.exporters.formats import CHECKLISTS, checklist_output
from coa_audit.importers.formats import INPUT_FORMATS, input_format
from coa_audit.importers.load import detect_format
from tests.conftest import device, run_cli, write_csv


@pytest.mark.parametrize("name", sorted(INPUT_FORMATS))
def test_every_declared_input_format_is_told_apart_by_content(tmp_path: Path, name: str) -> None:
    spec = INPUT_FORMATS[name]
    path = tmp_path / "renamed.dat"  # the name claims nothing: the content decides
    if spec.zipped:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            if spec.zip_marker is not None:
                z.writestr(spec.zip_marker, "x")
    elif spec.text:
        path.write_text("Serial Number,COA Edition\r\nX1,Windows 11 Pro\r\n", encoding="utf-8")
    else:  # an OLE compound file: the legacy workbook
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert detect_format(path) == name


def test_a_name_no_format_has_is_an_error_where_it_is_read() -> None:
    with pytest.raises(ValueError, match="no input format is called 'numbers'"):
        input_format("numbers")
    with pytest.raises(ValueError, match="no checklist format is called 'json'"):
        checklist_output("json")


def test_every_packet_format_is_offered_and_written_by_the_one_pipeline(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2, COA_Edition="Windows 10 Home")])
    help_text = run_cli("export", "--help").stdout
    for out in CHECKLISTS:
        assert out.key in help_text
        folder = tmp_path / out.key
        res = run_cli("export", src, "--checklist", out.key, "--out-dir", folder)
        assert res.code == 0, res.stderr
        written = sorted(p.name for p in folder.iterdir())
        assert f"fleet{out.suffix}" in written
        others = [o.suffix for o in CHECKLISTS if o is not out]
        assert not any(name.endswith(s) for name in written for s in others)
    res = run_cli("export", src, "--checklist", "json", "--out-dir", tmp_path / "x")
    assert res.code == 2 and "json" in res.stderr


class _Meta:
    def __init__(self, name: str) -> None:
        self.name, self.visible = name, "SheetVisibleEnum.Visible"


class _Sheet:
    """A sheet as python-calamine gives one, over rows of text."""

    def __init__(self, rows: list[list[object]]) -> None:
        self.rows, self.start = rows, (0, 0)
        self.height, self.width = len(rows), max(len(r) for r in rows)

    def iter_rows(self) -> object:
        return iter(self.rows)

    def to_python(self, skip_empty_area: bool = True) -> list[list[object]]:
        return self.rows


class _TsvBook:
    """A made-up format python-calamine cannot read: a zip holding one tab-separated table."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as z:
            text = z.read("table.tsv").decode("utf-8")
        self.sheet = _Sheet([line.split("\t") for line in text.splitlines()])
        self.sheets_metadata = [_Meta("table")]

    def get_sheet_by_name(self, name: str) -> _Sheet:
        assert name == "table"
        return self.sheet


def test_a_new_input_format_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a `.numbers` reader would be: an entry with its opener, and nothing else."""
    import coa_audit.importers.formats as formats

    entry = formats._format("tsvz", "zipped tab-separated table", ("tsvz",), zipped=True,
                            zip_marker="table.tsv", open_book=_TsvBook)  # fmt: skip
    monkeypatch.setitem(formats.INPUT_FORMATS, "tsvz", entry)
    monkeypatch.setitem(formats.BY_EXTENSION, "tsvz", entry)
    rows = [device(1), device(2, COA_Edition="Windows 10 Home")]
    table = write_csv(tmp_path / "t.tsv", rows, delimiter="\t").read_text(encoding="utf-8")
    src = tmp_path / "fleet.zip"  # the name claims nothing: detection reads the package
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("table.tsv", table)
    report = run_cli("check", src, "--format", "json").json()
    assert report["source"]["format"] == "tsvz"
    assert report["summary"]["devices"] == 2 and report["summary"]["blocked"] == 1
    res = run_cli("export", src, "--checklist", "md", "--out-dir", tmp_path / "out")
    assert res.code == 0, res.stderr
    assert "cannot be patched: written as xlsx" in res.stderr
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "out" / "fleet.corrected.xlsx").active
    written = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert written == [line.split("\t") for line in table.splitlines()]  # the table, as it was
