"""Worklists for the technicians who fix what the audit found: the devices of the chosen
statuses (or the rows a filter shows), each with its findings and what to do, grouped by a
field such as location, so each team gets its own part in one print-ready workbook."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from coa_audit.core.audit import Audit
from coa_audit.core.errors import UsageError
from coa_audit.core.status import STATUSES
from coa_audit.exporters.atomic import atomic_writer

__all__ = ["WORKLIST_HEADERS", "group_field", "parse_statuses", "write_worklist"]

WORKLIST_HEADERS = (
    "Group",
    "Row",
    "Asset tag",
    "Serial",
    "Hostname",
    "Model",
    "Status",
    "Finding",
    "Column",
    "What was found",
    "What to do",
    "Done",
)


def parse_statuses(text: str) -> frozenset[str]:
    """ "blocked,review" -> the statuses; UsageError naming the unknown ones."""
    wanted = frozenset(w.strip().lower() for w in text.split(",") if w.strip())
    unknown = sorted(wanted - set(STATUSES))
    if unknown or not wanted:
        raise UsageError(
            f"--worklist {text!r}: choose statuses from {', '.join(STATUSES)}, comma-separated"
        )
    return wanted


def group_field(audit: Audit, by: str | None) -> str | None:
    """The field ``--by`` names (UsageError when no column is mapped to it)."""
    if not by:
        return None
    fname = by.strip().lower().replace(" ", "_")
    if fname not in audit.inv.mapping:
        mapped = ", ".join(sorted(audit.inv.mapping))
        raise UsageError(f"--by {by!r}: no column is mapped to it; mapped: {mapped}")
    return fname


def write_worklist(
    audit: Audit,
    target: Path,
    *,
    statuses: Iterable[str] | None = None,
    rows: Iterable[int] | None = None,
    by: str | None = None,
) -> int:
    """Write the worklist of ``rows`` (default: every row) whose status is in ``statuses``
    (default: any), one line per finding, grouped by the field ``by``. Returns the number
    of devices listed."""
    from coa_audit.exporters.xlsx_cells import Book

    inv = audit.inv
    field = group_field(audit, by)
    keep = frozenset(statuses) if statuses is not None else frozenset(STATUSES)
    chosen = [
        r
        for r in (range(len(inv)) if rows is None else rows)
        if audit.status(r) in keep and audit.has_findings(r)
    ]
    f = inv.field

    def group(r: int) -> str:
        return " ".join(f(r, field).split()) if field else ""

    chosen.sort(key=lambda r: (group(r) == "", group(r).casefold(), r))
    with atomic_writer(target) as out:
        wb = Book(out)
        ws = wb.sheet("Worklist", (16, 7, 14, 16, 14, 18, 10, 22, 7, 60, 60, 8))
        ws.for_print(title_row=0)
        ws.append(list(WORKLIST_HEADERS), "bold")
        for r in chosen:
            for finding in audit.findings(r):
                todo = _action(finding.code)  # the message is what was found, then this
                what = finding.message.removesuffix(todo).rstrip()
                ws.append(
                    [
                        group(r) or ("(blank)" if field else ""),
                        inv.row_numbers[r],
                        f(r, "asset_tag"),
                        f(r, "serial_number"),
                        f(r, "hostname"),
                        f(r, "model"),
                        str(audit.status(r)),
                        finding.code,
                        finding.column,
                        what,
                        todo,
                        "",
                    ]
                )
        ws.autofilter(len(WORKLIST_HEADERS))
        wb.close()
    return len(chosen)


def _action(code: str) -> str:
    from coa_audit.core.codes import code_info

    return code_info(code).action
