"""Evidence collected from the PCs themselves (--evidence): merged onto the register by
serial, else host name; firmware evidence decides where the register has none, disagreements
are conflicts, generic keys prove nothing, and the two unmatched lists are exact."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coa_audit.importers.collection import COLLECT_SCRIPT_HEADERS
from tests.conftest import REPO, run_cli, settle

FIXTURE = REPO / "tests" / "fixtures" / "exports" / "collect-script-ps51.csv"
GENERIC = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
WHEN = "2026-11-28T09:00:00"
KEYS = "BCDFGHJKMPQRTVWXY2346789"
NEVER = ("--fail-on", "never")
CONFLICT = "EVIDENCE_CONFLICT"
PRO, CORE = "[4.0] Professional OEM:DM", "[4.0] Core OEM:DM"


def _key(n: int) -> str:
    tail = "".join(KEYS[(n // 24**i) % 24] for i in range(5))
    return f"JB7TK-VCXJ4-8C3MW-YK3DF-{tail}"


def _fleet(tmp: Path) -> tuple[Path, Path, dict[str, str], set[str], list[str]]:
    """A register of 1,000 devices with no COA columns and a collection for 900 of them plus
    20 PCs the register lacks. Returns the files, the expected status per serial, the
    serials not collected and the serials of the PCs not in the register."""
    rng = random.Random(7)
    register = tmp / "register.csv"
    collection = tmp / "collected.csv"
    expected: dict[str, str] = {}
    with open(register, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Asset Tag", "Serial Number", "Hostname", "Manufacturer", "Model", "OS"])
        for i in range(1000):
            w.writerow(
                [
                    f"AT-{i:04d}",
                    f"5CG{i:07d}",
                    f"PC-{i:04d}",
                    "HP",
                    "EliteBook 840",
                    "Windows 11 Pro",
                ]
            )
    collected = rng.sample(range(1000), 900)
    not_collected = {f"5CG{i:07d}" for i in range(1000)} - {f"5CG{i:07d}" for i in collected}
    for s in not_collected:
        expected[s] = "blocked"  # no evidence at all
    rows = []
    for n, i in enumerate(collected):
        serial = f"5CG{i:07d}"
        shown = serial.lower() if n % 3 == 0 else (f"5CG {i:07d}" if n % 3 == 1 else serial)
        if n % 10 == 0:
            desc, key, status = "[4.0] Core OEM:DM", _key(i), "blocked"  # Home
        elif n % 10 == 1:
            desc, key, status = "[4.0] Professional OEM:DM", GENERIC, "blocked"  # proves nothing
        elif n % 10 == 2:
            desc, key, status = "", "", "blocked"  # no firmware key (a pre-Windows-8 PC)
        else:
            desc, key, status = "[4.0] Professional OEM:DM", _key(i), "eligible"
        expected[serial] = status
        host = f"PC-{i:04d}" if n % 7 else f"pc-{i:04d}.contoso.local"
        rows.append(
            [
                host,
                shown,
                "HP",
                "EliteBook 840",
                "Microsoft Windows 11 Pro",
                "22631",
                desc,
                key,
                "2026-11-28T09:00:00",
            ]
        )
    unregistered = [f"NEW{k:04d}" for k in range(20)]
    for k, serial in enumerate(unregistered):
        rows.append(
            [
                f"NEW-PC-{k}",
                serial,
                "Dell Inc.",
                "Latitude 5440",
                "Microsoft Windows 11 Pro",
                "22631",
                "[4.0] Professional OEM:DM",
                "",
                "2026-11-28T09:00:00",
            ]
        )
    rng.shuffle(rows)
    with open(collection, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(COLLECT_SCRIPT_HEADERS)
        w.writerows(rows)
    return register, collection, expected, not_collected, unregistered


def test_a_register_without_coa_columns_and_its_collection(tmp_path: Path) -> None:
    register, collection, expected, not_collected, unregistered = _fleet(tmp_path)
    res = run_cli(
        "check", register, "--evidence", collection, "--format", "json", "--fail-on", "never"
    )
    assert res.code == 0, res.stderr
    doc = res.json()
    got = {d["serial_number"]: d["status"] for d in doc["devices"]}
    assert got == expected
    col = doc["collection"]
    rows_by_serial = {d["serial_number"]: d["row"] for d in doc["devices"]}
    assert sorted(col["not_collected"]) == sorted(rows_by_serial[s] for s in not_collected)
    assert sorted(r["serial_number"] for r in col["not_in_register"]) == unregistered
    assert col["matched"] == 900 and col["ambiguous"] == []
    assert not any("NO LICENCE EVIDENCE" in n for n in doc["source"]["notices"])
    # text output carries both lists too
    text = run_cli("check", register, "--evidence", collection, "--fail-on", "never").stdout
    assert f"in the register, not seen in the collection ({len(not_collected)})" in text
    assert "reported in, not in the register (20)" in text and "NEW0007" in text
    # the checklist lists exactly the eligible devices, each with its collected evidence
    assert run_cli("export", register, "--evidence", collection, "--checklist", "md").code == 0
    md = (tmp_path / "register.checklist.md").read_text()
    section = md.split("## Eligible devices")[1].split("## Excluded devices")[0]
    listed = {
        line.split(" | ")[2]
        for line in section.splitlines()
        if line.startswith("| ") and "5CG" in line
    }
    assert listed == {s for s, v in expected.items() if v == "eligible"}
    assert "OA3 firmware key (collected: collected.csv, 2026-11-28)" in section
    assert "Evidence collected from the PCs: collected.csv (SHA-256" in md


@pytest.mark.parametrize(
    ("register_cells", "firmware", "status", "code"),
    [
        (
            {"COA": "Yes", "COA Edition": "Windows 10 Pro"},
            "[4.0] Core OEM:DM",
            "review",
            "EVIDENCE_CONFLICT",
        ),
        (
            {"COA": "Yes", "COA Edition": "Windows 10 Home"},
            "[4.0] Professional OEM:DM",
            "blocked",
            "EVIDENCE_CONFLICT",
        ),
        (
            {"COA": "No", "COA Edition": ""},
            "[4.0] Professional OEM:DM",
            "review",
            "EVIDENCE_CONFLICT",
        ),
        (
            {"COA": "Yes", "COA Edition": "Windows 10 Pro"},
            "[4.0] Professional OEM:DM",
            "eligible",
            None,
        ),
        ({"COA": "Yes", "COA Edition": ""}, "[4.0] Professional OEM:DM", "eligible", None),
        (
            {"COA": "", "COA Edition": ""},
            "[4.0] Professional Volume:GVLK",
            "blocked",
            "COA_MISSING",
        ),
    ],
)
def test_register_and_firmware_together(
    tmp_path: Path, register_cells: dict[str, str], firmware: str, status: str, code: str | None
) -> None:
    register = tmp_path / "r.csv"
    register.write_text(
        "Serial Number,Hostname,COA,COA Edition\n"
        f"5CG1,PC-1,{register_cells['COA']},{register_cells['COA Edition']}\n"
    )
    collection = tmp_path / "c.csv"
    collection.write_text(
        f"ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\nPC-1,5cg1,{firmware}\n"
    )
    doc = run_cli(
        "check", register, "--evidence", collection, "--format", "json", "--fail-on", "never"
    ).json()
    device = doc["devices"][0]
    assert device["status"] == status
    if code:
        finding = next(f for f in device["findings"] if f["code"] == code)
        if code == "EVIDENCE_CONFLICT":
            assert "firmware key collected" in finding["message"]


def test_evidence_from_a_folder_of_per_pc_files_and_the_fixture(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "PC-0001.csv").write_bytes(FIXTURE.read_bytes())
    register = tmp_path / "r.csv"
    register.write_text(
        "Serial Number,Hostname\n5CG3041ABC,PC-0001\nPF3XYZ12,LAPTOP-Z9Y8X7\nX-9,PC-9\n"
    )
    doc = run_cli(
        "check", register, "--evidence", folder, "--format", "json", "--fail-on", "never"
    ).json()
    # Pro; CoreSingleLanguage (Home); not collected
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked", "blocked"]
    assert doc["collection"]["not_collected"] == [4]
    assert doc["collection"]["files"][0]["rows"] == 3


def test_collected_columns_are_read_only_and_never_exported(tmp_path: Path) -> None:
    register = tmp_path / "r.csv"
    register.write_text("Serial Number,Hostname\n5CG1,PC-1\n")
    collection = tmp_path / "c.csv"
    collection.write_text(
        f"ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\nPC-1,5CG1,{PRO}\n"
    )
    fixes = tmp_path / "f.csv"
    fixes.write_text("row,field,value\n2,Firmware key description (collected),[4.0] Core OEM:DM\n")
    res = run_cli(
        "export", register, "--evidence", collection, "--corrections", fixes, "--checklist", ""
    )
    assert res.code == 2 and "collected from the PCs" in res.stderr
    assert run_cli("export", register, "--evidence", collection, "--checklist", "").code == 0
    assert (tmp_path / "r.corrected.csv").read_bytes() == register.read_bytes()


def test_collect_script_is_written_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "collect.ps1"
    assert run_cli("collect-script", "--output", out).code == 0
    text = out.read_text(encoding="utf-8-sig")
    for needle in (
        "SoftwareLicensingService",
        "OA3xOriginalProductKeyDescription",
        "Win32_BIOS",
        "-IncludeKey",
        "Export-Csv",
        "-NoTypeInformation",
    ):
        assert needle in text
    assert "OA3xOriginalProductKey " in text and "if ($IncludeKey)" in text
    # the script's columns, in order, are the ones the benchmark and the tests write
    props = re.findall(r"^\s{4}(\w+)\s+=", text, re.M)
    assert tuple(props) == COLLECT_SCRIPT_HEADERS
    assert run_cli("collect-script", "--output", out).code == 2
    assert run_cli("collect-script").stdout.startswith("<#")


async def test_the_unmatched_lists_are_a_filter_away(tmp_path: Path) -> None:
    from coa_audit.tui.app import CoaAuditApp

    register, collection, _expected, not_collected, unregistered = _fleet(tmp_path)
    app = CoaAuditApp(register, evidence=[collection])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.main
        grid = screen.grid
        while grid.filter != "not-collected":
            await pilot.press("f")
        inv = app.session.inventory
        shown = {inv.field(r, "serial_number") for r in grid.view}
        assert shown == not_collected
        await pilot.press("f")
        assert grid.filter == "not-in-register"
        await pilot.pause()
        from coa_audit.tui.screens import DetailScreen

        assert isinstance(app.screen, DetailScreen)
        text = str(app.screen.query_one("#detail-text").render())
        assert all(s in text for s in unregistered)


def test_blank_and_shared_serials_fall_back_or_are_ambiguous(tmp_path: Path) -> None:
    register = tmp_path / "r.csv"
    register.write_text("Serial Number,Hostname\n,PC-A\n,PC-B\nDUP-1,PC-C\nDUP-1,PC-D\nU-1,PC-E\n")
    collection = tmp_path / "c.csv"
    collection.write_text(
        "ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\n"
        f"pc-b.contoso.local,,{PRO}\n"  # no serial: found by host name
        f"PC-C,dup-1,{PRO}\n"  # a serial two register rows share: ambiguous, never guessed
        f"PC-E,u 1,{PRO}\n"  # another spacing and case
    )
    doc = run_cli("check", register, "--evidence", collection, "--format", "json", *NEVER).json()
    col = doc["collection"]
    assert col["matched"] == 2 and col["matched_by_hostname"] == 1
    assert len(col["ambiguous"]) == 1 and "dup-1" in col["ambiguous"][0]
    assert col["not_in_register"] == []
    assert [d["status"] for d in doc["devices"]] == [
        "blocked",
        "review",
        "blocked",
        "blocked",
        "eligible",
    ]


def test_serials_that_are_no_serial_and_pcs_that_share_one_are_never_guessed(
    tmp_path: Path,
) -> None:
    register = tmp_path / "r.csv"
    register.write_text(
        "Serial Number,Hostname\n"
        "Default string,WB-1\n"  # a firmware placeholder the policy lists
        "0000000,WB-2\n"  # one character repeated
        "SHARED-9,LAB-1\n"  # one device, but two PCs report this serial
        "AGAIN-1,DESK-1\n"  # one PC that ran the script twice: the later row wins
        "REG-1,RENAMED\n"  # its host name now belongs to a PC with another serial
    )
    collection = tmp_path / "c.csv"
    collection.write_text(
        "ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\n"
        f"WB-9,default string,{PRO}\n"  # the placeholder alone: no device
        f" wb-1.corp.example ,Default String,{PRO}\n"  # placeholder, found by host name
        f"WB-2,00000 00,{CORE}\n"  # repeated character: by host name
        f"LAB-1,shared-9,{PRO}\n"
        f"LAB-7,SHARED 9,{PRO}\n"
        f"DESK-1,again-1,{CORE}\n"
        f"desk-1,AGAIN-1,{PRO}\n"
        f"renamed,OTHER-1,{PRO}\n"
    )
    doc = run_cli("check", register, "--evidence", collection, "--format", "json", *NEVER).json()
    col = doc["collection"]
    status = {d["serial_number"]: d["status"] for d in doc["devices"]}
    # WB-1 by host name (Pro), WB-2 by host name (Core), AGAIN-1 by serial (Pro, later row)
    assert col["matched"] == 3 and col["matched_by_hostname"] == 2
    assert status == {
        "Default string": "review",  # the serial itself is a placeholder: a review finding
        "0000000": "blocked",  # its firmware key is for Home (Core)
        "SHARED-9": "blocked",  # no evidence: the two PCs are listed, neither is taken
        "AGAIN-1": "eligible",
        "REG-1": "blocked",
    }
    text = "\n".join(col["ambiguous"])
    assert "'SHARED 9' was reported by 2 PCs ('LAB-1', 'LAB-7')" in text
    assert "hostname 'renamed' is register row 6, whose serial_number 'REG-1'" in text
    assert len(col["ambiguous"]) == 2
    assert [r["hostname"] for r in col["not_in_register"]] == ["WB-9"]
    assert sorted(col["not_collected"]) == [4, 6]


@given(st.lists(st.text(alphabet=" .\t\x00-aAbB1éß\u00a0", max_size=8), max_size=12))
def test_keys_at_c_speed_are_the_keys_of_each_value(values: list[str]) -> None:
    """The merge normalises a whole column at once (one join, one translation); it must give
    exactly what normalising each value alone gives (core.identity), NULs and spaces
    included."""
    from coa_audit.core.identity import host_identities, host_identity, identities, identity

    assert identities(values) == [identity(v) for v in values]
    assert host_identities(values) == [host_identity(v) for v in values]
