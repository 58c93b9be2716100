"""A device's status: one byte per row in the audit, one type everywhere else.

The status carries its word (reports, JSON), its grid label (short, survives monochrome),
and a semantic tone that a front end turns into colours (core knows no colours)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["PROBLEM_LEVELS", "STATUSES", "Status"]


class Status(IntEnum):
    ELIGIBLE = 0
    REVIEW = 1
    BLOCKED = 2
    OUT_OF_SCOPE = 3  # not a PC: counted apart, outranks every finding

    @property
    def word(self) -> str:
        return _WORDS[self]

    @property
    def label(self) -> str:
        """The grid's status column: short, and upper case where the device needs work."""
        return _LABELS[self]

    @property
    def tone(self) -> str:
        """success, warning, error or muted: the front end picks the colours."""
        return _TONES[self]

    @classmethod
    def of(cls, word: str) -> Status:
        """The status a word names ("blocked" -> Status.BLOCKED)."""
        return _BY_WORD[word]


_WORDS = {
    Status.ELIGIBLE: "eligible",
    Status.REVIEW: "review",
    Status.BLOCKED: "blocked",
    Status.OUT_OF_SCOPE: "out-of-scope",
}
_LABELS = {
    Status.ELIGIBLE: "ok",
    Status.REVIEW: "REVIEW",
    Status.BLOCKED: "BLOCKED",
    Status.OUT_OF_SCOPE: "not PC",
}
_TONES = {
    Status.ELIGIBLE: "success",
    Status.REVIEW: "warning",
    Status.BLOCKED: "error",
    Status.OUT_OF_SCOPE: "muted",
}
STATUSES: tuple[str, ...] = tuple(s.word for s in Status)
# what "a device with problems" means everywhere: review or blocked (a non-PC is no problem)
PROBLEM_LEVELS: tuple[int, ...] = (Status.REVIEW, Status.BLOCKED)
_BY_WORD = {s.word: s for s in Status}
