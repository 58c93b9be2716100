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


def write_md(cl: Checklist, target: Path) -> Path:
    lines = [f"# {_md(packet_title(cl))}", ""]
    for key, label in HEADER_FIELDS:
        lines.append(f"- **{label}:** {_md(cl.header[key]) or BLANK}")
    lines.append("")
    lines += [f"**{_md(w)}**\n" for w in cl.warnings]
    lines += [counts_sentence(cl.counts), ""]
    if cl.continues:
        lines += [_md(cl.continues), ""]
    lines += [STATEMENT, ""]
    lines += ["## Where this list came from", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in cl.provenance]
    lines += [f"- {_md(s)}" for s in cl.sources]
    lines.append("")
    lines += _md_table(f"Eligible devices ({len(cl.eligible)})", cl.eligible_headers, cl.eligible)
    for title, _name, headers, rows in cl.tables():
        lines += _md_table(title, headers, rows)
    for title, items in cl.lists():
        lines += [f"## {title}", ""]
        lines += [f"- {_md(x)}" for x in items]
        lines.append("")
    lines += ["## Signatures", ""]
    for title, fields in signature_blocks(cl):
        lines += [f"### {_md(title)}", ""]
        lines += [f"- {label}: {_md(value) or BLANK}" for label, value in fields]
        lines.append("")
    data = "\n".join(lines).encode("utf-8")
    with atomic_writer(target) as f:
        f.write(data)
    return target
