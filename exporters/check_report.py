"""The report of `coa-audit check`: JSON (schema coa-audit.report/1), text and CSV."""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Iterator
from typing import Any

import orjson

from core.audit import Audit
from core.codes import code_info
from core.text import safe_text
from exporters.safety import neutralise_csv

__all__ = ["SCHEMA", "report_csv", "report_dict", "report_json", "report_text"]

SCHEMA = "coa-audit.report/1"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coa-audit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _device(audit: Audit, row: int) -> dict[str, Any]:
    inv = audit.inv
    return {
        "row": inv.row_numbers[row],
        "asset_tag": inv.field(row, "asset_tag"),
        "serial_number": inv.field(row, "serial_number"),
        "status": audit.status(row),
        "edition": audit.edition(row),
        "findings": [f.as_dict() for f in audit.findings(row)] if audit.has_findings(row) else [],
    }


def report_dict(audit: Audit) -> dict[str, Any]:
    inv = audit.inv
    src = inv.source
    return {
        "schema": SCHEMA,
        "tool": {"name": "coa-audit", "version": _version()},
        "source": {
            "path": src.path,
            "sha256": src.sha256,
            "sheet": src.sheet,
            "header_row": src.header_row,
            "format": src.format,
            "notices": list(src.notices),
        },
        "policy": {
            "target": audit.policy.target,
            "agreement": audit.policy.agreement,
            "source": audit.policy.source,
        },
        "mapping": {f: inv.headers[c] for f, c in inv.mapping.items()},
        "summary": audit.summary().as_dict(),
        "devices": [_device(audit, r) for r in range(len(inv))],
    }


def report_json(audit: Audit) -> bytes:
    return orjson.dumps(report_dict(audit), option=orjson.OPT_INDENT_2) + b"\n"


def _problem_rows(audit: Audit) -> Iterator[int]:
    return (r for r in range(len(audit.inv)) if audit.status_level(r) > 0)


def report_text(audit: Audit, width: int = 80) -> str:
    """A summary and the problem rows, readable in an 80-column terminal."""
    inv = audit.inv
    src = inv.source
    s = audit.summary()
    out = io.StringIO()
    w = out.write
    where = f", sheet {safe_text(src.sheet)!r}" if src.sheet else ""
    w(f"coa-audit {_version()}: {safe_text(src.path)}{where}, header row {src.header_row}\n")
    for notice in src.notices:
        w(f"note: {safe_text(notice)}\n")
    w(
        f"policy: {audit.policy.target_label}, {audit.policy.agreement} agreement "
        f"({safe_text(audit.policy.source)})\n\n"
    )
    w(f"devices {s.devices}   eligible {s.eligible}   review {s.review}   blocked {s.blocked}\n")
    if s.findings:
        w("\nfindings by code\n")
        for code, count in sorted(s.findings.items(), key=lambda kv: (-kv[1], kv[0])):
            info = code_info(code)
            w(f"  {code:<24} {info.severity:<8} {count:>8}\n")
    problems = list(_problem_rows(audit))
    if problems:
        w(f"\nproblem devices ({len(problems)})\n")
        wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="      ")
        for r in problems:
            tag = safe_text(inv.field(r, "asset_tag")) or "-"
            serial = safe_text(inv.field(r, "serial_number")) or "-"
            status = audit.status(r).upper()
            line = f"row {inv.row_numbers[r]:<6} {status:<8} tag {tag}  serial {serial}"
            w(line[:width] + "\n")
            for f in audit.findings(r):
                col = f" [{f.column}]" if f.column else ""
                w(wrap.fill(f"{f.code}{col}: {safe_text(f.message)}") + "\n")
    else:
        w("\nevery device is eligible\n")
    return out.getvalue()


def report_csv(audit: Audit) -> str:
    """One line per finding: row, asset tag, serial, status, code, severity, message."""
    inv = audit.inv
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR in a value gets quoted
    writer.writerow(
        ["row", "asset_tag", "serial_number", "status", "code", "severity", "column", "message"]
    )
    for r in _problem_rows(audit):
        tag = neutralise_csv(inv.field(r, "asset_tag"))
        serial = neutralise_csv(inv.field(r, "serial_number"))
        status = audit.status(r)
        for f in audit.findings(r):
            writer.writerow(
                [
                    inv.row_numbers[r],
                    tag,
                    serial,
                    status,
                    f.code,
                    f.severity,
                    f.column,
                    neutralise_csv(f.message),
                ]
            )
    return out.getvalue()
