"""Every cell of every file the tool writes goes through one layer (``exporters.safety``):
formulas neutralised and product keys masked, whatever their spelling, unless --show-keys.
The corrected inventory is the user's own data and keeps every value.

The files are read back as a person's spreadsheet or script would read them (openpyxl, the
csv module, json, pypdf), never through the tool; spellings are generated, many in one
inventory per run."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from coa_audit.core.model import WALK_FILE_COLUMNS
from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import KEY_ALPHABET, REPO, device, run_cli, write_csv

# -- what a spreadsheet evaluates, said here independently of the tool --------------------------

TRIGGERS = set("=+-@\t\r\n") | set("＝＋－＠﹦﹢﹣﹫−")
BLANKS = " \t\r\n\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"


def evaluated(value: str) -> bool:
    """Whether a spreadsheet could take ``value`` as a formula: it starts with a trigger,
    maybe after blanks or characters that draw nothing (a dash alone is a dash)."""
    starts = value[:1] in TRIGGERS or value.lstrip(BLANKS)[:1] in TRIGGERS
    return starts and value.strip(BLANKS + "-") != ""


# prefixes a hostile cell starts with: the issue's own, and more it does not name
PREFIXES = [
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",  # leading LF
    "\t=",
    " =",
    "\u200b@",
    "＝",
    "＋",  # U+FF0B
    "－",
    "＠",  # fullwidth @
    "﹦",
    "−",  # minus sign
    "=cmd|' /C calc'!",  # DDE
    "@SUM(1+1)*cmd|' /C calc'!",
    "+cmd|' /C calc'!",
    "-2+3",
    '=HYPERLINK("http://x/?',
]
BODY = st.text(alphabet="abcXYZ019()|!'\" /,.;:&", min_size=0, max_size=8)


@st.composite
def hostile(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(PREFIXES)) + draw(BODY)


# -- product keys, spelled every way --------------------------------------------------------------

SEPARATORS = ["-", " - ", "_", ".", " ", "—", "\u2011", "－", "＿", "．", "\u3000", "", " _ ", "·"]
LOOKALIKE = str.maketrans("BCHKMPTXY", "ВСНКМРТХУ")  # Cyrillic capitals
UNLOOK = str.maketrans("ВСНКМРТХУ", "BCHKMPTXY")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def keys_of(seed: int, n: int) -> list[str]:
    """``n`` keys of 25 letters of the key alphabet, at random from ``seed`` (never a run of
    the alphabet itself, which the findings' advice prints)."""
    import random

    rnd = random.Random(seed)
    return ["".join(rnd.choice(KEY_ALPHABET) for _ in range(25)) for _ in range(n)]


@st.composite
def spelled(draw: st.DrawFn, bare: str, limit: int = 200) -> str:
    """``bare`` in one of the spellings a person or a hostile file may use."""
    groups = [bare[i : i + 5] for i in range(0, 25, 5)]
    text = draw(st.sampled_from(SEPARATORS)).join(groups)
    case = draw(st.sampled_from(["upper", "lower", "mixed"]))
    if case == "lower":
        text = text.lower()
    elif case == "mixed":
        text = "".join(c.lower() if i % 2 else c for i, c in enumerate(text))
    style = draw(st.sampled_from(["plain", "fullwidth", "zero-width", "lookalike"]))
    if style == "fullwidth":
        text = fullwidth(text)
    elif style == "zero-width":
        at = draw(st.lists(st.integers(1, len(text) - 1), min_size=1, max_size=4))
        for i in sorted(at, reverse=True):
            text = text[:i] + draw(st.sampled_from("\u200b\u200d\u2060\ufeff\u00ad")) + text[i:]
    elif style == "lookalike" and case == "upper":
        text = text.translate(LOOKALIKE)
    return text if len(text) <= limit else "".join(groups)


def leaks(text: str, bare: str) -> bool:
    """Whether ``text`` shows the key ``bare`` whole, however it is spelled there."""
    folded = unicodedata.normalize("NFKC", text).translate(UNLOOK).upper()
    return bare in "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


# -- reading every file back ----------------------------------------------------------------------


def xlsx_cells(path: Path) -> list[tuple[str, Any]]:
    """Every text of a workbook: (where, cell) for cells, (where, text) for sheet names and
    page headers and footers."""
    wb = openpyxl.load_workbook(path)
    out: list[tuple[str, Any]] = []
    for ws in wb.worksheets:
        out.append((f"{path.name} sheet name", ws.title))
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.firstHeader):
            for side in (part.left, part.center, part.right):
                if side.text:
                    out.append((f"{path.name} {ws.title} page header", side.text))
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    out.append((f"{path.name} {ws.title}!{c.coordinate}", c))
    return out


def md_cells(text: str) -> list[str]:
    return [
        c.strip()
        for line in text.splitlines()
        if line.startswith("| ")  # a row of a table (not the |---| under its headings)
        for c in re.split(r"(?<!\\)\|", line)[1:-1]
    ]


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def assert_guarded(folder: Path, keys: list[str], stdout: dict[str, str]) -> None:
    """No file the tool wrote in ``folder`` (nor what it printed) shows a key of ``keys``
    whole, and no spreadsheet cell of them would be evaluated."""
    from pypdf import PdfReader

    texts: dict[str, str] = dict(stdout)
    inputs = {"inv.xlsx", "fix.csv", "in.walk.csv"}
    written = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and ".corrected." not in p.name and p.name not in inputs
    )
    assert {p.suffix for p in written} == {".xlsx", ".csv", ".json", ".md", ".pdf"}, written
    for p in written:
        if p.suffix == ".xlsx":
            for where, c in xlsx_cells(p):
                value = c if isinstance(c, str) else c.value
                texts[where] = value
                if not isinstance(c, str) and evaluated(c.value):
                    assert c.quotePrefix, (where, c.value)  # shown as text, never run
        elif p.suffix == ".csv":
            text = p.read_bytes().decode("utf-8-sig")
            texts[p.name] = text
            for line in csv.reader(io.StringIO(text, newline="")):
                for field in line:
                    assert not evaluated(field), (p.name, field)
        elif p.suffix == ".md":
            texts[p.name] = text = p.read_text(encoding="utf-8")
            for c in md_cells(text):
                assert not evaluated(c), (p.name, c)
        elif p.suffix == ".json":
            texts[p.name] = "\n".join(strings(json.loads(p.read_bytes())))
        elif p.suffix == ".pdf":
            reader = PdfReader(p)
            texts[p.name] = " ".join(page.extract_text() for page in reader.pages)
    if "check.csv" in stdout:
        for line in csv.reader(io.StringIO(stdout["check.csv"], newline="")):
            for field in line:
                assert not evaluated(field), ("check csv", field)
    for where, text in texts.items():
        for bare in keys:
            assert not leaks(text, bare), (where, bare, text[:300])


# -- one hostile inventory, every output ----------------------------------------------------------


def hostile_inventory(
    folder: Path, keys: list[str], spellings: list[str], cells: list[str], sheet: str
) -> tuple[Path, Path]:
    """An xlsx inventory whose one sheet is named ``sheet``: hostile cells in identifiers and
    notes, keys spelled every way in notes, host names and editions; and a corrections file
    that types keys (the product key column too) and hostile text."""
    headers = (*SAMPLE_HEADERS, "Asset Type")
    rows = []
    for i, v in enumerate(cells):
        rows.append(
            device(
                i + 1,
                Asset_Tag=f"{v}{i}",
                Serial_Number=f"{v}S{i}",
                Hostname=f"{v}H{i}",
                Notes=v,
                Model=v,
                COA_Present="No" if i % 2 else "Yes",
            )
        )
    n = len(rows)
    s = spellings
    rows.append(device(n + 1, Notes=f"key {s[0]} on the sticker", COA_Edition=s[1]))
    rows.append(device(n + 2, Hostname=s[2], Serial_Number=s[3], COA_Present="No"))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(headers))
    for r in rows:
        ws.append([r.get(h, "") for h in headers])
    src = folder / "inv.xlsx"
    wb.save(src)
    fix = folder / "fix.csv"
    edits = [
        (2, "Product Key", s[4]),  # the key column: masked by column and by shape
        (3, "Product Key", keys[5][:24]),  # a key typed one letter short: still the key
        (4, "Notes", f"read {s[6]} off the box"),
        (5, "Hostname", cells[0] + "edited"),
    ]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["row", "field", "value"])
    w.writerows(edits)
    fix.write_text(out.getvalue(), encoding="utf-8")
    # a walk that saw every device (found by its row), a label's words and a reason typed
    walk = io.StringIO()
    w = csv.writer(walk, lineterminator="\r\n")
    w.writerow(WALK_FILE_COLUMNS)
    for i in range(len(rows)):
        says, why = s[(i + 12) % len(s)], cells[i % len(cells)].lstrip("'")
        at = "2026-12-04T10:00:00+00:00"
        w.writerow(
            ["mark", i + 2, "", "", "", "label", "differs", says, "", "", why, "Ann", at, "typed"]
        )
    (folder / "in.walk.csv").write_text(walk.getvalue(), encoding="utf-8")
    return src, fix


def export_everything(src: Path, fix: Path, s: list[str], *more: str) -> dict[str, str]:
    res = run_cli(
        "export",
        src,
        "--corrections",
        fix,
        "--json",
        "--worklist",
        "eligible,review,blocked",
        "--checklist",
        "xlsx,md,pdf",
        "--customer",
        s[7],
        "--provider",
        s[8],
        "--signatory",
        s[9],
        "--order-ref",
        s[10],
        "--prepared-by",
        s[11],
        "--walk",
        src.with_name("in.walk.csv"),
        *more,
    )
    assert res.code == 0, res.stderr[-800:]
    printed = {"export stdout": res.stdout, "export stderr": res.stderr}
    for fmt in ("json", "text", "csv"):
        got = run_cli("check", src, "--format", fmt, "--fail-on", "never", *more)
        assert got.code == 0, got.stderr[-500:]
        printed[f"check.{fmt}"] = got.stdout
        printed[f"check.{fmt} stderr"] = got.stderr
    return printed


KEYS = 16


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # an export per example: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_written_cell_is_a_formula_or_shows_a_key(tmp_path_factory: Any, data: Any) -> None:
    """Hostile cells (formula triggers, their fullwidth and lookalike forms, after blanks,
    DDE calls) and keys in every spelling class (separators, case, fullwidth, zero-width
    characters, lookalike letters, none at all) in identifiers, notes, editions, edits of
    the key column, the sheet's name and every packet detail: every file the export writes
    and everything check prints shows each cell as text and no key whole."""
    folder = tmp_path_factory.mktemp("hostile")
    keys = keys_of(data.draw(st.integers(0, 2**32)), KEYS)
    spellings = [data.draw(spelled(k, limit=31 if i == 0 else 200)) for i, k in enumerate(keys)]
    cells = data.draw(st.lists(hostile(), min_size=8, max_size=8))
    sheet = re.sub(r"[\[\]:*?/\\]", "", spellings[0])[:31]  # what a sheet name may hold
    spellings[0] = sheet
    src, fix = hostile_inventory(folder, keys, spellings, cells, sheet)
    printed = export_everything(src, fix, spellings)
    # the key typed short in the key column shows no more than its last five letters
    assert_guarded(folder, [*keys, keys[5][:19]], printed)
    # the corrected inventory keeps the user's own values, keys and all
    corrected = openpyxl.load_workbook(folder / "inv.corrected.xlsx")
    values = {c for row in corrected.worksheets[0].values for c in row if isinstance(c, str)}
    assert spellings[4] in values and f"read {spellings[6]} off the box" in values


def test_show_keys_shows_them_and_still_neutralises(tmp_path: Path) -> None:
    """--show-keys: the keys the reports masked are there whole (the Changes sheet, the
    JSON, the check report); formulas are still neutralised."""
    keys = ["JB7TKVCXJ48C3MWYK3DF8R2QG", "BCDFGHJKMPQRTVWXY23467899"] + [
        "".join(KEY_ALPHABET[(i * 7 + j * 5) % 24] for j in range(25)) for i in range(14)
    ]
    spaced = [" - ".join(k[i : i + 5] for i in range(0, 25, 5)) for k in keys]
    spaced[0] = "JB7TK_VCXJ4_8C3MW_YK3DF_8R2QG"  # a sheet name of 29 characters
    src, fix = hostile_inventory(tmp_path, keys, spaced, ["=1+2", "\n@x"], spaced[0])
    printed = export_everything(src, fix, spaced, "--show-keys")
    changes = openpyxl.load_workbook(tmp_path / "inv.audit.xlsx")["Changes"]
    assert any(c == spaced[4] for row in changes.values for c in row)  # the key column's edit
    doc = json.loads((tmp_path / "inv.audit.json").read_bytes())
    assert leaks(json.dumps(doc["changes"]), keys[6])
    assert leaks(printed["check.text"], keys[0])  # the sheet's name
    assert leaks(printed["check.json"], keys[2]) and leaks(printed["check.csv"], keys[3])
    assert leaks((tmp_path / "inv.checklist.md").read_text(encoding="utf-8"), keys[7])
    assert_guarded_formulas(tmp_path)


def assert_guarded_formulas(folder: Path) -> None:
    for where, c in xlsx_cells(folder / "inv.audit.xlsx"):
        if not isinstance(c, str) and evaluated(c.value):
            assert c.quotePrefix, where
    for line in csv.reader(io.StringIO((folder / "inv.walk.csv").read_text(), newline="")):
        assert not any(evaluated(f) for f in line)


# -- the walk file: neutralised, and read back to the same devices -----------------------------


@settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate])
@given(cells=st.lists(hostile(), min_size=10, max_size=10))
def test_hostile_identifiers_survive_the_walk_files_round_trip(cells: list[str]) -> None:
    """Devices whose serial, asset tag and host name start like formulas (or with the
    apostrophe the writer uses): the walk file the export writes shows every identifier as
    text, each reads back exactly as the tool read it from the inventory, and ``--walk``
    puts every mark back on its own device."""
    import tempfile

    cells = [*cells, "'quoted", "''twice"]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        rows = [
            device(i + 1, Serial_Number=f"{v}S{i}", Asset_Tag=f"{v}T{i}", Hostname=f"{v}H{i}")
            for i, v in enumerate(cells)
        ]
        src = write_csv(folder / "inv.csv", rows)
        read = run_cli("check", src, "--format", "json", "--fail-on", "never").json()["devices"]
        # a walk that saw every device, found by its row (the identifiers are what is tested)
        walk_in = folder / "in.walk.csv"
        lines = ["kind,row,serial_number,asset_tag,hostname,mark,value,by"]
        lines += [f'mark,{d["row"]},,,,present,"present by Ann, 2026-12-04 10:00",' for d in read]
        walk_in.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        res = run_cli("export", src, "--walk", walk_in, "--checklist", "")
        assert res.code == 0, res.stderr[-500:]
        written = (folder / "inv.walk.csv").read_bytes().decode("utf-8-sig")
        table = list(csv.DictReader(io.StringIO(written, newline="")))
        assert len(table) == len(read)

        def unquoted(v: str) -> str:  # the walk file's rule: one apostrophe before such a value
            return v[1:] if v.startswith("'") else v

        by_row = {d["row"]: d for d in read}
        for line in table:
            dev = by_row[int(line["row"])]
            for col in ("serial_number", "asset_tag", "hostname"):
                assert not evaluated(line[col]), line[col]
                assert unquoted(line[col]) == dev[col], (col, line[col], dev[col])
        # read back: every mark on its device, none left over
        back = run_cli("check", src, "--walk", folder / "inv.walk.csv", "--format", "json")
        assert "names no device" not in back.stderr and "devices;" not in back.stderr, back.stderr
        devices = back.json()["devices"]
        assert all(d["walk"]["sighted"][0]["by"] == "Ann" for d in devices), [
            d["walk"] for d in devices
        ]


# -- the layer's two rules, on many more spellings than an export can take -------------------


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32), before=BODY, after=BODY)
def test_every_spelling_of_a_key_is_masked_wherever_it_sits(
    data: Any, seed: int, before: str, after: str
) -> None:
    from coa_audit.exporters.safety import keys_shown, mask_keys, shown, shown_value

    bare = keys_of(seed, 1)[0]
    text = f"{before} {data.draw(spelled(bare))} {after}"
    assert not leaks(mask_keys(text), bare), text
    assert not leaks(shown_value("coa_key", text), bare)
    assert not leaks(shown_value("coa_key", bare[:21]), bare[:21])  # short of a key, still one
    with keys_shown(True):
        assert shown(text) == text and shown_value("coa_key", text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Windows 11 Pro",
        "Re-read the key from the label",
        "5CG1000001",
        "AT-00001 / PC-00001",
        "a" * 30,
        "0123456789ABCDEF" * 4,
        "Hello, world: these words match nothing",
    ],
)
def test_text_that_is_no_key_is_left_alone(text: str) -> None:
    from coa_audit.exporters.safety import mask_keys

    assert mask_keys(text) == text


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(hostile(), st.text(max_size=12)))
def test_a_neutralised_cell_is_never_evaluated_and_reads_back_exactly(text: str) -> None:
    from coa_audit.exporters.safety import cell, xlsx_text

    written = cell(text)
    assert not evaluated(written)
    assert (written[1:] if written.startswith("'") else written) == text
    assert xlsx_text(text)[1] or not evaluated(text)


# -- no writer around the layer ---------------------------------------------------------------

EXPORTERS = REPO / "exporters"
# the only modules that may hold a CSV writer or a worksheet: the layer itself, and the two
# that write the user's own data (the corrected inventory, a generated sample inventory)
LAYER = {"safety.py", "xlsx_cells.py"}
USER_DATA = {"corrected.py", "sample_writer.py"}
# what moves bytes other modules made (through the layer) into files
PLUMBING = {"atomic.py", "export.py"}
CELL_WRITES = {
    "writer",
    "DictWriter",
    "writerow",
    "writerows",
    "write_string",
    "write_number",
    "write_row",
    "write_column",
    "write_formula",
    "write_url",
    "write_rich_string",
    "write_boolean",
    "write_blank",
    "write_datetime",
    "write_array_formula",
    "add_worksheet",
    "set_header",
    "set_footer",
    "create_sheet",
}
SPREADSHEET_MODULES = {"csv", "xlsxwriter", "openpyxl", "pyexcelerate", "rustpy_xlsxwriter"}


def bypasses(source: str) -> list[str]:
    """What in ``source`` writes a CSV row or a worksheet cell other than through the
    layer: an import of a spreadsheet or CSV library, a call of one of their writers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in SPREADSHEET_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in SPREADSHEET_MODULES:
                found.append(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in CELL_WRITES:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_no_exporter_writes_a_cell_around_the_layer() -> None:
    """Only ``exporters.safety`` (CSV) and ``exporters.xlsx_cells`` (workbooks) write cells;
    a writer that holds its own csv.writer or worksheet fails here."""
    modules = sorted(EXPORTERS.rglob("*.py"))
    assert len(modules) > 10
    for path in modules:
        if path.name in LAYER | USER_DATA:
            continue
        assert bypasses(path.read_text(encoding="utf-8")) == [], path
    # every other exporter that writes a file makes its text through the layer
    for path in modules:
        source = path.read_text(encoding="utf-8")
        if path.name in LAYER | USER_DATA | PLUMBING:
            continue
        if re.search(r"\batomic_writer\(|write_bytes", source):
            assert re.search(r"exporters\.(safety|xlsx_cells) import", source), path


@pytest.mark.parametrize(
    "source",
    [
        "import csv\ncsv.writer(out).writerow(row)\n",
        "from csv import writer\n",
        "def f(ws):\n    ws.write_string(0, 0, text)\n",
        "import xlsxwriter\n",
        "def f(book):\n    book._wb.add_worksheet('x').write(0, 0, '=1')\n",
    ],
)
def test_a_writer_around_the_layer_is_caught(source: str) -> None:
    assert bypasses(source)
