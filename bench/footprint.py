"""What the optional packages cost and buy (issue 33, a lighter install).

    python bench/footprint.py                 # sort, crossover, lxml and cold start
    python bench/footprint.py --smoke         # tiny sizes, one repetition
    python bench/footprint.py --only sizes    # wheel installed into fresh venvs: du of each

- sort: `check` of the 1,000,000-row csv bench/run.py generates, with numpy and with numpy
  hidden (``import numpy`` fails, as where it is not installed): wall time and peak RSS,
  in alternating pairs, and whether the two reports are the same bytes.
- crossover: the same at a few smaller sizes with numpy forced on every column
  (``core.sorting.NUMPY_FROM = 0``) against hidden: where numpy's import pays for itself.
- lxml: openpyxl writing a converted workbook (``exporters.corrected._write_new_xlsx``, what
  an xls, xlsb or ods becomes) of the 100,000-row fleet, with ``OPENPYXL_LXML`` True and
  False: seconds of the write alone, in fresh processes.
- cold: `check` of the shipped sample (311 rows) as it is against numpy forced, which is
  what every check did before numpy became optional.
- sizes: the wheel of this tree installed with its dependencies into fresh venvs, without
  and with the ``fast`` extra: the bytes in site-packages (pip's own included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from run import COA, PY, ROOT, alternating, ensure

# the command with numpy hidden and/or forced; argv: hide (1/0), force (1/0), arguments
WRAPPER = (
    "import sys\n"
    "hide, force, args = sys.argv[1] == '1', sys.argv[2] == '1', sys.argv[3:]\n"
    "if hide:\n"
    "    sys.modules['numpy'] = None\n"
    "import coa_audit.core.sorting as sorting\n"
    "if force:\n"
    "    sorting.NUMPY_FROM = 0\n"
    "sys.argv = ['coa-audit', *args]\n"
    "from coa_audit.cli.main import main\n"
    "main()\n"
)

WRITE = (
    "import sys, time, json\n"
    "from pathlib import Path\n"
    "from coa_audit.importers.load import load_inventory\n"
    "from coa_audit.exporters.corrected import _write_new_xlsx\n"
    "import openpyxl\n"
    "inv = load_inventory(Path(sys.argv[1]))\n"
    "start = time.perf_counter()\n"
    "_write_new_xlsx(inv, Path(sys.argv[2]), None)\n"
    "print(json.dumps({'seconds': time.perf_counter() - start, 'lxml': openpyxl.LXML}))\n"
)


def wrapped(*args: str | Path, hide: bool = False, force: bool = False) -> list[str]:
    return [PY, "-c", WRAPPER, "1" if hide else "0", "1" if force else "0", *map(str, args)]


def check_args(path: Path, out: Path) -> list[str]:
    return ["check", str(path), "--format", "json", "-o", str(out), "--force", "-q"]


def sort(cache: Path, rows: int, repeat: int, out: Path) -> dict[str, Any]:
    fleet = ensure(cache / f"fleet-{rows}.csv", rows)
    a, b = out / "numpy.json", out / "plain.json"
    res: dict[str, Any] = alternating(
        {
            "numpy": [COA, *check_args(fleet, a)],
            "plain": wrapped(*check_args(fleet, b), hide=True),
        },
        repeat,
    )
    res["same_report"] = a.read_bytes() == b.read_bytes()
    res["rows"] = rows
    return res


def crossover(cache: Path, sizes: list[int], repeat: int, out: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for rows in sizes:
        fleet = ensure(cache / f"fleet-{rows}.csv", rows)
        res[str(rows)] = alternating(
            {
                "numpy_forced": wrapped(*check_args(fleet, out / "f.json"), force=True),
                "plain": wrapped(*check_args(fleet, out / "p.json"), hide=True),
            },
            repeat,
        )
    return res


def lxml(cache: Path, rows: int, repeat: int, out: Path) -> dict[str, Any]:
    fleet = ensure(cache / f"fleet-{rows}.csv", rows)
    runs: dict[str, list[float]] = {"True": [], "False": []}
    for _ in range(repeat):
        for flag in runs:
            env = {**os.environ, "OPENPYXL_LXML": flag}
            p = subprocess.run(
                [PY, "-c", WRITE, str(fleet), str(out / f"w-{flag}.xlsx")],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            got = json.loads(p.stdout.strip().splitlines()[-1])
            assert got["lxml"] == (flag == "True"), got
            runs[flag].append(got["seconds"])
    return {
        "rows": rows,
        "write_seconds_lxml": statistics.median(runs["True"]),
        "write_seconds_without": statistics.median(runs["False"]),
        "xlsx_bytes": (out / "w-True.xlsx").stat().st_size,
    }


def cold(repeat: int, out: Path) -> dict[str, Any]:
    sample = ROOT / "sample_inventories" / "oem-fleet.xlsx"
    return alternating(
        {
            "now": [COA, *check_args(sample, out / "n.json")],
            "numpy_forced": wrapped(*check_args(sample, out / "f.json"), force=True),
        },
        repeat,
    )


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def sizes(out: Path) -> dict[str, Any]:
    """The wheel of this tree installed with its dependencies into a fresh venv (pip's own
    included), without and with the ``fast`` extra: bytes of files in site-packages."""
    wheels = out / "wheel"
    subprocess.run(
        [PY, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)], check=True
    )
    wheel = next(wheels.glob("coa_audit-*.whl"))
    res: dict[str, Any] = {}
    for name, spec in (("plain", str(wheel)), ("fast", f"{wheel}[fast]")):
        venv = out / f"venv-{name}"
        subprocess.run([PY, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", spec], check=True
        )
        site = next(venv.glob("lib/python*/site-packages"))
        top = {p.name: _du(p) for p in site.iterdir() if p.is_dir()}
        res[name] = {
            "site_packages_mib": round(_du(site) / 2**20, 1),
            "largest_mib": {
                k: round(v / 2**20, 1) for k, v in sorted(top.items(), key=lambda kv: -kv[1])[:8]
            },
        }
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parent / "cache")
    ap.add_argument("--only", choices=["sort", "crossover", "lxml", "cold", "sizes"])
    args = ap.parse_args()
    big, mid = (2000, 500) if args.smoke else (1_000_000, 100_000)
    steps = [300, 1000] if args.smoke else [20_000, 100_000, 300_000]
    rep = 1 if args.smoke else 3
    out = Path(tempfile.mkdtemp(prefix="coa-footprint-"))
    parts = {
        "sort": lambda: sort(args.cache, big, rep, out),
        "crossover": lambda: crossover(args.cache, steps, rep, out),
        "lxml": lambda: lxml(args.cache, mid, rep, out),
        "cold": lambda: cold(1 if args.smoke else 10, out),
        "sizes": lambda: sizes(out),
    }
    chosen = [args.only] if args.only else [p for p in parts if p != "sizes"]
    results = {name: parts[name]() for name in chosen}
    print(json.dumps(results, indent=2))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
