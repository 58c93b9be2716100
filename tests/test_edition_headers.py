"""The licence's edition column in every language the tool reads (issue 32): a register's
"Edition" column, however its language says it, is the label's edition, so a blank or a Home
edition there is read instead of every row saying the edition is missing; and what
`coa-audit columns` shows of a wide script lines up and quotes it as written."""

from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import run_cli

# (header of the label's edition column, a Home edition as that language writes it)
EDITION_HEADERS = {
    "sv": "Utgåva på etiketten",
    "sv-short": "Utgåva",
    "da": "Udgave",
    "nb": "Utgave på etiketten",
    "cs": "Edice",
    "cs-label": "Edice na štítku",
    "sk": "Edícia",
    "hu": "Kiadás a címkén",
    "ro": "Ediție",
    "ru": "Редакция",
    "uk": "Редакція на наліпці",
    "el": "Έκδοση",
    "ja": "エディション",
    "ja-label": "ラベルのエディション",
    "ko": "에디션",
    "pl": "Edycja",
    "nl": "Editie",
    "it": "Edizione",
    "pt": "Edição",
}


def _spellings(header: str) -> list[str]:
    """The header as registers write it: as is, upper case, accents dropped (in alphabets:
    a kana's voicing mark is part of its letter), padded."""
    out = {header, header.upper(), f"  {header} "}
    if not any("\u3040" <= c <= "\u30ff" for c in header):
        out.add(
            "".join(c for c in unicodedata.normalize("NFD", header) if not unicodedata.combining(c))
        )
    return sorted(out)


def _register(path: Path, edition_header: str) -> Path:
    rows = [
        ["Serial Number", "Hostname", "COA Present", edition_header],
        ["5CG1000001", "PC-1", "Yes", "Windows 11 Pro"],
        ["5CG1000002", "PC-2", "Yes", "Windows 11 Home"],
        ["5CG1000003", "PC-3", "Yes", "Windows 10 Pro"],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize(
    "header",
    [s for h in EDITION_HEADERS.values() for s in _spellings(h)],
)
def test_the_edition_column_is_the_labels_edition(tmp_path: Path, header: str) -> None:
    res = run_cli(
        "check", _register(tmp_path / "r.csv", header), "--format", "json", "--fail-on", "never"
    )
    assert res.code == 0, res.stdout
    report = json.loads(res.stdout)
    assert report["mapping"].get("coa_edition") == header.strip(), report["mapping"]
    status = {d["row"]: d["status"] for d in report["devices"]}
    # Pro qualifies for the upgrade; Home never does, whatever language the header is in
    assert status == {2: "eligible", 3: "blocked", 4: "eligible"}, status


@pytest.mark.parametrize("header", ["Edice OS", "Редакция ОС", "Windows edition", "OS Edition"])
def test_an_os_edition_is_never_the_labels(tmp_path: Path, header: str) -> None:
    res = run_cli(
        "check", _register(tmp_path / "r.csv", header), "--format", "json", "--fail-on", "never"
    )
    report = json.loads(res.stdout)
    assert report["mapping"].get("coa_edition") != header
    # with no edition on the evidence, nothing is eligible
    assert all(d["status"] != "eligible" for d in report["devices"])


def test_columns_lines_up_wide_headers_and_quotes_them_as_written(tmp_path: Path) -> None:
    path = tmp_path / "ja.csv"
    rows = [
        ["資産番号", "シリアル番号", "コンピューター名", "COAラベル", "エディション"],
        ["A-1", "5CG2000001", "JP-PC-01", "あり", "Windows 11 Pro"],
        ["A-2", "5CG2000002", "JP-PC-02", "なし", ""],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    res = run_cli("columns", path)
    assert res.code == 0, res.stdout
    lines = res.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("column"))
    table = lines[start : start + 1 + len(rows[0])]
    # the field column starts at the same terminal cell on every line
    fields = ("field", "asset_tag", "serial_number", "hostname", "coa_present", "coa_edition")
    starts = set()
    for line in table:
        at = min(i for i in (line.find(f" {f}") for f in fields) if i >= 0) + 1
        starts.add(cell_len(line[:at]))
    assert len(starts) == 1, table
    assert "the words 'シリアル番号'" in res.stdout
    assert "the words 'エディション'" in res.stdout
    assert "シ リ" not in res.stdout


async def test_the_grid_lines_up_wide_letters(tmp_path: Path) -> None:
    """Japanese, Chinese and Korean letters take two terminal cells: a column of them keeps
    the columns after it in place at 80x24 (and a long one is cut by cells, with its …)."""
    from coa_audit.tui.app import CoaAuditApp
    from tests.conftest import settle

    path = tmp_path / "wide.csv"
    rows = [
        ["Serial Number", "Hostname", "COA Present", "COA Edition", "Location"],
        ["5CG2000001", "JP-PC-01", "あり", "Windows 11 Pro", "東京都港区芝浦三丁目一番地の倉庫"],
        ["5CG2000002", "JP-PC-02", "Yes", "Windows 11 Pro", "Osaka"],
        ["5CG2000003", "KR-PC-03", "있음", "Windows 11 Pro", "서울"],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    app = CoaAuditApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.screen.grid
        lines = [grid.render_line(y).text for y in range(1, 4)]
        starts = {cell_len(line[: line.index("Windows 11 Pro")]) for line in lines}
        assert len(starts) == 1, lines
        # every line is exactly the grid's width in cells
        assert {cell_len(line) for line in lines} == {grid.size.width}, lines


# one header naming two fields, joined as registers join them: never guessed either way
_ONE_FIELD = {
    "serial_number": ["Serial Number", "Seriennummer", "Numéro de série", "シリアル番号", "序列号"],
    "hostname": ["Hostname", "Computer name", "Rechnername", "コンピューター名", "计算机名"],
    "asset_tag": ["Asset Tag", "Inventarnummer", "資産番号"],
    "location": ["Location", "Standort", "場所"],
}
_JOINS = ["/", " / ", "|", "・", "／", " \\ "]


def _two_field_headers() -> list[str]:
    fields = sorted(_ONE_FIELD)
    out = []
    for i, a in enumerate(fields):
        for b in fields[i + 1 :]:
            for k, (x, y) in enumerate(zip(_ONE_FIELD[a], _ONE_FIELD[b], strict=False)):
                out.append(f"{x}{_JOINS[k % len(_JOINS)]}{y}")
                out.append(f"{y}{_JOINS[(k + 1) % len(_JOINS)]}{x}")
    return out


@pytest.mark.parametrize("header", _two_field_headers())
def test_a_header_naming_two_fields_is_not_guessed(tmp_path: Path, header: str) -> None:
    path = tmp_path / "two.csv"
    rows = [
        ["Device ID", "COA Present", "COA Edition", header],
        ["D-1", "Yes", "Windows 11 Pro", "5CG1000001"],
        ["D-2", "Yes", "Windows 11 Pro", "5CG1000002"],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stdout + res.stderr
    report = res.json()
    assert header.strip() not in report["mapping"].values(), report["mapping"]


def test_a_coa_column_with_no_edition_column_says_so_once_and_on_every_row(
    tmp_path: Path,
) -> None:
    """A register with a COA column but no column the tool reads as the edition on the label:
    one loud notice (never offering the OS column: the installed OS is no evidence), and each
    device says no column is mapped, not that its cell is blank."""
    head = ["Serial Number", "Hostname", "COA Present", "Stýrikerfi"]
    rows = [["5CG1000001", "PC-1", "Yes", "Windows 11 Pro"], ["5CG1000002", "PC-2", "Yes", "W11"]]
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([head, *rows])
    report = run_cli("check", path, "--format", "json", "--fail-on", "never").json()
    notices = [n for n in report["source"]["notices"] if n.startswith("NO COA EDITION COLUMN")]
    assert len(notices) == 1, report["source"]["notices"]
    assert "Stýrikerfi" not in notices[0]
    for d in report["devices"]:
        assert d["status"] == "review"
        (message,) = [f["message"] for f in d["findings"] if f["code"] == "EDITION_UNKNOWN"]
        assert message.startswith("No column of the file is mapped to the edition"), message
    # mapped, the notice goes and the edition is read
    again = run_cli(
        "check", path, "--format", "json", "--fail-on", "never", "--map", "Stýrikerfi=coa_edition"
    ).json()
    assert not [n for n in again["source"]["notices"] if n.startswith("NO COA EDITION")]
    assert again["devices"][0]["status"] == "eligible"


def test_oa3_descriptions_under_an_unknown_header_are_the_firmware_edition(
    tmp_path: Path,
) -> None:
    """Values that can be nothing else ("[4.0] Professional OEM:DM") take the firmware key
    description whatever their header's language: no notice, the edition read."""
    head = ["Serial Number", "Hostname", "COA Present", "Lýsing fastbúnaðarlykils"]
    rows = [
        ["5CG1000001", "PC-1", "Yes", "[4.0] Professional OEM:DM"],
        ["5CG1000002", "PC-2", "Yes", "[4.0] Core OEM:DM"],
    ]
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([head, *rows])
    report = run_cli("check", path, "--format", "json", "--fail-on", "never").json()
    assert report["mapping"].get("oa3_edition") == head[3]
    assert not [n for n in report["source"]["notices"] if n.startswith("NO COA EDITION")]
    assert [d["status"] for d in report["devices"]] == ["eligible", "blocked"]
