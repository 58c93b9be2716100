"""The benchmark script still runs end to end (tiny sizes, no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    p = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--smoke",
            "--cache",
            str(tmp_path),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(out.read_text())
    for key in (
        "1_check_xlsx",
        "2_check_csv",
        "3_memory_mib",
        "4_tui",
        "5_incremental_edit",
        "6_export",
    ):
        assert key in r
    assert r["1_check_xlsx"]["ratio_to_floor"] > 0
    assert r["4_tui"]["open_small"]["first_frame_s"] > 0
    assert set(r["4_tui"]["keys_large"]) == {"page_down_ms", "next_problem_ms", "edit_ms"}
    assert "| 1. check" in p.stdout


def test_phases_names_each_phase_of_a_check() -> None:
    """bench/phases.py (where check spends its time) still runs: every phase timed."""
    p = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "phases.py"),
            str(REPO / "sample_inventories" / "oem-fleet.xlsx"),
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout)
    phases = ("reader", "guard", "parse", "load", "audit", "report_one", "report_two")
    assert all(got[k] > 0 for k in phases), got
    assert got["devices"] > 0
