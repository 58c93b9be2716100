"""Find the header row and map source headers to canonical fields (aliases in data).

Headers are normalised first (accents, camelCase, ConfigMgr's trailing 0, SSRS prefixes,
GLPI's "Item - Field"), matched against ``data/headers.toml``, and where two columns could
take one field the values in the rows below decide (RULES §8).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources

from coa_audit.core.editions import is_blank, parse_edition
from coa_audit.core.errors import UsageError
from coa_audit.core.model import CANONICAL_FIELDS
from coa_audit.core.policy import Policy
from coa_audit.core.text import fold_words

__all__ = [
    "HEADER_SCAN_ROWS",
    "find_header",
    "map_headers",
    "norm_header",
    "parse_overrides",
]

HEADER_SCAN_ROWS = 40
# Fields that identify a device or carry its evidence: a header row names at least one.
_ANCHOR_FIELDS = {
    "serial_number",
    "asset_tag",
    "hostname",
    "coa_edition",
    "coa_key",
    "coa_present",
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SSRS = re.compile(r"^details table\d* ")
_TRAILING_ZERO = re.compile(r"(?<=[a-z])0$")
_TABLE_PREFIX = re.compile(r"^(?:tbl|tsys|v_|sms_|dbo\.)[\w.]*?\.(?=\w)", re.IGNORECASE)
_PRODUCT_ID = re.compile(r"^\d{5}-\d{5}-\d{5}-[A-Za-z]{2}\d{3}$")


def norm_header(text: str) -> str:
    """The form headers are compared in: accents folded, camelCase split, lower case,
    punctuation as spaces, a ConfigMgr trailing 0 and an SSRS report prefix dropped."""
    words = fold_words(_CAMEL.sub(" ", text.replace("_", " ")))
    words = _SSRS.sub("", words)
    return " ".join(_TRAILING_ZERO.sub("", w) for w in words.split())


class _Aliases:
    def __init__(self, data: dict[str, list[str]]) -> None:
        self.table: dict[str, tuple[str, int]] = {}
        self.ignore = frozenset(norm_header(a) for a in data.get("_ignore", []))
        for fname, aliases in data.items():
            if fname.startswith("_"):
                continue
            for rank, alias in enumerate(aliases):
                self.table.setdefault(norm_header(alias), (fname, rank))
            self.table.setdefault(norm_header(fname), (fname, 0))

    def lookup(self, header: str) -> tuple[str, int] | None:
        """(field, rank) for one source header, or None."""
        # a query's table prefix: "v_GS_PC_BIOS.SerialNumber0", "tblAssetCustom.Serialnumber"
        table = _TABLE_PREFIX.match(header.strip())
        if table is not None:
            header = header.strip()[table.end() :]
        norm = norm_header(header)
        if not norm or norm in self.ignore:
            return None
        hit = self.table.get(norm)
        if hit is not None:
            return hit
        # "OSname" split as camelCase reads "o sname": try the header's own words too
        plain = " ".join(_TRAILING_ZERO.sub("", w) for w in fold_words(header).split())
        if plain != norm and plain not in self.ignore:
            hit = self.table.get(plain)
            if hit is not None:
                return hit
        if "(" in header:  # "Serial (from BIOS)", "Edition (COA)"
            bare = norm_header(re.sub(r"\(.*?\)", " ", header))
            if bare in self.ignore:
                return None
            hit = self.table.get(bare)
            if hit is not None:
                return hit
        if " - " in header:  # GLPI: "Operating system - Version" is about the OS
            item = norm_header(header.split(" - ", 1)[0])
            hit = self.table.get(item)
            if hit is not None:
                return hit[0], hit[1] + 100  # weaker than a whole-header match
        return None


@lru_cache(maxsize=1)
def _aliases() -> _Aliases:
    raw = (
        resources.files("coa_audit.importers")
        .joinpath("data/headers.toml")
        .read_text(encoding="utf-8")
    )
    return _Aliases(tomllib.loads(raw))


def _field_for(header: str) -> str | None:
    hit = _aliases().lookup(header)
    return hit[0] if hit else None


# -- what the values say ---------------------------------------------------------------------


def _edition_score(value: str) -> float:
    """2 for an edition name, 1 for a version alone, 0 otherwise (builds, "Windows", bits)."""
    ed = parse_edition(value)
    if ed.edition in (None, "unreadable"):
        ed = parse_edition(f"Windows {value}")  # SkuFamily "Professional", GLPI "Famille"
        if ed.edition in (None, "unreadable", "unspecified"):
            return 0.0
    return 1.0 if ed.edition == "unspecified" else 2.0


def _key_score(value: str) -> float:
    return 1.0 if Policy.key_well_formed(value) else 0.0


def _serial_score(value: str) -> float:
    return -1.0 if _PRODUCT_ID.match(value.strip()) else 0.0


_SCORERS: dict[str, Callable[[str], float]] = {
    "current_os": _edition_score,
    "coa_edition": _edition_score,
    "coa_key": _key_score,
    "serial_number": _serial_score,
}


def _value_score(fname: str, col: int, rows: Sequence[Sequence[object]]) -> float:
    scorer = _SCORERS.get(fname)
    if scorer is None:
        return 0.0
    values = [r[col] for r in rows if col < len(r) and isinstance(r[col], str)]
    values = [v for v in values if v.strip() and not is_blank(v)]
    if not values:
        return 0.0
    return sum(map(scorer, values)) / len(values)


def map_headers(
    headers: Sequence[str],
    overrides: dict[str, str] | None = None,
    rows: Sequence[Sequence[object]] = (),
) -> dict[str, int]:
    """Canonical field -> column index. ``overrides`` (header or column letter -> field, or
    "-" to unmap) win over aliases. Where several columns could take a field, the values in
    ``rows`` (the first rows below the header) decide, then the stronger alias, then the
    first column."""
    mapping: dict[str, int] = {}
    overrides = overrides or {}
    forced: dict[int, str | None] = {}
    for key, fname in overrides.items():
        col = _find_column(headers, key)
        if col is None:
            raise KeyError(key)
        forced[col] = None if fname in ("-", "", "none") else fname
    for fname in {f for f in forced.values() if f}:
        mapping[fname] = next(c for c, f in forced.items() if f == fname)
    candidates: dict[str, list[tuple[float, int, int]]] = {}
    aliases = _aliases()
    for col, header in enumerate(headers):
        if col in forced:
            continue
        hit = aliases.lookup(str(header))
        if hit is None or hit[0] in mapping:
            continue
        fname, rank = hit
        candidates.setdefault(fname, []).append((0.0, rank, col))
    for fname, cands in candidates.items():
        if len(cands) > 1 or fname == "coa_key":
            cands = [(-_value_score(fname, col, rows), rank, col) for _s, rank, col in cands]
        best = min(cands)
        if fname == "coa_key" and best[0] == 0.0 and _looks_like_product_ids(best[2], rows):
            continue  # a "key" column of Windows product IDs carries no key
        mapping[fname] = best[2]
    return {f: mapping[f] for f in CANONICAL_FIELDS if f in mapping}


def _looks_like_product_ids(col: int, rows: Sequence[Sequence[object]]) -> bool:
    values = [r[col] for r in rows if col < len(r) and isinstance(r[col], str) and r[col].strip()]
    return bool(values) and all(_PRODUCT_ID.match(v.strip()) for v in values)


def _find_column(headers: Sequence[str], key: str) -> int | None:
    for col, header in enumerate(headers):
        if header == key:
            return col
    norm = norm_header(key)
    for col, header in enumerate(headers):
        if norm_header(str(header)) == norm:
            return col
    return None


def find_header(
    rows: Sequence[Sequence[str]], overrides: dict[str, str] | None = None
) -> tuple[int, int] | None:
    """(index of the best header row among ``rows``, its score) or None when no row looks
    like an inventory header: at least two mapped columns, one of them identifying a device
    or carrying its evidence. The score counts mapped columns, not distinct fields, so a
    file whose identity columns are two serial aliases is still found. Headers named in
    ``overrides`` (--map) count as the fields they are mapped to."""
    forced = {norm_header(k): f for k, f in (overrides or {}).items() if f not in ("-", "none")}
    best: tuple[int, int] | None = None
    lone: tuple[int, int] | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [v for v in row if isinstance(v, str) and v.strip()]
        mapped = [f for f in (forced.get(norm_header(v)) or _field_for(v) for v in cells) if f]
        score = len(mapped)
        if not set(mapped) & _ANCHOR_FIELDS:
            continue
        if score >= 2 and (best is None or score > best[1]):
            best = (i, score)
        elif score == 1 and lone is None and len(cells) >= 3 and mapped[0] == "serial_number":
            lone = (i, score)  # an Autopilot CSV: one serial column beside hashes and IDs
    return best or lone


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["Header=field", ...] -> {header: field}; raises ValueError with a readable message."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, fname = item.rpartition("=")
        header, fname = header.strip(), fname.strip()
        if not sep or not header:
            raise UsageError(f'--map {item!r}: write it as "Source header=field"')
        if fname not in CANONICAL_FIELDS and fname not in ("-", "none"):
            raise UsageError(
                f"--map {item!r}: unknown field {fname!r}; fields are {', '.join(CANONICAL_FIELDS)}"
            )
        out[header] = fname
    return out
