"""A cell counts only when all of it is understood (RULES §2-§7), through `check --format json`.

Each class of wording is tried in several forms and languages in one inventory: a device is
eligible only when every word of its evidence and edition cells is read, and a device whose
cell says more than the grammar knows is review, with the words not understood quoted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import codes_of, device

# Each device beside a clean one; the clean one must stay eligible (nothing leaks across rows).


def _check(inventory, cells: list[dict[str, str]]) -> list[dict[str, Any]]:
    rows = [device(i + 1, **{"Operating_System": "", **c}) for i, c in enumerate(cells)]
    report = inventory(*rows, device(len(cells) + 1))
    assert report["devices"][-1]["status"] == "eligible"
    return report["devices"][:-1]


def _not_eligible(devices: list[dict[str, Any]], cells: list[dict[str, str]]) -> None:
    wrong = [
        (c, d["status"]) for c, d in zip(cells, devices, strict=True) if d["status"] == "eligible"
    ]
    assert wrong == []


def _message(d: dict[str, Any], code: str) -> str:
    return next(f["message"] for f in d["findings"] if f["code"] == code)


DOUBTED_EVIDENCE = ["Yes?", "OK?", "ja?", "oui ?", "¿sí?", "tak?", "sim?", "COA?", "GML??", "x?"]


def test_a_question_mark_in_the_coa_cell_is_not_a_yes(inventory) -> None:
    cells = [{"COA_Present": c} for c in DOUBTED_EVIDENCE]
    devices = _check(inventory, cells)
    for cell, d in zip(DOUBTED_EVIDENCE, devices, strict=True):
        assert d["status"] == "review", cell
        assert "doubts or qualifies" in _message(d, "EVIDENCE_UNKNOWN"), cell


DOUBT_WORDS = [
    "yes maybe",
    "probably yes",
    "ja vielleicht",
    "oui peut-être",
    "sí, quizás",
    "sì forse",
    "ja misschien",
    "tak, chyba",
    "sim talvez",
    "COA to verify",
]


def test_words_of_doubt_in_eight_languages_are_not_evidence(inventory) -> None:
    cells = [{"COA_Present": c} for c in DOUBT_WORDS]
    devices = _check(inventory, cells)
    for cell, d in zip(DOUBT_WORDS, devices, strict=True):
        assert d["status"] == "review" and "EVIDENCE_UNKNOWN" in {f["code"] for f in d["findings"]}
        assert "not understood" in _message(d, "EVIDENCE_UNKNOWN") or "doubt" in _message(
            d, "EVIDENCE_UNKNOWN"
        ), cell


# A Pro edition with a note: the words not understood are quoted back (words the grammar
# does know, such as "label", are not), the device is review.
NOTES = {
    "Windows 10 Pro (label damaged)": "'damaged'",
    "Windows 11 Pro - pending verification": "'pending verification'",
    "Windows 10 Pro, sticker faded": "'sticker faded'",
    "Win 11 Pro (see notes)": "'see notes'",
    "Windows 10 Pro (etichetta rovinata)": "'etichetta rovinata'",
    "Windows 10 Pro - sticker beschadigd": "'sticker beschadigd'",
    "Windows 10 Pro (naklejka uszkodzona)": "'naklejka uszkodzona'",
    "Windows 11 Pro (etiqueta danificada)": "'etiqueta danificada'",
    "Windows 10 Pro (Etikett beschädigt)": "'Etikett beschädigt'",
    "Windows 11 Pro — étiquette illisible": "'étiquette illisible'",
    "Windows 10 Pro; pendiente de verificar": "verificar'",
    "per user: Windows 10 Pro": "'user'",
    "WINDOWS 10 PRO TO BE CONFIRMED": "'TO BE CONFIRMED'",
}


def test_a_pro_edition_with_a_note_is_review_and_the_note_is_quoted(inventory) -> None:
    cells = [{"COA_Edition": text} for text in NOTES]
    devices = _check(inventory, cells)
    for (text, words), d in zip(NOTES.items(), devices, strict=True):
        assert d["status"] == "review", text
        msg = _message(d, "EDITION_UNKNOWN")
        assert words in msg and "not understood" in msg, (text, msg)


DENIALS = [
    {"COA_Edition": "Windows 11 Pro (unlicensed)"},
    {"COA_Edition": "Windows 10 Pro - not genuine"},
    {"COA_Edition": "Windows 10 Pro activated with KMSpico"},
    {"COA_Edition": "Win10Pro-KMS38"},
    {"COA_Edition": "Windows 10 Pro (Raubkopie)"},
    {"COA_Edition": "Windows 10 Pro piraté"},
    {"COA_Edition": "Windows 10 Pro sin licencia"},
    {"COA_Edition": "Windows 10 Pro senza licenza"},
    {"COA_Edition": "Windows 10 Pro zonder licentie"},
    {"COA_Edition": "Windows 10 Pro bez licencji"},
    {"COA_Edition": "Windows 10 Pro sem licença"},
    {"COA_Present": "counterfeit COA"},
    {"COA_Present": "COA (fake)"},
    {"COA_Present": "yes (cracked)"},
    {"COA_Present": "KMS38"},
    {"COA_Present": "Non-Genuine"},
    {"COA_Present": "COA contraffatto"},
    {"COA_Present": "etiqueta falsa"},
]


def test_words_that_deny_the_licence_block_the_device(inventory) -> None:
    devices = _check(inventory, DENIALS)
    for cell, d in zip(DENIALS, devices, strict=True):
        assert d["status"] == "blocked", cell
        assert "deny the licence" in _message(d, "COA_MISSING"), cell


LEGACY = {
    "Windows 98 SE": "blocked",
    "Microsoft Windows 98 Second Edition": "blocked",
    "Windows 95": "blocked",
    "Windows ME": "blocked",
    "Windows NT 4.0 Workstation": "blocked",
    "Windows Vista Professional": "review",
    "Windows Vista Professionnel": "review",
    "Microsoft® Windows Vista™ Business": "review",
    "Windows 10 Pro Technical Preview": "blocked",
    "Windows 10 Pro Insider Preview": "blocked",
    "Windows 11 Pro (Release Preview)": "blocked",
    "Windows 11 Pro Beta": "blocked",
    "Windows 7 Professional RC": "blocked",
    "Windows 2000 Professional": "review",
}


def test_old_windows_and_previews_are_not_current_pro(inventory) -> None:
    cells = [{"COA_Edition": text} for text in LEGACY]
    devices = _check(inventory, cells)
    got = {text: d["status"] for text, d in zip(LEGACY, devices, strict=True)}
    assert got == LEGACY
    vista = devices[list(LEGACY).index("Windows Vista Professional")]
    assert "Vista Business" in _message(vista, "EDITION_REVIEW")
    se = devices[list(LEGACY).index("Windows 98 SE")]
    assert "11 SE" not in _message(se, "EDITION_NOT_QUALIFYING")


NOT_WINDOWS_PRO = [
    "HP ProBook 450 G8",
    "HP ProBook 450 G8 Windows 10 Pro",
    "ProDesk 600 G6 - Windows 11 Pro",
    "HP ThinPro",
    "ThinPro 8",
    "Surface Pro 7",
    "MacBook Pro",
    "iPad Pro",
    "Acronis True Image Professional 7",
    "Professional 7",
    "Pro 10",
    "10 Pro",
    "8",
    "Office Professional Plus 2019",
    "Project Professional 2021",
    "PRO x64",
]


def test_hardware_other_software_and_bare_numbers_are_not_windows_pro(inventory) -> None:
    cells = [{"COA_Edition": text} for text in NOT_WINDOWS_PRO]
    devices = _check(inventory, cells)
    for text, d in zip(NOT_WINDOWS_PRO, devices, strict=True):
        assert d["status"] == "review" and "EDITION_UNKNOWN" in codes_of({"devices": [d]}), text


def test_editions_that_do_not_go_together_or_two_versions_are_not_read(inventory) -> None:
    texts = [
        "Windows 10 Pro Enterprise",
        "Windows 10 Pro / Home",
        "Windows 10/11 Pro",
        "Win 7 Pro Ultimate",
    ]
    devices = _check(inventory, [{"COA_Edition": t} for t in texts])
    for text, d in zip(texts, devices, strict=True):
        assert d["status"] != "eligible", text
        assert "EDITION_UNKNOWN" in codes_of({"devices": [d]}), text


MIXED = [
    "OA3 (no sticker)",
    "GML label, no COA",
    "no sticker, OA3",
    "not missing",
    "no, not removed",
    "nicht fehlend",
    "pas manquant",
    "yes/no",
    "yes - no label",
    "COA removed, OA3 present",
]


def test_mixed_cells_and_double_negatives_are_review(inventory) -> None:
    devices = _check(inventory, [{"COA_Present": c} for c in MIXED])
    for cell, d in zip(MIXED, devices, strict=True):
        assert d["status"] == "review" and "EVIDENCE_UNKNOWN" in codes_of({"devices": [d]}), cell


ABSENT = [
    "brak",
    "brak naklejki",
    "nee",
    "geen sticker",
    "assente",
    "nessuna etichetta",
    "não",
    "sem etiqueta",
    "COA label missing",
    "no GML label",
]


def test_absent_words_in_every_language_block(inventory) -> None:
    cells = [{"COA_Present": c, "COA_Edition": "", "Product_Key": ""} for c in ABSENT]
    devices = _check(inventory, cells)
    for cell, d in zip(ABSENT, devices, strict=True):
        assert (d["status"], codes_of({"devices": [d]})) == ("blocked", {"COA_MISSING"}), cell


FRIENDLY = [
    {"COA_Edition": "Microsoft Windows 10 Pro 64-bit OEM"},
    {"COA_Edition": "Win 11 Pro x64 (downgrade to 10)"},
    {"COA_Edition": "Windows 10 Pro (downgrade from Windows 11 Pro)"},
    {"COA_Edition": "Windows 10 Pro (Windows 11 Pro downgrade)"},
    {"COA_Edition": "Win 11 Pro 64 DG Win 10 Pro"},
    {"COA_Edition": "Windows 10 Pro upgraded from Windows 7 Professional"},
    {"COA_Edition": "Microsoft Windows 7 Professional Service Pack 1 (Build 7601)"},
    {"COA_Edition": "Windows 11 Pro 23H2 (OS Build 22631.2861)"},
    {"COA_Edition": "Windows 11 Pro, English, French, Spanish"},
    {"COA_Edition": "WIN10PRO-OEM"},
    {"COA_Edition": "W10P"},
    {"COA_Edition": "windows10ProfessionalN"},
    {"COA_Edition": "Windows 10 Professionnel pour les stations de travail"},
    {"COA_Edition": "Windows 10 Pro für Workstations"},
    {"COA_Edition": "IoTEnterpriseS"},
    {"COA_Edition": "Microsoft Windows 10 Famille|C:\\WINDOWS|\\Device\\Harddisk1\\Partition3"},
    {"COA_Present": "Sì"},
    {"COA_Present": "tak"},
    {"COA_Present": "sim"},
    {"COA_Present": "ja, aanwezig"},
    {"COA_Present": "naklejka COA"},
    {"COA_Present": "etichetta COA presente"},
    {"COA_Present": "[4.0] Professional OEM:DM"},
    {"COA_Present": "GML label"},
]


def test_friendly_wordings_stay_eligible(inventory) -> None:
    devices = _check(inventory, FRIENDLY)
    got = {str(c): d["status"] for c, d in zip(FRIENDLY, devices, strict=True)}
    famille = str(FRIENDLY[15])
    assert got.pop(famille) == "blocked"  # Windows 10 Home (WMI's Name), read as Home
    assert set(got.values()) == {"eligible"}, got


def test_an_upgrade_from_another_edition_is_not_read_as_the_newer_one(inventory) -> None:
    texts = [
        "Windows 10 Pro upgraded from Windows 10 Home",
        "Windows 10 Home upgraded to Pro",
        "Windows 10 Pro (upgraded)",
        "Win 10 Pro - upgraded from",
    ]
    devices = _check(inventory, [{"COA_Edition": t} for t in texts])
    assert [d["status"] for d in devices] == ["review"] * 4
    assert all("upgraded from" in _message(d, "EDITION_UNKNOWN") for d in devices)


# RULES §5: keys are compared normalised; older generic keys; a placeholder alone is no key.
def test_one_key_written_twice_in_other_forms_is_a_duplicate(inventory) -> None:
    key = "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG"
    forms = [key, key.lower(), key.replace("-", " "), key.replace("-", ""), f" {key} "]
    devices = _check(inventory, [{"Product_Key": f} for f in forms])
    for form, d in zip(forms, devices, strict=True):
        assert "KEY_DUPLICATE" in codes_of({"devices": [d]}), form
        assert d["status"] == "blocked"
        related = next(f["related_rows"] for f in d["findings"] if f["code"] == "KEY_DUPLICATE")
        assert len(related) == len(forms) - 1


@pytest.mark.parametrize(
    "key",
    [
        "TX9XD-98N7V-6WMQ6-BX7FG-H8Q99",  # Windows 10 Home, on earlier versions of the page
        "3khy7 wnt83 dgqkr f7hpr 844bm",  # Home N, lower case with spaces
        "7HNRXD7KGG3K4RQ4WPJ4YTDFH",  # Home Single Language, written together
        "CPWHC-NT2C7-VYW78-DHDB2-PG3GK",  # Enterprise multi-session
        "w269n-wfgwx-yvc9b-4j6c9-t83gx",  # Pro GVLK in lower case
    ],
)
def test_generic_keys_in_any_form_prove_nothing(inventory, key: str) -> None:
    d = _check(inventory, [{"COA_Present": "", "COA_Edition": "", "Product_Key": key}])[0]
    assert d["status"] == "blocked"
    assert codes_of({"devices": [d]}) == {"COA_MISSING", "KEY_GENERIC"}


@pytest.mark.parametrize(
    "key",
    [
        "BBBBB-BBBBB-BBBBB-BBBBB-BBBBB",
        "BBBBB-3BBBB-BBBBB-BBBBB-BBBB2",  # a character 20 times, not at the start
        "3V66T-XXXXX-XXXXX-XXXXX-XXXXX",  # masked at the front
        "xxxxx-xxxxx-xxxxx-xxxxx-3v66t",
        "*****-*****-*****-*****-3V66T",
        "00000-00000-00000-00000-00000",
    ],
)
def test_a_placeholder_key_alone_is_no_evidence(inventory, key: str) -> None:
    d = _check(inventory, [{"COA_Present": "", "COA_Edition": "", "Product_Key": key}])[0]
    assert d["status"] == "blocked"
    assert codes_of({"devices": [d]}) == {"COA_MISSING", "KEY_PLACEHOLDER"}


# RULES §6: virtual machines by serial (with or without a separator), Apple by model, phones
# and tablets by OS, non-PC types in every language.
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Serial_Number": "VBOX1234ABCD"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Serial_Number": "VMware56 4d 9a 1b"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Serial_Number": "Parallels1234567"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Serial_Number": "vbox-1234abcd"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Manufacturer": "", "Model": "iMac20,1"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Manufacturer": "", "Model": "MacBookPro16,1"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Manufacturer": "", "Model": "Macmini9,1"}, "DEVICE_OUT_OF_SCOPE"),
        ({"Manufacturer": "", "Model": "MacBook Air (M2, 2022)"}, "DEVICE_OUT_OF_SCOPE"),
    ],
)
def test_virtual_machines_and_apple_hardware_are_review(inventory, changes, code) -> None:
    d = _check(inventory, [changes])[0]
    assert d["status"] == "review" and code in codes_of({"devices": [d]}), changes


@pytest.mark.parametrize(
    "changes",
    [
        {"Operating_System": "iOS 17.2"},
        {"Operating_System": "iPadOS 17.1.2"},
        {"Operating_System": "Android 14"},
        {"Operating_System": "Windows 10 Mobile"},
        {"Asset_Type": "Stampante"},
        {"Asset_Type": "Beeldscherm"},
        {"Asset_Type": "Drukarka"},
        {"Asset_Type": "Telemóvel"},
        {"Asset_Type": "Słuchawki"},
    ],
)
def test_phones_tablets_and_peripherals_are_out_of_scope(inventory, changes) -> None:
    cells = dict(changes)
    d = _check(inventory, [{**cells, "COA_Present": "", "COA_Edition": "", "Product_Key": ""}])[0]
    assert d["status"] == "out-of-scope" and codes_of({"devices": [d]}) == {"NOT_A_PC"}


def test_the_vm_serial_is_the_same_verdict_before_and_after_an_edit(tmp_path) -> None:
    """The loop over the file and the re-audit after an edit give one verdict."""
    from coa_audit.session.session import open_session
    from tests.conftest import write_csv

    path = write_csv(tmp_path / "vm.csv", [device(1, Serial_Number="VBOX1234ABCD"), device(2)])
    session = open_session(path)
    audit = session.audit
    assert audit.status(0) == "review"
    col = session.inventory.headers.index("Location")  # a cell no rule reads
    session.apply(0, col, "elsewhere")
    assert audit.status(0) == "review"
    assert "DEVICE_OUT_OF_SCOPE" in audit.codes(0)


def test_the_packet_says_what_is_missing_and_the_audit_workbook_quotes_the_words(tmp_path) -> None:
    """The excluded list the customer signs beside says in plain words what is missing and
    where (the column); the audit workbook, for the people fixing the data, quotes the
    words that were not understood."""
    import openpyxl

    from tests.conftest import run_cli, write_csv

    rows = [
        device(1, COA_Edition="Windows 10 Pro (label damaged)"),
        device(2, COA_Present="ja (beschädigt)"),
        device(3),
    ]
    src = write_csv(tmp_path / "notes.csv", rows)
    assert run_cli("export", src, "--checklist", "xlsx,md").code == 0
    md = (tmp_path / "notes.checklist.md").read_text(encoding="utf-8")
    excluded = {
        line.split(" | ")[2]: line.split(" | ")[4]
        for line in md.split("## Excluded devices")[1].split("\n## ")[0].splitlines()
        if line.startswith("| ") and "5CG" in line
    }
    assert excluded["5CG0000001"].startswith("Edition on the evidence is blank or unreadable in")
    assert "(COA Edition)" in excluded["5CG0000001"]
    assert excluded["5CG0000002"].startswith("Licence evidence not understood in column")
    assert "(COA Present)" in excluded["5CG0000002"]
    assert "not understood:" not in md and "damaged" not in md and "beschädigt" not in md
    book = openpyxl.load_workbook(tmp_path / "notes.audit.xlsx")
    messages = " ".join(str(c.value) for row in book["Findings"].iter_rows() for c in row)
    assert "'damaged' were not understood" in messages
    assert "'beschädigt' were not understood" in messages
