"""The command line's conventions (README, "Conventions"), each through the command: -h
everywhere, completion, `python -m coa_audit`, - for stdin and stdout, -q and -v, --format
json with a shipped JSON Schema per document, one-line usage errors, --fail-on and
--corrections on the corrected state, one overwrite rule, every environment variable
documented."""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.main import get_command
from typer.testing import CliRunner

from coa_audit.cli.main import app
from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import REPO, SAMPLES, Result, device, run_cli, write_csv

EXE = Path(sys.executable).parent / "coa-audit"
REFUSED = "exists: give --force to replace it, or another name"


def _commands() -> list[list[str]]:
    """Every command, as the words that name it (policy show...), read from the group."""
    out: list[list[str]] = []

    def walk(group: Any, words: list[str]) -> None:
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, [*words, name])
            else:
                out.append([*words, name])

    walk(get_command(app), [])
    return out


COMMANDS = _commands()


def _fed(stdin: bytes, *args: str | Path) -> Result:
    """The command in this process with ``stdin`` as its standard input."""
    res = CliRunner().invoke(app, [str(a) for a in args], input=stdin, catch_exceptions=False)
    return Result(res.exit_code, res.stdout, res.stderr)


def _one_line(res: Result, code: int) -> str:
    """The run failed with ``code`` and said so in one line of stderr, nothing on stdout."""
    assert res.code == code, (res.code, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coa-audit: "), res.stderr
    assert "Traceback" not in res.stderr and "Usage:" not in res.stderr
    return lines[0]


@functools.cache
def _schema(name: str) -> Draft202012Validator:
    """The shipped schema, as `coa-audit schema NAME` prints it."""
    res = run_cli("schema", name)
    assert res.code == 0, res.stderr
    schema = json.loads(res.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return Draft202012Validator(schema)


def _valid(name: str, doc: dict[str, Any]) -> None:
    validator = _schema(name)
    assert doc["schema"] == validator.schema["$id"] == f"coa-audit.{name}/1"
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]


def _invalid(name: str, doc: dict[str, Any]) -> None:
    assert not _schema(name).is_valid(doc), f"the {name} schema let a broken document pass"


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """Three devices: eligible, blocked (row 3: no COA), review (row 4: Enterprise)."""
    return write_csv(
        tmp_path / "fleet.csv",
        [device(1), device(2, COA_Present="No"), device(3, COA_Edition="Windows 10 Enterprise")],
    )


@pytest.fixture
def fix(tmp_path: Path) -> Path:
    """Corrections: the blocked device's label was found."""
    path = tmp_path / "fix.csv"
    path.write_text("row,field,value,by,reason\n3,coa_present,Yes,Ann,label found\n")
    return path


# -- 1. -h, completion, python -m ----------------------------------------------------------


def test_h_is_help_and_q_v_are_offered_on_every_command() -> None:
    assert len(COMMANDS) >= 10 and ["policy", "show"] in COMMANDS and ["schema"] in COMMANDS
    for words in [[], ["policy"], *COMMANDS]:
        short, long = run_cli(*words, "-h"), run_cli(*words, "--help")
        assert short.code == 0 and short.stdout.startswith("Usage: coa-audit"), (words, short)
        assert short.stdout == long.stdout, words
        if words and words != ["policy"]:
            assert "-q, --quiet" in short.stdout and "-v, --verbose" in short.stdout, words


def test_shell_completion_is_offered_and_completes() -> None:
    """Through the program, as a shell runs it (the script it prints, then the completions
    the script asks it for)."""
    # the shell is the one the program runs in (shellingham reads the process tree; the
    # `exit` keeps bash from replacing itself with the program)
    res = subprocess.run(
        ["bash", "-c", f"'{EXE}' --show-completion; exit $?"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0 and "_COA_AUDIT_COMPLETE=complete_bash" in res.stdout, res.stderr
    assert "--install-completion" in run_cli("-h").stdout
    env = {"_COA_AUDIT_COMPLETE": "complete_bash", "COMP_WORDS": "coa-audit exp", "COMP_CWORD": "1"}
    res = subprocess.run(
        [str(EXE)], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )
    assert res.returncode == 0 and res.stdout.split() == ["export"], res.stderr


def test_the_process_python_m_stdin_and_stdout(fleet: Path) -> None:
    """What only a real process shows: `python -m coa_audit` is the program, and `check -`
    reads the inventory's own bytes from the process's stdin."""
    res = subprocess.run(
        [sys.executable, "-m", "coa_audit", "--version"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and res.stdout.startswith("coa-audit "), res.stderr
    from_file = run_cli("check", fleet, "--format", "json").json()
    res = subprocess.run(
        [EXE, "check", "-", "--format", "json"],
        input=fleet.read_bytes(),
        capture_output=True,
        timeout=60,
    )
    assert res.returncode == 1, res.stderr  # the blocked device, as from the file
    doc = json.loads(res.stdout)
    assert doc["source"]["path"] == "<stdin>"
    assert doc["source"]["sha256"] == from_file["source"]["sha256"]
    assert doc["devices"] == from_file["devices"]


# -- 2. - for stdin and stdout ---------------------------------------------------------------


def test_dash_reads_stdin_through_the_same_reader(fleet: Path, fix: Path) -> None:
    book = (SAMPLES / "oem-fleet.xlsx").read_bytes()  # a workbook, told by its bytes
    res = _fed(book, "check", "-", "--format", "csv", "-q")
    assert res.code == 1 and res.stderr == ""
    assert res.stdout.startswith("row,asset_tag,serial_number,status,code")
    columns = json.loads(_fed(fleet.read_bytes(), "columns", "-", "--format", "json").stdout)
    assert columns["source"]["path"] == "<stdin>" and columns["source"]["format"] == "csv"
    # --input-format is checked against the bytes, as an extension is
    line = _one_line(_fed(fleet.read_bytes(), "check", "-", "--input-format", "xlsx"), 3)
    assert "<stdin> is not a valid xlsx file" in line and "/tmp" not in line
    _one_line(_fed(b"", "check", "-"), 3)
    line = _one_line(run_cli("check", fleet, "--input-format", "csv"), 2)
    assert "stdin" in line
    # one input of a run may come from stdin; a side input can be the one
    line = _one_line(_fed(fleet.read_bytes(), "check", "-", "--corrections", "-"), 2)
    assert "only one input" in line
    res = _fed(fix.read_bytes(), "check", fleet, "--corrections", "-", "--format", "json")
    assert res.code == 0 and res.json()["summary"]["blocked"] == 0
    # where stdin cannot be the input, one line says why
    assert "keyboard" in _one_line(run_cli("tui", "-"), 2)
    assert "beside it" in _one_line(run_cli("export", "-"), 2)


@pytest.mark.parametrize("command", ["tui", "serve"])
@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        (["--policy", "-"], 2, "--policy -"),
        (["--evidence", "-"], 2, "--evidence -"),
        (["--walk", "-"], 2, "--walk -"),
        (["--map", "no equals sign"], 2, "--map"),
        (["--encoding", "no-such-codec"], 2, "no-such-codec"),
        (["--target", "Windows 98"], 2, "Windows 98"),
    ],
)
def test_tui_and_serve_refuse_the_same_inputs_before_anything_opens(
    fleet: Path, command: str, extra: list[str], code: int, words: str
) -> None:
    """Both commands check their inputs through one helper, before a screen opens or a
    port is bound: the same bad input is the same one line and exit code from each."""
    res = run_cli(command, fleet, *extra)
    assert res.code == code, res.stderr
    assert res.stderr.count("\n") == 1 and words in res.stderr, res.stderr
    assert res.stdout == ""  # serve printed no address: nothing was served
    if extra[1] == "-":  # the app owns stdin: each command says so in its own words
        assert res.stderr.startswith(f"coa-audit: {command}: "), res.stderr


def test_dash_writes_stdout(fleet: Path, tmp_path: Path) -> None:
    to_file = tmp_path / "r.csv"
    assert run_cli("check", fleet, "--format", "csv", "-o", to_file).code == 1
    res = run_cli("check", fleet, "--format", "csv", "-o", "-")
    assert res.code == 1 and res.stdout == to_file.read_text(encoding="utf-8")
    assert not (Path.cwd() / "-").exists()
    res = run_cli("collect-script", "-o", "-")
    assert res.code == 0 and res.stdout == run_cli("collect-script").stdout
    res = run_cli("policy", "init", "-")
    assert res.code == 0 and res.stdout.startswith("# coa-audit policy")
    res = run_cli("sample", "-", "--rows", "5", "--seed", "3")
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert res.code == 0 and rows[0] == list(SAMPLE_HEADERS) and len(rows) == 6
    assert run_cli("sample", tmp_path / "s.csv", "--rows", "5", "--seed", "3").code == 0
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == res.stdout
    line = _one_line(run_cli("export", fleet, "--out-dir", "-"), 2)
    assert "several files" in line


# -- 3. -q and -v ----------------------------------------------------------------------------


def test_quiet_says_nothing_on_success_and_one_line_on_error(fleet: Path, tmp_path: Path) -> None:
    clean = write_csv(tmp_path / "clean.csv", [device(1), device(2)])
    loud = run_cli("export", clean, "--out-dir", tmp_path / "a", "--checklist", "")
    assert loud.code == 0 and "wrote" in loud.stderr
    for args in (
        ("export", clean, "--out-dir", tmp_path / "b", "--checklist", "", "-q"),
        ("-q", "export", clean, "--out-dir", tmp_path / "c", "--checklist", ""),
        ("check", clean, "-q"),
        ("check", clean, "-q", "-o", tmp_path / "r.json", "--format", "json"),
        ("sample", tmp_path / "s.csv", "--rows", "5", "-q"),
        ("collect-script", "-o", tmp_path / "c.ps1", "-q"),
        ("policy", "init", tmp_path / "p.toml", "-q"),
    ):
        res = run_cli(*args)
        assert (res.code, res.stdout, res.stderr) == (0, "", ""), (args, res.stderr)
    names = ["clean.audit.xlsx", "clean.corrected.csv"]
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == names
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["devices"] == 2
    # check -q still prints its report when it exits 1: that is not success
    res = run_cli("check", fleet, "-q", "--format", "json")
    assert res.code == 1 and res.json()["summary"]["blocked"] == 1 and res.stderr == ""
    _one_line(run_cli("check", tmp_path / "missing.csv", "-q"), 3)
    assert "give one" in _one_line(run_cli("check", clean, "-q", "-v"), 2)


def test_verbose_says_what_was_read_and_how_long(tmp_path: Path) -> None:
    clean = write_csv(tmp_path / "clean.csv", [device(1)], delimiter=";")
    res = run_cli("check", clean, "-v", "--format", "json")
    assert res.code == 0 and res.json()["summary"]["devices"] == 1  # stdout: the data only
    said = res.stderr
    assert f"read {clean}: csv, encoding utf-8, delimiter ';'; header row 1; 1 devices" in said
    assert "mapping: asset_tag='Asset Tag'" in said and "policy: " in said
    assert re.search(r"^done in \d+\.\d\d s$", said, re.M)
    assert re.search(r"^done in ", run_cli("-v", "codes").stderr, re.M)
    assert run_cli("check", clean).stderr == ""


# -- 4 and 5. --format json, each document valid against its shipped schema ------------------


def test_schema_command_lists_and_prints_every_schema() -> None:
    res = run_cli("schema")
    names = [line.split()[0] for line in res.stdout.splitlines()]
    assert res.code == 0 and names == ["report", "columns", "codes", "policy", "export"]
    for name in names:
        assert _schema(name).schema["$id"] == f"coa-audit.{name}/1"
    assert "choose one of" in _one_line(run_cli("schema", "nope"), 2)


def test_every_json_document_is_valid_and_the_schemas_are_strict(
    fleet: Path, fix: Path, tmp_path: Path
) -> None:
    walk = tmp_path / "walk.csv"
    walk.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,outcome,label_says,basis,reference,"
        "why,by,when,how\n"
        "mark,2,5CG0000001,AT-00001,PC-00001,presence,present,,,,,Bo,2026-01-02T10:00:00+00:00,"
        "scanned\n"
        "mark,4,5CG0000003,AT-00003,PC-00003,acceptance,accepted,,document,INV-7,seen,Bo,"
        "2026-01-02T10:05:00+00:00,marked\n"
    )
    evidence = tmp_path / "collected.csv"
    evidence.write_text(
        "Hostname,SerialNumber,Manufacturer,Model,OSCaption,OSBuild,"
        "OA3xOriginalProductKeyDescription,OA3xOriginalProductKey,CollectedAt\n"
        "PC-00001,5CG0000001,HP,EliteBook,Windows 11 Pro,22631,[4.0] Professional OEM:DM,,"
        "2026-01-01\n"
        "PC-09999,5CG0009999,HP,EliteBook,Windows 11 Pro,22631,[4.0] Professional OEM:DM,,"
        "2026-01-01\n"
    )
    full = ("--walk", walk, "--evidence", evidence, "--corrections", fix)
    report = run_cli("check", fleet, "--format", "json", *full).json()
    assert report["changes"] and report["collection"]["not_in_register"]
    devices = report["devices"]
    assert any(d["walk"] for d in devices) and any(d["findings"] for d in devices)
    _valid("report", report)
    _valid("report", run_cli("check", SAMPLES / "oem-fleet.xlsx", "--format", "json").json())
    res = run_cli(
        "export", fleet, "--out-dir", tmp_path / "out", "--checklist", "", "--json",
        "--format", "json", "--fail-on", "warning", *full,
    )  # fmt: skip
    summary = res.json()
    assert res.code == 0 and summary["exit_code"] == 0  # corrected and accepted: nothing left
    _valid("export", summary)
    written = {Path(w["path"]).name: w["bytes"] for w in summary["written"]}
    assert written["fleet.audit.json"] == (tmp_path / "out" / "fleet.audit.json").stat().st_size
    _valid("report", json.loads((tmp_path / "out" / "fleet.audit.json").read_text()))
    columns = run_cli("columns", SAMPLES / "oem-fleet.xlsx", "--format", "json").json()
    assert columns["source"]["sheet"] == "Fleet" and columns["columns"]
    _valid("columns", columns)
    no_header = tmp_path / "values.csv"
    no_header.write_text("5CG0000001,Windows 10 Pro,Yes\n5CG0000002,Windows 11 Pro,No\n")
    candidates = run_cli("columns", no_header, "--format", "json").json()
    assert candidates["source"]["header_row"] is None and candidates["candidates"]
    _valid("columns", candidates)
    codes = run_cli("codes", "--format", "json").json()
    _valid("codes", codes)
    policy = run_cli("policy", "show", "--format", "json").json()
    _valid("policy", policy)

    # strict: a missing required field or a wrong type fails
    def broken(doc: dict[str, Any], path: list[Any], value: Any = KeyError) -> dict[str, Any]:
        doc = copy.deepcopy(doc)
        *parents, last = path
        node = doc
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
        return doc

    for name, doc, path, value in (
        ("report", report, ["summary", "blocked"], KeyError),
        ("report", report, ["devices", 0, "row"], "2"),
        ("report", report, ["devices", 1, "status"], "fine"),
        ("report", report, ["changes", 0, "by"], None),
        ("report", report, ["devices", 0, "walk", "sighted", 0, "how"], KeyError),
        ("export", summary, ["written", 0, "bytes"], "12"),
        ("export", summary, ["summary"], KeyError),
        ("columns", columns, ["columns", 0, "field"], 3),
        ("columns", columns, ["fields_with_no_column"], KeyError),
        ("columns", candidates, ["candidates"], KeyError),
        ("codes", codes, ["codes", 0, "severity"], "fatal"),
        ("codes", codes, ["codes", 0, "action"], KeyError),
        ("policy", policy, ["editions", 0, "windows-pro/commercial"], "maybe"),
        ("policy", policy, ["target"], KeyError),
    ):
        _invalid(name, broken(doc, path, value))


def test_tables_print_as_csv_too() -> None:
    doc = run_cli("policy", "show", "--format", "json").json()
    res = run_cli("policy", "show", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert res.code == 0 and rows == doc["editions"]  # every pair, the refused one too
    assert "windows-education/commercial" in rows[0]
    codes = run_cli("codes", "--format", "json").json()["codes"]
    rows = list(csv.DictReader(io.StringIO(run_cli("codes", "--format", "csv").stdout)))
    assert rows == codes


# -- 6. usage errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["check"], "Missing argument 'FILE' (usage: coa-audit check [OPTIONS]"),
        (["check", "x.csv", "--fromat", "json"], "No such option: --fromat (Possible options"),
        (["chek"], "No such command 'chek'. Did you mean 'check'"),
        (["check", "x.csv", "--format", "xml"], "'xml' is not one of 'text', 'json', 'csv'"),
        (["check", "x.csv", "--fail-on", "always"], "'always' is not one of"),
        (["sample", "x.csv", "--rows", "many"], "Invalid value for '--rows'"),
        (["sample", "x.csv", "--rows", "0"], "Invalid value for '--rows'"),
        (["codes", "extra"], "Got unexpected extra argument(s) (extra)"),
        (["policy", "show", "--target"], "Option '--target' requires an argument"),
        (["policy", "nope"], "No such command 'nope'"),
    ],
)
def test_usage_errors_are_one_line_with_the_fix(args: list[str], says: str) -> None:
    line = _one_line(run_cli(*args), 2)
    assert says in line, line
    assert re.search(r"\((usage: coa-audit .+|see coa-audit[ a-z-]* -h)\)$", line), line


# -- 7. --fail-on and --corrections on the corrected state -----------------------------------


def test_check_and_export_gate_on_the_corrected_state(
    fleet: Path, fix: Path, tmp_path: Path
) -> None:
    assert run_cli("check", fleet).code == 1  # row 3 is blocked
    res = run_cli("check", fleet, "--corrections", fix, "--format", "json")
    assert res.code == 0, res.stderr  # no file is written to know it
    checked = res.json()
    assert [c["by"] for c in checked["changes"]] == ["Ann"]
    assert [d["status"] for d in checked["devices"]] == ["eligible", "eligible", "review"]
    assert run_cli("check", fleet, "--corrections", fix, "--fail-on", "warning").code == 1
    # export: the same meaning, computed on what it wrote; files written either way
    out = tmp_path / "out"
    common = ("--out-dir", out, "--checklist", "", "--json")
    assert run_cli("export", fleet, *common).code == 0  # default: never
    assert run_cli("export", fleet, *common, "--fail-on", "error").code == 1
    assert (out / "fleet.audit.json").exists()
    res = run_cli("export", fleet, *common, "--fail-on", "error", "--corrections", fix)
    assert res.code == 0, res.stderr
    assert run_cli("export", fleet, *common, "--fail-on", "warning", "--corrections", fix).code == 1
    # check --corrections is the export's corrected state, device for device
    exported = json.loads((out / "fleet.audit.json").read_text())
    assert exported["devices"] == checked["devices"]
    # --walk: a device whose label is missing on site is blocked, by check as by export
    walk = tmp_path / "walk.csv"
    walk.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,outcome,label_says,basis,reference,"
        "why,by,when,how\n"
        "mark,2,5CG0000001,AT-00001,PC-00001,label,missing,,,,,Bo,"
        "2026-01-02T10:00:00+00:00,scanned\n"
    )
    res = run_cli("check", fleet, "--corrections", fix, "--walk", walk, "--format", "json")
    assert res.code == 1 and res.json()["devices"][0]["status"] == "blocked"
    gated = ("--fail-on", "error", "--corrections", fix, "--walk", walk)
    assert run_cli("export", fleet, *common, *gated).code == 1


# -- 8. one overwrite rule -------------------------------------------------------------------


def test_a_file_named_on_the_command_line_is_replaced_only_with_force(
    fleet: Path, tmp_path: Path
) -> None:
    target = tmp_path / "mine.txt"
    for args in (
        ("check", fleet, "--fail-on", "never", "-o", target),
        ("collect-script", "-o", target),
        ("sample", target.with_suffix(".csv"), "--rows", "5"),
        ("policy", "init", target),
    ):
        path = Path(args[-1]) if args[0] != "sample" else target.with_suffix(".csv")
        path.write_text("mine\n")
        assert REFUSED in _one_line(run_cli(*args), 2), args
        assert path.read_text() == "mine\n"
        res = run_cli(*args, "--force")
        assert res.code == 0 and path.read_text() != "mine\n", (args, res.stderr)


def test_export_replaces_what_an_earlier_export_of_the_inventory_wrote(
    fleet: Path, fix: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = run_cli("export", fleet, "--out-dir", out, "--checklist", "")
    assert first.code == 0
    corrected = out / "fleet.corrected.csv"
    before = corrected.read_bytes()
    again = run_cli("export", fleet, "--out-dir", out, "--checklist", "", "--corrections", fix)
    assert again.code == 0 and f"wrote {corrected}" in again.stderr
    assert corrected.read_bytes() != before
    rows = list(csv.DictReader(io.StringIO(corrected.read_text(encoding="utf-8"))))
    assert [r["COA Present"] for r in rows] == ["Yes", "Yes", "Yes"]
    assert "--force" not in run_cli("export", "-h").stdout


# -- 9. environment variables and files are documented ---------------------------------------


def test_every_environment_variable_the_package_reads_is_documented() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Environment and files") :]
    section = section[: section.index("\n## ", 4)]
    names: set[str] = set()
    for folder in ("core", "importers", "exporters", "session", "tui", "cli"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"(?:environ(?:\.get)?|getenv)\(\s*[\"']([A-Z_]+)", text))
            names |= set(re.findall(r"[\"']([A-Z_]+)[\"'] (?:not )?in os\.environ", text))
            names |= set(re.findall(r"^_?[A-Z_]+ = \"(COA_AUDIT_[A-Z_]+)\"", text, re.M))
    assert {"COA_AUDIT_STATE_DIR", "COA_AUDIT_CONFIG_DIR", "NO_COLOR"} <= names
    missing = sorted(n for n in names if f"`{n}`" not in section)
    assert not missing, missing
    for where in ("profile.toml", "verifier.txt", "journals", "mappings"):
        assert where in section, where


# -- the same conventions through the installed program ----------------------------------------


def test_every_convention_holds_through_the_installed_program(
    fleet: Path, fix: Path, tmp_path: Path
) -> None:
    """One real process per convention (the console script pip installed, as a user or a cron
    job runs it): what the in-process tests above show holds for the program too."""

    def run(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EXE), *map(str, args)],
            input=None if stdin is None else stdin.decode(),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    # -h is help; completion is offered
    res = run("check", "-h")
    assert res.returncode == 0 and res.stdout.startswith("Usage: coa-audit check")
    assert "-q, --quiet" in res.stdout and "-v, --verbose" in res.stdout
    res = subprocess.run(
        ["bash", "-c", f"'{EXE}' --show-completion; exit $?"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "_COA_AUDIT_COMPLETE=complete_bash" in res.stdout, res.stderr
    # a usage error is one line with the fix, exit 2 (no Click box)
    res = run("check", fleet, "--fail-on", "sometimes")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("coa-audit: ") and "│" not in res.stderr
    # - for stdout; a JSON document valid against its shipped schema
    res = run("check", fleet, "--format", "json", "-o", "-", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    _valid("report", json.loads(res.stdout))
    for name, args in (
        ("columns", ["columns", str(fleet)]),
        ("codes", ["codes"]),
        ("policy", ["policy", "show"]),
    ):
        res = run(*args, "--format", "json")
        assert res.returncode == 0, (name, res.stderr)
        _valid(name, json.loads(res.stdout))
    # -q: nothing at all on success
    res = run("export", fleet, "--out-dir", tmp_path / "out", "-q")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    # --fail-on on the corrected state, for export and check alike
    assert run("export", fleet, "--out-dir", tmp_path / "out", "--fail-on", "error").returncode == 1
    assert run("check", fleet, "--fail-on", "error", "-q").returncode == 1  # row 3 is blocked
    # corrected (row 3's label was found), nothing blocks; the Enterprise label still reviews
    assert run("check", fleet, "--corrections", fix, "--fail-on", "error", "-q").returncode == 0
    assert run("check", fleet, "--corrections", fix, "--fail-on", "warning", "-q").returncode == 1
    # one overwrite rule: a file named on the command line is replaced only with --force
    report = tmp_path / "r.json"
    assert run("check", fleet, "-o", report, "--fail-on", "never").returncode == 0
    res = run("check", fleet, "-o", report, "--fail-on", "never")
    assert res.returncode == 2 and REFUSED in res.stderr
    assert run("check", fleet, "-o", report, "--fail-on", "never", "--force").returncode == 0
