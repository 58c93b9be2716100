"""A lighter install (issue 33): numpy is an optional speed-up (the ``fast`` extra) whose
pure-Python fallback gives the same report byte for byte, and a small check imports neither
numpy nor openpyxl (nor lxml, which nothing needs). Each run is the real command in a
process of its own, watched by an audit hook that records what it imports; numpy is hidden
from one run the way a missing package is (``import numpy`` fails)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from coa_audit.importers.collection import COLLECT_SCRIPT_HEADERS
from tests.conftest import SAMPLES, device, write_csv

# the command (cli.main.main, supervisor and all) with an import log; argv: log file, hide
# numpy (1/0), the shortest column numpy sorts ("-": as shipped), then the command's arguments
RUN = """
import sys

log, hide, numpy_from, args = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4:]
watched = ("numpy", "openpyxl", "lxml")


def hook(event, details):
    top = details[0].partition(".")[0] if event == "import" else ""
    # a hidden module (None in sys.modules) is asked for, but fails: not an import
    if top in watched and sys.modules.get(top, "absent") is not None:
        with open(log, "a") as f:
            f.write(details[0] + "\\n")


sys.addaudithook(hook)
if hide:
    sys.modules["numpy"] = None  # import numpy fails, as where it is not installed
import coa_audit.core.sorting as sorting

if numpy_from != "-":
    sorting.NUMPY_FROM = int(numpy_from)
sys.argv = ["coa-audit", *args]
from coa_audit.cli.main import main

main()
"""


def _run(tmp: Path, name: str, *args: str | Path, hide: bool, numpy_from: int | None) -> set[str]:
    """Run the command; the top-level names of the watched modules it imported."""
    log = tmp / f"{name}.imports"
    log.write_text("")
    flags = ["1" if hide else "0", "-" if numpy_from is None else str(numpy_from)]
    p = subprocess.run(
        [sys.executable, "-c", RUN, str(log), *flags, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=tmp,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    return {line.partition(".")[0] for line in log.read_text().split()}


def _register(path: Path) -> Path:
    """120 devices with every kind of shared value the sorted hashes find: serials (as
    written and spelt otherwise), serials equal once their leading zeros go, keys, asset
    tags, blanks and a placeholder."""
    rows = [device(n) for n in range(1, 101)]
    rows += [
        device(101, Serial_Number="5CG0000005"),
        device(102, Serial_Number=" 5cg0000005 "),
        device(103, Serial_Number="0012345"),
        device(104, Serial_Number="12345"),
        device(105, Serial_Number="00012345"),
        device(106, Product_Key=device(7)["Product Key"]),
        device(107, Product_Key=device(7)["Product Key"].lower()),
        device(108, Asset_Tag="AT-00009"),
        device(109, Asset_Tag=" at-00009"),
        device(110, Serial_Number=""),
        device(111, Serial_Number=""),
        device(112, Product_Key=""),
        device(113, Product_Key=""),
        device(114, Serial_Number="To be filled by O.E.M."),
        device(115, Serial_Number="To be filled by O.E.M."),
        device(116, Hostname="PC-SHARED"),
        device(117, Hostname="PC-SHARED"),
        device(118, Serial_Number="", Hostname="PC-BYNAME"),
        device(119, Serial_Number="0000000"),
        device(120, Serial_Number="0000000"),
    ]
    return write_csv(path, rows)


def _collection(path: Path) -> Path:
    """What the collection script gathered: PCs found by serial, a serial on three register
    rows, one PC reported twice, one serial reported by two PCs, PCs found by host name
    only (or found twice), and PCs the register lacks."""
    pro = "[4.0] Professional OEM:DM"

    def pc(host: str, serial: str, desc: str = pro) -> list[str]:
        key = device(1)["Product Key"] if desc else ""
        os, build, when = "Microsoft Windows 11 Pro", "22631", "2026-11-28T09:00:00"
        return [host, serial, "HP", "EliteBook 840 G9", os, build, desc, key, when]

    rows = [pc(f"PC-{n:05d}", f"5CG{n:07d}") for n in range(1, 61)]
    rows += [
        pc("PC-00005", "5CG0000005"),  # on register rows 5, 101 and 102
        pc("PC-00021", "5CG0000021", "[4.0] Core OEM:DM"),  # the same PC again: it wins
        pc("PC-OTHER", "5CG0000020"),  # a second PC with device 20's serial
        pc("PC-00070", ""),  # by host name: device 70 was not collected by serial
        pc("PC-00071", "5CG9999999"),  # device 71's host name, another serial
        pc("PC-SHARED", ""),  # a host name on two register rows
        pc("pc-byname", ""),  # by host name, twice: the later one wins
        pc("PC-BYNAME", ""),
        pc("NEW-PC-1", "NEW0001"),
        pc("NEW-PC-2", "NEW0002", ""),
        pc("PC-00119", "0000000"),  # a placeholder matches nothing
    ]
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(COLLECT_SCRIPT_HEADERS)
        w.writerows(rows)
    return path


def test_the_report_is_the_same_byte_for_byte_with_numpy_and_without(tmp_path: Path) -> None:
    register = _register(tmp_path / "register.csv")
    collection = _collection(tmp_path / "collected.csv")
    reports = {}
    # numpy for every column; for the register's (120 rows) and not the collection's (71);
    # for none, numpy hidden
    for name, hide, numpy_from in (("numpy", False, 0), ("mixed", False, 100), ("plain", True, 0)):
        out = tmp_path / f"{name}.json"
        args = ("check", register, "--evidence", collection, "--format", "json", "-o", out)
        imported = _run(
            tmp_path, name, *args, "--fail-on", "never", hide=hide, numpy_from=numpy_from
        )
        assert ("numpy" in imported) == (not hide), (name, imported)
        reports[name] = out.read_bytes()
    assert reports["numpy"] == reports["plain"]
    assert reports["mixed"] == reports["plain"]

    # and the runs had something to sort: every kind of shared value, both ways of matching
    doc = json.loads(reports["plain"])
    found = doc["summary"]["findings"]
    for code in (
        "SERIAL_DUPLICATE",
        "SERIAL_POSSIBLE_DUPLICATE",
        "KEY_DUPLICATE",
        "ASSET_TAG_DUPLICATE",
    ):
        assert found.get(code, 0) >= 2, (code, found)
    col = doc["collection"]
    ambiguous = "\n".join(col["ambiguous"])
    assert "'5CG0000005' is on more than one register row" in ambiguous
    assert "'5CG0000020' was reported by 2 PCs" in ambiguous
    assert "hostname 'PC-SHARED' is on more than one register row" in ambiguous
    assert "hostname 'PC-00071' is register row" in ambiguous
    assert col["matched_by_hostname"] == 3  # PC-00070, PC-BYNAME, the placeholder's PC
    assert {d["serial_number"] for d in col["not_in_register"]} >= {"NEW0001", "NEW0002"}


def test_a_small_check_imports_neither_numpy_nor_openpyxl(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ("check", SAMPLES / "oem-fleet.xlsx", "--format", "json", "-o", out)
    imported = _run(tmp_path, "small", *args, "--fail-on", "never", hide=False, numpy_from=None)
    assert imported == set()
    assert json.loads(out.read_text())["summary"]["devices"] > 300
