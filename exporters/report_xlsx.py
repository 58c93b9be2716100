"""The audit report workbook: Summary, Findings, Changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from coa_audit.core.audit import Audit
from coa_audit.core.codes import code_info
from coa_audit.core.history import Edit, MappingChange
from coa_audit.core.status import STATUSES
from coa_audit.exporters.atomic import atomic_writer
from coa_audit.exporters.changes import CHANGE_FIELDS, change_records
from coa_audit.exporters.xlsx_cells import Book

__all__ = ["write_audit_report"]


def _collection_sheets(wb: Book, audit: Audit) -> None:
    """The two lists no register gives: devices not seen in the collection, PCs that
    reported in but are missing from the register."""
    inv = audit.inv
    c = inv.collection
    ws = wb.sheet("Not collected")
    ws.append(["Row", "Asset tag", "Serial", "Hostname", "Status"], "bold")
    f = inv.field
    for r in c.not_collected:
        row = [inv.row_numbers[r], f(r, "asset_tag"), f(r, "serial_number"), f(r, "hostname")]
        ws.append([*row, str(audit.status(r))])
    ws = wb.sheet("Not in register")
    keys = ["file", "row", "hostname", "serial_number", "manufacturer", "model"]
    heads = ["File", "Row", "Hostname", "Serial", "Maker", "Model", "Firmware key description"]
    ws.append(heads, "bold")
    for rec in c.not_in_register:
        ws.append([*(rec[k] for k in keys), rec["firmware_key_description"]])
    ws = wb.sheet("Collection files")
    ws.append(["File", "SHA-256", "Rows"], "bold")
    for cf in c.files:
        ws.append([cf.path, cf.sha256, cf.rows])


def write_audit_report(
    audit: Audit,
    changes: Sequence[Edit],
    target: Path,
    generated: dt.datetime | None = None,
    mapping_changes: Sequence[MappingChange] = (),
    tick: Callable[[int, int], None] | None = None,
) -> Path:
    """``tick(done, total)`` is called as the rows are written (it may raise to stop)."""
    inv = audit.inv
    src = inv.source
    generated = generated or dt.datetime.now().astimezone()
    summary = audit.summary()
    with atomic_writer(target) as out:
        wb = Book(out)
        ws = wb.sheet("Summary", [28, 70])
        ws.append(["coa-audit report"], "bold")
        for key, value in (
            ("Source file", src.path),
            ("Source SHA-256", src.sha256),
            ("Sheet", src.sheet or ""),
            ("Header row", src.header_row),
            ("Policy", f"{audit.policy.name}: {audit.policy.provenance}"),
            ("Target", f"{audit.policy.target} - {audit.policy.target_label}"),
            ("Agreement", audit.policy.agreement),
            ("Generated", generated.isoformat(timespec="seconds")),
        ):
            ws.append([key, value])
        notices = inv.notices()
        if notices:  # what the file lacks or how it was read, said before the figures
            ws.blank()
            ws.append(["Notes from reading the file"], "bold")
            for notice in notices:
                ws.append(["", notice])
        ws.blank()
        ws.append(["Column mapping", "Source column", "How it was read"], "bold")
        for fname, col in inv.mapping.items():
            where = f"{inv.letter(col)}: " if not inv.is_derived(col) else "(not in the file) "
            ws.append([fname, f"{where}{inv.headers[col]}", inv.mapped_by(fname)])
        ws.blank()
        ws.append(["Status", "Devices"], "bold")
        ws.append(["devices", summary.devices])
        for status in STATUSES:
            ws.append([str(status), getattr(summary, status.replace("-", "_"))])
        ws.append(["of the eligible: accepted by a person (basis in the packet)", summary.attested])
        ws.append(["of the out-of-scope: taken out of the order", summary.removed])
        ws.blank()
        ws.append(["Finding code", "Count", "Severity", "Meaning"], "bold")
        for code, count in sorted(summary.findings.items()):
            info = code_info(code)
            ws.append([code, count, info.severity, info.title])
        ws.blank()
        ws.append(["Edits", len(changes)])

        headings = [
            "Row",
            "Column",
            "Asset tag",
            "Serial",
            "Status",
            "Code",
            "Severity",
            "Field",
            "Message",
            "Related rows",
        ]
        fs = wb.sheet("Findings", [8, 8, 14, 16, 10, 24, 10, 16, 90, 16])
        fs.freeze_header()
        fs.append(headings, "bold")
        n = len(inv)
        append = fs.append
        for r in range(n):
            if tick is not None and r % 5000 == 0:
                tick(r, n)
            if not audit.has_findings(r):
                continue
            number = inv.row_numbers[r]
            tag, serial = inv.field(r, "asset_tag"), inv.field(r, "serial_number")
            status = str(audit.status(r))
            for f in audit.findings(r):
                related = ", ".join(map(str, f.related_rows))
                row = [number, f.column, tag, serial, status, f.code, f.severity, f.field]
                append([*row, f.message, related])
        fs.autofilter(len(headings))

        cs = wb.sheet("Changes", [8, 36, 28, 30, 40, 20, 22, 16, 36, 12])
        cs.freeze_header()
        cs.append([heading for _key, heading in CHANGE_FIELDS], "bold")
        for record in change_records(audit, changes, mapping_changes):
            cs.append([record[key] for key, _heading in CHANGE_FIELDS])
        cs.autofilter(len(CHANGE_FIELDS))
        if inv.collection is not None:
            _collection_sheets(wb, audit)
        wb.close()
    return target
