"""The certification checklist handed over with the signed licence verification:
Markdown, xlsx (print-ready) and PDF (A4 or Letter)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from coa_audit.core.audit import Audit
from coa_audit.core.codes import code_info
from coa_audit.core.editions import ParsedEdition
from coa_audit.core.text import safe_text
from coa_audit.exporters.atomic import atomic_writer

__all__ = ["HEADER_FIELDS", "Checklist", "build_checklist", "write_md", "write_pdf", "write_xlsx"]

HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("customer", "Customer"),
    ("agreement_number", "Agreement number"),
    ("provider", "Imaging provider (OEM / LSP)"),
    ("target", "Target product"),
    ("date", "Date"),
    ("prepared_by", "Prepared by"),
)
ELIGIBLE_HEADERS = (
    "Row",
    "Asset tag",
    "Serial",
    "Model",
    "Evidence",
    "Base edition",
    "Label sighted",
)
EXCLUDED_HEADERS = ("Row", "Asset tag", "Serial", "Status", "Reason")
STATEMENT = (
    "Each device in the table of eligible devices has a licence for a qualifying base "
    "operating system, evidenced as listed (COA label, GML label or OA3 firmware key). Devices "
    "in the table of excluded devices must not be imaged until the reason given is resolved."
)


@dataclass
class Checklist:
    header: dict[str, str]
    counts: dict[str, int]
    eligible: list[tuple[str, ...]] = field(default_factory=list)
    excluded: list[tuple[str, ...]] = field(default_factory=list)
    # the files of evidence collected from the PCs: one sentence each (name, SHA-256, rows)
    sources: list[str] = field(default_factory=list)


def _edition_name(audit: Audit, ed: ParsedEdition | None, text: str) -> str:
    if ed is None or ed.edition in (None, "unreadable"):
        return " ".join(text.split())
    label = str(audit.policy.data["editions"].get(ed.key, {}).get("label", ed.key))
    short = label.split(" (")[0].split(" /")[0]
    if ed.version and short.startswith("Windows ") and ed.family == "windows":
        name = short[8:]
        if name == "Pro" and ed.version in ("7", "xp", "2000"):
            name = "Professional"  # what those labels say
        short = f"Windows {ed.version.upper() if ed.version == 'xp' else ed.version} {name}"
    if ed.variant in ("n", "kn"):
        short += f" {ed.variant.upper()}"
    return short


def build_checklist(audit: Audit, header: dict[str, str]) -> Checklist:
    inv = audit.inv
    s = audit.summary()
    full = {k: header.get(k, "") for k, _ in HEADER_FIELDS}
    if not full["target"]:
        full["target"] = f"{audit.policy.target_label} ({audit.policy.agreement} agreement)"
    if not full["date"]:
        full["date"] = dt.date.today().isoformat()
    out = Checklist(
        full,
        {
            "devices": s.devices,
            "eligible": s.eligible,
            "review": s.review,
            "blocked": s.blocked,
            "not_pc": s.out_of_scope,
        },
    )
    if inv.collection is not None:
        out.sources = [
            f"Evidence collected from the PCs: {Path(cf.path).name} (SHA-256 {cf.sha256}, "
            f"{cf.rows} rows)."
            for cf in inv.collection.files
        ]
    f = inv.field
    for r in range(len(inv)):
        row = str(inv.row_numbers[r])
        tag, serial = f(r, "asset_tag"), f(r, "serial_number")
        level = audit.status_level(r)
        if level == 3:
            continue  # not a PC: counted apart, never listed as excluded
        if level == 0:
            _has, ed, text = audit.evidence(r)
            out.eligible.append(
                (
                    row,
                    tag,
                    serial,
                    f(r, "model"),
                    audit.evidence_type(r),
                    _edition_name(audit, ed, text),
                    "",
                )
            )
        else:
            reasons = []
            for finding in audit.findings(r):
                title = code_info(finding.code).title
                if title not in reasons:
                    reasons.append(title)
            out.excluded.append((row, tag, serial, audit.status(r), "; ".join(reasons)))
    return out


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\|*_\[\]<>#`~])")


def _not_pc_sentence(counts: dict[str, int]) -> str:
    n = counts.get("not_pc", 0)
    return f" Rows that are not PCs, counted apart: {n}." if n else ""


def _md(text: str) -> str:
    text = " ".join(safe_text(text).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(
    title: str, headers: tuple[str, ...], rows: Iterable[tuple[str, ...]]
) -> Iterator[str]:
    yield f"## {title}"
    yield ""
    yield "| " + " | ".join(headers) + " |"
    yield "|" + "---|" * len(headers)
    for row in rows:
        yield "| " + " | ".join(v if v == "☐" else _md(v) for v in row) + " |"
    yield ""


def write_md(cl: Checklist, target: Path) -> Path:
    lines = ["# Certification checklist: devices for Volume Licensing imaging", ""]
    for key, label in HEADER_FIELDS:
        lines.append(f"- **{label}:** {_md(cl.header[key]) or '____________________'}")
    c = cl.counts
    lines += [
        "",
        f"Devices audited: {c['devices']}. Eligible for imaging: {c['eligible']}. "
        f"Excluded: {c['review'] + c['blocked']} ({c['blocked']} blocked, "
        f"{c['review']} under review).{_not_pc_sentence(c)}",
        "",
        *(f"{_md(s)}\n" for s in cl.sources),
        STATEMENT,
        "",
        *_md_table(
            f"Eligible devices ({len(cl.eligible)})",
            ELIGIBLE_HEADERS,
            ((*row[:-1], "☐") for row in cl.eligible),
        ),
        *_md_table(f"Excluded devices ({len(cl.excluded)})", EXCLUDED_HEADERS, cl.excluded),
    ]
    lines += [
        "",
        "## Signature",
        "",
        "Name: ______________________________  Title: ______________________________",
        "",
        "Signature: _________________________  Date: _______________",
        "",
    ]
    data = "\n".join(lines).encode("utf-8")
    with atomic_writer(target) as f:
        f.write(data)
    return target


# -- xlsx -------------------------------------------------------------------------------------


def write_xlsx(cl: Checklist, target: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.worksheet.properties import PageSetupProperties

    from coa_audit.exporters.xlsx_cells import BOLD, cell, row_cells

    wb = Workbook(write_only=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    def sheet(title: str, headers: tuple[str, ...], widths: list[int]):
        ws = wb.create_sheet(title)
        for i, w in enumerate(widths):
            ws.column_dimensions[chr(65 + i)].width = w
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4; Letter printers scale to fit width
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.gridLines = True
        ws.oddFooter.center.text = "Page &P of &N"
        return ws

    ws = sheet("Checklist", ELIGIBLE_HEADERS, [8, 16, 18, 24, 18, 28, 14])
    ws.append(
        [
            cell(
                ws,
                "Certification checklist: devices for Volume Licensing imaging",
                Font(bold=True, size=14),
            )
        ]
    )
    for key, label in HEADER_FIELDS:
        ws.append([cell(ws, label, BOLD), cell(ws, cl.header[key] or "")])
    c = cl.counts
    ws.append([cell(ws, "Devices audited", BOLD), cell(ws, c["devices"])])
    ws.append([cell(ws, "Eligible", BOLD), cell(ws, c["eligible"])])
    ws.append([cell(ws, "Excluded", BOLD), cell(ws, c["review"] + c["blocked"])])
    ws.append([cell(ws, "Not PCs (counted apart)", BOLD), cell(ws, c["not_pc"])])
    for source in cl.sources:
        ws.append([cell(ws, source)])
    ws.append([cell(ws, STATEMENT)])
    ws.append([])
    # title, fields, 4 counts, collection files, statement, blank
    header_row = len(HEADER_FIELDS) + 8 + len(cl.sources)
    ws.append(row_cells(ws, list(ELIGIBLE_HEADERS), BOLD))
    ws.print_title_rows = f"{header_row}:{header_row}"
    for row in cl.eligible:
        cells = row_cells(ws, [int(row[0]), *row[1:-1]])
        tick = cell(ws, "")
        tick.border = box
        tick.alignment = Alignment(horizontal="center")
        ws.append([*cells, tick])
    ws.append([])
    ws.append([cell(ws, "Name:", BOLD), cell(ws, ""), cell(ws, "Title:", BOLD)])
    ws.append([cell(ws, "Signature:", BOLD), cell(ws, ""), cell(ws, "Date:", BOLD)])

    ex = sheet("Excluded", EXCLUDED_HEADERS, [8, 16, 18, 10, 80])
    ex.append(row_cells(ex, list(EXCLUDED_HEADERS), BOLD))
    ex.print_title_rows = "1:1"
    for row in cl.excluded:
        ex.append(row_cells(ex, [int(row[0]), *row[1:]]))
    with atomic_writer(target) as f:
        wb.save(f)
    return target


# -- PDF --------------------------------------------------------------------------------------

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


def _unicode_font() -> tuple[Path, Path] | None:
    for d in _FONT_DIRS:
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    return None


def write_pdf(cl: Checklist, target: Path, paper: str = "A4") -> Path:
    from fpdf import FPDF

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(
                0,
                8,
                f"coa-audit certification checklist - page {self.page_no()} of {{nb}}",
                align="C",
            )

    pdf = _PDF(orientation="landscape", unit="mm", format=paper.upper())
    fonts = _unicode_font()
    if fonts is not None:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family = "DejaVu"

        def clean(t: str) -> str:
            return safe_text(t)
    else:  # core font: Latin-1 only
        family = "Helvetica"

        def clean(t: str) -> str:
            return safe_text(t).encode("latin-1", "replace").decode("latin-1")

    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    pdf.set_font(family, "B", 15)
    pdf.cell(
        0,
        9,
        "Certification checklist: devices for Volume Licensing imaging",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(family, size=10)
    for key, label in HEADER_FIELDS:
        value = cl.header[key]
        pdf.set_font(family, "B", 10)
        pdf.cell(62, 6, label + ":")
        pdf.set_font(family, size=10)
        pdf.cell(0, 6, clean(value) if value else "_" * 40, new_x="LMARGIN", new_y="NEXT")
    c = cl.counts
    pdf.ln(2)
    pdf.multi_cell(
        0,
        5,
        f"Devices audited: {c['devices']}.  Eligible for imaging: "
        f"{c['eligible']}.  Excluded: {c['review'] + c['blocked']} ({c['blocked']} "
        f"blocked, {c['review']} under review).{_not_pc_sentence(c)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    for source in cl.sources:
        pdf.multi_cell(0, 5, clean(source), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, STATEMENT, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    line_h = 5.0

    def fit(text: str, width: float) -> str:
        """One line of ``text`` that fits ``width`` mm (measured only when it might not)."""
        if len(text) * 1.9 <= width:  # no glyph of 8 pt text is wider than ~1.9 mm
            return text
        while text and pdf.get_string_width(text + "…") > width - 1.5:
            text = text[: max(0, len(text) - max(1, len(text) // 8))]
        return text + "…"

    def table(
        title: str,
        headers: tuple[str, ...],
        rows: list[tuple[str, ...]],
        weights: tuple[int, ...],
        tick: bool,
        wrap: int | None,
    ) -> None:
        """A bordered table drawn row by row (fpdf2's table() wraps every cell character
        by character, minutes for 100,000 devices); headings repeat on every page, and only
        the ``wrap`` column may take several lines."""
        pdf.set_font(family, "B", 12)
        pdf.cell(0, 8, f"{title} ({len(rows)})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=8)
        if not rows:
            pdf.cell(0, 6, "None.", new_x="LMARGIN", new_y="NEXT")
            return
        total = pdf.epw
        widths = [total * w / sum(weights) for w in weights]

        def headings() -> None:
            pdf.set_font(family, "B", 8)
            pdf.set_fill_color(225, 232, 240)
            for h, w in zip(headers, widths, strict=True):
                pdf.cell(w, line_h + 1, fit(h, w), border=1, fill=True)
            pdf.ln(line_h + 1)
            pdf.set_font(family, size=8)

        headings()
        for row in rows:
            cells = [clean(v) for v in row]
            height = line_h
            lines: list[str] = []
            if wrap is not None and len(cells[wrap]) * 1.9 > widths[wrap] - 2:
                lines = pdf.multi_cell(
                    widths[wrap], line_h, cells[wrap], dry_run=True, output="LINES"
                )
                height = line_h * max(1, len(lines))
            if pdf.will_page_break(height):
                pdf.add_page()
                headings()
            x, y = pdf.get_x(), pdf.get_y()
            for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
                if tick and i == len(cells) - 1:
                    pdf.cell(w, height, "", border=1)
                    pdf.rect(x + w / 2 - 1.6, y + height / 2 - 1.6, 3.2, 3.2)
                elif lines and i == wrap:
                    pdf.rect(x, y, w, height)
                    pdf.multi_cell(w, line_h, text, new_x="RIGHT", new_y="TOP")
                    pdf.set_xy(x + w, y)
                else:
                    pdf.cell(w, height, fit(text, w), border=1)
                x += w
            pdf.ln(height)
        pdf.ln(4)

    table(
        "Eligible devices", ELIGIBLE_HEADERS, cl.eligible, (10, 20, 24, 30, 24, 30, 14), True, None
    )
    table("Excluded devices", EXCLUDED_HEADERS, cl.excluded, (10, 20, 24, 14, 80), False, 4)
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 8, "Signature", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=10)
    for line in (
        "Name: ______________________________     Title: ______________________________",
        "Signature: __________________________     Date: ____________________",
    ):
        pdf.ln(4)
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    with atomic_writer(target) as f:
        f.write(data)
    return target
