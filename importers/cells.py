"""Turn spreadsheet cell values into the text a user sees, column by column."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

__all__ = ["ColumnBuilder", "cell_text"]


def cell_text(value: object) -> str:
    """The text of one cell value as a spreadsheet shows it (never scientific notation for
    whole numbers, dates as ISO dates)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


class ColumnBuilder:
    """Accumulates rows into columns. Repeated values share one string object while a column
    looks repetitive; columns of unique values (serials, keys) stop paying for the cache."""

    _PROBE = 4096

    def __init__(self, width: int, track_numbers: Sequence[int] = ()) -> None:
        self.width = width
        self.columns: list[list[str]] = [[] for _ in range(width)]
        self._caches: list[dict[str, str] | None] = [{} for _ in range(width)]
        self.track = set(track_numbers)
        self.numeric: dict[int, set[int]] = {c: set() for c in self.track}

    def add_rows(self, rows: Sequence[Sequence[object]]) -> None:
        """Add a chunk of rows (each at most ``width`` long, shorter ones padded)."""
        if not rows:
            return
        width = self.width
        base = len(self.columns[0]) if width else 0
        fixed = [
            r if len(r) == width else (list(r[:width]) + [""] * (width - len(r))) for r in rows
        ]
        for c, raw in enumerate(zip(*fixed, strict=True)):
            types = set(map(type, raw))  # one C-level pass: most chunks are all text
            values: Sequence[str]
            if types == {str}:
                values = raw
            else:
                if c in self.track and types & {int, float}:
                    num = self.numeric[c]
                    num.update(base + i for i, v in enumerate(raw) if type(v) in (int, float))
                values = [v if type(v) is str else cell_text(v) for v in raw]
            cache = self._caches[c]
            if cache is not None:
                values = list(map(cache.setdefault, values, values))
                col_len = base + len(values)
                if col_len >= self._PROBE and len(cache) > col_len // 2:
                    self._caches[c] = None  # mostly unique: the cache only costs memory
            self.columns[c].extend(values)
