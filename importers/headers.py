"""Find the header row and map source headers to canonical fields (aliases in data)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from core.model import CANONICAL_FIELDS

__all__ = ["HEADER_SCAN_ROWS", "find_header", "map_headers", "norm_header", "parse_overrides"]

HEADER_SCAN_ROWS = 40
_EVIDENCE_FIELDS = {
    "serial_number",
    "asset_tag",
    "hostname",
    "coa_edition",
    "coa_key",
    "coa_present",
}


def norm_header(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    raw = resources.files("importers").joinpath("data/headers.toml").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for fname, aliases in tomllib.loads(raw).items():
        for alias in aliases:
            table.setdefault(norm_header(alias), fname)
        table.setdefault(norm_header(fname), fname)
    return table


def _field_for(header: str) -> str | None:
    aliases = _aliases()
    norm = norm_header(header)
    hit = aliases.get(norm)
    if hit is None and "(" in header:
        hit = aliases.get(norm_header(re.sub(r"\(.*?\)", " ", header)))
    return hit


def map_headers(headers: Sequence[str], overrides: dict[str, str] | None = None) -> dict[str, int]:
    """Canonical field -> column index. The first column matching a field wins;
    ``overrides`` (header or column letter -> field, or "-" to unmap) win over aliases."""
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
    for col, header in enumerate(headers):
        if col in forced:
            continue
        fname = _field_for(str(header))
        if fname and fname not in mapping:
            mapping[fname] = col
    return {f: mapping[f] for f in CANONICAL_FIELDS if f in mapping}


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
    like an inventory header (at least two fields, one of them identifying a device).
    Headers named in ``overrides`` (--map) count as the fields they are mapped to."""
    forced = {norm_header(k): f for k, f in (overrides or {}).items() if f not in ("-", "none")}
    best: tuple[int, int] | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = {
            forced.get(norm_header(v)) or _field_for(v)
            for v in row
            if isinstance(v, str) and v.strip()
        }
        fields.discard(None)
        score = len(fields)
        if score >= 2 and fields & _EVIDENCE_FIELDS and (best is None or score > best[1]):
            best = (i, score)
    return best


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["Header=field", ...] -> {header: field}; raises ValueError with a readable message."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, fname = item.rpartition("=")
        header, fname = header.strip(), fname.strip()
        if not sep or not header:
            raise ValueError(f'--map {item!r}: write it as "Source header=field"')
        if fname not in CANONICAL_FIELDS and fname not in ("-", "none"):
            raise ValueError(
                f"--map {item!r}: unknown field {fname!r}; fields are {', '.join(CANONICAL_FIELDS)}"
            )
        out[header] = fname
    return out
