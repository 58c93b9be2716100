"""The checks coa-audit runs itself before the reader opens a file take time linear in the
file, count what the reader will really allocate (cells times repeats, texts copied, table
rows), and refuse in one line with exit 3; a policy's own patterns run in linear time or are
refused with exit 2 naming them. Every input goes through the installed command under an
address-space limit, timed against a harmless file at least as large (timed once for the
module), and the memory its processes kept at most is read back."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

from coa_audit.core.policy import PolicyError, load_policy
from tests.conftest import Result, device, run_bounded, write_csv
from tests.hostile_craft import numeric_sheet, ods, ods_devices, table_xlsx
from tests.xlsx_craft import package

RATIO, SLACK = 20, 3.0  # a hostile file may take RATIO times the harmless one, plus SLACK s
GIB = 2  # address space a run may use
RSS_KIB = 768 * 1024  # memory a run may hold (Linux counts ru_maxrss in KiB)
N = 40_000  # "<c " 32,000 times took the old checker 16 to 32 s
# spellings beyond the first three of a class run under `make fuzz` (COA_FUZZ_RUNS set)
MORE = pytest.mark.skipif(not os.environ.get("COA_FUZZ_RUNS"), reason="make fuzz runs it")


def _timed(*args: str | Path) -> tuple[Result, float]:
    start = time.perf_counter()
    res = run_bounded(*args, gib=GIB, timeout=120)
    return res, time.perf_counter() - start


def _reference(path: Path, tmp: Path) -> float:
    """Seconds the command takes on a harmless file (at least as large as the hostile
    ones it is held against)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COA_AUDIT_STATE_DIR", str(tmp / "state"))
        env.setenv("COA_AUDIT_CONFIG_DIR", str(tmp / "config"))
        res, seconds = _timed("check", path, "--format", "json")
    assert res.code in (0, 1), res.stderr
    return seconds


@pytest.fixture(scope="module")
def xlsx_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    tmp = tmp_path_factory.mktemp("harmless")
    text = b"<!-- " + b"x" * 7 * N + b" -->"  # as large as the largest spelling below
    return _reference(package(tmp / "harmless.xlsx", numeric_sheet(text)), tmp)


@pytest.fixture(scope="module")
def ods_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    """A real file as LibreOffice pads it (empty repeats right of every row and below the
    data: never allocated), as large as the largest hostile one: it passes."""
    tmp = tmp_path_factory.mktemp("harmless")
    pad = '<table:table-cell table:number-columns-repeated="1018"/>'
    body = ods_devices(5_000).replace("</table:table-row>", pad + "</table:table-row>")
    body += (
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    return _reference(ods(tmp / "harmless.ods", body), tmp)  # 4.3 MB


def _within(path: Path, reference: float, codes: tuple[int, ...]) -> Result:
    """``path`` checked in bounded time against the ``reference`` seconds of a harmless
    file, ending in one of ``codes``; a refusal is one line, never a traceback."""
    res, seconds = _timed("check", path, "--format", "json")
    assert res.code in codes, (res.code, res.stderr[-400:])
    assert "Traceback" not in res.stderr
    if res.code not in (0, 1):
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr[-400:]
    assert seconds < RATIO * reference + SLACK, (seconds, reference)
    # the most any process this test run waited for has held (this one included)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < RSS_KIB
    return res


# -- text the lexers must step over: a search restarted per "<c" was quadratic ---------------


@pytest.mark.parametrize(
    "spelling",
    [
        b"<![CDATA[" + b"<c " * N + b"]]>",  # inside CDATA (in no cell: stepped over)
        b"<?coa-test " + b'<c r="B' * N + b" ?>",  # a processing instruction
        b"<!-- " + b"<x:c\t" * N + b" -->",  # a comment of prefixed cells, tab-separated
    ],
    ids=["cdata", "processing-instruction", "prefixed-comment"],
)
def test_sheet_text_stepped_over_in_linear_time(
    tmp_path: Path, spelling: bytes, xlsx_seconds: float
) -> None:
    if spelling.startswith(b"<![CDATA["):  # CDATA is text: it sits in a cell
        spelling = b'<row r="9"><c r="H9" t="inlineStr"><is><t>' + spelling + b"</t></is></c></row>"
    hostile = package(tmp_path / "hostile.xlsx", numeric_sheet(spelling))
    _within(hostile, xlsx_seconds, (0, 1))


# -- OpenDocument: unclosed rows, and repeats that multiply ---------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<table:table-row>" * 100_000,  # rows never closed
        '<t:table-row xmlns:t="urn:oasis:names:tc:opendocument:xmlns:table:1.0">' * 60_000,
        "<table:table-row><table:table-cell office:value-type='string'><text:p>x</text:p>"
        "</table:table-cell>" * 30_000,  # each row holds a cell, none closed
    ],
    ids=["unclosed", "other-prefix", "unclosed-with-cells"],
)
def test_unclosed_ods_rows_are_refused_in_linear_time(
    tmp_path: Path, body: str, ods_seconds: float
) -> None:
    hostile = ods(tmp_path / "hostile.ods", ods_devices() + body)
    assert "not well-formed" in _within(hostile, ods_seconds, (3,)).stderr


_CELL = '<table:table-cell office:value-type="float" office:value="1"'
REPEATS = {
    # repeats on both rows and columns multiply
    "rows-times-columns": '<table:table-row table:number-rows-repeated="3000">'
    + _CELL
    + ' table:number-columns-repeated="16384"/></table:table-row>',
    # a long text copied to every repeat
    "text-copies": '<table:table-row table:number-rows-repeated="3000"><table:table-cell '
    f'office:value-type="string" office:string-value="{"x" * 30_000}" '
    'table:number-columns-repeated="4"/></table:table-row>',
    # a formula copied to every repeat of a formula-only cell
    "formula-copies": '<table:table-row table:number-rows-repeated="400"><table:table-cell '
    f'table:formula="of:={"1+" * 5_000}1" table:number-columns-repeated="400"/>'
    "</table:table-row>",
    # no repeated row: 2,000 rows each kept 16,384 columns wide
    "kept-rows": (
        "<table:table-row>" + _CELL + ' table:number-columns-repeated="16384"/></table:table-row>'
    )
    * 2_000,
    # the real repeat count first, a decoy spelled inside another attribute's value after it
    "hidden-repeat": '<table:table-row table:number-rows-repeated="3000">'
    + _CELL
    + ' table:number-columns-repeated="16384" x:y=\' table:number-columns-repeated="1"\'/>'
    "</table:table-row>",
    # spaces a cell's text asks for
    "spaces": '<table:table-row><table:table-cell office:value-type="string"><text:p>'
    '<text:s text:c="3000000000"/></text:p></table:table-cell></table:table-row>',
}


@pytest.mark.parametrize(
    "name",
    [
        "rows-times-columns",
        "text-copies",
        "spaces",
        "hidden-repeat",
        pytest.param("formula-copies", marks=MORE),
        pytest.param("kept-rows", marks=MORE),
    ],
)
def test_ods_repeats_are_counted_as_the_reader_allocates(
    tmp_path: Path, name: str, ods_seconds: float
) -> None:
    hostile = ods(tmp_path / "hostile.ods", ods_devices() + REPEATS[name])
    res = _within(hostile, ods_seconds, (3,))
    assert "reading it would take about" in res.stderr  # refused before the reader ran


# -- table parts: the rows they claim --------------------------------------------------------

TABLES = {
    "totals-beyond-the-range": [{"name": "T", "ref": "A1:F4", "totalsRowCount": "5"}],
    "rows-beyond-the-sheet": [{"name": "T", "ref": "A1:F99999999", "totalsRowCount": "1"}],
    "columns-beyond-the-sheet": [{"name": "T", "ref": "A1:XFE4"}],
    "totals-summed-over-tables": [
        {"name": f"T{i}", "ref": "A1:A1048576", "headerRowCount": "0", "totalsRowCount": "40000"}
        for i in range(3)
    ],
}


@pytest.mark.parametrize(
    "name",
    [
        "totals-beyond-the-range",
        "rows-beyond-the-sheet",
        "totals-summed-over-tables",
        pytest.param("columns-beyond-the-sheet", marks=MORE),
    ],
)
def test_table_parts_that_do_not_fit_are_refused(tmp_path: Path, name: str) -> None:
    hostile = table_xlsx(tmp_path / "hostile.xlsx", TABLES[name])
    res = run_bounded("check", hostile, "--format", "json", gib=GIB, timeout=60)
    assert res.code == 3, (res.code, res.stderr[-400:])
    assert len(res.stderr.strip().splitlines()) == 1 and "table" in res.stderr


def test_shared_strings_that_claim_billions_are_refused_before_opening(tmp_path: Path) -> None:
    sst = (
        b'<?xml version="1.0" encoding="UTF-8"?><!-- a prologue --><sst xmlns="http://schemas'
        b'.openxmlformats.org/spreadsheetml/2006/main" count="1"\n uniqueCount = "900000000">'
        b"<si><t>x</t></si></sst>"
    )
    path = package(tmp_path / "sst.xlsx", numeric_sheet(), shared_strings=sst)
    res = run_bounded("check", path, gib=GIB, timeout=60)
    assert res.code == 3 and "shared strings" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# -- a policy's own patterns -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("serials.product_id_pattern", "("),
        ("scope.apple_model_pattern", r"(a)\1"),  # a backreference
        ("evidence.pkid_pattern", "(?=1)"),  # look-ahead
        ("scope.apple_model_pattern", "[z-a]"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_naming_them(
    tmp_path: Path, key: str, pattern: str
) -> None:
    table, name = key.split(".")
    policy = tmp_path / "p.toml"
    policy.write_text(f"[{table}]\n{name} = '{pattern}'\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(policy)
    assert key in str(err.value) and repr(pattern) in str(err.value)


def test_patterns_run_in_linear_time_through_the_command(tmp_path: Path) -> None:
    inv = write_csv(tmp_path / "inv.csv", [device(1, Model="a" * 40 + "b"), device(2)])
    bad = tmp_path / "bad.toml"
    bad.write_text("[serials]\nproduct_id_pattern = '('\n", encoding="utf-8")
    res = run_bounded("check", inv, "--policy", bad, gib=GIB, timeout=60)
    assert res.code == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "serials.product_id_pattern" in res.stderr and "'('" in res.stderr
    # catastrophic under backtracking: 2^40 ways to fail on "aaa...ab"
    slow = tmp_path / "slow.toml"
    slow.write_text("[scope]\napple_model_pattern = '^(a|aa)+$'\n", encoding="utf-8")
    ref, ref_seconds = _timed("check", inv, "--format", "json")
    res, seconds = _timed("check", inv, "--policy", slow, "--format", "json")
    assert res.code in (0, 1) and ref.code in (0, 1), res.stderr
    assert seconds < RATIO * ref_seconds + SLACK


# -- text files: the code-page guess and the header reader read a long cell in linear time --

CELL = 250_000  # bytes of one cell: the code page is guessed on the first 256 KB


@pytest.fixture(scope="module")
def csv_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    tmp = tmp_path_factory.mktemp("harmless")
    path = tmp / "harmless.csv"
    rows = ["Serial Number,Hostname,COA Present,COA Edition,Notes", "5CG1,PC-1,Yes,Windows 11 Pro,"]
    path.write_bytes(("\n".join(rows) + f"\n5CG2,PC-2,Yes,Windows 11 Pro,{'x' * CELL}\n").encode())
    return _reference(path, tmp)


def _long_cell(cell: bytes, where: int = 4, header_row: bool = False) -> bytes:
    head = b"Serial Number,Hostname,COA Present,COA Edition,Notes,Asset Type,Status\n"
    cells = [b"5CG2", b"PC-2", b"Yes", b"Windows 11 Pro", b"", b"Laptop", b"Active"]
    cells[where] = b'"' + cell.replace(b'"', b'""') + b'"'
    row = b",".join(cells) + b"\n"
    if header_row:  # the long cell in the rows scanned for a header, above the header
        return row + head + b"5CG1,PC-1,Yes,Windows 11 Pro,,Laptop,Active\n"
    return head + b"5CG1,PC-1,Yes,Windows 11 Pro,,Laptop,Active\n" + row


@pytest.mark.parametrize(
    ("cell", "where", "above"),
    [
        # ASCII letters then one letter beyond: a word pattern that searched for that letter
        # inside each run was quadratic (250 KB: hours)
        (b"a" * CELL + b" \xe9", 4, False),
        (b"a" * CELL + b",\xe9", 4, True),
        # letters, then symbols of the same code page: each symbol looked for among the
        # letters (40 KB: 75 s)
        (b"\xe9" * (CELL // 2) + b"\xd7" * (CELL // 2), 4, False),
        # a cell of field words read by meaning as if it were a header: each phrase found
        # cost the cell's length (280 KB: 175 s)
        (b"serial number " * (CELL // 14), 4, True),
        (b"coa edition " * (CELL // 12), 1, True),
        ("シリアル番号".encode() * (CELL // 18), 4, True),
        ("序列号 计算机名 ".encode() * (CELL // 22), 0, True),
        (b"Windows 10 Pro " * (CELL // 15), 3, False),
        # a long type or status: its column chosen by values, its rows read by the rules
        # (a type's phrases were looked for at every length of the cell: 250 KB, minutes)
        (b"monitor " * (CELL // 8), 5, False),
        (b"yes " * (CELL // 4), 5, False),
        (b"retired " * (CELL // 8), 6, False),
        (b"yes " * (CELL // 4), 2, False),
    ],
    ids=[
        "ascii-run-then-letter",
        "ascii-run-then-letter-above-header",
        "letters-then-symbols",
        "field-words-above-header",
        "edition-words-above-header",
        "kana-words-above-header",
        "han-words-above-header",
        "edition-words-in-edition",
        "type-words-in-type",
        "yes-words-in-type",
        "status-words-in-status",
        "yes-words-in-coa",
    ],
)
def test_a_long_cell_is_read_in_linear_time(
    tmp_path: Path, cell: bytes, where: int, above: bool, csv_seconds: float
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_bytes(_long_cell(cell, where, above))
    _within(path, csv_seconds, (0, 1, 3))
