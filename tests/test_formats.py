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


def test_the_corrected_file_of_each_input_format_is_named_by_the_table() -> None:
    for spec in INPUT_FORMATS.values():
        assert spec.patch_in_place == (spec.export_note == "")
        assert spec.becomes in ("xlsx", "xlsm", "csv")


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
