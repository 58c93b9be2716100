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
from coa_audit.exporters.xlsx_cells import BOLD, row_cells

__all__ = ["device_label", "field_name", "write_audit_report"]


def _when(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else ""


def _collection_sheets(wb, audit: Audit) -> None:  # wb: a write-only openpyxl Workbook
    """The two lists no register gives: devices not seen in the collection, PCs that
    reported in but are missing from the register."""
    inv = audit.inv
    c = inv.collection
    ws = wb.create_sheet("Not collected")
    ws.append(row_cells(ws, ["Row", "Asset tag", "Serial", "Hostname", "Status"], BOLD))
    for r in c.not_collected:
        f = inv.field
        ws.append(
            row_cells(
                ws,
                [
                    inv.row_numbers[r],
                    f(r, "asset_tag"),
                    f(r, "serial_number"),
                    f(r, "hostname"),
                    audit.status(r),
                ],
            )
        )
    ws = wb.create_sheet("Not in register")
    keys = ["file", "row", "hostname", "serial_number", "manufacturer", "model"]
    heads = ["File", "Row", "Hostname", "Serial", "Maker", "Model", "Firmware key description"]
    ws.append(row_cells(ws, heads, BOLD))
    for rec in c.not_in_register:
        ws.append(row_cells(ws, [*(rec[k] for k in keys), rec["firmware_key_description"]]))
    ws = wb.create_sheet("Collection files")
    ws.append(row_cells(ws, ["File", "SHA-256", "Rows"], BOLD))
    for cf in c.files:
        ws.append(row_cells(ws, [cf.path, cf.sha256, cf.rows]))


def device_label(audit: Audit, row: int) -> str:
    inv = audit.inv
    parts = [
        inv.field(row, "asset_tag"),
        inv.field(row, "serial_number"),
        inv.field(row, "hostname"),
    ]
    return " / ".join(p for p in parts if p.strip()) or f"row {inv.row_numbers[row]}"


def field_name(audit: Audit, col: int) -> str:
    inv = audit.inv
    name = inv.field_of(col)
    header = inv.headers[col]
    return f"{header} ({name})" if name else header


def write_audit_report(
    audit: Audit,
    changes: Sequence[Edit],
    target: Path,
    generated: dt.datetime | None = None,
    mapping_changes: Sequence[MappingChange] = (),
    tick: Callable[[int, int], None] | None = None,
) -> Path:
    """``tick(done, total)`` is called as the rows are written (it may raise to stop)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    inv = audit.inv
    src = inv.source
    generated = generated or dt.datetime.now().astimezone()
    summary = audit.summary()
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70
    ws.append(row_cells(ws, ["coa-audit report"], BOLD))
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
        ws.append(row_cells(ws, [key, value]))
    notices = inv.notices()
    if notices:  # what the file lacks or how it was read, said before the figures
        ws.append([])
        ws.append(row_cells(ws, ["Notes from reading the file"], BOLD))
        for n in notices:
            ws.append(row_cells(ws, ["", n]))
    ws.append([])
    ws.append(row_cells(ws, ["Column mapping", "Source column", "How it was read"], BOLD))
    for fname, col in inv.mapping.items():
        where = f"{inv.letter(col)}: " if not inv.is_derived(col) else "(not in the file) "
        ws.append(row_cells(ws, [fname, f"{where}{inv.headers[col]}", inv.mapped_by(fname)]))
    ws.append([])
    ws.append(row_cells(ws, ["Status", "Devices"], BOLD))
    ws.append(row_cells(ws, ["devices", summary.devices]))
    for status in STATUSES:
        ws.append(row_cells(ws, [status, getattr(summary, status.replace("-", "_"))]))
    ws.append(row_cells(ws, ["of the eligible: accepted after a physical check", summary.attested]))
    ws.append(row_cells(ws, ["of the out-of-scope: taken out of the order", summary.removed]))
    ws.append([])
    ws.append(row_cells(ws, ["Finding code", "Count", "Severity", "Meaning"], BOLD))
    for code, count in sorted(summary.findings.items()):
        info = code_info(code)
        ws.append(row_cells(ws, [code, count, info.severity, info.title]))
    ws.append([])
    ws.append(row_cells(ws, ["Edits", len(changes)]))

    fs = wb.create_sheet("Findings")
    headers = [
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
    widths = [8, 8, 14, 16, 10, 24, 10, 16, 90, 16]
    for i, w in enumerate(widths, 1):
        fs.column_dimensions[get_column_letter(i)].width = w
    fs.freeze_panes = "A2"
    fs.append(row_cells(fs, headers, BOLD))
    count = 0
    n = len(inv)
    for r in range(n):
        if tick is not None and r % 5000 == 0:
            tick(r, n)
        if not audit.has_findings(r):
            continue
        tag, serial, status = (
            inv.field(r, "asset_tag"),
            inv.field(r, "serial_number"),
            audit.status(r),
        )
        for f in audit.findings(r):
            fs.append(
                row_cells(
                    fs,
                    [
                        inv.row_numbers[r],
                        f.column,
                        tag,
                        serial,
                        status,
                        f.code,
                        f.severity,
                        f.field,
                        f.message,
                        ", ".join(map(str, f.related_rows)),
                    ],
                )
            )
            count += 1
    fs.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"

    cs = wb.create_sheet("Changes")
    headers = ["Row", "Device", "Field", "Old value", "New value", "Time", "Source"]
    for i, w in enumerate([8, 36, 28, 30, 30, 22, 12], 1):
        cs.column_dimensions[get_column_letter(i)].width = w
    cs.freeze_panes = "A2"
    cs.append(row_cells(cs, headers, BOLD))
    for e in changes:
        when = _when(e.time)
        cs.append(
            row_cells(
                cs,
                [
                    inv.row_numbers[e.row],
                    device_label(audit, e.row),
                    field_name(audit, e.col),
                    e.old,
                    e.new,
                    when,
                    e.origin,
                ],
            )
        )
    for m in mapping_changes:
        old, new = m.described()
        cs.append(
            row_cells(cs, ["", "(column mapping)", "mapping", old, new, _when(m.time), m.origin])
        )
    cs.auto_filter.ref = f"A1:G{len(changes) + len(mapping_changes) + 1}"
    if inv.collection is not None:
        _collection_sheets(wb, audit)

    with atomic_writer(target) as f:
        wb.save(f)
    return target
