"""Each edit as the reports carry it: one record, the same in the audit report's Changes
sheet and the JSON report, read from the edit's own fields (``core.events.Stamp``), never
from a sentence. A value of the key column is masked whole (``safety.shown_value``: a key
typed in any spelling, or short of a key, is still the key); every text is masked by shape
again where it is written (``exporters.safety``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from coa_audit.core.audit import Audit
from coa_audit.core.history import Edit, MappingChange
from coa_audit.exporters.safety import shown_value

__all__ = ["CHANGE_FIELDS", "change_records", "device_label", "field_name"]

# the record's keys, in the Changes sheet's column order, with each column's heading
CHANGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("row", "Row"),
    ("device", "Device"),
    ("field", "Field"),
    ("old", "Old value"),
    ("new", "New value"),
    ("by", "By"),
    ("when", "When"),
    ("how", "How"),
    ("why", "Why"),
    ("source", "Source"),  # how it reached this export: screen, corrections, walk, journal
)


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


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else ""


def change_records(
    audit: Audit, changes: Sequence[Edit], mapping_changes: Sequence[MappingChange] = ()
) -> Iterator[dict[str, object]]:
    """Every edit (and mapping change) as a record of CHANGE_FIELDS: who made it, when, how
    and why from its stamp (a restored edit keeps its own; "not recorded" for an edit made
    before edits had stamps), a walk cell's new value as its marks in words."""
    inv = audit.inv
    for e in changes:
        s = e.stamp
        fname = inv.field_of(e.col)
        new = "; ".join(m.described() for m in e.marks) if e.marks else e.new
        yield {
            "row": inv.row_numbers[e.row],
            "device": device_label(audit, e.row),
            "field": field_name(audit, e.col),
            "old": shown_value(fname, e.old),
            "new": shown_value(fname, new),
            "by": s.who if s is not None else "not recorded",
            "when": s.at if s is not None and s.at else iso(e.time),
            "how": s.how_words if s is not None else "not recorded",
            "why": s.why if s is not None else "",
            "source": e.origin,
        }
    for m in mapping_changes:
        old, new = m.described()
        yield {
            "row": "",
            "device": "(column mapping)",
            "field": "mapping",
            "old": old,
            "new": new,
            "by": "",
            "when": iso(m.time),
            "how": "",
            "why": "",
            "source": m.origin,
        }
