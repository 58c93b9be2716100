"""Edit history: apply, undo and redo cell edits, keeping the audit current.

Every applied edit is also recorded in ``log`` (with undos and redos as edits of their own
kind), which is what the Changes sheet and the edit journal are made from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from coa_audit.core.audit import Audit
from coa_audit.core.events import Mark, Stamp, cell_value
from coa_audit.core.model import WALK_FIELDS, ColumnIndex, RowIndex

__all__ = ["Edit", "History", "MappingChange"]


class DerivedField(ValueError):
    """A change asked of a column the tool derives (collected evidence, the walk's cells)
    other than through what derives it."""


@dataclass(frozen=True, slots=True)
class Edit:
    row: RowIndex  # the device's place in the inventory (not the spreadsheet row number)
    col: ColumnIndex
    old: str
    new: str
    origin: str = "screen"  # screen, corrections, walk, journal (how it reached this session)
    time: float = 0.0
    group: int = 0  # edits of one bulk action share a group: one undo step
    # who made it, when, how and why (a restored edit keeps its own)
    stamp: Stamp | None = None
    # a walk cell: its marks after and before the edit (the value is their outcome)
    marks: tuple[Mark, ...] = ()
    old_marks: tuple[Mark, ...] = ()


@dataclass(frozen=True, slots=True)
class MappingChange:
    """The column mapping changed: field -> source header, before and after."""

    time: float
    old: dict[str, str]
    new: dict[str, str]
    origin: str = "screen"  # screen, journal

    def described(self) -> tuple[str, str]:
        """(old, new) for the fields that changed, as "field: header" lists."""
        fields = [f for f in {**self.old, **self.new} if self.old.get(f) != self.new.get(f)]

        def show(m: dict[str, str]) -> str:
            return "; ".join(f"{f}: {m.get(f, '(none)')}" for f in fields)

        return show(self.old), show(self.new)


class History:
    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self.undo_stack: list[Edit] = []
        self.redo_stack: list[Edit] = []
        self._groups = 0
        self.version = 0  # grows with every change of a cell: what was computed is stale

    @property
    def inv(self):  # -> Inventory
        return self.audit.inv

    def _set(self, row: int, col: int, value: str, marks: tuple[Mark, ...] = ()) -> set[int]:
        self.version += 1
        inv = self.inv
        if marks:
            inv.marks[(row, col)] = marks
        else:
            inv.marks.pop((row, col), None)
        old = inv.set_value(row, col, value)
        return self.audit.update(row, col, old)

    def apply(
        self,
        row: RowIndex,
        col: ColumnIndex,
        value: str,
        origin: str = "screen",
        group: int = 0,
        when: float | None = None,
        stamp: Stamp | None = None,
        marks: tuple[Mark, ...] = (),
    ) -> Edit | None:
        """Set one cell (a walk cell with its ``marks``). Returns the edit, or None when
        nothing changed. ``when``: the time the edit was made, when that was earlier (a
        restored edit keeps its own; so does its ``stamp``)."""
        self._own_column(col, value, marks)
        old = self.inv.value(row, col)
        old_marks = self.inv.marks.get((row, col), ())
        if old == value and old_marks == marks:
            return None
        when = when or time.time()  # to the sub-second: which of two sessions came last
        edit = Edit(row, col, old, value, origin, when, group, stamp, marks, old_marks)
        self._set(row, col, value, marks)
        self.undo_stack.append(edit)
        self.redo_stack.clear()
        return edit

    def _own_column(self, col: ColumnIndex, value: str, marks: tuple[Mark, ...]) -> None:
        """The one gate of derived columns, which are the tool's own: collected evidence is
        never changed, and a walk cell holds only the word its marks give. A journal line, a
        corrections file or a front end asking otherwise is refused (``DerivedField``)."""
        inv = self.inv
        if not inv.is_derived(col):
            return
        if col not in {inv.mapping.get(f) for f in WALK_FIELDS}:
            raise DerivedField(f"{inv.headers[col]} is collected evidence: it is never edited")
        if value != cell_value(marks):
            raise DerivedField(f"{inv.headers[col]} holds only what the walk's marks say")

    def new_group(self) -> int:
        """An id for the edits of one bulk action (never 0)."""
        self._groups += 1
        return self._groups

    def _step(self, source: list[Edit], target: list[Edit], undo: bool) -> list[Edit]:
        """Move the top edit (all of its group) from ``source`` to ``target``."""
        if not source:
            return []
        moved = [source.pop()]
        group = moved[0].group
        while group and source and source[-1].group == group:
            moved.append(source.pop())
        for edit in moved:
            if undo:
                self._set(edit.row, edit.col, edit.old, edit.old_marks)
            else:
                self._set(edit.row, edit.col, edit.new, edit.marks)
            target.append(edit)
        return moved

    def undo(self) -> list[Edit]:
        """Undo the last step (a bulk action is one step); the edits undone, last first."""
        return self._step(self.undo_stack, self.redo_stack, True)

    def redo(self) -> list[Edit]:
        """Redo the last undone step; the edits redone, in their first order."""
        return self._step(self.redo_stack, self.undo_stack, False)

    def changes(self) -> list[Edit]:
        """The net change per edited cell, in the order the cells were first edited:
        original value -> current value, with the origin and time of the last edit."""
        first: dict[tuple[int, int], Edit] = {}
        last: dict[tuple[int, int], Edit] = {}
        for e in self.undo_stack:
            first.setdefault((e.row, e.col), e)
            last[(e.row, e.col)] = e
        out = []
        for key in first:
            current = self.inv.value(*key)
            original = self.inv.original(*key)
            if current != original:
                out.append(replace(last[key], old=original, new=current))
        return out
