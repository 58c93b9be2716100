"""Where `check --format json` spends its time on one register, phase by phase, in one
process (each phase timed alone, best of ``--repeat``):

    python bench/phases.py FILE [--repeat 3]

- ``reader``: python-calamine's whole read (the sheet to Python lists): the reference of
  `make bench` figures 1 and 6w;
- ``guard``: the check made before the reader may allocate the sheet
  (``xlsx_parts.sheet_bounds_problem``; xlsx, xlsm only);
- ``parse``: the reader's sheet alone (``get_sheet_by_name``, without the lists);
- ``load``: ``load_inventory`` whole (guard, parse, the rows into columns, header, formats);
- ``audit``: ``Audit`` on the loaded register;
- ``report_one`` / ``report_two``: the JSON report written by one process, and by two
  (``write_report_json(beside=...)``: the command's way).

The command itself adds its start (imports, the supervisor): see `make bench` figure 6w.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import python_calamine

    from coa_audit.core.audit import Audit
    from coa_audit.core.policy import load_policy
    from coa_audit.exporters.check_report import write_report_json
    from coa_audit.importers.load import _BOUNDED, load_inventory
    from coa_audit.importers.xlsx_parts import sheet_bounds_problem

    path, n = args.file, args.repeat
    spreadsheet = path.suffix.lower() in (".xlsx", ".xlsm")
    out: dict[str, float] = {}
    if spreadsheet:
        name = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names[0]
        out["reader"] = best(
            n,
            lambda: (
                python_calamine.CalamineWorkbook.from_path(str(path))
                .get_sheet_by_index(0)
                .to_python()
            ),
        )
        out["guard"] = best(n, lambda: sheet_bounds_problem(str(path), name))
        out["parse"] = best(
            n, lambda: python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
        )

    def load() -> None:
        _BOUNDED.clear()  # the guard again, as each command runs it once
        load_inventory(path)

    out["load"] = best(n, load)
    inv = load_inventory(path)
    policy = load_policy(None)
    out["audit"] = best(n, lambda: Audit(inv, policy))
    audit = Audit(inv, policy)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "report.json"

        def report(beside: Path | None) -> None:
            with open(target, "wb") as f:
                write_report_json(audit, f, beside=beside)

        out["report_one"] = best(n, lambda: report(None))
        out["report_two"] = best(n, lambda: report(Path(folder)))
    out["devices"] = len(inv)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
