"""The walk through the fleet as a file of its own, written beside the other outputs.

A day's walk (devices present or not found, labels confirmed, acceptances, devices taken out,
scanned codes that named no device) must outlive the export that printed it: it is written as
a CSV a person can read, and ``--walk FILE`` (repeatable) loads it back
(``session.Session.load_walks``) to export again or to merge several technicians' walks. Each
line names the device by its identifiers and holds one ``core.events.Mark``, one column per
field (``core.model.WALK_FILE_COLUMNS``, documented in the README).

Every cell goes through ``exporters.safety.CsvTable``: keys masked (a key-shaped identifier
too: the device is then found by its other identifiers), and an apostrophe before a value a
spreadsheet would evaluate or that starts with an apostrophe, which ``importers.walk_file``
takes off again (exactly one), so every identifier reads back as it was written.
"""

from __future__ import annotations

from coa_audit.core.audit import Audit
from coa_audit.core.events import ScanFlag
from coa_audit.core.model import WALK_FILE_COLUMNS, WALK_MARKS
from coa_audit.exporters.safety import CsvTable

__all__ = ["walk_csv"]


def walk_csv(audit: Audit, scans: list[ScanFlag]) -> bytes | None:
    """The walk as CSV (UTF-8 with a BOM, for Excel), or None when nothing was walked."""
    inv = audit.inv
    cols = {word: inv.mapping[f] for word, f in WALK_MARKS.items() if f in inv.mapping}
    marked = sorted({r for (r, c), m in inv.marks.items() if c in cols.values() and m})
    if not marked and not scans:
        return None
    out = CsvTable(WALK_FILE_COLUMNS)
    f = inv.field
    for r in marked:
        ids = [str(inv.row_numbers[r]), f(r, "serial_number"), f(r, "asset_tag"), f(r, "hostname")]
        for word, col in cols.items():
            for m in inv.marks.get((r, col), ()):
                s = m.stamp
                said = [m.says, m.basis, m.reference, s.why]
                out.row(["mark", *ids, word, m.outcome, *said, s.by, s.at, s.how])
    for flag in scans:
        s = flag.stamp
        line = ["", "", "", "", "", flag.outcome, "", "", flag.code, s.why, s.by, s.at, s.how]
        out.row(["scan", *line])
    return ("\ufeff" + out.text()).encode("utf-8")
