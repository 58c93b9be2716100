"""Everything `coa-audit export` (and ctrl+s on screen) writes, in one place."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coa_audit.core.audit import Audit
from coa_audit.core.errors import UsageError
from coa_audit.core.history import Edit, MappingChange
from coa_audit.exporters.atomic import OutputError, write_bytes_atomic
from coa_audit.exporters.checklist import (
    HEADER_FIELDS,
    build_checklist,
    write_md,
    write_pdf,
    write_xlsx,
)
from coa_audit.exporters.corrected import corrected_path, write_corrected
from coa_audit.exporters.formats import CHECKLIST_FORMATS, CHECKLISTS, INPUT_FORMATS
from coa_audit.exporters.report_xlsx import write_audit_report

__all__ = ["CHECKLIST_FORMATS", "ExportRequest", "Written", "export_all", "load_profile"]


@dataclass
class ExportRequest:
    out_dir: Path | None = None
    checklist: Sequence[str] = CHECKLIST_FORMATS
    annotate: bool = False
    header: dict[str, str] = field(default_factory=dict)
    paper: str = "A4"
    json_report: bool = False


@dataclass(frozen=True)
class Written:
    path: Path
    what: str


def load_profile(path: Path) -> dict[str, str]:
    """The checklist header from a profile TOML (keys: customer, agreement_number, provider,
    prepared_by, and optionally target and date)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"profile file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"profile file {path} cannot be read: {exc}") from None
    section = data.get("checklist", data)
    known = {k for k, _ in HEADER_FIELDS}
    unknown = sorted(k for k in section if k not in known and not isinstance(section[k], dict))
    if unknown:
        raise UsageError(
            f"profile file {path}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return {k: str(v) for k, v in section.items() if k in known}


def export_all(
    audit: Audit,
    changes: Sequence[Edit],
    req: ExportRequest,
    mapping_changes: Sequence[MappingChange] = (),
) -> list[Written]:
    inv = audit.inv
    src = Path(inv.source.path)
    out_dir = req.out_dir if req.out_dir is not None else src.parent
    if not out_dir.is_dir():
        raise OutputError(f"output folder {out_dir} does not exist")
    bad = [f for f in req.checklist if f not in CHECKLIST_FORMATS]
    if bad:
        raise UsageError(
            f"--checklist: unknown format(s) {', '.join(bad)}; "
            f"choose from {', '.join(CHECKLIST_FORMATS)}"
        )
    written: list[Written] = []
    target = corrected_path(inv, out_dir)
    annotations = None
    if req.annotate:
        annotations = [
            (audit.status(r), "; ".join(f"{f.code}: {f.message}" for f in audit.findings(r)))
            for r in range(len(inv))
        ]
    notes = write_corrected(inv, target, annotations)
    note = "; ".join(["corrected inventory", *notes])
    fmt = INPUT_FORMATS[inv.source.format]
    if not fmt.patch_in_place:
        note += f" ({fmt.short_note})"
    written.append(Written(target, note))
    stem = src.stem
    report = write_audit_report(
        audit, changes, out_dir / f"{stem}.audit.xlsx", mapping_changes=mapping_changes
    )
    written.append(Written(report, "audit report"))
    if req.json_report:
        from coa_audit.exporters.check_report import report_json

        path = out_dir / f"{stem}.audit.json"
        write_bytes_atomic(path, report_json(audit))
        written.append(Written(path, "audit report (JSON)"))
    if req.checklist:
        cl = build_checklist(audit, req.header)
        writers = {
            "xlsx": lambda p: write_xlsx(cl, p),
            "md": lambda p: write_md(cl, p),
            "pdf": lambda p: write_pdf(cl, p, req.paper),
        }
        for out in CHECKLISTS:
            if out.key in req.checklist:
                path = writers[out.key](out_dir / f"{stem}{out.suffix}")
                written.append(Written(path, f"certification checklist ({out.key})"))
    return written
