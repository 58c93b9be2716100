"""`check --format json` writes half the devices in a forked child (the second core) and
sets them aside beside the report: the report is byte for byte the one a single process
writes, wherever the halves meet, and a full folder for the child's half still gives it."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from coa_audit.exporters import check_report
from tests.conftest import SAMPLE_HEADERS, counted_forks, device, oem_copy, run_cli, write_csv

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="one process writes the report where there is no fork"
)


def _fleet(folder: Path, rows: int) -> Path:
    """``rows`` devices: every third one shares the first device's serial (a duplicate
    whose other rows sit in both halves), every fourth one is a Home edition."""
    devices = []
    for i in range(1, rows + 1):
        changes: dict[str, Any] = {}
        if i % 3 == 0:
            changes["Serial_Number"] = device(1)["Serial Number"]
        if i % 4 == 0:
            changes["COA_Edition"] = "Windows 11 Home"
        devices.append(device(i, **changes))
    return write_csv(folder / f"fleet{rows}.csv", devices, SAMPLE_HEADERS)


def _walked_sample(folder: Path) -> tuple[Path, list[str]]:
    """The OEM sample with a walk's marks: the report's head lists them as changes (with
    the times the walk file gives), and the devices carry them."""
    src = oem_copy(folder)
    walk = folder / "walk.csv"
    walk.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,value,by\r\n"
        'mark,5,5CG0000001,,,present,"present (scanned) by Ann Old, 2026-12-04 10:00",\r\n'
        'mark,29,5CG0000029,,,label,"differs: Windows 10 Home (by Ann Old, 2026-12-04 10:02)",\r\n',
        encoding="utf-8-sig",
    )
    return src, ["--walk", str(walk)]


def _report(
    monkeypatch: pytest.MonkeyPatch, src: Path, more: list[str], to: Path | None, split: int
) -> tuple[bytes, int]:
    """The report and how many children were forked for it, splitting from ``split``
    devices on."""
    forks = counted_forks(monkeypatch)
    monkeypatch.setattr(check_report, "BESIDE_FROM", split)
    where = ["-o", str(to), "--force"] if to is not None else []
    res = run_cli("check", src, "--format", "json", "--fail-on", "never", *more, *where)
    assert res.code == 0, res.stderr
    data = to.read_bytes() if to is not None else res.stdout.encode("utf-8")
    return data, len(forks)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS runs the command on one core")
@pytest.mark.parametrize("rows", [2, 3, 8, 0])
@pytest.mark.parametrize("to_file", [True, False])
def test_the_report_of_two_processes_is_the_report_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int, to_file: bool
) -> None:
    """Even and odd fleets, a duplicate across the halves, a walk's marks and the changes
    they make (rows 0: the OEM sample with them), to a file and to stdout."""
    if rows:
        src, more = _fleet(tmp_path, rows), []
    else:
        src, more = _walked_sample(tmp_path)
    target = tmp_path / "report.json" if to_file else None
    one, forked = _report(monkeypatch, src, more, target, split=10**9)
    assert forked == 0
    two, forked = _report(monkeypatch, src, more, target, split=2)
    assert forked == 1  # really written by two processes
    assert two == one
    assert b'"devices":[{' in two  # the devices are there, not an empty list twice
    assert (b'"changes":[{' in two) == (not rows)  # the walk's changes head the report


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS runs the command on one core")
@pytest.mark.parametrize("full", ["child's half", "no file at all"])
@pytest.mark.parametrize("to_file", [True, False])
def test_a_full_temporary_folder_still_gives_the_whole_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: str, to_file: bool
) -> None:
    """The folder for the child's half fills up (stdout's goes to the temporary folder,
    often a small one): the child cannot write its half, or the file for it cannot even be
    made. The command writes that half itself: the report is whole, the one-process one."""
    import tempfile

    src = _fleet(tmp_path, 7)
    target = tmp_path / "out" / "report.json" if to_file else None
    if target is not None:
        target.parent.mkdir()
    one, _forked = _report(monkeypatch, src, [], target, split=10**9)
    real = tempfile.TemporaryFile
    parent = os.getpid()

    class Full:
        def __init__(self, f: Any) -> None:
            self.f = f

        def write(self, data: bytes) -> int:
            if os.getpid() != parent:  # the child's half, not the parent's
                raise OSError(errno.ENOSPC, "No space left on device")
            return int(self.f.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

    def spill(**kw: Any) -> Any:
        if full == "no file at all":
            raise OSError(errno.ENOSPC, "No space left on device")
        return Full(real(**kw))

    monkeypatch.setattr(check_report.tempfile, "TemporaryFile", spill)
    two, forked = _report(monkeypatch, src, [], target, split=2)
    assert forked == (1 if full == "child's half" else 0)
    assert two == one
    if target is not None:
        assert list(target.parent.iterdir()) == [target]  # nothing else left beside it
