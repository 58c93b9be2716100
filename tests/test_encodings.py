"""A text register in any legacy code page reads right, says what it was read as and how to
overrule it, and --encoding / --delimiter overrule the guess through the command (issue 32)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, device, run_cli, write_csv
from tests.encoding_holdout import HOLDOUT
from tests.encoding_holdout import encode as holdout_encode
from tests.encoding_holdout import register as holdout_register
from tests.encoding_samples import LANGUAGES, Language, encode, register

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("lang", LANGUAGES, ids=[f"{x.code}-{x.encoding}" for x in LANGUAGES])
def test_a_three_device_register_in_each_code_page_reads_right(
    tmp_path: Path, lang: Language
) -> None:
    text = register(lang, 3)
    path = tmp_path / f"{lang.code}.csv"
    path.write_bytes(encode(text, lang.encoding))
    res = run_cli("columns", path)
    assert res.code == 0, res.stderr
    shown = _nfc(res.stdout)
    for header in lang.headers:  # the register's own column names, read right
        assert _nfc(header) in shown, (header, res.stdout)
    assert f"encoding {lang.encoding}" in res.stdout
    notes = [line for line in res.stdout.splitlines() if line.startswith("note: read as")]
    assert len(notes) == 1 and f", {lang.encoding} (detected" in notes[0], res.stdout
    assert "--encoding" in notes[0]
    doc = run_cli("check", path, "--format", "json", "--fail-on", "never").json()
    assert doc["summary"]["devices"] == 3
    assert any(lang.encoding in n and "overrule" in n for n in doc["source"]["notices"])


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("register-de.csv", "cp1252"),
        ("register-es.csv", "cp1252"),
        ("register-mac.csv", "mac_roman"),
    ],
)
def test_western_and_mac_registers_keep_their_code_page(name: str, codec: str) -> None:
    res = run_cli("columns", EXPORTS / name)
    assert res.code == 0 and f"encoding {codec}" in res.stdout, res.stdout + res.stderr


def test_utf8_register_has_no_encoding_note(tmp_path: Path) -> None:
    lang = next(x for x in LANGUAGES if x.code == "ru")
    path = tmp_path / "ru.csv"
    path.write_text(register(lang, 3), encoding="utf-8")
    res = run_cli("columns", path)
    assert res.code == 0 and "encoding utf-8" in res.stdout and "read as" not in res.stdout


def _hungarian_cp1250(tmp_path: Path) -> Path:
    """Hungarian whose only letter beyond ASCII is ő: the same bytes are õ in Windows-1252,
    and Gyõr, Szõke, Kõszeg, Felelõs spell as Estonian would."""
    text = (
        "Serial Number,COA Edition,Telephely,Felelős\r\n"
        "SN1,Windows 10 Pro,Győr,Szőke Eva\r\n"
        "SN2,Windows 10 Pro,Kőszeg,Toth Gabor\r\n"
    )
    path = tmp_path / "hu.csv"
    path.write_bytes(text.encode("cp1250"))
    return path


def test_encoding_option_fixes_a_wrong_guess(tmp_path: Path) -> None:
    path = _hungarian_cp1250(tmp_path)
    guessed = run_cli("columns", path)
    assert guessed.code == 0 and "encoding cp1252" in guessed.stdout  # Gyõr: a fair guess
    for spelling in ("cp1250", "windows-1250", "CP1250"):
        res = run_cli(
            "check", path, "--encoding", spelling, "--format", "csv", "--fail-on", "never"
        )
        assert res.code == 0, res.stderr
        doc = run_cli("check", path, "--encoding", spelling, "--format", "json").json()
        assert any("Windows-1250" in n and "(--encoding)" in n for n in doc["source"]["notices"])
    res = run_cli("columns", path, "--encoding", "cp1250", "--map", "Győr=location")
    # a --map that names a value is refused; the header named in its own letters is found
    assert res.code == 2 and "Felelős" in res.stderr, res.stderr
    export = run_cli(
        "export", path, "--encoding", "cp1250", "--checklist", "", "--out-dir", tmp_path / "out"
    )
    assert export.code in (0, 1), export.stderr
    corrected = tmp_path / "out" / "hu.corrected.csv"
    assert corrected.read_bytes() == path.read_bytes()  # written back in its own code page


@pytest.mark.parametrize("name", ["nope", "base64", "", "utf-99"])
def test_an_unknown_encoding_is_a_usage_error(tmp_path: Path, name: str) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    for command in ("check", "columns", "export"):
        res = run_cli(command, src, "--encoding", name)
        line = _one_line(res.stderr)
        assert res.code == 2 and "--encoding" in line and "utf-8" in line, (command, line)


@pytest.mark.parametrize("bad", ['"', "'", "\r", "\n", "\x00", "a", "7", ";;", "tabs"])
def test_a_delimiter_that_cannot_split_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1)])
    res = run_cli("check", src, "--delimiter", bad)
    line = _one_line(res.stderr)
    assert res.code == 2 and "--delimiter" in line and "tab" in line, line


@pytest.mark.parametrize(
    ("given", "char"),
    [("\t", "\t"), ("\\t", "\t"), ("tab", "\t"), ("TAB", "\t"), ("semicolon", ";"),
     (";", ";"), ("pipe", "|"), ("comma", ","), ("|", "|")],
)  # fmt: skip
def test_the_delimiter_named_is_the_one_used(tmp_path: Path, given: str, char: str) -> None:
    rows = [device(1), device(2, Notes="a, b; c | d")]
    src = write_csv(tmp_path / "inv.csv", rows, delimiter=char)
    res = run_cli("columns", src, "--delimiter", given)
    assert res.code == 0 and f"delimiter {char!r}" in res.stdout, res.stdout + res.stderr
    assert "devices: 2" in res.stdout


def test_a_wrong_delimiter_named_is_said_with_the_failure(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "inv.csv", [device(1), device(2)], delimiter=";")
    ok = run_cli("columns", src)
    assert ok.code == 0 and "delimiter ';'" in ok.stdout
    res = run_cli("check", src, "--delimiter", "pipe")
    assert res.code == 3, res.stderr
    _one_line(res.stderr)


@pytest.mark.parametrize("option", [("--encoding", "cp1250"), ("--delimiter", ";")])
def test_a_workbook_refuses_text_options(option: tuple[str, str]) -> None:
    for command in ("check", "columns"):
        res = run_cli(command, SAMPLES / "oem-fleet.xlsx", *option)
        line = _one_line(res.stderr)
        assert res.code == 2 and option[0] in line and "workbook" in line, line


def test_the_encoding_note_is_in_the_refusal_when_loading_fails(tmp_path: Path) -> None:
    lang = next(x for x in LANGUAGES if x.code == "ru")
    lines = [",".join(lang.headers)] + [
        ",".join((lang.sites[i], lang.users[i], lang.departments[i], lang.notes[i]))
        for i in range(3)
    ]  # no column coa-audit knows, nothing it can map
    path = tmp_path / "ru.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1251"))
    res = run_cli("check", path)
    line = _one_line(res.stderr)
    assert res.code in (2, 3), line
    assert "Windows-1251" in line and "cp1251" in line and "--encoding" in line, line
    res = run_cli("check", path, "--encoding", "koi8-r")
    line = _one_line(res.stderr)
    assert "KOI8-R" in line and "(--encoding)" in line, line


def test_a_bad_byte_past_the_examined_head_is_one_line(tmp_path: Path) -> None:
    rows = [device(n) for n in range(1, 3000)]  # over 256 KB of UTF-8
    src = write_csv(tmp_path / "inv.csv", rows)
    assert src.stat().st_size > 256 * 1024
    src.write_bytes(src.read_bytes() + b"5CG9999999,M\xfcnchen\r\n")  # cp1252 at the end
    res = run_cli("check", src)
    line = _one_line(res.stderr)
    assert res.code == 3 and "UTF-8" in line and "--encoding" in line, line
    fixed = run_cli("check", src, "--encoding", "cp1252", "--format", "json", "--fail-on", "never")
    assert fixed.code == 0, fixed.stderr


@pytest.mark.parametrize("name", ["logo.csv", "logo.png", "logo"])
def test_a_file_no_format_recognises_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name  # a PNG: binary, no workbook's magic, whatever its name says
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    res = run_cli("check", path)
    line = _one_line(res.stderr)
    assert res.code == 3 and "not an inventory coa-audit reads" in line, line


@pytest.mark.parametrize(
    ("code", "codec"),
    [("ja", "cp932"), ("ru", "cp1251"), ("pl", "cp1250"), ("pl-one", "cp1250"),
     ("de-one", "cp1252")],
)  # fmt: skip
def test_held_out_registers_read_back_exactly(tmp_path: Path, code: str, codec: str) -> None:
    """Registers the guesser was not tuned on (tests/encoding_holdout.py): a Japanese one
    Excel saved in Shift_JIS, a Russian one in Windows-1251, a Polish one in Windows-1250,
    a mostly-ASCII one whose only Polish word is "Łódź", a German one whose only word
    beyond ASCII is "München"."""
    h = next(x for x in HOLDOUT if x.code == code)
    text = holdout_register(h, 3)
    assert all(w in text for w in h.special)
    data = holdout_encode(text, h.encoding)
    path = tmp_path / f"{code}.csv"
    path.write_bytes(data)
    res = run_cli("columns", path)
    assert res.code == 0, res.stderr
    notes = [line for line in res.stdout.splitlines() if line.startswith("note: read as")]
    assert len(notes) == 1 and f", {codec} (detected" in notes[0], res.stdout
    assert f"encoding {codec}" in res.stdout
    header = text.splitlines()[0].split(";")
    for name in header:  # the register's column names, in its own letters
        assert name in res.stdout, (name, res.stdout)
    doc = run_cli("check", path, "--format", "json", "--fail-on", "never").json()
    assert [d["serial_number"] for d in doc["devices"]] == [
        line.split(";")[0] for line in text.splitlines()[1:]
    ]
    out = tmp_path / "out"
    export = run_cli("export", path, "--checklist", "", "--out-dir", out)
    assert export.code in (0, 1), export.stderr
    written = (out / f"{code}.corrected.csv").read_bytes()
    assert written == data  # written back in the code page it was read in
    assert written.decode(codec) == text  # every value, "Łódź" and "München" too
