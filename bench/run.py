"""coa-audit benchmark: every figure is a ratio against a reference measured in the same run.

    python bench/run.py            # full run (100,000 and 1,000,000 rows)
    python bench/run.py --smoke    # tiny sizes, one repetition: proves the script still works

Inputs are generated once with `coa-audit sample` into bench/cache/ (never committed).
Results: bench/results.json (full run) and a table on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
COA = str(BIN / "coa-audit")
PY = sys.executable


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time (s) and peak RSS (MiB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or os.environ.copy()
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {err[-500:]}")
    return elapsed, usage.ru_maxrss // 1024


def timed(cmd: list[str], repeat: int) -> dict[str, float]:
    runs = [run_process(cmd) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r[0] for r in runs),
        "max_rss_mib": max(r[1] for r in runs),
        "runs": repeat,
    }


def alternating(cmds: dict[str, list[str]], repeat: int) -> dict[str, dict[str, float]]:
    """Each command once per round, in turn, ``repeat`` rounds: a ratio between two of them
    is not skewed by whatever else the machine did during one stretch of the run."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            runs[name].append(run_process(cmd))
    return {
        name: {
            "seconds": statistics.median(r[0] for r in rs),
            "max_rss_mib": max(r[1] for r in rs),
            "runs": repeat,
        }
        for name, rs in runs.items()
    }


def py(code: str) -> list[str]:
    return [PY, "-c", code]


def ensure(path: Path, rows: int, problems: float | None = None) -> Path:
    """The sample fleet at ``path`` (made once, then cached); ``problems``: the share of
    devices with a problem (0.93: the worst case, a first audit of a real register)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        more = [] if problems is None else ["--problems", str(problems)]
        subprocess.run(
            [COA, "sample", str(path), "--rows", str(rows), "--seed", "7", *more],
            check=True,
            stderr=subprocess.DEVNULL,
        )
    return path


def tui_open_times(path: Path, timeout: float = 300.0) -> dict[str, float]:
    """Launch `coa-audit tui` on a pseudo-terminal: seconds to the first frame and to fully
    loaded (the grid's summary line is drawn), then quit."""
    state = tempfile.mkdtemp(prefix="coa-bench-state-")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "80",
        "LINES": "24",
        "COA_AUDIT_STATE_DIR": state,
    }
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execve(COA, [COA, "tui", str(path)], env)
    os.set_blocking(fd, False)
    seen = b""
    first = loaded = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    break
                if not chunk:
                    break
                seen = (seen + chunk)[-200_000:]
                now = time.perf_counter() - start
                # the summary line of the whole file (while rows load it says "Reading")
                done = b"filter: all" in seen or b"f:all" in seen
                # the first frame is the loading screen, or the grid itself when a small file
                # loads before the loading screen is ever painted
                if first is None and (b"Opening" in seen or done):
                    first = now
                if loaded is None and done:
                    loaded = now
                    os.write(fd, b"q")
                    break
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        os.waitpid(pid, 0)
        os.close(fd)
        shutil.rmtree(state, ignore_errors=True)
    return {"first_frame_s": first or float("nan"), "loaded_s": loaded or float("nan")}


async def _key_latency(path: Path, samples: int) -> dict[str, float]:
    """Median cost of a key in the app: the action plus rendering every visible line."""
    state = tempfile.mkdtemp(prefix="coa-bench-state-")
    os.environ["COA_AUDIT_STATE_DIR"] = state
    try:
        return await _key_latency_in(path, samples)
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def _key_latency_in(path: Path, samples: int) -> dict[str, float]:
    from coa_audit.tui.app import CoaAuditApp, MainScreen

    app = CoaAuditApp(path)
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        # the whole file: the main screen shows the first rows while the rest still loads
        while app.session is None or not isinstance(app.screen, MainScreen):
            await pilot.pause()
        await app.workers.wait_for_complete()
        screen = app.screen
        grid = screen.grid
        height = grid.size.height

        def frame() -> None:
            for y in range(height):
                grid.render_line(y)

        col = app.session.inventory.mapping["coa_edition"]  # type: ignore[union-attr]
        cases = {
            "page_down": lambda i: grid.action_page(1 if i % 20 < 10 else -1),
            "next_problem": lambda i: (
                screen.action_next_problem() if i % 20 < 10 else screen.action_prev_problem()
            ),
            "edit": lambda i: screen.commit(
                grid.current_row(), col, "Windows 10 Home" if i % 2 else "Windows 11 Pro"
            ),
        }
        batch = 10  # time ten keys at once: a single key is too close to the timer's jitter
        for name, act in cases.items():
            times = []
            for b in range(max(1, samples // batch)):
                t = time.perf_counter()
                for i in range(b * batch, (b + 1) * batch):
                    act(i)
                    frame()
                times.append((time.perf_counter() - t) / batch)
            out[name + "_ms"] = statistics.median(times) * 1000
            await pilot.pause()
    return out


async def _usable_while_loading(path: Path) -> dict[str, float]:
    """Seconds from the app's start, through the pilot: to the first row of the grid on
    screen, to a page-down done and to a search answered (both while rows still load, when
    the file is large enough to load for that long), and to the whole file audited."""
    from textual.keys import _character_to_key

    from coa_audit.tui.app import CoaAuditApp, MainScreen

    state = tempfile.mkdtemp(prefix="coa-bench-state-")
    os.environ["COA_AUDIT_STATE_DIR"] = state
    out: dict[str, float] = {}
    start = time.perf_counter()
    app = CoaAuditApp(path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            while not isinstance(app.screen, MainScreen):
                await pilot.pause(0.005)
            screen = app.screen
            while not screen.query("#grid"):
                await pilot.pause(0.005)
            grid = screen.grid
            while not grid.view or not grid.render_line(1).text.strip():
                await pilot.pause(0.005)
            out["first_row_s"] = time.perf_counter() - start
            loading = screen.session.loading
            # keys as a terminal sends them, without the pilot's wait for an idle app (the
            # app is not idle while it loads); each figure is when the effect is on screen
            before = grid.cursor_row
            _typed(app, [("pagedown", None)])
            while grid.cursor_row == before:
                await pilot.pause(0.002)
            out["page_down_s"] = time.perf_counter() - start
            inv = screen.audit.inv
            needle = inv.field(min(len(inv) - 1, 5000), "serial_number")
            _typed(app, [("slash", "/")])
            while app.focused is None or app.focused.id != "search":
                await pilot.pause(0.002)
            _typed(app, [*((_character_to_key(c), c) for c in needle), ("enter", "\r")])
            while (
                grid.current_row() is None
                or screen.audit.inv.field(grid.current_row(), "serial_number") != needle
            ):
                await pilot.pause(0.002)
            out["search_s"] = time.perf_counter() - start
            out["while_loading"] = float(loading and screen.session.loading)
            while app.session is None:
                await pilot.pause(0.05)
            out["loaded_s"] = time.perf_counter() - start
            await pilot.press("q")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return out


def _typed(app: Any, keys: list[tuple[str, str | None]]) -> None:
    from textual import events

    for key, char in keys:
        app._driver.send_message(events.Key(key, char))


def usable_while_loading(path: Path) -> dict[str, float]:
    return _in_fresh_process("_usable_while_loading", path)


def _in_fresh_process(name: str, path: Path, *args: object) -> dict[str, float]:
    """``asyncio.run(run.<name>(path, *args))`` in a new interpreter: its figures are not
    coloured by what this process imported or collected before."""
    call = ", ".join([f"__import__('pathlib').Path({str(path)!r})", *map(repr, args)])
    code = (
        f"import asyncio, json, sys; sys.path.insert(0, {str(HERE)!r}); import run; "
        f"print(json.dumps(asyncio.run(run.{name}({call}))))"
    )
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def key_latency(path: Path, samples: int, repeat: int = 3) -> dict[str, float]:
    """The best of ``repeat`` medians (each in a fresh process): costs of tens of
    microseconds are otherwise at the mercy of whatever else the machine does."""
    runs = [_key_latency_once(path, samples) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def _key_latency_once(path: Path, samples: int) -> dict[str, float]:
    return _in_fresh_process("_key_latency", path, samples)


def incremental_edit_ms(path: Path, edits: int) -> dict[str, float]:
    code = f"""
import json, statistics, time
from coa_audit.session.session import open_session
s = open_session({str(path)!r})
inv = s.inventory
cols = [inv.mapping[f] for f in ("coa_edition", "serial_number", "coa_key")]
values = {{cols[0]: ["Windows 10 Home", "Windows 11 Pro"], cols[1]: ["DUP-1", "X-1"],
          cols[2]: ["Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8", ""]}}
times = []
n = len(inv)
for i in range(1, {edits} + 1):
    row, col = (i * 7919) % n, cols[i % 3]
    t = time.perf_counter()
    s.apply(row, col, values[col][i % 2])
    times.append(time.perf_counter() - t)
print(json.dumps({{"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000}}))
"""
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def corrections_file(path: Path, rows: int, edits: int) -> Path:
    fix = path.with_suffix(".fix.csv")
    with open(fix, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "field", "value"])
        for i in range(edits):
            w.writerow([2 + (i * (rows // edits)), "coa_edition", "Windows 11 Pro"])
    return fix


def header_scoring_ms(columns: int, rows: int, repeat: int) -> dict[str, float]:
    """map_headers on ``columns`` distinct headers (words of every field in several
    languages, mixed with words of none) and ``rows`` sample rows, each run in a new
    process with nothing cached (the module imported first: its import is the program's
    start, not the scoring)."""
    code = f"""
import json, random, time
rnd = random.Random(7)
words = ["Serial", "Numer", "seryjny", "Computer", "Name", "Asset", "Tag", "Licence",
         "Edition", "OEM", "Product", "Key", "Model", "category", "Custom", "field", "Site",
         "Betriebssystem", "Seriennummer", "Nº", "de", "série", "Ubicación", "notes", "x"]
headers = [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4))) + f" {{i}}"
           for i in range({columns})]
sample = [[f"V{{r}}-{{c}}" for c in range({columns})] for r in range({rows})]
from coa_audit.importers.headers import map_headers
t = time.perf_counter()
map_headers(headers, None, sample)  # the vocabulary and aliases load here: cold
print(json.dumps(time.perf_counter() - t))
"""
    times = []
    for _ in range(repeat):
        res = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
        times.append(json.loads(res.stdout.strip().splitlines()[-1]) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "columns": columns}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args()
    small, large = (300, 2000) if args.smoke else (100_000, 1_000_000)
    rep, rep_slow = (1, 1) if args.smoke else (5, 3)
    cache = args.cache
    xlsx = ensure(cache / f"fleet-{small}.xlsx", small)
    csv_small = ensure(cache / f"fleet-{small}.csv", small)
    csv_large = ensure(cache / f"fleet-{large}.csv", large)
    csv_1k = ensure(cache / "fleet-1000.csv", 1000)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "smoke": args.smoke,
        "rows": {"small": small, "large": large},
    }
    out = tempfile.mkdtemp(prefix="coa-bench-")

    # 1. check of the xlsx vs the calamine floor, pandas and openpyxl
    check = timed(
        [COA, "check", str(xlsx), "--format", "json", "--force", "-o", f"{out}/r.json"], rep
    )
    floor = timed(
        py(
            "import python_calamine as c; "
            f"c.CalamineWorkbook.from_path({str(xlsx)!r}).get_sheet_by_index(0)"
            ".to_python()"
        ),
        rep,
    )
    opx = timed(
        py(
            "import openpyxl; wb = openpyxl.load_workbook("
            f"{str(xlsx)!r}, read_only=True); rows = [list(r) for r in "
            "wb.worksheets[0].iter_rows(values_only=True)]"
        ),
        rep_slow,
    )
    fig1: dict[str, Any] = {
        "check": check,
        "calamine_floor": floor,
        "openpyxl_read_only": opx,
        "ratio_to_floor": check["seconds"] / floor["seconds"],
        "openpyxl_over_check": opx["seconds"] / check["seconds"],
    }
    if shutil.which(PY) and _has("pandas"):
        pd = timed(
            py(f"import pandas; pandas.read_excel({str(xlsx)!r}, engine='openpyxl')"), rep_slow
        )
        fig1["pandas_openpyxl"] = pd
        fig1["pandas_over_check"] = pd["seconds"] / check["seconds"]
    results["1_check_xlsx"] = fig1

    # 2. check of the large csv vs csv.reader
    check_csv = timed(
        [COA, "check", str(csv_large), "--format", "json", "--force", "-o", f"{out}/r2.json"],
        rep_slow,
    )
    floor_csv = timed(
        py(
            f"import csv; rows = list(csv.reader(open({str(csv_large)!r}, "
            "newline='', encoding='utf-8')))"
        ),
        rep_slow,
    )
    results["2_check_csv"] = {
        "check": check_csv,
        "csv_reader_floor": floor_csv,
        "ratio_to_floor": check_csv["seconds"] / floor_csv["seconds"],
    }

    # 3. peak memory
    results["3_memory_mib"] = {
        "check_xlsx": check["max_rss_mib"],
        "check_large_csv": check_csv["max_rss_mib"],
        "csv_reader_floor": floor_csv["max_rss_mib"],
    }

    # 4. the full-screen app
    samples = 20 if args.smoke else 200
    results["4_tui"] = {
        "open_small": tui_open_times(csv_small),
        "open_large": tui_open_times(csv_large),
        "keys_1000": key_latency(csv_1k, samples, 1 if args.smoke else 3),
        "keys_large": key_latency(csv_large, samples, 1 if args.smoke else 3),
        "usable_large": usable_while_loading(csv_large),
    }
    k1, kl = results["4_tui"]["keys_1000"], results["4_tui"]["keys_large"]
    results["4_tui"]["ratio_large_to_1000"] = {k: kl[k] / k1[k] for k in k1}

    # 5. one incremental edit at the large size
    results["5_incremental_edit"] = incremental_edit_ms(csv_large, 50 if args.smoke else 1000)

    # 6. export with 100 edits vs check (the same reading and auditing)
    fix = corrections_file(xlsx, small, 100 if not args.smoke else 10)
    export = timed(
        [COA, "export", str(xlsx), "--corrections", str(fix), "--checklist", "", "--out-dir", out],
        rep_slow,
    )
    export_all = timed(  # every output: corrected file, report, three checklists
        [COA, "export", str(xlsx), "--corrections", str(fix), "--out-dir", out], 1
    )
    copy = timed(["cp", str(xlsx), f"{out}/copy.xlsx"], rep)
    corrected_only = timed(
        py(
            "from pathlib import Path; from coa_audit.importers.load import load_inventory; "
            "from coa_audit.importers.corrections import read_corrections; "
            "from coa_audit.exporters.corrected import write_corrected; import time; "
            f"inv = load_inventory({str(xlsx)!r}); "
            f"fixes = read_corrections(Path({str(fix)!r}), inv); "
            "[inv.set_value(c.row, c.col, c.value) for c in fixes]; "
            f"write_corrected(inv, Path({out!r}) / 'x.corrected.xlsx')"
        ),
        rep_slow,
    )
    load_only = timed(
        py(f"from coa_audit.importers.load import load_inventory; load_inventory({str(xlsx)!r})"),
        rep_slow,
    )
    results["6_export"] = {
        "export_command": export,
        "export_default": export_all,
        "check": check,
        "ratio_export_to_check": export["seconds"] / check["seconds"],
        "ratio_default_export_to_check": export_all["seconds"] / check["seconds"],
        "cp": copy,
        "load_and_write_corrected": corrected_only,
        "load_only": load_only,
        "ratio_export_to_cp": export["seconds"] / copy["seconds"],
        "write_corrected_s": corrected_only["seconds"] - load_only["seconds"],
    }
    # 6w. the same on the worst-case fleet: more than 90% of devices have a finding
    worst = ensure(cache / f"fleet-worst-{small}.xlsx", small, 0.93)
    fix_w = corrections_file(worst, small, 100 if not args.smoke else 10)
    w = alternating(
        {
            "check": [COA, "check", str(worst), "--format", "json", "--force",
                      "-o", f"{out}/w.json"],
            "reader": py(
                "import python_calamine as c; "
                f"c.CalamineWorkbook.from_path({str(worst)!r}).get_sheet_by_index(0)"
                ".to_python()"
            ),
            "export_lean": [COA, "export", str(worst), "--corrections", str(fix_w),
                            "--checklist", "", "--out-dir", out],
            "export_every": [COA, "export", str(worst), "--corrections", str(fix_w),
                             "--out-dir", out],
        },
        rep_slow,
    )  # fmt: skip
    results["6w_export_worst"] = {
        **w,
        "ratio_check_to_reader": w["check"]["seconds"] / w["reader"]["seconds"],
        "ratio_lean_to_check": w["export_lean"]["seconds"] / w["check"]["seconds"],
        "ratio_every_to_check": w["export_every"]["seconds"] / w["check"]["seconds"],
    }
    # 7. merging evidence collected from every PC onto the large register
    collection = collection_file(csv_large, cache / f"collected-{large}.csv")
    merged = timed(
        [
            COA,
            "check",
            str(csv_large),
            "--evidence",
            str(collection),
            "--format",
            "json",
            "--force",
            "-o",
            f"{out}/r7.json",
        ],
        rep_slow,
    )
    results["7_evidence_merge"] = {
        "check_with_evidence": merged,
        "check": check_csv,
        "ratio_to_check": merged["seconds"] / check_csv["seconds"],
    }
    # 8. --annotate (a status and the findings on every row) against a plain export
    annotate_rows = 1000 if args.smoke else 200_000
    xlsx_annotate = ensure(cache / f"fleet-{annotate_rows}.xlsx", annotate_rows)
    plain = timed(
        [COA, "export", str(xlsx_annotate), "--checklist", "", "--out-dir", out], rep_slow
    )
    annotated = timed(
        [
            COA,
            "export",
            str(xlsx_annotate),
            "--checklist",
            "",
            "--annotate",
            "--out-dir",
            out,
        ],
        rep_slow,
    )
    results["8_annotate"] = {
        "rows": annotate_rows,
        "export": plain,
        "export_annotate": annotated,
        "ratio_to_export": annotated["seconds"] / plain["seconds"],
    }
    # 10. every output on its own, at both sizes: wall, peak RSS, the ratio to check of the
    # same file, and how each grows from the small fleet to the large (1M/100k: linear is 10)
    # (the smoke run only proves the figure runs: one output)
    names = ("lean",) if args.smoke else tuple(OUTPUTS)
    results["10_outputs"] = outputs_by_size({small: csv_small, large: csv_large}, out, names)
    # 9. reading a 1,000-column header by meaning (cold: every header scored once)
    results["9_header_scoring"] = header_scoring_ms(1000, 40, 3 if args.smoke else 9)
    shutil.rmtree(out, ignore_errors=True)

    target = args.output or (HERE / ("results.smoke.json" if args.smoke else "results.json"))
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwrote {target}")


# each output as the one an export writes beside the lean pair (the corrected inventory and
# the audit workbook, which every export writes): name -> the export's options
OUTPUTS: dict[str, list[str]] = {
    "lean": ["--checklist", ""],
    "json": ["--checklist", "", "--json"],
    "md": ["--checklist", "md"],
    "xlsx": ["--checklist", "xlsx"],
    "pdf": ["--checklist", "pdf"],
    "every": ["--json"],
}


def outputs_by_size(
    files: dict[int, Path], out: str, names: Sequence[str] = tuple(OUTPUTS)
) -> dict[str, Any]:
    """``check`` and an export per output of each file, once each (a large fleet's export
    takes minutes): seconds, peak RSS, the ratio to check; then each output's growth from
    the smallest fleet to the largest."""
    by_size: dict[str, Any] = {}
    for rows, path in files.items():
        folder = Path(out) / f"outputs-{rows}"
        check = run_process(
            [COA, "check", str(path), "--format", "json", "--force", "-o", f"{out}/o.json"]
        )
        size: dict[str, Any] = {"check": {"seconds": check[0], "max_rss_mib": check[1]}}
        for name in names:
            options = OUTPUTS[name]
            shutil.rmtree(folder, ignore_errors=True)
            wall, rss = run_process(
                [COA, "export", str(path), *options, "--out-dir", str(folder), "-q"]
            )
            size[name] = {"seconds": wall, "max_rss_mib": rss, "ratio_to_check": wall / check[0]}
        shutil.rmtree(folder, ignore_errors=True)
        by_size[str(rows)] = size
    small, large = str(min(files)), str(max(files))
    growth = {
        name: by_size[large][name]["seconds"] / by_size[small][name]["seconds"]
        for name in ("check", *names)
    }
    return {"sizes": by_size, "growth_large_to_small": growth, "rows": [small, large]}


def collection_file(register: Path, path: Path) -> Path:
    from coa_audit.importers.collection import COLLECT_SCRIPT_HEADERS

    """What `coa-audit collect-script` gathers from every PC of ``register`` (one in ten a
    Home key), written as Windows PowerShell 5.1's Export-Csv writes it. Made once."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(register, newline="") as f, open(tmp, "w", newline="", encoding="utf-8-sig") as o:
        rows = csv.reader(f)
        head = next(rows)
        si, hi = head.index("Serial Number"), head.index("Hostname")
        mi, mo = head.index("Manufacturer"), head.index("Model")
        w = csv.writer(o, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(COLLECT_SCRIPT_HEADERS)
        for n, row in enumerate(rows):
            desc = "[4.0] Core OEM:DM" if n % 10 == 0 else "[4.0] Professional OEM:DM"
            w.writerow(
                [
                    row[hi],
                    row[si],
                    row[mi],
                    row[mo],
                    "Microsoft Windows 11 Pro",
                    "22631",
                    desc,
                    "",
                    "2026-11-28T09:00:00",
                ]
            )
    tmp.replace(path)
    return path


def _has(module: str) -> bool:
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def table(r: dict[str, Any]) -> str:
    f1, f2, f3, f4 = r["1_check_xlsx"], r["2_check_csv"], r["3_memory_mib"], r["4_tui"]
    f5, f6 = r["5_incremental_edit"], r["6_export"]
    s, n = r["rows"]["small"], r["rows"]["large"]
    lines = [
        "| figure | coa-audit | reference | ratio | target |",
        "|---|---|---|---|---|",
        f"| 1. check {s:,}-row xlsx (json) | {f1['check']['seconds']:.2f} s | calamine to lists "
        f"{f1['calamine_floor']['seconds']:.2f} s | {f1['ratio_to_floor']:.2f}x | <= 1.5x |",
    ]
    if "pandas_openpyxl" in f1:
        lines.append(
            f"| 1. vs pandas.read_excel (openpyxl) | {f1['check']['seconds']:.2f} s | "
            f"{f1['pandas_openpyxl']['seconds']:.2f} s | {f1['pandas_over_check']:.1f}x "
            "faster | >= 5x faster |"
        )
    lines += [
        f"| 1. vs openpyxl read-only | {f1['check']['seconds']:.2f} s | "
        f"{f1['openpyxl_read_only']['seconds']:.2f} s | "
        f"{f1['openpyxl_over_check']:.1f}x faster | |",
        f"| 2. check {n:,}-row csv (json) | {f2['check']['seconds']:.2f} s | csv.reader "
        f"{f2['csv_reader_floor']['seconds']:.2f} s | {f2['ratio_to_floor']:.2f}x | <= 1.5x |",
        f"| 3. peak RSS, check {n:,}-row csv | {f3['check_large_csv']} MiB | csv.reader "
        f"{f3['csv_reader_floor']} MiB | | < 600 MiB |",
        f"| 3. peak RSS, check {s:,}-row xlsx | {f3['check_xlsx']} MiB | | | |",
        f"| 4. tui first frame, {s:,} / {n:,} rows | {f4['open_small']['first_frame_s']:.2f} s / "
        f"{f4['open_large']['first_frame_s']:.2f} s | | | < 1 s |",
        f"| 4. tui fully loaded, {s:,} / {n:,} rows | {f4['open_small']['loaded_s']:.2f} s / "
        f"{f4['open_large']['loaded_s']:.2f} s | | | |",
    ]
    u = f4.get("usable_large")
    if u:
        during = "while rows load" if u["while_loading"] else "after the load"
        lines += [
            f"| 4. tui {n:,} rows (pilot): first row on screen | {u['first_row_s']:.2f} s | "
            f"whole file audited {u['loaded_s']:.2f} s | | < 1 s |",
            f"| 4. tui {n:,} rows: page-down done, {during} | {u['page_down_s']:.2f} s | | | "
            "< 1 s |",
            f"| 4. tui {n:,} rows: search answered, {during} | {u['search_s']:.2f} s | | | < 1 s |",
        ]
    for k in ("page_down_ms", "next_problem_ms", "edit_ms"):
        lines.append(
            f"| 4. key {k[:-3]}, {n:,} rows | {f4['keys_large'][k]:.2f} ms | 1,000 rows "
            f"{f4['keys_1000'][k]:.2f} ms | {f4['ratio_large_to_1000'][k]:.2f}x | "
            "<= 1.2x |"
        )
    lines += [
        f"| 5. incremental re-audit of one edit, {n:,} rows | {f5['median_ms']:.3f} ms (max "
        f"{f5['max_ms']:.2f}) | | | < 5 ms |",
        f"| 6. export {s:,}-row xlsx, 100 edits, no checklist | "
        f"{f6['export_command']['seconds']:.2f} s | check {f6['check']['seconds']:.2f} s | "
        f"{f6['ratio_export_to_check']:.2f}x | <= 1.5x |",
        f"| 6. export {s:,}-row xlsx, 100 edits, every output | "
        f"{f6['export_default']['seconds']:.2f} s | check {f6['check']['seconds']:.2f} s | "
        f"{f6['ratio_default_export_to_check']:.1f}x | <= 4x |",
        f"| 6. peak RSS, every output | {f6['export_default']['max_rss_mib']:.0f} MiB | | | "
        "<= 550 MiB |",
        f"| 6. of which writing the corrected xlsx | {f6['write_corrected_s']:.2f} s | | | |",
    ]
    fw = r.get("6w_export_worst")
    if fw:
        lines += [
            f"| 6w. worst case (>90% with findings): check {s:,}-row xlsx | "
            f"{fw['check']['seconds']:.2f} s | calamine to lists {fw['reader']['seconds']:.2f} s "
            f"| {fw['ratio_check_to_reader']:.2f}x | <= 1.5x |",
            f"| 6w. worst case: export {s:,} rows, 100 edits, no checklist "
            f"| {fw['export_lean']['seconds']:.2f} s | check {fw['check']['seconds']:.2f} s | "
            f"{fw['ratio_lean_to_check']:.2f}x | <= 1.5x |",
            f"| 6w. worst case: every output | {fw['export_every']['seconds']:.2f} s | check "
            f"{fw['check']['seconds']:.2f} s | {fw['ratio_every_to_check']:.1f}x | <= 4x |",
            f"| 6w. worst case: peak RSS, every output | "
            f"{fw['export_every']['max_rss_mib']:.0f} MiB | | | < 600 MiB |",
        ]
    f7 = r.get("7_evidence_merge")
    if f7:
        lines.append(
            f"| 7. check {n:,}-row csv with a {n:,}-row collection (--evidence) | "
            f"{f7['check_with_evidence']['seconds']:.2f} s | check alone "
            f"{f7['check']['seconds']:.2f} s | {f7['ratio_to_check']:.2f}x | <= 1.3x |"
        )
    f8 = r.get("8_annotate")
    if f8:
        lines.append(
            f"| 8. export --annotate, {f8['rows']:,}-row xlsx | "
            f"{f8['export_annotate']['seconds']:.2f} s | export "
            f"{f8['export']['seconds']:.2f} s | {f8['ratio_to_export']:.2f}x | <= 2x |"
        )
    f10 = r.get("10_outputs")
    if f10:
        small, large = f10["rows"]
        for name in f10["growth_large_to_small"]:
            a, b = f10["sizes"][small][name], f10["sizes"][large][name]
            lines.append(
                f"| 10. {name}: {int(small):,} / {int(large):,} rows | {a['seconds']:.1f} s / "
                f"{b['seconds']:.1f} s, {a['max_rss_mib']} / {b['max_rss_mib']} MiB | "
                f"growth {f10['growth_large_to_small'][name]:.1f}x | "
                + (f"{b['ratio_to_check']:.1f}x check |" if name != "check" else "|")
                + (" <= 6x check, <= 1 GiB, growth <= 12 |" if name != "check" else " |")
            )
    f9 = r.get("9_header_scoring")
    if f9:
        lines.append(
            f"| 9. header read by meaning, {f9['columns']:,} columns (cold) | "
            f"{f9['median_ms']:.1f} ms (max {f9['max_ms']:.1f}) | | | < 50 ms |"
        )
    m = r["machine"]
    lines.append(
        f"\nmachine: {m['cpus']} CPUs, {m['processor']}, Python {m['python']}, "
        f"{m['platform']}; {r['date']}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
