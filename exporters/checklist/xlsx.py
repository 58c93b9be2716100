"""The checklist as a print-ready workbook: the details, counts, statement, eligible devices
and signatures on the first sheet, each other table on a sheet of its own."""

from __future__ import annotations

from pathlib import Path

from coa_audit.exporters.atomic import atomic_writer
from coa_audit.exporters.checklist.model import (
    HEADER_FIELDS,
    STATEMENT,
    Checklist,
    packet_title,
    signature_blocks,
)

__all__ = ["write_xlsx"]


def write_xlsx(cl: Checklist, target: Path) -> Path:
    from coa_audit.exporters.xlsx_cells import Book

    header = (
        f"{cl.header.get('customer') or ''} - agreement {cl.header.get('agreement_number') or ''}"
    )
    wide = [8, 14, 16, 14, 20, 30, 24, 20]
    if "Target image" in cl.eligible_headers:
        wide.append(20)
    with atomic_writer(target) as out:
        wb = Book(out)
        ws = wb.sheet("Checklist", [*wide, 22, 24, 36])
        ws.append([packet_title(cl)], "title")
        for key, label in HEADER_FIELDS:
            ws.pair(label, cl.header[key] or "")
        for w in cl.warnings:
            ws.append([w], "warning")
        c = cl.counts
        for label, value in (
            ("Devices audited", c["devices"]),
            ("Eligible", c["eligible"]),
            ("Of the eligible: accepted by a person", c["attested"]),
            ("Excluded", c["review"] + c["blocked"]),
            ("Not PCs (listed apart)", c["not_pc"]),
            ("Taken out of the order", c["removed"]),
        ):
            ws.pair(label, value)
        if cl.continues:
            ws.append([cl.continues])
        ws.append([STATEMENT])
        for label, text in cl.provenance:
            ws.pair(label, text)
        for source in cl.sources:
            ws.append([source])
        ws.blank()
        ws.for_print(title_row=ws.rows, header=header, a4=True)
        ws.append(list(cl.eligible_headers), "bold")
        for row in cl.eligible:
            ws.append([int(row[0]), *row[1:]])
        for title, items in cl.lists():
            ws.blank()
            ws.append([title], "bold")
            for item in items:
                ws.append([item])
        ws.blank()
        for title, fields in signature_blocks(cl):
            ws.append([title], "bold")
            for label, text in fields:
                ws.pair(f"{label}:", text)
            ws.blank()
        for _long, name, headers, rows in cl.tables():
            sheet = wb.sheet(name, [8, 16, 18, *([30] * (len(headers) - 3))])
            sheet.for_print(title_row=0, header=header, a4=True)
            sheet.append(list(headers), "bold")
            for row in rows:
                sheet.append([int(row[0]), *row[1:]])
        wb.close()
    return target
