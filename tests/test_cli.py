"""The headless command: report shapes and exit codes, through the real command."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, device, run_cli, write_csv

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".xlsx", ".csv"))


def _assert_report_shape(doc: dict) -> None:
    assert doc["schema"] == "coa-audit.report/1"
    assert set(doc["tool"]) >= {"name", "version"} and doc["tool"]["name"] == "coa-audit"
    assert set(doc["source"]) >= {"path", "sha256", "sheet", "header_row"}
    assert len(doc["source"]["sha256"]) == 64
    assert set(doc["policy"]) >= {"target", "agreement"}
    assert isinstance(doc["mapping"], dict)
    s = doc["summary"]
    assert set(s) >= {"devices", "eligible", "review", "blocked", "out_of_scope", "findings"}
    assert (
        s["devices"]
        == len(doc["devices"])
        == s["eligible"] + s["review"] + s["blocked"] + s["out_of_scope"]
    )
    rows = [d["row"] for d in doc["devices"]]
    assert rows == sorted(rows)
    total = 0
    for d in doc["devices"]:
        assert set(d) >= {"row", "asset_tag", "serial_number", "status", "edition", "findings"}
        assert set(d["edition"]) >= {"text", "family", "version", "edition", "verdict"}
        assert d["status"] in ("eligible", "review", "blocked", "out-of-scope")
        for f in d["findings"]:
            assert set(f) >= {"code", "severity", "field", "column", "message", "related_rows"}
            total += 1
        assert (d["status"] == "eligible") == (not d["findings"])
    assert total == sum(s["findings"].values())


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_json_report_of_each_sample(sample: Path) -> None:
    res = run_cli("check", sample, "--format", "json")
    assert res.code == 1  # every sample has blocked devices
    doc = json.loads(res.stdout)
    _assert_report_shape(doc)
    assert doc["summary"]["blocked"] > 0 and doc["summary"]["eligible"] > 0


def test_oem_sample_header_below_banner_and_sheet_choice() -> None:
    doc = run_cli("check", SAMPLES / "oem-fleet.xlsx", "--format", "json").json()
    assert doc["source"]["sheet"] == "Fleet"
    assert doc["source"]["header_row"] == 4
    assert doc["devices"][0]["row"] == 5
    assert doc["mapping"]["coa_edition"] == "COA Edition"


def test_cp1252_semicolon_csv_is_read_and_said() -> None:
    res = run_cli("check", SAMPLES / "reseller-export.csv", "--format", "json")
    doc = res.json()
    assert any("cp1252" in n for n in doc["source"]["notices"])
    assert doc["mapping"]["serial_number"] == "S/N"
    res = run_cli("columns", SAMPLES / "reseller-export.csv")
    assert "delimiter ';'" in res.stdout and "Windows-1252" in res.stdout


def test_exit_codes(tmp_path: Path) -> None:
    clean = write_csv(tmp_path / "clean.csv", [device(1), device(2)])
    review = write_csv(tmp_path / "review.csv", [device(1, COA_Edition="Windows 10 Enterprise")])
    blocked = write_csv(tmp_path / "blocked.csv", [device(1, COA_Present="No")])
    assert run_cli("check", clean).code == 0
    assert run_cli("check", review).code == 0
    assert run_cli("check", review, "--fail-on", "warning").code == 1
    assert run_cli("check", blocked).code == 1
    assert run_cli("check", blocked, "--fail-on", "never").code == 0
    # usage: bad option value, unknown target, bad --map, bad policy file
    assert run_cli("check", clean, "--format", "xml").code == 2
    res = run_cli("check", clean, "--target", "windows-home")
    assert res.code == 2 and "unknown target" in res.stderr
    res = run_cli("check", clean, "--map", "Nope=serial_number")
    assert res.code == 2 and "Nope" in res.stderr
    bad_policy = tmp_path / "p.toml"
    bad_policy.write_text("this is [not toml")
    assert run_cli("check", clean, "--policy", bad_policy).code == 2
    # input
    res = run_cli("check", tmp_path / "missing.xlsx")
    assert res.code == 3 and res.stderr.count("\n") == 1
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert run_cli("check", empty).code == 3
    # output
    res = run_cli("check", clean, "--output", tmp_path / "no-such-dir" / "r.json")
    assert res.code == 4 and "cannot write" in res.stderr


def test_exit_codes_through_a_real_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "coa-audit"
    blocked = write_csv(tmp_path / "b.csv", [device(1, COA_Present="No")])
    p = subprocess.run(
        [exe, "check", blocked, "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 1 and json.loads(p.stdout)["summary"]["blocked"] == 1
    assert p.stderr == ""  # progress only on a terminal
    p = subprocess.run(
        [exe, "check", tmp_path / "nope.csv"], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 3 and "Traceback" not in p.stderr and p.stdout == ""
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert "Exit codes" in p.stdout


def test_csv_and_text_formats(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "i.csv", [device(1), device(2, COA_Present="No", Asset_Tag="=HYPERLINK(1)")]
    )
    res = run_cli("check", path, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["code"] for r in rows] == ["COA_MISSING", "EVIDENCE_CONFLICT"]  # errors first
    assert all(r["row"] == "3" and r["status"] == "blocked" for r in rows)
    assert rows[0]["asset_tag"] == "'=HYPERLINK(1)"  # neutralised
    text = run_cli("check", path).stdout
    assert "devices 2   eligible 1   review 0   blocked 1" in text
    assert "row 3" in text and "COA_MISSING" in text
    assert max(len(line) for line in text.splitlines()) <= 80 + len(str(path))


def test_output_file_is_written(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [device(1)])
    out = tmp_path / "r.json"
    res = run_cli("check", path, "--format", "json", "--output", out)
    assert res.code == 0 and res.stdout == ""
    assert json.loads(out.read_text())["summary"]["devices"] == 1


def test_map_override_and_columns(tmp_path: Path) -> None:
    headers = ["Tag", "Kiste", "Lic"]  # "Kiste" (a box) and "Lic" name no field
    path = tmp_path / "odd.csv"
    path.write_text("Tag,Kiste,Lic\nT1,S1,Windows 10 Pro\nT2,S2,Windows 10 Home\n")
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    # one alias only, but a row of names above rows of values: the header, found by its
    # layout (issue 32), and what it leaves unmapped is said
    assert res.code == 0, res.stderr
    notices = res.json()["source"]["notices"]
    assert any("FOUND BY ITS LAYOUT" in n and "'Kiste' (column B)" in n for n in notices)
    res = run_cli(
        "check",
        path,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--map",
        "Kiste=serial_number",
        "--map",
        "Lic=coa_edition",
    )
    doc = res.json()
    assert doc["mapping"] == {
        "asset_tag": "Tag",
        "serial_number": "Kiste",
        "coa_edition": "Lic",
    }
    assert [d["status"] for d in doc["devices"]] == ["eligible", "blocked"]
    res = run_cli("columns", path, "--map", "Kiste=serial_number")
    assert "Kiste" in res.stdout and "serial_number" in res.stdout
    res = run_cli("columns", path, "--map", "Lic=coa_edition")
    assert "(unmapped" in res.stdout and "serial_number" in res.stdout  # field with no column
    assert all(h in res.stdout for h in headers)
    # the walk's columns are the session's, not the file's: never listed as its columns
    assert "Checked on site" not in res.stdout and "sighted" not in res.stdout


def test_policy_show_and_init(tmp_path: Path) -> None:
    res = run_cli("policy", "show")
    assert res.code == 0 and "home" in res.stdout and "ent/com" in res.stdout
    doc = json.loads(run_cli("policy", "show", "--format", "json").stdout)
    home = next(e for e in doc["editions"] if e["edition"] == "home")
    assert home["windows-enterprise/commercial"] == "not-qualifying"
    assert home["windows-education/academic"] == "qualifies"
    target = tmp_path / "mine.toml"
    assert run_cli("policy", "init", target).code == 0
    assert run_cli("policy", "init", target).code == 2  # exists
    # an edited copy changes verdicts
    text = target.read_text().replace(
        'verdict = "review"\nreason = "Enterprise is sold only',
        'verdict = "qualifies"\nreason = "Enterprise is sold only',
        1,
    )
    target.write_text(text)
    inv = write_csv(tmp_path / "e.csv", [device(1, COA_Edition="Windows 10 Enterprise")])
    default = run_cli("check", inv, "--format", "json").json()
    mine = run_cli("check", inv, "--format", "json", "--policy", target).json()
    assert default["devices"][0]["status"] == "review"
    assert mine["devices"][0]["status"] == "eligible"
    assert mine["policy"]["source"] == str(target)


def test_partial_policy_file_merges(tmp_path: Path) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text('[serials]\nplaceholders = ["CUSTOM-NONE"]\n')
    inv = write_csv(tmp_path / "e.csv", [device(1, Serial_Number="CUSTOM-NONE")])
    doc = run_cli("check", inv, "--format", "json", "--policy", pol).json()
    assert {f["code"] for f in doc["devices"][0]["findings"]} == {"SERIAL_PLACEHOLDER"}


def test_sample_command_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run_cli("sample", a, "--rows", "300", "--seed", "4").code == 0
    assert run_cli("sample", b, "--rows", "300", "--seed", "4").code == 0
    assert a.read_bytes() == b.read_bytes()
    doc = run_cli("check", a, "--format", "json").json()
    assert doc["summary"]["devices"] == 300
    assert len(doc["summary"]["findings"]) >= 8
    x = tmp_path / "a.xlsx"
    assert run_cli("sample", x, "--rows", "50").code == 0
    assert (
        run_cli("check", x, "--format", "json", "--fail-on", "never").json()["summary"]["devices"]
        == 50
    )
    assert run_cli("sample", tmp_path / "a.pdf", "--rows", "5").code == 4


def test_headless_commands_never_import_textual(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [device(1)])
    code = (
        "import sys\n"
        "from coa_audit.cli.main import app\n"
        "for args in (['check', sys.argv[1], '--format', 'json'], ['columns', sys.argv[1]],"
        " ['policy', 'show'], ['codes']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "sys.stderr.write(repr(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr == "[]"


def test_version() -> None:
    res = run_cli("--version")
    assert res.code == 0 and res.stdout.startswith("coa-audit ")


def test_tui_with_a_bad_map_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [device(1)])
    res = run_cli("tui", path, "--map", "Serial Number=no_such_field")
    assert res.code == 2 and "unknown field" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_bug_raising_valueerror_is_an_internal_error_not_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coa_audit.session.session as session

    def boom(*_a: object, **_k: object) -> None:
        raise ValueError("a bug, not the user's fault")

    monkeypatch.setattr(session, "open_session", boom)
    res = run_cli("check", write_csv(tmp_path / "i.csv", [device(1)]))
    assert res.code == 70 and "internal error" in res.stderr


def test_policy_show_fits_80_columns_and_lists_only_pairs_that_run() -> None:
    res = run_cli("policy", "show")
    assert res.code == 0
    lines = res.stdout.splitlines()
    head = next(line for line in lines if line.startswith("edition"))
    assert "edu/com" not in head and "edu/acad" in head  # Education under commercial is refused
    table = lines[lines.index(head) : lines.index(head) + 10]
    assert all(len(line) <= 80 for line in table)
    assert all("  " in line[26:] for line in table[1:])  # columns never run together
    assert "SHA-256" in res.stdout


def test_only_check_and_export_speak_of_fail_on_in_their_help() -> None:
    # export takes --fail-on too (issue 33: CI gates on the corrected state)
    for command in ("check", "export"):
        assert "--fail-on" in run_cli(command, "--help").stdout, command
    for command in ("tui", "sample"):
        assert "fail-on" not in run_cli(command, "--help").stdout, command
