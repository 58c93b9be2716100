"""The readers under generated packages and text files, through the installed command: every
run ends with a documented exit code (0, 1, 2, 3) within a time bound, never a traceback.
``COA_FUZZ_RUNS`` sets the examples per target (one in the default run; ``make fuzz``: 100)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_bounded
from tests.hostile_craft import ODS_NS, add_parts, numeric_sheet, ods, ods_devices
from tests.xlsx_craft import PKG_REL, REL, package

SECONDS = 30.0  # one run, whatever the file
RUNS = settings(
    max_examples=int(os.environ.get("COA_FUZZ_RUNS", "1")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _documented(path: Path) -> None:
    start = time.perf_counter()
    res = run_bounded("check", path, "--format", "json", gib=2, timeout=SECONDS + 30)
    assert time.perf_counter() - start < SECONDS
    assert res.code in (0, 1, 2, 3), (res.code, res.stderr[-400:])
    assert "Traceback" not in res.stderr
    if res.code in (2, 3):
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr[-400:]


_count = st.one_of(st.integers(0, 20), st.integers(0, 10**13).map(str), st.just("x"))
_ref = st.tuples(st.sampled_from(["A", "F", "XFD", "XFE", "ZZZZ"]), _count).map(
    lambda t: f"{t[0]}{t[1]}"
)
_noise = st.sampled_from(["<c ", '<c r="B', "<row ", "<x:c\t", "<f>", 't="s" ', "<!--", "]]>"])
_wrapper = st.sampled_from(
    [
        "<!-- {} -->",
        "<?pi {} ?>",
        "<row r='9'><c r='H9' t='inlineStr'><is><t><![CDATA[{}]]></t></is></c></row>",
    ]
)


@RUNS
@given(
    noise=st.lists(_noise, max_size=6),
    times=st.integers(0, 30_000),
    wrapper=_wrapper,
    dimension=st.tuples(_ref, _ref),
    tables=st.lists(
        st.fixed_dictionaries(
            {"ref": st.tuples(_ref, _ref).map(":".join), "totalsRowCount": _count.map(str)},
            optional={"headerRowCount": _count.map(str)},
        ),
        max_size=3,
    ),
)
def test_generated_xlsx_packages(
    tmp_path: Path,
    noise: list[str],
    times: int,
    wrapper: str,
    dimension: tuple[str, str],
    tables: list[dict[str, str]],
) -> None:
    inner = "".join(noise).replace("--", "- -").replace("]]>", "] ]>").replace("?>", "? >")
    text = wrapper.format(inner * times)
    sheet = numeric_sheet(text.encode()).replace(
        b"<sheetData>", f'<dimension ref="{dimension[0]}:{dimension[1]}"/><sheetData>'.encode(), 1
    )
    path = package(tmp_path / "f.xlsx", sheet)
    if tables:
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/table" Target="../tables/t{i}.xml"/>'
            for i in range(len(tables))
        )
        parts = {
            "xl/worksheets/_rels/sheet1.xml.rels": (
                f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>'
            ).encode()
        }
        for i, t in enumerate(tables):
            attrs = " ".join(f'{k}="{v}"' for k, v in t.items())
            parts[f"xl/tables/t{i}.xml"] = (
                '<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'id="{i + 1}" name="T{i}" {attrs}/>'
            ).encode()
        add_parts(path, parts)
    _documented(path)


_repeat = st.one_of(st.integers(1, 5), st.integers(1, 20_000), st.just(10**9))
_ods_cell = st.builds(
    lambda kind, cols, text: (
        "<table:table-cell"
        + {
            "empty": "",
            "float": ' office:value-type="float" office:value="1"',
            "string": f' office:value-type="string" office:string-value="{"x" * text}"',
            "formula": f' table:formula="of:=1+{"1" * text}"',
        }[kind]
        + (f' table:number-columns-repeated="{cols}"' if cols > 1 else "")
        + "/>"
    ),
    st.sampled_from(["empty", "float", "string", "formula"]),
    _repeat,
    st.integers(0, 3_000),
)
_ods_row = st.builds(
    lambda rows, cells, closed, prefix: (
        f"<{prefix}table-row"
        + (f' table:number-rows-repeated="{rows}"' if rows > 1 else "")
        + ">"
        + "".join(cells)
        + (f"</{prefix}table-row>" if closed else "")
    ),
    _repeat,
    st.lists(_ods_cell, max_size=4),
    st.booleans(),
    st.sampled_from(["table:", "table:", "t:"]),
)


@RUNS
@given(rows=st.lists(_ods_row, max_size=6), times=st.integers(1, 2_000))
def test_generated_ods_content(tmp_path: Path, rows: list[str], times: int) -> None:
    ns_t = ' xmlns:t="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    body = ods_devices() + "".join(rows) * times
    _documented(ods(tmp_path / "f.ods", body, ns=ODS_NS + ns_t))


@RUNS
@given(
    data=st.binary(max_size=2_000),
    delimiter=st.sampled_from([b",", b";", b"\t", b"|", b'"', b"\x00"]),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32", "cp1252", "latin-1"]),
    sep=st.booleans(),
)
def test_generated_text_files(
    tmp_path: Path, data: bytes, delimiter: bytes, encoding: str, sep: bool
) -> None:
    head = "Asset Tag,Serial Number,COA Edition\r\n".replace(",", delimiter.decode("latin-1"))
    text = (("sep=" + delimiter.decode("latin-1") + "\r\n") if sep else "") + head
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding, errors="replace") + data)
    _documented(path)
