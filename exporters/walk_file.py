"""The walk through the fleet as a file of its own, written beside the other outputs.

A day's walk (devices present, labels confirmed, acceptances, devices taken out, scanned codes
that named no device) must outlive the export that printed it: it is written as a CSV a person
can read, and ``--walk FILE`` loads it back (``session.Session.load_walk``) to export again (a
corrected packet) or to hand the walk to a second technician. Each line names the device by
its identifiers and keeps the mark exactly as it was made (what, by whom, when).
"""

from __future__ import annotations

import csv
import io

from coa_audit.core.audit import Audit
from coa_audit.core.model import WALK_FILE_COLUMNS, WALK_MARKS

__all__ = ["walk_csv"]


def walk_csv(audit: Audit, scans: list[tuple[str, str, str]]) -> bytes | None:
    """The walk as CSV (UTF-8 with a BOM, for Excel), or None when nothing was walked."""
    inv = audit.inv
    cols = {word: inv.mapping[f] for word, f in WALK_MARKS.items() if f in inv.mapping}
    marked = sorted({r for (r, c), v in inv.edits.items() if c in cols.values() and v})
    if not marked and not scans:
        return None
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(WALK_FILE_COLUMNS)
    f = inv.field
    for r in marked:
        ids = [str(inv.row_numbers[r]), f(r, "serial_number"), f(r, "asset_tag"), f(r, "hostname")]
        for word, col in cols.items():
            value = inv.value(r, col)
            if value:
                w.writerow(["mark", *ids, word, _cell(value), ""])
    for code, outcome, by in scans:
        w.writerow(["scan", "", "", "", "", outcome, _cell(code), _cell(by)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(text: str) -> str:
    """A value a spreadsheet must show as text, never run: a leading = + - @ gets a tab-free
    apostrophe, which ``importers.walk_file`` takes off again."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "'")) else text
