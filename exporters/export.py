"""Everything `coa-audit export` (and ctrl+s on screen) writes, in one place."""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from coa_audit.core.audit import Audit
from coa_audit.core.errors import Cancelled, CoaError, UsageError
from coa_audit.core.events import Mark, ScanFlag
from coa_audit.core.files import Inputs, parse_toml, read_small_text
from coa_audit.core.history import Edit, MappingChange
from coa_audit.core.model import Inventory
from coa_audit.core.policy import Policy
from coa_audit.core.text import fold
from coa_audit.exporters.atomic import (
    OutputError,
    atomic_writer,
    in_the_way,
    write_bytes_atomic,
)
from coa_audit.exporters.checklist import (
    PROFILE_FIELDS,
    Checklist,
    build_checklist,
    check_header,
)
from coa_audit.exporters.corrected import corrected_path, write_corrected
from coa_audit.exporters.formats import CHECKLIST_FORMATS, CHECKLISTS, checklist_output
from coa_audit.exporters.report_xlsx import write_audit_report
from coa_audit.exporters.side_by_side import Job, run_jobs
from coa_audit.exporters.walk_file import walk_csv
from coa_audit.exporters.worklist import group_field, write_worklist
from coa_audit.importers.formats import input_format

__all__ = [
    "CHECKLIST_FORMATS",
    "Cancelled",
    "ExportRequest",
    "Exportable",
    "Written",
    "export_all",
    "export_session",
    "load_profile",
]


Progress = Callable[[str, int, int], None]
Tick = Callable[[int, int], None]


@dataclass
class ExportRequest:
    out_dir: Path | None = None
    checklist: Sequence[str] = CHECKLIST_FORMATS
    annotate: bool = False
    header: dict[str, str] = field(default_factory=dict)
    paper: str = "A4"
    json_report: bool = False
    checklist_by: str | None = None  # a field: one checklist per value (per site...)
    worklist: frozenset[str] | None = None  # statuses to list for the technicians
    worklist_rows: Sequence[int] | None = None  # or exactly these rows (a filter on screen)
    worklist_by: str | None = None  # group the worklist by this field
    # the packet of the earlier export this register continues (a corrected workbook); by
    # default looked for beside a file named NAME.corrected.EXT
    continues: Path | None = None
    side_by_side: bool = False  # fork one child to write half the files (command line only)
    # every path the run read: no output may overwrite one (a walk read gets a new name)
    inputs: Inputs = field(default_factory=Inputs)


@dataclass(frozen=True)
class Written:
    path: Path
    what: str


def load_profile(path: Path) -> dict[str, str]:
    """The packet's details from a profile TOML (the keys of PROFILE_FIELDS; "target" is
    read as "product", the name older profiles used)."""
    try:
        data = parse_toml(read_small_text(path, "profile file"))
    except FileNotFoundError:
        raise UsageError(f"profile file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"profile file {path} cannot be read: {exc}") from None
    section = data.get("checklist", data)
    known = {*PROFILE_FIELDS, "target"}
    unknown = sorted(k for k in section if k not in known and not isinstance(section[k], dict))
    if unknown:
        raise UsageError(
            f"profile file {path}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return {k: str(v) for k, v in section.items() if k in known}


class Exportable(Protocol):
    """What an export needs of an open inventory (``session.Session`` has it; the
    exporters sit beside the session layer and never import it)."""

    audit: Audit
    policy: Policy
    inventory: Inventory
    mapping_changes: list[MappingChange]
    baseline: bytes
    scan_flags: list[ScanFlag]
    inputs: Inputs

    def changes(self) -> list[Edit]: ...

    def state(self) -> dict[tuple[int, int], tuple[str, tuple[Mark, ...]]]: ...

    def mark_exported(
        self, state: dict[tuple[int, int], tuple[str, tuple[Mark, ...]]] | None = None
    ) -> None: ...


def export_session(
    session: Exportable,
    req: ExportRequest,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Written]:
    """The export, as the command line and the app both run it: the packet's details
    checked against the policy, every output written (all or none), then the edits written
    out are marked as exported (the quit question stops counting them)."""
    state = session.state()  # what this export writes, whatever comes after
    for path in session.inputs:
        req.inputs.add(path)
    req.header = check_header(req.header, session.policy)
    written = export_all(
        session.audit,
        session.changes(),
        req,
        session.mapping_changes,
        baseline=session.baseline,
        scans=session.scan_flags,
        progress=progress,
    )
    session.mark_exported(state)
    return written


def continued_export(source: Path, given: Path | None = None) -> str:
    """What a packet says of the export it continues: a register named NAME.corrected.EXT
    (or one whose earlier packet is ``given``) is the corrected inventory of an earlier
    export, whose packet lists the edits made before it. "" for any other register."""
    if given is not None:
        return (
            f"This register continues an earlier export: the edits made before it are listed "
            f"in that export's packet, {given.name}."
        )
    name = source.name
    if ".corrected." not in name:
        return ""
    stem = name.split(".corrected.")[0]
    found = [
        p.name
        for p in sorted(source.parent.glob(f"{glob.escape(stem)}.checklist*"))
        if p.suffix in (".md", ".pdf", ".xlsx")
    ]
    if found:
        return (
            f"This register is the corrected inventory of an earlier export ({name}); the "
            f"edits made before that export are listed in its packet: {', '.join(found)}."
        )
    return (
        f"This register is the corrected inventory of an earlier export ({name}); the edits "
        "made before that export are listed in the earlier packet, not in this one."
    )


def export_all(
    audit: Audit,
    changes: Sequence[Edit],
    req: ExportRequest,
    mapping_changes: Sequence[MappingChange] = (),
    baseline: bytes | None = None,
    scans: Sequence[ScanFlag] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Written]:
    """Write every output the request asks for. ``progress(step, done, total)`` is called
    along the way and may raise (``Cancelled``) to stop: each file is written whole or not
    at all, and the error names the files already written."""
    written: list[Written] = []
    final_dir, parts = _prepare(audit, req)
    try:
        with _staged(final_dir) as stage:
            _export(
                audit, changes, req, mapping_changes, baseline, scans, progress, written,
                stage, parts,
            )  # fmt: skip
            _publish(written, stage, final_dir, req.inputs)
    except Cancelled:
        raise Cancelled("export cancelled: no file was written") from None
    return written


def _prepare(
    audit: Audit, req: ExportRequest
) -> tuple[Path, list[tuple[str, list[int] | None, str]]]:
    """The output folder (created when missing) and the checklists' parts; every option is
    checked here, before the first file is written."""
    inv = audit.inv
    src = Path(inv.source.path)
    out_dir = req.out_dir if req.out_dir is not None else src.parent
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out-dir {out_dir} is a file, not a folder: name a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)  # a missing folder is created
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out_dir}: {exc.strerror}") from None
    bad = [f for f in req.checklist if f not in CHECKLIST_FORMATS]
    if bad:
        raise UsageError(
            f"--checklist: unknown format(s) {', '.join(bad)}; "
            f"choose from {', '.join(CHECKLIST_FORMATS)}"
        )
    # every option is checked before the first file is written
    parts = _parts(audit, req.checklist_by) if req.checklist else []
    if req.worklist_by:
        group_field(audit, req.worklist_by)
    return out_dir, parts


@contextlib.contextmanager
def _staged(final_dir: Path) -> Iterator[Path]:
    """A hidden folder inside the output folder (same file system: a rename moves a file
    whole) where every output of the run is written; removed with whatever is left in it,
    so a refused, failed or cancelled export leaves no file behind."""
    try:
        stage = Path(tempfile.mkdtemp(prefix=".coa-audit-export-", dir=final_dir))
    except OSError as exc:
        raise OutputError(
            f"cannot write in the output folder {final_dir}: {exc.strerror}"
        ) from None
    try:
        yield stage
    except CoaError as exc:  # named by where it was going, and said that nothing was left
        message = str(exc).replace(f"{stage}{os.sep}", f"{final_dir}{os.sep}")
        said = isinstance(exc, (Cancelled, _Placement)) or "no file was written" in message
        if not said:
            message += "; no file was written"
        exc.args = (message, *exc.args[1:])  # the same error, its type and fields kept
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class _Placement(OutputError):
    """Placing the outputs failed; the message says what the folder holds afterwards."""


def _publish(written: list[Written], stage: Path, final_dir: Path, inputs: Inputs) -> None:
    """Every output written: move them all into the output folder, or none. Each
    destination is checked first (an input of the run is never overwritten: a walk read
    gets a new name, anything else is refused; a folder or device in the way is refused);
    a file a destination held is set aside in the stage until every output is placed, and
    put back if a later one cannot be, so a failure leaves the folder as it was."""
    targets: list[Path] = []
    for w in written:
        target = final_dir / w.path.relative_to(stage)
        if inputs.clash(target) is not None:
            if not target.name.endswith(".walk.csv"):
                inputs.refuse(target, "output")
            target = _fresh_walk_name(target, inputs, targets)
        why = _in_the_way(target)
        if why is not None:
            raise OutputError(f"{target}: {why}; no file was written")
        targets.append(target)
    placed: list[tuple[Path, Path | None]] = []  # (destination, what it held, set aside)
    for i, (w, target) in enumerate(zip(written, targets, strict=True)):
        try:
            kept = None
            if os.path.lexists(target):
                kept = stage / f".held-{i}"
                os.replace(target, kept)
            placed.append((target, kept))
            os.replace(w.path, target)
        except OSError as exc:
            left = _put_back(placed)
            raise _Placement(
                f"{target}: could not be put in place ({exc.strerror or exc}); "
                + (
                    "no file was written (the folder is as it was)"
                    if not left
                    else "these could not be put back as they were: " + ", ".join(left)
                )
            ) from None
    for i, (w, target) in enumerate(zip(written, targets, strict=True)):
        what = w.what
        if target.name != w.path.name:
            what += f"; {w.path.name} is a file this run read, kept as it was"
        written[i] = Written(target, what)


def _fresh_walk_name(target: Path, inputs: Inputs, taken: list[Path]) -> Path:
    """A name beside ``target`` (NAME.walk.csv) that no file holds and no input is:
    NAME.walk-2.csv, NAME.walk-3.csv..."""
    stem = target.name[: -len(".walk.csv")]
    n = 2
    while True:
        fresh = target.with_name(f"{stem}.walk-{n}.csv")
        if not os.path.lexists(fresh) and fresh not in taken and inputs.clash(fresh) is None:
            return fresh
        n += 1


def _in_the_way(target: Path) -> str | None:
    """Why an output cannot be placed at ``target`` (None: it can), with what to do."""
    why = in_the_way(target)
    return None if why is None else f"{why}: move it or choose another --out-dir"


def _put_back(placed: list[tuple[Path, Path | None]]) -> list[str]:
    """Undo the placements made so far, newest first: each destination gets back what it
    held (or nothing). The names that could not be put back."""
    left: list[str] = []
    for target, kept in reversed(placed):
        try:
            if kept is not None:
                os.replace(kept, target)
            elif os.path.lexists(target):
                os.unlink(target)
        except OSError:
            left.append(str(target))
    return left


def _export(
    audit: Audit,
    changes: Sequence[Edit],
    req: ExportRequest,
    mapping_changes: Sequence[MappingChange],
    baseline: bytes | None,
    scans: Sequence[ScanFlag],
    progress: Callable[[str, int, int], None] | None,
    written: list[Written],
    out_dir: Path,
    parts: list[tuple[str, list[int] | None, str]],
) -> None:
    inv = audit.inv
    src = Path(inv.source.path)
    stem = src.stem
    jobs: list[Job] = []

    def job(
        cost: float,
        run: Callable[[Callable[[str], Tick | None]], list[Written]],
        shared: str = "",
        setup: float = 0.0,
    ) -> None:
        def with_progress(report: Progress | None) -> list[Written]:
            def step(what: str) -> Tick | None:
                if report is None:
                    return None
                report(what, 0, 1)
                return lambda done, total: report(what, done, total)

            return run(step)

        jobs.append(Job(cost, with_progress, shared, setup))

    def corrected(step: Callable[[str], Tick | None]) -> list[Written]:
        target = corrected_path(inv, out_dir)
        step("corrected inventory")
        annotations = None
        if req.annotate:
            annotations = [
                (audit.status(r), "; ".join(f"{f.code}: {f.message}" for f in audit.findings(r)))
                for r in range(len(inv))
            ]
        notes = write_corrected(inv, target, annotations)
        note = "; ".join(["corrected inventory", *notes])
        fmt = input_format(inv.source.format)
        if not fmt.patch_in_place:
            note += f" ({fmt.short_note})"
        return [Written(target, note)]

    def report(step: Callable[[str], Tick | None]) -> list[Written]:
        path = write_audit_report(
            audit,
            changes,
            out_dir / f"{stem}.audit.xlsx",
            mapping_changes=mapping_changes,
            tick=step("audit report"),
        )
        return [Written(path, "audit report")]

    def json_report(step: Callable[[str], Tick | None]) -> list[Written]:
        from coa_audit.exporters.check_report import write_report_json

        path = out_dir / f"{stem}.audit.json"
        step("audit report (JSON)")
        with atomic_writer(path) as out:  # streamed: the devices a chunk at a time
            write_report_json(audit, out, changes, mapping_changes)
        return [Written(path, "audit report (JSON)")]

    def worklist(step: Callable[[str], Tick | None]) -> list[Written]:
        path = out_dir / f"{stem}.worklist.xlsx"
        step("worklist")
        count = write_worklist(
            audit, path, statuses=req.worklist, rows=req.worklist_rows, by=req.worklist_by
        )
        return [Written(path, f"worklist ({count} devices)")]

    built: dict[int, Checklist] = {}  # per process: each side builds what it needs once
    continues = continued_export(src, req.continues)

    def checklist(index: int, key: str, step: Callable[[str], Tick | None]) -> list[Written]:
        part, rows, suffix = parts[index]
        if index not in built:
            built[index] = build_checklist(
                audit,
                req.header,
                changes=changes,
                baseline=baseline,
                rows=rows,
                part=part,
                scans=scans,
                continues=continues,
                tick=step(f"checklist{' ' + part if part else ''}"),
            )
        cl = built[index]
        out = checklist_output(key)
        tick = step(f"checklist ({key})")
        name = out.suffix.replace(".checklist", f".checklist{suffix}")
        path = out.write(cl, out_dir / f"{stem}{name}", req.paper, tick)
        what = f"certification checklist ({key}{', ' + part if part else ''})"
        return [Written(path, what)]

    # costs in seconds per 100,000 devices, measured on the benchmark's two fleets (few and
    # nearly all with a finding), used only to share the files between two processes: the
    # report grows with the devices that have a finding, the packet with the eligible ones
    eligible = audit.summary().eligible / max(len(inv), 1)
    with_findings = 1.0 - eligible
    job(1.6 + (2.0 if req.annotate else 0.0), corrected)
    job(0.2 + 7.5 * with_findings, report)
    if req.json_report:
        job(0.5, json_report)
    if req.worklist is not None or req.worklist_rows is not None:
        job(1.0, worklist)
    rows_total = max(len(inv), 1)
    for index, (_part, rows, _suffix) in enumerate(parts):
        share = (len(rows) if rows is not None else len(inv)) / rows_total
        build = (0.5 + 2.6 * eligible) * share  # the packet's rows: once per process
        for out in CHECKLISTS:
            if out.key in req.checklist:
                cost = (out.cost + out.cost_eligible * eligible) * share
                run = functools.partial(checklist, index, out.key)
                job(cost, run, shared=f"packet {index}", setup=build)

    walk = walk_csv(audit, list(scans))
    if walk is not None:  # the walk outlives the export: a file of its own, beside the rest

        def walk_file(step: Callable[[str], Tick | None]) -> list[Written]:
            path = out_dir / f"{stem}.walk.csv"
            step("walk")
            write_bytes_atomic(path, walk)
            return [Written(path, "the walk (load it again with --walk)")]

        job(0.1, walk_file)

    results: dict[int, list[Written]] = {}

    def done(index: int, files: list[Written]) -> None:
        results[index] = files
        written[:] = [w for i in sorted(results) for w in results[i]]

    run_jobs(jobs, progress, done, fork=req.side_by_side)


def _parts(audit: Audit, by: str | None) -> list[tuple[str, list[int] | None, str]]:
    """(title, rows, file name part) of each checklist: one for the fleet, or one per value
    of the field ``by`` (so each site team gets the pages of its own walk)."""
    if not by:
        return [("", None, "")]
    inv = audit.inv
    fname = by.strip().lower().replace(" ", "_")
    if fname not in inv.mapping:
        mapped = ", ".join(sorted(inv.mapping))
        raise UsageError(f"--checklist-by {by!r}: no column is mapped to it; mapped: {mapped}")
    groups: dict[str, list[int]] = {}
    for r in range(len(inv)):
        groups.setdefault(" ".join(inv.field(r, fname).split()), []).append(r)
    used: set[str] = set()
    out: list[tuple[str, list[int] | None, str]] = []
    for value in sorted(groups, key=lambda v: (v == "", v.casefold())):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", fold(value)).strip("-")[:40] or "none"
        base, n = slug, 2
        while slug.casefold() in used:  # "Köln" and "koln": two files, never one
            slug, n = f"{base}-{n}", n + 1
        used.add(slug.casefold())
        shown = value or "(blank)"
        out.append((f"{fname}: {shown}", groups[value], f".{slug}"))
    return out
