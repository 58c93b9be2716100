"""The certification packet and the walk through the fleet that fills it: what the packet
says (headless, every header option, read back from md, xlsx and PDF), and the walk on
screen (scan mode, checked on site, acceptance after a physical check, bulk actions with
one undo), journaled and carried into the exported checklist."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from coa_audit.core.policy import builtin_sha256
from coa_audit.tui.app import CoaAuditApp
from coa_audit.tui.screens import ReviewScreen
from tests.conftest import oem_copy, run_cli, settle

FULL_HEADER = (
    "--customer",
    "Contoso Ltd",
    "--agreement-type",
    "ea",
    "--agreement-number",
    "EA-77",
    "--product",
    "Windows 11 Enterprise 24H2",
    "--licences",
    "1,000",
    "--order-ref",
    "PO-4471",
    "--provider",
    "Fabrikam Imaging",
    "--prepared-by",
    "A. Auditor",
    "--signatory",
    "Dana Signer",
    "--signatory-title",
    "CIO",
    "--verifier",
    "Vic Verifier",
)
EVIDENCE_WORDS = (
    "COA label",
    "GML label",
    "OA3 firmware key",
    "recorded as present, type not stated",
    "product key recorded, type not stated",
)


def _eligible(src: Path) -> list[dict]:
    doc = run_cli("check", src, "--format", "json", "--fail-on", "never").json()
    return [d for d in doc["devices"] if d["status"] == "eligible"]


async def _export_on_screen(app: CoaAuditApp, pilot: Any, customer: str) -> None:
    """ctrl+s, the customer's name in its field (after the output folder), ctrl+s again,
    then enter once the header is reviewed: every output written."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.press("tab", *customer)
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, ReviewScreen)
    await pilot.press("enter")
    await settle(app, pilot)


def _md_eligible(md: str) -> list[list[str]]:
    section = md.split("## Eligible devices")[1].split("\n## ")[0]
    rows = [line.strip("| ").split(" | ") for line in section.splitlines() if line.startswith("|")]
    return rows  # the heading row first


def test_the_packet_holds_everything_a_signer_needs(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    res = run_cli("export", src, *FULL_HEADER)
    assert res.code == 0, res.stderr
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    eligible = _eligible(src)
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    xl = openpyxl.load_workbook(tmp_path / "oem-fleet.checklist.xlsx")
    xl_text = "\n".join(
        str(v) for ws in xl.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    )
    from pypdf import PdfReader

    pdf = PdfReader(tmp_path / "oem-fleet.checklist.pdf")
    pages = [p.extract_text() for p in pdf.pages]
    pdf_text = re.sub(r"\s+", " ", "\n".join(pages))
    for text in (md.replace("\\", ""), xl_text, pdf_text):
        flat = re.sub(r"\s+", " ", text)
        for needle in (
            "not this tool, certifies",  # the statement: the customer certifies
            # the form the packet accompanies, by its title
            "Microsoft Customer License Verification for Upgrade Installation Services for "
            "Microsoft Windows Operating System Software by Third Parties",
            "Customer's authorised signatory",
            "Dana Signer",
            "CIO",
            "OEM/LSP verifier",
            "Vic Verifier",
            "EA (Enterprise Agreement)",
            "EA-77",
            "Windows 11 Enterprise 24H2",
            "1000",
            "PO-4471",
            "oem-fleet.xlsx",
            sha,
            # the policy with its version and SHA-256, built in as it is here
            f"Built-in policy version 2026.12 (SHA-256 {builtin_sha256()})",
            "coa-audit ",
        ):
            assert needle in flat, needle
    # the PDF too names an evidence word for every eligible device (wrapped lines joined)
    words = sum(pdf_text.count(w) for w in EVIDENCE_WORDS if w != "OA3 firmware key")
    words += pdf_text.count("OA3 firmware key, key ending")
    assert words >= len(eligible)
    # every page of the PDF repeats customer, agreement number and page x of y
    for n, page in enumerate(pages, 1):
        assert "Contoso Ltd - agreement EA-77" in page
        assert f"page {n} of {len(pages)}" in page
    # an exact evidence word for every eligible device, in the md and the xlsx
    rows = _md_eligible(md)
    head, body = rows[0], rows[2:]
    assert [r[head.index("Serial")] for r in body] == [d["serial_number"] for d in eligible]
    for r in body:
        assert r[head.index("Evidence")].startswith(EVIDENCE_WORDS), r
        # nothing was checked on site: the packet says so, and claims no label, no key read
        assert r[head.index("Check")] == "☐ presence not checked; ☐ label not confirmed"
    ws = xl["Checklist"]
    values = list(ws.values)
    start = next(i for i, v in enumerate(values) if v[0] == "Row")
    xhead = values[start]
    for v in values[start + 1 : start + 1 + len(eligible)]:
        assert str(v[xhead.index("Evidence")]).startswith(EVIDENCE_WORDS)
    assert ws.print_title_rows == f"${start + 1}:${start + 1}"
    assert {"Manufacturer", "Model", "Edition on the evidence", "Edition as read"} <= set(xhead)


def test_oa3_evidence_shows_the_key_tail_and_a_key_read_box(tmp_path: Path) -> None:
    src = tmp_path / "oa3.csv"
    src.write_text(
        "Serial Number,COA Present,COA Edition,Product Key\n"
        "S-1,OA3,Windows 11 Pro,JB7TK-VCXJ4-8C3MW-YK3DF-3V66T\n"
        "S-2,COA label,Windows 10 Pro,\n"
    )
    assert run_cli("export", src, "--checklist", "md").code == 0
    rows = _md_eligible((tmp_path / "oa3.checklist.md").read_text())
    head = rows[0]
    got = {r[head.index("Serial")]: r for r in rows[2:]}
    assert got["S-1"][head.index("Evidence")] == "OA3 firmware key, key ending 3V66T"
    # an OA3 key in the register is no firmware key read: only collection data says that
    assert got["S-1"][head.index("Check")] == "☐ presence not checked; ☐ label not confirmed"
    assert "firmware key collected" not in (tmp_path / "oa3.checklist.md").read_text()
    assert got["S-2"][head.index("Evidence")] == "COA label"
    assert got["S-2"][head.index("Edition on the evidence")] == "Windows 10 Pro"
    assert "JB7TK" not in (tmp_path / "oa3.checklist.md").read_text()  # masked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--agreement-type", "Handshake"), "not a programme coa-audit knows"),
        (("--agreement-type", "EES"), "pass --agreement academic"),
        (("--agreement-type", "MPSA", "--agreement", "academic"), "pass --agreement commercial"),
        (("--licences", "a few"), "a whole number"),
        (("--licences", "-3"), "a whole number"),
    ],
)
def test_packet_details_are_checked_before_anything_is_read(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    src = oem_copy(tmp_path)
    res = run_cli("export", src, *args)
    assert res.code == 2
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "oem-fleet.checklist.md").exists()


def test_academic_programme_with_academic_agreement(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    args = ("--agreement-type", "ovs-es", "--agreement", "academic", "--checklist", "md")
    assert run_cli("export", src, *args).code == 0
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    assert "OVS-ES (Open Value Subscription for Education Solutions)" in md
    # the type as the packet prints it (a profile saved from one) reads back the same
    printed = "OVS-ES (Open Value Subscription for Education Solutions)"
    again = ("--agreement-type", printed, "--agreement", "academic", "--checklist", "md")
    assert run_cli("export", src, *again).code == 0
    assert printed in (tmp_path / "oem-fleet.checklist.md").read_text()
    assert f"{printed} (" not in (tmp_path / "oem-fleet.checklist.md").read_text()


def test_fewer_licences_than_eligible_devices_is_a_warning(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    n = len(_eligible(src))
    assert run_cli("export", src, "--licences", str(n - 1), "--checklist", "md,pdf").code == 0
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    assert f"WARNING: {n} devices are eligible but {n - 1} upgrade licences" in md
    assert run_cli("export", src, "--licences", str(n), "--checklist", "md").code == 0
    assert "WARNING" not in (tmp_path / "oem-fleet.checklist.md").read_text()


def test_one_checklist_per_site(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    res = run_cli(
        "export", src, "--checklist", "md", "--checklist-by", "location", "--licences", "10"
    )
    assert res.code == 0, res.stderr
    doc = run_cli("check", src, "--format", "json", "--fail-on", "never").json()
    files = sorted(tmp_path.glob("oem-fleet.checklist.*.md"))
    assert len(files) > 1 and not (tmp_path / "oem-fleet.checklist.md").exists()
    listed: list[str] = []
    for f in files:
        text = f.read_text()
        site = re.search(r"\(location: (.*)\)", text.splitlines()[0])
        assert site is not None
        listed += [r[2] for r in _md_eligible(text)[2:]]
    eligible = [d["serial_number"] for d in doc["devices"] if d["status"] == "eligible"]
    assert sorted(listed) == sorted(eligible)  # every eligible device, on exactly one list
    # the licences cover the whole order: each site's pages say how many the fleet needs
    warning = f"WARNING: {len(eligible)} devices are eligible but 10 upgrade licences"
    assert all(warning in f.read_text() for f in files)
    bad = run_cli("export", src, "--checklist", "md", "--checklist-by", "colour")
    assert bad.code == 2 and "no column is mapped" in bad.stderr


def test_an_edit_that_makes_a_device_eligible_is_marked_and_listed(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    fixes = tmp_path / "fix.csv"
    # row 8 (5CG0000004) has no edition: the label, read again, says Pro
    fixes.write_text("serial_number,field,value\n5CG0000004,coa_edition,Windows 10 Pro\n")
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "md")
    assert res.code == 0, res.stderr
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    rows = _md_eligible(md)
    row = next(r for r in rows[2:] if r[2] == "5CG0000004")
    assert "eligible after an edit" in row[rows[0].index("Note")]
    edits = md.split("## Edits that made devices eligible (1)")[1].split("\n## ")[0]
    edits = edits.replace("\\", "")  # Markdown escapes, as a reader sees the text
    assert "Row 8 (5CG0000004)" in edits and "'' -> 'Windows 10 Pro'" in edits
    assert "corrections file" in edits


async def test_the_walk_on_screen_fills_the_checklist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coa_audit.tui.screens import DetailScreen, PromptScreen, ScanScreen

    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        session = app.session
        assert session is not None
        inv = session.inventory
        # scan mode: the verifier's name first, then three devices and an unknown code
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+u", *"Ann Verifier", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ScanScreen)
        for code in ("5CG0000001", "at-9000023", "mi30 9d6b79", "NOPE-404"):
            await pilot.press(*code, "enter")
            await pilot.pause()
        band = str(app.screen.query_one("#scan-band").render())
        assert "U N K N O W N" in band
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)  # the flagged codes, listed
        assert "NOPE-404" in str(app.screen.query_one("#detail-text").render())
        await pilot.press("escape")
        await pilot.pause()
        sighted = {
            inv.field(r, "serial_number") for r in range(len(inv)) if inv.field(r, "sighted")
        }
        assert sighted == {"5CG0000001", "5CG0000023", "MI309D6B79"}
        # accept one REVIEW device after a physical check
        await pilot.press("slash", *"5CG0000005", "enter")
        await pilot.pause()
        row = app.main.grid.current_row()
        assert inv.field(row, "serial_number") == "5CG0000005"
        assert app.session.audit.status(row) == "review"
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("l")  # the basis: a look at the label
        await pilot.pause()
        await pilot.press(*"GML label, Windows 10 Pro", "enter")
        await pilot.pause()
        assert app.session.audit.status(row) == "eligible"
        assert app.session.audit.summary().attested == 1
        # a blocked device cannot be accepted: it needs a data fix
        await pilot.press("slash", *"5CG0000002", "enter", "a")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert app.session.audit.status(app.main.grid.current_row()) == "blocked"
        # bulk: every blocked device (the filter), Notes set at once, then one undo
        while app.main.grid.filter != "blocked":
            await pilot.press("f")
        await pilot.pause()
        shown = list(app.main.grid.view)
        await pilot.press("A")
        notes = next(i for i, c in enumerate(app.main.grid.columns) if c.field == "notes")
        await pilot.press("home", *(["right"] * notes), "equals_sign")
        await pilot.pause()
        await pilot.press(*"recheck label", "enter")
        await pilot.pause()
        col = inv.mapping["notes"]
        assert all(inv.value(r, col) == "recheck label" for r in shown)
        await pilot.press("U")
        await pilot.pause()
        assert not any(inv.value(r, col) == "recheck label" for r in shown)
        assert inv.field(row, "attested")  # the undo took the bulk step only
        # export: the checklist shows the walk
        await _export_on_screen(app, pilot, "Contoso Ltd")
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    rows = _md_eligible(md)
    head = rows[0]
    by_serial = {r[head.index("Serial")]: r for r in rows[2:]}
    for serial in ("5CG0000001", "5CG0000023", "MI309D6B79"):
        # scanned, and the next code scanned at once: present, the label not confirmed
        check = by_serial[serial][head.index("Check")]
        assert check == "☑ present (scanned); ☐ label not confirmed"
        assert by_serial[serial][head.index("Verified by")].startswith("present: Ann Verifier, 20")
    # an accepted device is listed apart, with its basis, who and when
    assert "5CG0000005" not in by_serial
    accepted = md.split("## Accepted by a person (1)")[1].split("\n## ")[0]
    (line,) = [ln for ln in accepted.splitlines() if "5CG0000005" in ln]
    assert "accepted on a physical check of the label (GML label, Windows 10 Pro) | Ann" in line
    assert re.search(r"Eligible for imaging: \d+ \(\d+ on their own evidence, 1 accepted by a ", md)
    assert "'NOPE-404' matched no device (by Ann Verifier, 20" in md.replace("\\", "")
    assert "recheck label" not in (tmp_path / "oem-fleet.audit.xlsx").read_bytes().decode("latin-1")


def test_walk_marks_survive_a_crash_and_reach_a_headless_export(tmp_path: Path) -> None:
    from coa_audit.session.session import open_session

    src = oem_copy(tmp_path)
    session = open_session(src)
    session.start_journal()
    session.author = "Ann Verifier"
    inv = session.inventory
    rows = {inv.field(r, "serial_number"): r for r in range(len(inv))}
    session.sight([rows["5CG0000001"], rows["5CG0000023"]])
    session.attest([rows["5CG0000005"]], "document", reference="OEM invoice 4471")
    session.take_out([rows["5CG0000029"]], "leaves with the Berlin office")
    session.record_scan("NOPE-1", "unknown")
    with pytest.raises(Exception, match="a blocked device needs its data fixed"):
        session.attest([rows["5CG0000002"]], "label", note="looked fine")
    assert session.journal is not None
    session.journal.close()  # the app died here: no close, nothing exported

    res = run_cli("export", src, "--resume", "--checklist", "md", "--json")
    assert res.code == 0, res.stderr
    assert "resumed 4 journaled edit(s)" in res.stderr
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    rows_md = _md_eligible(md)
    head = rows_md[0]
    by_serial = {r[head.index("Serial")]: r for r in rows_md[2:]}
    assert by_serial["5CG0000001"][head.index("Check")] == "☑ present; ☐ label not confirmed"
    # accepted, not edited: listed apart, on its basis, never among the eligible by evidence
    assert "5CG0000005" not in by_serial
    accepted = md.split("## Accepted by a person (1)")[1].split("\n## ")[0]
    assert "5CG0000005" in accepted and "accepted on a document: OEM invoice 4471" in accepted
    assert "## Edits that made devices eligible" not in md
    assert "5CG0000029" not in by_serial
    assert "## Taken out of the order (1)" in md and "leaves with the Berlin office" in md
    assert "'NOPE-1' matched no device" in md
    import json

    doc = json.loads((tmp_path / "oem-fleet.audit.json").read_text())
    assert doc["summary"]["eligible_by_attestation"] == 1
    assert doc["summary"]["taken_out_of_order"] == 1
    codes = {d["serial_number"]: [f["code"] for f in d["findings"]] for d in doc["devices"]}
    assert "ATTESTED" in codes["5CG0000005"]
    assert codes["5CG0000029"] == ["REMOVED_FROM_ORDER"]
    # the walk's columns are never written into the user's workbook
    wb = openpyxl.load_workbook(tmp_path / "oem-fleet.corrected.xlsx")
    written = {str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v}
    assert not any("Ann Verifier" in v or "OEM invoice" in v for v in written)


def test_worklist_lists_what_to_fix_grouped_by_site(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    res = run_cli(
        "export", src, "--checklist", "", "--worklist", "blocked,review", "--by", "location"
    )
    assert res.code == 0, res.stderr
    doc = run_cli("check", src, "--format", "json", "--fail-on", "never").json()
    wanted = {
        (d["row"], f["code"])
        for d in doc["devices"]
        if d["status"] in ("blocked", "review")
        for f in d["findings"]
    }
    ws = openpyxl.load_workbook(tmp_path / "oem-fleet.worklist.xlsx").active
    rows = list(ws.values)
    head, body = rows[0], rows[1:]
    got = {(r[head.index("Row")], r[head.index("Finding")]) for r in body}
    assert got == wanted
    groups = [r[0] for r in body]
    assert groups == sorted(groups, key=lambda g: (g == "(blank)", g.casefold()))
    assert all(r[head.index("What to do")] for r in body)
    assert ws.auto_filter.ref == f"A1:L{len(rows)}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--worklist", "broken"), "choose statuses from"),
        (("--by", "location"), "give --worklist too"),
        (("--worklist", "blocked", "--by", "colour"), "--by 'colour': no column is mapped"),
        (("--checklist-by", "colour"), "no column is mapped"),
    ],
)
def test_worklist_and_split_options_write_nothing_when_wrong(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    src = oem_copy(tmp_path)
    res = run_cli("export", src, *args)
    assert res.code == 2 and message in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oem-fleet.xlsx"]


def test_a_cancelled_export_leaves_no_half_written_file(tmp_path: Path) -> None:
    from coa_audit.exporters.export import Cancelled, ExportRequest, export_all
    from coa_audit.session.session import open_session

    src = oem_copy(tmp_path)
    session = open_session(src)
    steps: list[str] = []

    def progress(step: str, done: int, total: int) -> None:
        steps.append(step)
        if step.startswith("checklist"):
            raise Cancelled("stop")

    with pytest.raises(Cancelled, match=r"export cancelled: no file was written"):
        export_all(session.audit, [], ExportRequest(), progress=progress)
    # all the outputs of a run or none: the two finished before the stop are gone too,
    # and so is the folder they were written in
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["oem-fleet.xlsx"]
    assert steps[0] == "corrected inventory" and "audit report" in steps


def test_the_pdf_is_written_without_a_system_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with no font of its own to offer (a bare Windows or macOS image): the
    packet draws in the fonts shipped with coa-audit, every letter and the check boxes as
    they are (no Latin-1 font, no "?"), and every eligible serial is in it."""
    from pypdf import PdfReader

    from coa_audit.exporters.checklist.pdf import FONT_DIRS_ENV

    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv(FONT_DIRS_ENV, str(empty))
    src = oem_copy(tmp_path)
    res = run_cli("export", src, "--checklist", "pdf", "--customer", "Zürich ☃ Ltd")
    assert res.code == 0, res.stderr
    text = "\n".join(
        p.extract_text() for p in PdfReader(tmp_path / "oem-fleet.checklist.pdf").pages
    )
    assert "Zürich ☃ Ltd" in text and "☐ presence not" in text and "?" not in text
    assert all(d["serial_number"] in text for d in _eligible(src))


def test_a_hostile_cell_cannot_stretch_a_pdf_row_past_a_page(tmp_path: Path) -> None:
    """32,000 characters in a serial and a model: the row wraps up to a page and is marked
    cut there; the export ends (a character-by-character measure would be quadratic)."""
    from pypdf import PdfReader

    src = tmp_path / "long.csv"
    src.write_text(
        "Serial Number,Model,COA Present,COA Edition\n"
        f"{'S' * 32000},{'Model ' * 5000},COA label,Windows 10 Pro\n"
        "S-2,EliteBook,COA label,Windows 10 Pro\n"
    )
    res = run_cli("export", src, "--checklist", "pdf")
    assert res.code == 0, res.stderr
    pages = [p.extract_text() for p in PdfReader(tmp_path / "long.checklist.pdf").pages]
    assert len(pages) < 10
    text = "\n".join(pages)
    assert "S-2" in text and "S" * 10 in text and "…" in text


async def test_the_verifier_is_asked_once_then_every_mark_carries_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coa_audit.tui.screens import BasisScreen, PromptScreen

    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(oem_copy(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        inv = app.session.inventory
        await pilot.press("slash", *"5CG0000005", "enter", "a")  # a REVIEW device
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)  # first: who is checking
        await pilot.press("ctrl+u", *"Bo Checker", "enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, BasisScreen)  # then: on what basis
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)  # and which document
        await pilot.press(*"OEM invoice 4471", "enter")
        await pilot.pause()
        row = app.main.grid.current_row()
        (accepted,) = inv.marks_of(row, "attested")
        assert (accepted.stamp.by, accepted.basis, accepted.reference) == (
            "Bo Checker",
            "document",
            "OEM invoice 4471",
        )
        await pilot.press("c")  # no second question
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        (seen,) = inv.marks_of(row, "sighted")
        assert (seen.outcome, seen.stamp.by, seen.stamp.how) == ("present", "Bo Checker", "marked")


async def test_a_scan_is_a_device_present_and_its_label_is_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scan mode at 80x24: a scan marks a device present, nothing more; one entry after it
    tells the label (Enter: as expected, x: none, d: differs and what it says); scanning the
    next device at once leaves the label unconfirmed. The packet prints each fact apart."""
    from coa_audit.tui.screens import ScanScreen

    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    present_only, expected, missing, differs = [d["serial_number"] for d in _eligible(src)][:4]
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        inv = app.session.inventory
        row = {inv.field(r, "serial_number"): r for r in range(len(inv))}
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("ctrl+u", *"Ann Verifier", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ScanScreen)
        # a scanner's burst: two codes one after the other, no label told for the first
        await pilot.press(*present_only, "enter", *expected, "enter", "enter")
        await pilot.press(*missing, "enter", "x", "enter")
        await pilot.press(*differs, "enter", "d", "enter", *"Windows 10 Home", "enter")
        await pilot.pause()
        band = str(app.screen.query_one("#scan-band").render())
        assert "label differs: Windows 10 Home" in band
        await pilot.press("escape")
        await pilot.pause()
        audit = app.session.audit
        assert audit.status(row[present_only]) == "eligible"
        assert audit.status(row[expected]) == "eligible"
        assert audit.status(row[missing]) == "blocked"
        assert "LABEL_MISSING" in {f.code for f in audit.findings(row[missing])}
        assert audit.status(row[differs]) == "review"
        assert "LABEL_DIFFERS" in {f.code for f in audit.findings(row[differs])}
        await _export_on_screen(app, pilot, "Contoso Ltd")
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    assert "label sighted" not in md and "key read from firmware" not in md
    rows = _md_eligible(md)
    head = rows[0]
    by_serial = {r[head.index("Serial")]: r for r in rows[2:]}
    check, who = head.index("Check"), head.index("Verified by")
    assert by_serial[present_only][check] == "☑ present (scanned); ☐ label not confirmed"
    # Enter confirmed what the register expected, and the packet says what that was
    assert re.fullmatch(
        r"☑ present \(scanned\); ☑ label as expected \(.+; Windows \d+ Pro\)",
        by_serial[expected][check],
    )
    assert re.fullmatch(
        r"present: Ann Verifier, 20\S+ \S+ \S+; label: Ann Verifier, 20\S+ \S+ \S+",
        by_serial[expected][who],
    )
    assert missing not in by_serial and differs not in by_serial
    excluded = md.split("## Excluded devices")[1].split("\n## ")[0]
    assert "No label on the device" in excluded and "Label differs from the register" in excluded


def test_a_restored_edit_keeps_its_time_and_never_names_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provenance that is true: an edit journaled on one day and exported after a restore on
    another carries the day it was made; the person is never the machine's login name."""
    import datetime as dt
    import getpass
    import json

    from coa_audit.session.session import open_session

    src = oem_copy(tmp_path)
    session = open_session(src)
    session.start_journal()
    inv = session.inventory
    row = next(r for r in range(len(inv)) if inv.field(r, "serial_number") == "5CG0000004")
    session.apply(row, inv.headers.index("COA Edition"), "Windows 10 Pro")
    assert session.journal is not None
    session.journal.close()  # the app died: nothing exported
    # the edit was made a day before the restore: its journal line says so
    made = (
        json.loads(
            next(x for x in session.journal.path.read_text().splitlines() if '"apply"' in x)
        )["time"]
        - 86_400
    )

    def a_day_earlier(entry: dict) -> dict:
        at = dt.datetime.fromisoformat(entry["stamp"]["at"]) - dt.timedelta(days=1)
        return {**entry, "time": made, "stamp": {**entry["stamp"], "at": at.isoformat()}}

    lines = [
        json.dumps(a_day_earlier(json.loads(x))) if '"apply"' in x else x
        for x in session.journal.path.read_text().splitlines()
    ]
    session.journal.path.write_text("\n".join(lines) + "\n")
    res = run_cli("export", src, "--resume", "--checklist", "md")
    assert res.code == 0, res.stderr
    md = (tmp_path / "oem-fleet.checklist.md").read_text().replace("\\", "")
    assert "## Edits that made devices eligible (1)" in md, (res.stderr, md[-1500:])
    edits = md.split("## Edits that made devices eligible (1)")[1].split("\n## ")[0]
    stamp = dt.datetime.fromtimestamp(made).strftime("%Y-%m-%d %H:%M")
    # nobody was named (a session API call, no --author): said so, never a login name
    assert f"'' -> 'Windows 10 Pro', by no name given, {stamp}" in edits
    login = getpass.getuser()
    assert f"by {login}," not in edits


async def test_the_walk_outlives_the_export_and_comes_back_with_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walk ten devices in scan mode at 80x24 (labels as expected, one that differs, one
    missing, an unknown and a repeated scan), export, quit; then, with no journal, export
    again from the walk file alone: the two packets carry the same marks, times and names."""
    from coa_audit.tui.screens import ScanScreen

    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    serials = [d["serial_number"] for d in _eligible(src)][:10]
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("ctrl+u", *"Ann Verifier", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ScanScreen)
        for serial in serials[:7]:
            await pilot.press(*serial, "enter", "enter")  # the label as expected
        await pilot.press(*serials[7], "enter", "d", "enter", *"Windows 10 Home", "enter")
        await pilot.press(*serials[8], "enter", "x", "enter")
        await pilot.press(*serials[9], "enter")  # present, the label not told
        await pilot.press(*"NOPE-404", "enter", *serials[0], "enter")  # unknown, repeated
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # the list of flagged codes
        await _export_on_screen(app, pilot, "Contoso Ltd")
    walk = tmp_path / "oem-fleet.walk.csv"
    assert walk.exists()
    first = (tmp_path / "oem-fleet.checklist.md").read_text()
    text = walk.read_text(encoding="utf-8-sig")
    assert text.count("\nmark,") == 10 + 9  # ten present, nine labels told
    assert "scan," in text and "NOPE-404" in text
    # a second technician, another machine: no journal, only the walk file
    monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(tmp_path / "other-state"))
    again = tmp_path / "again"
    res = run_cli(
        "export",
        src,
        "--walk",
        walk,
        "--out-dir",
        again,
        "--customer",
        "Contoso Ltd",
        "--checklist",
        "md",
    )
    assert res.code == 0, res.stderr
    second = (again / "oem-fleet.checklist.md").read_text()

    def marks(md: str) -> dict[str, tuple[str, str]]:
        rows = _md_eligible(md)
        head = rows[0]
        body = [r + [""] * (len(head) - len(r)) for r in rows[2:]]  # empty last cells
        return {
            r[head.index("Serial")]: (r[head.index("Check")], r[head.index("Verified by")])
            for r in body
        }

    assert marks(first) == marks(second)
    # reopened on screen with the walk file (still no journal): the marks are back, and the
    # packet exported from there carries them as the first did
    third = tmp_path / "third"
    app = CoaAuditApp(src, walk=[walk])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.session.unexported() == (0, 19)  # walk marks on screen, not yet exported
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#out_dir").value = str(third)
        await pilot.press("tab", *"Contoso Ltd", "ctrl+s")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
    assert marks((third / "oem-fleet.checklist.md").read_text()) == marks(first)
    assert marks(first)[serials[0]][0].startswith("☑ present (scanned); ☑ label as expected (")
    assert marks(first)[serials[9]][0] == "☑ present (scanned); ☐ label not confirmed"
    for md in (first, second):
        excluded = md.split("## Excluded devices")[1].split("\n## ")[0]
        assert serials[7] in excluded and serials[8] in excluded
        assert "'NOPE-404' matched no device (by Ann Verifier, 20" in md.replace("\\", "")
    # check reads the walk too: the missing label blocks, the differing one is a review
    doc = run_cli("check", src, "--walk", walk, "--format", "json", "--fail-on", "never").json()
    status = {d["serial_number"]: d["status"] for d in doc["devices"]}
    assert (status[serials[7]], status[serials[8]], status[serials[0]]) == (
        "review",
        "blocked",
        "eligible",
    )


def test_a_walk_file_changed_by_hand_or_naming_no_device_says_so(tmp_path: Path) -> None:
    src = oem_copy(tmp_path)
    bad = tmp_path / "bad.walk.csv"
    bad.write_text("serial,mark\n1,2\n")
    res = run_cli("check", src, "--walk", bad)
    assert res.code == 2 and "not a walk file" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    stray = tmp_path / "stray.walk.csv"
    stray.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,value,by\n"
        'mark,3,NO-SUCH-SERIAL,,,present,"present by Ann, 2026-12-04 10:00",\n'
    )
    res = run_cli("check", src, "--walk", stray, "--fail-on", "never")
    assert res.code == 0
    assert "stray.walk.csv, line 2: 'NO-SUCH-SERIAL' names no device" in res.stderr


def test_the_pdf_never_cuts_a_target_an_edition_or_an_identifier(tmp_path: Path) -> None:
    """An OEM must tell Windows 10 from 11: every target image, edition, model and serial
    of an eligible device is in the PDF whole (wrapped, never cut), headings too."""
    from pypdf import PdfReader

    from tests.conftest import device, write_csv

    targets = [
        "Windows 11 Enterprise LTSC 2024",
        "Windows 10 Enterprise LTSC 2021",
        "Windows 11 Enterprise 24H2",
        "Windows 10 Enterprise 22H2",
    ]
    rows = [
        device(
            i + 1,
            Target_Image=t,
            Licensed_Product="Windows 11 Enterprise",
            Model="EliteBook 840 G9 Notebook PC",
            Serial_Number=f"5CG{i:07d}XYZLONG",
        )
        for i, t in enumerate(targets)
    ]
    src = write_csv(tmp_path / "targets.csv", rows)
    assert run_cli("export", src, "--checklist", "pdf").code == 0
    pages = PdfReader(tmp_path / "targets.checklist.pdf").pages
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))
    for t in targets:
        assert t in text, t
    assert "EliteBook 840 G9 Notebook PC" in text and "Manufacturer" in text
    squeezed = text.replace(" ", "")  # a word longer than its column wraps inside itself
    assert all(f"5CG{i:07d}XYZLONG" in squeezed for i in range(len(targets)))
    assert "Windows 1…" not in text and "Windows …" not in text


def test_taken_out_is_counted_as_taken_out_never_as_not_a_pc(tmp_path: Path) -> None:
    from tests.conftest import device, write_csv

    src = write_csv(tmp_path / "out.csv", [device(1), device(2), device(3)])
    walk = tmp_path / "out.walk.csv"
    walk.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,value,by\n"
        'mark,2,5CG0000001,,,taken out,"leaves with Berlin (by Ann, 2026-12-04 10:00)",\n'
    )
    res = run_cli("check", src, "--walk", walk, "--fail-on", "never")
    assert res.code == 0, res.stderr
    assert "taken out 1" in res.stdout and "not PCs" not in res.stdout
    doc = run_cli("check", src, "--walk", walk, "--format", "json", "--fail-on", "never").json()
    assert doc["summary"]["taken_out_of_order"] == 1
    assert doc["devices"][0]["status"] == "out-of-scope"


async def test_the_name_prompt_never_takes_a_scan_and_offers_the_last_name_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scanner's burst right after b lands in the name prompt: a device's code is refused
    as a name. The next session (another technician on the same laptop, perhaps) is asked
    again: the last name is offered, never assumed."""
    from coa_audit.tui.screens import PromptScreen, ScanScreen

    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"5CG0000001", "enter")  # the scanner, not the technician
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert "not a name" in str(app.screen.query_one("#prompt-question").render())
        assert app.session.author == ""
        await pilot.press("ctrl+u", *"Ann Verifier", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ScanScreen)
        assert app.session.author == "Ann Verifier"
    again = CoaAuditApp(src)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.session.author == ""  # nobody is assumed
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(again.screen, PromptScreen)  # asked again
        assert again.screen.query_one("Input").value == "Ann Verifier"  # offered
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(again.screen, ScanScreen)
        assert again.session.author == "Ann Verifier"


def test_more_eligible_devices_than_licences_is_said_by_the_command_too(tmp_path: Path) -> None:
    from tests.conftest import device, write_csv

    src = write_csv(tmp_path / "lic.csv", [device(1), device(2), device(3)])
    res = run_cli("export", src, "--licences", "2", "--checklist", "md")
    assert res.code == 0, res.stderr
    warning = "WARNING: 3 devices are eligible but 2 upgrade licences were purchased"
    assert warning in res.stderr
    assert warning in (tmp_path / "lic.checklist.md").read_text()
    quiet = run_cli("export", src, "--licences", "3", "--checklist", "md")
    assert quiet.code == 0 and "WARNING" not in quiet.stderr


def test_an_edit_on_one_row_that_made_another_eligible_is_listed(tmp_path: Path) -> None:
    """A serial fixed on one row ends another row's duplicate: the packet lists that edit
    among the edits that made devices eligible, naming the row it cleared."""
    from tests.conftest import device, write_csv

    rows = [device(1), device(2, Serial_Number="5CG0000001"), device(3)]
    src = write_csv(tmp_path / "dup.csv", rows)
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("row,field,value\n3,serial_number,5CG0000002\n")
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "md")
    assert res.code == 0, res.stderr
    md = (tmp_path / "dup.checklist.md").read_text().replace("\\", "")
    edits = md.split("## Edits that made devices eligible (1)")[1].split("\n## ")[0]
    assert "Row 3 (5CG0000002), Serial Number: '5CG0000001' -> '5CG0000002'" in edits
    assert "(this ended row 2's duplicate)" in edits
    eligible = _md_eligible(md)
    head = eligible[0]
    notes = {r[head.index("Serial")]: r for r in eligible[2:]}
    assert "eligible after an edit" in " ".join(notes["5CG0000001"])


async def test_the_grid_names_an_acceptance_and_a_removal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On screen a device accepted by a person reads "accepted", not a plain
    "ok", and one taken out of the order "taken out", not "not PC"."""
    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        session = app.session
        session.author = "Ann Verifier"
        inv = session.inventory
        rows = {inv.field(r, "serial_number"): r for r in range(len(inv))}
        session.attest([rows["5CG0000005"]], "document", reference="OEM invoice 4471")
        session.take_out([rows["5CG0000001"]], "leaves with Berlin")
        app.main.after_change()
        for serial in ("5CG0000005", "5CG0000001"):
            await pilot.press("slash", *serial, "enter")
            await pilot.pause()
        screen = app.export_screenshot()
        await pilot.press("slash", *"5CG0000005", "enter")
        await pilot.pause()
        screen += app.export_screenshot()
    text = re.sub(r"<[^>]+>", "", screen).replace("&#160;", " ")
    # the grid's status column, then the asset tag column beside it
    assert re.search(r"accepted\s+AT-", text) and re.search(r"taken out\s+AT-", text)


async def test_scan_feedback_says_why_names_both_rows_and_flags_a_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80x24: a blocked device's band gives the reason and the action; a serial on two
    rows names both rows; a device scanned twice is flagged; the recent scans are listed."""
    from coa_audit.core.codes import code_info
    from coa_audit.tui.screens import ScanScreen

    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.session.author = "Ann Verifier"
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ScanScreen)
        await pilot.press(*"5CG0000002", "enter")  # blocked: no licence evidence
        await pilot.pause()
        band = str(app.screen.query_one("#scan-band").render())
        assert "B L O C K E D" in band
        assert code_info("COA_MISSING").title in band
        await pilot.press(*"5CG0000099", "enter")  # one serial on rows 16 and 17
        await pilot.pause()
        band = str(app.screen.query_one("#scan-band").render())
        assert "rows 16, 17" in band
        await pilot.press(*"5CG0000002", "enter")  # again
        await pilot.pause()
        log = str(app.screen.query_one("#scan-log").render())
        assert "5CG0000002: SCANNED AGAIN" in log and "5CG0000099: on rows 16, 17" in log
        # counted one way: what is not one device apart from what was scanned again
        assert "1 device present; no label told; 1 code not one device; 1 scanned again" in log


def test_a_heading_broken_in_the_pdf_is_marked_and_a_value_never_is(tmp_path: Path) -> None:
    """A heading wider than its column breaks with a hyphen ("Manufactu-" "rer"), so it
    reads as one word; a serial broken the same way would gain a character that is not
    in it, so values break bare."""
    import re

    from pypdf import PdfReader

    src = tmp_path / "long.csv"
    serial = "S" + "0123456789" * 6
    src.write_text(
        "Serial Number,Manufacturer,COA Present,COA Edition\n"
        f"{serial},HP,COA label,Windows 10 Pro\n"
    )
    res = run_cli("export", src, "--checklist", "pdf")
    assert res.code == 0, res.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "long.checklist.pdf").pages)
    words = text.split()
    pieces = [w for w in words if w.startswith("Manufactu")]
    assert pieces, text
    assert all(re.fullmatch(r"Manufacturer\W?|Manufactu\w*-", w) for w in pieces), pieces
    assert serial in "".join(words)  # whole, across its lines
    assert not re.search(r"S0123[0-9]*-", text), "a dash was put into the serial"


def test_characters_are_drawn_whole_or_the_export_stops_naming_them(tmp_path: Path) -> None:
    """A model in Japanese and an emoji DejaVu has: the export says nothing but what it
    wrote, and the PDF holds the model whole. An emoji no shipped font has stops the export
    in one line naming it, and nothing is written (never a ? or an empty box)."""
    from pypdf import PdfReader

    src = tmp_path / "glyph.csv"
    src.write_text(
        "Serial Number,COA Edition,Model\nS1,Windows 11 Pro,ノート 5440 😀\n", encoding="utf-8"
    )
    res = run_cli("export", src, "--checklist", "pdf")
    assert res.code == 0, res.stderr
    assert all(line.startswith("wrote ") for line in res.stderr.strip().splitlines())
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "glyph.checklist.pdf").pages)
    assert "ノート 5440 😀" in text and "\ufffd" not in text
    (tmp_path / "glyph.checklist.pdf").unlink()
    src.write_text(
        "Serial Number,COA Edition,Model\nS1,Windows 11 Pro,ノート 5440 🦄\n", encoding="utf-8"
    )
    res = run_cli("export", src, "--checklist", "pdf")
    assert res.code == 4, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "U+1F984" in lines[0] and "'Model'" in lines[0], lines
    assert not (tmp_path / "glyph.checklist.pdf").exists()
