"""The report-writer comparison recorded in ARCHITECTURE.md, to run again.

    .venv/bin/pip install pyexcelerate rustpy-xlsxwriter   # not dependencies of coa-audit
    .venv/bin/python bench/writers.py bench/cache/fleet-worst-100000.xlsx

Each writer runs in a process of its own on the Findings rows of the file's audit (10 cells a
row) and is timed around the write alone; a writer that is not installed is skipped. Every
file written is read back with python-calamine and compared with the rows given. The last,
coa-audit, is the tool's own ``xlsx_cells.Book`` (XlsxWriter, plain rows written whole,
every text through the safety layer: the only one of them that masks keys).
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

HEADERS = ["Row", "Column", "Asset tag", "Serial", "Status", "Code", "Severity", "Field"]
HEADERS += ["Message", "Related rows"]
WRITERS = ("openpyxl", "xlsxwriter", "pyexcelerate", "rustpy", "coa-audit")


def findings_rows(path: str) -> list[list[Any]]:
    from coa_audit.core.audit import Audit
    from coa_audit.core.policy import load_policy
    from coa_audit.importers.load import load_inventory

    inv = load_inventory(path)
    audit = Audit(inv, load_policy(None))
    rows: list[list[Any]] = []
    for r in range(len(inv)):
        if not audit.has_findings(r):
            continue
        tag, serial = inv.field(r, "asset_tag"), inv.field(r, "serial_number")
        for f in audit.findings(r):
            related = ", ".join(map(str, f.related_rows))
            rows.append([inv.row_numbers[r], f.column, tag, serial, str(audit.status(r)),
                         f.code, f.severity, f.field, f.message, related])  # fmt: skip
    return rows


def write(which: str, rows: list[list[Any]], out: str) -> None:
    if which == "openpyxl":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Findings")
        ws.append(HEADERS)
        for r in rows:
            ws.append(r)
        wb.save(out)
    elif which == "xlsxwriter":
        import xlsxwriter

        options = {"constant_memory": True, "strings_to_formulas": False}
        book = xlsxwriter.Workbook(out, {**options, "strings_to_urls": False})
        sheet = book.add_worksheet("Findings")
        sheet.write_row(0, 0, HEADERS)
        for i, r in enumerate(rows, 1):
            sheet.write_row(i, 0, r)
        book.close()
    elif which == "pyexcelerate":
        from pyexcelerate import Workbook as Fast

        book = Fast()
        book.new_sheet("Findings", data=[HEADERS, *rows])
        book.save(out)
    elif which == "rustpy":
        import rustpy_xlsxwriter

        records = [dict(zip(HEADERS, r, strict=True)) for r in rows]
        rustpy_xlsxwriter.write_worksheet(records, out, sheet_name="Findings")
    elif which == "coa-audit":  # the tool's own Book: XlsxWriter, plain rows written whole
        from coa_audit.exporters.xlsx_cells import Book

        with open(out, "wb") as f:
            book = Book(f)
            sheet = book.sheet("Findings")
            sheet.append(HEADERS, "bold")
            for r in rows:
                sheet.append(r)
            book.close()


def one(which: str, path: str) -> None:
    rows = findings_rows(path)
    out = f"/tmp/coa-writers-{which}.xlsx"
    start = time.perf_counter()
    try:
        write(which, rows, out)
    except ImportError:
        print(f"{which}: not installed")
        return
    seconds = time.perf_counter() - start
    import python_calamine

    back = python_calamine.CalamineWorkbook.from_path(out).get_sheet_by_index(0).to_python()
    same = [[str(v) for v in r] for r in back[1:]] == [
        [str(float(v)) if isinstance(v, int) else str(v) for v in r] for r in rows
    ]
    print(f"{which}: {len(rows):,} rows in {seconds:.2f} s; read back the same: {same}")


def main() -> None:
    path = sys.argv[1]
    if len(sys.argv) > 2:
        one(sys.argv[2], path)
        return
    for which in WRITERS:
        subprocess.run([sys.executable, __file__, path, which], check=False)


if __name__ == "__main__":
    main()
