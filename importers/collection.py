"""Evidence collected from the PCs themselves (RULES §8): files that the collect script,
`Get-CimInstance ... | Export-Csv`, `wmic /format:csv`, Intune or Configuration Manager
wrote, each row one PC with its firmware (OA3) key description and, optionally, the key.

They are read with the same importer as a register, then merged onto the register's devices
by serial number (normalised: case, spaces and punctuation ignored), else by host name. The
merge adds three derived columns to the register (never written into the corrected file)
and lists what did not match either way."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from coa_audit.core.errors import InputError, UsageError
from coa_audit.core.model import Inventory
from coa_audit.importers.headers import norm_header
from coa_audit.importers.load import load_inventory

__all__ = ["COLLECTED_FIELDS", "Collection", "CollectionFile", "merge_collection"]

# derived fields the merge adds to the register, with their column titles
COLLECTED_FIELDS = {
    "fw_edition": "Firmware key description (collected)",
    "fw_key": "Firmware key (collected)",
    "fw_source": "Collected from",
}
_WHEN_HEADERS = {"collected at", "collected", "collection date", "date", "timestamp", "scan date"}
_ALNUM = re.compile(r"[^0-9A-Z]+")


def _norm_serial(value: str) -> str:
    return _ALNUM.sub("", value.upper())


def _norm_host(value: str) -> str:
    return value.strip().split(".")[0].upper()


@dataclass
class CollectionFile:
    path: str
    sha256: str
    rows: int


@dataclass
class Collection:
    """What the merge found: the files, and the two lists no register gives."""

    files: list[CollectionFile] = field(default_factory=list)
    matched: int = 0
    by_hostname: int = 0
    not_collected: list[int] = field(default_factory=list)  # register row indexes
    not_in_register: list[dict[str, str]] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    def as_dict(self, inv: Inventory) -> dict[str, object]:
        return {
            "files": [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in self.files],
            "matched": self.matched,
            "matched_by_hostname": self.by_hostname,
            "not_collected": [inv.row_numbers[r] for r in self.not_collected],
            "not_in_register": self.not_in_register,
            "ambiguous": self.ambiguous,
        }


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in (".csv", ".txt", ".xlsx"))
            if not found:
                raise UsageError(f"--evidence {p}: the folder holds no csv or xlsx file")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"--evidence {p}: no such file")
    return out


def merge_collection(inv: Inventory, paths: list[Path]) -> Collection:
    """Read the collection files and merge them onto ``inv`` (adds the derived columns)."""
    out = Collection()
    serials: dict[str, list[int]] = {}
    hosts: dict[str, list[int]] = {}
    for r in range(len(inv)):
        s = _norm_serial(inv.field(r, "serial_number"))
        if s:
            serials.setdefault(s, []).append(r)
        h = _norm_host(inv.field(r, "hostname"))
        if h:
            hosts.setdefault(h, []).append(r)
    n = len(inv)
    fw_edition, fw_key, fw_source = [""] * n, [""] * n, [""] * n
    seen = bytearray(n)
    for path in _files(paths):
        try:
            col = load_inventory(path)
        except InputError as exc:
            raise InputError(f"--evidence: {exc}") from None
        out.files.append(CollectionFile(str(path), col.source.sha256, len(col)))
        when_col = next(
            (c for c, h in enumerate(col.headers) if norm_header(h) in _WHEN_HEADERS), None
        )
        default_when = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
        label = path.name
        f = col.field
        for i in range(len(col)):
            serial, host = f(i, "serial_number"), f(i, "hostname")
            rows = serials.get(_norm_serial(serial), []) if _norm_serial(serial) else []
            how = "serial"
            if not rows and _norm_host(host):
                rows, how = hosts.get(_norm_host(host), []), "hostname"
            if len(rows) > 1:
                where = ", ".join(str(inv.row_numbers[r]) for r in rows[:5])
                out.ambiguous.append(
                    f"{label} row {col.row_numbers[i]}: {how} {serial or host!r} is on "
                    f"{len(rows)} register rows ({where})"
                )
                continue
            if not rows:
                out.not_in_register.append(
                    {
                        "file": label,
                        "row": str(col.row_numbers[i]),
                        "hostname": host,
                        "serial_number": serial,
                        "manufacturer": f(i, "manufacturer"),
                        "model": f(i, "model"),
                        "firmware_key_description": f(i, "coa_edition"),
                    }
                )
                continue
            r = rows[0]
            if not seen[r]:
                out.matched += 1
                out.by_hostname += how == "hostname"
            seen[r] = 1  # a later collection of the same PC wins
            when = col.value(i, when_col)[:10] if when_col is not None else default_when
            fw_edition[r] = f(i, "coa_edition")
            fw_key[r] = f(i, "coa_key")
            fw_source[r] = f"{label}, {when}"
    out.not_collected = [r for r in range(n) if not seen[r]]
    inv.add_derived(COLLECTED_FIELDS, [fw_edition, fw_key, fw_source])
    return out
