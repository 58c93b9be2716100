"""Every message the app's workers post to it, in one place (Toolong's style). Workers run
in threads: they never touch a widget, they post one of these and the app's handler, on
its own thread, does the rest. The handler of ``LoadProgress`` is ``on_load_progress``."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from coa_audit.core.errors import EXIT_INTERNAL
from coa_audit.exporters.export import Written
from coa_audit.session.session import Restored, Session

__all__ = [
    "ExportDone",
    "ExportProgress",
    "JournalProblem",
    "LoadFailed",
    "LoadProgress",
    "Loaded",
    "RestoreDone",
    "RestoreProgress",
    "RowsSoFar",
]


@dataclass
class LoadProgress(Message):
    """How far the load is: ``stage`` is "reading" or "auditing"."""

    stage: str
    done: int
    total: int


@dataclass
class RowsSoFar(Message):
    """The rows read so far of a file still loading, audited (``session.loading``)."""

    session: Session


@dataclass
class Loaded(Message):
    """The whole file read and audited."""

    session: Session


@dataclass
class LoadFailed(Message):
    """The load stopped: ``message`` None when the user cancelled it."""

    message: str | None
    exit_code: int = EXIT_INTERNAL


@dataclass
class JournalProblem(Message):
    """The session's edit journal failed, or was replaced for not being private."""


@dataclass
class RestoreProgress(Message):
    done: int
    total: int


@dataclass
class RestoreDone(Message):
    result: Restored | None
    error: str | None


@dataclass
class ExportProgress(Message):
    step: str
    done: int
    total: int


@dataclass
class ExportDone(Message):
    """Every file written (``written``), or none and why (``error``)."""

    written: list[Written] | None
    error: str | None
