"""One guard per promise (issue 31), each tested through the command on spellings of its
class that no earlier fix named:

- a reader dying on a file, in any of its ways, is one line and exit 3 (``core.errors.
  reader_crash``, asked by ``importers.load.load_inventory``, the command's ``_guard`` and the
  supervisor's child; the supervisor relays only the tool's own words);
- a side input is a regular file of bounded size (``core.files.read_small``; the journal too);
- no output overwrites an input of the run (``core.files.Inputs``), a walk read gets a new
  name;
- the outputs of an export are placed all or none (``exporters.export._publish``);
- the edited record of a text file is exactly the user's, or the export is refused (the
  encoding read: ``importers.load._sniff_encoding``; the record read back:
  ``exporters.corrected._reads_back``); a converted sheet's name is one Excel accepts;
- derived columns are the tool's own (``core.history.History._own_column``,
  ``Session._set_mapping``);
- every notice the app shows is plain, safe text (``tui.app.App.notify``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import stat
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED, device, run_bounded, run_cli, write_csv

# named pipes, /dev/zero and uids: the side-input tests are POSIX ones
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pipes and /dev/zero are POSIX")

CORPUS_XLS = SHARED / "corpus" / "calamine" / "OOM_alloc.xls"
# single bytes that make python-calamine panic in three different places (a NAME record and
# its neighbours): found by mutating the corpus file; the test makes them, nothing is kept
PANICS = [(10091 + 28, 32), (14047 + 8, 255), (14047 + 8, 127)]


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[-800:]
    return lines[0]


# -- 1. a reader dying is one line, exit 3 -----------------------------------------------------


@pytest.mark.skipif(not CORPUS_XLS.exists(), reason="the shared corpus is not beside the repo")
@pytest.mark.parametrize(("offset", "byte"), PANICS)
def test_a_reader_panic_in_any_wording_is_one_line_and_exit_3(
    tmp_path: Path, offset: int, byte: int
) -> None:
    data = bytearray(CORPUS_XLS.read_bytes())
    data[offset] = byte
    bad = tmp_path / "fleet.xls"
    bad.write_bytes(bytes(data))
    for command in ("check", "export") if (offset, byte) == PANICS[0] else ("check",):
        res = run_bounded(command, bad, timeout=60)
        assert res.code == 3, (command, res.code, res.stderr[-500:])
        line = _one_line(res.stderr)
        assert "fleet.xls" in line and "damaged or hostile" in line
        for leak in ("panicked", ".cargo", "Traceback", "RUST_BACKTRACE", "internal error"):
            assert leak not in res.stderr
    assert bad.read_bytes() == bytes(data)


class PanicException(BaseException):  # pyo3's name: how a panic is known
    """What pyo3 raises when Rust code panics (a BaseException, not an Exception)."""


@pytest.mark.parametrize(
    "dies",
    [
        MemoryError(),
        MemoryError("cannot allocate"),
        SystemError("error return without exception set"),
        RecursionError("maximum recursion depth exceeded"),
        PanicException("thread '<unnamed>' (4242) panicked at src/xls.rs:811:15"),
        PanicException("called `Option::unwrap()` on a `None` value"),
    ],
    ids=lambda e: f"{type(e).__name__}-{str(e)[:12]}",
)
def test_every_way_a_reader_dies_is_exit_3_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies: BaseException
) -> None:
    import python_calamine

    def reader(*_a: object, **_k: object) -> object:
        raise dies

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", reader)
    book = tmp_path / "fleet.xlsx"
    book.write_bytes((Path(__file__).parents[1] / "sample_inventories/oem-fleet.xlsx").read_bytes())
    res = run_cli("check", book)
    assert res.code == 3, res.stderr
    assert "fleet.xlsx" in _one_line(res.stderr) and "internal error" not in res.stderr


# -- 2. side inputs: regular files only, bounded ----------------------------------------------


def _walk_header() -> str:
    from coa_audit.core.model import WALK_FILE_COLUMNS

    return ",".join(WALK_FILE_COLUMNS) + "\n"


@posix_only
@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link to a fifo"])
@pytest.mark.parametrize(
    "option",
    ["check --walk", "check --evidence", "check --mapping", "check --policy",
     "export --corrections", "export --profile"],
)  # fmt: skip
def test_a_side_input_that_is_no_regular_file_is_refused_at_once(
    tmp_path: Path, option: str, kind: str
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    side = tmp_path / "side.csv"
    if kind == "fifo":
        os.mkfifo(side)
    elif kind == "link to a fifo":
        os.mkfifo(tmp_path / "pipe")
        side.symlink_to(tmp_path / "pipe")
    else:
        side.symlink_to("/dev/zero")
    command, flag = option.split()
    more = ["--out-dir", tmp_path / "out"] if command == "export" else []
    res = run_cli(command, src, flag, side, *more)  # a read of the pipe would hang here
    assert res.code in (2, 3), (res.code, res.stderr[-400:])
    assert "side.csv" in _one_line(res.stderr)
    assert not (tmp_path / "out").exists()


@posix_only
def test_a_journal_that_is_a_pipe_or_a_device_is_said_never_read(tmp_path: Path) -> None:
    from coa_audit.session.journal import journal_path

    src = write_csv(tmp_path / "inv.csv", [device(1)])
    state = tmp_path / "state"
    env_before = os.environ.get("COA_AUDIT_STATE_DIR")
    os.environ["COA_AUDIT_STATE_DIR"] = str(state)
    try:
        journal = journal_path(src)
        journal.parent.mkdir(parents=True)
        os.mkfifo(journal)  # the journal a pipe, the fallback a link to a device
        journal.with_name(f"{journal.stem}.u{os.getuid()}{journal.suffix}").symlink_to("/dev/zero")
        res = run_bounded("export", src, "--resume", "--out-dir", tmp_path / "out", timeout=30)
    finally:
        if env_before is None:
            del os.environ["COA_AUDIT_STATE_DIR"]
        else:
            os.environ["COA_AUDIT_STATE_DIR"] = env_before
    assert res.code == 0, res.stderr
    assert "is a link, not a journal" in res.stderr or "not a regular file" in res.stderr
    assert (tmp_path / "out" / "inv.corrected.csv").exists()


# -- 3. no output overwrites an input ---------------------------------------------------------


def _inputs(tmp_path: Path) -> dict[str, Path]:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    mapping = tmp_path / "saved.toml"
    mapping.write_text('[mapping]\nserial_number = "Serial Number"\n')
    policy = tmp_path / "policy.toml"
    policy.write_text("")
    evidence = tmp_path / "collected"
    evidence.mkdir()
    (evidence / "pc1.csv").write_text("SerialNumber,OA3xOriginalProductKeyDescription\n")
    walk = tmp_path / "inv.walk.csv"
    walk.write_text(_walk_header())
    return {"src": src, "mapping": mapping, "policy": policy, "evidence": evidence, "walk": walk}


@pytest.mark.parametrize(
    "target",
    ["mapping", "policy", "walk", "evidence/pc1.csv", "evidence/new.txt", "link to src",
     "hard link to mapping", "src via ..", "evidence"],
)  # fmt: skip
def test_check_never_writes_its_report_over_an_input(tmp_path: Path, target: str) -> None:
    given = _inputs(tmp_path)
    if target == "link to src":
        out = tmp_path / "report.txt"
        out.symlink_to(given["src"])
    elif target == "hard link to mapping":
        out = tmp_path / "report.txt"
        os.link(given["mapping"], out)
    elif target == "src via ..":
        out = given["evidence"] / ".." / "inv.csv"
    elif target.startswith("evidence/"):
        out = given["evidence"] / target.split("/", 1)[1]
    else:
        out = given[target]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    res = run_cli(
        "check", given["src"], "--mapping", given["mapping"], "--policy", given["policy"],
        "--evidence", given["evidence"], "--walk", given["walk"], "-o", out,
    )  # fmt: skip
    assert res.code == 2, res.stderr
    assert "input of this run" in _one_line(res.stderr)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_export_into_an_evidence_folder_is_refused(tmp_path: Path) -> None:
    given = _inputs(tmp_path)
    res = run_cli("export", given["src"], "--evidence", given["evidence"],
                  "--out-dir", given["evidence"] / "sub")  # fmt: skip
    assert res.code == 2 and "input of this run" in _one_line(res.stderr)
    assert sorted(p.name for p in given["evidence"].iterdir()) == ["pc1.csv"]


def test_a_walk_read_is_never_rewritten_the_new_walk_gets_a_new_name(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    walk = tmp_path / "inv.walk.csv"
    stamp = "Ana,2026-12-07T06:00:00+00:00,marked"
    walk.write_text(
        _walk_header()
        + f"mark,2,5CG0000001,AT-00001,PC-00001,presence,present,,,,,{stamp}\n"
        + f"mark,9,NO-SUCH-DEVICE,,,presence,present,,,,,{stamp}\n"  # names no device
    )
    before = walk.read_bytes()
    for n in (2, 3):  # run twice: the second new walk does not take the first one's name
        res = run_cli("export", src, "--walk", walk, "--checklist", "md")
        assert res.code == 0, res.stderr
        assert walk.read_bytes() == before
        fresh = tmp_path / f"inv.walk-{n}.csv"
        assert fresh.exists() and "5CG0000001" in fresh.read_text()
        assert "kept as it was" in res.stderr


# -- 4. all outputs or none -------------------------------------------------------------------


@pytest.mark.parametrize(
    "blocked", ["inv.corrected.csv", "inv.audit.xlsx", "inv.checklist.md", "inv.checklist.xlsx",
                "inv.audit.json"],
)  # fmt: skip
def test_one_output_that_cannot_be_placed_leaves_the_folder_as_it_was(
    tmp_path: Path, blocked: str
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    out = tmp_path / "out"
    first = run_cli("export", src, "--out-dir", out, "--checklist", "md,xlsx", "--json")
    assert first.code == 0, first.stderr
    (out / blocked).unlink()
    (out / blocked).mkdir()  # a folder where the file goes
    before = {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()}
    fixes = tmp_path / "fix.csv"
    fixes.write_text("row,field,value\n2,notes,changed\n")
    res = run_cli("export", src, "--out-dir", out, "--checklist", "md,xlsx", "--json",
                  "--corrections", fixes)  # fmt: skip
    assert res.code == 4, res.stderr
    assert blocked in _one_line(res.stderr) and "no file was written" in res.stderr
    assert {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()} == before


@pytest.mark.parametrize("fails_at", [1, 2, 3])
def test_a_placement_that_fails_midway_puts_every_earlier_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails_at: int
) -> None:
    import coa_audit.exporters.export as export

    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    out = tmp_path / "out"
    assert run_cli("export", src, "--out-dir", out, "--checklist", "md").code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real, calls = os.replace, []

    def replace(a: object, b: object) -> None:
        placing = Path(str(a)).parent.name.startswith(".coa-audit-export-")
        if placing and Path(str(b)).parent == out and not Path(str(a)).name.startswith("."):
            calls.append(b)
            if len(calls) == fails_at:
                raise OSError(28, "No space left on device")
        real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(export.os, "replace", replace)
    fixes = tmp_path / "fix.csv"
    fixes.write_text("row,field,value\n2,notes,changed\n")
    res = run_cli("export", src, "--out-dir", out, "--checklist", "md", "--corrections", fixes)
    assert res.code == 4, res.stderr
    assert "the folder is as it was" in _one_line(res.stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# -- 5. the edited record exactly, or a refusal -----------------------------------------------


@pytest.mark.parametrize(
    "encoding", ["utf-32", "utf-32-le", "utf-32-be", "utf-16", "utf-16-be", "utf-8-sig"]
)
def test_an_edited_record_is_written_in_the_encoding_read(tmp_path: Path, encoding: str) -> None:
    from coa_audit.importers.load import load_inventory

    src = write_csv(
        tmp_path / "inv.csv",
        [device(1, Notes="Zürich Büro ☃"), device(2), device(3)],
        delimiter=";",
        encoding=encoding,
    )
    fixes = tmp_path / "fix.csv"
    fixes.write_text("row,field,value\n3,notes,edited ☃ ü\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    out = tmp_path / "inv.corrected.csv"
    raw, written = src.read_bytes(), out.read_bytes()
    assert written[:4] == raw[:4]  # the same byte-order mark, or none
    text = written.decode(encoding)  # the whole file in the source's encoding
    assert "edited ☃ ü" in text and "Zürich Büro ☃" in text
    before, after = load_inventory(src), load_inventory(out)
    assert after.source.csv == before.source.csv
    for r in range(len(before)):
        for c in range(before.source_width):
            want = "edited ☃ ü" if (r, before.headers[c]) == (1, "Notes") else before.value(r, c)
            assert after.value(r, c) == want


@pytest.mark.parametrize("named", ['"', "'", "a", "7"])
def test_a_sep_line_naming_a_delimiter_no_record_can_use_is_refused(
    tmp_path: Path, named: str
) -> None:
    body = io.StringIO()
    csv.writer(body, delimiter=";").writerows([list(device(0).keys()), list(device(1).values())])
    src = tmp_path / "inv.csv"
    src.write_text(f"sep={named}\n" + body.getvalue().replace(";", named))
    res = run_cli("check", src)
    assert res.code == 3, res.stderr
    assert "sep=" in _one_line(res.stderr)


def _ods_sheet_named(path: Path, name: str) -> Path:
    from xml.sax.saxutils import quoteattr

    from tests.test_export import _minimal_ods, repack_ods

    heads = list(device(0).keys())
    _minimal_ods(path, [heads, list(device(1).values()), list(device(2).values())])
    named = b"table:name=" + quoteattr(name).encode()
    return repack_ods(path, lambda content: content.replace(b'table:name="Devices"', named))


@pytest.mark.parametrize(
    "name", ["Inv/2024", "Inv[1]", "Fleet: Q3?", "a" * 40, "'quoted'", "History", "tab\there"]
)
def test_a_converted_sheet_gets_a_name_excel_accepts(tmp_path: Path, name: str) -> None:
    src = _ods_sheet_named(tmp_path / "inv.ods", name)
    fixes = tmp_path / "fix.csv"
    fixes.write_text("row,field,value\n3,notes,edited\n")
    res = run_cli("export", src, "--corrections", fixes, "--checklist", "")
    assert res.code == 0, res.stderr
    book = openpyxl.load_workbook(tmp_path / "inv.corrected.xlsx")
    (title,) = book.sheetnames
    assert 1 <= len(title) <= 31 and title.casefold() != "history"
    assert not set(title) & set("\\/?*[]:") and title.isprintable()
    assert not title.startswith("'") and not title.endswith("'")
    assert book[title]["M3"].value == "edited"


# -- 6. derived columns are the tool's own ----------------------------------------------------


def test_a_tampered_journal_never_sets_a_derived_column(tmp_path: Path) -> None:
    from tests.conftest import killed_session

    src = write_csv(tmp_path / "inv.csv", [device(1), device(2, COA_Edition="Windows 11 Home")])
    session = killed_session(src, (0, "Notes", "typed"))
    journal = session.journal
    assert journal is not None
    sid = journal.sid
    tampered = [
        {"t": "remap", "mapping": {"fw_edition": "COA Edition", "serial_number": "Serial Number"}},
        {"t": "remap", "mapping": {"attested": "Notes"}},
        {"t": "apply", "id": 90, "row": 3, "col": 15, "header": "Accepted (reason)", "ids": {},
         "old": "", "new": "accepted", "origin": "screen",
         "stamp": {"by": "Eve", "at": "2026-12-07T06:00:00+00:00", "how": "typed", "why": ""},
         "marks": []},
        {"t": "apply", "id": 91, "row": 3, "col": 14, "header": "Present on site", "ids": {},
         "old": "", "new": "present", "origin": "screen"},
    ]  # fmt: skip
    with open(journal.path, "a", encoding="utf-8") as f:
        for entry in tampered:
            f.write(json.dumps({"sid": sid, "time": 1.0, **entry}) + "\n")
    res = run_bounded("export", src, "--resume", "--json", "--checklist", "md", timeout=60)
    assert res.code == 0, res.stderr
    report = json.loads((tmp_path / "inv.audit.json").read_text())
    home = report["devices"][1]
    assert home["status"] != "eligible" and not home.get("walk")
    packet = (tmp_path / "inv.checklist.md").read_text()
    assert "(collected" not in packet
    assert "2 unreadable journal line(s) skipped" in res.stderr  # the two remaps
    for header in ("Accepted (reason)", "Present on site"):
        assert f"not applied: row 3, {header}: " in res.stderr
    assert "resumed 1 journaled edit(s)" in res.stderr  # the typed note, and nothing else


# -- 9. one sink for text to the terminal ------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x9b31m", "\x1b]52;c;SGVsbG8=\x1b\\"]
)
async def test_no_notice_can_drive_the_terminal(tmp_path: Path, hostile: str) -> None:
    from coa_audit.tui.app import CoaAuditApp
    from tests.conftest import settle

    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    walk = tmp_path / f"walk{hostile}.csv"
    stamp = "Ana,2026-12-07T06:00:00+00:00,marked"
    walk.write_text(_walk_header() + f'mark,9,"NO{hostile}DEVICE",,,presence,present,,,,,{stamp}\n')
    app = CoaAuditApp(src, walk=[walk])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        said = [(n.title, n.message) for n in app._notifications]
        assert any("Walk" in m for _t, m in said), said
        for title, message in said:
            for text in (title, message):
                assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text), text
    assert stat.S_ISREG(os.stat(walk).st_mode)


# -- side inputs of any bytes: a verdict or one line, never a crash -----------------------------


_PIECES = st.sampled_from(
    ["\r", "\n", "\r\n", '"', ",", ";", "\t", "\x00", "\ufeff", "\u2028", "\x85", "=", "mark",
     "presence", "present", "5CG0000001", "row", "field", "value", "notes", "scan", "unknown",
     "\xff", "é", " "]
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(_PIECES, max_size=60).map("".join),
    option=st.sampled_from(["--walk", "--corrections"]),
    header=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
)
def test_a_walk_or_corrections_file_of_any_text_is_a_verdict_or_one_line(
    tmp_path: Path, body: str, option: str, header: bool, encoding: str
) -> None:
    src = tmp_path / "inv.csv"
    if not src.exists():
        write_csv(src, [device(1), device(2)])
    side = tmp_path / "side.csv"
    lead = (_walk_header() if option == "--walk" else "row,field,value\n") if header else ""
    side.write_bytes((lead + body).encode(encoding, errors="replace"))
    command = "check" if option == "--walk" else "export"
    more = ["--checklist", "", "--out-dir", tmp_path / "out"] if command == "export" else []
    res = run_cli(command, src, option, side, *more)
    assert res.code in (0, 1, 2), (res.code, res.stderr[-400:])
    if res.code == 2:
        _one_line(res.stderr)
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr


@posix_only
@pytest.mark.timeout(60)  # a pipe read would hang here
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
async def test_the_apps_own_state_files_are_read_only_as_regular_files(
    tmp_path: Path, kind: str
) -> None:
    """The name offered (verifier.txt) and the packet's details (profile.toml) are read only
    as regular files: a pipe or a device there is as if nothing had been saved."""
    from coa_audit.session.state import config_dir, state_dir
    from coa_audit.tui.app import CoaAuditApp
    from tests.conftest import press, settle

    for folder, name in ((state_dir(), "verifier.txt"), (config_dir(), "profile.toml")):
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(folder / name)
        elif kind != "none":
            (folder / name).symlink_to("/dev/zero")
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await press(pilot, "w")  # who is working: the last name would be offered here
        assert type(app.screen).__name__ != "MainScreen", "the name is asked"
        await press(pilot, "escape")
        await press(pilot, "ctrl+s")  # the export dialog offers the details saved last
        await settle(app, pilot)
        assert type(app.screen).__name__ != "MainScreen", "the export dialog is open"


# -- keys masked on screen by the one detector ------------------------------------------------

KEY_SPELLINGS = [
    "JB7TK - VCXJ4 - 8C3MW - YK3DF - 8R2QG",
    "JB7TK_VCXJ4_8C3MW_YK3DF_8R2QG",
    "jb7tk.vcxj4.8c3mw.yk3df.8r2qg",
    "ＪＢ７ＴＫ－ＶＣＸＪ４－８Ｃ３ＭＷ－ＹＫ３ＤＦ－８Ｒ２ＱＧ",
    "JB7TK-VC\u200bXJ4-8C3MW-YK3DF-8R2QG",
    "JB7TKVCXJ48C3MWYK3DF8R2QG",
]


async def test_the_screen_masks_a_key_in_every_spelling(tmp_path: Path) -> None:
    """The grid and the findings panel use core.keys, the detector every written file uses:
    no spelling of a key shows its first four groups."""
    from coa_audit.tui.app import CoaAuditApp
    from tests.conftest import settle

    rows = [device(i + 1, Notes=k, Model=k) for i, k in enumerate(KEY_SPELLINGS)]
    src = write_csv(tmp_path / "inv.csv", rows)
    app = CoaAuditApp(src)
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(app, pilot)
        grid = app.main.grid
        shown = []
        for _ in range(2):  # the columns on the right too
            shown += ["".join(s.text for s in grid.render_line(y)) for y in range(grid.size.height)]
            shown.append(str(app.main.query_one("#findings").render()))
            await pilot.press("end")
        screen = "\n".join(shown)
        assert "XXXXX" in screen  # keys are on screen, masked
        for probe in ("VCXJ4", "ＶＣＸＪ４", "vcxj4", "VC\u200bXJ4", "TKVCX"):
            assert probe not in screen, probe


@posix_only
def test_the_guards_hold_through_the_installed_command(tmp_path: Path) -> None:
    """The same promises through the program as users run it (supervisor and all), one
    spelling each: a pipe as a walk, a device link as a policy, a report onto a hard link of
    the mapping, a folder in the way of one output, a UTF-32 register edited."""
    given = _inputs(tmp_path)
    src = given["src"]
    os.mkfifo(tmp_path / "walk.pipe")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    os.link(given["mapping"], tmp_path / "report.txt")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".pipe"}
    for args, code in (
        (("check", src, "--walk", tmp_path / "walk.pipe"), 2),
        (("check", src, "--policy", tmp_path / "zero.toml"), 2),
        (("check", src, "--mapping", given["mapping"], "-o", tmp_path / "report.txt"), 2),
    ):
        res = run_bounded(*args, timeout=30)
        assert res.code == code, (args, res.stderr)
        _one_line(res.stderr)
    assert {p: p.read_bytes() for p in before} == before
    out = tmp_path / "out"
    (out / "inv.audit.xlsx").mkdir(parents=True)
    res = run_bounded("export", src, "--out-dir", out, timeout=60)
    assert res.code == 4 and "no file was written" in _one_line(res.stderr)
    assert [p.name for p in out.iterdir()] == ["inv.audit.xlsx"]
    wide = write_csv(tmp_path / "wide.csv", [device(1), device(2)], encoding="utf-32")
    fixes = tmp_path / "fix.csv"
    fixes.write_text("row,field,value\n3,notes,edited ☃\n", encoding="utf-8")
    res = run_bounded("export", wide, "--corrections", fixes, "--checklist", "", timeout=60)
    assert res.code == 0, res.stderr
    written = (tmp_path / "wide.corrected.csv").read_bytes()
    assert written[:4] == codecs.BOM_UTF32_LE and "edited ☃" in written.decode("utf-32")
