"""The audit engine: findings and a status for every device, kept up to date per edit.

A full run evaluates every row once. Row-local checks that depend only on repeated text
(evidence, edition, OS, image, maker, model) are cached per distinct combination, so a
fleet that repeats a few dozen editions costs a few dozen evaluations plus a lookup per row.
Duplicate serials, keys and asset tags come from value -> rows indexes, so an edit
re-audits the edited row plus the rows that shared or now share its value: ``update`` is
O(1 + group size), not O(fleet).

Detailed findings (messages, related rows) are built on demand for one row at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, compress, repeat
from operator import methodcaller
from typing import Any

from coa_audit.core.codes import code_info, codes
from coa_audit.core.editions import ParsedEdition
from coa_audit.core.events import CONFLICT, Mark
from coa_audit.core.identity import identity, iter_identities, unpadded, visible
from coa_audit.core.model import Inventory
from coa_audit.core.policy import Policy
from coa_audit.core.rules import (
    KEY_GOOD,
    KEY_NONE,
    ROW_TEXT_FIELDS,
    DeviceEvidence,
    Duplicate,
    Item,
    RowFacts,
    Rules,
    holds_key,
    mask_key,
    mask_keys,
    quote,
)
from coa_audit.core.sorting import SortedHashes, hashes_of
from coa_audit.core.status import STATUSES, Status

# what a presence cell says when the walk keeps the device from being certified
_NOT_SEEN = ("not found", CONFLICT)

__all__ = [
    "Audit",
    "EvidenceReader",
    "Finding",
    "Summary",
    "holds_key",
    "mask_key",
    "mask_keys",
]

ELIGIBLE, REVIEW, BLOCKED, OUT_OF_SCOPE = (int(s) for s in Status)

# Duplicate kinds: (kind, field, code)
_DUPS: tuple[tuple[Duplicate, str, str], ...] = (
    (Duplicate.SERIAL, "serial_number", "SERIAL_DUPLICATE"),
    (Duplicate.KEY, "coa_key", "KEY_DUPLICATE"),
    (Duplicate.ASSET_TAG, "asset_tag", "ASSET_TAG_DUPLICATE"),
)
# each kind's flag as a plain int, with its code: what the per-row loops test (an IntFlag's
# own ``&`` is a Python call)
# a serial equal to another once leading zeros are dropped (``Rules.possible_key``): every row
# of an unpadded form that holds more than one identity; reviewed, never merged
_POSSIBLE: tuple[Duplicate, str, str] = (
    Duplicate.SERIAL_POSSIBLE,
    "serial_number",
    "SERIAL_POSSIBLE_DUPLICATE",
)
_DUP_BITS: tuple[tuple[int, str], ...] = tuple(
    (kind.value, code) for kind, _f, code in (*_DUPS, _POSSIBLE)
)
# identifiers with no duplicate kind of their own whose characters are checked per row
# (the serial's rule checks its own: ``Rules.serials``)
_ID_ONLY = ("asset_tag", "hostname")
# the evidence cells a report's edition and evidence type are read from (``RowFacts``)
_EVIDENCE_CELLS = (
    "coa_present",
    "coa_edition",
    "oa3_edition",
    "fw_edition",
)  # evidence_types unpacks these four


def _new_codes(items: tuple[Item, ...], more: tuple[Item, ...]) -> tuple[Item, ...]:
    """``more`` without the codes ``items`` already has (a VM named by its model and by its
    serial is one finding)."""
    have = {c for c, _ in items}
    return tuple(m for m in more if m[0] not in have) if have else more


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    field: str
    column: str  # spreadsheet column letter, "" when the field is not in the source
    message: str
    related_rows: tuple[int, ...] = ()

    @property
    def detail(self) -> str:
        """The message without the code's standard action: what was found on this row, with
        the words that were not understood where that is the finding."""
        action = code_info(self.code).action
        if action and self.message.endswith(action):
            return self.message[: -len(action)].rstrip()
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "column": self.column,
            "message": self.message,
            "related_rows": list(self.related_rows),
        }


@dataclass
class Summary:
    devices: int
    eligible: int
    review: int
    blocked: int
    findings: dict[str, int] = field(default_factory=dict)
    out_of_scope: int = 0  # rows that are not PCs, and devices taken out: counted apart
    attested: int = 0  # of the eligible: accepted by a person, on a stated basis
    removed: int = 0  # of the out of scope: taken out of the order during the walk

    @property
    def not_pc(self) -> int:
        """Rows that are not PCs (out of scope by their own data, not taken out)."""
        return self.out_of_scope - self.removed

    def as_dict(self) -> dict[str, Any]:
        return {
            "devices": self.devices,
            "eligible": self.eligible,
            "review": self.review,
            "blocked": self.blocked,
            "out_of_scope": self.out_of_scope,
            "not_pc": self.not_pc,
            "taken_out_of_order": self.removed,
            "eligible_by_attestation": self.attested,
            "findings": dict(self.findings),
        }


class _ValueIndex:
    """value -> rows in 12 bytes a row (a dict would take ~70): the values' hashes sorted,
    with their rows, as built at load (``core.sorting``: numpy sorts a million in a few tens
    of ms); plus a small overlay of (value, row) pairs set by edits since. A lookup takes the
    candidates with the value's hash and keeps those whose *current* value matches, so rows
    edited away from a value drop out by themselves and hash collisions never merge two
    values."""

    __slots__ = ("norm", "overlay", "sorted")

    def __init__(self, values: list[str], norm: Callable[[str], str], hashes: Any) -> None:
        """``hashes``: of every value's normal form (``norm``), worked out at C speed
        (``hashes_of``): only they are kept, sorted (or already sorted: ``SortedHashes``)."""
        self.norm = norm  # ``Rules.norm_id`` for the field
        assert len(hashes) == len(values)
        self.sorted = hashes if isinstance(hashes, SortedHashes) else SortedHashes(hashes)
        self.overlay: dict[str, set[int]] = {}

    def shared(self, values: list[str]) -> Iterator[tuple[str, list[int], str]]:
        """(normalised value, rows, one of its values as written) for every non-blank value
        held by two rows or more in ``values`` (the list the index was built from)."""
        for run in self.sorted.runs():
            written: dict[str, list[int]] = {}  # rows by the value as written
            for r in run:
                written.setdefault(values[r], []).append(r)
            groups: dict[str, list[int]] = {}  # then by its normal form (one call a value)
            first: dict[str, str] = {}
            for raw, members in written.items():
                key = self.norm(raw)
                groups.setdefault(key, []).extend(members)
                first.setdefault(key, raw)
            for key, members in groups.items():
                if key and len(members) > 1:
                    yield key, sorted(members), first[key]

    def group(self, key: str, current: Callable[[int], str]) -> list[int]:
        found = {r for r in self.sorted.rows_of(hash(key)) if current(r) == key}
        found.update(r for r in self.overlay.get(key, ()) if current(r) == key)
        return sorted(found)

    def add(self, key: str, row: int) -> None:
        self.overlay.setdefault(key, set()).add(row)


_PRESENT = frozenset(("present", "not_base", "unknown"))  # evidence states that show evidence


@dataclass(frozen=True)
class EvidenceReader:
    """``Audit.evidence_type`` and ``Audit.evidence`` for many rows (``evidence_reader``)."""

    type: Callable[[int], str]
    evidence: Callable[[int], tuple[bool, ParsedEdition | None, str]]


class Audit:
    """Findings and statuses for one inventory under one policy."""

    def __init__(
        self,
        inventory: Inventory,
        policy: Policy,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.inv = inventory
        self.policy = policy
        self.rules = Rules(policy)
        self._walk_seen: tuple[int, int] = (0, -1)
        self._walk: tuple[int, ...] = ()
        self._local_cache: dict[RowFacts, tuple[tuple[Item, ...], int]] = {}
        # the same answers by the cells as read (before ``Rules.facts`` reduces them)
        self._raw_cache: dict[tuple[tuple[str, ...], int, int], tuple[tuple[Item, ...], int]] = {}
        self._evidence_types: dict[tuple[Any, ...], str] = {}
        self._evidence_cache: dict[tuple[tuple[str, ...], int, int], DeviceEvidence] = {}
        self._tuple_cache: dict[tuple[Item, ...], tuple[Item, ...]] = {(): ()}
        self._edition_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        # row-local findings are shared between rows (they depend on repeated text only)
        self._finding_cache: dict[Item, Finding] = {}
        self._dup_levels = tuple(
            (int(kind), code_info(code).level) for kind, _f, code in (*_DUPS, _POSSIBLE)
        )
        self.run(progress)

    # -- full run --------------------------------------------------------------------------
    def _col(self, name: str) -> list[str] | repeat[str]:
        col = self.inv.mapping.get(name)
        return repeat("") if col is None else self.inv.column_values(col)

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Audit every row (after load, or after the column mapping changed)."""
        inv = self.inv
        n = len(inv)
        unmapped = set() if inv.evidence_mapped else {"evidence"}
        if "serial_number" not in inv.mapping:
            unmapped.add("serial_number")
        if not inv.edition_mapped:
            unmapped.add("edition")
        present_col = inv.mapping.get("coa_present")
        turned = None
        if present_col is not None:
            header = inv.headers[present_col]
            word = self.rules.policy.evidence.header_turns(header)
            turned = None if word is None else (header, word)
        if self.rules.unmapped != unmapped or self.rules.present_turned != turned:
            self.rules.present_turned = turned
            self.rules.unmapped = frozenset(unmapped)
            self._local_cache.clear()
            self._raw_cache.clear()
            self._evidence_cache.clear()
            self._finding_cache.clear()
        local_cols = [self._col(f) for f in ROW_TEXT_FIELDS]
        keys = self._col("coa_key")
        serials = self._col("serial_number")
        serial_col = inv.mapping.get("serial_number")
        numeric_serials = inv.numeric.get(serial_col, set()) if serial_col is not None else set()
        self._serial_header = header = "" if serial_col is None else inv.headers[serial_col]

        local: list[tuple[Item, ...]] = [()] * n
        levels = bytearray(n)
        rules = self.rules
        # every finding comes from one rule (core.rules); the loop caches the row-local rule
        # per distinct combination and calls the per-row rules, which have their own fast path
        device_rule, key_class = self._device, rules.key_class
        # the per-row rules over whole columns (one pass each, same rules as for one value)
        key_results: Iterable[tuple[int, tuple[Item, ...]]] = repeat((KEY_NONE, ()))
        self._irregular_keys: list[int] = []
        if "coa_key" in inv.mapping:
            assert isinstance(keys, list)  # a mapped column
            key_results, self._irregular_keys = rules.key_column(keys)
        serial_results = rules.serials(
            serials if isinstance(serials, list) else [""] * n, numeric_serials, header
        )
        # hidden or look-alike characters in asset tags and host names: a few rows, if any;
        # the asset tags' identities are worked out in the same pass (for their index)
        forms: dict[str, Any] = {}
        for fname in _ID_ONLY:
            col = inv.mapping.get(fname)
            if col is None:
                continue
            values = inv.column_values(col)
            odd: list[int] | None = None
            if fname == "asset_tag":
                odd = []
                chunks = iter_identities(values, odd)
                forms[fname] = hashes_of(chain.from_iterable(chunks), len(values))
            for i, found in rules.identifiers(fname, values, odd).items():
                serial_results[i] = serial_results[i] + found
        # a host name a cloud gives its virtual machines (``Rules.hostnames``): a few rows
        if "hostname" in inv.mapping:
            hosts = inv.column_values(inv.mapping["hostname"])
            for i, found in rules.hostnames(hosts).items():
                serial_results[i] = serial_results[i] + _new_codes(serial_results[i], found)
        # the serials' identities, once: their index and their unpadded forms' index
        serial_forms: list[str] = []
        if serial_col is not None:
            assert isinstance(serials, list)  # a mapped column
            serial_forms = list(chain.from_iterable(iter_identities(serials)))
            forms["serial_number"] = hashes_of(serial_forms, n)
        intern = self._tuple_cache.setdefault
        by_lk: dict[tuple[str, ...], list[tuple[tuple[Item, ...], int] | None]] = {}
        out_of_scope = OUT_OF_SCOPE
        step = max(1, n // 100)
        # Missing fields are endless repeat("") columns, so the zips are not strict; the
        # first real column (or n) ends the loop.
        fw_keys = self._col("fw_key")
        has_fw = "fw_key" in inv.mapping
        rows = zip(zip(*local_cols, strict=False), key_results, fw_keys, strict=False)
        for i, (lk, (kc, extra), fw_key) in enumerate(rows):
            if i >= n:
                break
            pair = by_lk.get(lk)
            if pair is None:
                pair = by_lk[lk] = [None] * 16  # key class + 4 x firmware key class
            fkc = key_class(fw_key) if has_fw and fw_key else 0
            slot = kc + 4 * fkc
            hit = pair[slot]
            if hit is None:
                hit = pair[slot] = device_rule(lk, kc, fkc)
            items, level = hit
            if level == out_of_scope:
                local[i] = items
                levels[i] = level
                continue
            s_items = serial_results[i]
            if extra or s_items:
                more = _new_codes(items, extra + s_items)
                if more:
                    items = intern(items + more, items + more)
                    level = max(level, *(code_info(c).level for c, _ in more))
            local[i] = items
            levels[i] = level
            if progress is not None and i % step == 0:
                progress(i, n)
        self._local = local
        self._level = levels  # local level only
        self._index: dict[str, _ValueIndex] = {}
        self._dups = bytearray(n)
        for kind, fname, _code in _DUPS:
            self._build_index(kind, fname, forms.get(fname))
        self._build_possible(serial_forms, forms.get("serial_number"))
        status = bytearray(levels)
        self._status = status
        for i in self._dup_rows():
            status[i] = self._status_of(i)
        for i in self.walked_rows():
            status[i] = self._status_of(i)
        self._recount()
        if progress is not None:
            progress(n, n)

    def _device(self, texts: tuple[str, ...], kc: int, fkc: int) -> tuple[tuple[Item, ...], int]:
        """The row-local rule for one row's cells (``ROW_TEXT_FIELDS`` in order, and its key
        classes), cached per distinct ``RowFacts``: what a full run and an update both call."""
        raw = (texts, kc, fkc)  # most rows repeat a combination: found before it is read
        hit = self._raw_cache.get(raw)
        if hit is None:
            facts = self.rules.facts(texts, kc, fkc)
            hit = self._local_cache.get(facts)
            if hit is None:
                hit = self._local_cache[facts] = self.rules.device(facts)
            self._raw_cache[raw] = hit
        return hit

    def _row_texts(self, row: int) -> tuple[str, ...]:
        f = self.inv.field
        return tuple(f(row, n) for n in ROW_TEXT_FIELDS)

    def _dup_key(self, kind: Duplicate, value: str) -> str | None:
        """The value as duplicates are compared, or None when it never counts as one."""
        return self.rules.dup_key(kind, value, self._serial_header)

    def _build_index(self, kind: Duplicate, fname: str, hashes: Any = None) -> None:
        """Index the field's values and flag the rows of every shared value that counts as a
        duplicate (placeholders and generic keys do not: ``_dup_key`` decides, and only for
        the few values that are shared). ``hashes``: of the values' forms, when known."""
        col = self.inv.mapping.get(fname)
        values = [] if col is None else self.inv.column_values(col)
        if hashes is None and fname == "coa_key":
            # upper case without surrounding space: for a key already written as five dashed
            # groups, ``Policy.key_norm``; the other keys are normalised one by one
            hashes = hashes_of(map(str.upper, map(str.strip, values)), len(values))
            for i in self._irregular_keys:
                hashes[i] = hash(self.rules.norm_id(fname, values[i]))
        elif hashes is None:  # serials and asset tags: their identity, a chunk at a time
            hashes = hashes_of(chain.from_iterable(iter_identities(values)), len(values))
        index = _ValueIndex(values, partial(self.rules.norm_id, fname), hashes)
        self._index[fname] = index
        flags, bit = self._dups, int(kind)
        for _key, rows, written in index.shared(values):
            if self._dup_key(kind, written) is None:
                continue
            for i in rows:
                flags[i] |= bit

    def _possible_key(self, value: str) -> str | None:
        """A serial as possible duplicates are compared (``Rules.possible_key``), or None."""
        return self.rules.possible_key(value, self._serial_header)

    def _build_possible(self, forms: list[str], hashes: Any) -> None:
        """Index the serials by their unpadded form (``Rules.possible_key``) and flag every
        row of an unpadded form that holds more than one identity. ``forms``: the serials'
        identities, ``hashes`` theirs. Only a form that starts with a zero has an unpadded
        form of its own: the other rows keep their identity's hash, and a column with none
        is one pass in C."""
        col = self.inv.mapping.get("serial_number")
        values = [] if col is None else self.inv.column_values(col)
        if hashes is None:
            hashes = hashes_of(map(identity, values), len(values))
        padded = list(compress(range(len(forms)), map(methodcaller("startswith", "0"), forms)))
        if padded:
            hashes = copy(hashes)
            for i in padded:
                hashes[i] = hash(unpadded(forms[i]))
        elif "serial_number" in self._index:
            # every unpadded form is its identity: the serials' own index, sorted from these
            # same hashes (``run``), serves as it is, with no second sort
            hashes = self._index["serial_number"].sorted
        key = self._possible_key
        self._possible = _ValueIndex(values, lambda v: key(v) or "", hashes)
        if not padded:  # every unpadded form is its identity: one identity per form
            return
        flags, bit = self._dups, int(_POSSIBLE[0])
        for _key, rows, _written in self._possible.shared(values):
            if len({forms[r] for r in rows}) > 1:
                for i in rows:
                    flags[i] |= bit

    def _possible_group(self, key: str | None) -> list[int]:
        """The rows whose current serial's unpadded form is ``key``."""
        col = self.inv.mapping.get("serial_number")
        if key is None or col is None:
            return []
        value = self.inv.value
        return self._possible.group(key, lambda r: self._possible_key(value(r, col)) or "")

    def _repossible(self, row: int, pk: str | None, touched: set[int]) -> None:
        """After row ``row``'s serial changed to one of unpadded form ``pk``: the possible
        duplicate flag of every touched row, from its unpadded form's group."""
        if pk is not None:
            self._possible.add(pk, row)
        col = self.inv.mapping["serial_number"]
        value, bit = self.inv.value, int(_POSSIBLE[0])
        shared: dict[str | None, bool] = {None: False}
        for r in touched:
            key = self._possible_key(value(r, col))
            several = shared.get(key)
            if several is None:
                ids = {identity(value(g, col)) for g in self._possible_group(key)}
                several = shared[key] = len(ids) > 1
            self._dups[r] = (self._dups[r] | bit) if several else (self._dups[r] & ~bit)

    def _dup_rows(self) -> Iterator[int]:
        flags = self._dups
        return (i for i in range(len(flags)) if flags[i])

    def _status_of(self, row: int) -> int:
        """The row's status: ``_base_status``, then the walk: a device taken out of the order
        is out of scope, and a REVIEW device accepted after a physical check is eligible (a
        blocked one never is: it needs a data fix)."""
        if not self._walk_cols:
            return self._base_status(row)
        f = self.inv.field
        if f(row, "removed"):
            return OUT_OF_SCOPE
        level = self._checked_status(row)
        # an acceptance is a person's mark with its basis (core.events.Mark); text in a
        # column mapped to the field is no acceptance (fail closed)
        if level == REVIEW and self.inv.marks_of(row, "attested") and not self.walk_holds(row):
            return ELIGIBLE
        return level

    def walk_holds(self, row: int) -> bool:
        """The walk keeps this device from being certified, whatever else is known: it was
        not found on site, or the marks on it disagree."""
        f = self.inv.field
        return f(row, "sighted") in _NOT_SEEN or f(row, "label") == CONFLICT

    def _checked_status(self, row: int) -> int:
        """``_base_status`` raised by the label the verifier confirmed on site: found missing
        it blocks, found different it is a review."""
        level = self._base_status(row)
        if level == OUT_OF_SCOPE or not self._walk_cols:
            return level
        label = self.inv.field(row, "label")
        if label == "missing":
            return max(level, BLOCKED)
        if label in ("differs", CONFLICT) or self.inv.field(row, "sighted") in _NOT_SEEN:
            return max(level, REVIEW)
        return level

    def _base_status(self, row: int) -> int:
        """The row's local level, raised by each duplicate it takes part in to that code's
        severity (from findings.toml, like every other code)."""
        level = self._level[row]
        flags = self._dups[row]
        if level == OUT_OF_SCOPE or not flags:
            return level
        return max(level, *(lv for bit, lv in self._dup_levels if flags & bit))

    @property
    def _walk_cols(self) -> tuple[int, ...]:
        """The walk's columns that change a status (attested, removed, label) as mapped now;
        read once per mapping (the session adds them after the first run, a remap replaces
        the mapping)."""
        m = self.inv.mapping
        seen = (id(m), len(m))
        if self._walk_seen != seen:
            self._walk_seen = seen
            self._walk = tuple(m[f] for f in ("attested", "removed", "label", "sighted") if f in m)
        return self._walk

    def walked_rows(self) -> set[int]:
        """Rows the walk accepted or took out (edits of its columns: a handful)."""
        cols = self._walk_cols
        return {r for (r, c), v in self.inv.edits.items() if c in cols and v} if cols else set()

    def attested(self, row: int) -> tuple[Mark, ...]:
        """The acceptances that make this device eligible (it would be a review without
        them), or ()."""
        if self._status[row] != ELIGIBLE or self._checked_status(row) != REVIEW:
            return ()
        return self.inv.marks_of(row, "attested")

    def removed(self, row: int) -> tuple[Mark, ...]:
        """The marks that took this device out of the order, or ()."""
        return self.inv.marks_of(row, "removed")

    def shown_status(self, row: int) -> str:
        """The status as a person reads it: the walk's own outcomes by their names (a
        device accepted by a person is "accepted", one taken out of the order "taken out",
        never "ok" or "not PC"), else the status's label."""
        level = self._status[row]
        if self.inv.marks and level in (ELIGIBLE, OUT_OF_SCOPE):
            if level == ELIGIBLE and self.attested(row):
                return "accepted"
            if level == OUT_OF_SCOPE and self.removed(row):
                return "taken out"
        return Status(level).label

    def overridden(self, row: int) -> list[Finding]:
        """What an acceptance overrides: the findings this device would be reviewed for."""
        return [x for x in self.findings(row) if x.severity == "warning" and x.code != "ATTESTED"]

    def walk_counts(self) -> tuple[int, int]:
        """(devices eligible by attestation, devices taken out of the order)."""
        rows = self.walked_rows()
        return sum(1 for r in rows if self.attested(r)), sum(1 for r in rows if self.removed(r))

    def _recount(self) -> None:
        counts: Counter[str] = Counter()
        for items, times in Counter(self._local).items():
            for code, _ in items:
                counts[code] += times
        flags = self._dups
        for i in self._dup_rows():
            for bit, code in _DUP_BITS:
                if flags[i] & bit:
                    counts[code] += 1
        self._code_counts = counts
        st = self._status.count
        self._status_counts = [st(ELIGIBLE), st(REVIEW), st(BLOCKED), st(OUT_OF_SCOPE)]

    # -- row-local checks ------------------------------------------------------------------
    def evidence(self, row: int) -> tuple[bool, ParsedEdition | None, str]:
        """(evidence present?, parsed base edition or None, the text it was read from)."""
        ev = self._row_evidence(row)
        return ev.state in _PRESENT, ev.edition, ev.text

    def _row_evidence(self, row: int) -> DeviceEvidence:
        kc, fkc = self._row_key_class(row), self.rules.key_class(self.inv.field(row, "fw_key"))
        raw = (self._row_texts(row), kc, fkc)  # read once per distinct combination, as the
        hit = self._evidence_cache.get(raw)  # row-local rule is: a packet asks for every row
        if hit is None:
            hit = self._evidence_cache[raw] = self.rules.evidence(self.rules.facts(*raw))
        return hit

    def _row_key_class(self, row: int) -> int:
        return self.rules.key_class(self.inv.field(row, "coa_key"))

    # -- incremental -----------------------------------------------------------------------
    def update(self, row: int, col: int, old: str) -> set[int]:
        """Re-audit after cell (row, col) changed from ``old``; returns the rows re-audited.

        Costs the row itself plus the rows sharing its old or new serial/key/asset tag.
        """
        name = self.inv.field_of(col)
        new = self.inv.value(row, col)
        dup = next(((kind, f) for kind, f, _c in _DUPS if f == name), None)
        touched = {row}
        reindex = None
        possible = None
        if dup is not None:
            kind, fname = dup
            ok, nk = self._dup_key(kind, old), self._dup_key(kind, new)
            if ok != nk:
                touched.update(self._group(fname, ok))
                touched.update(self._group(fname, nk))
                reindex = (kind, fname, ok, nk)
                if kind is Duplicate.SERIAL:  # and the rows of its old and new unpadded form
                    possible = self._possible_key(new)
                    touched.update(self._possible_group(self._possible_key(old)))
                    touched.update(self._possible_group(possible))
        for r in touched:
            self._uncount(r)
        if reindex is not None:
            kind, fname, ok, nk = reindex
            self._reindex(kind, fname, row, ok, nk, touched)
            if kind is Duplicate.SERIAL:
                self._repossible(row, possible, touched)
        self._relocal(row)
        for r in touched:
            self._status[r] = self._status_of(r)
            self._count(r)
        return touched

    def preview(self, row: int, col: int, value: str) -> tuple[str, list[str]]:
        """The status and codes row ``row`` would have if cell (row, col) held ``value``;
        nothing changes (the edit is applied and rolled back incrementally)."""
        old = self.inv.set_value(row, col, value)
        self.update(row, col, old)
        result = self.status(row), self._row_codes(row)
        self.inv.set_value(row, col, old)
        self.update(row, col, value)
        return result

    def _relocal(self, row: int) -> None:
        f = self.inv.field
        kc, key_items = self.rules.key(f(row, "coa_key"))
        fkc = self.rules.key_class(f(row, "fw_key"))
        items, level = self._device(self._row_texts(row), kc, fkc)
        if level == OUT_OF_SCOPE:
            self._local[row] = items
            self._level[row] = level
            return
        col = self.inv.mapping.get("serial_number")
        per_row = self.rules.serial(
            f(row, "serial_number"),
            col is not None and self.inv.was_number(row, col),
            self._serial_header,
        ) + tuple(
            chain.from_iterable(
                self.rules.identifier(n, f(row, n)) for n in _ID_ONLY if n in self.inv.mapping
            )
        )
        if "hostname" in self.inv.mapping:  # as ``run`` adds it: once beside the serial's
            per_row += _new_codes(per_row, self.rules.hostname(f(row, "hostname")))
        more = _new_codes(items, key_items + per_row)
        if more:
            items = items + more
            level = max(level, *(code_info(c).level for c, _ in more))
        self._local[row] = items
        self._level[row] = level

    def _group(self, fname: str, key: str | None) -> list[int]:
        """The rows whose current value of ``fname`` normalises to ``key``."""
        if key is None:
            return []
        col = self.inv.mapping.get(fname)
        if col is None:
            return []
        value = self.inv.value
        return self._index[fname].group(key, lambda r: self.rules.norm_id(fname, value(r, col)))

    def _reindex(
        self,
        kind: Duplicate,
        fname: str,
        row: int,
        ok: str | None,
        nk: str | None,
        touched: set[int],
    ) -> None:
        if nk is not None:
            self._index[fname].add(nk, row)
        # rows that left ``ok`` drop out of its group by themselves: lookups check the value.
        # Touched rows hold ``ok`` or ``nk``: one lookup per value, not one per row.
        sizes: dict[str | None, int] = {None: 0}
        bit = int(kind)
        for r in touched:
            key = self._dup_key(kind, self.inv.field(r, fname))
            size = sizes.get(key)
            if size is None:
                size = sizes[key] = len(self._group(fname, key))
            self._dups[r] = (self._dups[r] | bit) if size > 1 else (self._dups[r] & ~bit)

    def _row_codes(self, row: int) -> list[str]:
        out = [c for c, _ in self._local[row]]
        if self._dups[row]:
            out.extend(code for bit, code in _DUP_BITS if self._dups[row] & bit)
        return out

    def duplicates(self, row: int) -> Duplicate:
        """The kinds of duplicate ``row`` takes part in (``Duplicate(0)``: none)."""
        return Duplicate(self._dups[row])

    def _uncount(self, row: int) -> None:
        self._status_counts[self._status[row]] -= 1
        for c in self._row_codes(row):
            self._code_counts[c] -= 1

    def _count(self, row: int) -> None:
        self._status_counts[self._status[row]] += 1
        for c in self._row_codes(row):
            self._code_counts[c] += 1

    def rerun(self) -> None:
        """Full re-audit (after the mapping changed)."""
        self._local_cache.clear()
        self._raw_cache.clear()
        self._evidence_cache.clear()
        self._edition_cache.clear()
        self._finding_cache.clear()
        self.run()

    # -- reading results -------------------------------------------------------------------
    def status(self, row: int) -> str:
        return STATUSES[self._status[row]]

    @property
    def status_view(self) -> memoryview:
        """Every row's status level (a ``Status`` value), read-only and current: what a front
        end filters and searches (no copy)."""
        return memoryview(self._status).toreadonly()

    def status_level(self, row: int) -> int:
        return self._status[row]

    def has_findings(self, row: int) -> bool:
        if self._local[row] or self._dups[row]:
            return True
        # a clean device taken out of the order, or whose label was found wrong, has one
        f = self.inv.field
        return bool(self.inv.edits) and bool(
            f(row, "removed")
            or f(row, "label") in ("missing", "differs", CONFLICT)
            or f(row, "sighted") in _NOT_SEEN
        )

    def codes(self, row: int) -> list[str]:
        return self._row_codes(row)

    def findings(self, row: int) -> list[Finding]:
        """Every finding of one row, errors first, with messages and related rows."""
        inv = self.inv
        out: list[Finding] = []
        cache = self._finding_cache
        for item in self._local[row]:
            hit = cache.get(item)
            if hit is None:
                hit = cache[item] = self._finding(*item)
            out.append(hit)
        flags = self._dups[row]
        for (kind, fname, code), (bit, _code) in zip(_DUPS, _DUP_BITS, strict=False):
            if flags & bit:
                value = inv.field(row, fname)
                others = tuple(
                    inv.row_numbers[r]
                    for r in self._group(fname, self._dup_key(kind, value))
                    if r != row
                )
                shown = mask_key(value) if fname == "coa_key" else quote(visible(value))
                rows = ", ".join(str(r) for r in others[:10])
                more = f" and {len(others) - 10} more" if len(others) > 10 else ""
                detail = f"{shown} is also on row{'s' if len(others) > 1 else ''} {rows}{more}."
                out.append(self._finding(code, detail, others))
        if flags & _DUP_BITS[-1][0]:  # _POSSIBLE
            out.append(self._possible_finding(row))
        out.extend(self._walk_findings(row))
        out.sort(key=lambda f: f.severity != "error")
        return out

    def _possible_finding(self, row: int) -> Finding:
        """SERIAL_POSSIBLE_DUPLICATE of one row: the rows whose serial is this one once
        leading zeros are dropped, but not the same serial."""
        value = self.inv.field(row, "serial_number")
        mine = identity(value)
        others = [
            r
            for r in self._possible_group(self._possible_key(value))
            if identity(self.inv.field(r, "serial_number")) != mine
        ]
        numbers = tuple(self.inv.row_numbers[r] for r in others)
        rows = ", ".join(str(r) for r in numbers[:10])
        more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
        theirs = quote(visible(self.inv.field(others[0], "serial_number"))) if others else "''"
        detail = (
            f"{quote(visible(value))} is the serial on row{'s' if len(numbers) > 1 else ''} "
            f"{rows}{more} ({theirs}) once leading zeros are dropped."
        )
        return self._finding(_POSSIBLE[2], detail, numbers)

    def _walk_findings(self, row: int) -> list[Finding]:
        """The walk's findings, each saying its marks (what, who, when, how) from the marks
        themselves; the cell's one word says which finding it is. A row whose walk columns
        hold no value and no mark has none: most rows, looked at cheaply first."""
        inv = self.inv
        cols, marks = self._walk_cols, inv.marks
        if not any(inv.value(row, c) for c in cols) and not (
            marks and any((row, c) in marks for c in cols)
        ):
            return []

        def said(fname: str) -> str:
            return "; ".join(quote(m.sentence(), 300) for m in inv.marks_of(row, fname)) + "."

        out: list[Finding] = []
        if inv.field(row, "removed"):
            return [self._finding("REMOVED_FROM_ORDER", said("removed"))]
        seen, label = inv.field(row, "sighted"), inv.field(row, "label")
        if CONFLICT in (seen, label):
            fname = "sighted" if seen == CONFLICT else "label"
            out.append(self._finding("WALK_CONFLICT", said(fname)))
        if seen == "not found":
            out.append(self._finding("NOT_FOUND", said("sighted")))
        if label == "missing":
            out.append(self._finding("LABEL_MISSING", said("label")))
        elif label == "differs":
            out.append(self._finding("LABEL_DIFFERS", said("label")))
        if self.attested(row):
            out.append(self._finding("ATTESTED", said("attested")))
        return out

    def _finding(self, code: str, detail: str, related: tuple[int, ...] = ()) -> Finding:
        info = code_info(code)
        col = self.inv.mapping.get(info.field)
        # a derived column (collected evidence, the walk) has no letter in the file
        letter = self.inv.letter(col) if col is not None and not self.inv.is_derived(col) else ""
        # a finding never carries a full key, whatever part of the cell it quotes
        message = mask_keys(f"{detail} {info.action}")
        return Finding(code, info.severity, info.field, letter, message, related)

    def summary(self) -> Summary:
        e, r, b, out = self._status_counts
        counts = {c: self._code_counts[c] for c in codes() if self._code_counts.get(c)}
        attested, removed = self.walk_counts()
        return Summary(len(self.inv), e, r, b, counts, out, attested, removed)

    def edition(self, row: int) -> dict[str, Any]:
        """The edition block of the JSON report for one row (shared between rows that
        record the same evidence: treat it as read-only)."""
        f = self.inv.field
        fkc = self.rules.key_class(f(row, "fw_key"))
        ck = (*(f(row, n) for n in _EVIDENCE_CELLS), fkc)
        hit = self._edition_cache.get(ck)
        return hit if hit is not None else self._edition_block(ck)

    def edition_blocks(self) -> list[dict[str, Any]]:
        """``edition(row)`` for every row at once, straight from the columns (shared dicts:
        treat them as read-only)."""
        cells = [self._col(f) for f in _EVIDENCE_CELLS]
        fw_keys = self._col("fw_key")
        key_class = self.rules.key_class
        cache = self._edition_cache
        out: list[dict[str, Any]] = []
        append = out.append
        n = len(self.inv)
        if "fw_key" in self.inv.mapping and any(fw_keys):  # collected keys: part of the key
            classes: Iterable[int] = map(key_class, fw_keys)
        else:  # the common case, built by zip in C
            classes = repeat(KEY_NONE)
        for i, ck in enumerate(zip(*cells, classes, strict=False)):
            if i >= n:
                break
            hit = cache.get(ck)
            if hit is None:
                hit = self._edition_block(ck)
            append(hit)
        return out

    def _evidence_facts(self, cells: tuple[Any, ...], kc: int, fkc: int) -> RowFacts:
        """The row-local rule's input from the evidence cells alone (``_EVIDENCE_CELLS`` in
        order): what a report's edition and evidence type are read from."""
        return self.rules.evidence_facts(dict(zip(_EVIDENCE_CELLS, cells, strict=False)), kc, fkc)

    def _edition_block(self, ck: tuple[Any, ...]) -> dict[str, Any]:
        ev = self.rules.evidence(self._evidence_facts(ck[:-1], KEY_NONE, ck[-1]))
        ed, text = ev.edition, ev.text
        if ed is None:
            hit = {"text": text, "family": None, "version": None, "edition": None, "verdict": None}
        else:
            hit = {
                "text": text,
                "family": ed.family,
                "version": ed.version,
                "edition": ed.key,
                "verdict": self.policy.rate(ed).verdict,
            }
        self._edition_cache[ck] = hit
        return hit

    def status_levels(self) -> bytes:
        """Every row's status level (0 eligible, 1 review, 2 blocked), as a snapshot."""
        return bytes(self._status)

    def evidence_type(self, row: int) -> str:
        """What the file shows as this device's evidence, in the checklist's words (worked
        out once per distinct combination of the cells it reads: a report asks it of every
        eligible device)."""
        f = self.inv.field
        kc, fkc = self._row_key_class(row), self.rules.key_class(f(row, "fw_key"))
        return self._evidence_of(row, kc, fkc)

    def evidence_types(self) -> Callable[[int], str]:
        """``evidence_type`` for many rows (a report of every device)."""
        return self.evidence_reader().type

    def evidence_reader(self) -> EvidenceReader:
        """``evidence_type`` and ``evidence`` for many rows (a report or a packet of every
        device): the key columns are classed once, column-wise, instead of one key at a
        time, and each row's cells are read from the columns (edits applied)."""
        inv = self.inv
        blank = [""] * len(inv)

        def column(fname: str) -> list[str]:
            col = inv.mapping.get(fname)
            return blank if col is None else inv.column_values(col)

        def classes(fname: str) -> list[int]:
            col = inv.mapping.get(fname)
            if col is None:
                return [KEY_NONE] * len(inv)
            return [kc for kc, _items in self.rules.keys(inv.column_values(col))]

        kcs, fkcs = classes("coa_key"), classes("fw_key")
        present, edition, oa3, fw_edition, sources = map(column, (*_EVIDENCE_CELLS, "fw_source"))
        texts = [column(n) for n in ROW_TEXT_FIELDS]
        cache, facts, rule = self._evidence_cache, self.rules.facts, self.rules.evidence

        def kind(row: int) -> str:
            cells = (present[row], edition[row], oa3[row], fw_edition[row])
            return self._evidence_cells(cells, kcs[row], fkcs[row], sources[row])

        def evidence(row: int) -> tuple[bool, ParsedEdition | None, str]:
            raw = (tuple([c[row] for c in texts]), kcs[row], fkcs[row])
            hit = cache.get(raw)  # as _row_evidence reads one row
            if hit is None:
                hit = cache[raw] = rule(facts(*raw))
            return hit.state in _PRESENT, hit.edition, hit.text

        return EvidenceReader(kind, evidence)

    def _evidence_of(self, row: int, kc: int, fkc: int) -> str:
        f = self.inv.field
        texts = tuple(f(row, n) for n in _EVIDENCE_CELLS)
        return self._evidence_cells(texts, kc, fkc, f(row, "fw_source"))

    def _evidence_cells(self, texts: tuple[str, ...], kc: int, fkc: int, source: str) -> str:
        cells = (*texts, kc, fkc, source)
        hit = self._evidence_types.get(cells)
        if hit is None:
            hit = self._evidence_types[cells] = self._evidence_type(
                self._evidence_facts(texts, kc, fkc), source
            )
        return hit

    def _evidence_type(self, facts: RowFacts, source: str) -> str:
        words = self.policy.evidence
        ev = self.rules.evidence(facts)
        collected = f"OA3 firmware key (collected: {source})"
        if ev.source == "firmware":
            return collected
        register_fw = "OA3 firmware key (the register's description)"
        if ev.source == "oa3":
            return register_fw
        found = words.type_of(facts.present) or words.type_of(facts.edition)
        if ev.source == "register+oa3":
            found = f"{found}; {register_fw}" if found else register_fw
        if not found:
            if facts.kc == KEY_GOOD:
                found = "product key recorded, type not stated"
            else:
                found = "recorded as present, type not stated"
        return f"{found}; {collected}" if ev.source == "both" else found
