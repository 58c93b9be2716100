"""Fail closed (RULES §2-§7): a device is eligible only when its evidence is positively
recognised. Each rule is tried with several wordings, through `coa-audit check --format json`."""

from __future__ import annotations

from pathlib import Path

import pytest

from coa_audit.core.editions import parse_edition
from coa_audit.importers.headers import norm_header
from tests.conftest import codes_of, device, run_cli, write_csv


def _one(inventory, **changes: str) -> tuple[str, set[str], list[dict]]:
    report = inventory(device(1, **changes), device(2))
    d = report["devices"][0]
    assert report["devices"][1]["status"] == "eligible"  # the clean row beside it
    return d["status"], codes_of(report, 0), d["findings"]


@pytest.mark.parametrize(
    "cell", ["n/a", "pending", "damaged", "TBD", "unclear", "2024-05-01", "see notes", "?", "maybe"]
)
def test_unknown_evidence_words_are_review_and_quoted(inventory, cell: str) -> None:
    status, codes, findings = _one(inventory, COA_Present=cell)
    assert status == "review"
    assert "EVIDENCE_UNKNOWN" in codes
    msg = next(f["message"] for f in findings if f["code"] == "EVIDENCE_UNKNOWN")
    assert f"'{cell}'" in msg


@pytest.mark.parametrize(
    "cell",
    [
        "No",
        "missing",
        "removed",
        "not present",
        "no label",
        "sticker gone",
        "label removed",
        "nein",
        "non",
        "COA fehlt",
        "kein Aufkleber",
        "pas d'étiquette",
        "sin etiqueta",
        "✗",
    ],
)
def test_absent_evidence_words_block(inventory, cell: str) -> None:
    status, codes, _ = _one(inventory, COA_Present=cell, COA_Edition="", Product_Key="")
    assert status == "blocked" and codes == {"COA_MISSING"}


@pytest.mark.parametrize(
    "cell",
    [
        "Yes",
        "Y",
        "x",
        "TRUE",
        "ja",
        "oui",
        "sí",
        "COA",
        "GML",
        "OA3",
        "COA label",
        "sticker",
        "yes - GML",
        "✓",
        "Aufkleber vorhanden",
        "Retail",
    ],
)
def test_present_evidence_words_qualify(inventory, cell: str) -> None:
    status, codes, _ = _one(inventory, COA_Present=cell)
    assert (status, codes) == ("eligible", set())


@pytest.mark.parametrize(
    ("present", "edition"),
    [
        ("MAK", "Windows 11 Pro"),
        ("KMS", "Windows 11 Pro"),
        ("VL", "Windows 11 Pro"),
        ("Volume:GVLK", "Windows 11 Pro"),
        ("VOLUME_KMSCLIENT", "Windows 11 Pro"),
        ("Upgrade (Volume Licensing)", "Windows 11 Pro"),
        ("Yes", "Windows 10 Pro VL"),
        ("", "[4.0] Professional Volume:MAK"),
        ("", "[4.0] Professional Volume:GVLK"),
        ("Digital License", "Windows 11 Pro"),
        ("HWID", "Windows 11 Pro"),
        ("digital entitlement", "Windows 10 Pro"),
    ],
)
def test_volume_and_digital_licences_are_not_base_evidence(
    inventory, present: str, edition: str
) -> None:
    status, codes, _ = _one(inventory, COA_Present=present, COA_Edition=edition)
    assert status == "review" and "EVIDENCE_NOT_BASE" in codes


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("W269N-WFGWX-YVC9B-4J6C9-T83GX", "KEY_GENERIC"),  # Windows 10/11 Pro GVLK
        ("NPPR9-FWDCX-D2C8J-H872K-2YT43", "KEY_GENERIC"),  # Enterprise GVLK
        ("WX4NM-KYWYW-QJJR4-XV3QB-6VM33", "KEY_GENERIC"),  # Server 2022 Datacenter GVLK
        ("KBN8V-HFGQ4-MGXVD-347P6-PDQGT", "KEY_GENERIC"),  # IoT Enterprise LTSC GVLK
        ("YFKBB-PQJJV-G996G-VWGXY-2V3X8", "KEY_GENERIC"),  # Vista Business GVLK
        ("YTMG3-N6DKC-DKB77-7M9GH-8HVX7", "KEY_GENERIC"),  # Home generic install key
        ("BBBBB-BBBBB-BBBBB-BBBBB-BBBBB", "KEY_PLACEHOLDER"),
        ("XXXXX-XXXXX-XXXXX-XXXXX-3V66T", "KEY_PLACEHOLDER"),  # masked by the exporting tool
    ],
)
def test_a_key_that_proves_nothing_is_no_evidence(inventory, key: str, code: str) -> None:
    status, codes, findings = _one(inventory, COA_Present="", COA_Edition="", Product_Key=key)
    assert status == "blocked" and codes == {"COA_MISSING", code}
    if not key.startswith("XXXXX"):  # an already masked key reads the same masked
        assert key not in str(findings)  # keys are masked in messages


def test_a_good_key_alone_is_evidence_but_not_an_edition(inventory) -> None:
    status, codes, _ = _one(inventory, COA_Present="", COA_Edition="")
    assert status == "review" and codes == {"EDITION_UNKNOWN"}


@pytest.mark.parametrize(
    "edition",
    [
        "Pro",
        "Professional",
        "Project Professional 2021",
        "Photoshop Pro",
        "Office Professional Plus 2019",
        "HP ProDesk 400 G7",
        "Surface Pro 7",
        "Visio Pro",
    ],
)
def test_pro_without_a_windows_word_is_not_windows_pro(inventory, edition: str) -> None:
    status, codes, findings = _one(inventory, COA_Edition=edition)
    assert status == "review" and "EDITION_UNKNOWN" in codes
    assert any(f"'{edition}'" in f["message"] for f in findings)


@pytest.mark.parametrize(
    ("edition", "status"),
    [
        ("Windows 10 Professionnel", "eligible"),
        ("Windows 11 Profesional", "eligible"),
        ("Windows 10 Professionale", "eligible"),
        ("professionalN", "eligible"),
        ("[4.0] Professional OEM:DM", "eligible"),
        ("Win10Pro", "eligible"),
        ("Windows 10 Famille", "blocked"),
        ("Windows 11 Familia", "blocked"),
        ("Windows 7 Édition Familiale Premium", "blocked"),
        ("Windows 10 Éducation", "review"),
        ("Windows 11 Educación", "review"),
        ("Windows 7 Édition Intégrale", "eligible"),
    ],
)
def test_localised_edition_names(inventory, edition: str, status: str) -> None:
    got, _codes, _ = _one(inventory, COA_Edition=edition, Operating_System="")
    assert got == status


@pytest.mark.parametrize(
    "edition",
    [
        "ProfessionalSingleLanguage",
        "ProfessionalCountrySpecific",
        "[4.0] ProfessionalCountrySpecific OEM:DM",
        "Windows 10 Pro Single Language",
    ],
)
def test_oem_regional_pro_is_review_never_home(inventory, edition: str) -> None:
    status, codes, _ = _one(inventory, COA_Edition=edition, Operating_System="")
    assert status == "review" and "EDITION_REVIEW" in codes
    assert parse_edition(edition).edition == "pro-regional"


@pytest.mark.parametrize(
    ("image", "licensed", "covered"),
    [
        ("Windows 10 Enterprise LTSC 2021", "Windows 10 Enterprise LTSC 2019", False),
        ("Windows 11 Enterprise LTSC 2024", "Windows 10 Enterprise LTSC 2021", False),
        ("Windows 10 Enterprise LTSB 2016", "Windows 10 Enterprise LTSC 2019", True),
        ("Windows 10 Enterprise LTSC 2019", "Windows 10 Enterprise LTSC 2021", True),
        ("Windows 10 Enterprise 2015 LTSB", "Windows 10 Enterprise LTSB 2016", True),
    ],
)
def test_ltsc_releases_compare_by_year(inventory, image: str, licensed: str, covered: bool) -> None:
    _status, codes, _ = _one(inventory, Target_Image=image, Licensed_Product=licensed)
    assert ("IMAGE_NOT_COVERED" not in codes) is covered


@pytest.mark.parametrize(
    "text", ["EliteBook 840 G7", "HP ProDesk 400 G7", "ThinkPad T480s", "Latitude 7410 G8"]
)
def test_a_model_name_holds_no_windows_version(text: str) -> None:
    assert parse_edition(text).version is None
    assert parse_edition(text).edition == "unreadable"


@pytest.mark.parametrize(
    ("maker", "model", "serial"),
    [
        ("VMware, Inc.", "VMware7,1", "5CG0000111"),
        ("QEMU", "Standard PC (Q35 + ICH9, 2009)", "5CG0000112"),
        ("innotek GmbH", "VirtualBox", "5CG0000113"),
        ("Microsoft Corporation", "Virtual Machine", "5CG0000114"),
        ("Parallels Software International Inc.", "Parallels Virtual Platform", "5CG0000115"),
        ("Xen", "HVM domU", "5CG0000116"),
        ("HP", "EliteBook 840 G9", "VMware-56 4d 9a 1b 2c 3d 4e 5f-60 71 82 93 a4 b5 c6 d7"),
    ],
)
def test_virtual_machines_are_review(inventory, maker: str, model: str, serial: str) -> None:
    status, codes, _ = _one(inventory, Manufacturer=maker, Model=model, Serial_Number=serial)
    assert status == "review" and "DEVICE_OUT_OF_SCOPE" in codes


@pytest.mark.parametrize(
    "serial",
    [
        "Not Available",
        "Chassis Serial Number",
        "Type2 - Board Serial Number",
        "00000000",
        "XXXXXXXX",
        "Serial Number",
        "00330-80000-00000-AA123",
        "Default string",
        "1111111",
    ],
)
def test_placeholder_serials(inventory, serial: str) -> None:
    status, codes, _ = _one(inventory, Serial_Number=serial)
    assert status == "review" and "SERIAL_PLACEHOLDER" in codes


@pytest.mark.parametrize(
    "kind",
    [
        "Monitor",
        "Docking Station",
        "Headset",
        "Drucker",
        "Imprimante",
        "Mobile Phone",
        "Monitor 24in",
        "Docking Station WD19",
        "Monitors",
    ],
)
def test_rows_that_are_not_pcs_are_counted_apart(inventory, kind: str) -> None:
    report = inventory(
        device(1, Asset_Type=kind, COA_Present="", COA_Edition="", Product_Key=""), device(2)
    )
    assert report["devices"][0]["status"] == "out-of-scope"
    assert codes_of(report, 0) == {"NOT_A_PC"}
    s = report["summary"]
    assert (s["out_of_scope"], s["blocked"], s["eligible"]) == (1, 0, 1)


@pytest.mark.parametrize(
    "kind", ["Laptop", "Desktop", "Notebook", "Workstation", "", "Laptop with dock", "Tablet"]
)
def test_computers_stay_in_scope(inventory, kind: str) -> None:
    status, _codes, _ = _one(inventory, Asset_Type=kind)
    assert status == "eligible"


@pytest.mark.parametrize("os_text", ["Windows 10 Pro", "Microsoft Windows 11 Pro"])
def test_a_qualifying_installed_os_is_a_hint_on_a_blocked_device(inventory, os_text: str) -> None:
    status, _codes, findings = _one(
        inventory, COA_Present="", COA_Edition="", Product_Key="", Operating_System=os_text
    )
    assert status == "blocked"
    msg = next(f["message"] for f in findings if f["code"] == "COA_MISSING")
    assert f"'{os_text}'" in msg and "not evidence" in msg


@pytest.mark.parametrize("command", ["check", "export", "tui"])
def test_education_target_with_a_commercial_agreement_is_refused(
    tmp_path: Path, command: str
) -> None:
    path = write_csv(tmp_path / "inv.csv", [device(1)])
    res = run_cli(command, path, "--target", "windows-education")
    assert res.code == 2
    assert "academic" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    ok = run_cli("check", path, "--target", "windows-education", "--agreement", "academic")
    assert ok.code in (0, 1)


@pytest.mark.parametrize(
    ("header", "norm"),
    [
        ("Manufacturer0", "manufacturer"),
        ("SerialNumber0", "serial number"),
        ("OA3xOriginalProductKeyDescription", "oa3x original product key description"),
        ("PSComputerName", "ps computer name"),
        ("Numéro de série", "numero de serie"),
        ("Details_Table0_Netbios_Name0", "netbios name"),
        ("  Serial # ", "serial"),
    ],
)
def test_headers_are_normalised(header: str, norm: str) -> None:
    assert norm_header(header) == norm


def test_shared_placeholders_are_not_duplicates(inventory) -> None:
    """A placeholder key or a Windows product ID shared by many rows is its own finding on
    each row, never a duplicate (and never a group that every row must be compared with)."""
    rows = [
        device(
            i, Product_Key="BBBBB-BBBBB-BBBBB-BBBBB-BBBBB", Serial_Number="00330-80000-00000-AA123"
        )
        for i in range(1, 4)
    ]
    report = inventory(*rows, device(9))
    for i in range(3):
        codes = codes_of(report, i)
        assert "KEY_DUPLICATE" not in codes and "SERIAL_DUPLICATE" not in codes
        assert {"KEY_PLACEHOLDER", "SERIAL_PLACEHOLDER"} <= codes


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("not checked", "review"),
        ("not verified", "review"),
        ("no - yes", "review"),
        ("COA not present", "blocked"),
        ("Aufkleber nicht vorhanden", "blocked"),
        ("label not available", "blocked"),
        ("COA present", "eligible"),
        ("OA3 (BIOS)", "eligible"),
    ],
)
def test_a_negated_check_says_nothing_but_a_negated_presence_is_absent(
    inventory, cell: str, status: str
) -> None:
    changes = {"COA_Present": cell}
    if status == "blocked":
        changes.update(COA_Edition="", Product_Key="")
    got, _codes, _ = _one(inventory, **changes)
    assert got == status


def test_pro_with_media_center_is_pro_not_home(inventory) -> None:
    assert _one(inventory, COA_Edition="Windows 8.1 Pro with Media Center")[0] == "eligible"
    assert _one(inventory, COA_Edition="Windows XP Media Center Edition")[0] == "blocked"


@pytest.mark.parametrize(
    ("present", "edition"),
    [
        ("No - Windows 10 Pro", ""),  # the COA column names an edition, and says no
        ("", "no Windows 10 Pro label"),
        ("Yes", "Windows 10 Pro?"),
        ("Yes", "maybe Windows 11 Pro"),
        ("Yes", "Windows 10 Pro (to verify)"),
        ("", "Windows 11 Pro - not sure"),
        ("Yes", "vermutlich Windows 10 Pro"),
    ],
)
def test_a_negated_or_doubted_edition_is_never_read_as_qualifying(
    inventory, present: str, edition: str
) -> None:
    status, _codes, _ = _one(inventory, COA_Present=present, COA_Edition=edition)
    assert status != "eligible"


def test_a_negation_in_a_non_qualifying_caption_still_reads(inventory) -> None:
    status, codes, _ = _one(inventory, COA_Edition="Windows Server 2008 Enterprise without Hyper-V")
    assert status == "blocked" and "EDITION_NOT_QUALIFYING" in codes
