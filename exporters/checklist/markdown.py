"""The checklist as Markdown: every text through ``exporters.safety`` (keys masked; a table
cell, which a rendered table pastes into a spreadsheet as a cell, also neutralised)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from coa_audit.core.text import safe_text
from coa_audit.exporters.atomic import atomic_writer
from coa_audit.exporters.checklist.model import (
    BLANK,
    HEADER_FIELDS,
    STATEMENT,
    Checklist,
    counts_sentence,
    packet_title,
    signature_blocks,
)
from coa_audit.exporters.safety import cell, printed

__all__ = ["write_md"]

_MD_SPECIAL = re.compile(r"([\\|*_\[\]<>#`~])")


def _md(text: str) -> str:
    text = " ".join(printed(text).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(
    title: str, headers: tuple[str, ...], rows: Iterable[tuple[str, ...]]
) -> Iterator[str]:
    yield f"## {title}"
    yield ""
    yield "| " + " | ".join(headers) + " |"
    yield "|" + "---|" * len(headers)
    done: dict[str, str] = {}  # cells as written, by value: most repeat (statuses, models)

    def md_cell(value: str) -> str:
        got = done.get(value)
        if got is None:  # masked and neutralised once (cell), then made plain and escaped
            got = done[value] = _MD_SPECIAL.sub(r"\\\1", " ".join(safe_text(cell(value)).split()))
        return got

    for row in rows:
        yield "| " + " | ".join(md_cell(v) for v in row) + " |"
    yield ""


def _md_lines(cl: Checklist) -> Iterator[str]:
    """The packet's lines in order, each table's rows made as they are reached."""
    yield f"# {_md(packet_title(cl))}"
    yield ""
    for key, label in HEADER_FIELDS:
        yield f"- **{label}:** {_md(cl.header[key]) or BLANK}"
    yield ""
    for w in cl.warnings:
        yield f"**{_md(w)}**\n"
    yield counts_sentence(cl.counts)
    yield ""
    if cl.continues:
        yield _md(cl.continues)
        yield ""
    yield STATEMENT
    yield ""
    yield "## Where this list came from"
    yield ""
    for label, value in cl.provenance:
        yield f"- **{label}:** {_md(value)}"
    for s in cl.sources:
        yield f"- {_md(s)}"
    yield ""
    yield from _md_table(f"Eligible devices ({len(cl.eligible)})", cl.eligible_headers, cl.eligible)
    for title, _name, headers, rows in cl.tables():
        yield from _md_table(title, headers, rows)
    for title, items in cl.lists():
        yield f"## {title}"
        yield ""
        for x in items:
            yield f"- {_md(x)}"
        yield ""
    yield "## Signatures"
    yield ""
    for title, fields in signature_blocks(cl):
        yield f"### {_md(title)}"
        yield ""
        for label, value in fields:
            yield f"- {label}: {_md(value) or BLANK}"
        yield ""


def write_md(cl: Checklist, target: Path) -> Path:
    """The lines joined by newlines, written a few thousand at a time as they are made."""
    with atomic_writer(target) as f:
        chunk: list[str] = []
        first = True
        for line in _md_lines(cl):
            chunk.append(line)
            if len(chunk) == 4096:
                f.write(("" if first else "\n").encode() + "\n".join(chunk).encode("utf-8"))
                chunk, first = [], False
        if chunk or first:
            f.write(("" if first else "\n").encode() + "\n".join(chunk).encode("utf-8"))
    return target
