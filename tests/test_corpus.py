"""Every file of the shared corpus either loads or exits 3 with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED, run_cli

CORPUS = SHARED / "corpus" / "calamine"
FILES = sorted(CORPUS.iterdir()) if CORPUS.exists() else []


def test_corpus_is_present() -> None:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} not present (shared/ sits beside the checkout)")
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_loads_or_exits_3_with_one_line(path: Path) -> None:
    before = path.stat().st_mtime_ns
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code in (0, 3), res.stderr
    if res.code == 3:
        assert res.stdout == ""
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("coa-audit: ")
        assert "Traceback" not in res.stderr
    else:
        assert res.stdout.startswith("{")
    assert path.stat().st_mtime_ns == before


def test_dos_file_is_refused_quickly_in_a_real_process() -> None:
    path = CORPUS / "issue_594_dos.ods"
    if not path.exists():
        pytest.skip("shared corpus not present")
    exe = Path(sys.executable).parent / "coa-audit"
    p = subprocess.run([exe, "check", path], capture_output=True, text=True, timeout=30)
    assert p.returncode == 3
    # one line, refused by the cost the reader would pay (cells times repeats), not by a crash
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "reading it would take about" in p.stderr and "repeats its cells" in p.stderr


@pytest.mark.parametrize("command", ["check", "columns", "export"])
def test_an_xls_whose_dimensions_lie_is_refused_by_the_bound(tmp_path: Path, command: str) -> None:
    """A real .xls whose DIMENSIONS records claim 4 billion rows by 65,535 columns: the
    reader asks for it and dies under the supervisor's memory bound; the program says so
    in one line, exit 3 (nothing predicted the reader: it was never checked before)."""
    import struct

    source = CORPUS / "xls_formula.xls"
    if not source.exists():
        pytest.skip(f"{source} not present (shared/ sits beside the checkout)")
    data = bytearray(source.read_bytes())
    at = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS: id 0x0200, 14 bytes
    assert at > 0
    while at > 0:
        struct.pack_into("<IIHH", data, at + 4, 0, 0xFFFFFFF0, 0, 0xFFFF)
        at = data.find(b"\x00\x02\x0e\x00", at + 1)
    liar = tmp_path / "liar.xls"
    liar.write_bytes(bytes(data))
    coa = str(Path(sys.executable).parent / "coa-audit")
    env = {"COA_AUDIT_MEMORY_LIMIT_MB": "2048", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [coa, command, str(liar)], capture_output=True, text=True, timeout=120, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr[-500:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged or hostile" in lines[0], proc.stderr[-500:]
    assert not [p.name for p in tmp_path.iterdir() if p.name != "liar.xls"]
