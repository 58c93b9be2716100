"""The headless command line: a thin Typer layer over importers -> core -> exporters.

Exit codes are an API (see EXIT_CODES_HELP). This module never imports Textual: only the `tui`
command does, when it runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import typer

from coa_audit.core.errors import (
    EXIT_INTERNAL,
    CoaError,
    InputError,
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
# `check` alone takes --fail-on: only its help speaks of it
CHECK_EXIT_HELP = (
    "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on; " + _EXIT_REST
)
EXIT_CODES_HELP = "Exit codes: 0 done; " + _EXIT_REST

app = typer.Typer(
    name="coa-audit",
    help="Audit fleet inventories for qualifying Windows base licences (COA, GML, OA3) before "
    "a Volume Licensing imaging order.\n\n" + CHECK_EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policy_app = typer.Typer(help="Show or copy the licensing policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


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
) -> None:
    """Audit fleet inventories for qualifying Windows base licences."""


class Format(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


MAX_MESSAGE = 600  # one line a terminal can show: quoted file names and headers are cut


def _fail(message: str, code: int) -> NoReturn:
    from coa_audit.core.text import safe_text

    line = " ".join(safe_text(message).split())  # no escape reaches the terminal
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
        yield
    except typer.Exit:
        raise
    except CoaError as exc:  # each error type carries its documented exit code
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        # writers cut short complain when collected ("Exception ignored in..."): not news
        sys.unraisablehook = lambda _info: None
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        with contextlib.suppress(Exception):
            sys.stdout = open("/dev/null", "w")  # noqa: SIM115 - silence the exit flush
        raise typer.Exit(EXIT_OK) from None
    except BaseException as exc:
        why = reader_crash(exc)  # a reader died on the input: exit 3, whatever its words
        if why is not None:
            from coa_audit.cli.supervise import input_file

            _fail(f"{input_file(sys.argv)}: {why}", InputError.exit_code)
        if not isinstance(exc, Exception):
            raise
        _fail(internal_error(exc), EXIT_INTERNAL)  # a bug: one line, never local variables
    finally:
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
    if not (sys.stderr.isatty() or os.environ.get(STDERR_TTY)):
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


FileArg = Annotated[Path, typer.Argument(help="Inventory: xlsx, xlsm, xlsb, xls, ods, csv, tsv.")]
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


@app.command(epilog=CHECK_EXIT_HELP)
def check(
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
    format_: Annotated[Format, typer.Option("--format", help="text, json or csv.")] = Format.text,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity exists."),
    ] = FailOn.error,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
    ] = None,
    show_keys: ShowKeysOpt = False,
) -> None:
    """Audit an inventory and report every device that cannot be certified."""
    from coa_audit.exporters.atomic import atomic_writer
    from coa_audit.exporters.check_report import report_csv, report_text, write_report_json
    from coa_audit.exporters.safety import keys_shown
    from coa_audit.session.session import open_session

    with _guard():
        if output is not None:  # refused before anything is read
            _inputs(file, policy, mapping, more=[*(evidence or ()), *(walk or ())]).refuse(
                output, "--output"
            )
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
            evidence=evidence or (),
            progress=_progress(),
        )
        _load_walk(session, walk)
        audit = session.audit

        def write(out: BinaryIO) -> None:
            if format_ is Format.json:
                write_report_json(audit, out)  # streamed: a million devices, chunk by chunk
            elif format_ is Format.csv:
                out.write(report_csv(audit).encode("utf-8"))
            else:
                out.write(report_text(audit).encode("utf-8"))

        with keys_shown(show_keys):
            if output is not None:
                with atomic_writer(output) as f:
                    write(f)
            else:
                write(sys.stdout.buffer)
                sys.stdout.flush()
        summary = audit.summary()
        if fail_on is FailOn.error and summary.blocked:
            raise typer.Exit(EXIT_FINDINGS)
        if fail_on is FailOn.warning and (summary.blocked or summary.review):
            raise typer.Exit(EXIT_FINDINGS)


@app.command(epilog=EXIT_CODES_HELP)
def columns(
    file: FileArg,
    sheet: SheetOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save-mapping",
            help="Save the mapping shown (with --map) for the next file with these headers.",
        ),
    ] = False,
) -> None:
    """Show the header row found, how each column maps to a field, and what stayed unmapped."""
    from coa_audit.core.errors import NoHeaderRow
    from coa_audit.core.model import CANONICAL_FIELDS
    from coa_audit.core.text import safe_text
    from coa_audit.importers.load import list_sheets
    from coa_audit.session.mappings import save_mapping
    from coa_audit.session.session import open_session

    with _guard():
        out = typer.echo
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
            _show_header_candidates(exc)
            return
        from rich.cells import set_cell_size  # headers in wide scripts: padded by cells

        inv = session.inventory
        src = inv.source
        out(f"file: {safe_text(src.path)} ({src.format})")
        if src.sheet is not None:
            sheets = list_sheets(file)
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
        fields = {c: f for f, c in inv.mapping.items()}
        for c, h in enumerate(inv.source_headers):
            field = fields.get(c, "(unmapped, carried through)")
            why = inv.mapped_by(field) if c in fields else ""
            out(
                f"{inv.letter(c):<7} {set_cell_size(safe_text(h), 32)} {field}"
                + (f"  ({why})" if why else "")
            )
        missing = [f for f in CANONICAL_FIELDS if f not in inv.source_mapping]
        if missing:
            out("")
            out(f"fields with no column: {', '.join(missing)}")
        if save:
            path = save_mapping(inv.source_headers, session.mapping_by_header())
            out("")
            out(f"saved this mapping for files with these headers: {safe_text(str(path))}")


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


@app.command(epilog=EXIT_CODES_HELP)
def export(
    file: FileArg,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Folder for the outputs (default: next to the source)."),
    ] = None,
    corrections: Annotated[
        Path | None,
        typer.Option(
            "--corrections", help="CSV of edits: row|serial_number|asset_tag, field, value."
        ),
    ] = None,
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
) -> None:
    """Write the corrected inventory, the audit report and the certification checklist."""

    from coa_audit.core.events import Stamp
    from coa_audit.core.policy import load_policy
    from coa_audit.core.text import safe_text
    from coa_audit.exporters.checklist import check_header, review_warnings
    from coa_audit.exporters.export import ExportRequest, export_session, load_profile
    from coa_audit.exporters.safety import keys_shown
    from coa_audit.exporters.worklist import parse_statuses
    from coa_audit.importers.corrections import read_corrections
    from coa_audit.session.session import OpenOptions

    with _guard():
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
                typer.echo(f"reading the file as the resumed session did ({said})", err=True)
                session.close()
                session = again.open(file, progress=_progress())
        inv = session.inventory
        session.inputs.add(corrections, profile, continues)
        session.author = " ".join((author or "").split())
        _load_walk(session, walk)
        if resume:
            pending, log = session.pending()
            if log.problem:
                typer.echo(f"warning: {safe_text(log.problem)}", err=True)
            elif log.skipped:
                typer.echo(f"{log.skipped} unreadable journal line(s) skipped", err=True)
            if not pending:
                typer.echo("resumed 0 journaled edit(s): nothing is pending", err=True)
            for earlier in pending[:1]:  # the most recent session's work
                restored = session.restore(earlier)
                note = f" ({len(restored.skipped)} not applied)" if restored.skipped else ""
                typer.echo(f"resumed {restored.applied} journaled edit(s){note}", err=True)
                for why in restored.skipped:
                    typer.echo(f"not applied: {safe_text(why)}", err=True)
        if corrections is not None:
            for c in read_corrections(corrections, inv):
                stamp = Stamp.now(c.by or author or "", "corrections", c.reason)
                session.apply(c.row, c.col, c.value, origin="corrections", stamp=stamp)
        if formats:  # said before a file is written, as the app's review step says them
            for warning in review_warnings(session.audit, header):
                typer.echo(f"warning: {safe_text(warning)}", err=True)
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
        session.close()
        for w in written:
            typer.echo(
                f"wrote {safe_text(str(w.path))} ({w.what}, {w.path.stat().st_size} bytes)",
                err=True,
            )


@app.command("collect-script", epilog=EXIT_CODES_HELP)
def collect_script(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the script here instead of stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
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
        if output is None:
            typer.echo(text, nl=False)
            return
        if output.exists() and not force:
            raise UsageError(f"{output} exists; use --force to overwrite it")
        write_bytes_atomic(output, text.replace("\n", "\r\n").encode("utf-8-sig"))
        typer.echo(f"wrote {safe_text(str(output))}", err=True)


@app.command()
def codes() -> None:
    """List every finding code with its severity and meaning."""
    from coa_audit.core.codes import codes as all_codes

    for info in all_codes().values():
        typer.echo(f"{info.code:<24} {info.severity:<8} {info.title}")
        typer.echo(f"{'':<33} {info.action}")


@policy_app.command("show")
def policy_show(
    policy: PolicyOpt = None,
    target: TargetOpt = None,
    agreement: AgreementOpt = None,
    format_: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """Print the active verdict table: every edition under every target and agreement."""
    with _guard():
        pol = load_policy(policy, target, agreement)
        rows = pol.table()
        if format_ is Format.json:
            import orjson

            doc = {
                "source": pol.source,
                "name": pol.name,
                "target": pol.target,
                "agreement": pol.agreement,
                "editions": rows,
            }
            sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
            return
        # a target/agreement pair the tool refuses (Education under commercial) has no column
        combos = [
            k for k in (rows[0] if rows else {}) if "/" in k and k != "windows-education/commercial"
        ]
        short = {"qualifies": "yes", "review": "review", "not-qualifying": "no"}
        typer.echo(f"policy: {pol.name}: {pol.provenance}")
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


@policy_app.command("init")
def policy_init(
    path: Annotated[Path, typer.Argument(help="Where to write the editable policy (TOML).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an editable copy of the built-in policy."""
    with _guard():
        if path.exists() and not force:
            _fail(f"{path} exists; use --force to overwrite it", EXIT_USAGE)
        import tomllib

        import tomli_w

        data = tomllib.loads(default_policy_text())
        header = (
            "# coa-audit policy, written by `coa-audit policy init`.\n"
            "# Edit verdicts (qualifies / review / not-qualifying), keys and serial lists, then\n"
            "# pass this file with --policy. Not legal advice: your agreement's terms win.\n\n"
        )
        write_bytes_atomic(path, (header + tomli_w.dumps(data)).encode("utf-8"))
        typer.echo(f"wrote {safe_text(str(path))}", err=True)


@app.command()
def sample(
    path: Annotated[Path, typer.Argument(help="Output file: .xlsx or .csv.")],
    rows: Annotated[
        int, typer.Option("--rows", min=1, max=5_000_000, help="Number of devices.")
    ] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same file).")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file when it exists.")
    ] = False,
    problems: Annotated[
        float | None,
        typer.Option(
            "--problems",
            min=0.0,
            max=1.0,
            help="Share of devices given a problem (default about 0.25; 0.93: a first audit).",
        ),
    ] = None,
) -> None:
    """Write a realistic synthetic inventory with a known mix of problems."""
    from coa_audit.exporters.sample_writer import write_sample

    with _guard():
        if path.exists() and not force:
            raise UsageError(f"{path} exists: give --force to replace it, or another name")
        write_sample(path, rows, seed, problems)
        typer.echo(f"wrote {safe_text(str(path))} ({rows} devices)", err=True)


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
) -> None:
    """Open the full-screen auditor on an inventory."""
    with _guard(signals=False):
        load_policy(policy, target, agreement)  # usage errors before the screen opens
        from coa_audit.importers.headers import parse_overrides

        parse_overrides(map_ or ())
        from coa_audit.importers.load import text_options

        text_options(encoding, delimiter)
        if not file.exists():
            raise InputError(f"{file}: no such file")
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


def _load_walk(session: Any, walk: list[Path] | None) -> None:
    """Put the walk files' marks back (``--walk``, merged); say on stderr what found no
    device and which devices the walks disagree on."""
    if not walk:
        return
    for line in session.load_walks(walk):
        typer.echo(f"warning: {safe_text(line)}", err=True)


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
            app()
        except KeyboardInterrupt:
            sys.stderr.write("coa-audit: interrupted\n")
            return EXIT_INTERRUPTED
        return 0

    sys.exit(supervised(run))


if __name__ == "__main__":
    main()
