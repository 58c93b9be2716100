"""Rebuild the shipped sample inventories, deterministically:

    .venv/bin/python sample_inventories/build_samples.py


Three realistic shapes, each a few hundred devices and each firing every finding code
(an Asset Type / Device Type / Category column marks the one non-PC row):
- oem-fleet.xlsx: an OEM's styled workbook, title banner above the header, a notes sheet;
- reseller-export.csv: a semicolon-delimited Windows-1252 export with CRLF line endings;
- intune-export.csv: an Intune device export (UTF-8 with BOM) with COA columns added.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from coa_audit.core.sample import SAMPLE_HEADERS, sample_rows

HERE = Path(__file__).resolve().parent

# One crafted row per finding code, in SAMPLE_HEADERS order; the clean template is first.
_CLEAN = [
    "AT-9000001",
    "5CG0000001",
    "PC-SHOW-01",
    "HP",
    "EliteBook 840 G9",
    "Windows 10 Pro",
    "Yes",
    "Windows 11 Pro",
    "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG",
    "Windows 11 Enterprise",
    "Windows 11 Enterprise",
    "London",
    "",
    "2023-03-01",
]


def _showcase() -> list[list[str]]:
    def row(i: int, **changes: str) -> list[str]:
        r = list(_CLEAN)
        r[0], r[1], r[2] = f"AT-90000{i:02d}", f"5CG00000{i:02d}", f"PC-SHOW-{i:02d}"
        r[8] = (
            r[8][:-2] + f"{'BCDFGHJKMPQRTVWXY2346789'[i % 24]}{'BCDFGHJKMPQRTVWXY2346789'[i // 24]}"
        )
        idx = {h: n for n, h in enumerate(SAMPLE_HEADERS)}
        for k, v in changes.items():
            r[idx[k.replace("_", " ")]] = v
        return r

    return [
        row(1),  # clean: eligible
        row(2, COA_Present="No", COA_Edition="", Product_Key="", Notes="label scraped off"),
        row(3, COA_Edition="Windows 10 Home", Operating_System="Windows 10 Home"),
        row(4, COA_Edition="", Operating_System="Windows 10 Pro"),
        row(5, COA_Edition="Microsoft Windows 10 Enterprise"),
        row(6, Product_Key="JB7TK-VCXJ4-8C3MW"),
        row(7, Product_Key="W269N-WFGWX-YVC9B-4J6C9-T83GX"),
        row(8, Product_Key="Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8"),
        row(9, Product_Key="Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8"),
        row(10, Serial_Number=""),
        row(11, Serial_Number="To be filled by O.E.M."),
        row(12, Serial_Number="5CG0000099"),
        row(13, Serial_Number="5CG0000099"),
        row(14, Asset_Tag="AT-9000077"),
        row(15, Asset_Tag="AT-9000077"),
        row(16, Target_Image="Windows 11 Enterprise", Licensed_Product="Windows 10 Enterprise"),
        row(17, Operating_System="Windows 11 Home"),
        row(18, COA_Present="No"),
        row(19, Manufacturer="Apple", Model="MacBook Pro 14", COA_Edition="macOS Ventura 13.4"),
        row(20, COA_Edition="Win7 HP", Notes="HP = Home Premium or the maker?"),
        row(21, COA_Edition="[4.0] Core OEM:DM", COA_Present="OA3"),
        row(22, COA_Edition="Microsoft Windows Server 2019 Standard"),
        row(23, COA_Edition="W10P", COA_Present="GML"),
        row(24, Serial_Number="4.02194E+11", Notes="serial mangled by a spreadsheet"),
        row(25, COA_Present="pending", Notes="label not checked yet"),
        row(26, COA_Present="MAK", Notes="volume key, not the OEM licence"),
        row(27, COA_Present="", COA_Edition="", Product_Key="BBBBB-BBBBB-BBBBB-BBBBB-BBBBB"),
        row(28, Model="P2422H", COA_Present="", COA_Edition="", Product_Key="", Notes="monitor"),
        row(29, COA_Present="Yes", COA_Edition="Windows 10 Professionnel"),
        row(30, COA_Present="étiquette absente", COA_Edition="", Product_Key=""),
    ]


def _asset_type(r: list[str]) -> str:
    """The Asset Type column: a monitor for the showcase's non-PC row, else the chassis."""
    model = r[SAMPLE_HEADERS.index("Model")]
    if model.startswith("P2422H"):
        return "Monitor"
    return "Desktop" if model.startswith(("OptiPlex", "Elite", "Z2", "ThinkCentre")) else "Laptop"


def _rows(n: int, seed: int) -> list[list[str]]:
    return _showcase() + list(sample_rows(n, seed))


def build_oem_xlsx(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Fleet"
    width = len(SAMPLE_HEADERS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"] = "Contoso Ltd - notebook and desktop fleet for Windows 11 Enterprise imaging"
    ws["A1"].font = Font(size=14, bold=True, color="FFFFFF")
    ws["A1"].fill = PatternFill("solid", fgColor="1F4E78")
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"] = "Prepared by the OEM configuration centre; one row per device."
    ws["A2"].font = Font(italic=True)
    ws.append([])
    ws.append([*SAMPLE_HEADERS, "Asset Type"])
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    rows = _rows(277, seed=11)
    serial_col = SAMPLE_HEADERS.index("Serial Number")
    for n, r in enumerate(rows):
        values: list[object] = [*r, _asset_type(r)]
        if n == 23:  # a serial typed as a number: stored numerically by the spreadsheet
            values[serial_col] = 4021937
        ws.append(values)
    ws.freeze_panes = "A5"
    for col, w in zip(
        "ABCDEFGHIJKLMNO", (12, 14, 13, 22, 24, 28, 8, 30, 32, 24, 24, 10, 26, 12, 12), strict=True
    ):
        ws.column_dimensions[col].width = w
    dv = DataValidation(type="list", formula1='"Yes,No,GML,OA3"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add(f"G5:G{4 + len(rows)}")
    ws["H4"].comment = Comment(
        "Edition printed on the COA / GML label, or the OA3 key description.", "OEM"
    )
    notes = wb.create_sheet("Notes")
    notes.append(["Topic", "Note"])
    notes.append(["Source", "Exported from the OEM configuration portal."])
    notes.append(["Status", "Rows marked No in the COA column had no label at intake."])
    wb.save(path)


def build_reseller_csv(path: Path) -> None:
    headers = [
        "Asset No",
        "S/N",
        "Computer Name",
        "Make",
        "Model",
        "OS",
        "COA",
        "Windows License",
        "Product Key",
        "Image",
        "VL Product",
        "Site",
        "Remarks",
        "Purchase Date",
        "Device Type",
    ]
    sites = {
        "London": "Zürich Büro",
        "Leeds": "München Süd",
        "Dublin": "Göteborg",
        "Berlin": "Köln",
        "Paris": "Sociéte Générale Défense",
        "Madrid": "A Coruña",
        "Oslo": "Tromsø",
        "Remote": "Homeoffice",
    }
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(headers)
    for r in _rows(237, seed=22):
        r = list(r)
        r[11] = sites.get(r[11], r[11])
        w.writerow([*r, _asset_type(r)])
    path.write_bytes(out.getvalue().encode("cp1252"))


def build_intune_csv(path: Path) -> None:
    headers = [
        "Device name",
        "Serial number",
        "Manufacturer",
        "Model",
        "OS",
        "OS version",
        "Primary user UPN",
        "Compliance",
        "Last check-in",
        "Asset tag",
        "COA",
        "OA3 edition",
        "Product key",
        "Target image",
        "Licensed product",
        "Category",
    ]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(headers)
    intune_names = {  # the OA3 key description Windows reports
        "Windows 10 Pro": "[4.0] Professional OEM:DM",
        "Windows 11 Pro": "[4.0] Professional OEM:DM",
        "Windows 10 Home": "[4.0] Core OEM:DM",
        "Windows 11 Home": "[4.0] Core OEM:DM",
    }
    for n, r in enumerate(_rows(257, seed=33)):
        edition = intune_names.get(r[7], r[7])
        if n % 17 == 0 and edition == "[4.0] Professional OEM:DM":
            edition = "professionalN"  # the edition ID, as Intune and the registry write it
        version = "10.0.22631.4460" if n % 3 else "10.0.19045.5131"
        w.writerow(
            [
                r[2],
                r[1],
                r[3],
                r[4],
                r[5],
                version,
                f"user{n:04d}@contoso.example",
                "Compliant" if n % 9 else "Noncompliant",
                "2026-11-20 08:14",
                r[0],
                r[6],
                edition,
                r[8],
                r[9],
                r[10],
                _asset_type(r),
            ]
        )
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


def main() -> None:
    build_oem_xlsx(HERE / "oem-fleet.xlsx")
    build_reseller_csv(HERE / "reseller-export.csv")
    build_intune_csv(HERE / "intune-export.csv")
    print("wrote oem-fleet.xlsx, reseller-export.csv, intune-export.csv")


if __name__ == "__main__":
    main()
