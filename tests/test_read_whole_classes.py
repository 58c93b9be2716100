"""Fail closed, class by class (RULES §2-§7): each class of cell that names a qualifying
edition beside something that changes or doubts it is generated in many spellings, every
spelling a row of one register, and `coa-audit check --format json` must make none of them
eligible. Each class keeps rows beside it that must stay eligible (the spellings the class
must not catch), so a rule that refused everything would fail too.

The classes are those a review of the tool found failing open: a bracket at the start of a
cell taken for Windows' OA3 tag, an upgrade from a version whose edition is not named, a
second clause, a downgrade to an edition the licence does not cover, Embedded Pro of a
version that has none, an edition word beside another edition ("Pro LTSC", "7 HP Pro"), an
LTSC year without LTSC, a text cut short, a firmware description of a volume licence beside
a label, a firmware description collected from the PC that is not read, and an asset type
or installed OS that says the device is no desktop PC."""

from __future__ import annotations

import csv
from itertools import product
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLE_HEADERS, device, run_cli, write_csv

NEVER = ("--fail-on", "never")
OA3 = ("--map", "Notes=oa3_edition")  # the register's own firmware key description


def _statuses(inventory, field: str, cells: list[str], *args: str, **fixed: str) -> dict[str, str]:
    """The status of one device per cell (``field`` set to it), in one register."""
    rows = [device(n, **fixed, **{field: cell}) for n, cell in enumerate(cells, 1)]
    report = inventory(*rows, args=args)
    return {cell: d["status"] for cell, d in zip(cells, report["devices"], strict=True)}


def _check(
    inventory, field: str, refused: list[str], kept: list[str], *args: str, **fixed: str
) -> None:
    refused = list(dict.fromkeys(refused))
    got = _statuses(inventory, field, [*refused, *kept], *args, **fixed)
    wrong = [c for c in refused if got[c] == "eligible"]
    assert wrong == [], f"{len(wrong)} of {len(refused)} read as eligible: {wrong[:10]}"
    lost = [c for c in kept if got[c] != "eligible"]
    assert lost == [], f"no longer eligible: {lost}"


EDITIONS = ["Professional", "Pro", "Windows 10 Pro", "Windows 11 Professional"]


def test_a_bracket_before_an_edition_is_read_unless_it_is_the_oa3_tag(inventory) -> None:
    inside = ["damaged", "Home", "Win 10 Home", "faded", "illegible", "Core", "HP", "x", "?"]
    inside += ["label removed", "4", "4.0 beta", "Starter", "no COA", "TH Home", "RS5?"]
    refused = [f"[{w}] {e}" for w, e in product(inside, EDITIONS)]
    refused += [f" [{w}]  {e} OEM:DM" for w, e in product(inside, EDITIONS)]
    kept = ["[4.0] Professional OEM:DM", "[TH] Professional OEM:DM", "[6.3] Professional OEM:DM"]
    kept += ["[RS1] Professional OEM:DM", "[21H2] Professional OEM:DM"]
    _check(inventory, "COA_Edition", refused, kept)
    # the same bracket in the COA column, the edition column blank
    rows = [device(n, COA_Present=c, COA_Edition="") for n, c in enumerate(refused, 1)]
    report = inventory(*rows)
    assert "eligible" not in {d["status"] for d in report["devices"]}


def test_an_upgrade_names_the_edition_it_came_from(inventory) -> None:
    markers = ["upgraded from", "upgrade from", "(upgraded from", "- upgraded from"]
    old = ["Windows 7", "Windows 8", "Windows 8.1", "Win 8.1", "Windows 10"]
    tails = ["", " with Bing", " Single Language", " Connected", " N"]
    refused = [
        f"Windows {v} Pro {m} {o}{t}{')' if m.startswith('(') else ''}"
        for v, m, o, t in product(["10", "11"], markers, old, tails)
    ]
    kept = ["Windows 10 Pro (upgraded from Windows 7 Professional)"]
    kept += ["Windows 11 Pro upgraded from Windows 10 Pro"]
    _check(inventory, "COA_Edition", refused, kept)


def test_a_cell_holds_one_clause(inventory) -> None:
    firsts = ["(downgrade from Windows 11 Pro)", "downgrade to Windows 10 Pro", "dg Win 10 Pro"]
    seconds = ["upgraded", "downgraded", "(upgraded)", ", upgraded", "dg", "downgrade"]
    refused = [f"Windows 11 Pro {a} {b}" for a, b in product(firsts, seconds)]
    kept = ["Windows 10 Pro (downgrade from Windows 11 Pro)", "Win 11 Pro 64 DG Win 10 Pro"]
    _check(inventory, "COA_Edition", refused, kept)


def test_a_downgrade_is_to_an_edition_the_licence_covers(inventory) -> None:
    images = ["Windows 10 Home", "Windows 8.1 Core", "Windows 7 Home Premium", "Windows 10 S"]
    images += ["Windows 10 Home N", "Windows 10 Enterprise", "Windows 10 Education"]
    licences = ["Windows 11 Pro", "Windows 10 Pro", "Windows 8.1 Pro"]
    refused = [f"{lic} downgrade to {img}" for lic, img in product(licences, images)]
    refused += [f"{lic} dg {img}" for lic, img in product(licences, images)]
    refused += [f"{img} (downgrade from {lic})" for lic, img in product(licences, images)]
    kept = ["Windows 11 Pro downgrade to Windows 10 Pro", "Windows 7 Professional"]
    kept += ["Windows 10 Pro (downgrade from Windows 11 Pro)"]
    _check(inventory, "COA_Edition", refused, kept)


def test_embedded_pro_is_only_the_8_and_8_1_licence(inventory) -> None:
    names = ["Pro", "Professional"]
    kinds = ["Embedded Standard 7", "XP Embedded", "Embedded 2009", "Embedded 7", "Embedded"]
    kinds += ["Embedded 10", "Embedded Standard", "Embedded POSReady 7"]
    refused = [f"Windows {k} {n}" for k, n in product(kinds, names)]
    kept = ["Windows Embedded 8.1 Industry Pro", "Windows Embedded 8 Pro"]
    kept += ["Windows Embedded 8.1 Pro"]
    _check(inventory, "COA_Edition", refused, kept)


def test_an_edition_word_beside_another_edition_is_not_read(inventory) -> None:
    words = ["HP", "HB", "Premium", "Basic", "Connected", "LTSC", "LTSB", "LTSC 2019"]
    bases = [("Windows 10", "Pro"), ("Windows 7", "Professional"), ("Windows 11", "Pro")]
    refused = [f"{v} {w} {e}" for w, (v, e) in product(words, bases)]
    refused += [f"{v} {e} {w}" for w, (v, e) in product(words, bases)]
    kept = ["Windows 7 Professional", "Windows 10 IoT Enterprise LTSC", "HP Inc Windows 11 Pro"]
    _check(inventory, "COA_Edition", refused, kept)


def test_an_ltsc_year_counts_only_beside_ltsc(inventory) -> None:
    years = ["2015", "2016", "2019", "2021", "2024"]
    refused = [f"Windows {y} Pro" for y in years] + [f"W{y} Pro" for y in years]
    refused += [f"Windows 10 Pro {y}" for y in years] + [f"Win {y} Professional" for y in years]
    kept = ["Windows 10 IoT Enterprise LTSC 2019", "Windows 11 IoT Enterprise LTSC 2024"]
    _check(inventory, "COA_Edition", refused, kept)


def test_a_text_cut_short_or_trailing_off_is_not_read(inventory) -> None:
    marks = [":(", "(", "[", "{", ")", "]", "...", "..", ":-(", "(label", "(OEM", "( ... )"]
    refused = [f"Windows 10 Pro {m}" for m in marks] + [f"Windows 11 Pro{m}" for m in marks]
    refused += ["Wind Pro", "WindPRO", "Wind10 Pro", "Windows 10 Pro )("]
    kept = ["Windows 10 Pro (OEM)", "Windows 10 Pro [64-bit]", "Windows 11 Pro (x64) {OEM}"]
    kept += ["Win10 Pro", "Windows 10 Pro 64-bit"]
    _check(inventory, "COA_Edition", refused, kept)


def test_a_firmware_description_of_a_volume_licence_beside_a_label_is_review(inventory) -> None:
    oa3 = ["[4.0] Professional Volume:MAK", "[4.0] Professional VOLUME_KMSCLIENT"]
    oa3 += ["[4.0] Professional Volume:GVLK", "Professional Volume:MAK", "[TH] Professional MAK"]
    oa3 += ["[4.0] Professional KMS", "[4.0] Professional digital licence"]
    kept = ["[4.0] Professional OEM:DM", "[TH] Professional OEM:DM"]
    _check(inventory, "Notes", oa3, kept, "--map", "Notes=oa3_edition")


def test_a_firmware_description_collected_from_the_pc_and_not_read_is_review(
    tmp_path: Path,
) -> None:
    said = ["[4.0] Core OEM:DM?", "[4.0] Core OEM:DM (Home)", "[4.0] Professional Volume:MAK"]
    said += ["[damaged] Professional OEM:DM", "[4.0] Professional OEM:DM maybe", "Frobnicate"]
    said += ["[4.0] Professional OEM:DM ...", "?", "tbd", "unknown", "n/a"]
    kept = ["[4.0] Professional OEM:DM"]
    cells = [*said, *kept]
    rows = [device(n) for n in range(1, len(cells) + 1)]
    register = write_csv(tmp_path / "register.csv", rows, SAMPLE_HEADERS)
    collection = tmp_path / "collected.csv"
    with collection.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["ComputerName", "SerialNumber", "OA3xOriginalProductKeyDescription"])
        for row, cell in zip(rows, cells, strict=True):
            w.writerow([row["Hostname"], row["Serial Number"], cell])
    res = run_cli("check", register, "--evidence", collection, "--format", "json", *NEVER)
    assert res.code == 0, res.stderr
    report: dict[str, Any] = res.json()
    got = {c: d for c, d in zip(cells, report["devices"], strict=True)}
    wrong = [c for c in said if got[c]["status"] == "eligible"]
    assert wrong == []
    for c in said:  # the finding quotes what the PC said
        messages = " ".join(f["message"] for f in got[c]["findings"])
        assert "collected from the PC" in messages and c.strip() in messages, messages
    assert got[kept[0]]["status"] == "eligible"


def test_an_asset_type_or_installed_os_that_is_no_desktop_pc_is_review(inventory) -> None:
    types = ["Virtual Machine", "VM", "Virtual Server", "Server", "Servers", "Cloud PC"]
    types += ["VDI", "AVD session host", "Terminal Server", "Serveur", "Servidor", "Mac"]
    types += ["MacBook", "iMac", "Chromebook", "Virtuelle Maschine", "Server (rack)"]
    kept = ["Laptop", "Desktop", "Notebook", "Workstation", "Thin client", "Tablet"]
    _check(inventory, "Asset_Type", types, kept)
    oses = ["Windows Server 2019 Standard", "Microsoft Windows Server 2022 Datacenter"]
    oses += ["Windows 11 Enterprise multi-session", "VMware ESXi 7.0", "macOS 14.2"]
    oses += ["Windows Server 2016", "Win 2019"]
    _check(inventory, "Operating_System", oses, ["Windows 10 Pro", "Windows 11 Enterprise"])


def test_consumer_editions_before_7_are_review_under_an_academic_agreement(inventory) -> None:
    old = ["Windows Vista Home Basic", "Windows Vista Home Premium", "Windows XP Home Edition"]
    old += ["Windows XP Starter", "Windows XP Media Center Edition", "Windows Vista Starter"]
    args = ("--target", "windows-education", "--agreement", "academic")
    kept = ["Windows 10 Home", "Windows 7 Home Premium"]
    # no OS or image beside the licence: the image of an Education upgrade is Education
    blank = {"Operating_System": "", "Target_Image": "", "Licensed_Product": ""}
    _check(inventory, "COA_Edition", old, kept, *args, **blank)


def test_the_iot_enterprise_ltsc_2021_kms_key_proves_nothing(inventory) -> None:
    report = inventory(
        device(
            1,
            COA_Present="",
            COA_Edition="Windows 10 IoT Enterprise LTSC 2021",
            Product_Key="QPM6N-7J2WJ-P88HH-P3YRH-YY74H",
        ),
        device(2),
    )
    first = report["devices"][0]
    assert first["status"] != "eligible"
    assert "KEY_GENERIC" in {f["code"] for f in first["findings"]}


def test_a_firmware_description_that_says_nothing_definite_is_not_blank(inventory) -> None:
    """The OA3 column is an evidence field: "?", "tbd", "unknown" there are not read (they
    were taken for an empty cell, as an edition column takes them); only a cell that holds
    no value, or what an export writes for none, is empty."""
    vague = ["?", "??", "tbd", "TBA", "unknown", "x", "n/a", "N/A", "-", "--", "not known"]
    _check(inventory, "Notes", vague, ["", "NULL", "[4.0] Professional OEM:DM"], *OA3)


def test_a_pkid_made_of_a_placeholder_number_is_no_evidence(inventory) -> None:
    digits = ["0000000000000", "1111111111111", "9999999999999", "1234567890123"]
    digits += ["3210987654321", "9876543210987", "2345678901234"]
    _check(inventory, "COA_Present", digits, ["3512608943617"])


def test_the_embedded_industry_kms_keys_prove_nothing(inventory) -> None:
    keys = ["NMMPB-38DD4-R2823-62W8D-VXKJB", "FNFKF-PWTVT-9RC8H-32HB2-JB34X"]
    keys += ["VHXM3-NR6FT-RY6RT-CK882-KW2CJ", "RYXVT-BNQG7-VD29F-DBMRY-HT73M"]
    keys += ["NKB3R-R2F8T-3XCDP-7Q2KW-XWYQ2"]
    keys += [k.lower().replace("-", "") for k in keys]
    _check(inventory, "Product_Key", keys, ["JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG"])


TURNED = ["COA missing", "Missing COA", "No COA", "No COA label", "COA Label Missing"]
TURNED += ["GML missing", "COA Missing (Y/N)", "COA removed", "COA absent", "COA damaged"]
TURNED += ["COA damaged (Y/N)", "COA unreadable", "COA illegible", "COA faded"]
TURNED += ["COA replaced", "COA invalid", "COA unknown", "COA issue", "COA problem"]
TURNED += ["Fake COA", "COA counterfeit", "Needs COA", "COA required", "COA (tbc)"]
TURNED += ["Ohne COA", "COA nicht vorhanden", "COA-Etikett fehlt", "COA manquant"]
TURNED += ["Etiquette COA absente", "Sin COA", "Falta COA", "COA mancante", "Geen COA"]
PLAIN = ["COA", "COA Present", "COA Present (Yes/No)", "COA (Y/N)", "COA vorhanden (ja/nein)"]
PLAIN += ["COA label", "COA checked", "COA Check", "GML label", "COA présent (oui/non)"]


def test_a_presence_header_that_turns_its_meaning_reads_no_cell(tmp_path: Path) -> None:
    """ "COA missing: Yes" is a missing label, and "Fake COA: Yes" no licence: under a header
    whose own words turn or doubt what a yes or no says, no cell is read as presence (each
    is review, and says why); a header with an answer legend ("(Yes/No)") is read."""
    for n, header in enumerate([*TURNED, *PLAIN]):
        src = tmp_path / f"h{n}.csv"
        src.write_text(
            f"Serial Number,{header},COA Edition\n"
            "SN1,Yes,Windows 10 Pro\nSN2,No,Windows 10 Pro\nSN3,ja,Windows 10 Pro\n"
            "SN4,unlicensed,Windows 10 Pro\n",
            encoding="utf-8",
        )
        res = run_cli("check", src, "--format", "json", *NEVER)
        assert res.code == 0, res.stderr
        doc = res.json()
        assert doc["mapping"].get("coa_present") == header, (header, doc["mapping"])
        statuses = [d["status"] for d in doc["devices"]]
        if header in TURNED:
            # a denial denies under any header (blocked); no other cell is read
            assert statuses == ["review"] * 3 + ["blocked"], (header, statuses)
            message = " ".join(f["message"] for f in doc["devices"][0]["findings"])
            assert "turns or doubts" in message, message
        else:
            assert statuses == ["eligible", "blocked", "eligible", "blocked"], (header, statuses)
