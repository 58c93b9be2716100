"""The certification checklist's model: what the packet says, built once from the audit
(``build_checklist``) as typed tables every format prints in one order (``Checklist.tables``),
with the header and signature lines every format prints the same way. The writers are
``markdown``, ``xlsx`` and ``pdf`` beside this module."""

from __future__ import annotations

import datetime as dt
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from coa_audit.core.audit import Audit, EvidenceReader, mask_key
from coa_audit.core.codes import code_info
from coa_audit.core.errors import UsageError
from coa_audit.core.events import CONFLICT, ScanFlag
from coa_audit.core.history import Edit
from coa_audit.core.model import NO_EVIDENCE_NOTICE, WALK_FIELDS, Inventory
from coa_audit.core.policy import Policy
from coa_audit.core.status import Status
from coa_audit.core.text import fold_words

__all__ = [
    "HEADER_FIELDS",
    "PROFILE_FIELDS",
    "SIGNATURE_FIELDS",
    "Checklist",
    "build_checklist",
    "check_header",
    "packet_size_warning",
    "pdf_pages",
    "printed_header",
    "review_warnings",
]

HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("customer", "Customer"),
    ("agreement_type", "Agreement type"),
    ("agreement_number", "Agreement number"),
    ("product", "Product being installed (edition and version)"),
    ("licences", "Upgrade licences purchased"),
    ("order_reference", "OEM/LSP order or PO reference"),
    ("provider", "Imaging provider (OEM / LSP)"),
    ("prepared_by", "Prepared by"),
    ("date", "Date"),
)
SIGNATURE_FIELDS: tuple[tuple[str, str], ...] = (
    ("signatory", "Customer's authorised signatory"),
    ("signatory_title", "Signatory's title"),
    ("verifier", "OEM/LSP verifier"),
)
PROFILE_FIELDS: tuple[str, ...] = tuple(k for k, _ in HEADER_FIELDS + SIGNATURE_FIELDS)
EXCLUDED_HEADERS = ("Row", "Asset tag", "Serial", "Status", "Reason")
REMOVED_HEADERS = ("Row", "Asset tag", "Serial", "Reason", "By", "When")
NOT_PC_HEADERS = ("Row", "Asset tag", "Serial", "Reason")
ACCEPTED_HEADERS = (
    "Row",
    "Asset tag",
    "Serial",
    "What the register says",
    "Finding it overrides",
    "Accepted on",
    "By",
    "When",
)
WALK_HEADERS = ("Row", "Asset tag", "Serial", "Mark", "By", "When", "How")
STATEMENT = (
    "What is certified: the customer named above, not this tool, certifies that each device "
    "in the table of eligible devices is licensed for a qualifying operating system, shown "
    "by the evidence listed for it, and that each device in the table of accepted devices is "
    "so licensed as the person named there established, on the basis stated there (a check "
    "of the label, a document, or firmware data collected from the PC) in place of the "
    "register's own evidence. This checklist accompanies the customer's signed form "
    '"Microsoft Customer License Verification for Upgrade Installation Services for Microsoft '
    'Windows Operating System Software by Third Parties"; the form and this checklist go '
    "together to the OEM or LSP doing the imaging. Every other row of the register is listed "
    "after them with the reason it is not certified (excluded, not a PC, taken out of the "
    "order): those devices must not receive the Volume Licensing image until the reason "
    "given is resolved."
)

# Findings the packet says where they are (column and header) instead of quoting the cell.
_WHERE = frozenset({"EVIDENCE_UNKNOWN", "EDITION_UNKNOWN"})
# The walk's findings: the packet prints their marks (who, when, how).
_WALK_CODES = frozenset({"LABEL_DIFFERS", "LABEL_MISSING", "NOT_FOUND", "WALK_CONFLICT"})


class Rows(Sequence[tuple[str, ...]]):
    """A table's rows, each made from the audit when a writer reads it: a packet of a million
    devices is never held whole, only the indexes of its devices (8 bytes each). The export
    runs with the session still (the app shows a modal busy screen), so every pass reads the
    same rows."""

    def __init__(self, rows: Sequence[int], make: Callable[[int], tuple[str, ...]]) -> None:
        self._rows, self._make = rows, make

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> tuple[str, ...]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[str, ...]]: ...
    def __getitem__(self, i: int | slice) -> tuple[str, ...] | list[tuple[str, ...]]:
        if isinstance(i, slice):
            return [self._make(r) for r in self._rows[i]]
        return self._make(self._rows[i])

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        make = self._make
        for r in self._rows:
            yield make(r)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _no_rows(_r: int) -> tuple[str, ...]:
    raise IndexError("no rows")


@dataclass
class Checklist:
    header: dict[str, str]
    counts: dict[str, int]
    eligible_headers: tuple[str, ...] = ()
    # the three tables of (nearly) every device are made row by row as they are written
    eligible: Sequence[tuple[str, ...]] = field(default_factory=lambda: Rows((), _no_rows))
    accepted: list[tuple[str, ...]] = field(default_factory=list)  # by a person: ACCEPTED_HEADERS
    excluded: Sequence[tuple[str, ...]] = field(default_factory=lambda: Rows((), _no_rows))
    not_pc: Sequence[tuple[str, ...]] = field(default_factory=lambda: Rows((), _no_rows))
    removed: list[tuple[str, ...]] = field(default_factory=list)
    walk: list[tuple[str, ...]] = field(default_factory=list)  # every mark: WALK_HEADERS
    # the files of evidence collected from the PCs: one sentence each (name, SHA-256, rows)
    sources: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)  # the edits that made devices eligible
    warnings: list[str] = field(default_factory=list)
    signature: dict[str, str] = field(default_factory=dict)
    scans: list[str] = field(default_factory=list)  # codes scanned that named no device
    part: str = ""  # "location: Berlin" for one of the checklists --checklist-by writes
    continues: str = ""  # the earlier export a packet made from a corrected workbook continues

    def tables(self) -> list[tuple[str, str, tuple[str, ...], Sequence[tuple[str, ...]]]]:
        """The tables after the eligible devices, in the order every format prints them:
        (title, short name, headings, rows); a table with no rows is left out."""
        out = [
            (f"Accepted by a person ({len(self.accepted)})", "Accepted", ACCEPTED_HEADERS),
            (f"Excluded devices ({len(self.excluded)})", "Excluded", EXCLUDED_HEADERS),
            (f"Rows that are not PCs ({len(self.not_pc)})", "Not PCs", NOT_PC_HEADERS),
            (f"Taken out of the order ({len(self.removed)})", "Taken out", REMOVED_HEADERS),
            (f"The walk: every mark, by technician ({len(self.walk)})", "Walk", WALK_HEADERS),
        ]
        rows = (self.accepted, self.excluded, self.not_pc, self.removed, self.walk)
        return [(*t, r) for t, r in zip(out, rows, strict=True) if len(r)]

    def lists(self) -> list[tuple[str, list[str]]]:
        """The lists of sentences every format prints after the tables (title, items)."""
        out = [
            (f"Edits that made devices eligible ({len(self.edits)})", self.edits),
            (f"Scanned codes that were not one device ({len(self.scans)})", self.scans),
        ]
        return [x for x in out if x[1]]


def check_header(header: dict[str, str], policy: Policy) -> dict[str, str]:
    """The packet's details, checked: a known agreement type that fits the policy's
    agreement, a whole number of licences. Raises UsageError naming the option. Details
    it returned pass again unchanged (the agreement type as printed, "EA (Enterprise
    Agreement)", is read back as EA)."""
    out = {k: " ".join(str(v).split()) for k, v in header.items() if str(v).strip()}
    if "target" in out and "product" not in out:  # the name older profiles used
        out["product"] = out.pop("target")
    out.pop("target", None)
    kind = out.get("agreement_type")
    if kind:
        types: dict[str, dict[str, object]] = policy.data.get("agreement_types", {})
        wanted = fold_words(kind)
        hit = next(
            (
                (code, entry)
                for code, entry in types.items()
                if wanted
                in (
                    fold_words(code),
                    fold_words(str(entry.get("name", ""))),
                    fold_words(f"{code} ({entry.get('name', '')})"),
                )
            ),
            None,
        )
        if hit is None:
            raise UsageError(
                f"--agreement-type {kind!r}: not a programme coa-audit knows; choose one of: "
                + ", ".join(types)
            )
        code, entry = hit
        academic = bool(entry.get("academic"))
        if academic != (policy.agreement == "academic"):
            raise UsageError(
                f"--agreement-type {code} is {'an academic' if academic else 'a commercial'} "
                f"programme but the audit uses the {policy.agreement} agreement: pass "
                f"--agreement {'academic' if academic else 'commercial'}"
            )
        name = str(entry.get("name", code))
        out["agreement_type"] = code if name == code else f"{code} ({name})"
    if "licences" in out:
        digits = re.sub(r"[\s,._'\u202f]", "", out["licences"])
        if not digits.isdigit() or not digits.isascii():
            raise UsageError(
                f"--licences {out['licences']!r}: give the number of upgrade licences "
                "purchased, a whole number"
            )
        out["licences"] = str(int(digits))
    return out


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"coa-audit {version('coa-audit')}"
    except PackageNotFoundError:
        return "coa-audit (version unknown)"


def _provenance(audit: Audit) -> list[tuple[str, str]]:
    inv, pol = audit.inv, audit.policy
    src = inv.source
    mapping = "; ".join(
        f"{f}: {inv.headers[c]}" for f, c in inv.mapping.items() if not inv.is_derived(c)
    )
    return [
        ("Source file", Path(src.path).name),
        ("Source SHA-256", src.sha256),
        ("Sheet", src.sheet or "(the file has one table)"),
        ("Header row", str(src.header_row)),
        ("Column mapping", mapping or "(none)"),
        ("Policy", pol.provenance),
        ("Target and agreement", f"{pol.target_label}; {pol.agreement} agreement"),
        ("Tool", _tool_version()),
        ("Generated", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def _edits_that_made_eligible(
    audit: Audit,
    changes: Sequence[Edit],
    baseline: bytes | None,
    levels: bytes | memoryview,
) -> list[tuple[int, Edit, str]]:
    """(device, edit, why) for every device eligible now but not at ``baseline`` through
    an edit of the file's own data: its own edits, and edits of another row whose old
    serial, key or asset tag it shared (the duplicate that edit ended)."""
    if baseline is None:
        return []
    inv = audit.inv
    eligible = Status.ELIGIBLE
    newly = {r for r in range(len(inv)) if levels[r] == eligible and baseline[r] != eligible}
    if not newly:
        return []
    ids = {inv.mapping[f]: f for f in ("serial_number", "coa_key", "asset_tag") if f in inv.mapping}
    norm = audit.rules.norm_id
    holders: dict[tuple[str, str], list[int]] = {}
    for r in newly:
        for name in ids.values():
            if value := norm(name, inv.field(r, name)):
                holders.setdefault((name, value), []).append(r)
    out: list[tuple[int, Edit, str]] = []
    for e in changes:
        if e.col >= inv.source_width:
            continue
        if e.row in newly:
            out.append((e.row, e, ""))
        fname = ids.get(e.col)
        if fname is not None and (old := norm(fname, e.old)):
            for r in holders.get((fname, old), []):
                if r != e.row:
                    why = f" (this ended row {inv.row_numbers[r]}'s duplicate)"
                    out.append((r, e, why))
    return out


def licences_warning(audit: Audit, header: dict[str, str]) -> str:
    """The warning when more devices are eligible than upgrade licences were purchased (the
    packet prints it; the command and the screen say it too), or ""."""
    bought = header.get("licences", "")
    eligible = audit.summary().eligible  # the licences cover the whole order
    if not bought.isdigit() or eligible <= int(bought):
        return ""
    return (
        f"WARNING: {eligible} devices are eligible but {bought} upgrade licences were "
        "purchased: image no more devices than there are licences, or buy more."
    )


# rows of each table an A4 page of the PDF holds, counted on the samples' packets: an
# eligible device's checks and who made them wrap its row onto three or four lines
PDF_ELIGIBLE_PER_PAGE, PDF_OTHERS_PER_PAGE = 13, 40
PDF_PAGES_WARN = 300  # a packet anyone would print and sign page by page


def pdf_pages(eligible: int, others: int) -> int:
    """About how many pages the PDF checklist of ``eligible`` devices and ``others`` (the
    rest of the register) runs to: the header page, the tables, the signatures."""
    return 2 + -(-eligible // PDF_ELIGIBLE_PER_PAGE) + -(-others // PDF_OTHERS_PER_PAGE)


def packet_size_warning(audit: Audit, formats: Sequence[str], by: str | None) -> str:
    """Said on the review step (and by the command before it writes) when the PDF checklist,
    or its largest part with ``by``, would run past ``PDF_PAGES_WARN`` pages: a packet of
    thousands of pages is split by site (``--checklist-by``) or written as a workbook."""
    if "pdf" not in formats:
        return ""
    inv = audit.inv
    levels = audit.status_view
    eligible_level = Status.ELIGIBLE
    fname = by.strip().lower().replace(" ", "_") if by else ""
    if fname and fname in inv.mapping:
        groups: dict[str, list[int]] = {}
        col = inv.mapping[fname]
        for r in range(len(inv)):  # the parts as the export makes them (values as edited)
            counts = groups.setdefault(" ".join(inv.value(r, col).split()), [0, 0])
            counts[0 if levels[r] == eligible_level else 1] += 1
        where, (eligible, others) = max(groups.items(), key=lambda g: pdf_pages(*g[1]))
        pages = pdf_pages(eligible, others)
        if pages <= PDF_PAGES_WARN:
            return ""
        return (
            f"the largest PDF checklist ({fname}: {where or '(blank)'}) would run to about "
            f"{pages:,} pages ({eligible:,} eligible devices): split it by a finer field, or "
            "write the checklist as xlsx or Markdown only"
        )
    eligible = audit.summary().eligible  # the audit's own counts, kept as it goes
    pages = pdf_pages(eligible, len(inv) - eligible)
    if pages <= PDF_PAGES_WARN:
        return ""
    return (
        f"the PDF checklist would run to about {pages:,} pages ({eligible:,} eligible "
        "devices): write one checklist per site (one checklist per value of: location; "
        "--checklist-by location), or the checklist as xlsx or Markdown only"
    )


def review_warnings(audit: Audit, header: dict[str, str]) -> list[str]:
    """What the person about to write the packet must see first (the app's review step,
    the command before it writes): a licence shortfall, devices the walk holds back (marks
    that disagree, not found), and eligible devices whose label nobody confirmed while
    others' were."""
    inv = audit.inv
    out = [w for w in (licences_warning(audit, header),) if w]
    cols = {inv.mapping[f]: f for f in ("sighted", "label") if f in inv.mapping}
    held: dict[str, list[int]] = {"conflict": [], "not found": []}
    confirmed: set[int] = set()
    for (r, c), marks in inv.marks.items():
        fname = cols.get(c)
        if fname is None or not marks:
            continue
        value = inv.value(r, c)
        if value in held:
            held[value].append(r)
        if fname == "label":
            confirmed.add(r)

    def rows(which: list[int]) -> str:
        numbers = sorted(inv.row_numbers[r] for r in set(which))
        more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
        return ", ".join(map(str, numbers[:10])) + more

    if held["conflict"]:
        n = len(set(held["conflict"]))
        out.append(
            f"{n} device{'s' if n != 1 else ''} with marks that disagree (row "
            f"{rows(held['conflict'])}): not certified until someone looks again"
        )
    if held["not found"]:
        n = len(set(held["not found"]))
        out.append(
            f"{n} device{'s' if n != 1 else ''} looked for and not found (row "
            f"{rows(held['not found'])}): not certified"
        )
    if confirmed:
        levels = audit.status_view
        eligible = Status.ELIGIBLE
        unconfirmed = sum(1 for r in range(len(inv)) if levels[r] == eligible) - sum(
            1 for r in confirmed if levels[r] == eligible
        )
        if unconfirmed:
            out.append(
                f"{unconfirmed} eligible device{'s' if unconfirmed != 1 else ''} with no label "
                "confirmed on site (the packet says so beside each)"
            )
    return out


def _checks(inv: Inventory, row: int) -> tuple[str, str]:
    """(what was checked on site, by whom and when): three facts kept apart, each printed
    only when it happened, read from the marks themselves. A device present (scanned or
    marked) is not a label seen; a label is confirmed only by a person who looked at it; a
    firmware key is collected only when collection data (--evidence) says so, naming its
    file."""
    facts: list[str] = []
    who: list[str] = []
    seen = [m for m in inv.marks_of(row, "sighted") if m.outcome == "present"]
    for m in seen:
        facts.append("☑ present (scanned)" if m.stamp.how == "scanned" else "☑ present")
        who.append(f"present: {m.stamp.who}, {m.stamp.when}")
    if not seen:
        facts.append("☐ presence not checked")
    labels = inv.marks_of(row, "label")
    for m in labels:
        facts.append(f"☑ {m.described()}")
        who.append(f"label: {m.stamp.who}, {m.stamp.when}")
    if not labels:
        facts.append("☐ label not confirmed")
    source = inv.field(row, "fw_source")
    if source and inv.field(row, "fw_key"):
        facts.append(f"☑ firmware key collected ({source})")
    elif source and inv.field(row, "fw_edition"):
        facts.append(f"☑ firmware key description collected ({source})")
    return "; ".join(facts), "; ".join(who)


def _evidence_text(audit: Audit, row: int, types: Callable[[int], str] | None = None) -> str:
    """Exactly what the file shows (the audit's words), with an OA3 key's last group.
    ``types``: the audit's ``evidence_types()`` for a packet of many rows."""
    text = (types or audit.evidence_type)(row)
    if text.startswith("OA3"):
        f = audit.inv.field
        key = f(row, "fw_key") if "collected" in text else f(row, "coa_key")
        key = key.strip()
        if len(key) >= 5:
            text += f", key ending {key[-5:]}"
    return text


def _reasons(audit: Audit, row: int) -> str:
    """Why a device is not certified, in plain words: each finding's title, where in the
    register, and for the walk's findings the marks themselves (who, when). The cell's own
    words are never quoted here: the signed packet says what is missing, the audit report
    what was read."""
    inv = audit.inv
    out: list[str] = []
    for finding in audit.findings(row):
        info = code_info(finding.code)
        if info.severity == "info":
            continue
        title = info.title
        if finding.code in _WALK_CODES:
            fname = "label" if finding.code.startswith("LABEL") else None
            if finding.code == "WALK_CONFLICT":
                fname = "label" if inv.field(row, "label") == CONFLICT else "sighted"
            marks = inv.marks_of(row, fname or "sighted")
            title += ": " + "; ".join(m.sentence() for m in marks)
        elif finding.code in _WHERE and finding.column:
            col = inv.mapping.get(finding.field)
            header = f" ({inv.headers[col]})" if col is not None else ""
            title += f" in column {finding.column}{header}"
        if title not in out:
            out.append(title)
    return "; ".join(out)


def _edit_line(inv: Inventory, e: Edit, key_col: int | None, why: str) -> str:
    old, new = (mask_key(v) if e.col == key_col and v else v for v in (e.old, e.new))
    stamp = e.stamp
    said = (
        f"by {stamp.who}, {stamp.when}, {stamp.how_words}"
        + (f", because: {stamp.why}" if stamp.why else ", no reason given")
        if stamp is not None
        else "by a person not recorded"
    )
    return (
        f"Row {inv.row_numbers[e.row]} ({inv.field(e.row, 'serial_number') or 'no serial'}), "
        f"{inv.headers[e.col]}: {old!r} -> {new!r}, {said}{why}"
    )


def build_checklist(
    audit: Audit,
    header: dict[str, str],
    *,
    changes: Sequence[Edit] = (),
    baseline: bytes | None = None,
    rows: Iterable[int] | None = None,
    part: str = "",
    scans: Sequence[ScanFlag] = (),
    continues: str = "",
    tick: Callable[[int, int], None] | None = None,
) -> Checklist:
    """The packet for ``rows`` (default: every device). ``baseline`` is each device's status
    before any edit: a device eligible now but not then was made eligible by the edits listed
    in ``changes``. ``continues``: what the packet says of the export it continues (a packet
    made from a corrected workbook)."""
    inv = audit.inv
    header = dict(header)
    full = filled_header(header, audit.policy.target_label)
    selected = range(len(inv)) if rows is None else list(rows)
    levels = audit.status_view
    count = Counter(levels[r] for r in selected)
    walked = audit.walked_rows()  # the few rows the walk marked
    if rows is not None:
        walked &= set(selected)
    removed_rows = [r for r in walked if audit.removed(r)]
    attested = [r for r in walked if audit.attested(r)]
    out = Checklist(
        full,
        {
            "devices": len(selected),
            "eligible": count[Status.ELIGIBLE],
            "review": count[Status.REVIEW],
            "blocked": count[Status.BLOCKED],
            "not_pc": count[Status.OUT_OF_SCOPE] - len(removed_rows),
            "removed": len(removed_rows),
            "attested": len(attested),
        },
        signature={k: header.get(k, "") for k, _ in SIGNATURE_FIELDS},
        part=part,
        provenance=_provenance(audit),
        continues=continues,
    )
    if inv.collection is not None:
        out.sources = [
            f"Evidence collected from the PCs: {Path(cf.path).name} (SHA-256 {cf.sha256}, "
            f"{cf.rows} rows)."
            for cf in inv.collection.files
        ]
    too_many = licences_warning(audit, full)
    if too_many:
        out.warnings.append(too_many)
    if not inv.evidence_mapped:
        out.warnings.append(NO_EVIDENCE_NOTICE)
    # eligible now, not before, through a change of the file's own data (an acceptance is
    # printed as such, not as an edit): the device's own edit, or one on another row that
    # cleared what held it back (a serial fixed on row 8 that ended row 7's duplicate)
    causes = _edits_that_made_eligible(audit, changes, baseline, levels)
    made = {r for r, _e, _why in causes}
    if rows is not None:
        made &= set(selected)  # this part's devices only
        causes = [c for c in causes if c[0] in made]
    image = "target_image" in inv.mapping
    out.eligible_headers = (
        "Row",
        "Asset tag",
        "Serial",
        "Manufacturer",
        "Model",
        "Evidence",
        "Edition on the evidence",
        "Edition as read",
        *(("Target image",) if image else ()),
        "Check",
        "Verified by",
        "Note",
    )
    f = inv.field
    edition_name = audit.policy.edition_name
    readers: list[EvidenceReader] = []  # the key columns read once, at the first row

    def eligible_row(r: int) -> tuple[str, ...]:
        if not readers:
            readers.append(audit.evidence_reader())
        reader = readers[0]
        check, verified = _checks(inv, r)
        _has, ed, text = reader.evidence(r)
        return (
            str(inv.row_numbers[r]),
            f(r, "asset_tag"),
            f(r, "serial_number"),
            f(r, "manufacturer"),
            f(r, "model"),
            _evidence_text(audit, r, reader.type),
            " ".join(text.split()),
            edition_name(ed, text),
            *((f(r, "target_image"),) if image else ()),
            check,
            verified,
            "eligible after an edit (see the edits listed)" if r in made else "",
        )

    def excluded_row(r: int) -> tuple[str, ...]:
        tag, serial = f(r, "asset_tag"), f(r, "serial_number")
        return (str(inv.row_numbers[r]), tag, serial, audit.status(r), _reasons(audit, r))

    def not_pc_row(r: int) -> tuple[str, ...]:
        tag, serial = f(r, "asset_tag"), f(r, "serial_number")
        return (str(inv.row_numbers[r]), tag, serial, _reasons(audit, r))

    # which table each device goes in: indexes only, the rows are made as they are written
    eligible, excluded, not_pc = array("q"), array("q"), array("q")
    total = len(selected)
    for i, r in enumerate(selected):
        if tick is not None and i % 50000 == 0:
            tick(i, total)
        level = levels[r]
        if level == Status.OUT_OF_SCOPE:
            removed = audit.removed(r) if r in walked else ()
            if removed:
                row, tag, serial = str(inv.row_numbers[r]), f(r, "asset_tag"), f(r, "serial_number")
                for m in removed:
                    out.removed.append((row, tag, serial, m.stamp.why, m.stamp.who, m.stamp.when))
            else:
                not_pc.append(r)
            continue
        if level == Status.ELIGIBLE:
            accepted = audit.attested(r) if r in walked else ()
            if accepted:
                row, tag, serial = str(inv.row_numbers[r]), f(r, "asset_tag"), f(r, "serial_number")
                _has, _ed, text = audit.evidence(r)
                register = _register_says(audit, r, text)
                overrides = "; ".join(
                    dict.fromkeys(code_info(x.code).title for x in audit.overridden(r))
                )
                for m in accepted:
                    out.accepted.append(
                        (row, tag, serial, register, overrides, m.described(), m.stamp.who,
                         m.stamp.when)
                    )  # fmt: skip
                continue
            eligible.append(r)
        else:
            excluded.append(r)
    out.eligible = Rows(eligible, eligible_row)
    out.excluded = Rows(excluded, excluded_row)
    out.not_pc = Rows(not_pc, not_pc_row)
    for r in sorted(walked):
        for fname in WALK_FIELDS:
            for m in inv.marks_of(r, fname):
                s = m.stamp
                out.walk.append(
                    (
                        str(inv.row_numbers[r]),
                        f(r, "asset_tag"),
                        f(r, "serial_number"),
                        m.described(),
                        s.who,
                        s.when,
                        s.how_words,
                    )
                )
    out.scans = [flag.sentence() for flag in scans]
    key_col = inv.mapping.get("coa_key")
    whys: dict[int, list[str]] = {}  # each edit once, with every duplicate it ended
    for _row, e, why in causes:
        whys.setdefault(id(e), []).append(why)
    listed: set[int] = set()
    for _row, e, _why in causes:
        if id(e) in listed:
            continue
        listed.add(id(e))
        out.edits.append(_edit_line(inv, e, key_col, "".join(w for w in whys[id(e)] if w)))
    return out


def _register_says(audit: Audit, row: int, text: str) -> str:
    """What the register records as this device's evidence, in its own words."""
    words = " ".join(text.split())
    return f"register: {words or audit.evidence_type(row)}"


# -- what every format prints the same way -----------------------------------------------

BLANK = "____________________"  # a line to fill in by hand


def counts_sentence(c: dict[str, int]) -> str:
    own = c["eligible"] - c["attested"]
    text = f"Devices audited: {c['devices']}. Eligible for imaging: {c['eligible']}" + (
        f" ({own} on their own evidence, {c['attested']} accepted by a person)"
        if c["attested"]
        else ""
    )
    text += (
        f". Excluded: {c['review'] + c['blocked']} ({c['blocked']} blocked, "
        f"{c['review']} under review)."
    )
    if c.get("not_pc"):
        text += f" Rows that are not PCs, listed apart: {c['not_pc']}."
    if c.get("removed"):
        text += f" Taken out of the order: {c['removed']}."
    return text


def filled_header(header: Mapping[str, str], target_label: str) -> dict[str, str]:
    """The packet's header fields as the packet prints them: the product defaults to the
    policy's target (its version left to fill in), the date to today."""
    full = {k: header.get(k, "") for k, _ in HEADER_FIELDS}
    if not full["product"]:
        full["product"] = f"{target_label} (version: ______)"
    if not full["date"]:
        full["date"] = dt.date.today().isoformat()
    return full


def printed_header(header: Mapping[str, str], target_label: str) -> list[tuple[str, str]]:
    """Every header and signature line as the packet will print it (a blank as the line
    to fill in by hand): what the export dialog shows for review before writing."""
    full = filled_header(header, target_label)
    lines = [(label, full[key] or BLANK) for key, label in HEADER_FIELDS]
    lines += [(label, header.get(key, "") or BLANK) for key, label in SIGNATURE_FIELDS]
    return lines


def packet_title(cl: Checklist) -> str:
    title = "Certification checklist: devices for Volume Licensing imaging"
    return f"{title} ({cl.part})" if cl.part else title


def signature_blocks(cl: Checklist) -> list[tuple[str, list[tuple[str, str]]]]:
    sig = cl.signature
    return [
        (
            "Customer's authorised signatory",
            [
                ("Name", sig.get("signatory", "")),
                ("Title", sig.get("signatory_title", "")),
                ("Signature", ""),
                ("Date", ""),
            ],
        ),
        (
            "OEM/LSP verifier"
            + (f" ({cl.header['provider']})" if cl.header.get("provider") else ""),
            [("Name", sig.get("verifier", "")), ("Signature", ""), ("Date", "")],
        ),
    ]
