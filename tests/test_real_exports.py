"""Exports from the tools users have (RULES §8): every file loads without --map, and the
identity and evidence columns map to the right fields. The fixtures and where their layouts
come from are listed in tests/fixtures/exports/README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

EXPORTS = REPO / "tests" / "fixtures" / "exports"

# file -> {field: source header} that `coa-audit columns` must show (None: no such column)
EXPECTED: dict[str, dict[str, str | None]] = {
    "intune-devices.csv": {
        "hostname": "Device name",
        "serial_number": "Serial number",
        "manufacturer": "Manufacturer",
        "model": "Model",
        "current_os": "SkuFamily",  # edition words beat "Windows" and build numbers
        "coa_edition": None,
    },
    "configmgr-sql.csv": {
        "hostname": "Netbios_Name0",
        "serial_number": "SerialNumber0",
        "asset_tag": "SMBIOSAssetTag0",
        "current_os": "Caption0",  # not "Microsoft Windows NT Workstation 10.0"
        "coa_key": "OA3xOriginalProductKey0",
        "oa3_edition": "OA3xOriginalProductKeyDescription0",  # the firmware key description
    },
    "configmgr-ssrs.csv": {
        "hostname": "Details_Table0_Netbios_Name0",
        "serial_number": "Details_Table0_SerialNumber0",
        "current_os": "Details_Table0_Caption0",
    },
    "lansweeper-report.csv": {
        "hostname": "AssetName",
        "serial_number": "Serialnumber",
        "asset_type": "AssetTypename",
        "current_os": "Caption",  # "Microsoft Windows 11 Pro" beats "Win 11"
    },
    "snipeit-assets.csv": {
        "asset_tag": "Asset Tag",
        "hostname": "Asset Name",
        "serial_number": "Serial",
        "asset_type": "Category",
        "coa_key": "Windows Product Key",
        "coa_present": "COA Sticker",
    },
    "glpi-fr.csv": {
        "hostname": "Nom",
        "serial_number": "Numéro de série",
        "asset_tag": "Numéro d'inventaire",
        "manufacturer": "Fabricant",
        "model": "Modèle",
        "current_os": "Système d'exploitation - Nom",
        "coa_key": "Système d'exploitation - Numéro de série",  # license_number: the OS key
        "location": "Lieu",
    },
    "glpi-en.csv": {
        "hostname": "Name",
        "serial_number": "Serial number",
        "asset_tag": "Inventory number",
        "current_os": "Operating system - Name",
        "coa_key": "Operating system - Serial number",
    },
    "ocs-inventory.csv": {
        "hostname": "NAME",
        "serial_number": "SSN",
        "current_os": "OSNAME",
        "coa_key": "WINPRODKEY",
        "asset_tag": "ASSETTAG",
    },
    "pdq-inventory.csv": {
        "hostname": "Computer Name",
        "serial_number": "Serial Number",  # not "O/S Serial Number", a product ID
        "current_os": "O/S Name",
        "coa_key": None,
    },
    "powershell-cim.csv": {
        "hostname": "PSComputerName",
        "serial_number": "SerialNumber",
        "current_os": "Caption",
        "coa_key": "OA3xOriginalProductKey",
        "oa3_edition": "OA3xOriginalProductKeyDescription",
    },
    "wmic-csproduct.csv": {
        "hostname": "Node",
        "serial_number": "IdentifyingNumber",
        "manufacturer": "Vendor",
    },
    "wmic-oa3.csv": {
        "hostname": "Node",
        "coa_key": "OA3xOriginalProductKey",
        "oa3_edition": "OA3xOriginalProductKeyDescription",
    },
    "autopilot-hashes.csv": {"serial_number": "Device Serial Number", "coa_key": None},
    # what `coa-audit collect-script` writes through Windows PowerShell 5.1's Export-Csv
    "collect-script-ps51.csv": {
        "hostname": "ComputerName",
        "serial_number": "SerialNumber",
        "current_os": "OSCaption",
        "oa3_edition": "OA3xOriginalProductKeyDescription",
        "coa_key": "OA3xOriginalProductKey",
    },
    "dell-order.csv": {"serial_number": "Service Tag", "coa_present": "PKID"},
    "hp-order.csv": {"serial_number": "Serial Number", "current_os": "Operating System"},
    "lenovo-order.csv": {"serial_number": "Serial Number", "model": "Machine Type Model"},
    "register-de.csv": {
        "asset_tag": "Inventarnummer",
        "serial_number": "Seriennummer",
        "hostname": "Rechnername",
        "asset_type": "Gerätetyp",
        "current_os": "Betriebssystem",
        "coa_present": "COA vorhanden",
        "coa_edition": "Lizenz",
        "coa_key": "Produktschlüssel",
    },
    "register-fr.csv": {
        "asset_tag": "N° d'inventaire",
        "serial_number": "Numéro de série",
        "hostname": "Nom du poste",
        "current_os": "Système d'exploitation",
        "coa_present": "Étiquette COA",
        "coa_edition": "Licence Windows",
        "coa_key": "Clé de produit",
    },
    "register-mac.csv": {
        "serial_number": "Serial Number",
        "coa_present": "COA",
        "coa_edition": "COA Edition",
    },
    # service desks and RMM tools (issue 22; layouts and sources in the README)
    "servicenow-alm-hardware.csv": {  # a CSV export names columns by field name
        "hostname": "ci",  # not display_name: "P1000301 - Dell Inc. Latitude 5440"
        "serial_number": "serial_number",
        "asset_tag": "asset_tag",
        "asset_type": "model_category",
        "location": "location",
        "coa_edition": "u_coa_edition",  # a custom field the customer added
    },
    "servicenow-alm-hardware-xlsx-labels.csv": {  # an Excel export names them by label
        "hostname": "Configuration Item",
        "serial_number": "Serial number",
        "asset_tag": "Asset tag",
        "asset_type": "Model category",
        "location": "Location",
    },
    "servicenow-cmdb-ci-computer.csv": {
        "hostname": "name",
        "serial_number": "serial_number",
        "asset_tag": "asset_tag",
        "current_os": "os",
        "asset_type": None,
    },
    "freshservice.csv": {
        "hostname": "Display Name",
        "serial_number": "Serial Number",
        "asset_tag": "Asset Tag",
        "asset_type": "Asset Type",
        "location": "Location",
    },
    "manageengine-sdp-api.csv": {
        "hostname": "name",
        "serial_number": "serial_number",
        "asset_tag": "asset_tag",
        "manufacturer": "computer_system.system_manufacturer",
    },
    "atera-api.csv": {
        "hostname": "MachineName",
        "serial_number": "VendorSerialNumber",  # not WindowsSerialNumber, a product ID
        "current_os": "OS",
        "location": None,  # not "Office": "Microsoft 365 Apps for business"
        "coa_key": None,  # not OfficeSerialNumber
    },
    "ninjaone-api.csv": {
        "hostname": "netbiosName",  # not displayName, which users edit ("Alice laptop")
        "serial_number": "system.serialNumber",
        "asset_type": "nodeClass",
        "current_os": "os.name",
        "location": "locationName",
    },
    "kaseya-vsa-audit.csv": {
        "hostname": "Computer Name",  # not Machine ID (host.group.org)
        "serial_number": "System Serial Number",
        "model": "Product Name",
        "asset_type": "Chassis Type",
        "current_os": "OS Info",
    },
    "datto-rmm-api.csv": {
        "hostname": "hostname",
        "serial_number": "bios.serialNumber",
        "asset_type": "deviceType.category",
        "current_os": "operatingSystem",
    },
    "tanium-interact.csv": {
        "hostname": "Computer Name",
        "serial_number": "Computer Serial Number",
        "asset_type": "Chassis Type",
        "current_os": "Operating System",
    },
    "device42-api.csv": {
        "hostname": "name",
        "serial_number": "serial_no",
        "asset_tag": "asset_no",
        "model": "hw_model",
        "current_os": "os",
    },
    "spiceworks-inventory.csv": {
        "hostname": "Name",
        "serial_number": "Serial Number",
        "asset_tag": "Asset Tag",
        "asset_type": "Device Type",
        "coa_key": "Product Key",
    },
    "defender-endpoint.csv": {
        "hostname": "Device Name",
        "current_os": "OS Platform",  # "Windows11", not OS Version (23H2) or OS Build
        "asset_type": "Device Type",
        "serial_number": None,  # the export has none: said once, in a notice
    },
    "entra-id.csv": {
        "hostname": "displayName",
        "current_os": "operatingSystem",  # not operatingSystemVersion (10.0.22631.3447)
        "asset_type": None,  # not profileType (RegisteredDevice)
        "serial_number": None,
    },
    # compound English headers, and registers kept in five more languages
    "dell-order-service-tag.csv": {"serial_number": "Service Tag"},  # "Serial Number" empty
    "register-compound-en.csv": {
        "asset_tag": "Chassis Asset Tag",
        "serial_number": "Computer Serial Number",
        "manufacturer": "OEM Manufacturer",
        "asset_type": "Model category",
        "coa_edition": "Licence Edition (label/BIOS)",
        "coa_key": "OEM Product Key",
        "current_os": "Windows edition installed",
        "location": "Site",
    },
    "register-es.csv": {
        "asset_tag": "Nº de inventario",
        "serial_number": "Número de serie",
        "hostname": "Nombre del equipo",
        "asset_type": "Tipo de equipo",
        "current_os": "Sistema operativo",
        "coa_present": "Etiqueta COA",
        "coa_edition": "Edición de la licencia",
        "location": "Ubicación",
    },
    "register-it.csv": {
        "asset_tag": "N. inventario",
        "serial_number": "Numero di serie",
        "hostname": "Nome computer",
        "asset_type": "Tipologia",
        "current_os": "Sistema operativo",
        "coa_present": "Etichetta COA",
        "coa_edition": "Edizione licenza",
        "location": "Sede",
    },
    "register-nl.csv": {
        "asset_tag": "Inventarisnummer",
        "serial_number": "Serienummer",
        "hostname": "Computernaam",
        "asset_type": "Soort apparaat",
        "current_os": "Besturingssysteem",
        "coa_present": "COA sticker",
        "coa_edition": "Licentie editie",
        "location": "Locatie",
    },
    "register-pl.csv": {
        "asset_tag": "Nr inwentarzowy",
        "serial_number": "Numer seryjny",
        "hostname": "Nazwa komputera",
        "asset_type": "Rodzaj sprzętu",
        "current_os": "System operacyjny",
        "coa_present": "Naklejka COA",
        "coa_edition": "Edycja licencji",
        "location": "Lokalizacja",
    },
    "register-pt.csv": {
        "asset_tag": "Patrimônio",
        "serial_number": "Número de série",
        "hostname": "Nome do computador",
        "asset_type": "Tipo de equipamento",
        "current_os": "Sistema operacional",
        "coa_present": "Etiqueta COA",
        "coa_edition": "Edição da licença",
        "location": "Localização",
    },
    # values decide (issue 32; layouts and how sure in the README)
    "intune-device-state.csv": {
        "hostname": "Device name",  # not "Device state" (Active, Retired)
        "asset_status": "Device state",
        "serial_number": "Serial number",
        "current_os": "OS",  # not "OS version" (10.0.22631.4410)
    },
    "jira-assets-objects.csv": {
        "hostname": "Name",
        "serial_number": "Serial Number",
        "coa_key": None,  # "Key" holds object keys (ITAM-1042), not product keys
        "current_os": "Operating System",
        "asset_status": "Status",
    },
    "open-audit-devices.csv": {
        "hostname": "system.hostname",
        "serial_number": "system.serial",
        "asset_type": "system.type",  # computer, printer, switch: not form_factor
        "current_os": "system.os_name",  # edition names beat os_family "Windows 11"
        "manufacturer": "system.manufacturer",
    },
    "phpmyadmin-glpi-computers.csv": {
        "hostname": "name",
        "serial_number": "serial",
        "asset_tag": "otherserial",
        "notes": "comment",
    },
    "autopilot-devices.csv": {
        "serial_number": "serialNumber",
        "manufacturer": "manufacturer",
        "model": "model",
        "current_os": None,  # systemFamily ("Latitude") names no operating system
    },
    "register-nl-afdeling.csv": {
        "asset_tag": "Inventarisnummer",
        "serial_number": "Serienummer",
        "hostname": "Computernaam",
        "location": "Locatie",  # not "Afdeling", the department
        "coa_present": "COA sticker",
        "coa_edition": "Licentie editie",
    },
    "register-two-header-rows.csv": {  # group titles over labels, read as one
        "serial_number": "Device Serial",
        "hostname": "Device Name",
        "coa_present": "COA label Yes/No",
        "coa_edition": "COA label Edition printed",
        "current_os": "Windows Installed",
        "location": "Site",
    },
    # other languages (issue 32): tests/test_languages.py reads them to a verdict
    "itop-cs.csv": {
        "hostname": "Název",
        "serial_number": "Sériové číslo",
        "asset_tag": "Inventární číslo",
        "coa_present": "Štítek COA",
        "coa_edition": "Licence Windows",
    },
    "itop-ja.csv": {
        "hostname": "名前",
        "serial_number": "シリアル番号",
        "asset_tag": "資産番号",
        "coa_present": "COAラベル",
        "coa_edition": "ライセンス",
    },
    "register-cs.csv": {
        "asset_tag": "Inventární číslo",
        "serial_number": "Sériové číslo",
        "hostname": "Název počítače",
        "coa_present": "Štítek COA",
        "coa_edition": "Licence Windows",
    },
    "register-el.csv": {
        "asset_tag": "Αριθμός παγίου",
        "serial_number": "Σειριακός Αριθμός",
        "hostname": "Όνομα υπολογιστή",
        "coa_present": "Ετικέτα COA",
        "coa_edition": "Άδεια χρήσης",
    },
    "register-fi.csv": {
        "asset_tag": "Laitetunniste",
        "serial_number": "Sarjanumero",
        "hostname": "Tietokoneen nimi",
        "coa_present": "COA-tarra",
        "coa_edition": "Lisenssi",
    },
    "register-hu.csv": {
        "asset_tag": "Leltári szám",
        "serial_number": "Sorozatszám",
        "hostname": "Számítógépnév",
        "coa_present": "COA matrica",
        "coa_edition": "Licenc",
    },
    "register-ja.csv": {
        "asset_tag": "資産番号",
        "serial_number": "シリアル番号",
        "hostname": "コンピューター名",
        "coa_present": "COAラベル",
        "coa_edition": "ライセンス",
    },
    "register-ko.csv": {
        "asset_tag": "자산 번호",
        "serial_number": "일련번호",
        "hostname": "컴퓨터 이름",
        "coa_present": "COA 라벨",
        "coa_edition": "라이선스",
    },
    "register-ru.csv": {
        "asset_tag": "Инвентарный номер",
        "serial_number": "Серийный номер",
        "hostname": "Имя компьютера",
        "coa_present": "Наклейка COA",
        "coa_edition": "Лицензия Windows",
    },
    "register-sv.csv": {
        "asset_tag": "Tillgångstagg",
        "serial_number": "Serienummer",
        "hostname": "Datornamn",
        "coa_present": "COA-etikett",
        "coa_edition": "Licens",
    },
    "register-tr.csv": {
        "asset_tag": "Demirbaş Etiketi",
        "serial_number": "Seri Numarası",
        "hostname": "Bilgisayar Adı",
        "coa_present": "COA Etiketi",
        "coa_edition": "Lisans",
    },
    "register-zh.csv": {
        "asset_tag": "资产编号",
        "serial_number": "序列号",
        "hostname": "计算机名称",
        "coa_present": "COA标签",
        "coa_edition": "许可证",
    },
    "register-is.csv": {"coa_present": "COA"},  # Icelandic: outside the vocabulary
}


def _mapping(path: Path) -> dict[str, str]:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    return res.json()


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in EXPORTS.glob("*.csv")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_loads_and_maps_without_map(name: str) -> None:
    doc = _mapping(EXPORTS / name)
    columns = doc["mapping"]
    for field, header in EXPECTED[name].items():
        assert columns.get(field) == header, (field, columns)
    assert len(doc["devices"]) >= 1
    # `columns` shows the same mapping, one column a line
    res = run_cli("columns", EXPORTS / name)
    assert res.code == 0, res.stderr
    for field, header in EXPECTED[name].items():
        if header is not None:
            assert any(
                re.search(rf" {field}(  \(by .*\))?$", line) and header[:32] in line
                for line in res.stdout.splitlines()
            ), (field, header)


@pytest.mark.parametrize(
    ("name", "loud"),
    [
        ("intune-devices.csv", True),
        ("hp-order.csv", True),
        ("autopilot-hashes.csv", True),
        ("powershell-cim.csv", False),
        ("register-de.csv", False),
    ],
)
def test_missing_evidence_columns_are_said_loudly(name: str, loud: bool) -> None:
    text = run_cli("check", EXPORTS / name, "--fail-on", "never")
    doc = _mapping(EXPORTS / name)
    cols = run_cli("columns", EXPORTS / name)
    said = [
        "NO LICENCE EVIDENCE COLUMN" in text.stdout,
        any("NO LICENCE EVIDENCE COLUMN" in n for n in doc["source"]["notices"]),
        "NO LICENCE EVIDENCE COLUMN" in cols.stdout,
    ]
    assert said == [loud] * 3


def test_firmware_key_columns_are_evidence() -> None:
    doc = _mapping(EXPORTS / "powershell-cim.csv")
    by_serial = {d["serial_number"]: d for d in doc["devices"]}
    assert by_serial["5CG0PS0001"]["status"] == "eligible"  # [4.0] Professional OEM:DM
    assert by_serial["5CG0PS0001"]["edition"]["edition"] == "pro"
    assert "EDITION_NOT_QUALIFYING" in {f["code"] for f in by_serial["5CG0PS0002"]["findings"]}
    assert "COA_MISSING" in {f["code"] for f in by_serial["5CG0PS0003"]["findings"]}


def test_text_quirks_read_right() -> None:
    """wmic's UTF-16 with CR CR LF, PowerShell's #TYPE line, Mac Roman with CR-only ends."""
    wmic = _mapping(EXPORTS / "wmic-csproduct.csv")
    assert [d["serial_number"] for d in wmic["devices"]] == ["5CG0WM0001", "PF0WMIC02"]
    assert [d["row"] for d in wmic["devices"]] == [3, 4]  # the lines a text editor shows
    ps = _mapping(EXPORTS / "powershell-cim.csv")
    assert ps["source"]["header_row"] == 2
    mac = _mapping(EXPORTS / "register-mac.csv")
    assert [d["asset_tag"] for d in mac["devices"]] == ["MAC-001", "MAC-002"]
    assert [d["status"] for d in mac["devices"]] == ["eligible", "blocked"]
    assert any("Mac Roman" in n for n in mac["source"]["notices"])
    cols = run_cli("columns", EXPORTS / "register-mac.csv").stdout
    assert "encoding mac_roman" in cols


def test_registers_in_german_and_french() -> None:
    de = _mapping(EXPORTS / "register-de.csv")
    assert [d["status"] for d in de["devices"]] == ["eligible", "blocked", "out-of-scope"]
    fr = _mapping(EXPORTS / "register-fr.csv")
    assert [d["status"] for d in fr["devices"]] == ["eligible", "blocked", "blocked"]
    codes = [{f["code"] for f in d["findings"]} for d in fr["devices"]]
    assert "EDITION_NOT_QUALIFYING" in codes[1] and "COA_MISSING" in codes[2]
