"""Values found by their hashes: a column's hashes sorted with the rows they came from,
value -> rows in 12 bytes a row (a dict takes about 70). The audit's duplicate indexes and
the evidence merge (``importers.collection``) read a column through it.

numpy sorts a column of ``NUMPY_FROM`` rows or more when it is installed (the ``fast`` extra:
``pip install coa-audit[fast]``); the standard library does the rest, and every column
where numpy is not installed. Both give the same answers in the same order: hashes
ascending, the rows of one hash ascending (a stable sort), so a report is the same byte for
byte either way. Below ``NUMPY_FROM`` rows numpy is not even imported: it buys nothing
measurable there and costs its import (bench/footprint.py measures both paths).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from itertools import compress, islice, repeat
from operator import eq
from typing import Any

# a column this long or longer is sorted with numpy, when it is installed. Measured on
# whole `check` runs (bench/footprint.py): at 20,000 to 100,000 rows the two paths take the
# same time within the noise and importing numpy adds 8 to 11 MiB; at 300,000 numpy's is
# about 9% faster, at 1,000,000 about 13% faster with 79 MiB less at the peak
NUMPY_FROM = 100_000


@cache
def numpy() -> Any:
    """The numpy module, or None where it is not installed."""
    try:
        import numpy as np
    except ImportError:
        return None
    return np


def hashes_of(forms: Iterable[str], n: int) -> Any:
    """The hashes of ``n`` strings (normal forms), as a mutable sequence of 64-bit integers
    (``h[i] = hash(...)`` sets one, ``copy.copy`` copies): numpy's for a long column."""
    np = numpy() if n >= NUMPY_FROM else None
    if np is not None:
        return np.fromiter(map(hash, forms), dtype=np.int64, count=n)
    out = array("q", map(hash, forms))
    if len(out) != n:
        raise ValueError(f"{len(out)} values, not {n}")
    return out


class SortedHashes:
    """A column's hashes (``hashes_of``) sorted, with the row each came from; one hash's rows
    stay in order. Sorted by numpy when ``hashes_of`` gave numpy's array."""

    __slots__ = ("hashes", "np", "rows")

    def __init__(self, hashes: Any) -> None:
        np = None if isinstance(hashes, array) else numpy()
        self.np = np
        if np is not None:
            order = np.argsort(hashes, kind="stable")
            self.rows: Any = order.astype(np.uint32)
            self.hashes: Any = hashes[order]
        else:
            values = hashes.tolist()
            rows = sorted(range(len(values)), key=values.__getitem__)  # stable
            self.rows = array("I", rows)
            self.hashes = array("q", [values[r] for r in rows])

    def __len__(self) -> int:
        return len(self.hashes)

    def runs(self) -> Iterator[list[int]]:
        """The rows of every hash that two rows or more hold, hashes ascending."""
        h, n = self.hashes, len(self.hashes)
        if n < 2:
            return
        # every sorted place whose next place holds the same hash: a run, but its last
        if self.np is not None:
            same: list[int] = self.np.flatnonzero(h[1:] == h[:-1]).tolist()
        else:
            same = list(compress(range(n - 1), map(eq, h, islice(h, 1, None))))
        if not same:
            return
        start = last = same[0]
        for i in islice(same, 1, None):
            if i != last + 1:
                yield self.rows[start : last + 2].tolist()
                start = i
            last = i
        yield self.rows[start : last + 2].tolist()

    def rows_of(self, h: int) -> list[int]:
        """The rows whose hash is ``h``, in order."""
        if self.np is not None:
            lo = int(self.hashes.searchsorted(h, "left"))
            hi = int(self.hashes.searchsorted(h, "right"))
        else:
            lo = bisect_left(self.hashes, h)
            hi = bisect_right(self.hashes, h, lo)
        return self.rows[lo:hi].tolist()

    def first(self, wanted: Any) -> tuple[list[int], list[bool]]:
        """For each hash in ``wanted`` (``hashes_of``): the first row that holds it (-1 for
        none), and whether another row holds it too."""
        m, n = len(wanted), len(self.hashes)
        if not n or not m:
            return [-1] * m, [False] * m
        np = self.np
        if np is not None:
            wanted = np.asarray(wanted, dtype=np.int64)
            order = np.argsort(wanted)  # sorted needles: a search twice as fast
            at = np.empty(m, dtype=np.int64)
            at[order] = np.searchsorted(self.hashes, wanted[order])
            np.minimum(at, n - 1, out=at)
            hit = self.hashes[at] == wanted
            after = np.minimum(at + 1, n - 1)
            shared = hit & (at + 1 < n) & (self.hashes[after] == wanted)
            rows = self.rows[at].astype(np.int64)  # -1 for none: not a uint32
            return np.where(hit, rows, -1).tolist(), shared.tolist()
        h, rows = self.hashes, self.rows
        needles: Sequence[int] = wanted.tolist()
        at_list = list(map(bisect_left, repeat(h, m), needles))
        found, twice = [-1] * m, [False] * m
        for i in compress(range(m), map(n.__gt__, at_list)):
            a = at_list[i]
            if h[a] == needles[i]:
                found[i] = rows[a]
                twice[i] = a + 1 < n and h[a + 1] == needles[i]
        return found, twice
