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

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import repeat
from typing import Any

from coa_audit.core.codes import code_info, codes
from coa_audit.core.editions import ParsedEdition, is_blank, parse_edition
from coa_audit.core.evidence import EvidenceClass
from coa_audit.core.model import Inventory
from coa_audit.core.policy import KEY_PATTERN, Policy
from coa_audit.core.status import STATUSES, Status

__all__ = ["Audit", "Finding", "Summary", "holds_key", "mask_key", "mask_keys"]

ELIGIBLE, REVIEW, BLOCKED, OUT_OF_SCOPE = (int(s) for s in Status)
# What the key cell holds, as far as evidence goes.
KEY_NONE, KEY_GOOD, KEY_PROVES_NOTHING, KEY_UNREADABLE = 0, 1, 2, 3

# Duplicate kinds: (bit, field, code)
_DUPS: tuple[tuple[int, str, str], ...] = (
    (1, "serial_number", "SERIAL_DUPLICATE"),
    (2, "coa_key", "KEY_DUPLICATE"),
    (4, "asset_tag", "ASSET_TAG_DUPLICATE"),
)
_LOCAL_FIELDS = (
    "coa_present",
    "coa_edition",
    "current_os",
    "target_image",
    "licensed_product",
    "manufacturer",
    "model",
    "asset_type",
    "fw_edition",  # the firmware key description collected from the PC (importers.collection)
)

Item = tuple[str, str]  # (code, detail sentence)


_SCIENTIFIC = re.compile(r"^\s*\d(?:[.,]\d+)?E\+\d+\s*$", re.IGNORECASE)


def _doubted(text: str) -> ParsedEdition:
    return ParsedEdition(text, None, None, "unreadable", None, "it negates or doubts what it names")


def _new_codes(items: tuple[Item, ...], more: tuple[Item, ...]) -> tuple[Item, ...]:
    """``more`` without the codes ``items`` already has (a VM named by its model and by its
    serial is one finding)."""
    have = {c for c, _ in items}
    return tuple(m for m in more if m[0] not in have) if have else more


def check_kind_of(evidence: str) -> str:
    """The check on site that confirms evidence of this kind (``Audit.evidence_type``'s
    words): its firmware key read from the PC ("key read") for OA3, else its label seen."""
    return "key read" if evidence.startswith("OA3") else "label sighted"


def mask_key(key: str) -> str:
    """Show only the last group of a product key: XXXXX-XXXXX-XXXXX-XXXXX-3V66T."""
    key = key.strip()
    if len(key) <= 5:
        return "X" * len(key)
    tail = key[-5:]
    head = "".join("-" if ch == "-" else "X" for ch in key[:-5])
    return head + tail


# A product key by its shape, wherever it sits: five groups of five letters and digits
# (dashes or spaces between them), or the 25 characters written together.
_KEY_SHAPE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z0-9]{5}(?:[- ][A-Za-z0-9]{5}){4}|[A-Za-z0-9]{25})(?![A-Za-z0-9])"
)


def mask_keys(text: str) -> str:
    """``text`` with every product-key-shaped run masked as ``mask_key`` masks a key."""
    if len(text) < 25 or _KEY_SHAPE.search(text) is None:
        return text
    return _KEY_SHAPE.sub(lambda m: mask_key(m.group()), text)


def holds_key(texts: list[str]) -> bool:
    """Whether any of ``texts`` holds a key-shaped run (one pass over them all)."""
    return _KEY_SHAPE.search("\n".join(texts)) is not None


def _quote(text: str, limit: int = 60) -> str:
    text = mask_keys(" ".join(text.split()))  # a finding never carries a full key
    return f"'{text[: limit - 1]}…'" if len(text) > limit else f"'{text}'"


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What the evidence cells of one device say."""

    state: str  # present, absent, none, key_only, unknown, not_base, denied
    edition: ParsedEdition | None
    text: str  # the text the edition was read from
    cell: str  # the cell the state was read from ("" when no cell says it)
    not_base: str | None  # "volume" or "digital" when state is not_base
    source: str = "register"  # register, firmware (collected), both
    conflict: str | None = None  # register and collected firmware disagree
    firmware_generic: bool = False  # the collected firmware key is generic: no evidence
    why: str = ""  # for "unknown": what in the cell was not understood


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    field: str
    column: str  # spreadsheet column letter, "" when the field is not in the source
    message: str
    related_rows: tuple[int, ...] = ()

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
    out_of_scope: int = 0  # rows that are not PCs (or taken out): counted apart
    attested: int = 0  # of the eligible: by attestation after a physical check
    removed: int = 0  # of the out of scope: taken out of the order during the walk

    def as_dict(self) -> dict[str, Any]:
        return {
            "devices": self.devices,
            "eligible": self.eligible,
            "review": self.review,
            "blocked": self.blocked,
            "out_of_scope": self.out_of_scope,
            "eligible_by_attestation": self.attested,
            "taken_out_of_order": self.removed,
            "findings": dict(self.findings),
        }


def _norm_id(value: str) -> str:
    v = value.strip()
    u = v.upper()
    return v if u == v else u


class _ValueIndex:
    """value -> rows in 12 bytes a row (a dict would take ~70): the values' hashes sorted,
    with their rows, as built at load (numpy sorts a million in a few tens of ms); plus a
    small overlay of (value, row) pairs set by edits since. A lookup takes the candidates
    with the value's hash and keeps those whose *current* value matches, so rows edited away
    from a value drop out by themselves and hash collisions never merge two values."""

    __slots__ = ("hashes", "overlay", "rows")

    def __init__(self, values: list[str]) -> None:
        import numpy as np

        # str.upper(str.strip(v)) equals _norm_id(v), at C speed (only the hashes are kept)
        hashes = np.fromiter(
            map(hash, map(str.upper, map(str.strip, values))), dtype=np.int64, count=len(values)
        )
        order = np.argsort(hashes, kind="stable")
        self.rows = order.astype(np.uint32)
        self.hashes = hashes[order]
        self.overlay: dict[str, set[int]] = {}

    def shared(self, values: list[str]) -> Iterator[tuple[str, list[int]]]:
        """(normalised value, rows) for every non-blank value held by two rows or more in
        ``values`` (the list the index was built from)."""
        import numpy as np

        hashes, rows = self.hashes, self.rows
        if len(hashes) < 2:
            return
        same = np.flatnonzero(hashes[1:] == hashes[:-1])  # run members, but the last of each
        if not len(same):
            return
        starts = same[np.r_[True, same[1:] != same[:-1] + 1]]
        for start in starts.tolist():
            end = start + 1
            while end < len(hashes) and hashes[end] == hashes[start]:
                end += 1
            groups: dict[str, list[int]] = {}
            for r in rows[start:end].tolist():
                groups.setdefault(_norm_id(values[r]), []).append(r)
            for key, members in groups.items():
                if key and len(members) > 1:
                    yield key, sorted(members)

    def group(self, key: str, current: Callable[[int], str]) -> list[int]:
        h = hash(key)
        lo = int(self.hashes.searchsorted(h, "left"))
        hi = int(self.hashes.searchsorted(h, "right"))
        found = {r for r in self.rows[lo:hi].tolist() if current(r) == key}
        found.update(r for r in self.overlay.get(key, ()) if current(r) == key)
        return sorted(found)

    def add(self, key: str, row: int) -> None:
        self.overlay.setdefault(key, set()).add(row)


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
        self._local_cache: dict[tuple[str, ...], tuple[tuple[Item, ...], int]] = {}
        self._tuple_cache: dict[tuple[Item, ...], tuple[Item, ...]] = {(): ()}
        self._edition_cache: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        # row-local findings are shared between rows (they depend on repeated text only)
        self._finding_cache: dict[Item, Finding] = {}
        self._dup_levels = tuple((bit, code_info(code).level) for bit, _f, code in _DUPS)
        self.run(progress)

    # -- full run --------------------------------------------------------------------------
    def _col(self, name: str) -> list[str] | repeat[str]:
        col = self.inv.mapping.get(name)
        return repeat("") if col is None else self.inv.column_values(col)

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Audit every row (after load, or after the column mapping changed)."""
        inv = self.inv
        n = len(inv)
        local_cols = [self._col(f) for f in _LOCAL_FIELDS]
        keys = self._col("coa_key")
        serials = self._col("serial_number")
        serial_col = inv.mapping.get("serial_number")
        numeric_serials = inv.numeric.get(serial_col, set()) if serial_col is not None else set()
        self._serial_header = "" if serial_col is None else inv.headers[serial_col]
        header_alnum = "".join(ch for ch in self._serial_header.lower() if ch.isalnum())
        # the column's own name ("SerialNumber" under "Serial Number") is a placeholder too
        placeholders = self.policy.placeholder_serials | {header_alnum}

        local: list[tuple[Item, ...]] = [()] * n
        levels = bytearray(n)
        cache = self._local_cache
        evaluate = self._evaluate
        key_class = self._key_class
        evidence_key_class = self._evidence_key_class
        serial_items = self._serial_items
        intern = self._tuple_cache.setdefault
        # per-row checks have a fast path for the common clean value (no call, no tuple)
        key_fast, generic = KEY_PATTERN.match, self.policy.generic_keys
        by_lk: dict[tuple[str, ...], list[tuple[tuple[Item, ...], int] | None]] = {}
        key_none, key_good, out_of_scope = KEY_NONE, KEY_GOOD, OUT_OF_SCOPE  # locals: per row
        step = max(1, n // 100)
        # Missing fields are endless repeat("") columns, so the zips are not strict; the
        # first real column (or n) ends the loop.
        fw_keys = self._col("fw_key")
        has_fw = "fw_key" in inv.mapping
        rows = zip(zip(*local_cols, strict=False), keys, serials, fw_keys, strict=False)
        for i, (lk, key, serial, fw_key) in enumerate(rows):
            if i >= n:
                break
            extra = ()
            if not key:
                kc = key_none
            elif (  # _evidence_key_class's test, inlined: it runs once per row
                key_fast(key)
                and key not in generic
                and key.count("N") <= 1
                # placeholders repeat their groups (BBBBB-BBBBB-...): those take the slow path
                and (key[0] != key[6] or key[1] != key[7])
            ):
                kc = key_good
            else:
                kc, extra = key_class(key)
            pair = by_lk.get(lk)
            if pair is None:
                pair = by_lk[lk] = [None] * 16  # key class + 4 x firmware key class
            fkc = evidence_key_class(fw_key) if has_fw and fw_key else 0
            slot = kc + 4 * fkc
            hit = pair[slot]
            if hit is None:
                ck = (*lk, str(kc), str(fkc))
                hit = cache.get(ck)
                if hit is None:
                    hit = cache[ck] = evaluate(ck)
                pair[slot] = hit
            items, level = hit
            if level == out_of_scope:
                local[i] = items
                levels[i] = level
                continue
            # VM serials ("VMware-56 4d ...") hold punctuation: they take the slow path
            if (
                serial.isalnum()
                and (low := serial.lower()) not in placeholders
                and (low[0] != low[-1] or low.count(low[0]) != len(low))  # "0000000"
                and not (numeric_serials and i in numeric_serials)
            ):
                s_items: tuple[Item, ...] = ()
            else:
                s_items = serial_items(serial, i in numeric_serials)
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
        for bit, fname, _code in _DUPS:
            self._build_index(bit, fname)
        status = bytearray(levels)
        self._status = status
        for i in self._dup_rows():
            status[i] = self._status_of(i)
        for i in self.walked_rows():
            status[i] = self._status_of(i)
        self._recount()
        if progress is not None:
            progress(n, n)

    def _dup_key(self, bit: int, value: str) -> str | None:
        if not value or value.isspace():
            return None
        pol = self.policy
        # placeholders, product IDs, generic and masked keys are shared by nature: they are
        # findings of their own, never duplicates
        if bit == 1 and pol.serial_not_hardware(value, self._serial_header):
            return None
        if bit == 2:
            k = value.strip().upper()
            if not pol.key_well_formed(k) or pol.key_generic(k) or pol.key_placeholder(k):
                return None
        return _norm_id(value)

    def _build_index(self, bit: int, fname: str) -> None:
        """Index the field's values and flag the rows of every shared value that counts as a
        duplicate (placeholders and generic keys do not: ``_dup_key`` decides, and only for
        the few values that are shared)."""
        col = self.inv.mapping.get(fname)
        values = [] if col is None else self.inv.column_values(col)
        index = _ValueIndex(values)
        self._index[fname] = index
        flags = self._dups
        for key, rows in index.shared(values):
            if self._dup_key(bit, key) is None:
                continue
            for i in rows:
                flags[i] |= bit

    def _dup_rows(self) -> Iterator[int]:
        flags = self._dups
        return (i for i in range(len(flags)) if flags[i])

    def _status_of(self, row: int) -> int:
        """The row's status: ``_base_status``, then the walk: a device taken out of the order
        is out of scope, and a REVIEW device accepted after a physical check is eligible (a
        blocked one never is: it needs a data fix)."""
        level = self._base_status(row)
        if self._walk_cols:
            f = self.inv.field
            if f(row, "removed"):
                return OUT_OF_SCOPE
            if level == REVIEW and f(row, "attested"):
                return ELIGIBLE
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
        m = self.inv.mapping
        return tuple(m[f] for f in ("attested", "removed") if f in m)

    def walked_rows(self) -> set[int]:
        """Rows the walk accepted or took out (edits of its columns: a handful)."""
        cols = self._walk_cols
        return {r for (r, c), v in self.inv.edits.items() if c in cols and v} if cols else set()

    def attested(self, row: int) -> str:
        """Why (by whom, when) this device is eligible by attestation, or ""."""
        if self._status[row] != ELIGIBLE or self._base_status(row) != REVIEW:
            return ""
        return self.inv.field(row, "attested")

    def removed(self, row: int) -> str:
        """Why (by whom, when) this device was taken out of the order, or ""."""
        return self.inv.field(row, "removed")

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
            for bit, _fname, code in _DUPS:
                if flags[i] & bit:
                    counts[code] += 1
        self._code_counts = counts
        st = self._status.count
        self._status_counts = [st(ELIGIBLE), st(REVIEW), st(BLOCKED), st(OUT_OF_SCOPE)]

    # -- row-local checks ------------------------------------------------------------------
    def _evaluate(self, ck: tuple[str, ...]) -> tuple[tuple[Item, ...], int]:
        present, edition, os_text, image, licensed, maker, model, asset_type, fw, kc, fkc = ck
        if asset_type and self.policy.not_a_pc(asset_type):
            detail = f"The asset type says {_quote(asset_type)}: this row is not a computer."
            return (("NOT_A_PC", detail),), OUT_OF_SCOPE
        items = self._local_items(
            present, edition, os_text, image, licensed, maker, model, int(kc), fw, int(fkc)
        )
        level = max((code_info(c).level for c, _ in items), default=0)
        return tuple(items), level

    def evidence(self, row: int) -> tuple[bool, ParsedEdition | None, str]:
        """(evidence present?, parsed base edition or None, the text it was read from)."""
        ev = self._row_evidence(row)
        return ev.state in ("present", "not_base", "unknown"), ev.edition, ev.text

    def _row_evidence(self, row: int) -> _Evidence:
        f = self.inv.field
        return self._evidence(
            f(row, "coa_present"),
            f(row, "coa_edition"),
            self._row_key_class(row),
            f(row, "fw_edition"),
            self._evidence_key_class(f(row, "fw_key")),
        )

    def _row_key_class(self, row: int) -> int:
        return self._evidence_key_class(self.inv.field(row, "coa_key"))

    def _evidence_key_class(self, key: str) -> int:
        """What a key cell is worth as evidence; a clean key costs one regular expression
        (placeholders repeat their groups, BBBBB-BBBBB-..., and take the slow path)."""
        if not key or key.isspace():
            return KEY_NONE
        if (
            KEY_PATTERN.match(key)
            and key not in self.policy.generic_keys
            and key.count("N") <= 1
            and (key[0] != key[6] or key[1] != key[7])
        ):
            return KEY_GOOD
        return self._key_class(key)[0]

    def _evidence(
        self, present: str, edition: str, kc: int, fw: str = "", fkc: int = KEY_NONE
    ) -> _Evidence:
        """Read the evidence of one device (RULES §2: fail closed): the register's cells,
        then the firmware key description collected from the PC, if any."""
        ev = self._register_evidence(present, edition, kc)
        if not fw.strip() or is_blank(fw):
            return ev
        words = self.policy.evidence
        if fkc == KEY_PROVES_NOTHING:  # a generic or placeholder key in firmware: nothing
            return replace(ev, firmware_generic=True)
        fw_ed = parse_edition(fw)
        if (
            fw_ed.edition in (None, "unreadable")
            or words.not_base(fw) is not None
            or words.doubtful(fw)
        ):
            return ev  # not read: the register alone speaks (and says what it says)
        said = f"the firmware key collected from the PC says {_quote(fw)}"
        if ev.state in ("none", "key_only", "absent"):
            conflict = (
                f"The COA column says {_quote(ev.cell)} but {said}."
                if ev.state == "absent"
                else None
            )
            return _Evidence("present", fw_ed, fw, fw, None, "firmware", conflict)
        if ev.edition is not None and ev.edition.edition not in ("unreadable", None):
            ours = self.policy.rate(ev.edition).verdict
            theirs = self.policy.rate(fw_ed).verdict
            if (ours == "qualifies") != (theirs == "qualifies"):
                conflict = f"The register says {_quote(ev.text)} but {said}."
                return replace(ev, source="both", conflict=conflict)
            return replace(ev, source="both")
        if ev.state == "present":  # the register says present but names no edition
            return _Evidence("present", fw_ed, fw, ev.cell, None, "both")
        return ev

    def _register_evidence(self, present: str, edition: str, kc: int) -> _Evidence:
        words = self.policy.evidence
        pc = words.classify(present)
        if pc.kind == "denied":
            return _Evidence("denied", None, edition, present, None)
        if edition.strip() and words.denies(edition):
            return _Evidence("denied", None, edition, edition, None)
        ed = None if is_blank(edition) else parse_edition(edition)
        text = edition
        edition_absent = False
        if (
            ed is not None
            and ed.edition == "unreadable"
            and words.classify(edition).kind == "absent"
        ):
            ed, edition_absent = None, True  # "missing", "no label" in the edition column
        if (
            ed is not None
            and words.doubtful(edition)
            and self.policy.rate(ed).verdict == "qualifies"
        ):
            ed = _doubted(edition)  # "no Windows 10 Pro label", "Windows 10 Pro?": not read
        if pc.kind == "unknown" and not words.doubtful(present):
            # the COA column holds an edition itself ("Windows 10 Pro", "[4.0] Professional
            # OEM:DM"), read whole; beside an edition column it must name the same edition
            guess = parse_edition(present)
            if guess.edition not in (None, "unreadable") and (
                ed is None or ed.edition == guess.edition
            ):
                if ed is None:
                    ed, text = guess, present
                pc = EvidenceClass("present", words.type_of(present))
        ed_not_base = words.not_base(edition) if ed is not None and text == edition else None
        kind = pc.kind
        if kind in ("volume", "digital"):
            return _Evidence("not_base", ed, text, present, kind)
        if kind == "absent":
            return _Evidence("absent", ed, text, present, None)
        if ed_not_base is not None:
            return _Evidence("not_base", ed, text, edition, ed_not_base)
        if kind == "unknown":
            return _Evidence("unknown", ed, text, present, None, why=pc.why)
        if kind == "present":
            return _Evidence("present", ed, text, present, None)
        # the COA column is blank or missing: the edition or the key must carry the evidence
        if ed is not None or kc in (KEY_GOOD, KEY_UNREADABLE):
            return _Evidence("present", ed, text, "", None)
        if edition_absent:
            return _Evidence("absent", None, text, edition, None)
        if kc == KEY_PROVES_NOTHING:
            return _Evidence("key_only", None, text, "", None)
        return _Evidence("none", None, text, "", None)

    def _local_items(
        self,
        present: str,
        edition: str,
        os_text: str,
        image: str,
        licensed: str,
        maker: str,
        model: str,
        kc: int,
        fw: str = "",
        fkc: int = KEY_NONE,
    ) -> list[Item]:
        items: list[Item] = []
        pol = self.policy
        ev = self._evidence(present, edition, kc, fw, fkc)
        if ev.conflict:
            items.append(("EVIDENCE_CONFLICT", ev.conflict))
        ed, ed_text = ev.edition, ev.text
        os_ed = None if is_blank(os_text) else parse_edition(os_text)
        if ev.state in ("absent", "none", "key_only", "denied"):
            if ev.state == "denied":
                column = "COA column" if ev.cell == present else "COA edition column"
                detail = (
                    f"The {column} says {_quote(ev.cell)}: words that deny the licence itself "
                    "(unlicensed, counterfeit, pirated, an activation hack) are no evidence."
                )
            elif ev.state == "absent":
                if ed is not None or kc == KEY_GOOD:
                    what = "an edition" if ed is not None else "a product key"
                    items.append(
                        (
                            "EVIDENCE_CONFLICT",
                            f"The COA column says {_quote(ev.cell)} but {what} is recorded.",
                        )
                    )
                column = "COA column" if ev.cell == present else "COA edition column"
                detail = f"The {column} says {_quote(ev.cell)}."
            elif ev.state == "key_only":
                detail = (
                    "The only evidence recorded is a generic, placeholder or masked product key,"
                    " which proves nothing about this device."
                )
            else:
                detail = "No COA, edition or product key is recorded for this device."
            if ev.firmware_generic:
                detail += (
                    " The firmware key collected from the PC is a published generic key, which "
                    "proves nothing."
                )
            if os_ed is not None and pol.rate(os_ed).verdict == "qualifies":
                detail += (
                    f" The current OS column says {_quote(os_text)}: the installed OS is not "
                    "evidence, but this device may well carry such a licence; look for its "
                    "label or firmware key."
                )
            items.append(("COA_MISSING", detail))
        else:
            if ev.state == "unknown":
                why = f": {ev.why}" if ev.why else ""
                items.append(
                    (
                        "EVIDENCE_UNKNOWN",
                        f"coa-audit does not understand the COA column {_quote(ev.cell)}{why}.",
                    )
                )
            elif ev.state == "not_base":
                what = (
                    "a Volume Licensing channel or key"
                    if ev.not_base == "volume"
                    else "a digital licence"
                )
                items.append(("EVIDENCE_NOT_BASE", f"{_quote(ev.cell)} names {what}."))
            if ed is None or ed.edition == "unreadable":
                if ev.state == "present":
                    if ed is None:
                        detail = "The edition on the licence evidence is blank."
                    else:
                        detail = f"coa-audit cannot read the edition {_quote(ed_text)}"
                        detail += f" ({ed.note})." if ed.note else "."
                    if os_ed is not None:
                        detail += (
                            f" The current OS column says {_quote(os_text)}, but the installed "
                            "OS is a hint, not evidence of a licence."
                        )
                    items.append(("EDITION_UNKNOWN", detail))
            else:
                rating = pol.rate(ed)
                what = f"{_quote(ed_text)} reads as {self.describe(ed)}"
                if rating.verdict == "not-qualifying":
                    items.append(("EDITION_NOT_QUALIFYING", f"{what}: {rating.reason}"))
                elif rating.verdict == "review":
                    items.append(("EDITION_REVIEW", f"{what}: {rating.reason}"))
            if ed is not None and os_ed is not None:
                mismatch = self._os_mismatch(ed, os_ed)
                if mismatch:
                    items.append(("OS_EVIDENCE_MISMATCH", mismatch))
        if image.strip() and not is_blank(image):
            uncovered = self._image_not_covered(image, licensed)
            if uncovered:
                items.append(("IMAGE_NOT_COVERED", uncovered))
        scope = pol.out_of_scope(maker, model)
        if scope:
            items.append(("DEVICE_OUT_OF_SCOPE", f"The maker/model says this is {scope}."))
        return items

    def describe(self, ed: ParsedEdition) -> str:
        entry = self.policy.data.get("editions", {}).get(ed.key, {})
        label = str(entry.get("label", ed.key)).split(" (")[0]
        if (
            ed.version
            and ed.family == "windows"
            and not label.startswith(("Windows 7", "Windows 1"))
        ):
            label = f"{label}, version {ed.version}"
        return label

    def _os_mismatch(self, ed: ParsedEdition, os_ed: ParsedEdition) -> str | None:
        tiers = self.policy.data.get("os_mismatch", {})
        consumer, business = set(tiers.get("consumer", [])), set(tiers.get("business", []))
        a, b = ed.edition, os_ed.edition
        if (a in consumer and b in business) or (a in business and b in consumer):
            return (
                f"The installed OS reads as {self.describe(os_ed)} but the licence evidence "
                f"reads as {self.describe(ed)}."
            )
        return None

    def _image_not_covered(self, image: str, licensed: str) -> str | None:
        pol = self.policy
        img = parse_edition(image)
        if img.edition in (None, "unreadable", "unspecified", "ambiguous"):
            return None
        lic = None if is_blank(licensed) else parse_edition(licensed)
        if lic is None or lic.edition in (None, "unreadable", "unspecified", "ambiguous"):
            lic_edition, lic_version = pol.licensed_edition, None
            lic_name = pol.target_label.replace(" upgrade", "")
        else:
            lic_edition, lic_version = lic.edition or "", lic.version
            lic_name = _quote(licensed)
        img_key = f"{img.edition}@{img.version}"
        if img_key in pol.never_images:
            return f"Image {_quote(image)} is never a downgrade target (rule D3)."
        ri, rl = pol.version_rank(img.version), pol.version_rank(lic_version)
        lic_release = lic.release if lic is not None else None
        if img.release and lic_release and int(img.release) > int(lic_release):
            return (
                f"Image {_quote(image)} is a newer LTSC release than the licensed {lic_name} "
                "(rule D1)."
            )
        if ri is not None and rl is not None and ri > rl:
            return (
                f"Image {_quote(image)} is a newer version than the licensed {lic_name} (rule D1)."
            )
        covers = pol.covers.get(
            lic_edition, {"same_version": [lic_edition], "earlier_versions": []}
        )
        same = covers.get("same_version", [])
        earlier = covers.get("earlier_versions", [])
        if ri is not None and rl is not None:
            allowed = same if ri == rl else earlier
        else:
            allowed = [*same, *earlier]
        if img.edition not in allowed:
            return (
                f"Image {_quote(image)} is not the licensed {lic_name} edition nor a lower "
                "edition of an earlier version (rule D2)."
            )
        return None

    def _key_class(self, key: str) -> tuple[int, tuple[Item, ...]]:
        """(what the key cell is worth as evidence, its findings)."""
        pol = self.policy
        if not key.strip():
            return KEY_NONE, ()
        if not pol.key_well_formed(key):
            # words with no digit may say "no key" ("N/A", "none", "not found"); a truncated
            # key has digits and is read as a key
            if not any(ch.isdigit() for ch in key) and (
                is_blank(key) or pol.evidence.classify(key).kind == "absent"
            ):
                return KEY_NONE, ()
            return KEY_UNREADABLE, (
                ("KEY_MALFORMED", f"The product key {mask_key(key)} is not a valid key format."),
            )
        if pol.key_placeholder(key):
            return KEY_PROVES_NOTHING, (
                ("KEY_PLACEHOLDER", f"The product key {mask_key(key)} stands for no key."),
            )
        if pol.key_generic(key):
            return KEY_PROVES_NOTHING, (
                (
                    "KEY_GENERIC",
                    f"The key ending {key.strip()[-5:].upper()} is a published generic key.",
                ),
            )
        return KEY_GOOD, ()

    def _serial_items(self, serial: str, was_number: bool) -> tuple[Item, ...]:
        pol = self.policy
        if not serial.strip():
            return (("SERIAL_MISSING", "The serial number is blank."),)
        why = pol.serial_not_hardware(serial, self._serial_header)
        if why:
            return (("SERIAL_PLACEHOLDER", f"The serial {_quote(serial)} {why}."),)
        if pol.virtual_serial(serial):
            return (
                (
                    "DEVICE_OUT_OF_SCOPE",
                    f"The serial {_quote(serial)} is one a virtual machine reports.",
                ),
            )
        if was_number:
            return (("SERIAL_NUMERIC", f"The serial {_quote(serial)} is stored as a number."),)
        if _SCIENTIFIC.match(serial):
            return (
                (
                    "SERIAL_NUMERIC",
                    f"The serial {_quote(serial)} is in scientific notation: a spreadsheet turned "
                    "it into a number and its digits are lost.",
                ),
            )
        return ()

    # -- incremental -----------------------------------------------------------------------
    def update(self, row: int, col: int, old: str) -> set[int]:
        """Re-audit after cell (row, col) changed from ``old``; returns the rows re-audited.

        Costs the row itself plus the rows sharing its old or new serial/key/asset tag.
        """
        name = self.inv.field_of(col)
        new = self.inv.value(row, col)
        dup = next(((bit, f) for bit, f, _c in _DUPS if f == name), None)
        touched = {row}
        reindex = None
        if dup is not None:
            bit, fname = dup
            ok, nk = self._dup_key(bit, old), self._dup_key(bit, new)
            if ok != nk:
                touched.update(self._group(fname, ok))
                touched.update(self._group(fname, nk))
                reindex = (bit, fname, ok, nk)
        for r in touched:
            self._uncount(r)
        if reindex is not None:
            bit, fname, ok, nk = reindex
            self._reindex(bit, fname, row, ok, nk, touched)
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
        kc, key_items = self._key_class(f(row, "coa_key"))
        fkc = self._evidence_key_class(f(row, "fw_key"))
        ck = (*(f(row, n) for n in _LOCAL_FIELDS), str(kc), str(fkc))
        hit = self._local_cache.get(ck)
        if hit is None:
            hit = self._local_cache[ck] = self._evaluate(ck)
        items, level = hit
        if level == OUT_OF_SCOPE:
            self._local[row] = items
            self._level[row] = level
            return
        col = self.inv.mapping.get("serial_number")
        more = _new_codes(
            items,
            key_items
            + self._serial_items(
                f(row, "serial_number"), col is not None and self.inv.was_number(row, col)
            ),
        )
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
        return self._index[fname].group(key, lambda r: _norm_id(value(r, col)))

    def _reindex(
        self, bit: int, fname: str, row: int, ok: str | None, nk: str | None, touched: set[int]
    ) -> None:
        if nk is not None:
            self._index[fname].add(nk, row)
        # rows that left ``ok`` drop out of its group by themselves: lookups check the value.
        # Touched rows hold ``ok`` or ``nk``: one lookup per value, not one per row.
        sizes: dict[str | None, int] = {None: 0}
        for r in touched:
            key = self._dup_key(bit, self.inv.field(r, fname))
            size = sizes.get(key)
            if size is None:
                size = sizes[key] = len(self._group(fname, key))
            self._dups[r] = (self._dups[r] | bit) if size > 1 else (self._dups[r] & ~bit)

    def _row_codes(self, row: int) -> list[str]:
        out = [c for c, _ in self._local[row]]
        out.extend(code for bit, _f, code in _DUPS if self._dups[row] & bit)
        return out

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
        # a clean device taken out of the order has one finding: its removal
        return bool(self.inv.edits) and bool(self.removed(row))

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
        for bit, fname, code in _DUPS:
            if self._dups[row] & bit:
                value = inv.field(row, fname)
                others = tuple(
                    inv.row_numbers[r]
                    for r in self._group(fname, self._dup_key(bit, value))
                    if r != row
                )
                shown = mask_key(value) if fname == "coa_key" else _quote(value)
                rows = ", ".join(str(r) for r in others[:10])
                more = f" and {len(others) - 10} more" if len(others) > 10 else ""
                detail = f"{shown} is also on row{'s' if len(others) > 1 else ''} {rows}{more}."
                out.append(self._finding(code, detail, others))
        if self._walk_cols:
            if removed := self.removed(row):
                out.insert(0, self._finding("REMOVED_FROM_ORDER", f"{_quote(removed, 200)}."))
            elif attested := self.attested(row):
                out.append(self._finding("ATTESTED", f"{_quote(attested, 200)}."))
        out.sort(key=lambda f: f.severity != "error")
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
        fkc = self._evidence_key_class(f(row, "fw_key"))
        ck = (f(row, "coa_present"), f(row, "coa_edition"), f(row, "fw_edition"), fkc)
        hit = self._edition_cache.get(ck)
        return hit if hit is not None else self._edition_block(ck)

    def edition_blocks(self) -> list[dict[str, Any]]:
        """``edition(row)`` for every row at once, straight from the columns (shared dicts:
        treat them as read-only)."""
        cols = ("coa_present", "coa_edition", "fw_edition", "fw_key")
        present, edition, fw, fw_keys = (self._col(f) for f in cols)
        key_class = self._evidence_key_class
        cache = self._edition_cache
        out: list[dict[str, Any]] = []
        append = out.append
        n = len(self.inv)
        if "fw_key" in self.inv.mapping and any(fw_keys):  # collected keys: part of the key
            keys: Iterator[tuple[str, str, str, int]] = (
                (p, e, w, key_class(k))
                for p, e, w, k in zip(present, edition, fw, fw_keys, strict=False)
            )
        else:  # the common case, built by zip in C
            keys = zip(present, edition, fw, repeat(KEY_NONE), strict=False)
        for i, ck in enumerate(keys):
            if i >= n:
                break
            hit = cache.get(ck)
            if hit is None:
                hit = self._edition_block(ck)
            append(hit)
        return out

    def _edition_block(self, ck: tuple[str, str, str, int]) -> dict[str, Any]:
        ev = self._evidence(ck[0], ck[1], KEY_NONE, ck[2], ck[3])
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

    def check_kind(self, row: int) -> str:
        """The check on site that confirms this device (see ``check_kind_of``)."""
        return check_kind_of(self.evidence_type(row))

    def evidence_type(self, row: int) -> str:
        """What the file shows as this device's evidence, in the checklist's words."""
        f = self.inv.field
        words = self.policy.evidence
        ev = self._row_evidence(row)
        collected = f"OA3 firmware key (collected: {f(row, 'fw_source')})"
        if ev.source == "firmware":
            return collected
        found = words.type_of(f(row, "coa_present")) or words.type_of(f(row, "coa_edition"))
        if not found:
            if self._row_key_class(row) == KEY_GOOD:
                found = "product key recorded, type not stated"
            else:
                found = "recorded as present, type not stated"
        return f"{found}; {collected}" if ev.source == "both" else found
