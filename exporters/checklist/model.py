"""The certification checklist handed over with the signed licence verification:
Markdown, xlsx (print-ready) and PDF (A4 or Letter)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from coa_audit.core.audit import Audit, mask_key
from coa_audit.core.codes import code_info
from coa_audit.core.editions import ParsedEdition
from coa_audit.core.errors import UsageError
from coa_audit.core.history import Edit
from coa_audit.core.model import NO_EVIDENCE_NOTICE
from coa_audit.core.policy import Policy
from coa_audit.core.status import Status
from coa_audit.core.text import fold_words, safe_text
from coa_audit.exporters.atomic import atomic_writer
from coa_audit.exporters.safety import shown

__all__ = [
    "HEADER_FIELDS",
    "PROFILE_FIELDS",
    "SIGNATURE_FIELDS",
    "Checklist",
    "build_checklist",
    "check_header",
    "printed_header",
    "write_md",
    "write_pdf",
    "write_xlsx",
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
REMOVED_HEADERS = ("Row", "Asset tag", "Serial", "Reason (by, when)")
STATEMENT = (
    "What is certified: the customer named above, not this tool, certifies that each device "
    "in the table of eligible devices is licensed for a qualifying operating system, shown "
    "by the evidence listed for it. This checklist accompanies the customer's signed form "
    '"Microsoft Customer License Verification for Upgrade Installation Services for Microsoft '
    'Windows Operating System Software by Third Parties"; the form and this checklist go '
    "together to the OEM or LSP doing the imaging. Devices in the table of excluded devices "
    "are not certified and must not receive the Volume Licensing image until the reason "
    "given is resolved."
)


# Findings whose own words (the text not understood) the excluded list repeats.
_QUOTED = frozenset({"EVIDENCE_UNKNOWN", "EDITION_UNKNOWN"})


@dataclass
class Checklist:
    header: dict[str, str]
    counts: dict[str, int]
    eligible_headers: tuple[str, ...] = ()
    eligible: list[tuple[str, ...]] = field(default_factory=list)
    excluded: list[tuple[str, ...]] = field(default_factory=list)
    removed: list[tuple[str, ...]] = field(default_factory=list)
    # the files of evidence collected from the PCs: one sentence each (name, SHA-256, rows)
    sources: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)  # the edits that made devices eligible
    warnings: list[str] = field(default_factory=list)
    signature: dict[str, str] = field(default_factory=dict)
    scans: list[str] = field(default_factory=list)  # codes scanned that named no device
    part: str = ""  # "location: Berlin" for one of the checklists --checklist-by writes


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


def _checks(f: Callable[[int, str], str], row: int, accepted: str = "") -> tuple[str, str]:
    """(what was checked on site, by whom and when): three facts kept apart, each printed
    only when it happened. A device present (scanned or marked) is not a label seen; a label
    is confirmed only by a person who looked at it; a firmware key is collected only when
    collection data (--evidence) says so, naming its file."""
    facts: list[str] = []
    who: list[str] = []
    present = f(row, "sighted")
    if present:
        what, _sep, by = present.partition(" by ")
        # an older mark ("label sighted by ...") said more than a mark checks: presence only
        facts.append("☑ present (scanned)" if what == "present (scanned)" else "☑ present")
        who.append(f"present: {by}")
    if accepted:  # accepted after a physical check: the box, the name and the note agree
        by = accepted.rpartition(" (by ")[2]
        facts.append("☑ accepted after a physical check")
        who.append(f"accepted: {by.rstrip(')')}")
    elif not present:
        facts.append("☐ presence not checked")
    label = f(row, "label")
    if label:
        what, _sep, by = label.rpartition(" (by ")
        facts.append(f"☑ label {what}")
        who.append(f"label: {by.rstrip(')')}")
    else:
        facts.append("☐ label not confirmed")
    source = f(row, "fw_source")
    if source and f(row, "fw_key"):
        facts.append(f"☑ firmware key collected ({source})")
    elif source and f(row, "fw_edition"):
        facts.append(f"☑ firmware key description collected ({source})")
    return "; ".join(facts), "; ".join(who)


def _evidence_text(audit: Audit, row: int) -> str:
    """Exactly what the file shows (the audit's words), with an OA3 key's last group."""
    text = audit.evidence_type(row)
    if text.startswith("OA3"):
        f = audit.inv.field
        key = f(row, "fw_key") if "collected" in text else f(row, "coa_key")
        key = key.strip()
        if len(key) >= 5:
            text += f", key ending {key[-5:]}"
    return text


def build_checklist(
    audit: Audit,
    header: dict[str, str],
    *,
    changes: Sequence[Edit] = (),
    baseline: bytes | None = None,
    edited_by: str = "",
    rows: Iterable[int] | None = None,
    part: str = "",
    scans: Sequence[tuple[str, str, str]] = (),
    tick: Callable[[int, int], None] | None = None,
) -> Checklist:
    """The packet for ``rows`` (default: every device). ``baseline`` is each device's status
    before any edit: a device eligible now but not then was made eligible by the edits listed
    in ``changes``."""
    inv = audit.inv
    header = dict(header)
    full = filled_header(header, audit.policy.target_label)
    selected = range(len(inv)) if rows is None else list(rows)
    levels = audit.status_view
    count = Counter(levels[r] for r in selected)
    walked = audit.walked_rows()  # the few rows the walk accepted or took out
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
    # eligible now, not before, through a change of the file's own data (an acceptance
    # after a physical check is printed as such, not as an edit): the device's own edit, or
    # one on another row that cleared what held it back (a serial fixed on row 8 that ended
    # row 7's duplicate)
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
    total = len(selected)
    for i, r in enumerate(selected):
        if tick is not None and i % 5000 == 0:
            tick(i, total)
        row = str(inv.row_numbers[r])
        tag, serial = f(r, "asset_tag"), f(r, "serial_number")
        level = levels[r]
        if level == Status.OUT_OF_SCOPE:
            removed = audit.removed(r) if r in walked else ""
            if removed:
                out.removed.append((row, tag, serial, removed))
            continue  # not a PC: counted apart, never listed as excluded
        if level == Status.ELIGIBLE:
            _has, ed, text = audit.evidence(r)
            evidence = _evidence_text(audit, r)
            accepted = audit.attested(r) if r in walked else ""
            check, verified = _checks(f, r, accepted)
            note = []
            if r in made:
                note.append("eligible after an edit (see the edits listed)")
            if accepted:
                note.append(f"accepted after a physical check: {accepted}")
            out.eligible.append(
                (
                    row,
                    tag,
                    serial,
                    f(r, "manufacturer"),
                    f(r, "model"),
                    evidence,
                    " ".join(text.split()),
                    _edition_name(audit, ed, text),
                    *((f(r, "target_image"),) if image else ()),
                    check,
                    verified,
                    "; ".join(note),
                )
            )
        else:
            reasons = []
            for finding in audit.findings(r):
                title = code_info(finding.code).title
                if finding.code in _QUOTED:  # say which words were not understood
                    title = f"{title}: {finding.detail}"
                if title not in reasons:
                    reasons.append(title)
            out.excluded.append((row, tag, serial, audit.status(r), "; ".join(reasons)))
    for code, outcome, by in scans:
        what = "matched no device" if outcome == "unknown" else "matched several devices"
        out.scans.append(f"{code!r} {what} (scanned by {by})")
    key_col = inv.mapping.get("coa_key")
    whys: dict[int, list[str]] = {}  # each edit once, with every duplicate it ended
    for _row, e, why in causes:
        whys.setdefault(id(e), []).append(why)
    listed: set[int] = set()
    for _row, e, _why in causes:
        if id(e) in listed:
            continue
        listed.add(id(e))
        why = "".join(w for w in whys[id(e)] if w)
        old, new = (mask_key(v) if e.col == key_col and v else v for v in (e.old, e.new))
        who = "corrections file" if e.origin == "corrections" else (edited_by or "the user")
        when = dt.datetime.fromtimestamp(e.time).strftime("%Y-%m-%d %H:%M") if e.time else ""
        out.edits.append(
            f"Row {inv.row_numbers[e.row]} ({f(e.row, 'serial_number') or 'no serial'}), "
            f"{inv.headers[e.col]}: {old!r} -> {new!r}, by {who}, {when}{why}"
        )
    return out


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\|*_\[\]<>#`~])")
_BLANK = "____________________"


def _counts_sentence(c: dict[str, int]) -> str:
    text = (
        f"Devices audited: {c['devices']}. Eligible for imaging: {c['eligible']}"
        + (
            f" (of which {c['attested']} by attestation after a physical check)"
            if c["attested"]
            else ""
        )
        + f". Excluded: {c['review'] + c['blocked']} ({c['blocked']} blocked, "
        f"{c['review']} under review)."
    )
    if c.get("not_pc"):
        text += f" Rows that are not PCs, counted apart: {c['not_pc']}."
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
    lines = [(label, full[key] or _BLANK) for key, label in HEADER_FIELDS]
    lines += [(label, header.get(key, "") or _BLANK) for key, label in SIGNATURE_FIELDS]
    return lines


def _title(cl: Checklist) -> str:
    title = "Certification checklist: devices for Volume Licensing imaging"
    return f"{title} ({cl.part})" if cl.part else title


def _signature_blocks(cl: Checklist) -> list[tuple[str, list[tuple[str, str]]]]:
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


def _md(text: str) -> str:
    text = " ".join(safe_text(shown(text)).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(
    title: str, headers: tuple[str, ...], rows: Iterable[tuple[str, ...]]
) -> Iterator[str]:
    yield f"## {title}"
    yield ""
    yield "| " + " | ".join(headers) + " |"
    yield "|" + "---|" * len(headers)
    for row in rows:
        yield "| " + " | ".join(_md(v) for v in row) + " |"
    yield ""


def write_md(cl: Checklist, target: Path) -> Path:
    lines = [f"# {_md(_title(cl))}", ""]
    for key, label in HEADER_FIELDS:
        lines.append(f"- **{label}:** {_md(cl.header[key]) or _BLANK}")
    lines.append("")
    lines += [f"**{_md(w)}**\n" for w in cl.warnings]
    lines += [_counts_sentence(cl.counts), "", STATEMENT, ""]
    lines += ["## Where this list came from", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in cl.provenance]
    lines += [f"- {_md(s)}" for s in cl.sources]
    lines.append("")
    lines += _md_table(f"Eligible devices ({len(cl.eligible)})", cl.eligible_headers, cl.eligible)
    if cl.edits:
        lines += [f"## Edits that made devices eligible ({len(cl.edits)})", ""]
        lines += [f"- {_md(e)}" for e in cl.edits]
        lines.append("")
    if cl.scans:
        lines += [f"## Scanned codes that were not one device ({len(cl.scans)})", ""]
        lines += [f"- {_md(x)}" for x in cl.scans]
        lines.append("")
    if cl.removed:
        lines += _md_table(
            f"Taken out of the order ({len(cl.removed)})", REMOVED_HEADERS, cl.removed
        )
    lines += _md_table(f"Excluded devices ({len(cl.excluded)})", EXCLUDED_HEADERS, cl.excluded)
    lines += ["## Signatures", ""]
    for title, fields in _signature_blocks(cl):
        lines += [f"### {_md(title)}", ""]
        lines += [f"- {label}: {_md(value) or _BLANK}" for label, value in fields]
        lines.append("")
    data = "\n".join(lines).encode("utf-8")
    with atomic_writer(target) as f:
        f.write(data)
    return target


# -- xlsx -------------------------------------------------------------------------------------


def write_xlsx(cl: Checklist, target: Path) -> Path:
    from coa_audit.exporters.xlsx_cells import Book

    header = (
        f"{cl.header.get('customer') or ''} - agreement {cl.header.get('agreement_number') or ''}"
    )
    wide = [8, 14, 16, 14, 20, 30, 24, 20]
    if "Target image" in cl.eligible_headers:
        wide.append(20)
    with atomic_writer(target) as out:
        wb = Book(out)
        ws = wb.sheet("Checklist", [*wide, 22, 24, 36])
        ws.append([_title(cl)], "title")
        for key, label in HEADER_FIELDS:
            ws.pair(label, cl.header[key] or "")
        for w in cl.warnings:
            ws.append([w], "warning")
        c = cl.counts
        for label, value in (
            ("Devices audited", c["devices"]),
            ("Eligible", c["eligible"]),
            ("Eligible by attestation", c["attested"]),
            ("Excluded", c["review"] + c["blocked"]),
            ("Not PCs (counted apart)", c["not_pc"]),
            ("Taken out of the order", c["removed"]),
        ):
            ws.pair(label, value)
        ws.append([STATEMENT])
        for label, text in cl.provenance:
            ws.pair(label, text)
        for source in cl.sources:
            ws.append([source])
        ws.blank()
        ws.for_print(title_row=ws.rows, header=header, a4=True)
        ws.append(list(cl.eligible_headers), "bold")
        for row in cl.eligible:
            ws.append([int(row[0]), *row[1:]])
        for title, items in (
            (f"Edits that made devices eligible ({len(cl.edits)})", cl.edits),
            (f"Scanned codes that were not one device ({len(cl.scans)})", cl.scans),
        ):
            if items:
                ws.blank()
                ws.append([title], "bold")
                for item in items:
                    ws.append([item])
        ws.blank()
        for title, fields in _signature_blocks(cl):
            ws.append([title], "bold")
            for label, text in fields:
                ws.pair(f"{label}:", text)
            ws.blank()

        ex = wb.sheet("Excluded", [8, 16, 18, 10, 80])
        ex.for_print(title_row=0, header=header, a4=True)
        ex.append(list(EXCLUDED_HEADERS), "bold")
        for row in cl.excluded:
            ex.append([int(row[0]), *row[1:]])
        if cl.removed:
            gone = wb.sheet("Taken out", [8, 16, 18, 80])
            gone.for_print(title_row=0, header=header, a4=True)
            gone.append(list(REMOVED_HEADERS), "bold")
            for row in cl.removed:
                gone.append([int(row[0]), *row[1:]])
        wb.close()
    return target


# -- PDF --------------------------------------------------------------------------------------

# Unicode TrueType fonts to embed, in order: (regular, bold) by folder. Without one the PDF
# falls back to a core font, which holds Latin-1 only.
_FONTS = (
    ("/usr/share/fonts/truetype/dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/usr/local/share/fonts", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/Library/Fonts", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("C:/Windows/Fonts", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/liberation",
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
    ),
    ("C:/Windows/Fonts", "arial.ttf", "arialbd.ttf"),
    ("/System/Library/Fonts/Supplemental", "Arial.ttf", "Arial Bold.ttf"),
)


_NO_GLYPH = "\ufffd"  # drawn by the font itself: a character it has no glyph for


@lru_cache(maxsize=4)
def _glyphs(path: Path) -> frozenset[int] | None:
    """The characters the font file can draw (its cmap), or None when it cannot be read."""
    try:
        from fontTools.ttLib import TTFont

        with TTFont(str(path), lazy=True) as font:
            return frozenset(font.getBestCmap())
    except Exception:
        return None


def _unicode_font() -> tuple[Path, Path] | None:
    for folder, regular_name, bold_name in _FONTS:
        regular, bold = Path(folder) / regular_name, Path(folder) / bold_name
        if regular.exists() and bold.exists():
            return regular, bold
    return None


def write_pdf(
    cl: Checklist,
    target: Path,
    paper: str = "A4",
    tick: Callable[[int, int], None] | None = None,
) -> Path:
    from fpdf import FPDF

    running = (
        f"{cl.header.get('customer') or 'Customer: ____'} - agreement "
        f"{cl.header.get('agreement_number') or '____'}"
    )

    class _PDF(FPDF):
        def header(self) -> None:
            """Every page: customer, agreement number, page x of y."""
            self.set_font(family, size=8)
            self.cell(self.epw * 0.7, 6, clean(running))
            self.cell(0, 6, f"page {self.page_no()} of {{total}}", align="R")
            self.ln(7)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(
                0,
                8,
                f"coa-audit certification checklist - page {self.page_no()} of {{total}}",
                align="C",
            )

    pdf = _PDF(orientation="landscape", unit="mm", format=paper.upper())
    pdf.alias_nb_pages("{total}")  # wide enough for the page count of a million devices
    fonts = _unicode_font()
    if fonts is not None:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family = "DejaVu"
        regular, bold = _glyphs(fonts[0]), _glyphs(fonts[1])
        has = regular & bold if regular is not None and bold is not None else None

        def clean(t: str) -> str:
            # a character the font cannot draw shows as a mark, never as nothing (a blank in
            # a model or a name would read as a different value)
            t = safe_text(shown(t))
            if t.isascii() or has is None:
                return t
            return "".join(c if ord(c) in has or c.isspace() else _NO_GLYPH for c in t)
    else:  # core font: Latin-1 only
        family = "Helvetica"

        def clean(t: str) -> str:
            t = safe_text(shown(t)).replace("☐", "[ ]").replace("☑", "[x]")
            return t.encode("latin-1", "replace").decode("latin-1")

    cleaned: dict[str, str] = {}

    def clean_cell(t: str) -> str:
        """``clean`` once per distinct value of a table (statuses, checks, editions)."""
        c = cleaned.get(t)
        if c is None:
            c = clean(t)
            if len(t) <= 200:
                if len(cleaned) > 100_000:  # bounded: a fleet of distinct values
                    cleaned.clear()
                cleaned[t] = c
        return c

    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(12, 10, 12)
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.multi_cell(0, 8, clean(_title(cl)), new_x="LMARGIN", new_y="NEXT")

    def pairs(items: Iterable[tuple[str, str]], blank: str = "_" * 40) -> None:
        items = list(items)
        if not items:
            return
        pdf.set_font(family, "B", 9)  # the labels' column: as wide as the widest label
        width = min(pdf.epw / 2, 3 + max(pdf.get_string_width(clean(k) + ":") for k, _ in items))
        for label, value in items:
            pdf.set_font(family, "B", 9)
            pdf.cell(width, 5, clean(label) + ":")
            pdf.set_font(family, size=9)
            pdf.multi_cell(0, 5, clean(value) if value else blank, new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str, bold: bool = False) -> None:
        pdf.set_font(family, "B" if bold else "", 9)
        pdf.multi_cell(0, 5, clean(text), new_x="LMARGIN", new_y="NEXT")

    pairs((label, cl.header[key]) for key, label in HEADER_FIELDS)
    pdf.ln(2)
    for w in cl.warnings:
        paragraph(w, bold=True)
    paragraph(_counts_sentence(cl.counts))
    pdf.ln(1)
    paragraph(STATEMENT)
    pdf.ln(2)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 7, "Where this list came from", new_x="LMARGIN", new_y="NEXT")
    pairs(cl.provenance)
    for source in cl.sources:
        paragraph(source)
    pdf.ln(3)
    line_h = 4.2
    more = "…" if fonts is not None else "..."  # a core font has no ellipsis character
    glyphs: dict[tuple[str, str], float] = {}  # (style, character) -> width in mm

    widths_seen: dict[tuple[str, str], float] = {}  # (style, text): makes, models, editions

    def width_of(text: str) -> float:
        """The width of ``text`` in the current font, from each character's width measured
        once (fpdf2 measures a string in about 10 us; values here are mostly distinct)."""
        style = pdf.font_style
        total = widths_seen.get((style, text))
        if total is not None:
            return total
        total = 0.0
        for ch in text:
            w = glyphs.get((style, ch))
            if w is None:
                w = glyphs[(style, ch)] = pdf.get_string_width(ch)
            total += w
        if len(text) <= 200:
            if len(widths_seen) > 100_000:  # bounded: a fleet of distinct values
                widths_seen.clear()
            widths_seen[(style, text)] = total
        return total

    def fitting(text: str, room: float) -> int:
        """How many leading characters of ``text`` fit ``room`` mm (one pass: a hostile
        32,000-character cell costs no more than its length)."""
        if len(text) <= 200 and width_of(text) <= room:
            return len(text)
        style, total = pdf.font_style, 0.0
        for n, ch in enumerate(text):
            w = glyphs.get((style, ch))
            if w is None:
                w = glyphs[(style, ch)] = pdf.get_string_width(ch)
            total += w
            if total > room:
                return n
        return len(text)

    def fit(text: str, width: float) -> str:
        """One line of ``text`` that fits ``width`` mm, cut with an ellipsis if it must be."""
        room = width - 1.6
        if width_of(text) <= room:
            return text
        return text[: fitting(text, room - width_of(more))] + more

    wrapped: dict[tuple[str, str, float, int, str], list[str]] = {}

    def wrap_lines(text: str, width: float, limit: int, hyphen: str = "") -> list[str]:
        """``text`` in lines that fit ``width`` mm, broken at spaces, a long word broken
        where it must be (ending in ``hyphen``: headings only, never a serial or a key,
        where a dash would read as part of the value); up to ``limit`` + 1 lines (the
        caller marks a cut). A text seen before in the same column is wrapped once (the
        evidence, editions and checks of a fleet repeat)."""
        key = (pdf.font_style, text, width, limit, hyphen)
        lines = wrapped.get(key)
        if lines is None:
            lines = _wrap(text, width, limit, hyphen)
            if len(text) <= 200:
                if len(wrapped) > 100_000:  # bounded: a fleet of distinct values
                    wrapped.clear()
                wrapped[key] = lines
        return lines

    def _wrap(text: str, width: float, limit: int, hyphen: str) -> list[str]:
        room = width - 1.6
        if fitting(text, room) == len(text):
            return [text]
        lines: list[str] = []
        line = ""
        for word in text.split(" "):
            if len(lines) > limit:
                break
            candidate = f"{line} {word}" if line else word
            if fitting(candidate, room) == len(candidate):
                line = candidate
                continue
            if line:
                lines.append(line)
            # a word wider than the column, broken where it must be
            while len(lines) <= limit and (n := fitting(word, room)) < len(word):
                n = max(1, n - 1 if hyphen and n > 2 else n)
                lines.append(word[:n] + (hyphen if n < len(word) else ""))
                word = word[n:]
            line = word
        if line:
            lines.append(line)
        return lines or [""]

    encoded: dict[tuple[int, str], str] = {}

    def draw(pieces: list[tuple[float, float, str]]) -> None:
        """The strings of one table row as one text object in the page's content (one
        ``pdf.text`` call each cost 1.2 million calls at 100,000 devices, a third of the
        packet's time). Text is encoded by the current font, as ``pdf.text`` does; a
        string seen before (statuses, reasons) is encoded once."""
        if not pieces:
            return
        if not pdf.current_font_is_set_on_page:  # after a heading in bold, say
            pdf.text(pieces[0][0], pieces[0][1], "")  # selects the font as pdf.text does
        font = pdf.current_font
        assert font is not None  # set by the table before its rows
        k, height = pdf.k, pdf.h
        ops = ["q 0 g BT"]
        px = py = 0.0
        for x, y, text in pieces:
            key = (id(font), text)
            code = encoded.get(key)
            if code is None:
                if len(encoded) > 200_000:
                    encoded.clear()
                code = encoded[key] = font.encode_text(text)
            tx, ty = x * k, (height - y) * k
            ops.append(f"{tx - px:.2f} {ty - py:.2f} Td {code}")  # from the previous one
            px, py = tx, ty
        ops.append("ET Q")
        pdf._out(" ".join(ops))  # fpdf2 (pinned < 3) has no public call for raw content

    def table(
        title: str,
        headers: tuple[str, ...],
        rows: list[tuple[str, ...]],
        weights: tuple[int, ...],
        wrap: tuple[int, ...] = (),
    ) -> None:
        """A bordered table drawn with text and lines (fpdf2's table() and cell() cost
        minutes for 100,000 devices); headings repeat on every page, and the ``wrap``
        columns (evidence, reasons: never cut) may take several lines."""
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 8, f"{title} ({len(rows)})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=7)
        if not rows:
            pdf.cell(0, 6, "None.", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            return
        widths = [pdf.epw * w / sum(weights) for w in weights]
        left = pdf.l_margin
        edges = [left]
        for w in widths:
            edges.append(edges[-1] + w)
        bottom = pdf.h - pdf.b_margin
        max_lines = max(1, int((bottom - pdf.t_margin - 20) / line_h))
        pad, base = 0.8, 3.0  # text inset and baseline within a line

        def headings() -> float:
            """The heading row, each heading whole (wrapped, never cut: "Manufacturer")."""
            y = pdf.get_y()
            pdf.set_font(family, "B", 7)
            parts = [wrap_lines(h, w, 3, "-") for h, w in zip(headers, widths, strict=True)]
            height = line_h * max(len(p) for p in parts) + 1
            pdf.set_fill_color(225, 232, 240)
            pdf.rect(left, y, edges[-1] - left, height, style="DF")
            for lines, x in zip(parts, edges[:-1], strict=True):
                for k, line in enumerate(lines):
                    pdf.text(x + pad, y + base + 0.5 + k * line_h, line)
            pdf.set_font(family, size=7)
            return y + height

        def close_block(top: float, y: float) -> None:
            """The vertical rules of the rows drawn on this page."""
            for x in edges:
                pdf.line(x, top, x, y)

        top = pdf.get_y()
        y = headings()
        for n, row in enumerate(rows):
            if tick is not None and n % 2000 == 0:
                tick(n, len(rows))
            cells = [clean_cell(v) for v in row]
            lines = {i: wrap_lines(cells[i], widths[i], max_lines) for i in wrap}
            for i, cell_lines in lines.items():  # a row never taller than a page
                if len(cell_lines) > max_lines:
                    lines[i] = [
                        *cell_lines[: max_lines - 1],
                        fit(cell_lines[max_lines - 1] + more, widths[i]),
                    ]
            height = line_h * max([1, *(len(v) for v in lines.values())])
            if y + height > bottom:
                close_block(top, y)
                pdf.add_page()
                top = pdf.get_y()
                y = headings()
            pieces: list[tuple[float, float, str]] = []
            for i, (text, x, w) in enumerate(zip(cells, edges[:-1], widths, strict=True)):
                if i in lines:
                    for k, line in enumerate(lines[i]):
                        if line:
                            pieces.append((x + pad, y + base + k * line_h, line))
                elif text:
                    pieces.append((x + pad, y + base, fit(text, w)))
            draw(pieces)
            y += height
            pdf.line(left, y, edges[-1], y)
        close_block(top, y)
        pdf.set_y(y)
        pdf.ln(4)

    heads = cl.eligible_headers
    weights = {"Row": 7, "Asset tag": 14, "Serial": 16, "Manufacturer": 12, "Model": 12}
    weights |= {"Evidence": 25, "Edition on the evidence": 16, "Edition as read": 15}
    weights |= {"Target image": 11, "Check": 17, "Verified by": 13, "Note": 14}
    # what the signer certifies is never cut short: these wrap instead
    # (an identifier, the evidence, an edition, the target: an OEM must tell 10 from 11)
    never_cut: tuple[str, ...] = ("Row", "Asset tag", "Serial", "Manufacturer", "Model")
    never_cut += ("Evidence", "Edition on the evidence", "Edition as read", "Target image")
    never_cut += ("Check",)
    table(
        "Eligible devices",
        heads,
        cl.eligible,
        tuple(weights[h] for h in heads),
        wrap=tuple(i for i, h in enumerate(heads) if h in (*never_cut, "Note", "Verified by")),
    )
    for title, items in (
        (f"Edits that made devices eligible ({len(cl.edits)})", cl.edits),
        (f"Scanned codes that were not one device ({len(cl.scans)})", cl.scans),
    ):
        if items:
            pdf.set_font(family, "B", 11)
            pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
            for item in items:
                paragraph(item)
            pdf.ln(3)
    if cl.removed:
        table(
            "Taken out of the order",
            REMOVED_HEADERS,
            cl.removed,
            (8, 16, 20, 80),
            wrap=(0, 1, 2, 3),
        )
    table("Excluded devices", EXCLUDED_HEADERS, cl.excluded, (8, 16, 20, 12, 80), wrap=(0, 1, 2, 4))
    for title, fields in _signature_blocks(cl):
        if pdf.will_page_break(8 + 9 * len(fields)):
            pdf.add_page()
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 8, clean(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        for label, value in fields:
            pdf.ln(2)
            pdf.cell(30, 7, f"{label}:")
            pdf.cell(0, 7, clean(value) if value else "_" * 45, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    data = bytes(pdf.output())
    with atomic_writer(target) as f:
        f.write(data)
    return target
