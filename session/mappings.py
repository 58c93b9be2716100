"""Saved column mappings: a mapping the user set once (on screen, or with --map) is kept for
the next file with the same header layout, next month's export from the same tool.

Stored in ``<config dir>/mappings/<layout>.toml``, where the layout is a hash of the
normalised headers; a file holds the headers it was made for and ``[mapping]`` field =
"Source header". ``--mapping FILE`` reads such a file headlessly."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from pathlib import Path

import tomli_w

from coa_audit.core.errors import UsageError
from coa_audit.core.files import parse_toml, read_small_text
from coa_audit.core.model import CANONICAL_FIELDS
from coa_audit.importers.headers import norm_header
from coa_audit.session.state import config_dir, private_write

__all__ = ["load_mapping_file", "mapping_overrides", "save_mapping", "saved_mapping_for"]


def layout_key(headers: Sequence[str]) -> str:
    joined = "\x1f".join(norm_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:20]


def _store(headers: Sequence[str]) -> Path:
    return config_dir() / "mappings" / f"{layout_key(headers)}.toml"


def save_mapping(headers: Sequence[str], mapping: dict[str, str]) -> Path:
    """Keep ``mapping`` (field -> source header) for files with these headers."""
    path = _store(headers)
    doc = {"layout": {"headers": list(headers)}, "mapping": dict(mapping)}
    text = "# coa-audit saved column mapping (field = source header)\n" + tomli_w.dumps(doc)
    private_write(path, text.encode("utf-8"))
    return path


def load_mapping_file(path: Path) -> dict[str, str]:
    """field -> source header from a saved mapping file; UsageError when it is not one."""
    try:
        data = parse_toml(read_small_text(Path(path), "--mapping"))
    except FileNotFoundError:
        raise UsageError(f"--mapping: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--mapping: {path} cannot be read: {exc}") from None
    mapping = data.get("mapping")
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise UsageError(f'--mapping: {path} has no [mapping] table of field = "header"')
    unknown = sorted(f for f in mapping if f not in CANONICAL_FIELDS)
    if unknown:
        raise UsageError(
            f"--mapping: {path} names unknown field(s) {', '.join(unknown)}; fields are "
            f"{', '.join(CANONICAL_FIELDS)}"
        )
    return dict(mapping)


def saved_mapping_for(headers: Sequence[str]) -> tuple[Path, dict[str, str]] | None:
    """The mapping saved for this header layout, if any (an unreadable one is ignored)."""
    path = _store(headers)
    if not path.exists():
        return None
    try:
        return path, load_mapping_file(path)
    except UsageError:
        return None


def mapping_overrides(mapping: dict[str, str], headers: Sequence[str]) -> dict[str, int]:
    """field -> column for the headers this file has (fields whose header is gone drop out)."""
    out: dict[str, int] = {}
    for fname, header in mapping.items():
        cols = [c for c, h in enumerate(headers) if h == header]
        if cols:
            out[fname] = cols[0]
    return out
