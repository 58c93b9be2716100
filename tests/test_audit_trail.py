"""The record behind the signature: who did what, when, how and why, for every edit, mark
and acceptance, carried unchanged from the screen through the walk file, the journal and a
headless merge into the packet (md, xlsx, PDF), the audit report and the JSON report."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coa_audit.core.events import CONFLICT, Mark, Stamp, cell_value, merge_marks
from coa_audit.tui.app import CoaAuditApp
from coa_audit.tui.screens import BasisScreen, PromptScreen, RestoreScreen, ReviewScreen, ScanScreen
from tests.conftest import device, let_keys_through, oem_copy, press, run_cli, settle, write_csv

TIME = r"20\d\d-\d\d-\d\d \d\d:\d\d"  # a time as the packet prints it
ISO = r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"  # a time as records keep it

# the shipped sample: eligible devices the walk looks at, and one under review
SEEN_BY_BOTH = "5CG0000001"  # both technicians: label as expected
DISPUTED = "5CG0000023"  # Ana: no label; Bo: label as expected -> a conflict
DIFFERS = "5CG0000029"  # Ana: label differs ("Windows 10 Home")
NOT_FOUND = "MI309D6B79"  # Ana looked and did not find it
ACCEPTED = "5CG0000005"  # review (EDITION_REVIEW), accepted on a document


async def _name(app: CoaAuditApp, pilot: Any, name: str) -> None:
    """Answer the who-is-working question (the last name is offered: cleared first)."""
    assert isinstance(app.screen, PromptScreen), app.screen
    await pilot.press("ctrl+u", *name, "enter")
    await pilot.pause()


async def _go(app: CoaAuditApp, pilot: Any, serial: str) -> None:
    """Put the cursor on a device: a code scanned at the grid (its keys back to back, as a
    terminal hands over a scanner's burst) moves there and runs no command."""
    from textual import events

    for char in serial:
        app.post_message(events.Key(char if char.isalnum() else "minus", char).set_sender(app))
    app.post_message(events.Key("enter", "\r").set_sender(app))
    await let_keys_through(pilot)
    inv = app.session.inventory
    assert inv.field(app.main.grid.current_row(), "serial_number") == serial


async def _export(app: CoaAuditApp, pilot: Any) -> None:
    await press(pilot, "ctrl+s")
    await pilot.pause()
    await pilot.press("tab", *"Contoso Ltd")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, ReviewScreen)
    await pilot.press("enter")
    await settle(app, pilot)


def _walk_of(folder: Path, name: str) -> Path:
    """The walk file the export just wrote, kept under the technician's name."""
    return Path(shutil.move(folder / "oem-fleet.walk.csv", folder / name))


async def _ana(src: Path) -> Path:
    """Technician one: scans three devices (as expected, no label, differs), marks one not
    found, accepts a device under review on a document, exports her walk."""
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await press(pilot, "b")
        await _name(app, pilot, "Ana Auditor")
        assert isinstance(app.screen, ScanScreen)
        await pilot.press(*SEEN_BY_BOTH, "enter")
        band = str(app.screen.query_one("#scan-band").render())
        # the band states what the register expects before Enter confirms it
        assert "Register expects: product key recorded, type not stated" in band
        await pilot.press("enter")
        await pilot.press(*DISPUTED, "enter", "x", "enter")
        await pilot.press(*DIFFERS, "enter", "d", "enter", *"Windows 10 Home", "enter")
        await pilot.pause()
        log = str(app.screen.query_one("#scan-log").render())
        assert "3 devices present; labels: 1 as expected, 1 differs, 1 missing" in log
        await pilot.press("escape")
        await settle(app, pilot)
        await _go(app, pilot, NOT_FOUND)
        await press(pilot, "z")
        await _go(app, pilot, ACCEPTED)
        await press(pilot, "a")
        assert isinstance(app.screen, BasisScreen)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"Dell invoice 88123", "enter")
        await settle(app, pilot)
        assert app.session.audit.status(app.main.grid.current_row()) == "eligible"
        # the walk so far, counted one way, and site by site
        await press(pilot, "p")
        shown = str(app.screen.query_one("#detail-text").render())
        assert "3 present, 1 not found; labels: 1 as expected, 1 differs, 1 missing" in shown
        sites = re.findall(r"^(.+): (\d+) of (\d+) seen$", shown, re.MULTILINE)
        assert sum(int(n) for _place, n, _all in sites) == 3
        assert sum(int(n) for _place, _n, n in sites) == len(app.session.inventory)
        await press(pilot, "escape")
        await _export(app, pilot)
    return _walk_of(src.parent, "ana.walk.csv")


async def _bo(src: Path) -> Path:
    """Technician two, on the same laptop: his own name, never Ana's; sees the disputed
    device's label as expected."""
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await press(pilot, "b")
        assert isinstance(app.screen, PromptScreen)
        assert "Ana Auditor" in app.screen.query_one("Input").value  # offered, not assumed
        await _name(app, pilot, "Bo Builder")
        await pilot.press(*SEEN_BY_BOTH, "enter", "enter")
        await pilot.press(*DISPUTED, "enter", "enter")
        await pilot.press("escape")
        await settle(app, pilot)
        await _export(app, pilot)
    return _walk_of(src.parent, "bo.walk.csv")


def _md_table(md: str, title: str) -> list[dict[str, str]]:
    section = md.split(f"## {title}")[1].split("\n## ")[0]
    lines = [ln.strip("| ").split(" | ") for ln in section.splitlines() if ln.startswith("|")]
    head = lines[0]
    rows = [row + [""] * (len(head) - len(row)) for row in lines[2:]]  # empty last cells
    return [dict(zip(head, (c.replace("\\", "") for c in row), strict=True)) for row in rows]


async def test_two_technicians_walks_merge_into_a_packet_that_says_who_did_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = oem_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    ana = await _ana(src)
    bo = await _bo(src)
    out = tmp_path / "merged"
    res = run_cli("export", src, "--walk", ana, "--walk", bo, "--json", "--out-dir", out)
    assert res.code == 0, res.stderr
    # the conflict is said before anything is written, naming both technicians
    conflict = next(ln for ln in res.stderr.splitlines() if "disagree" in ln)
    assert "Ana Auditor" in conflict and "Bo Builder" in conflict

    doc = json.loads((out / "oem-fleet.audit.json").read_text())
    devices = {d["serial_number"]: d for d in doc["devices"]}
    assert devices[DISPUTED]["status"] == "review"
    assert {f["code"] for f in devices[DISPUTED]["findings"]} >= {"WALK_CONFLICT"}
    labels = devices[DISPUTED]["walk"]["label"]
    assert {(m["by"], m["outcome"], m["how"]) for m in labels} == {
        ("Ana Auditor", "missing", "scanned"),
        ("Bo Builder", "as expected", "scanned"),
    }
    assert all(re.fullmatch(ISO, m["at"]) for m in labels)
    assert devices[SEEN_BY_BOTH]["status"] == "eligible"
    assert devices[SEEN_BY_BOTH]["evidence"] == "product key recorded, type not stated"
    assert devices[SEEN_BY_BOTH]["hostname"]
    assert {m["by"] for m in devices[SEEN_BY_BOTH]["walk"]["sighted"]} == {
        "Ana Auditor",
        "Bo Builder",
    }
    assert devices[NOT_FOUND]["status"] == "review"
    assert devices[NOT_FOUND]["walk"]["sighted"][0]["outcome"] == "not found"
    acceptance = devices[ACCEPTED]["walk"]["attested"][0]
    assert (acceptance["basis"], acceptance["reference"], acceptance["by"]) == (
        "document",
        "Dell invoice 88123",
        "Ana Auditor",
    )
    assert doc["summary"]["not_pc"] == 1 and doc["summary"]["taken_out_of_order"] == 0

    md = (out / "oem-fleet.checklist.md").read_text()
    eligible = {r["Serial"]: r for r in _md_table(md, "Eligible devices")}
    assert DISPUTED not in eligible and NOT_FOUND not in eligible and ACCEPTED not in eligible
    assert re.fullmatch(
        rf"present: Ana Auditor, {TIME}.*; present: Bo Builder, {TIME}.*; label: Ana Auditor, "
        rf"{TIME}.*; label: Bo Builder, {TIME}.*",
        eligible[SEEN_BY_BOTH]["Verified by"],
    )
    # the accepted device apart, with its basis and the finding it overrides
    (accepted,) = _md_table(md, "Accepted by a person")
    assert accepted["Serial"] == ACCEPTED
    assert accepted["Accepted on"] == "accepted on a document: Dell invoice 88123"
    assert accepted["Finding it overrides"] == "Edition needs a decision"
    assert accepted["What the register says"].startswith("register: ")
    assert accepted["By"] == "Ana Auditor" and re.fullmatch(TIME + ".*", accepted["When"])
    assert "physical check" not in md.split("## Accepted by a person")[1].split("\n## ")[0]
    excluded = {r["Serial"]: r for r in _md_table(md, "Excluded devices")}
    reason = excluded[DISPUTED]["Reason"]
    assert reason.startswith("Technicians disagree") and "Ana Auditor" in reason
    assert "Bo Builder" in reason and "no label on the device" in reason
    assert excluded[NOT_FOUND]["Reason"].startswith("Not found on site: looked for, not found")
    assert "Ana Auditor" in excluded[NOT_FOUND]["Reason"]
    assert "it shows 'Windows 10 Home'" in excluded[DIFFERS]["Reason"]
    # every row not certified is listed with a reason in plain words
    listed = {**excluded, **{r["Serial"]: r for r in _md_table(md, "Rows that are not PCs")}}
    not_certified = {s for s, d in devices.items() if d["status"] != "eligible"}
    assert not_certified <= listed.keys()
    assert all(r["Reason"] for r in listed.values())
    assert "were not understood" not in md
    # each technician's marks with name, time and method
    walk = _md_table(md, "The walk: every mark, by technician")
    assert {(r["Serial"], r["By"], r["How"]) for r in walk} >= {
        (DISPUTED, "Ana Auditor", "scanned on site"),
        (DISPUTED, "Bo Builder", "scanned on site"),
        (NOT_FOUND, "Ana Auditor", "marked by hand"),
        (ACCEPTED, "Ana Auditor", "marked by hand"),
    }
    assert all(re.fullmatch(TIME + ".*", r["When"]) for r in walk)

    book = openpyxl.load_workbook(out / "oem-fleet.checklist.xlsx")
    accepted_rows = list(book["Accepted"].values)
    assert accepted_rows[1][2] == ACCEPTED and "Dell invoice 88123" in accepted_rows[1][5]
    walk_rows = [r for r in book["Walk"].values if r[2] == DISPUTED]
    assert {r[4] for r in walk_rows} == {"Ana Auditor", "Bo Builder"}
    excluded_rows = {r[2]: r for r in book["Excluded"].values}
    assert "Technicians disagree" in excluded_rows[DISPUTED][4]

    from pypdf import PdfReader

    pdf = " ".join(
        p.extract_text() for p in PdfReader(out / "oem-fleet.checklist.pdf").pages
    ).replace("\n", " ")
    pdf = re.sub(r"\s+", " ", pdf)
    for needle in ("Dell invoice 88123", "Technicians disagree", "Bo Builder", "Ana Auditor"):
        assert needle in pdf, needle


def _fleet(tmp_path: Path) -> Path:
    """Three devices each one edit away from eligible."""
    return write_csv(
        tmp_path / "inv.csv",
        [
            device(1, COA_Edition="Windows 10 Home"),
            device(2, COA_Present="No", COA_Edition="", Product_Key=""),
            device(3, COA_Edition="Windows 10 Home"),
        ],
    )


async def _edit(app: CoaAuditApp, pilot: Any, serial: str, field: str, value: str) -> None:
    await _go(app, pilot, serial)
    grid = app.main.grid
    target = next(i for i, c in enumerate(grid.columns) if c.field == field)
    grid.move_to(grid.cursor_row, target)
    await press(pilot, "e")
    await pilot.press("ctrl+u", *value, "enter")
    await settle(app, pilot)


async def _ana_edits(app: CoaAuditApp, pilot: Any) -> None:
    """Ana says who she is (w) and why, then makes device 1 eligible."""
    await settle(app, pilot)
    await press(pilot, "w")
    await _name(app, pilot, "Ana Auditor")
    await pilot.press(*"photo of the label", "enter")
    await settle(app, pilot)
    await _edit(app, pilot, "5CG0000001", "coa_edition", "Windows 10 Pro")


async def test_edits_carry_each_persons_name_time_and_reason_through_a_kill_and_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _fleet(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ana_edits(app, pilot)
        await press(pilot, "w")
        await _name(app, pilot, "Bo Builder")
        await pilot.press(*"Dell invoice 88123", "enter")
        await settle(app, pilot)
        await _edit(app, pilot, "5CG0000002", "coa_present", "Yes")
        await _edit(app, pilot, "5CG0000002", "coa_edition", "Windows 11 Pro")
        assert " Bo Builder (w) · Target" in str(app.main.query_one("#findings").border_title)
        # the app ends here as a kill would leave it: edits journaled, nothing exported
    corrections = tmp_path / "fix.csv"
    corrections.write_text(
        "serial_number,field,value,reason\n5CG0000003,coa_edition,Windows 11 Pro,COA photo 3\n"
    )
    out = tmp_path / "out"
    res = run_cli(
        "export", src, "--resume", "--corrections", corrections, "--author", "Cy Clerk",
        "--json", "--checklist", "md", "--out-dir", out,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    expected = {
        ("5CG0000001", "Ana Auditor", "typed on screen", "photo of the label"),
        ("5CG0000002", "Bo Builder", "typed on screen", "Dell invoice 88123"),
        ("5CG0000003", "Cy Clerk", "corrections file", "COA photo 3"),
    }
    changes = list(openpyxl.load_workbook(out / "inv.audit.xlsx")["Changes"].values)
    head = changes[0]
    got = {
        (r[head.index("Device")].split(" / ")[1], *(r[head.index(k)] for k in ("By", "How", "Why")))
        for r in changes[1:]
    }
    assert got == expected
    assert all(re.fullmatch(ISO, r[head.index("When")]) for r in changes[1:])
    # a restored edit keeps its own how, never "journal"; where it came from is Source
    sources = {r[head.index("By")]: r[head.index("Source")] for r in changes[1:]}
    assert sources == {"Ana Auditor": "journal", "Bo Builder": "journal", "Cy Clerk": "corrections"}
    doc = json.loads((out / "inv.audit.json").read_text())
    assert {
        (c["device"].split(" / ")[1], c["by"], c["how"], c["why"]) for c in doc["changes"]
    } == expected
    md = (out / "inv.checklist.md").read_text().replace("\\", "")
    edits = md.split("## Edits that made devices eligible")[1].split("\n## ")[0]
    for serial, who, how, why in expected:
        line = next(ln for ln in edits.splitlines() if f"({serial})" in ln)
        assert re.search(rf"by {who}, {TIME}.*, {how}, because: {why}", line), line


async def test_the_app_restores_a_killed_sessions_edits_with_their_own_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _fleet(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = CoaAuditApp(src)
    async with first.run_test(size=(80, 24)) as pilot:
        await _ana_edits(first, pilot)
    again = CoaAuditApp(src)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert isinstance(again.screen, RestoreScreen)
        await pilot.press("y")
        await settle(again, pilot)
        (edit,) = again.session.changes()
        assert edit.stamp is not None
        assert (edit.stamp.by, edit.stamp.how, edit.stamp.why) == (
            "Ana Auditor",
            "typed",
            "photo of the label",
        )
        assert again.session.author == ""  # nobody is assumed to be working now


def test_a_walk_file_written_before_marks_had_fields_still_loads_with_names_and_times(
    tmp_path: Path,
) -> None:
    src = oem_copy(tmp_path)
    old = tmp_path / "old.walk.csv"
    old.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,value,by\r\n"
        f'mark,5,{SEEN_BY_BOTH},,,present,"present (scanned) by Ann Old, 2026-12-04 10:00",\r\n'
        f'mark,5,{SEEN_BY_BOTH},,,label,"as expected (by Ann Old, 2026-12-04 10:01)",\r\n'
        f'mark,29,{DIFFERS},,,label,"differs: Windows 10 Home (by Ann Old, 2026-12-04 10:02)",\r\n'
        'scan,,,,,unknown,NOPE-1,"Ann Old, 2026-12-04 10:03"\r\n',
        encoding="utf-8-sig",
    )
    res = run_cli("check", src, "--walk", old, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    devices = {d["serial_number"]: d for d in res.json()["devices"]}
    seen = devices[SEEN_BY_BOTH]["walk"]
    assert (
        seen["sighted"][0].items()
        >= {
            "by": "Ann Old",
            "at": "2026-12-04T10:00",
            "how": "scanned",
            "outcome": "present",
        }.items()
    )
    assert seen["label"][0]["at"] == "2026-12-04T10:01"
    differs = devices[DIFFERS]
    assert differs["status"] == "review"
    assert differs["walk"]["label"][0]["says"] == "Windows 10 Home"
    # and exported again, the same marks come out in today's columns
    out = tmp_path / "again"
    assert run_cli("export", src, "--walk", old, "--checklist", "", "--out-dir", out).code == 0
    text = (out / "oem-fleet.walk.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("kind,row,serial_number,asset_tag,hostname,mark,outcome")
    assert "Ann Old,2026-12-04T10:02,marked" in text and "NOPE-1" in text


def test_a_journal_written_before_marks_had_fields_restores_each_mark_with_its_name(
    tmp_path: Path,
) -> None:
    """A session of an older build died with walk marks journaled as sentences: they come
    back as marks, each with the name and time it was made with."""
    from coa_audit.session.journal import journal_path

    src = oem_copy(tmp_path)
    path = journal_path(src)
    path.parent.mkdir(parents=True, exist_ok=True)
    sid = "0123456789abcdef"
    entries = [
        {"t": "open", "sid": sid, "time": 1764842400.0, "sha256": "unknown"},
        {
            "t": "apply",
            "sid": sid,
            "id": 1,
            "row": 5,
            "col": 15,
            "header": "Present on site",
            "ids": {"serial_number": SEEN_BY_BOTH},
            "old": "",
            "new": "present (scanned) by Ann Old, 2026-12-04 10:00",
            "origin": "screen",
            "time": 1764842400.0,
        },
        {
            "t": "apply",
            "sid": sid,
            "id": 2,
            "row": 5,
            "col": 18,
            "header": "Label confirmed",
            "ids": {"serial_number": SEEN_BY_BOTH},
            "old": "",
            "new": "missing (by Ann Old, 2026-12-04 10:01)",
            "origin": "screen",
            "time": 1764842460.0,
        },
        {
            "t": "scan",
            "sid": sid,
            "code": "NOPE-1",
            "outcome": "unknown",
            "by": "Ann Old, 2026-12-04 10:02",
        },
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    path.chmod(0o600)
    res = run_cli("export", src, "--resume", "--checklist", "md", "--json")
    assert res.code == 0, res.stderr
    assert "resumed 2 journaled edit(s)" in res.stderr
    doc = json.loads((tmp_path / "oem-fleet.audit.json").read_text())
    (dev,) = [d for d in doc["devices"] if d["serial_number"] == SEEN_BY_BOTH]
    assert dev["status"] == "blocked"  # the label was found missing
    assert (dev["walk"]["label"][0]["by"], dev["walk"]["label"][0]["at"]) == (
        "Ann Old",
        "2026-12-04T10:01",
    )
    assert dev["walk"]["sighted"][0]["how"] == "scanned"
    md = (tmp_path / "oem-fleet.checklist.md").read_text()
    assert "'NOPE-1' matched no device (by Ann Old, 2026-12-04 10:02" in md


def test_a_packet_from_a_corrected_workbook_names_the_export_it_continues(
    tmp_path: Path,
) -> None:
    src = _fleet(tmp_path)
    fixes = tmp_path / "fix.csv"
    fixes.write_text("serial_number,field,value\n5CG0000001,coa_edition,Windows 10 Pro\n")
    first = run_cli("export", src, "--corrections", fixes, "--checklist", "md")
    assert first.code == 0, first.stderr
    corrected = tmp_path / "inv.corrected.csv"
    out = tmp_path / "second"
    assert run_cli("export", corrected, "--checklist", "md", "--out-dir", out).code == 0
    md = (out / "inv.corrected.checklist.md").read_text().replace("\\", "")
    assert (
        "This register is the corrected inventory of an earlier export (inv.corrected.csv); "
        "the edits made before that export are listed in its packet: inv.checklist.md."
    ) in md
    # moved away from the earlier packet, it says where the earlier edits are
    alone = tmp_path / "alone"
    alone.mkdir()
    moved = Path(shutil.copy(corrected, alone / corrected.name))
    assert run_cli("export", moved, "--checklist", "md").code == 0
    md = (alone / "inv.corrected.checklist.md").read_text().replace("\\", "")
    assert "listed in the earlier packet, not in this one" in md
    # or given: that packet by name
    given = tmp_path / "given"
    res = run_cli(
        "export", moved, "--checklist", "md", "--out-dir", given,
        "--continues", tmp_path / "inv.checklist.md",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    md = (given / "inv.corrected.checklist.md").read_text().replace("\\", "")
    assert "listed in that export's packet, inv.checklist.md" in md
    # an ordinary register says nothing of the kind
    assert "earlier export" not in (tmp_path / "inv.checklist.md").read_text()


_PEOPLE = st.sampled_from(["Ana Auditor", "Bo Builder", "Cy Clerk"])


def _who(marks: list[Mark]) -> set[str]:
    return {m.stamp.by for m in marks}


_LABEL = st.sampled_from(["as expected", "differs", "missing"])
_MARKS = st.lists(
    st.builds(
        lambda who, outcome, minute: Mark(
            "label",
            outcome,
            Stamp(who, f"2026-12-07T09:{minute:02d}:00+01:00", "scanned"),
            says="Windows 10 Home" if outcome == "differs" else "",
        ),
        _PEOPLE,
        _LABEL,
        st.integers(0, 59),
    ),
    max_size=8,
)


@given(_MARKS, _MARKS)
def test_walks_merge_the_same_in_any_order_and_a_disagreement_is_a_conflict(
    first: list[Mark], second: list[Mark]
) -> None:
    """However walks are spelled and in whatever order they are loaded: a walk loaded twice
    changes nothing, each person keeps their latest mark, and the cell is a conflict
    exactly when the people's latest marks disagree (never the last file's word)."""
    a = merge_marks(merge_marks((), first), second)
    assert merge_marks(a, first) == a and merge_marks(a, second) == a  # loaded again
    # each person's latest marks (two at the same moment both count)
    every = [*first, *second]
    last = {who: max(m.stamp.epoch for m in every if m.stamp.by == who) for who in _who(every)}
    latest = {m for m in every if m.stamp.epoch == last[m.stamp.by]}
    assert set(a) == latest
    outcomes = {m.outcome for m in latest}
    want = "" if not outcomes else outcomes.pop() if len(outcomes) == 1 else CONFLICT
    assert cell_value(a) == want
    # and in the other order, the same marks
    assert set(merge_marks(merge_marks((), second), first)) == latest
