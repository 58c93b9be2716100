"""Hand-made xlsx packages: a worksheet part written exactly as a test wants it (comments,
CDATA, processing instructions, prefixes, rows and cells without references...)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from coa_audit.core.model import column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

HEADERS = ["Asset Tag", "Serial Number", "Manufacturer", "Model", "COA Present", "COA Edition"]


def device_row(n: int) -> list[str]:
    return [f"AT-{n:04d}", f"SN{n:06d}", "HP", "EliteBook 840", "Yes", "Windows 11 Pro"]


@dataclass
class Sheet:
    """How the worksheet part is written. ``rows``: the text of each row from row 1."""

    rows: list[list[str]]
    prefix: str = ""  # "x:" puts every element in a prefixed namespace
    comment_before: set[int] = field(default_factory=set)  # rows preceded by a comment
    cdata: set[tuple[int, int]] = field(default_factory=set)  # (row, col) written as CDATA
    pi_before: set[int] = field(default_factory=set)  # rows preceded by a <?pi?>
    no_row_ref: set[int] = field(default_factory=set)  # rows without r=
    no_cell_ref: set[int] = field(default_factory=set)  # rows whose cells have no r=
    gt_attr: set[int] = field(default_factory=set)  # rows with an attribute holding ">"
    shared_formula: bool = False  # column G: a shared formula over the device rows
    trailing: str = ""  # text right of the data (column H) on row 2, never to be erased

    def xml(self) -> bytes:
        p = self.prefix
        ns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
        ns += ' xmlns:t="urn:coa-audit:test"'
        out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>']
        out.append(f"<{p}sheetData>")
        last = len(self.rows)
        for i, values in enumerate(self.rows):
            r = i + 1
            if r in self.comment_before:
                # what a byte-level search for the next row would find first
                out.append(f'<!-- <{p}row r="{r + 1}"><{p}c r="A{r + 1}"/></{p}row> -->')
            if r in self.pi_before:
                out.append(f'<?coa-test <{p}row r="{r + 1}"> ?>')
            attrs = "" if r in self.no_row_ref else f' r="{r}"'
            if r in self.gt_attr:
                attrs += ' spans="1:8" t:note="a>b, \'c\'"'  # ">" is legal in a value
            cells = []
            for c, text in enumerate(values):
                ref = "" if r in self.no_cell_ref else f' r="{column_letter(c)}{r}"'
                body = f"<![CDATA[{text}]]>" if (r, c) in self.cdata else escape(text)
                cells.append(f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>{body}</{p}t></{p}is></{p}c>')
            if self.shared_formula and r == 1:
                ref = "" if r in self.no_cell_ref else ' r="G1"'
                cells.append(f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>Check</{p}t></{p}is></{p}c>')
            if self.shared_formula and r >= 2:
                ref = "" if r in self.no_cell_ref else f' r="G{r}"'
                if r == 2:
                    f = f'<{p}f t="shared" ref="G2:G{last}" si="0">1+1</{p}f>'
                else:
                    f = f'<{p}f t="shared" si="0"/>'
                if r in self.no_cell_ref:
                    cells.append(f'<{p}c r="G{r}">{f}<{p}v>2</{p}v></{p}c>')
                else:
                    cells.append(f"<{p}c{ref}>{f}<{p}v>2</{p}v></{p}c>")
            if self.trailing and r == 2:
                cells.append(
                    f'<{p}c r="H2" t="inlineStr"><{p}is><{p}t>{escape(self.trailing)}'
                    f"</{p}t></{p}is></{p}c>"
                )
            out.append(f"<{p}row{attrs}>{''.join(cells)}</{p}row>")
        out.append(f"</{p}sheetData></{p}worksheet>")
        return "".join(out).encode()


def package(
    path: Path,
    sheet: Sheet | bytes,
    *,
    strict: bool = False,
    target: str = "worksheets/sheet1.xml",
    member: str = "xl/worksheets/sheet1.xml",
    shared_strings: bytes | None = None,
) -> Path:
    """Write a minimal xlsx holding one sheet "Fleet"."""
    main, rel = (STRICT_MAIN, STRICT_REL) if strict else (MAIN, REL)
    xml = sheet.xml() if isinstance(sheet, Sheet) else sheet
    if strict:
        xml = xml.replace(MAIN.encode(), STRICT_MAIN.encode())
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName={quoteattr("/" + member)} ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    )
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
        '<sheets><sheet name="Fleet" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    book_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target={quoteattr(target)}/>'
        + (
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared_strings is not None
            else ""
        )
        + "</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", root_rels)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", book_rels)
        z.writestr(member, xml)
        if shared_strings is not None:
            z.writestr("xl/sharedStrings.xml", shared_strings)
    path.write_bytes(buf.getvalue())
    return path
