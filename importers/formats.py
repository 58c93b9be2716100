"""Every input format, declared once with what the code does with it. The reader, the
export and the screens ask this table; nothing else compares format names. An unknown name
is an error where it is read (``input_format``).

Adding a format is an entry here (how detection knows it, whether it is a zip package,
whether its sheet XML is SpreadsheetML, what must be checked before the reader opens it,
what its corrected inventory becomes, and for a format python-calamine cannot read, the
function that opens it as a book with python-calamine's interface) plus its tests.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coa_audit.importers.xlsx_parts import ods_bounds_problem, shared_strings_problem

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

__all__ = [
    "BY_EXTENSION",
    "INPUT_FORMATS",
    "Book",
    "InputFormat",
    "Sheet",
    "SheetMeta",
    "input_format",
    "package_format",
    "recognise",
    "start_apart",
]


class SheetMeta(Protocol):
    """A sheet as a book lists it: its name, and whether it is visible (a value whose text
    ends in ``Visible``, as python-calamine's ``SheetVisibleEnum.Visible``)."""

    @property
    def name(self) -> str: ...
    @property
    def visible(self) -> object: ...


class Sheet(Protocol):
    """A sheet's values, as python-calamine's ``CalamineSheet`` gives them."""

    @property
    def start(self) -> tuple[int, int] | None: ...
    @property
    def height(self) -> int: ...
    @property
    def width(self) -> int: ...
    def iter_rows(self) -> Iterator[list[Any]]: ...
    def to_python(self, skip_empty_area: bool = ...) -> list[list[Any]]: ...


class Book(Protocol):
    """A workbook as the reader uses one (python-calamine's ``CalamineWorkbook``, or what a
    format's ``open_book`` gives)."""

    @property
    def sheets_metadata(self) -> Sequence[SheetMeta]: ...
    def get_sheet_by_name(self, name: str) -> Sheet: ...


# what the reader is asked to read must first be known to fit in memory: a check of the
# whole workbook, given the path and the format's name; it says what is wrong, or None
WholeBookCheck = Callable[[Path, str], "str | None"]
# opens a workbook python-calamine cannot read, as a ``Book``
BookOpener = Callable[[Path], Book]
# why a file of this format, recognised by content, cannot be read whatever it is called
Refusal = Callable[[Path], "str | None"]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)


@dataclass(frozen=True)
class InputFormat:
    name: str  # as SourceInfo.format, the JSON report and the journal say it
    label: str
    extensions: tuple[str, ...]
    zipped: bool  # a zip package: its directory is checked before anything expands
    # the package member that tells this format apart (by content, whatever the name)
    zip_marker: str | None
    # SpreadsheetML parts (xlsx, xlsm): each sheet's extent is checked before it is read,
    # number formats and table totals rows are read from them, and the corrected file is
    # the package itself with only the edited cells spliced in
    spreadsheetml: bool
    text: bool  # a text table (csv, tsv, txt): no sheets, read by the csv module
    whole_book_check: WholeBookCheck | None  # before the reader opens it
    patch_in_place: bool  # the corrected inventory is the user's own file, only edits changed
    corrected_suffix: str | None  # None: the source's own suffix (.csv, .tsv, .txt)
    open_book: BookOpener | None = None  # None: python-calamine reads it
    # how the content is recognised: the bytes it begins with (a zip package's are told
    # apart by ``zip_marker``), or, for a text table, a look at its head (``_looks_like_text``)
    magic: tuple[bytes, ...] = ()
    refuse: Refusal | None = None  # what makes a file of this content unreadable

    def recognises(self, head: bytes) -> bool:
        """Whether a file beginning with ``head`` has this format's kind of content."""
        if self.magic:
            return head.startswith(self.magic)
        return self.text and _looks_like_text(head)

    @property
    def becomes(self) -> str:
        return (self.corrected_suffix or ".csv").lstrip(".")

    @property
    def export_note(self) -> str:
        """Said on the export screen when the corrected file cannot be the same format."""
        if self.patch_in_place:
            return ""
        return (
            f"A {self.name} file cannot be patched in place: the corrected inventory is "
            f"written as {self.becomes}."
        )

    @property
    def short_note(self) -> str:
        """The same, as the command line says it beside the file written."""
        return (
            ""
            if self.patch_in_place
            else f"a {self.name} file cannot be patched: written as {self.becomes}"
        )


PROBE_LIMIT = 2 * 1024**3  # address space for reading a binary workbook once, apart
PROBE_SECONDS = 60


def start_apart(target: Callable[..., None], *args: object, name: str) -> BaseProcess:
    """Start ``target(*args)`` in a process of its own, ended with this one: a
    ``multiprocessing`` child started afresh (spawn: never a fork of a process that runs
    threads; in a one-file build the program itself, which ``multiprocessing.freeze_support``
    in ``cli.main.main`` turns into the child). The child is told there is no main module
    to import again, so a caller's script never runs twice and the command's own imports
    (a quarter of a second) are not paid again; ``target`` names its module."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name)
    child.daemon = True
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # read by start(), alone
    try:
        child.start()
    finally:
        sys.modules["__main__"] = main
    return child


# how the probing process ends (any other way: the reader died, or the probe could not run)
_PROBE_READ = 0  # every sheet read, or the reader refused the file: the real read says why
_PROBE_NO_MEMORY = 3  # an allocation past the bound failed without ending the process


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux; 0 where it cannot be told)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _probe_child(path: str, limit: int) -> None:
    """In the probing process: at most ``limit`` bytes more address space where the
    platform bounds it (``RLIMIT_AS``; Windows has no ``resource`` and reads unbounded, but
    apart all the same), then every sheet read once. Native words on file descriptor 2 (an
    allocator's complaint) go to the null device."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        import resource
    except ImportError:
        pass
    else:
        bound = _address_space() + limit
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            bound = min(bound, hard)
        with contextlib.suppress(ValueError, OSError):  # a platform that will not bound it
            resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
    try:
        import python_calamine

        wb = python_calamine.CalamineWorkbook.from_path(path)
        for name in wb.sheet_names:
            with contextlib.suppress(Exception):
                wb.get_sheet_by_name(name)
    except MemoryError:
        os._exit(_PROBE_NO_MEMORY)
    except Exception:
        pass
    os._exit(_PROBE_READ)


def _probe(path: Path, fmt: str) -> str | None:  # an xlsb
    """Read every sheet of a binary workbook once in a separate process with bounded
    memory, and say so when that read cannot finish: the reader allocates the rectangle
    between a sheet's outermost cells, and one cell far out in a small xlsb asks for
    gigabytes (the reader then aborts the whole process). Walking the records in Python
    instead costs six times the read itself. The process is a ``multiprocessing`` child
    started afresh (spawn), so a one-file build, which has no Python to run, probes too."""
    child = start_apart(_probe_child, str(path), PROBE_LIMIT, name="coa-audit-probe")
    try:
        child.join(PROBE_SECONDS)
        code = child.exitcode
    finally:
        if child.is_alive():
            child.kill()
            child.join()
        child.close()
    if code is None:
        return f"reading it takes over {PROBE_SECONDS} s (damaged or hostile)"
    if code == _PROBE_READ:
        return None
    if code < 0 or code == _PROBE_NO_MEMORY or code > 255:  # a signal; Windows: a fail-fast
        return (
            f"a sheet of this {fmt} asks for more cells than coa-audit will allocate "
            "(damaged or hostile); copy the data to a new workbook"
        )
    return f"it could not be checked before reading (the checking process ended with {code})"


def _ods_tables(path: Path, _name: str) -> str | None:
    return ods_bounds_problem(str(path))


def _shared_strings(path: Path, _name: str) -> str | None:  # xlsx, xlsm
    """The reader reserves room for every shared text the package claims as it opens it."""
    return shared_strings_problem(str(path))


def _format(
    name: str,
    label: str,
    extensions: tuple[str, ...],
    *,
    zipped: bool = False,
    zip_marker: str | None = None,
    spreadsheetml: bool = False,
    text: bool = False,
    whole_book_check: WholeBookCheck | None = None,
    corrected_suffix: str | None = ".xlsx",
    patch_in_place: bool = False,
    open_book: BookOpener | None = None,
    magic: tuple[bytes, ...] | None = None,
    refuse: Refusal | None = None,
) -> InputFormat:
    if magic is None:
        magic = ZIP_MAGIC if zipped else ()
    return InputFormat(
        name, label, extensions, zipped, zip_marker, spreadsheetml, text, whole_book_check,
        patch_in_place, corrected_suffix, open_book, magic, refuse,
    )  # fmt: skip


def _encrypted_ooxml(path: Path) -> str | None:
    """An encrypted xlsx/xlsb is an OLE container with an EncryptionInfo stream."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if "EncryptionInfo".encode("utf-16-le") in head:
        return "is password protected: save an unprotected copy and audit that"
    return None


# bytes no text table holds (NUL aside: a stray one is dropped with a notice)
_BINARY = frozenset(range(1, 9)) | frozenset(range(14, 27)) | frozenset(range(28, 32))


def _looks_like_text(head: bytes) -> bool:
    """A text table in any encoding coa-audit reads: a byte-order mark, UTF-16/32 (every
    other, or three of four, bytes NUL), or few control bytes."""
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:4096]
    if not sample:
        return False
    nuls = sample.count(0)
    if nuls > 0.4 * len(sample):  # UTF-16 or UTF-32 text of mostly ASCII
        return True
    control = sum(1 for b in sample if b in _BINARY)
    return control + nuls <= 0.1 * len(sample)


# a zip package is told apart by the first marker it holds, in this order (xlsx: none)
INPUT_FORMATS: dict[str, InputFormat] = {
    f.name: f
    for f in (
        _format("ods", "OpenDocument spreadsheet", ("ods",), zipped=True,
                zip_marker="content.xml", whole_book_check=_ods_tables),
        _format("xlsb", "Excel binary workbook", ("xlsb",), zipped=True,
                zip_marker="xl/workbook.bin", whole_book_check=_probe),
        _format("xlsm", "Excel macro-enabled workbook", ("xlsm",), zipped=True,
                zip_marker="xl/vbaProject.bin", spreadsheetml=True, patch_in_place=True,
                corrected_suffix=".xlsm", whole_book_check=_shared_strings),
        _format("xlsx", "Excel workbook", ("xlsx",), zipped=True, spreadsheetml=True,
                patch_in_place=True, whole_book_check=_shared_strings),
        _format("xls", "Excel 97-2003 workbook", ("xls",), magic=OLE_MAGIC,
                refuse=_encrypted_ooxml),
        _format("csv", "text table (csv, tsv, txt)", ("csv", "tsv", "txt"), text=True,
                patch_in_place=True, corrected_suffix=None),
    )
}  # fmt: skip
BY_EXTENSION: dict[str, InputFormat] = {e: f for f in INPUT_FORMATS.values() for e in f.extensions}


def package_format(members: set[str]) -> str:
    """The format of a zip package, by the members it holds: the first format whose marker
    it holds, else the one zip format that has no marker (xlsx)."""
    for f in INPUT_FORMATS.values():
        if f.zipped and f.zip_marker is not None and f.zip_marker in members:
            return f.name
    return next(f.name for f in INPUT_FORMATS.values() if f.zipped and f.zip_marker is None)


def recognise(head: bytes, extension: str, members: Callable[[], set[str]]) -> InputFormat | None:
    """The format of a file beginning with ``head`` (the first 8 KB at most), by content:
    the formats whose recogniser accepts it, the extension deciding among them, a zip
    package by its members (``members`` lists them); None when no format recognises it."""
    kinds = [f for f in INPUT_FORMATS.values() if f.magic and f.recognises(head)]
    if not kinds:
        kinds = [f for f in INPUT_FORMATS.values() if not f.magic and f.recognises(head)]
    if not kinds:
        return None
    claimed = BY_EXTENSION.get(extension)
    if all(f.zipped for f in kinds):
        # a zip package is what its members say, whatever its name ("fleet.ods" holding a
        # workbook); the name only tells xlsx from xlsm, which are one kind of package
        found = INPUT_FORMATS[package_format(members())]
        if claimed is not None and claimed.spreadsheetml and found.spreadsheetml:
            return claimed
        return found
    if claimed in kinds:
        return claimed
    return kinds[0]


def input_format(name: str) -> InputFormat:
    """The declared format ``name``; a name no entry has is a bug where it is read."""
    try:
        return INPUT_FORMATS[name]
    except KeyError:
        raise ValueError(f"no input format is called {name!r}") from None
