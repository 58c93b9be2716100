"""Every format, declared once: what each input format can do on export, and what each
output is. The exporter, the command line and the export screen all read these tables."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHECKLISTS", "CHECKLIST_FORMATS", "INPUT_FORMATS", "InputFormat", "Output"]


@dataclass(frozen=True)
class InputFormat:
    name: str
    label: str
    patch_in_place: bool  # the corrected inventory is the user's own file, only edits changed
    corrected_suffix: str | None  # None: the source's own suffix (.csv, .tsv, .txt)

    @property
    def becomes(self) -> str:
        return (self.corrected_suffix or ".csv").lstrip(".")

    @property
    def export_note(self) -> str:
        """Said on the export screen when the corrected file cannot be the same format."""
        if self.patch_in_place:
            return ""
        return (
            f"A {self.name} file cannot be patched in place: the corrected inventory is "
            f"written as {self.becomes}."
        )

    @property
    def short_note(self) -> str:
        """The same, as the command line says it beside the file written."""
        return (
            ""
            if self.patch_in_place
            else f"a {self.name} file cannot be patched: written as {self.becomes}"
        )


INPUT_FORMATS: dict[str, InputFormat] = {
    f.name: f
    for f in (
        InputFormat("xlsx", "Excel workbook", True, ".xlsx"),
        InputFormat("xlsm", "Excel macro-enabled workbook", True, ".xlsm"),
        InputFormat("csv", "text table (csv, tsv, txt)", True, None),
        InputFormat("xls", "Excel 97-2003 workbook", False, ".xlsx"),
        InputFormat("xlsb", "Excel binary workbook", False, ".xlsx"),
        InputFormat("ods", "OpenDocument spreadsheet", False, ".xlsx"),
    )
}


@dataclass(frozen=True)
class Output:
    """One certification checklist format: its suffix, its name on the command line
    (``--checklist``) and its checkbox on the export screen."""

    key: str
    suffix: str
    checkbox: str


CHECKLISTS: tuple[Output, ...] = (
    Output("xlsx", ".checklist.xlsx", "Checklist as xlsx"),
    Output("pdf", ".checklist.pdf", "Checklist as PDF"),
    Output("md", ".checklist.md", "Checklist as Markdown"),
)
CHECKLIST_FORMATS: tuple[str, ...] = tuple(o.key for o in CHECKLISTS)
