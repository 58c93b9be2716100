"""Who did what, when, how and why: the one record of every edit, walk mark, acceptance and
scanned code.

A ``Stamp`` says who (a named person), when (ISO 8601 with the offset), how (typed, scanned,
marked, a corrections file, a walk file, collected data) and why (the reason given). A
``Mark`` is one fact of the walk through the fleet (a device present or not found, its label
as expected, differing or missing, an acceptance with its basis, a device taken out) with its
stamp. These records are made once, where the fact is established, and carried unchanged
through the journal, the walk file, the reports and the packet: nothing downstream parses a
sentence to learn a fact. The one parser of sentences is ``legacy_mark``, for walk files and
journals written before marks had fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BASES",
    "CONFLICT",
    "HOWS",
    "MARK_OUTCOMES",
    "Mark",
    "ScanFlag",
    "Stamp",
    "cell_value",
    "legacy_mark",
    "legacy_stamp",
    "merge_marks",
    "seen",
]

# How a fact was established, by the word records carry -> how the packet says it.
HOWS: dict[str, str] = {
    "typed": "typed on screen",
    "scanned": "scanned on site",
    "marked": "marked by hand",
    "corrections": "corrections file",
    "walk": "walk file",
    "collection": "collected from the PC",
    "unrecorded": "not recorded",
}
# What each walk field can say.
MARK_OUTCOMES: dict[str, tuple[str, ...]] = {
    "sighted": ("present", "not found"),
    "label": ("as expected", "differs", "missing"),
    "attested": ("accepted",),
    "removed": ("taken out",),
}
# What an acceptance rests on -> how the packet says it.
BASES: dict[str, str] = {
    "label": "a physical check of the label",
    "document": "a document",
    "firmware": "collected firmware data",
    "unrecorded": "a basis not recorded (an older walk file)",
}
# A walk cell whose marks disagree (two technicians, two outcomes): never certified.
CONFLICT = "conflict"
_LIMIT = 500  # characters of one free-text field kept (names, reasons, label words)


def _clean(text: object, limit: int = _LIMIT) -> str:
    return " ".join(str(text).split())[:limit]


def now_iso() -> str:
    """This moment, to the second, with the local offset: ``2026-12-07T00:51:12+01:00``."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who, when, how and why."""

    by: str  # the named person; "" where none was named (a headless run without --author)
    at: str  # ISO 8601; with the offset for everything made since stamps had fields
    how: str  # a key of HOWS
    why: str = ""  # the reason given

    @staticmethod
    def now(by: str, how: str, why: str = "") -> Stamp:
        if how not in HOWS:
            raise ValueError(f"not a way of making a record: {how!r}")
        return Stamp(_clean(by, 200), now_iso(), how, _clean(why))

    @property
    def who(self) -> str:
        return self.by or "no name given"

    @property
    def when(self) -> str:
        """The time as a person reads it: ``2026-12-07 00:51`` (offset kept when known)."""
        at = self.at
        if len(at) >= 16 and at[10] == "T":
            offset = at[19:] if len(at) > 19 else ""
            return f"{at[:10]} {at[11:16]}{(' ' + offset) if offset else ''}"
        return at or "time not recorded"

    @property
    def epoch(self) -> float:
        """Seconds since 1970 (0 when the time is not known); a time with no offset is read
        as local time."""
        try:
            return dt.datetime.fromisoformat(self.at).timestamp()
        except ValueError:
            return 0.0

    @property
    def how_words(self) -> str:
        return HOWS.get(self.how, self.how)

    def sentence(self) -> str:
        """``by Ana Auditor, 2026-12-07 00:51 +01:00, scanned on site``."""
        return f"by {self.who}, {self.when}, {self.how_words}"

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, "at": self.at, "how": self.how, "why": self.why}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Stamp:
        """A stamp read back (journal, walk file); raises ValueError when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("a stamp is an object")
        how = str(data.get("how", ""))
        if how not in HOWS:
            raise ValueError(f"not a way of making a record: {how!r}")
        at = str(data.get("at", ""))
        if at:
            dt.datetime.fromisoformat(at)  # ValueError when it is no time
        return Stamp(_clean(data.get("by", ""), 200), at, how, _clean(data.get("why", "")))


@dataclass(frozen=True, slots=True)
class Mark:
    """One fact of the walk about one device."""

    field: str  # a key of MARK_OUTCOMES
    outcome: str
    stamp: Stamp
    says: str = ""  # label: what it shows (differs), or what the register expected (as expected)
    basis: str = ""  # acceptance: a key of BASES
    reference: str = ""  # acceptance on a document: its reference; on firmware data: the file

    def __post_init__(self) -> None:
        outcomes = MARK_OUTCOMES.get(self.field)
        if outcomes is None or self.outcome not in outcomes:
            raise ValueError(f"not a walk mark: {self.field!r} {self.outcome!r}")
        if self.field == "attested" and self.basis not in BASES:
            raise ValueError(f"an acceptance rests on one of {', '.join(BASES)}")

    def same_fact(self, other: Mark) -> bool:
        return (self.field, self.outcome, self.stamp.by) == (
            other.field,
            other.outcome,
            other.stamp.by,
        )

    def described(self) -> str:
        """The mark in plain words, without who and when: ``label differs: it shows
        'Windows 10 Home'``; ``accepted on a document: Dell invoice 88123``."""
        if self.field == "sighted":
            return "present on site" if self.outcome == "present" else "looked for, not found"
        if self.field == "label":
            if self.outcome == "as expected":
                return f"label as expected ({self.says})" if self.says else "label as expected"
            if self.outcome == "differs":
                return f"label differs: it shows {self.says!r}"
            return "no label on the device"
        if self.field == "attested":
            basis = BASES.get(self.basis, self.basis)
            ref = f": {self.reference}" if self.reference else ""
            note = f" ({self.stamp.why})" if self.stamp.why else ""
            return f"accepted on {basis}{ref}{note}"
        return f"taken out of the order: {self.stamp.why}" if self.stamp.why else "taken out"

    def sentence(self) -> str:
        return f"{self.described()}, {self.stamp.sentence()}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field,
            "outcome": self.outcome,
            **self.stamp.as_dict(),
        }
        for key in ("says", "basis", "reference"):
            if value := getattr(self, key):
                out[key] = value
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Mark:
        if not isinstance(data, Mapping):
            raise ValueError("a mark is an object")
        return Mark(
            str(data.get("field", "")),
            str(data.get("outcome", "")),
            Stamp.from_dict(data),
            _clean(data.get("says", "")),
            str(data.get("basis", "")),
            _clean(data.get("reference", "")),
        )


@dataclass(frozen=True, slots=True)
class ScanFlag:
    """A scanned code that named no device ("unknown") or several ("duplicate")."""

    code: str
    outcome: str
    stamp: Stamp

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "outcome": self.outcome, "stamp": self.stamp.as_dict()}

    def sentence(self) -> str:
        what = "matched no device" if self.outcome == "unknown" else "matched several devices"
        return f"{self.code!r} {what} ({self.stamp.sentence()})"


def merge_marks(held: Iterable[Mark], new: Iterable[Mark]) -> tuple[Mark, ...]:
    """The marks of one walk field of one device once ``new`` joins ``held``: a person's
    later mark replaces their own earlier one, the same mark twice is kept once, and marks
    of other people stay (they may disagree: ``cell_value`` says conflict). Two different
    marks of one person at the same time both stay: neither is later, so nothing decides
    between them but a conflict. Sorted by time."""
    out: list[Mark] = list(held)
    for mark in new:
        same = [m for m in out if m.stamp.by == mark.stamp.by]
        if mark in same:
            continue
        when = mark.stamp.epoch
        if mark.stamp.by and any(m.stamp.epoch > when for m in same):
            continue  # that person marked it again later: the later mark stands
        if mark.stamp.by:  # their earlier marks give way; one made at the same time stays
            out = [m for m in out if m.stamp.by != mark.stamp.by or m.stamp.epoch >= when]
        out.append(mark)
    return tuple(sorted(out, key=lambda m: (m.stamp.epoch, m.stamp.by)))


def cell_value(marks: Iterable[Mark]) -> str:
    """What a walk cell holds for its marks: "" (none), their one outcome, or CONFLICT when
    they disagree. The audit reads this word and nothing else."""
    outcomes = {m.outcome for m in marks}
    if not outcomes:
        return ""
    return outcomes.pop() if len(outcomes) == 1 else CONFLICT


def seen(presence: str, label: str) -> bool:
    """Someone saw the device on site, by its walk cells: marked present, or its label told
    (as expected, differs, missing, or people who looked disagree). The one rule of the
    walk's progress and the grid's not-seen filter."""
    return presence == "present" or bool(label)


# -- marks written before they had fields ------------------------------------------------------

_LEGACY_BY = re.compile(
    r"^(?P<what>.*?)\s*(?:\(by |\bby )(?P<by>.+?),\s*(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}))?\)?\s*$"
)


def legacy_stamp(text: str, how: str = "walk", why: str = "") -> Stamp:
    """A stamp from an older "NAME, YYYY-MM-DD HH:MM" text; raises ValueError otherwise."""
    m = _LEGACY_BY.match(f"x by {text}")
    if m is None:
        raise ValueError(f"no name and time in {text!r}")
    at = m["date"] + (f"T{m['time']}" if m["time"] else "")
    return Stamp(_clean(m["by"], 200), at, how, _clean(why))


def legacy_mark(field: str, text: str, how: str = "walk") -> Mark:
    """The mark an older walk file or journal kept as one text ("differs: Home (by Ana, 2026-
    12-07 00:51)", "present (scanned) by Ana, 2026-12-07 00:51"), with its name and time.
    Raises ValueError for a text that is not one."""
    m = _LEGACY_BY.match(" ".join(text.split()))
    if m is None:
        raise ValueError(f"a walk mark without a name and time: {text!r}")
    what = m["what"].strip()
    at = m["date"] + (f"T{m['time']}" if m["time"] else "")
    by = _clean(m["by"], 200)
    if field == "sighted":
        scanned = what == "present (scanned)"
        if what not in ("present", "present (scanned)", "label sighted"):
            raise ValueError(f"not a presence mark: {text!r}")
        return Mark(field, "present", Stamp(by, at, "scanned" if scanned else "marked"))
    if field == "label":
        outcome, _sep, says = what.partition(":")
        outcome = outcome.strip()
        if outcome not in MARK_OUTCOMES["label"]:
            raise ValueError(f"not a label mark: {text!r}")
        return Mark(field, outcome, Stamp(by, at, "marked"), says=_clean(says))
    if field == "attested":
        return Mark(field, "accepted", Stamp(by, at, "marked", _clean(what)), basis="unrecorded")
    if field == "removed":
        return Mark(field, "taken out", Stamp(by, at, "marked", _clean(what)))
    raise ValueError(f"not a walk field: {field!r}")
