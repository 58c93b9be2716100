"""Hostile files and the user's data: nothing crashes, nothing is lost, nothing runs."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.core.sample import SAMPLE_HEADERS
from coa_audit.tui.app import CoaAuditApp, MainScreen
from coa_audit.tui.screens import LoadingScreen, MappingScreen, Question
from tests.conftest import (
    SAMPLES,
    SHARED,
    device,
    killed_session,
    run_bounded,
    run_cli,
    settle,
    write_csv,
)

EXE = Path(sys.executable).parent / "coa-audit"
SECRET_KEY = "Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8"
CORPUS = SHARED / "corpus" / "calamine"
FUZZ = settings(
    max_examples=int(os.environ.get("COA_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _one_line_or_ok(res) -> None:
    assert res.code in (0, 1, 3), (res.code, res.stderr)
    assert "Traceback" not in res.stderr
    if res.code == 3:
        assert res.stderr.count("\n") == 1 and res.stdout == ""


# -- fuzzing --------------------------------------------------------------------------------

cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["Windows 10 Pro", "No", "=1+1", '"quoted, value"', "a\nb", "\x00", "é€"]),
    st.integers(2_000, 300_000).map(lambda n: "x" * n),  # huge cells, cheaply
)


@FUZZ
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=16), min_size=0, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t", "|", ":"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
    header=st.booleans(),
)
def test_fuzzed_csv_never_crashes(
    tmp_path: Path, rows, delimiter: str, encoding: str, header: bool
) -> None:
    import csv

    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if header:
        w.writerow(SAMPLE_HEADERS)
    for r in rows:
        w.writerow(r)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(out.getvalue().encode(encoding, errors="replace"))
    _one_line_or_ok(run_cli("check", path, "--format", "json"))


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(
        st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=20
    ).map(lambda fs: _flip(data, fs))
    cut = st.integers(0, len(data)).map(lambda n: data[:n])
    return st.one_of(flips, cut)


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for i, v in flips:
        b[i] = v
    return bytes(b)


def _small_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(SAMPLE_HEADERS))
    for i in range(3):
        ws.append([device(i)[h] for h in SAMPLE_HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SMALL_XLSX = _small_xlsx()


@FUZZ
@given(data=_mutations(SMALL_XLSX))
def test_mutated_xlsx_never_crashes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "m.xlsx"
    path.write_bytes(data)
    _one_line_or_ok(run_cli("check", path, "--format", "json"))


def _repack(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in parts.items():
            z.writestr(name, blob)
    return buf.getvalue()


def _parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(SMALL_XLSX)) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("missing", sorted(_parts()))
def test_xlsx_with_a_missing_part(tmp_path: Path, missing: str) -> None:
    parts = _parts()
    del parts[missing]
    path = tmp_path / "missing.xlsx"
    path.write_bytes(_repack(parts))
    _one_line_or_ok(run_cli("check", path))


def test_deeply_nested_xml(tmp_path: Path) -> None:
    parts = _parts()
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(
        b"<sheetData>", b"<sheetData>" + b"<x>" * 50_000 + b"</x>" * 50_000, 1
    )
    path = tmp_path / "deep.xlsx"
    path.write_bytes(_repack(parts))
    _one_line_or_ok(run_cli("check", path))


# -- decompression and entity bombs -------------------------------------------------------


def test_decompression_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    parts = _parts()
    parts["xl/media/huge.bin"] = b"\0" * (96 * 1024 * 1024)  # 96 MiB of zeros: ~100 KB zipped
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_repack(parts))
    assert path.stat().st_size < 1024 * 1024
    start = time.perf_counter()
    res = run_cli("check", path)
    assert res.code == 3 and "decompression bomb" in res.stderr
    assert time.perf_counter() - start < 5


def test_declared_size_bomb_is_refused(tmp_path: Path) -> None:
    """A zip whose directory claims absurd sizes is refused from the directory alone."""
    data = bytearray(SMALL_XLSX)
    # patch every central-directory entry's uncompressed size to 3.9 GiB
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        data[pos + 24 : pos + 28] = (0xF0000000).to_bytes(4, "little")
        pos += 4
    path = tmp_path / "liar.xlsx"
    path.write_bytes(bytes(data))
    res = run_cli("check", path)
    assert res.code == 3 and "refusing to open it" in res.stderr


def test_defusedxml_is_in_effect() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_entity_bomb_is_refused(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" if i else "&lol;"}'
            f'{"&lol" + str(i - 1) + ";" if i else "&lol;"}">'.encode()
            for i in range(1, 30)
        )
        + b"]>"
    )
    parts = _parts()
    parts["xl/sharedStrings.xml"] = (
        laughs + b'<sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><t>&lol29;</t></si></sst>'
    )
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(_repack(parts))
    start = time.perf_counter()
    res = run_cli("check", path)
    _one_line_or_ok(res)
    assert time.perf_counter() - start < 10
    # and the corrected-file writer parses workbook XML with defusedxml
    from defusedxml import EntitiesForbidden
    from defusedxml.ElementTree import fromstring

    with pytest.raises(EntitiesForbidden):
        fromstring(laughs + b"<a>&lol3;</a>")


# -- screen safety ----------------------------------------------------------------------------

NASTY = "[bold red]x[/] [@click=app.quit]y [link=http://evil]z[/link] \x1b[31m\x1b]8;;http://e\x07"


async def test_nasty_text_everywhere_on_screen(tmp_path: Path) -> None:
    headers = [*SAMPLE_HEADERS, NASTY]
    rows = [dict(device(1, COA_Edition=NASTY), **{NASTY: NASTY})]
    path = write_csv(tmp_path / "[red]evil[@click=app.quit].csv", rows, headers=headers)
    app = CoaAuditApp(path)
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        findings = str(screen.query_one("#findings").render())
        assert "[bold red]x[/]" in findings  # EDITION_UNKNOWN quotes the cell, literally
        assert "\x1b" not in findings
        # search for markup-looking text: the notification stays literal, the app keeps going
        await pilot.press("slash", *"[@click=app.quit]nothing", "enter")
        await pilot.pause()
        assert app.is_running
        notes = [n.message for n in app._notifications]
        assert any("[@click=app.quit]nothing" in m for m in notes)
        # the mapping screen lists the hostile header as text
        await pilot.press("m")
        assert isinstance(app.screen, MappingScreen)
        options = app.screen.query_one("#columns")
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("[bold red]x[/]" in label and "\x1b" not in label for label in labels)
        await pilot.press("escape")
        assert app.is_running


async def test_error_message_with_markup_file_name(tmp_path: Path) -> None:
    bad = tmp_path / "[@click=app.quit]bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 garbage")
    app = CoaAuditApp(bad)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LoadingScreen)
        shown = str(app.screen.query_one("#error").render())
        assert "[@click=app.quit]bad.xlsx" in shown
        await pilot.click("#error")
        assert app.is_running


CORPUS_FILES = sorted(CORPUS.iterdir()) if CORPUS.exists() else []


@pytest.mark.untimed
@pytest.mark.parametrize("part", range(4))
async def test_every_corpus_file_in_the_app(part: int) -> None:
    """Every corpus file opens in the app at 80x24 and survives a key or two (in four parts,
    which the two cores share)."""
    if not CORPUS_FILES:
        pytest.skip("shared corpus not present")
    for path in CORPUS_FILES[part::4]:
        app = CoaAuditApp(path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            if app.error:
                assert isinstance(app.screen, LoadingScreen), path.name
                assert "\n" not in app.error
            else:
                assert isinstance(app.screen, (MainScreen, Question)), path.name
            await pilot.press("down", "right_square_bracket")
            assert app.is_running, path.name


# -- the user's data ----------------------------------------------------------------------------


async def test_full_session_never_touches_the_source(tmp_path: Path) -> None:
    src = tmp_path / "oem-fleet.xlsx"
    src.write_bytes((SAMPLES / "oem-fleet.xlsx").read_bytes())
    os.utime(src, (1_700_000_000, 1_700_000_000))
    digest, mtime = hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns
    app = CoaAuditApp(src)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("right_square_bracket", "e", "ctrl+u", *"GML", "enter")
        await pilot.pause()
        await pilot.press(*"Ann Tester", "enter")  # who makes the first change
        await pilot.pause()
        assert app.session.edit_count == 1
        await pilot.press("ctrl+s")
        await pilot.press("enter")  # the form
        await pilot.pause()
        await pilot.press("enter")  # the header as printed, reviewed
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert (tmp_path / "oem-fleet.corrected.xlsx").exists()
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert src.stat().st_mtime_ns == mtime
    for args in (
        ["check", src, "--format", "json"],
        ["columns", src],
        ["export", src, "--checklist", "md"],
    ):
        run_cli(*args)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert src.stat().st_mtime_ns == mtime


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if needle in seen:
                return seen
    raise AssertionError(f"{needle!r} did not appear; saw {seen[-400:]!r}")


@contextlib.contextmanager
def _real_app_with_one_edit(src: Path) -> Iterator[tuple[int, int]]:
    """`coa-audit tui` in a real process on a pty (its pid and the pty's master end): set
    the first problem row's COA to GML, then (after the body) SIGKILL it if it still runs."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(EXE), [str(EXE), "tui", str(src)], env)
    try:
        _read_until(fd, b"devices", 30)
        os.write(fd, b"]lll")  # first problem row, COA column
        time.sleep(0.3)
        os.write(fd, b"e")
        _read_until(fd, b"would be", 15)  # the edit field is open and focused
        # ctrl+u clears the field; sent alone, because keys that reach Textual in the same
        # read as ctrl+u were lost here (seen with Textual 8.2.8 on a pty)
        os.write(fd, b"\x15")
        time.sleep(0.3)
        os.write(fd, b"GML")
        time.sleep(0.5)
        os.write(fd, b"\r")
        _read_until(fd, b"Who is working", 15)  # the first change asks who makes it
        os.write(fd, b"Ann Tester")
        time.sleep(0.3)
        os.write(fd, b"\r")
        _read_until(fd, b"1 edits", 15)
        yield pid, fd
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(fd)


async def _restores_the_gml_edit(src: Path) -> None:
    app = CoaAuditApp(src)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, Question)
        await pilot.press("y")
        await settle(app, pilot)
        inv = app.session.inventory
        assert inv.edits == {(0, inv.mapping["coa_present"]): "GML"}


async def test_journal_survives_sigkill(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No"), device(2), device(3)])
    with _real_app_with_one_edit(src):
        pass
    await _restores_the_gml_edit(src)


async def test_a_hangup_ends_the_app_and_its_edits_wait_in_the_journal(tmp_path: Path) -> None:
    """The SSH connection or the terminal window gone: the terminal's hangup reaches only the
    session's leader (the supervisor), which passes it on, so the app ends at once instead
    of spinning on a terminal that is gone; its edit is offered again."""
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No"), device(2), device(3)])
    with _real_app_with_one_edit(src) as (pid, fd):
        os.close(fd)  # the terminal hangs up
        end = time.monotonic() + 20
        done = 0
        while not done and time.monotonic() < end:
            done, _status = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        assert done, "the app still runs 20 s after its terminal hung up"
    await _restores_the_gml_edit(src)


async def test_corrupt_journal_restores_what_is_readable(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2)])
    dead = killed_session(src, (0, "Notes", "first"), (1, "Notes", "second"))
    sid = dead.journal.sid
    with open(dead.journal.path, "ab") as f:
        f.write(b"this is garbage\n")
        f.write(b'{"t": "apply", "sid": "%s", "id": 9, "row": 1e999, "col": 1, ' % sid.encode())
        f.write(b'"old": "", "new": "x"}\n')  # a number too large for a row
        f.write(b'{"t": "apply", "sid": "%s", "id": 10, "row": Infinity}\n' % sid.encode())
        f.write(b'{"t": "apply", "sid": "%s", "row": 3, "col"' % sid.encode())  # cut by a crash
    app = CoaAuditApp(src)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, Question)
        assert "4 unreadable journal line(s)" in str(app.screen.query_one("#detail").render())
        await pilot.press("y")
        await settle(app, pilot)
        inv = app.session.inventory
        assert sorted(inv.edits.values()) == ["first", "second"]


async def test_warns_when_the_file_is_open_elsewhere(tmp_path: Path) -> None:
    from coa_audit.session.journal import journal_path

    src = write_csv(tmp_path / "fleet.csv", [device(1)])
    (tmp_path / "~$fleet.csv").write_bytes(b"lock")
    path = journal_path(src)
    path.parent.mkdir(parents=True)
    live = {"t": "open", "sid": "other", "pid": os.getppid(), "host": socket.gethostname()}
    path.write_text(json.dumps(live) + "\n")
    app = CoaAuditApp(src)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        notes = " ".join(n.message for n in app._notifications)
        assert "open in Excel or LibreOffice" in notes
        assert "Another coa-audit session" in notes


def test_headless_output_never_prints_keys(tmp_path: Path) -> None:
    keys = ["Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8", "JB7TK-VCXJ4-8C3MW-YK3DF"]
    src = write_csv(
        tmp_path / "k.csv",
        [
            device(1, Product_Key=keys[0]),
            device(2, Product_Key=keys[0]),
            device(3, Product_Key=keys[1]),
        ],
    )
    for fmt in ("text", "json", "csv"):
        out = run_cli("check", src, "--format", fmt).stdout
        assert "Q4N7V" not in out and "JB7TK" not in out, fmt
    assert run_cli("export", src, "--checklist", "md,xlsx").code == 0
    md = (tmp_path / "k.checklist.md").read_text()
    assert "Q4N7V" not in md


def test_internal_errors_are_one_line_without_locals(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "k.csv", [device(1)])
    code = (
        "import sys\n"
        "import coa_audit.session.session as s\n"
        "def boom(*a, **k):\n"
        "    secret_key = 'Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8'\n"
        "    raise RuntimeError('boom')\n"
        "s.open_session = boom\n"
        "from coa_audit.cli.main import main\n"
        "sys.argv = ['coa-audit', 'check', sys.argv[1]]\n"
        "main()\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(src)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 70
    assert p.stderr.count("\n") == 1 and "internal error" in p.stderr
    assert "Q4N7V" not in p.stderr and "Traceback" not in p.stderr


async def test_app_crash_report_has_no_locals(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "k.csv", [device(1, Product_Key=SECRET_KEY)])
    app = CoaAuditApp(src)
    app._print_error_renderables = lambda: None  # keep the report to read it here

    def explode() -> None:
        inv = app.session.inventory
        secret_key = inv.value(0, inv.mapping["coa_key"])  # noqa: F841 - must not be shown
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.call_later(explode)
            await pilot.pause()
    rendered = "".join(seg.text for r in app._exit_renderables for seg in app.console.render(r))
    assert "boom" in rendered and "Traceback" in rendered
    assert SECRET_KEY not in rendered and " locals " not in rendered


def test_report_json_is_valid_with_hostile_text(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "h.csv", [device(1, Asset_Tag=NASTY, Notes="\u202e")])
    doc = json.loads(run_cli("check", src, "--format", "json").stdout)
    assert doc["devices"][0]["asset_tag"] == NASTY


async def test_two_app_sessions_one_quits_clean_the_killed_ones_edits_restore(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No"), device(2), device(3)])
    with _real_app_with_one_edit(src):
        # a second session on the same file, while the first still runs: it edits nothing
        # and quits clean
        other = CoaAuditApp(src)
        async with other.run_test(size=(100, 30)) as pilot:
            await settle(other, pilot)
            if isinstance(other.screen, Question):
                await pilot.press("escape")  # not now: that session is still alive
                await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
    # the first session was killed on leaving the block: its edit restores
    await _restores_the_gml_edit(src)


def _bounded_run(command: str, src: Path, tmp_path: Path) -> tuple[int, str]:
    """The program on ``src`` under a 3 GiB address-space limit and a one-minute limit."""
    more = ["--out-dir", tmp_path / "out"] if command == "export" else []
    res = run_bounded(command, src, *more)
    return res.code, res.stderr


def test_a_csv_line_of_millions_of_fields_is_refused_at_once(tmp_path: Path) -> None:
    """A 16 MB header of 8 million fields (it took minutes and gigabytes to split):
    refused in one line before the csv module splits it."""
    src = tmp_path / "wide.csv"
    src.write_text(";".join(["Serial"] * 8_000_000) + "\nS1;Windows 11 Pro\n")
    for command in ("check", "columns", "export"):
        code, err = _bounded_run(command, src, tmp_path)
        assert code == 3, err
        assert "line 1 has over 16,384 fields" in err and len(err.strip().splitlines()) == 1
    # a wide but real register (a few hundred columns) is read
    ok = tmp_path / "ok.csv"
    ok.write_text(
        ",".join(["Serial Number", "COA Edition", *[f"c{i}" for i in range(500)]])
        + "\n"
        + ",".join(["S1", "Windows 11 Pro", *["x"] * 500])
        + "\n"
    )
    assert run_cli("check", ok, "--fail-on", "never").code == 0


def _many_sheets(path: Path, names: list[str]) -> Path:
    """A workbook of one-cell sheets ``names``, then "Fleet" with one device (written
    part by part: a spreadsheet library takes seconds over two thousand sheets)."""
    from tests.xlsx_craft import MAIN, PKG_REL, REL

    def sheet(*rows: list[str]) -> str:
        cells = (
            f'<row r="{r}">'
            + "".join(
                f'<c r="{"AB"[c]}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                for c, v in enumerate(row)
            )
            + "</row>"
            for r, row in enumerate(rows, 1)
        )
        return f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(cells)}</sheetData></worksheet>'

    note = sheet(["note"])
    fleet = sheet(["Serial Number", "COA Edition"], ["SN1", "Windows 11 Pro"])
    every = [*names, "Fleet"]
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{kind}.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/s{i}.xml" ContentType="{kind}.worksheet+xml"/>'
                for i in range(len(every))
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            + "".join(
                f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                for i, n in enumerate(every)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG_REL}">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" '
                f'Target="worksheets/s{i}.xml"/>'
                for i in range(len(every))
            )
            + "</Relationships>",
        )
        for i, n in enumerate(every):
            z.writestr(f"xl/worksheets/s{i}.xml", fleet if n == "Fleet" else note)
    return path


def test_thousands_of_sheets_are_looked_at_in_bounded_time(tmp_path: Path) -> None:
    """2,000 sheets before the device list: the first 64 visible ones are looked at (the
    error says so and points to --sheet, which reads any); `columns` lists every name."""
    src = _many_sheets(tmp_path / "many.xlsx", [f"S{i}" for i in range(2000)])
    for command in ("check", "columns", "export"):
        code, err = _bounded_run(command, src, tmp_path)
        if command == "columns":  # never refuses to show a file: the likeliest rows
            assert code == 0, err
        else:
            assert code == 3 and "the first 64 of 2,001 sheets" in err, err
    named = run_cli("check", src, "--sheet", "Fleet", "--format", "json", "--fail-on", "never")
    assert named.code == 0 and named.json()["devices"][0]["status"] == "eligible"
    cols = run_cli("columns", src, "--sheet", "Fleet")
    assert cols.code == 0 and "S1999" in cols.stdout and "Fleet" in cols.stdout


@pytest.mark.parametrize("name", ["fleet.xlsx", "fleet.xls", "fleet.csv", "fleet.dat"])
def test_a_password_protected_workbook_is_said_whatever_its_name(tmp_path: Path, name: str) -> None:
    """An encrypted workbook is an OLE container with an EncryptionInfo stream, whatever
    extension it was given when it was mailed around."""
    src = tmp_path / name
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    src.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 2048)
    res = run_cli("check", src)
    assert res.code == 3
    assert "password protected" in res.stderr and len(res.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_ends_when_its_supervisor_is_killed(tmp_path: Path) -> None:
    """A timeout's SIGKILL (a CI runner, `timeout -s KILL`) ends the supervising process
    only: the worker it forked must not go on reading unwatched at full CPU."""
    src = tmp_path / "big.csv"
    line = "AT-{0},5CG{0:07d},PC-{0},HP,EliteBook 840,Windows 10 Pro,Yes,Windows 11 Pro\n"
    with src.open("w", encoding="utf-8") as f:
        f.write("Asset Tag,Serial Number,Hostname,Manufacturer,Model,OS,COA Present,COA Edition\n")
        f.writelines(line.format(i) for i in range(300_000))
    proc = subprocess.Popen(
        [str(EXE), "check", str(src), "--format", "json", "-o", str(tmp_path / "r.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[str] = []
    end = time.monotonic() + 20
    while not workers and time.monotonic() < end:
        time.sleep(0.1)
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        workers = found.stdout.split()
    assert workers, "the supervisor forked no worker"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    def running(pid: str) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    end = time.monotonic() + 5
    while any(running(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(running(w) for w in workers), "the worker outlived its supervisor"
