"""The report of `coa-audit check`: JSON (schema coa-audit.report/1), text and CSV.

Every text goes through ``exporters.safety``: the JSON's every string masked (``shown_json``,
and column by column for the devices), the text report's every value ``printed``, the CSV
written by ``safety.CsvTable``."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from coa_audit.core.audit import Audit, Finding
from coa_audit.core.codes import code_info
from coa_audit.core.events import Mark
from coa_audit.core.history import Edit, MappingChange
from coa_audit.core.model import WALK_FIELDS, Inventory
from coa_audit.core.policy import builtin_sha256
from coa_audit.core.status import PROBLEM_LEVELS, STATUSES, Status
from coa_audit.core.text import safe_field
from coa_audit.exporters.changes import change_records
from coa_audit.exporters.safety import CsvTable, printed, shown, shown_column, shown_json
from coa_audit.exporters.side_by_side import can_fork, run_beside

__all__ = [
    "SCHEMA",
    "report_csv",
    "report_json",
    "report_text",
    "write_report_json",
]

SCHEMA = "coa-audit.report/1"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coa-audit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class _Devices:
    """Every device of the report, ordered by row, built column-wise in chunks (a million
    rows stay quick and never sit in memory all at once). The columns are read once, when
    it is made; any range of rows is then built from them (one half here and the other in
    a forked child, which sees what was read without copying it)."""

    def __init__(self, audit: Audit) -> None:
        inv = audit.inv
        self.audit = audit
        self.n = len(inv)

        def column(fname: str) -> list[str] | None:
            col = inv.mapping.get(fname)
            return shown_column(inv.column_values(col)) if col is not None else None

        self.tags, self.serials = column("asset_tag"), column("serial_number")
        self.hosts = column("hostname")
        self.levels = audit.status_levels()
        self.editions = audit.edition_blocks()
        self.walked = audit.walked_rows()  # accepted devices: eligible, and their ATTESTED
        # the walk's marks by device (a sparse few): each a record, as the journal keeps it
        self.marks: dict[int, dict[str, list[dict[str, Any]]]] = {}
        walk_fields = {inv.mapping[f]: f for f in WALK_FIELDS if f in inv.mapping}
        for (r, c), held in inv.marks.items():
            if c in walk_fields and held:
                self.marks.setdefault(r, {})[walk_fields[c]] = [_mark_dict(m) for m in held]
        self.evidence = audit.evidence_types()

    def chunks(self, start: int, stop: int, chunk: int = 20_000) -> Iterator[list[dict[str, Any]]]:
        """The devices of rows ``start`` to ``stop`` (not included), ``chunk`` at a time."""
        audit, levels, editions = self.audit, self.levels, self.editions
        tags, serials, hosts, marks = self.tags, self.serials, self.hosts, self.marks
        evidence, walked = self.evidence, self.walked
        rows = audit.inv.row_numbers
        masked: dict[int, dict[str, Any]] = {}  # the blocks are shared: each masked once

        def edition(block: dict[str, Any]) -> dict[str, Any]:
            got = masked.get(id(block))
            if got is None:
                text = block.get("text")
                safe = shown(text) if isinstance(text, str) else text
                got = masked[id(block)] = block if safe == text else {**block, "text": safe}
            return got

        findings = audit.findings
        as_dict: dict[Finding, dict[str, Any]] = {}  # shared findings serialise once

        def finding_dicts(i: int) -> list[dict[str, Any]]:
            out = []
            for f in findings(i):
                d = as_dict.get(f)
                if d is None:
                    d = shown_json(f.as_dict())
                    if not f.related_rows:
                        as_dict[f] = d
                out.append(d)
            return out

        eligible = Status.ELIGIBLE
        for first in range(start, stop, chunk):
            yield [
                {
                    "row": rows[i],
                    "asset_tag": tags[i] if tags is not None else "",
                    "serial_number": serials[i] if serials is not None else "",
                    "hostname": hosts[i] if hosts is not None else "",
                    "status": STATUSES[levels[i]],
                    # what certifies an eligible device, in the packet's words
                    "evidence": shown(evidence(i)) if levels[i] == eligible else None,
                    "edition": edition(editions[i]),
                    "findings": finding_dicts(i) if levels[i] or i in walked else [],
                    "walk": marks.get(i, {}),
                }
                for i in range(first, min(first + chunk, stop))
            ]

    def write(self, out: BinaryIO, start: int, stop: int) -> None:
        """The devices of rows ``start`` to ``stop`` as JSON array items, comma-separated
        (no brackets)."""
        first = True
        for part in self.chunks(start, stop):
            if not part:
                continue
            if not first:
                out.write(b",")
            out.write(_escaped(orjson.dumps(part))[1:-1])
            first = False


def _mark_dict(mark: Mark) -> dict[str, Any]:
    """A mark as the report carries it: its fields, every text with keys masked."""
    d: dict[str, Any] = shown_json(mark.as_dict())
    return d


def _json_safe(value: Any) -> Any:
    """Every text as the report may hold it (``safety.shown``: keys masked), and file names
    as JSON can hold them: bytes that are not UTF-8 (escaped as surrogates by the operating
    system layer) become U+FFFD."""
    if isinstance(value, str):
        return shown(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {_json_safe(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _head(audit: Audit) -> dict[str, Any]:
    inv = audit.inv
    src = inv.source
    return _json_safe(
        {
            "schema": SCHEMA,
            "tool": {"name": "coa-audit", "version": _version()},
            "source": {
                "path": src.path,
                "sha256": src.sha256,
                "sheet": src.sheet,
                "header_row": src.header_row,
                "format": src.format,
                "notices": inv.notices(),
            },
            "policy": {
                "target": audit.policy.target,
                "agreement": audit.policy.agreement,
                "source": audit.policy.source,
                **({"sha256": audit.policy.source_sha256} if audit.policy.source_sha256 else {}),
                "version": audit.policy.version,
                "builtin_sha256": builtin_sha256(),
            },
            "mapping": {f: inv.headers[c] for f, c in inv.mapping.items() if f not in WALK_FIELDS},
            "summary": audit.summary().as_dict(),
            **({"collection": inv.collection.as_dict(inv)} if inv.collection is not None else {}),
        }
    )


# C1 controls (U+009B is a one-byte CSI), bidirectional overrides and isolates, line and
# paragraph separators, as UTF-8: written as \uXXXX escapes, the same text to a JSON reader
# and nothing a terminal acts on when the report is printed
_UNSAFE_JSON = re.compile(
    rb"\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c"
)


def _escaped(data: bytes) -> bytes:
    if data.isascii():  # most reports: one fast pass, none of these can be there
        return data
    if _UNSAFE_JSON.search(data) is None:
        return data
    return _UNSAFE_JSON.sub(lambda m: b"\\u%04x" % ord(m.group().decode("utf-8")), data)


# fewer devices than this are written by one process: a fork costs more than it saves
BESIDE_FROM = 20_000


def write_report_json(
    audit: Audit,
    out: BinaryIO,
    changes: Sequence[Edit] = (),
    mapping_changes: Sequence[MappingChange] = (),
    beside: Path | None = None,
) -> None:
    """One compact JSON document (pipe it through `jq .` to read it), written in chunks:
    the devices of a million-row fleet never sit in memory as one list. ``changes``: the
    edits an export writes, each with who, when, how and why (as the Changes sheet).

    ``beside``: a folder where a forked child may set aside the second half of the devices
    while this process writes the first (``side_by_side``: where a fork cannot be made, one
    after the other; where the folder is full, this process writes that half too); the
    bytes are the same either way."""
    data = _head(audit)
    if changes or mapping_changes:
        data["changes"] = _json_safe(list(change_records(audit, changes, mapping_changes)))
    head = _escaped(orjson.dumps(data))
    devices = _Devices(audit)
    n = devices.n
    out.write(head[:-1] + b',"devices":[')
    if beside is None or n < BESIDE_FROM or not can_fork() or not _beside(devices, out, beside):
        devices.write(out, 0, n)
    out.write(b"]}\n")


def _beside(devices: _Devices, out: BinaryIO, folder: Path) -> bool:
    """The devices written by two processes: the first half here, the second by a forked
    child into an unnamed file in ``folder``, appended after. False, with nothing written,
    when that file cannot be made; where the child cannot write its half (its folder is
    full), this process writes it: the report is the same either way."""
    n = devices.n
    half = n // 2
    with contextlib.ExitStack() as stack:
        try:
            spill = stack.enter_context(tempfile.TemporaryFile(dir=folder))
        except OSError:
            return False

        def theirs() -> None:
            devices.write(spill, half, n)
            spill.flush()

        done = False

        def mine() -> None:
            nonlocal done
            devices.write(out, 0, half)
            done = True

        try:
            run_beside(mine, theirs)
        except OSError:
            if not done:  # this process's own half failed: the report cannot be written
                raise
            out.write(b",")
            devices.write(out, half, n)
            return True
        out.write(b",")
        spill.seek(0)
        shutil.copyfileobj(spill, out, 1 << 20)
    return True


def report_json(
    audit: Audit, changes: Sequence[Edit] = (), mapping_changes: Sequence[MappingChange] = ()
) -> bytes:
    buf = io.BytesIO()
    write_report_json(audit, buf, changes, mapping_changes)
    return buf.getvalue()


def _problem_rows(audit: Audit) -> Iterator[int]:
    return (r for r in range(len(audit.inv)) if audit.status_level(r) in PROBLEM_LEVELS)


def report_text(audit: Audit, width: int = 80) -> str:
    """A summary and the problem rows, readable in an 80-column terminal."""
    inv = audit.inv
    src = inv.source
    s = audit.summary()
    out = io.StringIO()
    w = out.write
    where = f", sheet {printed(src.sheet)!r}" if src.sheet else ""
    w(f"coa-audit {_version()}: {printed(src.path)}{where}, header row {src.header_row}\n")
    for notice in audit.inv.notices():
        w(f"note: {printed(notice)}\n")
    w(
        f"policy: {printed(audit.policy.target_label)}, {printed(audit.policy.agreement)} "
        f"agreement ({printed(audit.policy.source)})\n\n"
    )
    w(f"devices {s.devices}   eligible {s.eligible}   review {s.review}   blocked {s.blocked}")
    not_pc = s.not_pc  # devices taken out of the order are not "not PCs"
    w(f"   not PCs {not_pc}" if not_pc else "")
    w(f"   taken out {s.removed}\n" if s.removed else "\n")
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
            tag = printed(inv.field(r, "asset_tag")) or "-"
            serial = printed(inv.field(r, "serial_number")) or "-"
            status = audit.status(r).upper()
            line = f"row {inv.row_numbers[r]:<6} {status:<8} tag {tag}  serial {serial}"
            w(line[:width] + "\n")
            for f in audit.findings(r):
                col = f" [{f.column}]" if f.column else ""
                w(wrap.fill(f"{f.code}{printed(col)}: {printed(f.message)}") + "\n")
    else:
        w("\nevery device is eligible\n")
    if inv.collection is not None:
        _collection_text(inv, w, width)
    return out.getvalue()


def _collection_text(inv: Inventory, w: Callable[[str], object], width: int) -> None:
    """The two lists a register alone cannot give, from the evidence collected on the PCs."""
    c = inv.collection
    files = ", ".join(f"{printed(Path(f.path).name)} ({f.rows} rows)" for f in c.files)
    w(f"\ncollected evidence: {files}; {c.matched} register devices matched")
    w(f" ({c.by_hostname} by host name)\n" if c.by_hostname else "\n")
    for note in c.ambiguous:
        w(f"  ambiguous: {printed(note)}\n"[: width + 1])
    w(f"\nin the register, not seen in the collection ({len(c.not_collected)})\n")
    for r in c.not_collected:
        tag = printed(inv.field(r, "asset_tag")) or "-"
        serial = printed(inv.field(r, "serial_number")) or "-"
        host = printed(inv.field(r, "hostname")) or "-"
        w(f"    row {inv.row_numbers[r]:<6} tag {tag}  serial {serial}  host {host}"[:width] + "\n")
    w(f"\nreported in, not in the register ({len(c.not_in_register)})\n")
    for rec in c.not_in_register:
        host, serial = (
            printed(rec["hostname"]) or "-",
            printed(rec["serial_number"]) or "-",
        )
        line = (
            f"    {host}  serial {serial}"
            f"  {printed(rec['manufacturer'])} {printed(rec['model'])}"
            f"  ({printed(rec['file'])} row {rec['row']})"
        )
        w(line[:width] + "\n")


def report_csv(audit: Audit) -> str:
    """One line per finding: row, asset tag, serial, status, code, severity, message; no
    control character (a terminal escape) in a report meant for people and pipes."""
    inv = audit.inv
    out = CsvTable(
        ["row", "asset_tag", "serial_number", "status", "code", "severity", "column", "message"],
        clean=safe_field,
    )
    for r in _problem_rows(audit):
        tag, serial = inv.field(r, "asset_tag"), inv.field(r, "serial_number")
        status = str(audit.status(r))
        for f in audit.findings(r):
            row = [inv.row_numbers[r], tag, serial, status, f.code, f.severity, f.column]
            out.row([*row, f.message])
    return out.text()
