"""Write a synthetic inventory (core.sample) as csv or xlsx."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from coa_audit.core.sample import SAMPLE_HEADERS, sample_rows
from coa_audit.exporters.atomic import OutputError, atomic_writer

__all__ = ["write_sample"]


def write_sample(path: Path, rows: int, seed: int = 1, problems: float | None = None) -> None:
    ext = path.suffix.lower()
    if ext in (".csv", ".txt"):
        with atomic_writer(path) as f:
            text = io.TextIOWrapper(f, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(SAMPLE_HEADERS)
            writer.writerows(sample_rows(rows, seed, problems))
            text.flush()
            text.detach()
    elif ext in (".xlsx", ".xlsm"):
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Inventory")
        ws.append(list(SAMPLE_HEADERS))
        for row in sample_rows(rows, seed, problems):
            ws.append(row)
        with atomic_writer(path) as f:
            wb.save(f)
    else:
        raise OutputError(
            f"cannot write a sample as {ext or 'a file without extension'}: use .xlsx or .csv"
        )
