"""The package as a user installs it (README, Install): the wheel built from this tree,
installed into a fresh virtual environment outside the repository, and run from another
folder: `--help`, `check` of a shipped sample, and `export` with collected evidence of over
8 MB, which is read in a child process of its own (importers.collection.PendingCollection);
and `python -m coa_audit --help`.

`make dist` runs the same checks on the one-file build: `python tests/test_install.py
dist/coa-audit` (`smoke` below)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_inventories" / "oem-fleet.xlsx"
PCS = 40  # devices in the register; the evidence collects each of them again and again
EVIDENCE_BYTES = 9 * 1024 * 1024  # over PendingCollection.PARALLEL_FROM (8 MiB)
# the columns `coa-audit collect-script` writes (importers.collection.COLLECT_SCRIPT_HEADERS)
HEADERS = (
    "ComputerName",
    "SerialNumber",
    "Manufacturer",
    "Model",
    "OSCaption",
    "OSBuild",
    "OA3xOriginalProductKeyDescription",
    "OA3xOriginalProductKey",
    "CollectedAt",
)
KEYS = "BCDFGHJKMPQRTVWXY2346789"


def write_fleet(folder: Path) -> tuple[Path, Path, int]:
    """A register of ``PCS`` devices without COA columns, and the collect script's output
    for them of over ``EVIDENCE_BYTES``: every PC collected at each logon, the same host
    and serial each time, so every row is one of the register's devices. Returns the two
    files and the number of collected rows."""
    register, evidence = folder / "register.csv", folder / "collected.csv"
    with open(register, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Asset Tag", "Serial Number", "Hostname", "Manufacturer", "Model", "OS"])
        for i in range(PCS):
            w.writerow(
                [
                    f"AT-{i:04d}",
                    f"5CG{i:07d}",
                    f"PC-{i:04d}",
                    "HP",
                    "EliteBook 840",
                    "Windows 11 Pro",
                ]
            )
    rows = 0
    with open(evidence, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(HEADERS)
        while f.tell() < EVIDENCE_BYTES:
            i = rows % PCS
            key = "".join(KEYS[(i * 7 + k) % 24] for k in range(25))
            day = 1 + (rows // PCS) % 28
            w.writerow(
                [
                    f"PC-{i:04d}",
                    f"5CG{i:07d}",
                    "HP",
                    "HP EliteBook 840 14 inch G10 Notebook PC",
                    "Microsoft Windows 11 Pro",
                    "10.0.22631",
                    "[4.0] Professional OEM:DM",
                    "-".join(key[k : k + 5] for k in range(0, 25, 5)),
                    f"2026-11-{day:02d}T09:00:00",
                ]
            )
            rows += 1
    return register, evidence, rows


def _run(command: Sequence[str], *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _ok(res: subprocess.CompletedProcess[str], what: str, codes: Sequence[int] = (0,)) -> str:
    assert res.returncode in codes, f"{what}: exit {res.returncode}: {res.stderr[-2000:]}"
    assert "Traceback" not in res.stderr, f"{what}: {res.stderr[-2000:]}"
    return res.stdout


def smoke(command: Sequence[str], folder: Path) -> Iterator[str]:
    """Run the installed program ``command`` as a user would, from ``folder`` (created,
    outside the repository), and check what it says and writes; yields a line per check
    passed, raises AssertionError on the first that fails."""
    folder.mkdir(parents=True, exist_ok=True)
    out = _ok(_run(command, "--help", cwd=folder), "--help")
    assert "Usage" in out and "check" in out and "export" in out, out
    yield "--help"

    doc = json.loads(
        _ok(
            _run(command, "check", SAMPLE, "--format", "json", "--fail-on", "never", cwd=folder),
            f"check {SAMPLE.name}",
        )
    )
    devices = doc["summary"]["devices"]
    assert devices > 0 and doc["summary"]["blocked"] > 0, doc["summary"]
    yield f"check {SAMPLE.name}: {devices} devices"

    register, evidence, rows = write_fleet(folder)
    out_dir = folder / "out"
    res = _run(
        command, "export", register, "--evidence", evidence, "--out-dir", out_dir,
        "--json", "--checklist", "md,pdf", cwd=folder,
    )  # fmt: skip
    _ok(res, "export --evidence")
    report = json.loads((out_dir / "register.audit.json").read_text(encoding="utf-8"))
    collection = report["collection"]
    assert [f["rows"] for f in collection["files"]] == [rows], collection["files"]
    assert collection["matched"] == PCS and not collection["not_in_register"], collection
    assert report["summary"]["devices"] == PCS, report["summary"]
    assert report["summary"]["eligible"] == PCS, report["summary"]  # Pro firmware keys
    pdf = next(out_dir.glob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF") and b"/FontFile2" in pdf.read_bytes()
    size = evidence.stat().st_size / 1024**2
    yield f"export --evidence ({size:.1f} MB, {rows} rows): {PCS} devices matched, PDF written"


def _pip(python: Path, *args: str | Path) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [str(python), "-m", "pip", "--quiet", *map(str, args)],
        check=True,
        timeout=600,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _sources(into: Path) -> Path:
    """What the wheel is built from, copied out of the working tree (so a build here never
    meets another in the tree's build/ folder): pyproject.toml, what it names, and the
    folders its package-dir maps."""
    import shutil
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    folders = {Path(d).parts[0] for d in meta["tool"]["setuptools"]["package-dir"].values()}
    into.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, into / name)
    for folder in sorted(folders):
        shutil.copytree(
            REPO / folder, into / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return into


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the programs of a fresh virtual environment (outside the repository)
    that has the wheel built from this tree and its dependencies, as pip resolves them."""
    root = tmp_path_factory.mktemp("install")
    source = _sources(root / "source")
    _pip(
        Path(sys.executable), "wheel", "--no-deps", "--no-build-isolation",
        "--wheel-dir", root / "wheels", source,
    )  # fmt: skip
    (wheel,) = (root / "wheels").glob("coa_audit-*.whl")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", root / "venv"], check=True, timeout=120
    )
    scripts = root / "venv" / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    # this environment's pip installs into the new one (--python): no pip of its own to set up
    _pip(Path(sys.executable), "--python", python, "install", "--no-compile", wheel)
    return scripts


def test_the_wheel_installs_and_runs_from_another_folder(installed: Path, tmp_path: Path) -> None:
    from coa_audit.importers.collection import COLLECT_SCRIPT_HEADERS, PendingCollection

    assert HEADERS == COLLECT_SCRIPT_HEADERS
    assert EVIDENCE_BYTES > PendingCollection.PARALLEL_FROM  # read in a child process
    program = installed / ("coa-audit.exe" if os.name == "nt" else "coa-audit")
    done = list(smoke([str(program)], tmp_path / "elsewhere"))
    assert len(done) == 3, done
    python = installed / ("python.exe" if os.name == "nt" else "python")
    out = _ok(_run([str(python), "-m", "coa_audit", "--help"], cwd=tmp_path), "-m coa_audit")
    assert "Usage" in out and "export" in out, out


def main(argv: Sequence[str]) -> int:
    """``python tests/test_install.py PROGRAM``: the checks, on a built program."""
    if len(argv) != 2:
        sys.stderr.write("usage: python tests/test_install.py PATH-TO-PROGRAM\n")
        return 2
    program = str(Path(argv[1]).resolve())
    with tempfile.TemporaryDirectory(prefix="coa-audit-smoke-") as tmp:
        try:
            for line in smoke([program], Path(tmp) / "work"):
                print(f"ok: {line}", flush=True)
        except AssertionError as exc:
            sys.stderr.write(f"smoke check failed: {exc}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
