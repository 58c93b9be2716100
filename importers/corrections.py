"""Read a corrections CSV (edits applied headlessly by `coa-audit export --corrections`).

Columns: ``field`` and ``value``, and one of ``row`` (spreadsheet row), ``serial_number`` or
``asset_tag`` to find the device. Every line is checked before anything is applied: an
unknown row, field or an ambiguous match is an error naming the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from coa_audit.core.errors import UsageError
from coa_audit.core.files import read_small
from coa_audit.core.identity import identity
from coa_audit.core.model import CANONICAL_FIELDS, ColumnIndex, Inventory, RowIndex
from coa_audit.importers.headers import norm_header

__all__ = ["Correction", "CorrectionsError", "read_corrections"]


MAX_VALUE = 32_767  # the most text one spreadsheet cell holds


class CorrectionsError(UsageError):
    """The corrections file does not fit the inventory (a usage error, exit 2)."""


@dataclass(frozen=True)
class Correction:
    line: int
    row: RowIndex
    col: ColumnIndex
    value: str
    by: str = ""  # the file's own "by" column: who made this correction ("" when not said)
    reason: str = ""  # the file's own "reason" column: why


def read_corrections(path: Path, inv: Inventory) -> list[Correction]:
    raw = read_small(path, "corrections file", error=CorrectionsError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    # a file object, not split lines: a quoted newline or U+2028 stays inside its value
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=False)
    cols = {norm_header(h): h for h in (reader.fieldnames or [])}
    keys = [k for k in ("row", "serial number", "asset tag") if k in cols]
    if "field" not in cols or "value" not in cols or not keys:
        raise CorrectionsError(
            f"corrections file {path}: needs the columns field, value and one of row, "
            "serial_number, asset_tag"
        )
    by: dict[str, dict[str, list[int]]] = {}
    for fname in ("serial_number", "asset_tag"):
        if norm_header(fname) in keys and fname in inv.mapping:
            index: dict[str, list[int]] = {}
            # compared as the device's identity (core.identity), as everywhere
            for r, v in enumerate(inv.column_values(inv.mapping[fname])):
                if key := identity(v):
                    index.setdefault(key, []).append(r)
            by[fname] = index
    out: list[Correction] = []
    errors: list[str] = []
    records = iter(reader)
    while True:
        try:
            rec = next(records)
        except StopIteration:
            break
        except csv.Error as exc:  # a value beyond the field limit, a NUL...
            errors.append(f"line {reader.line_num}: cannot be read as CSV ({exc})")
            break
        line = reader.line_num
        try:
            row = _find_row(rec, cols, inv, by)
            col = _find_col(rec[cols["field"]] or "", inv)
            value = rec[cols["value"]]
            if value is None:
                raise CorrectionsError(
                    "has no value column; to blank a cell write an empty value (a trailing comma)"
                )
            if len(value) > MAX_VALUE:
                raise CorrectionsError(
                    f"the value is {len(value):,} characters long; a spreadsheet cell holds "
                    f"at most {MAX_VALUE:,}"
                )
        except CorrectionsError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        author = " ".join((rec.get(cols["by"]) or "").split()) if "by" in cols else ""
        reason = " ".join((rec.get(cols["reason"]) or "").split()) if "reason" in cols else ""
        out.append(Correction(line, RowIndex(row), ColumnIndex(col), value, author, reason))
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CorrectionsError(f"corrections file {path}, {errors[0]}{more}; nothing was written")
    return out


def _find_row(
    rec: dict[str, str | None],
    cols: dict[str, str],
    inv: Inventory,
    by: dict[str, dict[str, list[int]]],
) -> int:
    if "row" in cols and (rec.get(cols["row"]) or "").strip():
        text = (rec[cols["row"]] or "").strip()
        if not (text.isascii() and text.isdigit()):
            raise CorrectionsError(f"row {text!r} is not a row number")
        row = inv.row_of(int(text))
        if row is None:
            raise CorrectionsError(f"row {text} is not a device row of the inventory")
        return row
    for fname in ("serial_number", "asset_tag"):
        key = norm_header(fname)
        value = (rec.get(cols[key]) or "").strip() if key in cols else ""
        if not value:
            continue
        if fname not in by:
            raise CorrectionsError(f"the inventory has no {fname} column to match {value!r}")
        hits = by[fname].get(identity(value), [])
        if not hits:
            raise CorrectionsError(f"no device has {fname} {value!r}")
        if len(hits) > 1:
            rows = ", ".join(str(inv.row_numbers[r]) for r in hits[:5])
            raise CorrectionsError(f"{fname} {value!r} is ambiguous (rows {rows}); use row")
        return hits[0]
    raise CorrectionsError("no row, serial_number or asset_tag to find the device")


def _find_col(name: str, inv: Inventory) -> int:
    name = name.strip()
    if name in CANONICAL_FIELDS:
        if name not in inv.mapping:
            raise CorrectionsError(f"field {name!r} has no column in the inventory")
        return inv.mapping[name]
    # every column: a derived one (collected, the walk's) is refused when applied, by name
    for c, h in enumerate(inv.headers):
        if h == name or norm_header(h) == norm_header(name):
            return c
    raise CorrectionsError(f"unknown field {name!r} (a canonical field or a source header)")
