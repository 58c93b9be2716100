"""Every file written is exactly right: text files keep their encoding and every cell that
holds something (issue: every file written is exactly right)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import (
    SAMPLES,
    assert_verdict_or_refusal,
    device,
    run_bounded,
    run_cli,
    write_csv,
)

HEAD = ["Asset Tag", "Serial Number", "Manufacturer", "Model", "COA Present", "COA Edition"]


def _rows(n: int) -> list[list[str]]:
    return [[d[h] for h in HEAD] for d in (device(i) for i in range(1, n + 1))]


@pytest.mark.parametrize(
    ("codec", "bom"),
    [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
)
def test_a_utf16_csv_keeps_one_byte_order_mark(tmp_path: Path, codec: str, bom: bytes) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEAD, *_rows(4)])
    src = tmp_path / "inv.csv"
    src.write_bytes(bom + out.getvalue().encode(codec))
    fix = tmp_path / "fix.csv"
    fix.write_text("row,field,value\n3,COA Present,No\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 0, res.stderr
    data = (tmp_path / "inv.corrected.csv").read_bytes()
    assert data.startswith(bom)
    text = data[len(bom) :].decode(codec)
    assert "\ufeff" not in text  # never a mark at the start of each record
    want = out.getvalue().replace("AT-00002,5CG0000002,HP,EliteBook 840 G9,Yes", "x", 1)
    assert text.replace("AT-00002,5CG0000002,HP,EliteBook 840 G9,No", "x", 1) == want
    # re-auditing the copy reads the asset tags as they are
    doc = run_cli(
        "check", tmp_path / "inv.corrected.csv", "--format", "json", "--fail-on", "never"
    ).json()
    tags = sorted(d["asset_tag"] for d in doc["devices"])
    assert tags == [f"AT-{i:05d}" for i in range(1, 5)]


def test_annotate_never_writes_over_a_cell_right_of_the_headers(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    lines = src.read_text(encoding="utf-8").splitlines()
    lines[1] += ",kept by the user,and this"  # cells past the last header
    src.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    res = run_cli("export", src, "--annotate", "--checklist", "")
    assert res.code == 0, res.stderr
    got = list(csv.reader(io.StringIO((tmp_path / "inv.corrected.csv").read_text())))
    width = len(got[0]) - 2
    assert got[0][width:] == ["coa-audit status", "coa-audit findings"]
    assert "kept by the user" in got[1] and "and this" in got[1]
    assert got[1].index("and this") < width  # the annotations sit right of them
    assert got[1][width] in ("eligible", "review", "blocked")


def test_corrections_keep_quoted_newlines_and_line_separators(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)])
    fix = tmp_path / "fix.csv"
    value = 'label "worn"\nre-checked\u2028by J.'
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [["row", "field", "value"], ["2", "Notes", value], ["3", "COA Present", "No"]]
    )
    fix.write_text(out.getvalue(), encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 0, res.stderr
    got = list(csv.reader(io.StringIO((tmp_path / "inv.corrected.csv").read_text(), newline="")))
    notes = got[0].index("Notes")
    assert got[1][notes] == value
    assert got[2][got[0].index("COA Present")] == "No"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2,COA Present", "has no value column"),
        ("\u00b2,COA Present,No", "is not a row number"),
        ("2,Notes," + "x" * 40_000, "at most 32,767"),
        ('2,Notes,"' + "x" * 200_000 + '"', "at most 32,767"),
    ],
    ids=["no value column", "superscript row", "long value", "beyond the csv field limit"],
)
def test_corrections_lines_that_cannot_be_applied_are_one_clear_error(
    tmp_path: Path, line: str, message: str
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    fix = tmp_path / "fix.csv"
    fix.write_text(f"row,field,value\n{line}\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and message in err and "line 2" in err
    assert len(err) <= 700
    assert not (tmp_path / "inv.corrected.csv").exists()


def test_check_never_writes_its_report_over_the_inventory(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    before = src.read_bytes()
    res = run_cli("check", src, "-o", src)
    assert res.code == 2 and "input of this run" in res.stderr
    assert src.read_bytes() == before


def test_sample_needs_force_to_replace_a_file(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("mine\n")
    res = run_cli("sample", path, "--rows", "5")
    assert res.code == 2 and "--force" in res.stderr
    assert path.read_text() == "mine\n"
    assert run_cli("sample", path, "--rows", "5", "--force").code == 0
    assert path.read_text() != "mine\n"


def _fifo(tmp_path: Path) -> Path:
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    return fifo


@pytest.mark.parametrize("which", ["source", "corrections", "policy", "mapping", "evidence"])
@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_pipes_and_devices_are_refused_at_once(tmp_path: Path, which: str, kind: str) -> None:
    special = _fifo(tmp_path) if kind == "fifo" else Path("/dev/zero")
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    args: list[str | Path] = {
        "source": ["check", special],
        "corrections": ["export", src, "--corrections", special],
        "policy": ["check", src, "--policy", special],
        "mapping": ["check", src, "--mapping", special],
        "evidence": ["check", src, "--evidence", special],
    }[which]
    import signal

    def hung(*_: object) -> None:
        raise TimeoutError("the command hung on a pipe or device")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)  # a hang is the defect: fail instead of waiting for ever
    try:
        res = run_cli(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert res.code in (2, 3), res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "not a regular file" in err


def test_terminal_escapes_in_a_file_name_never_reach_the_terminal(tmp_path: Path) -> None:
    name = tmp_path / "evil\x1b[2J\x1b]0;owned\x07.csv"
    res = run_cli("check", name)
    assert res.code == 3
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.serial  # the signal must land while the export is still writing
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_during_the_export_is_one_line_and_leaves_no_partial_file(
    tmp_path: Path, signame: str
) -> None:
    import signal
    import subprocess
    import sys
    import time

    coa = str(Path(sys.executable).parent / "coa-audit")
    src = tmp_path / "fleet.csv"
    subprocess.run([coa, "sample", str(src), "--rows", "40000"], check=True, capture_output=True)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [coa, "export", str(src), "--out-dir", str(out)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        # Ctrl-C as a terminal's user sends it: a suite started in the background by a
        # non-interactive shell passes SIGINT down ignored, and an ignored signal is kept
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not list(out.iterdir()) and time.monotonic() < deadline:  # writing has begun
        time.sleep(0.02)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 130, err
    # said before a file is written, as every export of 40,000 devices says it
    before, lines = lines[:1], lines[1:]
    assert before[0].startswith("warning: the PDF checklist would run to about"), err
    # the signal: one line
    assert lines == ["coa-audit: interrupted"] or (len(lines) == 1 and "cancelled" in lines[0]), err
    time.sleep(0.2)  # the forked writer has ended with its parent
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


_WRITTEN_OTHERWISE = {
    "single quotes": b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    "tab before r": b'<row\tr="1048576"><c\tr="XFD1048576"><v>1</v></c></row>',
    "newline before r": b'<row\nr="1048576"><c\nr="XFD1048576"><v>1</v></c></row>',
    "spaces around =": b'<row r = "1048576"><c r = "XFD1048576"><v>1</v></c></row>',
}


def _hostile(tmp_path: Path, kind: str) -> Path:
    from tests.xlsx_craft import HEADERS, Sheet, device_row, package

    rows = [HEADERS, device_row(1)]
    xml = Sheet(rows).xml()
    if kind == "XFD1048576":
        far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    elif kind in _WRITTEN_OTHERWISE:  # the same far cell, written in ways a reader accepts
        far = _WRITTEN_OTHERWISE[kind]
    elif kind == "ZZ200000":
        far = b'<row r="200000"><c r="ZZ200000"><v>1</v></c></row>'
    elif kind == "lower-case far cell":
        far = b'<row r="3"><c r="xfd3"><v>1</v></c></row><row r="900000"><c r="b900000"/></row>'
    else:  # shared text used over and over: 20 MiB by 60 cells, 900 KiB by 1,500
        uses = 60 if kind == "shared text" else 1500
        far = b"".join(
            f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>'.encode()
            for r in range(3, 3 + uses)
        )
    xml = xml.replace(b"</sheetData>", far + b"</sheetData>")
    sst = None
    if kind in ("shared text", "repeated text"):
        size = 20 * 1024**2 if kind == "shared text" else 900 * 1024
        sst = (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<si><t>" + b"A" * size + b"</t></si></sst>"
        )
    name = "".join(c if c.isalnum() else "-" for c in kind)
    return package(tmp_path / f"{name}.xlsx", xml, shared_strings=sst)


@pytest.mark.parametrize(
    "kind",
    [
        "XFD1048576",
        "ZZ200000",
        "lower-case far cell",
        "shared text",
        "repeated text",
        *_WRITTEN_OTHERWISE,
    ],
)
@pytest.mark.parametrize("command", ["check", "columns", "export"])
def test_tiny_hostile_workbooks_are_refused_within_3_gib(
    tmp_path: Path, kind: str, command: str
) -> None:
    """Under a 3 GiB address-space limit each is refused in one line, well within a minute,
    instead of aborting the process or taking gigabytes."""
    src = _hostile(tmp_path, kind)
    assert src.stat().st_size < 100_000
    res = run_bounded(command, src)  # within a minute, or it raises
    assert res.code == 3, res.stderr[-500:]
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr[-500:]
    assert "hostile" in res.stderr


KEY = "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG"


@pytest.mark.parametrize(
    "wording",
    [KEY, KEY.replace("-", ""), KEY.replace("-", " "), KEY.lower(), f"key:{KEY}."],
    ids=["dashes", "together", "spaces", "lower case", "inside text"],
)
def test_product_keys_are_masked_by_shape_in_every_report(tmp_path: Path, wording: str) -> None:
    """A key typed into the edition, serial or notes column is masked in the check report,
    the audit workbook and every checklist, unless --show-keys; the corrected inventory
    keeps the user's own values."""
    from pypdf import PdfReader

    src = write_csv(
        tmp_path / "inv.csv",
        [
            device(1, COA_Edition=wording),
            device(2, Serial_Number=wording),
            device(3, Notes=wording, COA_Present="No"),
        ],
    )
    bare = KEY.replace("-", "").upper()

    def leaks(text: str) -> bool:
        squeezed = "".join(ch for ch in text.upper() if ch.isalnum())
        return bare in squeezed

    res = run_cli("check", src, "--format", "json", "--fail-on", "never")
    assert res.code == 0 and not leaks(res.stdout), res.stdout[:300]
    for fmt in ("text", "csv"):
        out = run_cli("check", src, "--format", fmt, "--fail-on", "never").stdout
        assert not leaks(out), fmt
    fix = tmp_path / "fix.csv"
    fix.write_text(f"row,field,value\n4,Notes,{wording} re-read\n", encoding="utf-8")
    res = run_cli(
        "export", src, "--corrections", fix, "--json", "--worklist", "eligible,review,blocked"
    )
    assert res.code == 0, res.stderr
    import openpyxl

    for name in ("inv.audit.xlsx", "inv.checklist.xlsx", "inv.worklist.xlsx"):
        wb = openpyxl.load_workbook(tmp_path / name)
        text = " ".join(str(v) for ws in wb.worksheets for row in ws.values for v in row if v)
        assert not leaks(text), name
    assert not leaks((tmp_path / "inv.checklist.md").read_text(encoding="utf-8"))
    assert not leaks((tmp_path / "inv.audit.json").read_text(encoding="utf-8"))
    pdf = " ".join(p.extract_text() for p in PdfReader(tmp_path / "inv.checklist.pdf").pages)
    assert not leaks(pdf)
    assert leaks((tmp_path / "inv.corrected.csv").read_text(encoding="utf-8"))  # user data
    shown = run_cli("check", src, "--format", "json", "--fail-on", "never", "--show-keys")
    assert leaks(shown.stdout)


@pytest.mark.parametrize(
    ("policy", "where"),
    [
        ("[policy]\ndefault_target = 5\n", "policy.default_target must be text"),
        ("[editions.pro]\nverdict = 3\n", "editions.pro.verdict must be text"),
        ('[editions.pro]\noverride = "x"\n', "editions.pro.override must be a list"),
        ("[editions.pro]\noverride = [{ version = 2 }]\n", "override[0].version must be text"),
        ('agreements = "x"\n', "agreements must be a table"),
    ],
)
def test_a_policy_value_of_the_wrong_kind_is_one_line(
    tmp_path: Path, policy: str, where: str
) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    pol = tmp_path / "policy.toml"
    pol.write_text(policy, encoding="utf-8")
    res = run_cli("check", src, "--policy", pol)
    assert res.code == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and where in err, err


def test_a_file_name_that_is_not_utf8_reports_as_json(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    good = write_csv(tmp_path / "inv.csv", [device(1)])
    odd = os.path.join(os.fsencode(tmp_path), b"inv-\xff.csv")
    os.rename(good, odd)
    coa = os.fsencode(Path(sys.executable).parent / "coa-audit")
    proc = subprocess.run([coa, b"check", odd, b"--format", b"json"], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"]["path"].endswith("inv-\ufffd.csv")
    err = subprocess.run([coa, b"check", odd + b".missing"], capture_output=True).stderr
    assert len(err.decode().strip().splitlines()) == 1 and b"Traceback" not in err


def test_out_dir_is_created_or_refused_in_one_line(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    new = tmp_path / "new" / "folder"
    res = run_cli("export", src, "--checklist", "", "--out-dir", new)
    assert res.code == 0 and (new / "inv.corrected.csv").exists(), res.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    res = run_cli("export", src, "--checklist", "", "--out-dir", afile)
    assert res.code == 4 and "is a file, not a folder" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_character_the_csv_encoding_cannot_hold_is_one_line(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)], encoding="cp1252")
    src.write_bytes(src.read_bytes().replace(b"London", b"K\xf6ln"))  # cp1252, not UTF-8
    fix = tmp_path / "fix.csv"
    fix.write_text("row,field,value\n3,Notes,\u0141\u00f3d\u017a\n", encoding="utf-8")
    res = run_cli("export", src, "--corrections", fix, "--checklist", "")
    assert res.code == 4, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "line 3" in err and "cp1252" in err, err
    assert not (tmp_path / "inv.corrected.csv").exists()


def test_check_csv_never_passes_terminal_escapes(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "inv.csv", [device(1, Asset_Tag="\x1b]0;owned\x07AT", COA_Present="No")]
    )
    res = run_cli("check", src, "--format", "csv", "--fail-on", "never")
    assert res.code == 0 and "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "AT" in res.stdout


def test_a_bad_map_never_echoes_a_huge_header(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    text = src.read_text(encoding="utf-8")
    src.write_text("H" * 1_200_000 + "," + text, encoding="utf-8")
    res = run_cli("check", src, "--map", "Nope=serial_number")
    assert res.code in (2, 3), res.stderr[:300]
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and len(err) <= 700


def test_the_readers_own_error_never_quotes_a_cell(tmp_path: Path) -> None:
    from tests.xlsx_craft import HEADERS, Sheet, device_row, package

    bad = f'<row r="3"><c r="A3" t="e"><v>{KEY}</v></c></row></sheetData>'.encode()
    xml = Sheet([HEADERS, device_row(1)]).xml().replace(b"</sheetData>", bad)
    src = package(tmp_path / "inv.xlsx", xml)
    res = run_cli("check", src)
    assert res.code == 3, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "cannot be read as xlsx" in err
    assert KEY not in err and KEY.replace("-", "") not in err.replace("-", "")


@pytest.mark.parametrize("option", ["--policy", "--mapping"])
def test_an_auxiliary_file_that_is_not_utf8_is_named_by_line(tmp_path: Path, option: str) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    aux = tmp_path / "aux.toml"
    aux.write_bytes(b"# notes\n# caf\xe9 in Latin-1\n")
    res = run_cli("check", src, option, aux)
    assert res.code == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "line 2, column 6" in err and "UTF-8" in err, err


def _ods_with(tmp_path: Path, name: str, extra_rows: bytes, pad: bool = False) -> Path:
    from tests.test_export import _minimal_ods, repack_ods

    rows = [HEAD, *_rows(3)]
    src = _minimal_ods(tmp_path / name, rows)

    def change(content: bytes) -> bytes:
        if pad:  # what LibreOffice writes: each row padded to 1,024 columns, then empty rows
            content = content.replace(
                b"</table:table-row>",
                b'<table:table-cell table:number-columns-repeated="1018"/></table:table-row>',
            )
        return content.replace(b"</table:table>", extra_rows + b"</table:table>")

    return repack_ods(src, change)


@pytest.mark.parametrize(
    ("rows", "cols"), [(9_000, 9_990), (1_048_000, 16_000)], ids=["90M cells", "whole sheet"]
)
def test_an_ods_that_repeats_empty_cells_far_out_is_refused_within_3_gib(
    tmp_path: Path, rows: int, cols: int
) -> None:

    far = (
        f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'table:number-columns-repeated="{cols}"/></table:table-row><table:table-row>'
        f'<table:table-cell table:number-columns-repeated="{cols}"/><table:table-cell '
        'office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
        "</table:table-row>"
    ).encode()
    src = _ods_with(tmp_path, "far.ods", far)
    res = run_bounded("check", src)
    assert res.code == 3, res.stderr[-400:]
    assert len(res.stderr.strip().splitlines()) == 1 and "hostile" in res.stderr


def test_libreoffice_padding_in_an_ods_is_read(tmp_path: Path) -> None:
    tail = (
        b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        b'table:number-columns-repeated="1024"/></table:table-row>'
    )
    src = _ods_with(tmp_path, "padded.ods", tail, pad=True)
    res = run_cli("check", src, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    assert res.json()["summary"]["devices"] == 3


def _xlsb_with_far_cell(src: Path, target: Path, row: int, col: int) -> Path:
    """A corpus xlsb with a number at A1 and another at (row, col) in its first sheet: binary
    records (a row header, then a cell) put before the end of the sheet data."""
    import struct
    import zipfile

    def varint(v: int) -> bytes:
        out = bytearray()
        while True:
            b, v = v & 0x7F, v >> 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)

    def rec(kind: int, payload: bytes) -> bytes:
        return varint(kind) + varint(len(payload)) + payload

    def cells(r: int, c: int) -> bytes:
        header = struct.pack("<IIH3sI", r, 0, 0, b"\0\0\0", 0)
        return rec(0, header) + rec(5, struct.pack("<I4sd", c, b"\0\0\0\0", 1.0))

    with zipfile.ZipFile(src) as z:
        infos = [(i, z.read(i)) for i in z.infolist()]
    out = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED)
    for info, data in infos:
        if info.filename == "xl/worksheets/sheet1.bin":
            end = data.index(b"\x92\x01\x00")  # BrtEndSheetData
            data = data[:end] + cells(0, 0) + cells(row, col) + data[end:]
        out.writestr(info, data)
    out.close()
    return target


def test_an_xlsb_with_a_far_cell_is_refused_within_3_gib(tmp_path: Path) -> None:

    from tests.test_corpus import CORPUS

    base = CORPUS / "issue127.xlsb"
    if not base.exists():
        pytest.skip("shared corpus not present")
    far = _xlsb_with_far_cell(base, tmp_path / "far.xlsb", 200_000, 700)
    near = _xlsb_with_far_cell(base, tmp_path / "near.xlsb", 20, 5)

    for path, refused in ((far, True), (near, False)):
        res = run_bounded("check", path)
        err = res.stderr
        assert res.code == 3 and len(err.strip().splitlines()) == 1, err[-300:]
        assert ("more cells than coa-audit will allocate" in err) == refused, err


def test_a_hostile_file_in_the_app_ends_in_a_message_and_a_sane_terminal(
    tmp_path: Path,
) -> None:
    """`coa-audit tui` whose reader aborts (SIGABRT, as a Rust reader's failed allocation
    ends it) once the app is on screen: the supervisor leaves the alternate screen, puts the
    terminal's modes back and says why in one line, exit 3. Every hostile file this suite
    crafts is now refused before the reader opens it, so the abort is sent to the worker."""
    if not Path("/proc/self/task").exists():  # Linux: pty, termios and /proc below
        pytest.skip("finds the worker through /proc")
    import os
    import pty
    import select
    import signal
    import subprocess
    import sys
    import termios
    import time

    src = tmp_path / "reader-abort.xlsx"
    src.write_bytes((SAMPLES / "oem-fleet.xlsx").read_bytes())
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    coa = str(Path(sys.executable).parent / "coa-audit")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    proc = subprocess.Popen(
        [coa, "tui", str(src)], stdin=slave, stdout=slave, stderr=slave, env=env,
        start_new_session=True,
    )  # fmt: skip
    out = b""
    aborted = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                out += os.read(master, 65536)
            except OSError:
                break
        elif proc.poll() is not None:
            break
        if not aborted and b"\x1b[?1049h" in out and len(out) > 4000:  # the app is drawn
            workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            if workers:
                os.kill(int(workers[0]), signal.SIGABRT)
                aborted = True
    assert aborted, "the worker was never found"
    assert proc.wait(timeout=10) == 3
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    text = out.decode(errors="replace")
    tail = text[text.rfind("\x1b[?1049l") :]  # after leaving the alternate screen
    assert "\x1b[?1049l" in text and "\x1b[?25h" in tail
    message = " ".join(tail.split("\x1b[0m", 1)[-1].split())
    assert message.startswith("coa-audit: reader-abort.xlsx:") and "hostile" in message
    assert "memory allocation" not in tail
    assert after[3] == before[3], "the terminal's local modes (echo, canonical) came back"


def test_a_file_name_with_escapes_is_shown_inert_in_every_line_and_report(
    tmp_path: Path,
) -> None:
    """ESC, BEL, a C1 CSI (U+009B) and a right-to-left override in the file name: the
    "wrote" lines show stand-ins, and the JSON report escapes them (a JSON reader gets the
    same name back)."""
    from tests.conftest import SAMPLES

    name = "fleet\x07\x1b]2;pwn\x07\u009b2J\u202eslx.csv"
    src = tmp_path / name
    src.write_bytes((SAMPLES / "reseller-export.csv").read_bytes())
    res = run_cli("export", src, "--checklist", "md")
    assert res.code == 0, res.stderr
    for bad in ("\x1b", "\x07", "\u009b", "\u202e"):
        assert bad not in res.stderr
    assert res.stderr.count("wrote ") == 3  # one line each: corrected, report, checklist
    out = run_cli("check", src, "--format", "json", "--fail-on", "never")
    raw = out.stdout.encode("utf-8")
    assert b"\xc2\x9b" not in raw and "\u202e".encode() not in raw and b"\x1b" not in raw
    assert out.json()["source"]["path"].endswith(name)


@pytest.mark.parametrize("option", ["--policy", "--mapping", "--profile"])
def test_a_toml_nested_thousands_deep_is_a_usage_error(tmp_path: Path, option: str) -> None:
    """Inline tables inside one another 40,000 times (Python's parser recurses): one line,
    exit 2, whatever file it is given as."""
    from tests.conftest import SAMPLES

    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "{ y = " * 40_000 + "1" + " }" * 40_000 + "\n")
    more = ["export", "--out-dir", tmp_path] if option == "--profile" else ["check"]
    res = run_cli(more[0], SAMPLES / "oem-fleet.xlsx", option, deep, *more[1:])
    assert res.code == 2, res.stderr[-300:]
    assert "nested too deep" in res.stderr and len(res.stderr.strip().splitlines()) == 1


_SPACE = st.sampled_from([" ", "\t", "\n", "\r\n", "  \t "])
_QUOTE = st.sampled_from(['"', "'"])


def _spelled(draw: st.DrawFn, text: str) -> str:
    """``text`` as an attribute value, each character maybe a character reference."""
    if draw(st.booleans()):
        return text
    out = []
    for ch in text:
        how = draw(st.sampled_from(["plain", "plain", "decimal", "hex"]))
        out.append(
            ch if how == "plain" else f"&#{ord(ch)};" if how == "decimal" else f"&#x{ord(ch):x};"
        )
    return "".join(out)


@st.composite
def _far_cells(draw: st.DrawFn) -> tuple[str, bytes]:
    """A far cell (and its row) in any legal XML spelling: quotes, whitespace around the
    attribute and its =, character references inside the reference."""
    prefix = draw(st.sampled_from(["", "x:"]))
    col = draw(st.sampled_from(["XFD", "ZZZ", "AAA", "xfd"]))
    row = draw(st.sampled_from([1048576, 500000, 70000]))
    q, sp1, sp2, sp3 = (
        draw(_QUOTE),
        draw(_SPACE),
        draw(st.sampled_from(["", " ", "\t"])),
        draw(st.sampled_from(["", " ", "\n"])),
    )
    ref = _spelled(draw, f"{col}{row}")
    rref = _spelled(draw, str(row))
    far = (
        f"<{prefix}row{sp1}r{sp2}={sp3}{q}{rref}{q}><{prefix}c{sp1}r{sp2}={sp3}{q}{ref}{q}>"
        f"<{prefix}v>1</{prefix}v></{prefix}c></{prefix}row>"
    )
    return prefix, far.encode()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spelling=_far_cells())
def test_any_spelling_of_a_far_cell_ends_in_a_verdict_or_a_refusal_never_a_signal(
    tmp_path: Path, spelling: tuple[str, bytes]
) -> None:

    from tests.xlsx_craft import HEADERS, Sheet, device_row, package

    prefix, far = spelling
    xml = Sheet([HEADERS, device_row(1)], prefix=prefix).xml()
    xml = xml.replace(f"</{prefix}sheetData>".encode(), far + f"</{prefix}sheetData>".encode())
    src = package(tmp_path / "spelled.xlsx", xml)

    assert_verdict_or_refusal(run_bounded("check", src))


def _repackaged(src: Path, dst: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """``src``'s zip members, changed by ``change``, written to ``dst``."""
    import zipfile

    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    change(members)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    return dst


@pytest.mark.parametrize("trick", ["one id twice", "workbook outside xl", "prefix rebound"])
@pytest.mark.parametrize("command", ["check", "columns", "export"])
def test_a_package_that_points_the_reader_elsewhere_is_refused_in_one_line(
    tmp_path: Path, trick: str, command: str
) -> None:
    """Whatever part the reader ends up on (the last of two relationships with one id,
    a workbook outside xl/, a relationship prefix bound to another namespace), a sheet
    that claims the far corner ends in a verdict or the one-line refusal, never a signal,
    under a 3 GiB limit."""

    from tests.xlsx_craft import HEADERS, Sheet, device_row, package

    benign = Sheet([HEADERS, device_row(1)]).xml()
    far = benign.replace(
        b"</sheetData>", b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row></sheetData>"
    )
    base = package(tmp_path / "base.xlsx", benign)

    def change(m: dict[str, bytes]) -> None:
        rels = "xl/_rels/workbook.xml.rels"
        if trick == "one id twice":  # Python's lookup takes the first, a reader the last
            m["xl/worksheets/sheet2.xml"] = far
            m[rels] = m[rels].replace(
                b"</Relationships>",
                m[rels][m[rels].index(b"<Relationship ") : m[rels].index(b"/>") + 2].replace(
                    b"sheet1.xml", b"sheet2.xml"
                )
                + b"</Relationships>",
            )
        elif trick == "workbook outside xl":
            m["book/workbook.xml"] = m.pop("xl/workbook.xml")
            m["book/_rels/workbook.xml.rels"] = m.pop(rels).replace(
                b'Target="worksheets/sheet1.xml"', b'Target="../xl/worksheets/sheet1.xml"'
            )
            m["_rels/.rels"] = m["_rels/.rels"].replace(b"xl/workbook.xml", b"book/workbook.xml")
            m["[Content_Types].xml"] = m["[Content_Types].xml"].replace(
                b"/xl/workbook.xml", b"/book/workbook.xml"
            )
            m["xl/worksheets/sheet1.xml"] = far
        else:  # the r: prefix bound to another namespace, the relationship one under rel:
            m["xl/workbook.xml"] = (
                m["xl/workbook.xml"]
                .replace(b'xmlns:r="', b'xmlns:r="urn:not-relationships" xmlns:rel="')
                .replace(b" r:id=", b" rel:id=")
            )
            m["xl/worksheets/sheet1.xml"] = far

    src = _repackaged(base, tmp_path / "tricked.xlsx", change)

    more = ["--out-dir", tmp_path / "out"] if command == "export" else []
    assert_verdict_or_refusal(run_bounded(command, src, *more))


@st.composite
def _targets(draw: st.DrawFn) -> str:
    """The worksheet's relationship target in legal spellings: relative, ./, ../xl/,
    absolute, character references."""
    path = draw(
        st.sampled_from(
            ["worksheets/sheet1.xml", "./worksheets/sheet1.xml", "../xl/worksheets/sheet1.xml",
             "/xl/worksheets/sheet1.xml", "worksheets/../worksheets/sheet1.xml"]
        )
    )  # fmt: skip
    return _spelled(draw, path)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=_targets(), quote=_QUOTE, space=_SPACE)
def test_any_spelling_of_the_sheet_target_ends_in_a_verdict_or_a_refusal(
    tmp_path: Path, target: str, quote: str, space: str
) -> None:
    """The relationship that leads to a far-cornered sheet, spelled any legal way."""

    from tests.xlsx_craft import HEADERS, Sheet, device_row, package

    far = (
        Sheet([HEADERS, device_row(1)])
        .xml()
        .replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        )
    )
    base = package(tmp_path / "base.xlsx", far)

    def change(m: dict[str, bytes]) -> None:
        rels = "xl/_rels/workbook.xml.rels"
        m[rels] = m[rels].replace(
            b'Target="worksheets/sheet1.xml"', f"Target{space}={quote}{target}{quote}".encode()
        )

    src = _repackaged(base, tmp_path / "spelled.xlsx", change)

    assert_verdict_or_refusal(run_bounded("check", src))


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(quote=_QUOTE, space=_SPACE, rows=st.sampled_from([1_048_000, 300_000, 65_536]),
       cols=st.sampled_from([16_384, 1_024, 255]))  # fmt: skip
def test_any_spelling_of_ods_repeat_counts_ends_in_a_verdict_or_a_refusal(
    tmp_path: Path, quote: str, space: str, rows: int, cols: int
) -> None:
    """An OpenDocument table whose repeat counts are written with either quote and any
    whitespace: a verdict, or the one-line refusal, within 3 GiB and a minute."""
    import zipfile

    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(text: str) -> str:
        kind = 'office:value-type="string"'
        return f"<table:table-cell {kind}><text:p>{text}</text:p></table:table-cell>"

    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body>'
        '<office:spreadsheet><table:table table:name="Fleet">'
        f"<table:table-row>{cell('Serial Number')}{cell('COA Edition')}</table:table-row>"
        f"<table:table-row>{cell('SN1')}{cell('Windows 11 Pro')}</table:table-row>"
        f"<table:table-row{space}table:number-rows-repeated{space}={quote}{rows}{quote}>"
        f"<table:table-cell{space}table:number-columns-repeated={quote}{cols}{quote}"
        ' office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    src = tmp_path / "repeats.ods"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)

    assert_verdict_or_refusal(run_bounded("check", src))
