"""The headless command line: a thin Typer layer over importers -> core -> exporters.

Exit codes are an API (see EXIT_CODES_HELP). This module never imports Textual: only the `tui`
command does, when it runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import typer
from typer._click.exceptions import ClickException, MissingParameter, NoArgsIsHelpError
from typer.core import TyperGroup

from coa_audit.core.errors import (
    EXIT_INTERNAL,
    CoaError,
    InputError,
    OutputError,
    UsageError,
    internal_error,
    reader_crash,
)
from coa_audit.core.files import Inputs
from coa_audit.core.policy import default_policy_text, load_policy
from coa_audit.core.text import safe_text
from coa_audit.exporters.atomic import write_bytes_atomic
from coa_audit.exporters.formats import CHECKLIST_FORMATS

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = UsageError.exit_code  # 2
EXIT_INTERRUPTED = 130

_EXIT_REST = (
    "2 usage or configuration error; 3 input file unreadable; 4 output could not be written; "
    "70 internal error (a bug: please report it); 130 interrupted (Ctrl-C, SIGTERM, SIGHUP)."
)
# `check` and `export` take --fail-on: only their help speaks of it
CHECK_EXIT_HELP = (
    "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on; " + _EXIT_REST
)
EXIT_CODES_HELP = "Exit codes: 0 done; " + _EXIT_REST
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
STDIN_NAME = "<stdin>"  # how an input read from stdin ("-") is named in reports and messages


class _Voice:
    """What the tool says besides its data and its errors: ``-q`` nothing, ``-v`` more (what
    was read and how, how long it took). Set afresh for every run of the command group."""

    quiet = False
    verbose = False
    started = 0.0


# what writing says when the disk, the quota or standard output takes no more
_FULL = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, n))

_VOICE = _Voice()


def _usage_line(exc: ClickException) -> str:
    """A usage error Click found, as one line with the fix: the usage of the command for a
    missing argument, else where its options are listed (Click's own words already name a
    bad choice's choices and suggest a near option or command)."""
    ctx = getattr(exc, "ctx", None)
    words = " ".join(exc.format_message().replace("Value error, ", "").split()).rstrip(".")
    where = ctx.command_path if ctx is not None else "coa-audit"
    if isinstance(exc, MissingParameter) and ctx is not None:
        pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
        return f"{words} (usage: {where} {pieces}; {where} -h for more)"
    return f"{words} (see {where} -h)"


class _Commands(TyperGroup):
    """The command group, as Click runs it: a usage error (missing argument, unknown option
    or command, bad choice or value) is one line on stderr and exit 2, never Click's box."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        _VOICE.quiet = _VOICE.verbose = False
        _VOICE.started = time.monotonic()
        try:
            done = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:  # `coa-audit` alone: the help is the answer
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(EXIT_USAGE)
        except ClickException as exc:
            if not standalone_mode:
                raise
            typer.echo(f"coa-audit: {safe_text(_usage_line(exc))}", err=True)
            sys.exit(EXIT_USAGE)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("coa-audit: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        if not standalone_mode:
            return done
        sys.exit(done if isinstance(done, int) else EXIT_OK)


app = typer.Typer(
    name="coa-audit",
    cls=_Commands,
    help="Audit fleet inventories for qualifying Windows base licences (COA, GML, OA3) before "
    "a Volume Licensing imaging order.\n\n" + CHECK_EXIT_HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)
policy_app = typer.Typer(
    help="Show or copy the licensing policy.", no_args_is_help=True, context_settings=HELP_OPTIONS
)
app.add_typer(policy_app, name="policy")


def _set_quiet(value: bool) -> bool:
    _VOICE.quiet = _VOICE.quiet or value
    return value


def _set_verbose(value: bool) -> bool:
    _VOICE.verbose = _VOICE.verbose or value
    return value


QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=_set_quiet,
        help="Say nothing but an error (one line on stderr): no progress, notes, warnings or 'wrote' lines. check prints its report only when it exits 1.",
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        callback=_set_verbose,
        help="Also say on stderr what was read and how (format, encoding, sheet, header row, mapping, policy) and how long the run took.",
    ),
]


def _say(line: str) -> None:
    """One line on stderr, unless -q: what was written, a warning, a note."""
    if not _VOICE.quiet:
        typer.echo(_STDIN.named(line), err=True)


def _detail(line: str) -> None:
    """One line on stderr with -v only."""
    if _VOICE.verbose and not _VOICE.quiet:
        typer.echo(_STDIN.named(line), err=True)


class _Stdin:
    """The one input of a run read from stdin (``-``): copied whole into a private temporary
    folder, so it goes through the same reader as a file of that name, and named
    ``<stdin>`` in reports and messages. Removed when the command ends (``_guard``)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.taken = ""  # which option read it
        self.aliases: dict[str, str] = {}

    def path(self, value: Path | None, what: str, suffix: str = "") -> Path | None:
        """``value``, or the copy of stdin when it is ``-``."""
        if value is None or str(value) != "-":
            return value
        if self.taken:
            raise UsageError(
                f"{what} -: stdin is already read as {self.taken}; only one input of a run "
                "can come from stdin, give the others as files"
            )
        stream = sys.stdin
        if stream is None or stream.isatty():
            raise UsageError(
                f"{what} -: reads stdin, which is a terminal; pipe the file in "
                "(... - < FILE) or give its name"
            )
        import shutil
        import tempfile

        self.taken = what
        self.folder = Path(tempfile.mkdtemp(prefix="coa-audit-stdin-"))  # 0700
        copy = self.folder / f"stdin{'.' + suffix if suffix else ''}"
        with open(copy, "xb") as out:
            shutil.copyfileobj(getattr(stream, "buffer", stream), out, 1 << 20)
        self.aliases[str(copy)] = STDIN_NAME
        return copy

    def named(self, text: str) -> str:
        """``text`` with the temporary copy's path said as ``<stdin>``."""
        for copy, name in self.aliases.items():
            text = text.replace(copy, name)
        return text

    def close(self) -> None:
        if self.folder is not None:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder, self.taken, self.aliases = None, "", {}


_STDIN = _Stdin()


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"coa-audit {version('coa-audit')}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Audit fleet inventories for qualifying Windows base licences."""


class Format(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


MAX_MESSAGE = 600  # one line a terminal can show: quoted file names and headers are cut


def _fail(message: str, code: int) -> NoReturn:
    from coa_audit.core.text import safe_text

    line = " ".join(safe_text(_STDIN.named(message)).split())  # no escape reaches the terminal
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 1] + "…"
    typer.echo(f"coa-audit: {line}", err=True)
    raise typer.Exit(code)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: temporary files removed, one line


@contextlib.contextmanager
def _guard(signals: bool = True) -> Iterator[None]:
    """Turn every failure into one line on stderr and its documented exit code. SIGTERM and
    SIGHUP stop a headless command the way Ctrl-C does (``signals``; the app keeps their
    default: its journal already holds every edit)."""
    import signal

    previous = {}
    for name in ("SIGTERM", "SIGHUP") if signals else ():
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, _interrupt)
    try:
        if _VOICE.quiet and _VOICE.verbose:
            raise UsageError("-q (--quiet) and -v (--verbose) ask for opposites: give one")
        yield
        sys.stdout.flush()  # what is still buffered fails here, not unreported at exit
        _detail(f"done in {time.monotonic() - _VOICE.started:.2f} s")
    except typer.Exit:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        raise
    except CoaError as exc:  # each error type carries its documented exit code
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        # writers cut short complain when collected ("Exception ignored in..."): not news
        sys.unraisablehook = lambda _info: None
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        raise typer.Exit(EXIT_OK) from None
    except BaseException as exc:
        if isinstance(exc, OSError) and exc.errno in _FULL:
            # a disk or standard output that takes no more (> /dev/full, a full disk, a
            # quota): an output could not be written, exit 4, never an internal error
            with contextlib.suppress(Exception):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
            _fail(
                f"cannot write the output ({exc.strerror or exc}): free some space, or write "
                "it elsewhere",
                OutputError.exit_code,
            )
        why = reader_crash(exc)  # a reader died on the input: exit 3, whatever its words
        if why is not None:
            from coa_audit.cli.supervise import input_file

            name = STDIN_NAME if _STDIN.taken == "the inventory" else input_file(sys.argv)
            _fail(f"{name}: {why}", InputError.exit_code)
        if not isinstance(exc, Exception):
            raise
        _fail(internal_error(exc), EXIT_INTERNAL)  # a bug: one line, never local variables
    finally:
        _STDIN.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _inputs(*paths: Path | None, more: Sequence[Path] = ()) -> Inputs:
    """The registry of what this run reads (``core.files.Inputs``): no output may be one."""
    inputs = Inputs()
    inputs.add(*paths, *more)
    return inputs


def _progress():  # -> Callable | None
    from coa_audit.cli.supervise import STDERR_TTY

    # under the supervisor stderr is a pipe to the terminal (cli.supervise)
    if _VOICE.quiet or not (sys.stderr.isatty() or os.environ.get(STDERR_TTY)):
        return None
    last: list[object] = [None, 0]  # (stage, percent), width of the line shown

    def show(stage: str, done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if (stage, pct) != last[0]:
            last[0] = (stage, pct)
            line = f"{stage}: {pct:3d}%"
            width = int(last[1])  # type: ignore[call-overload]
            sys.stderr.write("\r" + line.ljust(width))
            last[1] = len(line)
            if pct >= 100:
                sys.stderr.write("\r" + " " * len(line) + "\r")
                last[1] = 0
            sys.stderr.flush()

    return show


FileArg = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="Inventory: xlsx, xlsm, xlsb, xls, ods, csv, tsv; - reads it from stdin.",
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", help="Sheet to read (default: the one that looks like an inventory)."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="A text table's encoding (utf-8, cp1250 ... cp1258, cp932, gb18030, big5, euc-kr, koi8-r...): overrules the one detected. Refused for a workbook.",
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="A text table's delimiter, one character (; , | or \\t) or by name (tab, comma, semicolon, pipe): overrules the one detected. Refused for a workbook.",
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Upgrade being bought: windows-enterprise (default), windows-pro, windows-education.",
    ),
]
AgreementOpt = Annotated[
    str | None, typer.Option("--agreement", help="commercial (default) or academic.")
]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Policy TOML merged over the built-in one.")
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help='Map a source column: "Header=field" (repeatable; "Header=-" unmaps).'
    ),
]
EvidenceOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--evidence",
        help="A file (or folder of files) of firmware evidence collected from the PCs (coa-audit collect-script, Export-Csv, wmic, Intune...), merged by serial number, else host name. Repeatable.",
    ),
]
WalkOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--walk",
        help="A walk file an export wrote (NAME.walk.csv): its marks (present, not found, label, accepted, taken out) and scanned codes are put back on their devices first. Repeatable: several technicians' walks merge by device, and two different outcomes for one device are a conflict that keeps it out of the eligible list.",
    ),
]
AuthorOpt = Annotated[
    str | None,
    typer.Option(
        "--author",
        help="Who is making this run's changes (corrections without a by column): the name the audit report and the packet print beside each.",
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help='A saved column mapping (TOML: [mapping] field = "Source header"), used exactly; --map wins over it.',
    ),
]


ShowKeysOpt = Annotated[
    bool,
    typer.Option(
        "--show-keys",
        help="Show full product keys in the report (masked by default, wherever they sit).",
    ),
]


InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="The format of an inventory read from stdin (FILE -): xlsx, xlsm, xlsb, xls, ods, csv, tsv or txt, checked against its bytes as a file's extension is (default: told by its bytes).",
    ),
]
CorrectionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--corrections",
        help="CSV of edits applied first: row|serial_number|asset_tag, field, value (by, reason). Every line is checked before any is applied.",
    ),
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a finding at or above this severity exists (after --walk and --corrections).",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the file when it exists.")]
# export writes its files whatever they show; 1 on findings only when asked (--fail-on)
EXPORT_FAIL_ON = FailOn.never


def _refuse_existing(path: Path, force: bool, what: str = "") -> None:
    """The one overwrite rule: a file named on the command line that exists is replaced
    only with --force (export's own outputs are the documented exception)."""
    if not force and os.path.lexists(path):
        named = f"{what} {path}" if what else str(path)
        raise UsageError(f"{named} exists: give --force to replace it, or another name")


def _to_stdout(path: Path | None) -> bool:
    return path is None or str(path) == "-"


def _verdict(summary: Any, fail_on: FailOn) -> int:
    """Exit 1 when a finding at or above ``fail_on`` exists (check and export alike)."""
    if fail_on is FailOn.error and summary.blocked:
        return EXIT_FINDINGS
    if fail_on is FailOn.warning and (summary.blocked or summary.review):
        return EXIT_FINDINGS
    return EXIT_OK


def _stdin_inventory(file: Path, input_format: str | None) -> Path:
    """FILE, or the copy of stdin when it is ``-`` (its format told by its bytes, or checked
    against --input-format as an extension is)."""
    from coa_audit.importers.formats import BY_EXTENSION

    if input_format is not None:
        fmt = input_format.lower().lstrip(".")
        if fmt not in BY_EXTENSION:
            raise UsageError(
                f"--input-format {input_format!r}: choose one of {', '.join(BY_EXTENSION)}"
            )
        if str(file) != "-":
            raise UsageError(
                "--input-format names the format of an inventory read from stdin (FILE -); "
                "a file's own bytes and name say it"
            )
        input_format = fmt
    got = _STDIN.path(file, "the inventory", input_format or "")
    assert got is not None
    return got


def _from_stdin(session: Any, file: Path) -> None:
    """The inventory read from stdin is named ``<stdin>`` in what the run reports."""
    if str(file) in _STDIN.aliases:
        session.inventory.source.path = STDIN_NAME


def _describe_read(session: Any) -> None:
    """-v: what was read and how, in two lines."""
    if not _VOICE.verbose:
        return
    inv = session.inventory
    src = inv.source
    how = [src.format]
    if src.sheet is not None:
        how.append(f"sheet {src.sheet!r}")
    if src.csv:
        how.append(f"encoding {src.csv.get('encoding')}, delimiter {src.csv.get('delimiter')!r}")
    _detail(
        f"read {src.path}: {', '.join(how)}; header row {src.header_row}; {len(inv)} devices; "
        f"SHA-256 {src.sha256}"
    )
    from coa_audit.core.model import WALK_FIELDS

    mapped = ", ".join(
        f"{f}={inv.headers[c]!r}" for f, c in inv.mapping.items() if f not in WALK_FIELDS
    )
    _detail(f"mapping: {mapped or 'none'}")
    pol = session.policy
    _detail(f"policy: {pol.name}: {pol.provenance}; {pol.target} / {pol.agreement}")


def _apply_corrections(session: Any, corrections: Path | None, author: str | None) -> None:
    """--corrections (check and export): every line checked first, then each applied as an
    edit stamped with who (its by column, else --author) and why (its reason column)."""
    if corrections is None:
        return
    from coa_audit.core.events import Stamp
    from coa_audit.importers.corrections import read_corrections

    session.inputs.add(corrections)
    for c in read_corrections(corrections, session.inventory):
        stamp = Stamp.now(c.by or author or "", "corrections", c.reason)
        session.apply(c.row, c.col, c.value, origin="corrections", stamp=stamp)


@app.command(epilog=CHECK_EXIT_HELP)
def check(
    file: FileArg,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    input_format: InputFormatOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    policy: PolicyOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    evidence: EvidenceOpt = None,
    walk: WalkOpt = None,
    corrections: CorrectionsOpt = None,
    author: AuthorOpt = None,
    format_: Annotated[Format, typer.Option("--format", help="text, json or csv.")] = Format.text,
    fail_on: FailOnOpt = FailOn.error,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report here instead of stdout (-: stdout)."),
    ] = None,
    force: ForceOpt = False,
    show_keys: ShowKeysOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Audit an inventory (FILE, or - for stdin) and report every device that cannot be
    certified; with --walk and --corrections, as they leave it, without writing a file."""
    import tempfile

    from coa_audit.exporters.atomic import atomic_writer
    from coa_audit.exporters.check_report import report_csv, report_text, write_report_json
    from coa_audit.exporters.safety import keys_shown
    from coa_audit.session.session import open_session

    with _guard():
        file = _stdin_inventory(file, input_format)
        policy, mapping, corrections = (
            _STDIN.path(policy, "--policy"),
            _STDIN.path(mapping, "--mapping"),
            _STDIN.path(corrections, "--corrections"),
        )
        evidence = [p for p in (_STDIN.path(e, "--evidence") for e in evidence or ()) if p]
        walk = [p for p in (_STDIN.path(w, "--walk") for w in walk or ()) if p]
        if not _to_stdout(output):  # refused before anything is read
            assert output is not None
            _inputs(file, policy, mapping, corrections, more=[*evidence, *walk]).refuse(
                output, "--output"
            )
            _refuse_existing(output, force, "--output")
        session = open_session(
            file,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            target=target,
            agreement=agreement,
            policy_path=policy,
            maps=map_ or (),
            mapping_file=mapping,
            evidence=evidence,
            progress=_progress(),
        )
        _from_stdin(session, file)
        _describe_read(session)
        session.author = " ".join((author or "").split())
        _load_walk(session, walk)
        _apply_corrections(session, corrections, author)
        audit = session.audit
        code = _verdict(audit.summary(), fail_on)
        changed = bool(walk or corrections)  # the report lists them, as export --json does

        def write(out: BinaryIO) -> None:
            if format_ is Format.json:
                # streamed, chunk by chunk; half the devices written by a second process,
                # which sets them aside beside the report (or in the temporary folder)
                beside = (
                    output.parent
                    if output is not None and not _to_stdout(output)
                    else Path(tempfile.gettempdir())
                )
                if changed:
                    write_report_json(
                        audit, out, session.changes(), session.mapping_changes, beside=beside
                    )
                else:
                    write_report_json(audit, out, beside=beside)
            elif format_ is Format.csv:
                out.write(report_csv(audit).encode("utf-8"))
            else:
                out.write(report_text(audit).encode("utf-8"))

        with keys_shown(show_keys):
            if not _to_stdout(output):
                assert output is not None
                with atomic_writer(output) as f:
                    write(f)
            elif code or not _VOICE.quiet:  # -q: the report only when something is found
                write(sys.stdout.buffer)
                sys.stdout.flush()
        if code:
            raise typer.Exit(code)


def _print_json(doc: dict[str, Any]) -> None:
    """One JSON document on stdout (indented: these are small), its `schema` first, its
    text as the check report's is: keys masked, file names that are not UTF-8 made so, and
    nothing a terminal acts on (the report's own helpers)."""
    import orjson

    from coa_audit.exporters.check_report import _escaped, _json_safe

    data = _escaped(orjson.dumps(_json_safe(doc), option=orjson.OPT_INDENT_2))
    sys.stdout.flush()
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.flush()


def _print_csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """One table on stdout through the tool's one CSV writer (exporters.safety.CsvTable)."""
    from coa_audit.core.text import safe_field
    from coa_audit.exporters.safety import CsvTable

    table = CsvTable(list(headers), clean=safe_field)
    for row in rows:
        table.row(list(row))
    sys.stdout.write(table.text())
    sys.stdout.flush()


@app.command(epilog=EXIT_CODES_HELP)
def columns(
    file: FileArg,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    input_format: InputFormatOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save-mapping",
            help="Save the mapping shown (with --map) for the next file with these headers.",
        ),
    ] = False,
    format_: Annotated[TextOrJson, typer.Option("--format", help="text or json.")] = (
        TextOrJson.text
    ),
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Show the header row found, how each column maps to a field, and what stayed unmapped."""
    from coa_audit.core.errors import NoHeaderRow
    from coa_audit.core.model import CANONICAL_FIELDS, column_letter
    from coa_audit.core.text import safe_text
    from coa_audit.importers.load import list_sheets
    from coa_audit.session.mappings import save_mapping
    from coa_audit.session.session import open_session

    with _guard():
        out = typer.echo
        file = _stdin_inventory(file, input_format)
        mapping = _STDIN.path(mapping, "--mapping")
        try:
            session = open_session(
                file,
                sheet=sheet,
                maps=map_ or (),
                mapping_file=mapping,
                encoding=encoding,
                delimiter=delimiter,
            )
        except NoHeaderRow as exc:  # never refuse to show a file: its likeliest header rows
            if format_ is TextOrJson.json:
                _print_json(
                    {
                        "schema": "coa-audit.columns/1",
                        "source": {"path": _STDIN.named(str(file)), "header_row": None},
                        "candidates": [
                            {
                                "sheet": sheet_name,
                                "row": number,
                                "cells": [
                                    {"column": column_letter(i), "text": str(cell)}
                                    for i, cell in enumerate(cells)
                                    if str(cell).strip()
                                ],
                            }
                            for sheet_name, number, cells in getattr(exc, "candidates", [])
                        ],
                    }
                )
            else:
                _show_header_candidates(exc)
            return
        _from_stdin(session, file)
        _describe_read(session)
        inv = session.inventory
        src = inv.source
        fields = {c: f for f, c in inv.mapping.items()}
        missing = [f for f in CANONICAL_FIELDS if f not in inv.source_mapping]
        sheets = list_sheets(file) if src.sheet is not None else []
        saved = save_mapping(inv.source_headers, session.mapping_by_header()) if save else None
        if format_ is TextOrJson.json:
            _print_json(
                {
                    "schema": "coa-audit.columns/1",
                    "source": {
                        "path": src.path,
                        "format": src.format,
                        "sheet": src.sheet,
                        "sheets": [{"name": s.name, "visible": s.visible} for s in sheets],
                        "csv": (
                            {
                                "delimiter": src.csv["delimiter"],
                                "encoding": src.csv["encoding"],
                            }
                            if src.csv
                            else None
                        ),
                        "header_row": src.header_row,
                        "devices": len(inv),
                        "notices": inv.notices(),
                    },
                    "columns": [
                        {
                            "column": inv.letter(c),
                            "header": h,
                            "field": fields.get(c),
                            "mapped_by": (inv.mapped_by(fields[c]) if c in fields else "") or None,
                        }
                        for c, h in enumerate(inv.source_headers)
                    ],
                    "fields_with_no_column": missing,
                    "saved_mapping": str(saved) if saved is not None else None,
                }
            )
            return
        from rich.cells import set_cell_size  # headers in wide scripts: padded by cells

        out(f"file: {safe_text(src.path)} ({src.format})")
        if src.sheet is not None:
            names = ", ".join(
                safe_text(s.name) + ("" if s.visible else " (hidden)") for s in sheets
            )
            out(f"sheet: {safe_text(src.sheet)}   (sheets: {names})")
        if src.csv:
            d = src.csv
            out(f"csv: delimiter {d['delimiter']!r}, encoding {d['encoding']}")
        for n in inv.notices():
            out(f"note: {safe_text(n)}")
        out(f"header row: {src.header_row}   devices: {len(inv)}")
        out("")
        out(f"{'column':<7} {'source header':<32} field")
        for c, h in enumerate(inv.source_headers):
            field = fields.get(c, "(unmapped, carried through)")
            why = inv.mapped_by(field) if c in fields else ""
            out(
                f"{inv.letter(c):<7} {set_cell_size(safe_text(h), 32)} {field}"
                + (f"  ({why})" if why else "")
            )
        if missing:
            out("")
            out(f"fields with no column: {', '.join(missing)}")
        if saved is not None:
            out("")
            out(f"saved this mapping for files with these headers: {safe_text(str(saved))}")


def _show_header_candidates(exc: Exception) -> None:
    """`columns` on a file where no row looks like a header: the rows most like one, each
    cell with its column letter, and how to name the fields with --map."""
    from coa_audit.core.model import column_letter
    from coa_audit.core.text import safe_text

    out = typer.echo
    out("no header row was recognised: no row names a serial number, asset tag or licence")
    out("evidence in words this tool knows. The rows most like a header:")
    for sheet, number, cells in getattr(exc, "candidates", []):
        where = f"sheet {safe_text(sheet)}, " if sheet else ""
        out("")
        out(f"{where}row {number}:")
        for i, cell in enumerate(cells):
            if str(cell).strip():
                out(f"  {column_letter(i):<4} {safe_text(str(cell))[:60]}")
    out("")
    out('name the columns with --map "Header=field" (fields: serial_number, asset_tag,')
    out("hostname, coa_present, coa_edition, coa_key, current_os, ...); two mapped columns,")
    out('one of them identifying a device, make a header row, e.g. --map "Seriennr=serial_number"')


@app.command(epilog=CHECK_EXIT_HELP)
def export(
    file: FileArg,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Folder for the outputs (default: next to the source)."),
    ] = None,
    corrections: CorrectionsOpt = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Apply the unexported edits the full-screen app journaled for this file.",
        ),
    ] = False,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile", help="TOML with customer, agreement_number, provider, prepared_by."
        ),
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    agreement_type: Annotated[
        str | None,
        typer.Option(
            "--agreement-type",
            help="EA, EAS, MPSA, CSP, Select Plus, Open Value; academic: EES, OVS-ES, School.",
        ),
    ] = None,
    agreement_number: Annotated[str | None, typer.Option("--agreement-number")] = None,
    product: Annotated[
        str | None,
        typer.Option(
            "--product", help='Edition and version installed ("Windows 11 Enterprise 24H2").'
        ),
    ] = None,
    licences: Annotated[
        str | None,
        typer.Option(
            "--licences", help="Upgrade licences purchased (warns if fewer than eligible)."
        ),
    ] = None,
    order_reference: Annotated[
        str | None, typer.Option("--order-ref", help="The OEM/LSP order or PO reference.")
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", help="OEM or LSP doing the imaging.")
    ] = None,
    prepared_by: Annotated[str | None, typer.Option("--prepared-by")] = None,
    signatory: Annotated[
        str | None, typer.Option("--signatory", help="The customer's authorised signatory.")
    ] = None,
    signatory_title: Annotated[str | None, typer.Option("--signatory-title")] = None,
    verifier: Annotated[
        str | None, typer.Option("--verifier", help="The OEM/LSP's verifier.")
    ] = None,
    worklist: Annotated[
        str | None,
        typer.Option(
            "--worklist",
            help="Also write NAME.worklist.xlsx: the devices of these statuses (blocked,review) "
            "with their findings and what to do.",
        ),
    ] = None,
    worklist_by: Annotated[
        str | None,
        typer.Option("--by", help="Group the worklist by this field (location...)."),
    ] = None,
    checklist_by: Annotated[
        str | None,
        typer.Option(
            "--checklist-by",
            help="One checklist per value of this field (location, for one per site).",
        ),
    ] = None,
    checklist: Annotated[
        str,
        typer.Option(
            "--checklist",
            help="Checklist formats, comma-separated: "
            + ",".join(CHECKLIST_FORMATS)
            + " (empty: none).",
        ),
    ] = ",".join(CHECKLIST_FORMATS),
    paper: Annotated[
        str, typer.Option("--paper", help="Checklist PDF paper: A4 or Letter.")
    ] = "A4",
    annotate: Annotated[
        bool,
        typer.Option(
            "--annotate", help="Add status and findings columns to the corrected inventory."
        ),
    ] = False,
    json_report: Annotated[
        bool, typer.Option("--json", help="Also write the check report as NAME.audit.json.")
    ] = False,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    policy: PolicyOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    evidence: EvidenceOpt = None,
    walk: WalkOpt = None,
    author: AuthorOpt = None,
    continues: Annotated[
        Path | None,
        typer.Option(
            "--continues",
            help="The packet of the earlier export this register continues (found beside NAME.corrected.EXT by itself).",
        ),
    ] = None,
    show_keys: ShowKeysOpt = False,
    fail_on: FailOnOpt = EXPORT_FAIL_ON,
    format_: Annotated[
        TextOrJson,
        typer.Option(
            "--format",
            help="text: a 'wrote' line per file on stderr; json: one summary document on stdout (the files written, the audit summary, the exit code).",
        ),
    ] = TextOrJson.text,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write the corrected inventory, the audit report and the certification checklist,
    next to the inventory (or in --out-dir), replacing what an earlier export of it wrote.
    Exit 1 when the corrected state has findings at or above --fail-on (default never)."""
    from coa_audit.core.policy import load_policy
    from coa_audit.core.text import safe_text
    from coa_audit.exporters.checklist import (
        check_header,
        packet_size_warning,
        review_warnings,
    )
    from coa_audit.exporters.export import ExportRequest, export_session, load_profile
    from coa_audit.exporters.safety import keys_shown
    from coa_audit.exporters.worklist import parse_statuses
    from coa_audit.session.session import OpenOptions

    with _guard():
        if str(file) == "-":
            raise UsageError(
                "export -: its files are named after the inventory and written beside it, so "
                "it needs the inventory as a file (check - reads one from stdin)"
            )
        if out_dir is not None and str(out_dir) == "-":
            raise UsageError(
                "--out-dir -: export writes several files (corrected inventory, audit report, "
                "checklist), which cannot share stdout; name a folder (--format json prints "
                "what was written)"
            )
        policy, mapping, corrections, profile = (
            _STDIN.path(policy, "--policy"),
            _STDIN.path(mapping, "--mapping"),
            _STDIN.path(corrections, "--corrections"),
            _STDIN.path(profile, "--profile"),
        )
        evidence = [p for p in (_STDIN.path(e, "--evidence") for e in evidence or ()) if p]
        walk = [p for p in (_STDIN.path(w, "--walk") for w in walk or ()) if p]
        if paper.lower() not in ("a4", "letter"):
            raise UsageError(f"--paper {paper!r}: choose A4 or Letter")
        header = load_profile(profile) if profile else {}
        for key, value in (
            ("customer", customer),
            ("agreement_type", agreement_type),
            ("agreement_number", agreement_number),
            ("product", product),
            ("licences", licences),
            ("order_reference", order_reference),
            ("provider", provider),
            ("prepared_by", prepared_by),
            ("signatory", signatory),
            ("signatory_title", signatory_title),
            ("verifier", verifier),
        ):
            if value is not None:
                header[key] = value
        # the packet's details are checked before a large file is read
        header = check_header(header, load_policy(policy, target, agreement))
        statuses = parse_statuses(worklist) if worklist is not None else None
        if worklist_by and statuses is None:
            raise UsageError("--by groups the worklist: give --worklist too")
        formats = [f.strip().lower() for f in checklist.split(",") if f.strip()]
        if out_dir is not None:  # an evidence folder is never written into
            _inputs(more=evidence or ()).refuse(out_dir, "--out-dir")
        options = OpenOptions(
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            target=target,
            agreement=agreement,
            policy_path=policy,
            maps=tuple(map_ or ()),
            mapping_file=mapping,
            evidence=tuple(evidence or ()),
        )
        session = options.open(file, progress=_progress())
        if resume:
            # the session resumed read the file as its journal says (its encoding, delimiter
            # or sheet): read it that way again where the command line names none
            pending, log = session.pending()
            again = options.to_resume(session, pending[0]) if pending else None
            if again is not None:
                said = ", ".join(f"{k} {v}" for k, v in pending[0].read_as.items())
                _say(f"reading the file as the resumed session did ({said})")
                session.close()
                session = again.open(file, progress=_progress())
        _describe_read(session)
        session.inputs.add(corrections, profile, continues)
        session.author = " ".join((author or "").split())
        _load_walk(session, walk)
        if resume:
            pending, log = session.pending()
            if log.problem:
                _say(f"warning: {safe_text(log.problem)}")
            elif log.skipped:
                _say(f"{log.skipped} unreadable journal line(s) skipped")
            if not pending:
                _say("resumed 0 journaled edit(s): nothing is pending")
            for earlier in pending[:1]:  # the most recent session's work
                restored = session.restore(earlier)
                note = f" ({len(restored.skipped)} not applied)" if restored.skipped else ""
                _say(f"resumed {restored.applied} journaled edit(s){note}")
                for why in restored.skipped:
                    _say(f"not applied: {safe_text(why)}")
        _apply_corrections(session, corrections, author)
        if formats:  # said before a file is written, as the app's review step says them
            too_long = packet_size_warning(session.audit, formats, checklist_by)
            for warning in [*review_warnings(session.audit, header), *filter(None, [too_long])]:
                _say(f"warning: {safe_text(warning)}")
        with keys_shown(show_keys):
            written = export_session(
                session,
                ExportRequest(
                    out_dir=out_dir,
                    checklist=formats,
                    annotate=annotate,
                    header=header,
                    paper="Letter" if paper.lower() == "letter" else "A4",
                    json_report=json_report,
                    checklist_by=checklist_by,
                    continues=continues,
                    worklist=statuses,
                    worklist_by=worklist_by,
                    side_by_side=True,
                ),
                progress=_progress(),
            )
        summary = session.audit.summary()
        code = _verdict(summary, fail_on)  # the corrected state, as the files show it
        session.close()
        sizes = [w.path.stat().st_size for w in written]
        for w, size in zip(written, sizes, strict=True):
            _say(f"wrote {safe_text(str(w.path))} ({w.what}, {size} bytes)")
        if format_ is TextOrJson.json:
            _print_json(
                {
                    "schema": "coa-audit.export/1",
                    "source": {
                        "path": session.inventory.source.path,
                        "sha256": session.inventory.source.sha256,
                    },
                    "written": [
                        {"path": str(w.path), "what": w.what, "bytes": size}
                        for w, size in zip(written, sizes, strict=True)
                    ],
                    "summary": summary.as_dict(),
                    "fail_on": fail_on.value,
                    "exit_code": code,
                }
            )
        if code:
            raise typer.Exit(code)


@app.command("collect-script", epilog=EXIT_CODES_HELP)
def collect_script(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the script here instead of stdout (-: stdout)."),
    ] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print (or write) the PowerShell script that collects each PC's firmware key evidence
    for --evidence."""
    from importlib import resources

    text = (
        resources.files("coa_audit.importers")
        .joinpath("data/collect-coa-evidence.ps1")
        .read_text(encoding="utf-8")
    )
    with _guard():
        if _to_stdout(output):
            typer.echo(text, nl=False)
            return
        assert output is not None
        _refuse_existing(output, force, "--output")
        write_bytes_atomic(output, text.replace("\n", "\r\n").encode("utf-8-sig"))
        _say(f"wrote {safe_text(str(output))}")


@app.command(epilog=EXIT_CODES_HELP)
def codes(
    format_: Annotated[Format, typer.Option("--format", help="text, json or csv.")] = Format.text,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List every finding code with its severity and meaning."""
    from coa_audit.core.codes import codes as all_codes

    with _guard():
        infos = list(all_codes().values())
        fields = ("code", "severity", "field", "title", "action")
        if format_ is Format.json:
            _print_json(
                {
                    "schema": "coa-audit.codes/1",
                    "codes": [{f: getattr(i, f) for f in fields} for i in infos],
                }
            )
            return
        if format_ is Format.csv:
            _print_csv(fields, [[getattr(i, f) for f in fields] for i in infos])
            return
        for info in infos:
            typer.echo(f"{info.code:<24} {info.severity:<8} {info.title}")
            typer.echo(f"{'':<33} {info.action}")


@policy_app.command("show", epilog=EXIT_CODES_HELP)
def policy_show(
    policy: PolicyOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            help="text (the pairs that run), json or csv (every edition under every pair).",
        ),
    ] = Format.text,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the active verdict table: every edition under every target and agreement."""
    with _guard():
        policy = _STDIN.path(policy, "--policy")
        pol = load_policy(policy, target, agreement)
        rows = pol.table()
        if format_ is Format.json:
            _print_json(
                {
                    "schema": "coa-audit.policy/1",
                    "source": _STDIN.named(pol.source),
                    "sha256": pol.source_sha256 or None,
                    "name": _STDIN.named(pol.name),
                    "version": pol.version,
                    "target": pol.target,
                    "agreement": pol.agreement,
                    "editions": rows,
                }
            )
            return
        if format_ is Format.csv:
            heads = list(rows[0]) if rows else ["edition", "label"]
            _print_csv(heads, [[row[h] for h in heads] for row in rows])
            return
        # a target/agreement pair the tool refuses (Education under commercial) has no column
        combos = [
            k for k in (rows[0] if rows else {}) if "/" in k and k != "windows-education/commercial"
        ]
        short = {"qualifies": "yes", "review": "review", "not-qualifying": "no"}
        typer.echo(_STDIN.named(f"policy: {pol.name}: {pol.provenance}"))
        typer.echo(f"active: {pol.target} / {pol.agreement}")
        typer.echo("")
        words = {"windows-": "", "enterprise": "ent", "education": "edu", "commercial": "com"}
        words["academic"] = "acad"
        heads = []
        for c in combos:
            for long, brief in words.items():
                c = c.replace(long, brief)
            heads.append(c)
        width = max((len(h) for h in heads), default=8) + 2  # columns never run together
        typer.echo(f"{'edition':<26}" + "".join(f"{h:>{width}}" for h in heads))
        for row in rows:
            cells = "".join(f"{short[row[c]]:>{width}}" for c in combos)
            typer.echo(f"{row['edition']:<26}{cells}")
        typer.echo("")
        typer.echo(
            f"generic keys: {len(pol.generic_keys)}   placeholder serials: "
            f"{len(pol.placeholder_serials)}"
        )


@policy_app.command("init", epilog=EXIT_CODES_HELP)
def policy_init(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH", help="Where to write the editable policy (TOML); - for stdout."
        ),
    ],
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write an editable copy of the built-in policy."""
    with _guard():
        if not _to_stdout(path):
            _refuse_existing(path, force)
        import tomllib

        import tomli_w

        data = tomllib.loads(default_policy_text())
        header = (
            "# coa-audit policy, written by `coa-audit policy init`.\n"
            "# Edit verdicts (qualifies / review / not-qualifying), keys and serial lists, then\n"
            "# pass this file with --policy. Not legal advice: your agreement's terms win.\n\n"
        )
        text = (header + tomli_w.dumps(data)).encode("utf-8")
        if _to_stdout(path):
            sys.stdout.buffer.write(text)
            sys.stdout.flush()
            return
        write_bytes_atomic(path, text)
        _say(f"wrote {safe_text(str(path))}")


@app.command(epilog=EXIT_CODES_HELP)
def sample(
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="Output file: .xlsx or .csv; - writes CSV to stdout."),
    ],
    rows: Annotated[
        int, typer.Option("--rows", min=1, max=5_000_000, help="Number of devices.")
    ] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same file).")] = 1,
    force: ForceOpt = False,
    problems: Annotated[
        float | None,
        typer.Option(
            "--problems",
            min=0.0,
            max=1.0,
            help="Share of devices given a problem (default about 0.25; 0.93: a first audit).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a realistic synthetic inventory with a known mix of problems."""
    from coa_audit.exporters.sample_writer import write_sample

    with _guard():
        if _to_stdout(path):  # written whole as a file would be, then copied out
            import shutil
            import tempfile

            with tempfile.TemporaryDirectory(prefix="coa-audit-sample-") as folder:
                made = Path(folder) / "sample.csv"
                write_sample(made, rows, seed, problems)
                sys.stdout.flush()
                with open(made, "rb") as f:
                    shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)
                sys.stdout.flush()
            return
        _refuse_existing(path, force)
        write_sample(path, rows, seed, problems)
        _say(f"wrote {safe_text(str(path))} ({rows} devices)")


SCHEMAS = ("report", "columns", "codes", "policy", "export")


@app.command(epilog=EXIT_CODES_HELP)
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="report (check --format json, export --json), columns, codes, policy (policy show), export (export --format json). Without NAME: the list.",
        ),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a JSON document the tool prints or writes;
    each document names its schema's $id in its `schema` field."""
    from importlib import resources

    with _guard():
        folder = resources.files("coa_audit.cli").joinpath("schemas")
        if name is None:
            for n in SCHEMAS:
                typer.echo(f"{n:<8} coa-audit.{n}/1")
            return
        if name not in SCHEMAS:
            raise UsageError(f"schema {name!r}: choose one of {', '.join(SCHEMAS)}")
        typer.echo(folder.joinpath(f"{name}.schema.json").read_text(encoding="utf-8"), nl=False)


def _check_app_inputs(
    refuse_stdin: str,
    file: Path,
    policy: Path | None,
    mapping: Path | None,
    evidence: list[Path] | None,
    walk: list[Path] | None,
    target: str | None,
    agreement: str | None,
    maps: list[str] | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """What ``tui`` and ``serve`` check before a screen opens or a port is bound: no ``-``
    (the app owns stdin; ``refuse_stdin`` names the option as ``{what}``), a policy that
    loads, ``--map`` and text options that parse, and a FILE that exists."""
    named = [("FILE", file), ("--policy", policy), ("--mapping", mapping)]
    named += [("--evidence", e) for e in evidence or ()] + [("--walk", w) for w in walk or ()]
    for what, given in named:
        if given is not None and str(given) == "-":
            raise UsageError(refuse_stdin.format(what=what))
    load_policy(policy, target, agreement)
    from coa_audit.importers.headers import parse_overrides
    from coa_audit.importers.load import text_options

    parse_overrides(maps or ())
    text_options(encoding, delimiter)
    if not file.exists():
        raise InputError(f"{file}: no such file")


@app.command(epilog=EXIT_CODES_HELP)
def tui(
    file: FileArg,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    policy: PolicyOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    evidence: EvidenceOpt = None,
    walk: WalkOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Open the full-screen auditor on an inventory."""
    with _guard(signals=False):
        _check_app_inputs(
            "tui: {what} -: the app reads the keyboard on stdin; save the file and give its name",
            file,
            policy,
            mapping,
            evidence,
            walk,
            target,
            agreement,
            map_,
            encoding,
            delimiter,
        )
        from coa_audit.session.session import OpenOptions
        from coa_audit.tui.app import run_app

        options = OpenOptions(
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            target=target,
            agreement=agreement,
            policy_path=policy,
            maps=tuple(map_ or ()),
            mapping_file=mapping,
            evidence=tuple(evidence or ()),
        )
        error = run_app(file, options, walk or ())
        if error:
            _fail(*error)


@app.command(epilog=EXIT_CODES_HELP)
def serve(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Inventory: xlsx, xlsm, xlsb, xls, ods, csv, tsv (a file: every tab reads it).",
        ),
    ],
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on (default 127.0.0.1: this machine only). Another only behind an authenticating reverse proxy (README: In a browser).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (default 0: a free one).")
    ] = 0,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    policy: PolicyOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    evidence: EvidenceOpt = None,
    walk: WalkOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the full-screen auditor to a browser (the serve extra): prints an address with a
    secret token; every browser tab opened on it runs the app on FILE, and exports are also
    downloaded. Ctrl+C stops it."""
    with _guard(signals=False):
        from coa_audit.cli.serve import app_command, is_loopback
        from coa_audit.cli.serve import serve as run_server

        _check_app_inputs(
            "serve: {what} -: save the file and give its name",
            file,
            policy,
            mapping,
            evidence,
            walk,
            target,
            agreement,
            map_,
            encoding,
            delimiter,
        )
        args = ["tui", str(file.resolve())]
        for name, value in (
            ("--sheet", sheet),
            ("--encoding", encoding),
            ("--delimiter", delimiter),
            ("--target", target),
            ("--agreement", agreement),
            ("--policy", policy and policy.resolve()),
            ("--mapping", mapping and mapping.resolve()),
        ):
            if value is not None:
                args += [name, str(value)]
        args += [a for m in map_ or () for a in ("--map", m)]
        args += [a for e in evidence or () for a in ("--evidence", str(e.resolve()))]
        args += [a for w in walk or () for a in ("--walk", str(w.resolve()))]
        if not is_loopback(host):
            _say(
                f"warning: listening on {safe_text(host)}: anyone who reaches it with the "
                "address edits this inventory; put an authenticating reverse proxy in front"
            )

        def show(url: str) -> None:
            typer.echo(url)  # what the command exists to print: -q prints it too
            _say(f"serving {safe_text(file.name)}: open that address; Ctrl+C stops")

        run_server(app_command(args), host, port, f"coa-audit: {file.name}", show)


def _load_walk(session: Any, walk: list[Path] | None) -> None:
    """Put the walk files' marks back (``--walk``, merged); say on stderr what found no
    device and which devices the walks disagree on."""
    if not walk:
        return
    for line in session.load_walks(walk):
        _say(f"warning: {safe_text(line)}")


def main() -> None:
    """The program: every command runs in a child whose memory is bounded, under a small
    supervisor that turns a reader's abort into the one-line refusal (cli.supervise)."""
    import multiprocessing

    # in a one-file build a multiprocessing child is this program started again: it does
    # the child's work here and exits (elsewhere this does nothing)
    multiprocessing.freeze_support()
    from coa_audit.cli.supervise import supervised

    def run() -> int:
        try:
            app(prog_name="coa-audit")  # also under `python -m coa_audit`
        except KeyboardInterrupt:
            sys.stderr.write("coa-audit: interrupted\n")
            return EXIT_INTERRUPTED
        return 0

    sys.exit(supervised(run))


if __name__ == "__main__":
    main()
