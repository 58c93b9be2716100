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
    assert "more cells" in p.stderr
