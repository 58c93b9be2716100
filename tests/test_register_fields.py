"""The register's own fields, through `coa-audit check --format json` (issue 32, 5b/6/9c):
the firmware (OA3) key description beside the label's edition (RULES §2), the asset's status
and soft-delete marker (RULES §6: gone assets are out of scope, never blocked), and the
placeholders an export writes for an empty cell (RULES §8)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from coa_audit.core.policy import load_policy
from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import codes_of, device, run_cli, write_csv

HEADERS = (
    *SAMPLE_HEADERS,
    "Asset Type",
    "OA3xOriginalProductKeyDescription",
    "Status",
    "deleted_at",
)
LIFECYCLE = load_policy().data["lifecycle"]


def _check(tmp_path: Path, *rows: dict[str, str], headers: tuple[str, ...] = HEADERS) -> Any:
    path = write_csv(tmp_path / "inv.csv", rows, headers)
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    return res.json()


def _finding(report: dict[str, Any], i: int, code: str) -> dict[str, Any]:
    return next(f for f in report["devices"][i]["findings"] if f["code"] == code)


def test_the_new_fields_map_on_sight(tmp_path: Path) -> None:
    report = _check(tmp_path, device(1))
    assert report["mapping"]["oa3_edition"] == "OA3xOriginalProductKeyDescription"
    assert report["mapping"]["asset_status"] == "Status"
    assert report["mapping"]["deleted_on"] == "deleted_at"
    assert "coa_edition" in report["mapping"]  # the label's column keeps its own field
    cols = run_cli("columns", tmp_path / "inv.csv").stdout
    assert "Firmware key description (register)" in cols or "oa3_edition" in cols


# -- label and firmware side by side ---------------------------------------------------------

PRO_LABELS = ["Windows 10 Pro", "Windows 11 Pro", "Win10 Pro", "W10P", "Windows 7 Professional"]
PRO_OA3 = ["[4.0] Professional OEM:DM", "[4.0] Professional OEM:DM ", "Professional OEM:DM"]
HOME_OA3 = [
    "[4.0] Core OEM:DM",
    "[4.0] CoreSingleLanguage OEM:DM",
    "[4.0] CoreCountrySpecific OEM:DM",
]


@pytest.mark.parametrize("label,oa3", list(itertools.product(PRO_LABELS, PRO_OA3)))
def test_label_and_firmware_that_agree_are_eligible(tmp_path: Path, label: str, oa3: str) -> None:
    row = device(1, COA_Edition=label)
    row["OA3xOriginalProductKeyDescription"] = oa3
    report = _check(tmp_path, row, device(2))
    assert report["devices"][0]["status"] == "eligible", report["devices"][0]["findings"]
    assert "LABEL_FIRMWARE_DIFFER" not in codes_of(report, 0)


@pytest.mark.parametrize(
    "label,oa3",
    [
        *itertools.product(PRO_LABELS[:3], HOME_OA3),
        ("Windows 10 Home", "[4.0] Professional OEM:DM"),
        ("Windows 10 Enterprise", "[4.0] Professional OEM:DM"),
        ("Windows 11 Pro", "[4.0] Enterprise OEM:DM"),
    ],
)
def test_label_and_firmware_that_differ_are_review_naming_both(
    tmp_path: Path, label: str, oa3: str
) -> None:
    row = device(1, COA_Edition=label)
    row["OA3xOriginalProductKeyDescription"] = oa3
    report = _check(tmp_path, row, device(2))
    d = report["devices"][0]
    assert d["status"] in ("review", "blocked")
    assert d["status"] != "eligible"
    message = _finding(report, 0, "LABEL_FIRMWARE_DIFFER")["message"]
    assert f"'{label}'" in message and f"'{oa3.strip()}'" in message
    assert report["devices"][1]["status"] == "eligible"


@pytest.mark.parametrize("oa3", [*PRO_OA3, "[4.0] Core OEM:DM"])
def test_the_registers_firmware_description_alone_is_evidence(tmp_path: Path, oa3: str) -> None:
    row = device(1, COA_Present="", COA_Edition="", Product_Key="")
    row["OA3xOriginalProductKeyDescription"] = oa3
    report = _check(tmp_path, row)
    d = report["devices"][0]
    expected = "blocked" if "Core" in oa3 else "eligible"
    assert d["status"] == expected, d["findings"]
    assert "COA_MISSING" not in codes_of(report, 0)
    assert d["edition"]["text"].strip() == oa3.strip()
    if expected == "blocked":
        assert "EDITION_NOT_QUALIFYING" in codes_of(report, 0)


@pytest.mark.parametrize(
    "oa3", ["[4.0] Blah OEM:DM", "Professional?", "not Professional", "see ticket 42"]
)
def test_an_unreadable_firmware_description_is_review_saying_so(tmp_path: Path, oa3: str) -> None:
    for label in ("Windows 10 Pro", ""):
        row = device(1, COA_Edition=label, COA_Present="" if not label else "Yes")
        if not label:
            row["Product Key"] = ""
        row["OA3xOriginalProductKeyDescription"] = oa3
        report = _check(tmp_path, row)
        d = report["devices"][0]
        assert d["status"] == "review", (label, d["findings"])
        message = _finding(report, 0, "OA3_EDITION_UNKNOWN")["message"]
        assert f"'{oa3}'" in message and "firmware key description" in message
        assert "COA_MISSING" not in codes_of(report, 0)


def test_an_unreadable_label_beside_a_readable_firmware_is_review(tmp_path: Path) -> None:
    row = device(1, COA_Edition="Windows 10 Pro (label damaged)")
    row["OA3xOriginalProductKeyDescription"] = "[4.0] Professional OEM:DM"
    report = _check(tmp_path, row)
    assert report["devices"][0]["status"] == "review"
    assert "'Windows 10 Pro (label damaged)'" in _finding(report, 0, "EDITION_UNKNOWN")["message"]


def test_a_coa_column_saying_no_beside_the_firmware_is_a_conflict(tmp_path: Path) -> None:
    row = device(1, COA_Present="No", COA_Edition="", Product_Key="")
    row["OA3xOriginalProductKeyDescription"] = "[4.0] Professional OEM:DM"
    report = _check(tmp_path, row)
    assert report["devices"][0]["status"] == "review"
    assert (
        "register's firmware key description" in _finding(report, 0, "EVIDENCE_CONFLICT")["message"]
    )


# -- gone assets -----------------------------------------------------------------------------


def _spellings(word: str) -> list[str]:
    return [word, word.upper(), word.title(), f"  {word} "]


GONE = [
    "Retired",
    "Disposed",
    "Scrapped",
    "Stolen",
    "Lost",
    "Lost/Stolen",
    "Broken - Not Fixable",
    "Decommissioned",
    "End of life",
    "Au rebut",
    "Volé",
    "Ausgemustert",
    "Verschrottet",
    "Dado de baja",
    "Robado",
    "Dismesso",
    "Rubato",
    "Afgeschreven",
    "Gestolen",
    "Złomowany",
    "Skradziony",
    "Descartado",
    "Roubado",
]
IN_USE = [
    "Active",
    "In use",
    "Deployed",
    "Ready to Deploy",
    "In stock",
    "Installed",
    "Pending",
    "Production",
    "Assigned",
    "Managed",
    "En service",
    "In Benutzung",
    "En uso",
    "In uso",
    "In gebruik",
    "W użyciu",
    "Em uso",
]


@pytest.mark.parametrize(
    "status", [s for g in GONE for s in _spellings(g)] + ["retirePending", "deletePending"]
)
def test_a_gone_status_is_out_of_scope_and_counted(tmp_path: Path, status: str) -> None:
    row = device(1)
    row["Status"] = status
    report = _check(tmp_path, row, device(2), device(3, COA_Edition="Windows 10 Home"))
    d = report["devices"][0]
    assert d["status"] == "out-of-scope", d["findings"]
    message = _finding(report, 0, "ASSET_GONE")["message"]
    assert f"'{' '.join(status.split())}'" in message and "gone" in message
    s = report["summary"]
    assert (s["out_of_scope"], s["eligible"], s["blocked"]) == (1, 1, 1)


def test_every_gone_word_of_the_policy_is_out_of_scope(tmp_path: Path) -> None:
    rows = []
    for i, word in enumerate(LIFECYCLE["gone"]):
        row = device(i + 1)
        row["Status"] = word
        rows.append(row)
    report = _check(tmp_path, *rows)
    assert all(d["status"] == "out-of-scope" for d in report["devices"])
    assert report["summary"]["out_of_scope"] == len(LIFECYCLE["gone"])


@pytest.mark.parametrize("status", [s for g in IN_USE for s in _spellings(g)] + ["", "NULL"])
def test_an_in_use_status_changes_nothing(tmp_path: Path, status: str) -> None:
    row = device(1)
    row["Status"] = status
    report = _check(tmp_path, row)
    assert report["devices"][0]["status"] == "eligible"
    assert report["devices"][0]["findings"] == []


def test_every_in_use_word_of_the_policy_changes_nothing(tmp_path: Path) -> None:
    rows = []
    for i, word in enumerate(LIFECYCLE["in_use"]):
        row = device(i + 1)
        row["Status"] = word
        rows.append(row)
    report = _check(tmp_path, *rows)
    assert [d["status"] for d in report["devices"]] == ["eligible"] * len(rows)


@pytest.mark.parametrize("status", ["Frobnicated", "7", "Retired?", "In use - maybe", "N/A"])
def test_an_unknown_status_is_review_saying_so(tmp_path: Path, status: str) -> None:
    row = device(1)
    row["Status"] = status
    blocked = device(2, COA_Edition="Windows 10 Home")
    blocked["Status"] = status
    report = _check(tmp_path, row, blocked)
    assert report["devices"][0]["status"] == "review"  # never eligible
    assert report["devices"][1]["status"] == "blocked"  # never silently dropped either
    message = _finding(report, 0, "STATUS_UNKNOWN")["message"]
    assert f"'{status}'" in message


@pytest.mark.parametrize(
    "mark,expected",
    [
        ("2023-04-01 10:22:31", "out-of-scope"),
        ("2023-04-01", "out-of-scope"),
        ("2024-03-05T10:22:31Z", "out-of-scope"),
        ("05/03/2024", "out-of-scope"),
        ("1", "out-of-scope"),
        ("true", "out-of-scope"),
        ("TRUE", "out-of-scope"),
        ("yes", "out-of-scope"),
        ("0", "eligible"),
        ("false", "eligible"),
        ("No", "eligible"),
        ("", "eligible"),
        ("NULL", "eligible"),
        ("(null)", "eligible"),
        ("\\N", "eligible"),
        ("0000-00-00 00:00:00", "eligible"),
        ("perhaps", "review"),
        ("2023-99", "review"),
    ],
)
def test_the_soft_delete_column(tmp_path: Path, mark: str, expected: str) -> None:
    row = device(1)
    row["deleted_at"] = mark
    report = _check(tmp_path, row)
    d = report["devices"][0]
    assert d["status"] == expected, d["findings"]
    if expected == "out-of-scope":
        assert f"'{mark}'" in _finding(report, 0, "ASSET_DELETED")["message"]
    if expected == "review":
        assert f"'{mark}'" in _finding(report, 0, "DELETED_UNKNOWN")["message"]


# -- placeholders an export writes ------------------------------------------------------------

PLACEHOLDERS = ["NULL", "(null)", "null", "<null>", "\\N", "#N/A"]


@pytest.mark.parametrize("empty", PLACEHOLDERS)
def test_export_placeholders_are_empty_cells(tmp_path: Path, empty: str) -> None:
    """A phpMyAdmin export writes NULL in every empty cell: read as blank, not as unknown
    evidence, a duplicate asset tag or a status."""
    rows = []
    for i in range(3):
        row = device(i + 1, COA_Present=empty, Target_Image=empty, Licensed_Product=empty)
        row.update(
            {
                "Asset Tag": empty,
                "Notes": empty,
                "Status": empty,
                "deleted_at": empty,
                "OA3xOriginalProductKeyDescription": empty,
                "Asset Type": empty,
                "Operating System": empty,
            }
        )
        rows.append(row)
    report = _check(tmp_path, *rows)
    for i in range(3):
        assert report["devices"][i]["status"] == "eligible", report["devices"][i]["findings"]
        assert codes_of(report, i) == set()


@pytest.mark.parametrize("empty", PLACEHOLDERS)
def test_an_export_placeholder_serial_is_still_flagged(tmp_path: Path, empty: str) -> None:
    report = _check(tmp_path, device(1, Serial_Number=empty), device(2, Serial_Number=empty))
    for i in range(2):
        codes = codes_of(report, i)
        assert codes & {"SERIAL_PLACEHOLDER", "SERIAL_MISSING"}, codes
        assert "SERIAL_DUPLICATE" not in codes


@pytest.mark.parametrize("empty", PLACEHOLDERS)
def test_no_evidence_but_placeholders_is_missing_not_unknown(tmp_path: Path, empty: str) -> None:
    row = device(1, COA_Present=empty, COA_Edition=empty, Product_Key=empty)
    row["OA3xOriginalProductKeyDescription"] = empty
    report = _check(tmp_path, row)
    assert report["devices"][0]["status"] == "blocked"
    assert codes_of(report, 0) == {"COA_MISSING"}
