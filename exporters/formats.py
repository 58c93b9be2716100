"""Every certification packet format, declared once with its writer: its name on the
command line (``--checklist``), its suffix, its checkbox on the export screen and its
relative cost (for sharing the files between two processes). The exporter, the command
line and the export screen read this table; adding a packet format is an entry here and
its writer. Input formats are declared in ``importers.formats``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coa_audit.exporters.checklist import Checklist, write_md, write_xlsx
from coa_audit.exporters.checklist.pdf import write_pdf

__all__ = ["CHECKLISTS", "CHECKLIST_FORMATS", "Output", "checklist_output"]

# (packet, target, paper, progress) -> the file written
Writer = Callable[[Checklist, Path, str, Callable[[int, int], None] | None], Path]


@dataclass(frozen=True)
class Output:
    key: str
    suffix: str
    checkbox: str
    write: Writer
    # seconds for 100,000 devices with none eligible, and what all eligible add (measured
    # on the benchmark's two fleets; xlsx and PDF again on a fleet 76% eligible, the rows
    # each writer makes included); only how the files are shared between two processes
    # depends on it
    cost: float
    cost_eligible: float


CHECKLISTS: tuple[Output, ...] = (
    Output("xlsx", ".checklist.xlsx", "Checklist as xlsx", lambda c, t, _p, _k: write_xlsx(c, t),
           2.5, 6.0),
    Output("pdf", ".checklist.pdf", "Checklist as PDF", write_pdf, 6.0, 13.0),
    Output("md", ".checklist.md", "Checklist as Markdown", lambda c, t, _p, _k: write_md(c, t),
           0.9, 1.2),
)  # fmt: skip
CHECKLIST_FORMATS: tuple[str, ...] = tuple(o.key for o in CHECKLISTS)


def checklist_output(key: str) -> Output:
    """The declared packet format ``key``; a key no entry has is a bug where it is read
    (the command line and the export screen check what the user typed first)."""
    for out in CHECKLISTS:
        if out.key == key:
            return out
    raise ValueError(f"no checklist format is called {key!r}")
