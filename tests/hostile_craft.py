"""Hand-made hostile packages for the checkers of the tool's own: xlsx sheets with text the
checkers must step over, table parts, shared strings, and OpenDocument content."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tests.xlsx_craft import HEADERS, PKG_REL, REL, Sheet, device_row, package

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:x="urn:coa-audit:test"'
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
    'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
    'manifest:media-type="text/xml"/></manifest:manifest>'
)


def numeric_sheet(extra: bytes = b"", rows: int = 3) -> bytes:
    """A sheet of devices whose serial numbers are numbers (so their formats are read),
    with ``extra`` at the start of the sheet data."""
    xml = Sheet([HEADERS] + [device_row(i) for i in range(1, rows + 1)]).xml()
    for i in range(1, rows + 1):
        text = f'<c r="B{i + 1}" t="inlineStr"><is><t>SN{i:06d}</t></is></c>'.encode()
        xml = xml.replace(text, f'<c r="B{i + 1}" s="0"><v>{100000 + i}</v></c>'.encode())
    return xml.replace(b"<sheetData>", b"<sheetData>" + extra, 1)


def add_parts(path: Path, extra: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts.update(extra)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in parts.items():
            z.writestr(name, blob)
    path.write_bytes(buf.getvalue())
    return path


def table_xlsx(path: Path, tables: list[dict[str, str]]) -> Path:
    """A small inventory whose sheet has these table parts (attributes of each)."""
    package(path, Sheet([HEADERS] + [device_row(i) for i in range(1, 4)]))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL}/table" Target="../tables/table{i}.xml"/>'
        for i in range(1, len(tables) + 1)
    )
    parts = {
        "xl/worksheets/_rels/sheet1.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
            f"{rels}</Relationships>"
        ).encode()
    }
    for i, attrs in enumerate(tables, 1):
        shown = " ".join(f'{k}="{v}"' for k, v in {"id": str(i), **attrs}.items())
        parts[f"xl/tables/table{i}.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><table xmlns="http://schemas.openxmlformats'
            f'.org/spreadsheetml/2006/main" {shown}><tableColumns count="1"><tableColumn '
            'id="1" name="Asset Tag"/></tableColumns></table>'
        ).encode()
    return add_parts(path, parts)


def ods(path: Path, body: str, name: str = "Fleet", ns: str = ODS_NS) -> Path:
    """An OpenDocument spreadsheet of one table holding ``body`` (its rows)."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="{name}">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", MANIFEST)
        z.writestr("content.xml", content)
    path.write_bytes(buf.getvalue())
    return path


def ods_cell(text: str) -> str:
    return (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )


def ods_row(values: list[str]) -> str:
    return "<table:table-row>" + "".join(ods_cell(v) for v in values) + "</table:table-row>"


def ods_devices(rows: int = 3) -> str:
    """The header and ``rows`` devices, as table rows."""
    return ods_row(HEADERS) + "".join(ods_row(device_row(i)) for i in range(1, rows + 1))
