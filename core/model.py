"""The inventory model: a columnar table of text with a sparse overlay of edits.

Every source column is kept (mapped or not) as a list of ``str``; repeated values share one
string object. Edits never touch those lists: they live in ``Inventory.edits`` keyed by
(row index, column index), so the original value is always at hand for undo, for the
Changes sheet and for writing only the edited cells back.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, NewType

# Three different numbers that are all ints: kept apart by type (mypy checks it)
RowIndex = NewType("RowIndex", int)  # a device's place in the Inventory, 0-based
SheetRow = NewType("SheetRow", int)  # the row number the spreadsheet shows, 1-based
ColumnIndex = NewType("ColumnIndex", int)  # a column of the Inventory, 0-based

__all__ = [
    "CANONICAL_FIELDS",
    "EDITION_FIELDS",
    "EVIDENCE_FIELDS",
    "FIELD_LABELS",
    "ID_FIELDS",
    "NO_EDITION_NOTICE",
    "NO_EVIDENCE_NOTICE",
    "NO_SERIAL_NOTICE",
    "ColumnIndex",
    "Inventory",
    "RowIndex",
    "SheetRow",
    "SourceInfo",
    "column_letter",
]

CANONICAL_FIELDS: tuple[str, ...] = (
    "asset_tag",
    "serial_number",
    "hostname",
    "manufacturer",
    "model",
    "asset_type",
    "asset_status",
    "deleted_on",
    "current_os",
    "coa_present",
    "coa_edition",
    "oa3_edition",
    "coa_key",
    "target_image",
    "licensed_product",
    "location",
    "notes",
)

FIELD_LABELS: dict[str, str] = {
    "asset_tag": "Asset tag",
    "serial_number": "Serial",
    "hostname": "Hostname",
    "manufacturer": "Maker",
    "model": "Model",
    "asset_type": "Asset type",
    "asset_status": "Asset status",
    "deleted_on": "Deleted on",
    "current_os": "Current OS",
    "coa_present": "COA",
    "coa_edition": "COA edition",
    # the register's own firmware (OA3) key description: its claim, not collected by the tool
    "oa3_edition": "Firmware key description (register)",
    "coa_key": "Product key",
    "target_image": "Target image",
    "licensed_product": "Licensed product",
    "location": "Location",
    "notes": "Notes",
    # derived from collected evidence (importers.collection): never written to the file
    "fw_edition": "Firmware key description (collected)",
    "fw_key": "Firmware key (collected)",
    "fw_source": "Collected from",
    # the walk through the fleet (session): never written to the file
    "sighted": "Present on site",
    "attested": "Accepted (reason)",
    "removed": "Taken out (reason)",
    "label": "Label confirmed",
}
# The walk's columns: the session adds them to every inventory it opens; the marks are edits
# of these columns (journaled, undoable), and the audit reads them.
# Three facts are kept apart and never printed for one another: a device *present* (scanned
# or marked: by whom, when), its *label* confirmed by a person who looked at it (as expected,
# differs, missing), and a firmware key *collected* (only from --evidence collection data).
WALK_FIELDS: dict[str, str] = {
    f: FIELD_LABELS[f] for f in ("sighted", "attested", "removed", "label")
}
# What a label confirmation says.
LABEL_OUTCOMES = ("as expected", "differs", "missing")
# The walk as a file of its own (exporters.walk_file writes it, importers.walk_file reads it):
# its columns (one per field of a core.events.Mark), and the walk's fields by the word the
# file uses for each. LEGACY_WALK_FILE_COLUMNS: files written before marks had fields.
WALK_FILE_COLUMNS = (
    "kind",
    "row",
    "serial_number",
    "asset_tag",
    "hostname",
    "mark",
    "outcome",
    "label_says",
    "basis",
    "reference",
    "why",
    "by",
    "when",
    "how",
)
LEGACY_WALK_FILE_COLUMNS = (
    "kind",
    "row",
    "serial_number",
    "asset_tag",
    "hostname",
    "mark",
    "value",
    "by",
)
WALK_MARKS: dict[str, str] = {
    "presence": "sighted",
    "label": "label",
    "acceptance": "attested",
    "removal": "removed",
}
LEGACY_WALK_MARKS: dict[str, str] = {
    "present": "sighted",
    "label": "label",
    "accepted": "attested",
    "taken out": "removed",
}
assert set(WALK_MARKS.values()) == set(WALK_FIELDS), "every walk field has its word in the file"

# Fields that can carry licence evidence: a file with none of them mapped is said loudly.
EVIDENCE_FIELDS: tuple[str, ...] = (
    "coa_present",
    "coa_edition",
    "oa3_edition",
    "coa_key",
    "fw_edition",
)
NO_SERIAL_NOTICE = (
    "NO SERIAL NUMBER COLUMN FOUND: no column was recognised as the hardware serial number, "
    "so no device can be told apart from another or found by a scan; every device says so "
    "once (SERIAL_MISSING). If the file has such a column, map it (coa-audit columns FILE "
    'shows the headers; then --map "Header=serial_number", or m on screen)'
)


def _candidates(names: list[str] | None) -> str:
    if not names:
        return "."
    return ". Best candidates: " + ", ".join(names) + "."


NO_EVIDENCE_NOTICE = (
    "NO LICENCE EVIDENCE COLUMN FOUND: no column was recognised as COA present, COA edition, "
    "product key or OA3 key description, so every device is blocked with COA_MISSING. If the "
    "file has such a column, map it (coa-audit columns FILE shows the headers; then --map "
    '"Header=coa_edition" or coa_present, coa_key, oa3_edition, or m on screen)'
)

NO_EDITION_NOTICE = (
    "NO COA EDITION COLUMN FOUND: a column says whether each device carries a COA label, but "
    "none was recognised as the edition printed on it (or the firmware key's description), "
    "so a device whose label is there stays REVIEW until its edition is read "
    "(EDITION_UNKNOWN). If the file has such a column, map it (coa-audit columns FILE shows "
    'the headers; then --map "Header=coa_edition", or m on screen)'
)
# what carries the edition of a device's licence (one of them mapped: no notice)
EDITION_FIELDS: tuple[str, ...] = ("coa_edition", "oa3_edition", "fw_edition")

# Fields whose text identifies a device: a number stored there may have lost digits.
ID_FIELDS: tuple[str, ...] = ("asset_tag", "serial_number", "coa_key", "hostname")


def column_letter(index: int) -> str:
    """0-based column index to the letters a spreadsheet shows (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class SourceInfo:
    """Where an inventory came from."""

    path: str
    format: str  # xlsx, xlsm, xlsb, xls, ods, csv
    sheet: str | None
    header_row: int  # 1-based, as the spreadsheet shows it
    sha256: str
    first_col: int = 0  # absolute 0-based column of the first source column
    notices: list[str] = field(default_factory=list)
    csv: dict[str, object] | None = None  # dialect of a CSV source (delimiter, encoding...)
    # how the reader mapped a field its header alone did not name: field -> (column, why)
    mapped_by: dict[str, tuple[int, str]] = field(default_factory=dict)
    # the best columns for a field the verdict needs when none was mapped: "serial_number" or
    # "evidence" -> ["'Header' (column C)", ...], said in the notice
    candidates: dict[str, list[str]] = field(default_factory=dict)


class Inventory:
    """Devices as rows, source columns as columns, edits as a sparse overlay."""

    def __init__(
        self,
        source: SourceInfo,
        headers: list[str],
        columns: list[list[str]],
        row_numbers: array[int],
        mapping: dict[str, int],
        numeric: dict[int, set[int]] | None = None,
    ) -> None:
        if any(len(c) != len(row_numbers) for c in columns):
            raise ValueError("every column must have one value per row")
        self.source = source
        self.headers = headers
        self.columns = columns
        self.row_numbers: array[int] = row_numbers
        self.mapping = dict(mapping)
        why = getattr(mapping, "why", None)  # importers.headers.HeaderMap
        if isinstance(why, dict):
            source.mapped_by = {f: (mapping[f], w) for f, w in why.items() if f in mapping}
        self.numeric = numeric or {}
        self.edits: dict[tuple[int, int], str] = {}
        # the walk's cells: their marks (core.events.Mark), the typed record behind each value
        self.marks: dict[tuple[int, int], tuple[Any, ...]] = {}
        self.source_width = len(headers)  # columns past this are derived, not in the file
        # evidence collected from the PCs and merged on (importers.collection.Collection)
        self.collection: Any = None

    def add_derived(self, fields: dict[str, str], columns: list[list[str]]) -> None:
        """Append columns that are not in the source (collected evidence), mapped to
        ``fields`` (field -> title). Exports never write them."""
        for (fname, title), values in zip(fields.items(), columns, strict=True):
            if len(values) != len(self.row_numbers):
                raise ValueError("a derived column needs one value per row")
            self.columns.append(values)
            self.headers.append(title)
            self.mapping[fname] = len(self.columns) - 1

    @property
    def source_mapping(self) -> dict[str, int]:
        """The mapping of the file's own columns (no derived field)."""
        return {f: c for f, c in self.mapping.items() if c < self.source_width}

    @property
    def source_headers(self) -> list[str]:
        """The file's own headers (no derived column)."""
        return self.headers[: self.source_width]

    def is_derived(self, col: int) -> bool:
        return col >= self.source_width

    def __len__(self) -> int:
        return len(self.row_numbers)

    @property
    def width(self) -> int:
        return len(self.columns)

    # -- reading ---------------------------------------------------------------------------
    def value(self, row: int, col: int) -> str:
        if self.edits:
            hit = self.edits.get((row, col))
            if hit is not None:
                return hit
        return self.columns[col][row]

    def original(self, row: int, col: int) -> str:
        return self.columns[col][row]

    def field(self, row: int, name: str) -> str:
        col = self.mapping.get(name)
        return "" if col is None else self.value(row, col)

    def marks_of(self, row: int, name: str) -> tuple[Any, ...]:
        """The marks (core.events.Mark) behind a walk field's value on ``row``."""
        col = self.mapping.get(name)
        return () if col is None else self.marks.get((row, col), ())

    def column_values(self, col: int) -> list[str]:
        """The column with edits applied (a copy only when the column has edits)."""
        values = self.columns[col]
        patched = [(r, v) for (r, c), v in self.edits.items() if c == col]
        if not patched:
            return values
        values = list(values)
        for r, v in patched:
            values[r] = v
        return values

    def was_number(self, row: int, col: int) -> bool:
        """True when the source stored this cell as a number and nobody has edited it."""
        rows = self.numeric.get(col)
        return rows is not None and row in rows and (row, col) not in self.edits

    def field_of(self, col: int) -> str | None:
        for name, c in self.mapping.items():
            if c == col:
                return name
        return None

    @property
    def evidence_mapped(self) -> bool:
        """True when at least one column that can carry licence evidence is mapped."""
        return any(f in self.mapping for f in EVIDENCE_FIELDS)

    def notices(self) -> list[str]:
        """What the reader noticed about the file, and, while no evidence column is mapped
        (the mapping can change on screen), the loud notice saying so."""
        extra = []
        if not self.evidence_mapped:
            extra.append(NO_EVIDENCE_NOTICE + _candidates(self.source.candidates.get("evidence")))
        elif "coa_present" in self.mapping and not self.edition_mapped:
            extra.append(NO_EDITION_NOTICE + _candidates(self.source.candidates.get("edition")))
        if "serial_number" not in self.mapping:
            extra.append(
                NO_SERIAL_NOTICE + _candidates(self.source.candidates.get("serial_number"))
            )
        return [*extra, *self.source.notices]

    @property
    def edition_mapped(self) -> bool:
        """True when a column that carries the edition of the licence is mapped."""
        return any(f in self.mapping for f in EDITION_FIELDS)

    def mapped_by(self, fname: str) -> str:
        """How the reader took ``fname``'s column when its header alone did not say ("by
        values: ..."), while the column is still the one it took; else empty."""
        col, why = self.source.mapped_by.get(fname, (-1, ""))
        return why if self.mapping.get(fname) == col else ""

    def letter(self, col: int) -> str:
        return column_letter(self.source.first_col + col)

    def column(self, field: str) -> ColumnIndex:
        """The column mapped to ``field`` (KeyError when none is)."""
        return ColumnIndex(self.mapping[field])

    def row_of(self, spreadsheet_row: int) -> RowIndex | None:
        """The device on a spreadsheet row number, or None."""
        rows = self.row_numbers
        lo, hi = 0, len(rows)
        while lo < hi:  # row numbers are increasing
            mid = (lo + hi) // 2
            if rows[mid] < spreadsheet_row:
                lo = mid + 1
            else:
                hi = mid
        return RowIndex(lo) if lo < len(rows) and rows[lo] == spreadsheet_row else None

    # -- writing ---------------------------------------------------------------------------
    def set_value(self, row: int, col: int, value: str) -> str:
        """Set one cell; returns the value it had. Setting the original back removes the edit."""
        old = self.value(row, col)
        if value == self.columns[col][row]:
            self.edits.pop((row, col), None)
        else:
            self.edits[(row, col)] = value
        return old
