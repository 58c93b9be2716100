"""One error type per exit code: every error the user can cause carries its exit code, so
the command line reports it in one line with that code, and anything else is a bug (70)."""

from __future__ import annotations

__all__ = [
    "EXIT_INTERNAL",
    "Cancelled",
    "CoaError",
    "InputError",
    "OutputError",
    "UsageError",
    "internal_error",
    "reader_crash",
]

EXIT_INTERNAL = 70  # a bug


def internal_error(exc: BaseException, with_message: bool = True) -> str:
    """The one line that says a bug happened (exit 70): the exception's type, its message
    when ``with_message`` (never local variables), and what to do."""
    what = f"{type(exc).__name__}: {exc}" if with_message else type(exc).__name__
    return f"internal error: {what} (please report this)"


_SAVE_AGAIN = "open it in the program that made it and save it again"


def reader_crash(exc: BaseException) -> str | None:
    """What it means when ``exc`` ends the reading of a file, if it is one of the ways a
    reader dies on a file rather than a bug of ours (None): memory or recursion exhausted,
    a Rust panic (pyo3's ``PanicException``, in whatever words), an extension's
    ``SystemError``. Every front end turns these into one line and exit 3."""
    if isinstance(exc, MemoryError):
        return (
            "reading it needed more memory than is available: the file claims far more "
            f"than it holds (damaged or hostile) or is too large for this machine; {_SAVE_AGAIN}"
        )
    if isinstance(exc, RecursionError):
        return (
            f"it is nested deeper than a reader can follow: it is damaged or hostile; {_SAVE_AGAIN}"
        )
    if isinstance(exc, SystemError) or type(exc).__name__ == "PanicException":
        return f"the reader failed on a malformed record: damaged or hostile; {_SAVE_AGAIN}"
    return None


class CoaError(Exception):
    """An error the user can act on; the message is one line saying what and what to do."""

    exit_code = EXIT_INTERNAL


class UsageError(CoaError):
    """A bad option, mapping, policy file, corrections file or profile (exit 2)."""

    exit_code = 2


class InputError(CoaError):
    """The input file cannot be used (exit 3)."""

    exit_code = 3


class NoHeaderRow(InputError):
    """No row of the file looks like an inventory's header. ``candidates`` are the rows
    most like one, best first: (sheet or None, 1-based row number, its cells), so that
    `columns` can still show the file and say what to pass to --map."""

    def __init__(self, message: str, candidates: list[tuple[str | None, int, list[str]]]) -> None:
        super().__init__(message)
        self.candidates = candidates


class OutputError(CoaError):
    """An output could not be written; the message says which file and why (exit 4)."""

    exit_code = 4


class Cancelled(CoaError):
    """The user stopped a long job (an export); nothing it was writing was left behind."""

    exit_code = 130
