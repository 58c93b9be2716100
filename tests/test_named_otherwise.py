"""A workbook is read by what it holds, whatever its name says: python-calamine picks its
reader by the extension, so an xlsx mailed around as "fleet.xls" was opened as an OLE file and
refused with a message naming xlsx ("Invalid OLE signature"). Every workbook kind is written
under every workbook name (and names that say nothing), and each must read as the original:
the same devices, the same verdicts, and an export that writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli
from tests.hostile_craft import ods, ods_row

NAMES = ["xlsx", "xlsm", "xls", "xlsb", "ods", "dat", "XLS", "bin"]


def _ods(path: Path) -> Path:
    rows = [
        ["Serial Number", "COA Present", "COA Edition"],
        ["5CG1", "Yes", "Windows 10 Pro"],
        ["5CG2", "No", ""],
    ]
    return ods(path, "".join(ods_row(r) for r in rows))


def _statuses(path: Path) -> list[str]:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, (path.name, res.stderr)
    return [d["status"] for d in res.json()["devices"]]


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_a_workbook_under_any_name_reads_as_itself(tmp_path: Path, kind: str) -> None:
    original = tmp_path / f"original.{kind}"
    if kind == "xlsx":
        shutil.copyfile(SAMPLES / "oem-fleet.xlsx", original)
    else:
        _ods(original)
    expected = _statuses(original)
    assert expected and "eligible" in expected
    for name in NAMES:
        renamed = tmp_path / f"fleet-{kind}.{name}"
        shutil.copyfile(original, renamed)
        assert _statuses(renamed) == expected, name
    out = tmp_path / "out"
    res = run_cli("export", tmp_path / f"fleet-{kind}.xls", "--out-dir", out, "--checklist", "")
    assert res.code in (0, 1), res.stderr
    assert sorted(p.suffix for p in out.iterdir()) == [".xlsx", ".xlsx"]
