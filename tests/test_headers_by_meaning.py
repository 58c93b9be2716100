"""Headers read by meaning in eight languages, values that decide between columns, and a
file that says once what it lacks (issue 22). Everything goes through `coa-audit check
--format json` and `coa-audit columns`; each rule is tried with several wordings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

EXPORTS = REPO / "tests" / "fixtures" / "exports"
KEY_1, KEY_2 = "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "W269N-WFGWX-YVC9B-4J6C9-T83GX"


def _csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([headers, *rows])
    return path


def _check(path: Path) -> dict:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    return res.json()


# -- the registers of five more languages: the verdicts, not only the mapping ---------------


_WORD = {"E": "eligible", "B": "blocked", "R": "review", "O": "out-of-scope"}


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        # eligible, eligible (a Windows 10 Pro label under a Windows 11 Pro OS), Home,
        # two devices that are not PCs (monitor, printer, dock, phone, tablet), and a PC
        # with its label (eligible) or without (blocked)
        ("register-es.csv", "E E B O O B"),
        ("register-it.csv", "E E B O O E"),
        ("register-nl.csv", "E E B O O E"),
        ("register-pl.csv", "E E B O O E"),
        ("register-pt.csv", "E E B O O B"),
        ("register-compound-en.csv", "E E B O E O"),
    ],
)
def test_registers_in_other_languages_are_read_to_a_verdict(name: str, statuses: str) -> None:
    doc = _check(EXPORTS / name)
    assert [d["status"] for d in doc["devices"]] == [_WORD[s] for s in statuses.split()]
    assert not any("NO " in n for n in doc["source"]["notices"])


# -- one field, many wordings -----------------------------------------------------------------

WORDINGS: dict[str, list[str]] = {
    "serial_number": [
        "Computer Serial Number",
        "VendorSerialNumber",
        "Serial No.",
        "S/N",
        "Device serial",
        "Seriennr.",
        "Serien-Nr.",
        "N° de série",
        "Nº de série",
        "Número de serie",
        "Numero di serie",
        "Numero seriale",
        "Serienummer",
        "Nr seryjny",
        "Numer seryjny",
        "Número de série",
        "BIOS Serial number",
        "Serial (from BIOS)",
        "Service Tag",
    ],
    "asset_tag": [
        "Chassis Asset Tag",
        "Asset No.",
        "Inventory #",
        "Inventarnummer",
        "Inventar-Nr.",
        "Numéro d'inventaire",
        "Número de inventario",
        "Placa del activo",
        "Numero di inventario",
        "Matricola inventario",
        "Inventarisnummer",
        "Numer inwentarzowy",
        "Nr inwentarzowy",
        "Patrimônio",
        "Etiqueta do Ativo",
    ],
    "hostname": [
        "Computer Name",
        "Host name",
        "Nome do computador",
        "Nazwa komputera",
        "Computernaam",
        "Nome host",
        "Nombre del equipo",
        "Nom d'hôte",
        "Rechnername",
        "NetBIOS Name",
    ],
    "coa_edition": [
        "Licence Edition (label/BIOS)",
        "OEM License Edition",
        "COA edition",
        "Lizenz-Edition",
        "Édition de la licence",
        "Edición de la licencia",
        "Edizione licenza",
        "Licentie editie",
        "Edycja licencji",
        "Edição da licença",
    ],
    "coa_key": [
        "OEM Product Key",
        "Windows product key",
        "Produktschlüssel",
        "Clé de produit",
        "Clave de producto",
        "Chiave prodotto",
        "Productsleutel",
        "Klucz produktu",
        "Chave do produto",
        "Windows S/N",
        "Windows Lizenz-Nr.",
    ],
    "coa_present": [
        "COA sticker",
        "Licence label",
        "Echtheitszertifikat",
        "Étiquette COA",
        "Etiqueta COA",
        "Etichetta COA",
        "COA-sticker",
        "Naklejka COA",
        "Certificado de autenticidade",
    ],
    "asset_type": [
        "Model category",
        "Device type",
        "Gerätetyp",
        "Type de matériel",
        "Tipo de equipo",
        "Tipologia",
        "Soort apparaat",
        "Rodzaj sprzętu",
        "Tipo de equipamento",
        "nodeClass",
    ],
    "current_os": [
        "Operating System",
        "OS Platform",
        "Betriebssystem",
        "Système d'exploitation",
        "Sistema operativo",
        "Besturingssysteem",
        "System operacyjny",
        "Sistema operacional",
        "Windows edition installed",
    ],
}
_SAMPLE = {
    "serial_number": "5CG1234567",
    "asset_tag": "AT-0001",
    "hostname": "PC-0001",
    "coa_edition": "Windows 11 Pro",
    "coa_key": "VK7JG-NPHTM-C97JM-9MPGT-3V66T",
    "coa_present": "Yes",
    "asset_type": "Laptop",
    "current_os": "Windows 11 Pro",
}


@pytest.mark.parametrize(("field", "header"), [(f, h) for f, hs in WORDINGS.items() for h in hs])
def test_a_header_is_read_by_its_meaning(tmp_path: Path, field: str, header: str) -> None:
    """The header beside a plain "Hostname" (or "Serial Number") column; two rows of values
    of its field's shape."""
    other = "Serial Number" if field == "hostname" else "Hostname"
    other_value = "5CG7654321" if field == "hostname" else "PC-0002"
    src = _csv(tmp_path / "f.csv", [other, header], [[other_value, _SAMPLE[field]]] * 2)
    assert _check(src)["mapping"].get(field) == header


REFUSED: dict[str, list[str]] = {
    # an OS serial, a product ID, a monitor's or a board's serial is no hardware serial
    "serial_number": [
        "OS Serial Number",
        "Windows Product ID",
        "Product ID",
        "Monitor serial",
        "Numer seryjny monitora",
        "Numéro de série du système d'exploitation",
        "BIOS Motherboard Serial",
        "Betriebssystem-Seriennummer",
        "Produktkennung",
        "Serial do sistema operacional",
    ],
    # the installed OS, a purchased volume licence or a licence count is no label's edition
    "coa_edition": [
        "Windows edition",
        "OS edition",
        "Installed edition",
        "Target edition",
        "Licence purchased",
        "Antivirus licence",
        "Office license",
        "Licence count",
        "Edición instalada",
        "Licencja docelowa",
        "Edition (installed)",
        "Licence (OS)",
        "Lizenz (installiert)",
        "Licencia instalada",
        "License state",
        "Licencja systemu operacyjnego",
        "Édition de Windows",
        "Edición de Windows",
        "Edizione di Windows",
        "Windows editie",
        "Edycja Windows",
        "Edição do Windows",
    ],
    "coa_key": [
        "BitLocker recovery key",
        "Product key description",
        "Key type",
        "Windows product ID",
        "Clé de récupération",
    ],
    "target_image": ["Bild", "Foto", "Zdjęcie"],  # a photo of the asset (Snipe-IT)
    # a name of something else: the customer's, a folder's, a printer's
    "hostname": [
        "Customer Name",
        "Folder name",
        "Printer name",
        "Nombre del cliente",
        "Nom du client",
        "User name",
        "Nazwa użytkownika",
    ],
}


@pytest.mark.parametrize(("field", "header"), [(f, h) for f, hs in REFUSED.items() for h in hs])
def test_a_qualifier_rules_a_field_out(tmp_path: Path, field: str, header: str) -> None:
    """Beside columns that leave ``field`` open (so nothing else takes it), with values
    that could be of the field's shape."""
    first = "Serial Number" if field == "hostname" else "Hostname"
    value = {"hostname": "ACME", "target_image": "Windows 11 Enterprise"}.get(field, "PC-1")
    src = _csv(
        tmp_path / "f.csv",
        [first, "Asset Tag", header],
        [["5CG1", "AT-1", value], ["5CG2", "AT-2", _SAMPLE.get(field, value)]],
    )
    assert _check(src)["mapping"].get(field) != header


# -- the values decide: one test per class of wrong pick --------------------------------------


def test_a_display_name_loses_to_the_column_of_host_names(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Display name", "Configuration item", "Serial number", "COA"],
        [
            ["P2000301 - Dell Inc. Latitude 5440", "NB-0301", "8XK2JW3", "Yes"],
            ["P2000302 - HP EliteBook 840 G9", "NB-0302", "5CG2481KQZ", "Yes"],
        ],
    )
    doc = _check(src)
    assert doc["mapping"]["hostname"] == "Configuration item"
    cols = run_cli("columns", src).stdout
    assert "(by meaning" in cols and "by values: its values look like host names" in cols


def test_an_office_column_of_software_is_no_location(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "Office", "COA", "City"],
        [
            ["8XK2JW3", "Microsoft 365 Apps for business", "Yes", "Leeds"],
            ["5CG2481KQZ", "Office Professional Plus 2019", "Yes", "York"],
        ],
    )
    assert _check(src)["mapping"]["location"] == "City"
    alone = _csv(
        tmp_path / "g.csv",
        ["Serial Number", "Office", "COA"],
        [["8XK2JW3", "Microsoft 365 Apps for business", "Yes"], ["5CG24", "Visio 2021", "No"]],
    )
    assert "location" not in _check(alone)["mapping"]
    # a real office keeps its column
    kept = _csv(
        tmp_path / "h.csv",
        ["Serial Number", "Office", "COA"],
        [["8XK2JW3", "Manchester Office", "Yes"], ["5CG24", "London HQ", "No"]],
    )
    assert _check(kept)["mapping"]["location"] == "Office"


def test_build_numbers_lose_to_os_names(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "OS Version", "OS Build", "OS Platform", "COA"],
        [
            ["8XK2JW3", "23H2", "22631", "Windows11", "Yes"],
            ["5CG2", "22H2", "19045", "Windows10", "No"],
        ],
    )
    assert _check(src)["mapping"]["current_os"] == "OS Platform"
    only = _csv(
        tmp_path / "g.csv",
        ["Serial Number", "OS Version", "COA"],
        [["8XK2JW3", "10.0.22631", "Yes"], ["5CG2", "10.0.19045.4291", "No"]],
    )
    assert "current_os" not in _check(only)["mapping"]  # a build is no OS name


def test_an_empty_column_never_wins_over_a_full_one(tmp_path: Path) -> None:
    doc = _check(EXPORTS / "dell-order-service-tag.csv")
    assert doc["mapping"]["serial_number"] == "Service Tag"
    assert all(d["serial_number"] for d in doc["devices"])
    cols = run_cli("columns", EXPORTS / "dell-order-service-tag.csv").stdout
    assert "(by values: 'Serial Number' is empty)" in cols


def test_a_licence_column_of_5x5_keys_is_the_key(tmp_path: Path) -> None:
    """OCS writes the Windows key under "Windows licence" in several languages."""
    for header in ("Windows licence", "Licencia Windows", "Licença do Windows"):
        src = _csv(
            tmp_path / "f.csv",
            ["Serial Number", header],
            [["8XK2JW3", KEY_1], ["5CG2", KEY_2]],
        )
        doc = _check(src)
        assert doc["mapping"].get("coa_key") == header
        assert "coa_edition" not in doc["mapping"]


def test_silent_headers_give_way_to_unmistakable_values(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "Info 1", "Info 2", "Info 3"],
        [
            ["8XK2JW3", "[4.0] Professional OEM:DM", KEY_1, "Windows 11 Pro"],
            ["5CG2481KQZ", "[4.0] Core OEM:DM", KEY_2, "Windows 11 Home"],
        ],
    )
    doc = _check(src)
    assert doc["mapping"]["oa3_edition"] == "Info 1"  # the firmware's, beside a label's
    assert doc["mapping"]["coa_key"] == "Info 2"
    # an edition name could be the OS or the licence: never taken as evidence by values
    assert "Info 3" not in doc["mapping"].values()
    cols = run_cli("columns", src).stdout
    assert "(by values: 2 of 2 values are OA3 key descriptions)" in cols
    assert "(by values: 2 of 2 values are 5x5 product keys)" in cols


def test_a_photo_column_is_no_target_image(tmp_path: Path) -> None:
    """Snipe-IT's "Image" is a photo of the asset; a reseller's "Image" is the target."""
    for header in ("Target OS", "Image", "Imagen"):
        src = _csv(
            tmp_path / "f.csv",
            ["Serial Number", "COA", header],
            [["8XK2JW3", "Yes", "https://assets.example.com/8XK.jpg"], ["5CG2", "No", "pc.png"]],
        )
        assert "target_image" not in _check(src)["mapping"], header
        src = _csv(
            tmp_path / "g.csv",
            ["Serial Number", "COA", header],
            [["8XK2JW3", "Yes", "Windows 11 Enterprise"], ["5CG2", "No", "Windows 11 Enterprise"]],
        )  # fmt: skip
        assert _check(src)["mapping"]["target_image"] == header


def test_a_header_with_a_lookalike_letter_is_read(tmp_path: Path) -> None:
    """Snipe-IT's French "Сatégorie" starts with a Cyrillic С."""
    src = _csv(
        tmp_path / "f.csv", ["Numéro de série", "\u0421atégorie"], [["8XK2JW3", "Portable"]] * 2
    )
    assert _check(src)["mapping"].get("asset_type") == "\u0421atégorie"


# -- say what is missing, once ----------------------------------------------------------------


def test_no_serial_column_is_one_notice_not_a_blank_per_row(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Hostname", "Asset Tag", "COA", "Chassis"],
        [["PC-1", "AT-1", "Yes", "5CG1111111"], ["PC-2", "AT-2", "Yes", "5CG1111112"]],
    )
    doc = _check(src)
    notices = [n for n in doc["source"]["notices"] if "NO SERIAL NUMBER COLUMN" in n]
    assert len(notices) == 1
    assert "'Chassis' (column D)" in notices[0]  # the best candidate, by its values
    for d in doc["devices"]:
        messages = [f["message"] for f in d["findings"] if f["code"] == "SERIAL_MISSING"]
        assert messages and all("No column of the file is mapped" in m for m in messages)
        assert not any("serial number is blank" in f["message"] for f in d["findings"])
    text = run_cli("check", src, "--fail-on", "never").stdout
    assert text.count("NO SERIAL NUMBER COLUMN") == 1
    # mapped, the notice goes and the rows read their serials
    mapped = run_cli("check", src, "--format", "json", "--map", "Chassis=serial_number")
    assert not any("NO SERIAL" in n for n in mapped.json()["source"]["notices"])


def test_no_evidence_column_names_the_best_candidates(tmp_path: Path) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "Hostname", "Lic. on case"],
        [["5CG1", "PC-1", "Windows 10 Pro"], ["5CG2", "PC-2", "Windows 11 Home"]],
    )
    doc = _check(src)
    notice = next(n for n in doc["source"]["notices"] if "NO LICENCE EVIDENCE" in n)
    assert "Best candidates: 'Lic. on case' (column C)" in notice
    assert all(d["status"] == "blocked" for d in doc["devices"])
    assert all(
        "No column of the file is mapped to licence evidence" in f["message"]
        for d in doc["devices"]
        for f in d["findings"]
        if f["code"] == "COA_MISSING"
    )


def test_columns_shows_a_file_with_no_header_row(tmp_path: Path) -> None:
    src = tmp_path / "spis.csv"
    src.write_text(
        "Spis sprzętu biurowego 2024\n\nKod;Nazwisko;Piętro;Uwagi\n"
        "A-1;Kowalski;2;ok\nA-2;Nowak;3;\n",
        encoding="utf-8",
    )
    # issue 32: a row of names above rows of values is the header, whatever its words; what
    # it leaves unmapped is said once
    res = run_cli("columns", src)
    assert res.code == 0, res.stderr
    assert "header row: 3   devices: 2" in res.stdout
    assert "HEADER ROW FOUND BY ITS LAYOUT" in res.stdout
    assert "'Kod' (column A), 'Nazwisko' (column B)" in res.stdout and "--map" in res.stdout
    check = run_cli("check", src, "--fail-on", "never")
    assert check.code == 0, check.stderr
    # with no row of names at all, the file is refused in one line that says so
    src.write_text("Spis sprzętu biurowego 2024\n\nA-1;Kowalski;2;ok\nA-2;Nowak;3;\n", "utf-8")
    res = run_cli("columns", src)
    assert res.code == 0 and "row 3:" in res.stdout and "Kowalski" in res.stdout
    check = run_cli("check", src)
    assert check.code == 3
    assert "no header row: row 3 ('A-1', 'Kowalski', '2', 'ok') holds values" in check.stderr
    assert "--map" in check.stderr and len(check.stderr.strip().splitlines()) == 1


# -- devices that are not PCs, in every language ------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "Monitor", "Bildschirm", "Écran", "Pantalla", "Schermo", "Beeldscherm", "Ekran",
        "Drucker", "Imprimante", "Impresora", "Stampante", "Drukarka", "Impressora",
        "Teléfono móvil", "Telefono cellulare", "Telefoon", "Telefon komórkowy", "Celular",
        "Dockingstation", "Station d'accueil", "Docking station", "Stacja dokująca",
        "Mobile Phone",
    ],
)  # fmt: skip
def test_a_type_that_is_no_pc_is_out_of_scope(tmp_path: Path, kind: str) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "Model category", "COA"],
        [["CN0GXYZ7", kind, ""], ["5CG1", "Computer", "Yes"]],
    )
    statuses = [d["status"] for d in _check(src)["devices"]]
    assert statuses[0] == "out-of-scope", kind


@pytest.mark.parametrize("os_name", ["iOS 17.4", "iPadOS 17", "Android 14", "IOS", "android"])
def test_a_phone_or_tablet_os_is_no_pc(tmp_path: Path, os_name: str) -> None:
    src = _csv(
        tmp_path / "f.csv",
        ["Device name", "Serial Number", "Operating System", "COA"],
        [["iPhone", "F2LXK9", os_name, ""], ["PC-1", "5CG1", "Windows 11 Pro", "Yes"]],
    )
    assert _check(src)["devices"][0]["status"] == "out-of-scope"


async def test_the_missing_serial_is_said_in_the_report_and_on_screen(tmp_path: Path) -> None:
    import openpyxl

    from coa_audit.tui.app import CoaAuditApp
    from tests.conftest import settle

    src = _csv(
        tmp_path / "f.csv",
        ["Hostname", "Asset Tag", "COA", "Chassis"],
        [["PC-1", "AT-1", "Yes", "5CG1111111"], ["PC-2", "AT-2", "Yes", "5CG1111112"]],
    )
    res = run_cli("export", src, "--checklist", "")
    assert res.code == 0, res.stderr
    ws = openpyxl.load_workbook(tmp_path / "f.audit.xlsx")["Summary"]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert sum("NO SERIAL NUMBER COLUMN FOUND" in c for c in cells) == 1
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        # the serial's notice, and (a COA column, no edition column) the edition's
        assert "2 notes" in str(app.main.query_one("#findings").border_title)
        await pilot.press("I")
        await pilot.pause()
        shown = str(app.screen.query_one("#detail-text").render())
        assert "NO SERIAL NUMBER COLUMN FOUND" in shown and "'Chassis' (column D)" in shown
        assert "NO COA EDITION COLUMN FOUND" in shown


@pytest.mark.parametrize(
    "header",
    ["Edition (installed)", "Lizenz (installiert)", "Licencia instalada", "Édition de Windows",
     "Windows licence installed", "Licence (OS)", "Edycja systemu"],
)  # fmt: skip
def test_the_installed_os_under_a_licence_word_never_makes_a_device_eligible(
    tmp_path: Path, header: str
) -> None:
    """Fail closed: a column that says it holds the installed OS is no evidence, however
    licence-like its words; every device stays blocked and the file says so loudly."""
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "Hostname", header],
        [["5CG1", "PC-1", "Windows 11 Pro"], ["5CG2", "PC-2", "Windows 10 Pro"]],
    )
    doc = _check(src)
    assert {d["status"] for d in doc["devices"]} == {"blocked"}
    assert any("NO LICENCE EVIDENCE" in n for n in doc["source"]["notices"])


@pytest.mark.parametrize("header", ["Office SN", "Visio key no.", "O365", "SQL Server CD"])
def test_keys_under_another_products_name_are_never_windows_evidence(
    tmp_path: Path, header: str
) -> None:
    """5x5 keys decide a column no header names, but not one that names another product:
    an Office key beside a Windows edition must not make a device eligible."""
    src = _csv(
        tmp_path / "f.csv",
        ["Serial Number", "OS", header],
        [["5CG1", "Windows 11 Pro", KEY_1], ["5CG2", "Windows 11 Pro", KEY_2]],
    )
    doc = _check(src)
    assert doc["mapping"].get("coa_key") != header
    assert {d["status"] for d in doc["devices"]} == {"blocked"}
