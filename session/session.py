"""The session: the one owner of an open inventory's edits, undo history, journal and
column mapping. Every front end changes an inventory only through it (apply, undo, redo,
remap, restore, export), so every change is journaled the same way and nothing a user does
is lost, replayed wrongly or put on another device."""

from __future__ import annotations

import dataclasses
import gc
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from coa_audit.core.audit import Audit
from coa_audit.core.errors import UsageError
from coa_audit.core.events import (
    BASES,
    CONFLICT,
    Mark,
    ScanFlag,
    Stamp,
    cell_value,
    legacy_mark,
    merge_marks,
    seen,
)
from coa_audit.core.files import Inputs
from coa_audit.core.history import DerivedField, Edit, History, MappingChange
from coa_audit.core.identity import host_identities, host_identity, identities, identity
from coa_audit.core.model import (
    CANONICAL_FIELDS,
    ID_FIELDS,
    LABEL_OUTCOMES,
    WALK_FIELDS,
    WALK_MARKS,
    ColumnIndex,
    Inventory,
    RowIndex,
)
from coa_audit.core.policy import Policy, load_policy
from coa_audit.core.status import Status
from coa_audit.importers.collection import PendingCollection, merge_collection
from coa_audit.importers.encodings import canonical_encoding
from coa_audit.importers.formats import input_format
from coa_audit.importers.headers import parse_overrides
from coa_audit.importers.load import load_inventory, text_options
from coa_audit.importers.xlsx_parts import SpecialCells, special_cells
from coa_audit.session.journal import Journal, JournalLog, Op, SessionLog
from coa_audit.session.mappings import load_mapping_file, mapping_overrides, saved_mapping_for

__all__ = [
    "MappingChange",
    "OpenOptions",
    "Restored",
    "Session",
    "WalkCounts",
    "open_session",
    "same_reading",
]

_WALK = (
    "the walk's columns change by its own keys (present, label, accept, take out), not by typing"
)
_DERIVED = (
    "this column was collected from the PCs, not read from the register: correct the "
    "collection file and run again"
)

Progress = Callable[[str, int, int], None]
# how an edit was made, by where it came from (when the caller gives no stamp of its own)
_HOW = {"screen": "typed", "corrections": "corrections", "walk": "walk"}


@dataclass(frozen=True)
class OpenOptions:
    """How to open an inventory: the options ``open_session`` takes, as one value a front
    end can keep (the app opens the file on a worker thread)."""

    sheet: str | None = None
    target: str | None = None
    agreement: str | None = None
    policy_path: str | Path | None = None
    maps: tuple[str, ...] = ()
    mapping_file: str | Path | None = None
    evidence: tuple[str | Path, ...] = ()
    encoding: str | None = None  # a text table's, as --encoding names it (None: detected)
    delimiter: str | None = None  # a text table's, as --delimiter names it (None: detected)

    def open(
        self,
        path: str | Path,
        progress: Progress | None = None,
        glimpse: Callable[[Session], None] | None = None,
    ) -> Session:
        return open_session(
            path,
            sheet=self.sheet,
            target=self.target,
            agreement=self.agreement,
            policy_path=self.policy_path,
            maps=self.maps,
            mapping_file=self.mapping_file,
            evidence=self.evidence,
            progress=progress,
            glimpse=glimpse,
            encoding=self.encoding,
            delimiter=self.delimiter,
        )

    def to_resume(self, session: Session, log: SessionLog) -> OpenOptions | None:
        """The options that open the file again as ``log``'s session read it (its encoding
        and delimiter, or its sheet, as its journal recorded them), where these options name
        none; None when ``session`` (opened with these) already reads it that way, or the
        user named every one of them (what the user names wins). A journal written before
        these were recorded asks for nothing."""
        given = {"encoding": self.encoding, "delimiter": self.delimiter, "sheet": self.sheet}
        wanted = {k: v for k, v in log.read_as.items() if given[k] is None}
        if not wanted or same_reading(session.read_as, wanted):
            return None
        return dataclasses.replace(
            self,
            encoding=self.encoding or wanted.get("encoding"),
            delimiter=self.delimiter or wanted.get("delimiter"),
            sheet=self.sheet or wanted.get("sheet"),
        )


def same_reading(now: dict[str, str], wanted: dict[str, str]) -> bool:
    """Whether a file read as ``now`` (``Session.read_as``) is read as ``wanted`` says, for
    each way ``wanted`` names (an encoding by the codec its name means: ``cp1250`` is
    ``windows-1250``)."""
    for key, value in wanted.items():
        have = now.get(key)
        if key == "encoding" and have is not None:
            same = (canonical_encoding(have) or have) == (canonical_encoding(value) or value)
        else:
            same = have == value
        if not same:
            return False
    return True


@dataclass
class WalkCounts:
    """What the walk established over some devices (``Session.walk_counts``)."""

    devices: int = 0
    seen: int = 0  # present, or their label looked at
    present: int = 0
    not_found: int = 0
    conflicts: int = 0  # devices whose marks disagree
    labels: dict[str, int] = field(default_factory=dict)  # outcome -> devices
    flagged: int = 0  # scanned codes that named no device or several

    def sentence(self) -> str:
        """``3 present, 1 not found; labels: 2 as expected, 1 missing; 1 code flagged``."""
        parts = [f"{self.present} present"]
        if self.not_found:
            parts.append(f"{self.not_found} not found")
        text = ", ".join(parts)
        if self.labels:
            text += "; labels: " + ", ".join(f"{n} {k}" for k, n in sorted(self.labels.items()))
        if self.conflicts:
            text += f"; {self.conflicts} in conflict"
        if self.flagged:
            text += f"; {self.flagged} code{'s' if self.flagged != 1 else ''} flagged"
        return text


@dataclass
class Restored:
    """What a restore did: edits applied, and the ones that could not be placed (never put
    on another device), each with why."""

    applied: int = 0
    skipped: list[str] = field(default_factory=list)


class Session:
    """An open inventory with its audit, history, journal and mapping."""

    def __init__(self, inventory: Inventory, policy: Policy, audit: Audit) -> None:
        self.inventory = inventory
        self.policy = policy
        self.audit = audit
        self.history = History(audit)
        self.journal: Journal | None = None
        self.mapping_changes: list[MappingChange] = []
        # every path this session read: no export may overwrite one (core.files.Inputs)
        self.inputs = Inputs()
        self.inputs.add(inventory.source.path)
        self._exported: dict[tuple[int, int], tuple[str, tuple[Mark, ...]]] = {}
        self._journal_ids: dict[int, int] = {}  # id(Edit) -> journal edit id
        self._special: SpecialCells | None = None
        # who is working: the name every edit and mark made from now on carries (a front end
        # asks it at the first change; headless, --author)
        self.author = ""
        self.reason = ""  # why the edits typed from now on are made ("" when not said)
        # the rows read so far of a file still loading: shown, never edited or exported
        self.loading = False
        # called (from whichever thread wrote) when the journal first fails or is replaced
        # for not being private: a front end says so at once, it never has to ask
        self.on_journal_problem: Callable[[], None] | None = None
        self._journal_said: tuple[str | None, str | None] = (None, None)
        # scanned codes that named no device or several
        self.scan_flags: list[ScanFlag] = []
        # each device's status before any edit: the packet marks those an edit made eligible
        self.baseline = audit.status_levels()
        missing = {f: t for f, t in WALK_FIELDS.items() if f not in inventory.mapping}
        if missing:  # the walk's columns: empty until marked
            blank = [""] * len(inventory)  # one list for them all: they change by edits only
            inventory.add_derived(missing, [blank] * len(missing))

    # -- cells other parts of the workbook know about --------------------------------------
    def load_special_cells(self) -> SpecialCells | None:
        """Formulas, merged ranges and table rows of the source sheet (xlsx/xlsm only; read
        once; a front end calls this off its UI thread)."""
        src = self.inventory.source
        if self._special is None and input_format(src.format).spreadsheetml:
            try:
                self._special = special_cells(src.path, src.sheet or "")
            except (OSError, KeyError, ValueError, zipfile.BadZipFile, ParseError):
                self._special = SpecialCells()  # unknown here; the writer refuses at export
        return self._special

    def cell_notice(self, row: RowIndex, col: ColumnIndex) -> tuple[str | None, str | None]:
        """(why an edit of this cell is refused, what else it will do), as far as known."""
        if self.inventory.is_derived(col):
            return _DERIVED, None
        special = self._special
        if special is None:
            return None, None
        cell = (self.inventory.source.first_col + col, self.inventory.row_numbers[row])
        refused = special.refusal(*cell)
        if refused is not None:
            return refused, None
        if special.replaces_formula(*cell):
            return None, "replaces a formula with a value"
        return None, None

    # -- the journal -----------------------------------------------------------------------
    @property
    def read_as(self) -> dict[str, str]:
        """How the file was read: a text table's ``encoding`` and ``delimiter``, a
        workbook's ``sheet`` (the journal records it, so a resumed session reads the file
        the same way: ``OpenOptions.to_resume``)."""
        src = self.inventory.source
        out: dict[str, str] = {}
        dialect = src.csv or {}
        for key in ("encoding", "delimiter"):
            value = dialect.get(key)
            if isinstance(value, str) and value:
                out[key] = value
        if src.sheet:
            out["sheet"] = src.sheet
        return out

    def start_journal(self) -> Journal:
        """Journal every change from now on (the app does; headless commands need not)."""
        if self.journal is None:
            src = self.inventory.source
            self.journal = Journal(src.path, src.sha256, self.read_as)
            self.journal.probe()
            self._journal_news()
        return self.journal

    def _journal_news(self) -> None:
        """Tell ``on_journal_problem`` when the journal's error or warning changed."""
        now = (self.journal_error, self.journal_warning)
        if now != self._journal_said:
            self._journal_said = now
            if self.on_journal_problem is not None and (now[0] or now[1]):
                self.on_journal_problem()

    @property
    def journal_error(self) -> str | None:
        """Why edits are not protected by the journal, or None."""
        return self.journal.error if self.journal is not None else None

    @property
    def journal_warning(self) -> str | None:
        """A journal file that was not private and was left alone for a new one, or None."""
        return self.journal.warning if self.journal is not None else None

    def _write(self, entries: list[dict[str, Any]], sync: bool = True) -> None:
        if self.journal is not None:
            self.journal.write(entries, sync)
            self._journal_news()

    def _apply_entry(self, edit: Edit) -> dict[str, Any]:
        assert self.journal is not None
        jid = self.journal.new_id()
        self._journal_ids[id(edit)] = jid
        inv = self.inventory
        ids = {f: inv.field(edit.row, f) for f in ID_FIELDS if f != "coa_key" and f in inv.mapping}
        return {
            "t": "apply",
            "id": jid,
            "row": inv.row_numbers[edit.row],
            "col": edit.col,
            "header": inv.headers[edit.col],
            "ids": {k: v for k, v in ids.items() if v},
            "old": edit.old,
            "new": edit.new,
            "origin": edit.origin,
            "time": edit.time,  # when the edit was made (a restore keeps it)
            **({"g": edit.group} if edit.group else {}),
            **({"stamp": edit.stamp.as_dict()} if edit.stamp is not None else {}),
            **(
                {
                    "marks": [m.as_dict() for m in edit.marks],
                    "old_marks": [m.as_dict() for m in edit.old_marks],
                }
                if self._walk_field(edit.col)
                else {}
            ),
        }

    # -- changing the inventory ------------------------------------------------------------
    def apply(
        self,
        row: RowIndex,
        col: ColumnIndex,
        value: str,
        origin: str = "screen",
        stamp: Stamp | None = None,
    ) -> Edit | None:
        """Set one cell (journaled, then applied). None when the value did not change.
        ``stamp``: who, when, how and why; by default the person working, typed now."""
        if self.inventory.is_derived(col):
            raise UsageError(_WALK if self._walk_field(col) else _DERIVED)
        stamp = stamp or Stamp.now(self.author, _HOW.get(origin, "typed"), self.reason)
        edit = self.history.apply(row, col, value, origin, stamp=stamp)
        if edit is not None and self.journal is not None:
            self._write([self._apply_entry(edit)])
        return edit

    def apply_many(
        self,
        cells: Sequence[tuple[RowIndex, ColumnIndex, str]],
        origin: str = "screen",
        stamp: Stamp | None = None,
    ) -> list[Edit]:
        """Set many cells of the register as one step (one undo, one journal write), each
        with ``stamp`` (by default the person working, typed now). Derived columns are
        refused, like ``apply``: the walk's change through its marks."""
        inv = self.inventory
        if any(inv.is_derived(c) for _r, c, _v in cells):
            raise UsageError(_WALK if any(self._walk_field(c) for _r, c, _v in cells) else _DERIVED)
        stamp = stamp or Stamp.now(self.author, _HOW.get(origin, "typed"), self.reason)
        group = self.history.new_group()
        apply = self.history.apply
        edits = [
            e for r, c, v in cells if (e := apply(r, c, v, origin, group, stamp=stamp)) is not None
        ]
        if edits and self.journal is not None:
            self._write([self._apply_entry(e) for e in edits])
        return edits

    def undo(self) -> list[Edit]:
        """Undo the last step (a bulk action is one); the edits undone, last first."""
        return self._journal_step("undo", self.history.undo())

    def redo(self) -> list[Edit]:
        return self._journal_step("redo", self.history.redo())

    def _journal_step(self, kind: str, edits: list[Edit]) -> list[Edit]:
        if edits and self.journal is not None:
            self._write([{"t": kind, "id": self._journal_ids.get(id(e), 0)} for e in edits])
        return edits

    # -- the walk through the fleet --------------------------------------------------------
    def _walk_field(self, col: int) -> str | None:
        inv = self.inventory
        return next((f for f in WALK_FIELDS if inv.mapping.get(f) == col), None)

    def stamp(self, how: str, why: str = "") -> Stamp:
        """A record of who is working, now, how and why. A walk's mark needs a name: raises
        UsageError while nobody said who is working."""
        if not self.author.strip():
            raise UsageError("who is working is needed first: the name every mark carries")
        return Stamp.now(self.author, how, why)

    def code_index(self) -> Callable[[str], list[RowIndex]]:
        """A lookup from a scanned or typed code to the devices whose serial number or asset
        tag it is, compared as their identity (``core.identity``: case, spaces, dashes and
        hidden characters ignored, look-alike letters read as the letter). Built now: call
        again after edits."""
        inv = self.inventory
        index: dict[str, list[RowIndex]] = {}
        for fname in ("serial_number", "asset_tag"):
            col = inv.mapping.get(fname)
            if col is None:
                continue
            for r, k in enumerate(identities(inv.column_values(col))):
                if k:
                    rows = index.setdefault(k, [])
                    if r not in rows:
                        rows.append(RowIndex(r))

        def lookup(code: str) -> list[RowIndex]:
            key = identity(code)
            return list(index.get(key, [])) if key else []

        return lookup

    def record_scan(self, code: str, outcome: str) -> None:
        """A scanned code that named no device ("unknown") or several ("duplicate"): kept
        for the packet, and journaled."""
        flag = ScanFlag(code, outcome, self.stamp("scanned"))
        self.scan_flags.append(flag)
        self._write([{"t": "scan", **flag.as_dict()}])

    def _mark(
        self, fname: str, rows: Sequence[RowIndex], make: Callable[[RowIndex], Mark], origin: str
    ) -> list[Edit]:
        """Add a mark to each of ``rows`` (one step, journaled): it joins the device's marks
        of that field (``core.events.merge_marks``), and the cell holds their outcome."""
        col = self.inventory.column(fname)
        held = self.inventory.marks
        cells = []
        for r in rows:
            mark = make(r)
            marks = merge_marks(held.get((r, col), ()), [mark])
            cells.append((r, col, cell_value(marks), marks, mark.stamp))
        return self._apply_marks(cells, origin)

    def _apply_marks(
        self,
        cells: Sequence[tuple[RowIndex, ColumnIndex, str, tuple[Mark, ...], Stamp]],
        origin: str,
    ) -> list[Edit]:
        group = self.history.new_group()
        apply = self.history.apply
        edits = [
            e
            for r, c, v, marks, stamp in cells
            if (e := apply(r, c, v, origin, group, stamp=stamp, marks=marks)) is not None
        ]
        if edits and self.journal is not None:
            self._write([self._apply_entry(e) for e in edits])
        return edits

    def sight(self, rows: Sequence[RowIndex], scanned: bool = False) -> list[Edit]:
        """Mark devices present on site (scanned, or marked by hand), as one step. Presence
        is all it says: a label is confirmed with ``confirm_label``. A device this person
        already marked present keeps its first mark."""
        stamp = self.stamp("scanned" if scanned else "marked")
        mine = stamp.by
        rows = [
            r
            for r in rows
            if not any(
                m.outcome == "present" and m.stamp.by == mine
                for m in self.inventory.marks_of(r, "sighted")
            )
        ]
        return self._mark("sighted", rows, lambda _r: Mark("sighted", "present", stamp), "screen")

    def not_found(self, rows: Sequence[RowIndex]) -> list[Edit]:
        """Mark devices looked for on site and not found (one step): never certified until
        someone finds them."""
        stamp = self.stamp("marked")
        return self._mark("sighted", rows, lambda _r: Mark("sighted", "not found", stamp), "screen")

    def expected_label(self, row: RowIndex) -> str:
        """What the register says the device's label shows: its evidence and edition, as
        the scan band states it before "as expected" and the mark keeps it."""
        has, ed, text = self.audit.evidence(row)
        if not has:
            return "no licence evidence recorded"
        edition = self.policy.edition_name(ed, text)
        return "; ".join(p for p in (self.audit.evidence_type(row), edition) if p)

    def confirm_label(
        self, rows: Sequence[RowIndex], outcome: str, says: str = "", scanned: bool = False
    ) -> list[Edit]:
        """Record what a person saw on the device's label after looking at it: "as
        expected" (what the register says, kept in the mark), "differs" (with the label's
        own words), or "missing" (no label). One step; this person's later confirmation
        replaces their earlier one, another person's that disagrees is a conflict. A label
        that differs makes the device a review, a missing one blocks it."""
        if outcome not in LABEL_OUTCOMES:
            raise UsageError(f"a label is {', '.join(LABEL_OUTCOMES)}; not {outcome!r}")
        says = " ".join(says.split())
        if outcome == "differs" and not says:
            raise UsageError("a label that differs needs what it says (its edition, or key end)")
        stamp = self.stamp("scanned" if scanned else "marked")

        def make(r: RowIndex) -> Mark:
            words = self.expected_label(r) if outcome == "as expected" else says
            return Mark("label", outcome, stamp, says=words if outcome != "missing" else "")

        return self._mark("label", rows, make, "screen")

    def walk_problem(self, row: RowIndex) -> str | None:
        """Why the walk keeps ``row`` from being accepted: not found, or marks that
        disagree; None otherwise."""
        for fname in ("sighted", "label"):
            value = self.inventory.field(row, fname)
            if value == CONFLICT:
                names = ", ".join(m.sentence() for m in self.inventory.marks_of(row, fname))
                return f"the marks on it disagree ({names})"
            if value == "not found":
                return "it was looked for on site and not found"
        return None

    def load_walks(self, paths: Sequence[str | Path]) -> list[str]:
        """Put the marks of walk files (``exporters.walk_file``) back on their devices, as
        one step, journaled: each device found by its serial number, else asset tag, else
        host name (by row number only when the line names none of them). Marks merge by
        device (``core.events.merge_marks``): a mark already held is kept once, and two
        people's different outcomes for one device are a conflict, never last-wins. Scanned
        codes join the packet's list. Returns one line for each mark that found no device or
        several (never placed elsewhere), and one for each device the walks disagree on."""
        from coa_audit.importers.walk_file import read_walk

        walks = [(Path(p), read_walk(Path(p))) for p in paths]
        self.inputs.add(*paths)
        inv = self.inventory
        lookup = self.code_index()
        hosts: dict[str, list[RowIndex]] = {}
        host_col = inv.mapping.get("hostname")
        if host_col is not None:
            for r, key in enumerate(host_identities(inv.column_values(host_col))):
                if key:
                    hosts.setdefault(key, []).append(RowIndex(r))
        merged: dict[tuple[RowIndex, ColumnIndex], tuple[Mark, ...]] = {}
        missed: list[str] = []
        for path, walk in walks:
            for m in walk.marks:
                rows: list[RowIndex] = []
                for value, find in (
                    (m.serial_number, lookup),
                    (m.asset_tag, lookup),
                    (m.hostname, lambda v: hosts.get(host_identity(v), [])),
                ):
                    if value and not rows:
                        rows = find(value)
                if not (m.serial_number or m.asset_tag or m.hostname) and m.row.isdigit():
                    found = inv.row_of(int(m.row))
                    rows = [found] if found is not None else []
                who = m.serial_number or m.asset_tag or m.hostname or f"row {m.row}"
                if len(rows) != 1:
                    what = "no device" if not rows else f"{len(rows)} devices"
                    word = next(w for w, f in WALK_MARKS.items() if f == m.mark.field)
                    missed.append(
                        f"{path.name}, line {m.line}: {who!r} names {what}; its {word} mark "
                        "is not placed"
                    )
                    continue
                cell = (rows[0], inv.column(m.mark.field))
                held = merged.get(cell, inv.marks.get(cell, ()))
                merged[cell] = merge_marks(held, [m.mark])
        cells = [
            (r, c, cell_value(marks), marks, marks[-1].stamp)
            for (r, c), marks in merged.items()
            if marks != inv.marks.get((r, c), ())
        ]
        if cells:
            self._apply_marks(cells, origin="walk")
        conflicts = sorted({r for (r, c), marks in merged.items() if cell_value(marks) == CONFLICT})
        for r in conflicts:
            missed.append(f"row {inv.row_numbers[r]}: not certified, {self.walk_problem(r)}")
        new_scans = [s for _p, w in walks for s in w.scans if s not in self.scan_flags]
        self.scan_flags.extend(new_scans)
        if new_scans:
            self._write([{"t": "scan", **f.as_dict()} for f in new_scans])
        return missed

    def load_walk(self, path: str | Path) -> list[str]:
        return self.load_walks([path])

    def _walk_columns(self) -> tuple[list[str], list[str]]:
        """The presence and label cells of every device (read once per count)."""
        inv = self.inventory
        blank = [""] * len(inv)
        cols = (inv.mapping.get("sighted"), inv.mapping.get("label"))
        sighted, label = (inv.column_values(c) if c is not None else blank for c in cols)
        return sighted, label

    def walk_counts(self, rows: Iterable[int] | None = None) -> WalkCounts:
        """What the walk established, counted once for every front end and the packet."""
        sighted, labels = self._walk_columns()
        out = WalkCounts()
        for r in range(len(self.inventory)) if rows is None else rows:
            presence, label = sighted[r], labels[r]
            out.devices += 1
            out.present += presence == "present"
            out.not_found += presence == "not found"
            if label:
                out.labels[label] = out.labels.get(label, 0) + 1
            out.conflicts += CONFLICT in (presence, label)
            out.seen += seen(presence, label)
        out.flagged = len(self.scan_flags)
        return out

    def walk_by_site(self) -> list[tuple[str, int, int]]:
        """(location, devices seen, devices) per location, in the register's order of first
        appearance; one line "(no location)" when none is mapped. One pass over the file."""
        inv = self.inventory
        col = inv.mapping.get("location")
        places = inv.column_values(col) if col is not None else [""] * len(inv)
        sighted, labels = self._walk_columns()
        groups: dict[str, list[int]] = {}  # place -> [seen, devices]
        for presence, label, place in zip(sighted, labels, places, strict=True):
            counts = groups.setdefault(" ".join(place.split()) or "(no location)", [0, 0])
            counts[0] += seen(presence, label)
            counts[1] += 1
        return [(place, n_seen, n) for place, (n_seen, n) in groups.items()]

    def not_acceptable(self, rows: Sequence[RowIndex]) -> str | None:
        """Why ``rows`` cannot be accepted, or None: only devices under review can (a blocked
        device needs its data fixed; an eligible one needs no acceptance), and never one
        the walk did not find or whose marks disagree."""
        if not rows:
            return "no device is chosen: only a device under review can be accepted"
        levels = self.audit.status_view
        inv = self.inventory
        for r in rows:
            problem = self.walk_problem(r)
            if problem is not None:
                return f"row {inv.row_numbers[r]} cannot be accepted: {problem}"
        wrong = [r for r in rows if levels[r] != Status.REVIEW]
        if not wrong:
            return None
        word = self.audit.status(wrong[0])
        return (
            f"row {inv.row_numbers[wrong[0]]} is {word}: only a device under review can be "
            "accepted" + (" (a blocked device needs its data fixed)" if word == "blocked" else "")
        )

    def preview(self, row: RowIndex, col: ColumnIndex, value: str) -> tuple[str, list[str]]:
        """The status and finding codes ``row`` would have with ``value`` in cell (row, col),
        as the user types it; the inventory is as it was afterwards."""
        return self.audit.preview(row, col, value)

    def attest(
        self, rows: Sequence[RowIndex], basis: str, reference: str = "", note: str = ""
    ) -> list[Edit]:
        """Accept REVIEW devices (one step) on a stated basis: "label" (a physical check of
        the label: ``note`` says what it shows), "document" (``reference`` names it: an OEM
        invoice, an order, a PKID report) or "firmware" (the collected firmware data: the
        collection file is the reference). Blocked and eligible devices are refused, and so
        are devices not found or whose marks disagree."""
        reference, note = " ".join(reference.split()), " ".join(note.split())
        if basis not in BASES or basis == "unrecorded":
            raise UsageError("an acceptance rests on a label check, a document or firmware data")
        if basis == "label" and not note:
            raise UsageError("an acceptance on a label check needs what the label shows")
        if basis == "document" and not reference:
            raise UsageError("an acceptance on a document needs its reference (invoice, order)")
        refused = self.not_acceptable(rows)
        if refused is not None:
            raise UsageError(refused)
        inv = self.inventory
        if basis == "firmware":
            lacking = [r for r in rows if not inv.field(r, "fw_source")]
            if lacking:
                raise UsageError(
                    f"row {inv.row_numbers[lacking[0]]} has no firmware data collected "
                    "(--evidence): it cannot be accepted on it"
                )
        stamp = self.stamp("marked", note)

        def make(r: RowIndex) -> Mark:
            ref = inv.field(r, "fw_source") if basis == "firmware" else reference
            return Mark("attested", "accepted", stamp, basis=basis, reference=ref)

        return self._mark("attested", rows, make, "screen")

    def take_out(self, rows: Sequence[RowIndex], reason: str) -> list[Edit]:
        """Take devices out of the imaging order, with a reason (one step)."""
        reason = " ".join(reason.split())
        if not reason:
            raise UsageError("taking a device out of the order needs a reason")
        stamp = self.stamp("marked", reason)
        return self._mark("removed", rows, lambda _r: Mark("removed", "taken out", stamp), "screen")

    def mapping_by_header(self, mapping: dict[str, int] | None = None) -> dict[str, str]:
        """field -> header of the file's own columns (derived columns map themselves)."""
        inv = self.inventory
        return {
            f: inv.headers[c] for f, c in (mapping or inv.mapping).items() if not inv.is_derived(c)
        }

    def remap(self, mapping: dict[str, int], origin: str = "screen") -> bool:
        """Change which column is which field and audit again. False when nothing changed."""
        inv = self.inventory
        if {f: c for f, c in mapping.items() if c < inv.source_width} == inv.source_mapping:
            return False
        self._write([self._set_mapping(mapping, origin, time.time())])
        return True

    def _set_mapping(self, mapping: dict[str, int], origin: str, when: float) -> dict[str, Any]:
        """Apply a mapping, audit again, record the change; returns its journal entry."""
        old = self.mapping_by_header()
        inv = self.inventory
        derived = {f: c for f, c in inv.mapping.items() if inv.is_derived(c)}
        # the file's own fields onto the file's own columns; derived fields stay the tool's
        own = {f: c for f, c in mapping.items() if f in CANONICAL_FIELDS and c < inv.source_width}
        inv.mapping = {**own, **derived}
        self.audit.rerun()
        new = self.mapping_by_header()
        self.mapping_changes.append(MappingChange(when, old, new, origin))
        return {"t": "remap", "mapping": new}

    # -- state -----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Edits, marks (or a mapping change) not yet in an exported file."""
        return self.state() != self._exported

    def state(self) -> dict[tuple[int, int], tuple[str, tuple[Mark, ...]]]:
        """Every edited cell as it is now: its value and, for a walk cell, its marks (what
        an export writes; a second person's mark can change the marks and not the value)."""
        marks = self.inventory.marks
        return {k: (v, marks.get(k, ())) for k, v in self.inventory.edits.items()}

    @property
    def edit_count(self) -> int:
        return len(self.inventory.edits)

    def unexported(self) -> tuple[int, int]:
        """What no exported file holds yet: (edited cells of the register, walk marks).
        A walk mark is a device marked present, a label confirmed, a device accepted or
        taken out; exporting writes them to the walk file next to the outputs."""
        walk = {self.inventory.mapping.get(f) for f in WALK_FIELDS}
        now, exported = self.state(), self._exported
        cells = marks = 0
        # changed since the export, and exported edits since undone (the files differ)
        for key in {k for k, v in now.items() if exported.get(k) != v} | (
            exported.keys() - now.keys()
        ):
            if key[1] in walk:
                marks += 1
            else:
                cells += 1
        return cells, marks

    def changes(self) -> list[Edit]:
        return self.history.changes()

    def mark_exported(
        self, state: dict[tuple[int, int], tuple[str, tuple[Mark, ...]]] | None = None
    ) -> None:
        """The edits and marks (``state()`` as it was when the export started) are now in
        exported files."""
        self._exported = dict(self.state() if state is None else state)
        self._write([{"t": "exported"}])

    def close(self) -> None:
        """End the session. Nothing pending: say so in the journal; otherwise leave the
        entries for the next session to offer."""
        if self.journal is None:
            return
        if not self.dirty and self.journal.error is None and self.journal.started:
            self._write([{"t": "close"}])
        self.journal.close()

    # -- restoring another session's work --------------------------------------------------
    def pending(self) -> tuple[list[SessionLog], JournalLog]:
        """Earlier sessions on this file with work to restore (most recent first)."""
        journal = self.start_journal()
        log = journal.read()
        return log.pending(own=journal.sid), log

    def discard(self, log: SessionLog) -> None:
        """The user chose, and confirmed, to throw that session's work away."""
        self._write([{"t": "discarded", "of": log.sid}])

    def restore(self, log: SessionLog, progress: Progress | None = None) -> Restored:
        """Replay ``log`` onto this session: cells, mapping and undo history as they were when
        that session ended. Each edit goes to its own device (by row number when the file is
        unchanged, else by its identifiers) and only where the cell still holds the value the
        edit started from; anything else is listed in ``skipped``, never applied elsewhere."""
        out = Restored()
        placer = _Placer(self.inventory, same_file=log.sha256 == self.inventory.source.sha256)
        edits: dict[int, Edit] = {}
        groups: dict[int, int] = {}  # the journal's bulk-action ids -> this history's
        entries: list[dict[str, Any]] = []
        history, inv = self.history, self.inventory
        walk_titles = {title: f for f, title in WALK_FIELDS.items()}
        total = len(log.ops)
        step = max(1, total // 100)
        for n, op in enumerate(log.ops):
            if progress is not None and n % step == 0:
                progress("restoring", n, total)
            if op.kind == "apply":
                fname = walk_titles.get(op.header)
                if fname is not None and op.marks is None:
                    try:  # a walk mark written before marks had fields: read here, once
                        op = _legacy_op(op, fname)
                    except ValueError:
                        out.skipped.append(f"row {op.row}, {op.header}: not a walk mark")
                        continue
                where = placer.place(op)
                if isinstance(where, str):
                    out.skipped.append(where)
                    continue
                row, col = RowIndex(where[0]), ColumnIndex(where[1])
                if op.group and op.group not in groups:
                    groups[op.group] = history.new_group()
                try:
                    edit = history.apply(
                        row,
                        col,
                        op.new,
                        "journal",
                        groups.get(op.group, 0),
                        when=op.time or None,
                        stamp=op.stamp,
                        marks=op.marks or (),
                    )
                except DerivedField as exc:  # a tampered line: counted, never applied
                    out.skipped.append(f"row {op.row}, {op.header}: {exc}")
                    continue
                if edit is None:
                    continue
                edits[op.id] = edit
                out.applied += 1
                if self.journal is not None:
                    entries.append(self._apply_entry(edit))
            elif op.kind in ("undo", "redo"):
                edit = edits.get(op.id)
                stack = history.undo_stack if op.kind == "undo" else history.redo_stack
                if edit is None or not stack or stack[-1] is not edit:
                    continue  # the edit was not restored: neither is its undo or redo
                moved = (history.undo if op.kind == "undo" else history.redo)()
                if self.journal is not None:
                    entries.extend(
                        {"t": op.kind, "id": self._journal_ids.get(id(e), 0)} for e in moved
                    )
            elif op.kind == "scan" and op.scan is not None:
                flag = op.scan
                self.scan_flags.append(flag)
                entries.append({"t": "scan", **flag.as_dict()})
            elif op.kind == "remap":
                mapping, missing = placer.mapping(op.mapping)
                for header in missing:
                    out.skipped.append(f"mapping: the file has no column {header!r}")
                if mapping != inv.mapping:
                    entries.append(self._set_mapping(mapping, "journal", op.time))
        if progress is not None:
            progress("restoring", total, total)
        entries.append({"t": "adopted", "of": log.sid})
        self._write(entries)  # one write and one fsync for the whole restore
        return out


class _Placer:
    """Finds the cell a journaled edit belongs to in the file as it is now."""

    def __init__(self, inv: Inventory, same_file: bool) -> None:
        self.inv = inv
        self.same_file = same_file
        self._index: dict[str, dict[str, list[int]]] = {}

    def _column(self, op: Op) -> int | None:
        inv = self.inv
        if op.col < inv.width and inv.headers[op.col] == op.header:
            return op.col
        if self.same_file and op.col < inv.width and not op.header:
            return op.col
        matches = [c for c, h in enumerate(inv.headers) if h == op.header]
        return matches[0] if len(matches) == 1 else None

    def _rows_with(self, fname: str, value: str) -> list[int]:
        """The rows whose ``fname`` is ``value`` as an identity (``core.identity``: one
        device however its identifier is spelled); none for a value with no letter or digit."""
        index = self._index.get(fname)
        if index is None:
            index = {}
            for r in range(len(self.inv)):
                index.setdefault(identity(self.inv.field(r, fname)), []).append(r)
            self._index[fname] = index
        key = identity(value)
        return list(index.get(key, [])) if key else []

    def _same_device(self, row: int, ids: tuple[tuple[str, str], ...]) -> bool:
        return all(
            identity(self.inv.field(row, f)) == identity(v) for f, v in ids if f in self.inv.mapping
        )

    def place(self, op: Op) -> tuple[int, int] | str:
        inv = self.inv
        what = f"row {op.row}, {op.header or f'column {op.col + 1}'}"
        col = self._column(op)
        if col is None:
            return f"{what}: the file has no column {op.header!r} any more"
        row = inv.row_of(op.row)
        ids = tuple((f, v) for f, v in op.ids if f in inv.mapping)
        if row is not None and (self.same_file or (ids and self._same_device(row, ids))):
            if inv.value(row, col) == op.old:
                return row, col
            if self.same_file:
                return f"{what}: the cell no longer holds {op.old!r}"
        # the file changed: find the device by what identified it
        for fname, value in ids:
            rows = self._rows_with(fname, value)
            if len(rows) == 1:
                if self._same_device(rows[0], ids) and inv.value(rows[0], col) == op.old:
                    return rows[0], col
                break
        return f"{what}: its device ({_describe(op.ids)}) was not found with {op.old!r} there"

    def mapping(self, pairs: tuple[tuple[str, str], ...]) -> tuple[dict[str, int], list[str]]:
        headers = self.inv.headers
        out: dict[str, int] = {}
        missing = []
        for fname, header in pairs:
            cols = [c for c, h in enumerate(headers) if h == header]
            if cols:
                out[fname] = cols[0]
            else:
                missing.append(header)
        return out, missing


def _legacy_op(op: Op, fname: str) -> Op:
    """A journaled walk edit of before marks had fields, with its marks (ValueError when
    its text is no mark)."""
    marks = (legacy_mark(fname, op.new, how="marked"),) if op.new else ()
    old = cell_value((legacy_mark(fname, op.old, how="marked"),)) if op.old else ""
    return dataclasses.replace(op, old=old, new=cell_value(marks), marks=marks)


def _describe(ids: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{f} {v!r}" for f, v in ids) or "no identifiers recorded"


def open_session(
    path: str | Path,
    *,
    sheet: str | None = None,
    target: str | None = None,
    agreement: str | None = None,
    policy_path: str | Path | None = None,
    maps: Sequence[str] = (),
    mapping_file: str | Path | None = None,
    evidence: Sequence[str | Path] = (),
    progress: Progress | None = None,
    glimpse: Callable[[Session], None] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Session:
    """Policy first (a usage error should not wait for a large file), then the file, then the
    audit. ``mapping_file`` is a saved mapping used exactly (``--map`` still wins over it).
    Raises UsageError (bad options, policy, --map, --mapping) or InputError (unreadable).
    ``glimpse`` is given sessions of the rows read so far while a large file loads: their
    statuses are provisional (a later row can repeat a serial, a collection is merged at
    the end) and they are never edited (``Session.loading``)."""
    policy = load_policy(Path(policy_path) if policy_path else None, target, agreement)
    encoding, delimiter = text_options(encoding, delimiter)  # refused before the file is read
    overrides = parse_overrides(maps)
    saved = load_mapping_file(Path(mapping_file)) if mapping_file else None
    if saved is not None:
        overrides = {**{h: f for f, h in saved.items()}, **overrides}
    read = (lambda done, total: progress("reading", done, total)) if progress else None
    check = (lambda done, total: progress("auditing", done, total)) if progress else None

    def mapped(inv: Inventory) -> Inventory:
        if saved is not None:  # exactly the saved mapping: no other column is guessed
            wanted = saved.keys() | set(overrides.values())
            inv.mapping = {f: c for f, c in inv.mapping.items() if f in wanted}
        elif not maps:
            _note_saved_mapping(inv)
        return inv

    def partial(inv: Inventory) -> None:
        assert glimpse is not None
        part = mapped(inv)
        session = Session(part, policy, Audit(part, policy))
        session.loading = True
        glimpse(session)

    # collection files are read in another process while the register loads here
    pending = PendingCollection([Path(p) for p in evidence]) if evidence else None
    with _collector_paused():
        try:
            inv = load_inventory(
                path,
                sheet=sheet,
                overrides=overrides,
                progress=read,
                glimpse=partial if glimpse is not None else None,
                encoding=encoding,
                delimiter=delimiter,
            )
        except BaseException:
            if pending is not None:
                pending.close()
            raise
        inv = mapped(inv)
        if pending is not None:  # firmware evidence from the PCs, merged by serial/host name
            inv.collection = merge_collection(inv, pending.result(), policy.placeholder_serials)
        session = Session(inv, policy, Audit(inv, policy, progress=check))
    session.inputs.add(policy_path, mapping_file, *evidence)
    return session


def _note_saved_mapping(inv: Inventory) -> None:
    """Headless runs never apply a saved mapping by themselves: they say it exists."""
    found = saved_mapping_for(inv.source_headers)
    if found is None:
        return
    path, saved = found
    if mapping_overrides(saved, inv.source_headers) != inv.source_mapping:
        inv.source.notices.append(
            f"a column mapping saved for these headers differs from the one read now: pass "
            f"--mapping {path} to use it"
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a few huge lists and no reference cycles. Python's cyclic collector
    would walk every element of those lists again and again (a third of the load time at a
    million rows), so it waits; afterwards what was built is frozen out of its sight."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
