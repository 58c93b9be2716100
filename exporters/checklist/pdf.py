"""The certification checklist as a PDF (A4 or Letter), drawn with fpdf2 from the Checklist
that checklist.py builds, in the fonts shipped with coa-audit: every letter of a name is
drawn, or the export stops and says which one it cannot draw."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING

from coa_audit.core.errors import OutputError
from coa_audit.exporters.atomic import atomic_writer
from coa_audit.exporters.checklist.model import (
    HEADER_FIELDS,
    STATEMENT,
    Checklist,
    counts_sentence,
    packet_title,
    signature_blocks,
)
from coa_audit.exporters.safety import printed

if TYPE_CHECKING:
    from fpdf.syntax import PDFContentStream

__all__ = ["FONT_DIRS_ENV", "SHIPPED_FONTS", "write_pdf"]


@lru_cache(maxsize=1)
def _spilled_class() -> Callable[[IO[bytes], int, int], PDFContentStream]:
    from fpdf.syntax import Name, PDFContentStream

    class _Spilled(PDFContentStream):
        """A page's compressed content, read back from the file it was set aside in only
        when fpdf2 writes it (and not held after)."""

        def __init__(self, spill: IO[bytes], offset: int, length: int) -> None:
            super().__init__(b"")
            self.filter, self.length = Name("FlateDecode"), length
            self._spill, self._offset = spill, offset

        def content_stream(self) -> bytes:
            self._spill.seek(self._offset)
            data = self._spill.read(self.length)
            if len(data) != self.length:
                raise OSError("a page of the PDF checklist set aside on disk came back short")
            return data

    return _Spilled


class _Through:
    """fpdf2's output buffer written through to ``out`` as fpdf2 appends to it: its length
    (the objects' offsets) and its MD5 (the file's identifier) kept as it goes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out, self._size = out, 0
        self.digest = hashlib.md5(usedforsecurity=False)

    def __iadd__(self, data: bytes) -> _Through:
        self._out.write(data)
        self.digest.update(data)
        self._size += len(data)
        return self

    def __len__(self) -> int:
        return self._size


class _Sealed:
    """A page's content once the page has ended: writing to it is a bug, and raises (fpdf2
    would add to it, and the addition would be lost)."""

    def __iadd__(self, other: object) -> _Sealed:
        raise AssertionError("the PDF checklist wrote to a page after the page ended")


# -- Fonts ------------------------------------------------------------------------------------

# The fonts the packet embeds, shipped with coa-audit (fonts/README.txt says where each comes
# from, and its licence is beside it): DejaVu Sans for Latin, Greek and Cyrillic letters and
# most symbols, and Droid Sans Fallback for what DejaVu lacks (Chinese, Japanese, Korean).
SHIPPED_FONTS = Path(__file__).with_name("fonts")
_REGULAR, _BOLD, _CJK = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallback.ttf"
# Folders looked in after the shipped fonts, for a copy of coa-audit repackaged without them:
# the usual system folders, or the folders this variable names (separated by os.pathsep; set
# but empty, none at all).
FONT_DIRS_ENV = "COA_AUDIT_FONT_DIRS"
_SYSTEM_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts-droid-fallback/truetype",
    "/usr/share/fonts/truetype/droid",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


def _font_file(name: str) -> Path | None:
    """The font file ``name``: the shipped one, else the first in the other folders."""
    named = os.environ.get(FONT_DIRS_ENV)
    others = _SYSTEM_FONT_DIRS if named is None else tuple(named.split(os.pathsep))
    for folder in (SHIPPED_FONTS, *(Path(d) for d in others if d)):
        if (folder / name).is_file():
            return folder / name
    return None


@lru_cache(maxsize=8)
def _glyphs(path: Path) -> frozenset[str]:
    """The characters the font file can draw (its cmap), read once in a process."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(str(path), lazy=True) as font:
            return frozenset(map(chr, font.getBestCmap()))
    except Exception as exc:
        raise OutputError(
            f"the PDF checklist cannot read its font {path}: {type(exc).__name__}; reinstall "
            "coa-audit; no file was written"
        ) from exc


def _needed_font(name: str) -> Path:
    path = _font_file(name)
    if path is None:
        raise OutputError(
            f"the PDF checklist needs the font {name}, shipped with coa-audit in "
            f"{SHIPPED_FONTS}, which is missing: reinstall coa-audit; no file was written"
        )
    return path


# Control characters reach the packet as Unicode's control pictures (safe_text shows ESC as
# ␛), which no shipped font has: the PDF names them by their code instead, as the edit box
# does ("⟦U+001B⟧").
_PICTURES = {0x2400 + c: f"⟦U+{c:04X}⟧" for c in range(0x20)} | {0x2421: "⟦U+007F⟧"}


def _named(chars: Iterable[str], most: int = 5) -> str:
    """Characters as an error line may show them: the code point, and the character itself
    when it is one a terminal prints (never a control, a format mark or a private one); the
    first ``most`` of them, and how many more."""
    ordered = sorted(chars)
    names = [f"U+{ord(c):04X} {c!r}" if c.isprintable() else f"U+{ord(c):04X}" for c in ordered]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


# -- PDF --------------------------------------------------------------------------------------

# a sentence ends at . ! or ? before a space: where a paragraph longer than a page may break
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def write_pdf(
    cl: Checklist,
    target: Path,
    paper: str = "A4",
    tick: Callable[[int, int], None] | None = None,
) -> Path:
    # each page's content, compressed as the page ends, waits on disk beside the target
    # (fpdf2 would hold every page uncompressed until the end: 1.3 GB for a million
    # devices; compressed and in memory, still 130 MB); read back as the file is written
    # (inside the target's own writer: a disk that fills up, or anything else the spill
    # cannot write, is "cannot write TARGET", and no file is left)
    with (
        atomic_writer(target) as out,
        tempfile.TemporaryFile(prefix=".coa-audit-pages-", dir=target.parent) as spill,
    ):
        _write_pdf(cl, paper, tick, spill, out)
    return target


def _write_pdf(
    cl: Checklist,
    paper: str,
    tick: Callable[[int, int], None] | None,
    spill: IO[bytes],
    out: IO[bytes],
) -> None:
    from fpdf import FPDF
    from fpdf.enums import PDFResourceType
    from fpdf.fonts import TTFFont
    from fpdf.output import OutputProducer, PDFPage, _dimensions_to_mediabox
    from fpdf.syntax import PDFArray, PDFContentStream
    from fpdf.syntax import create_dictionary_string as pdf_dict
    from fpdf.util import escape_parens

    regular_file, bold_file = _needed_font(_REGULAR), _needed_font(_BOLD)
    cjk_file = _font_file(_CJK)
    regular, bold = _glyphs(regular_file), _glyphs(bold_file)
    plain = regular & bold  # drawn by DejaVu in either style: no fallback font needed
    own = {"dejavu": regular, "dejavuB": bold}
    running = ""  # the page header's text, set before the first page

    class _PDF(FPDF):
        def header(self) -> None:
            """Every page: customer, agreement number, page x of y, drawn when the packet is
            written and the total is known (``page_ends``); here, the page's font."""
            self.set_font(family, size=8)
            if not self.current_font_is_set_on_page:
                # the page's font, set before its first text: a name that starts in the CJK
                # font would set it only inside its own text object (fpdf2 2.8)
                self.text(self.l_margin, self.t_margin, "")
            for f in (dejavu[""], *fallback):  # the fonts the running header is drawn in
                self._resource_catalog.add(PDFResourceType.FONT, f.i, self.page)
            self.ln(7)

        def _default_file_id(self, buffer: bytearray) -> str:
            """fpdf2's file identifier (the MD5 of what is written before the trailer, and
            the creation date), from the digest ``_Through`` keeps as it writes."""
            if not isinstance(buffer, _Through):
                return super()._default_file_id(buffer)
            digest = buffer.digest.copy()
            if self.creation_date:
                digest.update(self.creation_date.strftime("%Y%m%d%H%M%S").encode("utf8"))
            code = digest.hexdigest().upper()
            return f"<{code}><{code}>"

        def footer(self) -> None:
            """A page ends here: its content is compressed, put aside in ``spill``, and the
            page sealed."""
            page = self.pages[self.page]
            assert isinstance(page.contents, bytearray)
            data = zlib.compress(page.contents)
            sealed[self.page] = (spill.tell(), len(data))
            spill.write(data)
            page.contents = _Sealed()  # type: ignore[assignment]

    sealed: dict[int, tuple[int, int]] = {}  # page -> where its compressed content is spilled
    pdf = _PDF(orientation="landscape", unit="mm", format=paper.upper())
    # no alias for the page count: fpdf2 would replace the alias in every text (a customer
    # called "{nb}"), and only in pages it holds uncompressed; _counts draws it instead
    pdf.alias_nb_pages(None)  # type: ignore[arg-type]  # fpdf2's documented way
    family = "DejaVu"
    pdf.add_font(family, "", str(regular_file))
    pdf.add_font(family, "B", str(bold_file))
    dejavu = {
        style: f for style in ("", "B") if isinstance(f := pdf.fonts["dejavu" + style], TTFFont)
    }
    fallback: list[TTFFont] = []  # the CJK font, once a text needs it

    def use_fallback() -> None:
        """The CJK font as fpdf2's fallback font, added the first time a text needs it
        (reading it costs half a second). Only it: DejaVu as its own fallback would let
        fpdf2 take the CJK font for the page's font after a name in Japanese (the page
        count after it then went missing)."""
        if fallback or cjk_file is None:
            return
        pdf.add_font("DroidFallback", "", str(cjk_file))
        pdf.set_fallback_fonts(["DroidFallback"], exact_match=False)
        fonts = (pdf.fonts[key] for key in pdf._fallback_font_ids)
        fallback.extend(f for f in fonts if isinstance(f, TTFFont))

    def font_for(ch: str, font: TTFFont, style: str) -> TTFFont:
        """The font that draws ``ch``: ``font``, else the fallback fpdf2 picks for it."""
        if ord(ch) in font.cmap:
            return font
        key = pdf.get_fallback_font(ch, style)
        found = pdf.fonts[key] if key is not None else font
        return found if isinstance(found, TTFFont) else font

    @lru_cache(maxsize=1)
    def drawable() -> frozenset[str]:
        """Every character the packet can draw in either style (DejaVu has a few dozen
        mathematical letters in one style only: those are not)."""
        return plain | (_glyphs(cjk_file) if cjk_file is not None else frozenset())

    def clean(t: str, where: str = "the checklist") -> str:
        """Every text the packet draws comes through here: keys masked and controls shown
        (``exporters.safety.printed``; a PDF is no spreadsheet: nothing in it is a formula), and
        each character one the shipped fonts draw. A character none of them has stops the
        export (a ? or an empty box in a customer's or a device's name would read as a
        different value). The common case costs one set lookup per character, in C."""
        t = printed(t)
        if t.isascii() or plain.issuperset(t):
            return t
        t = t.translate(_PICTURES)
        missing = set(t).difference(drawable())
        if missing:
            raise OutputError(
                f"the PDF checklist cannot draw {_named(missing)} (in {where}): no font "
                "shipped with coa-audit has it; no file was written. Correct that text, or write "
                "the checklist as md or xlsx (--checklist md), which hold every character"
            )
        use_fallback()
        return t

    codes: dict[int, dict[int, str]] = {}  # font -> {code point: its glyph's code, escaped}
    known: dict[int, set[str]] = {}  # font -> the characters in its table

    def encode(font: TTFFont, text: str) -> str:
        """``text`` drawn in ``font`` as fpdf2's ``encode_text`` writes it (each character's
        glyph in the font's subset, two bytes, parentheses escaped), from a table of the
        characters seen so far: one ``str.translate`` in C for a whole string (fpdf2 picks
        each character in Python: a fifth of the packet's time)."""
        if font.is_symbol:
            return font.encode_text(text)
        table, seen = codes.setdefault(font.i, {}), known.setdefault(font.i, set())
        if not seen.issuperset(text):
            for ch in dict.fromkeys(text):  # in the text's order, as fpdf2 picks them
                if ch in seen:
                    continue
                code = font.subset.pick(ord(ch))
                unit = "" if code is None else chr(code).encode("utf-16-be").decode("latin-1")
                table[ord(ch)] = escape_parens(unit)
                seen.add(ch)
        return f"({text.translate(table)}) Tj"

    def encode_mixed(font: TTFFont, text: str) -> str:
        """``text`` that the current font cannot draw whole: each run of characters in the
        font that has them (a Japanese model name in a row of DejaVu), then the current font
        again. Rare: a text DejaVu draws in one font never comes here."""
        size = f"{pdf.font_size_pt:.2f}"
        runs: list[tuple[TTFFont, str]] = []
        style = pdf.font_style
        for ch in text:
            f = font_for(ch, font, style)
            if runs and runs[-1][0] is f:
                runs[-1] = (f, runs[-1][1] + ch)
            else:
                runs.append((f, ch))
        ops = [f"/F{f.i} {size} Tf {encode(f, run)}" for f, run in runs]
        return " ".join([*ops, f"/F{font.i} {size} Tf"])

    moves: dict[tuple[float, float], str] = {}  # a move between two texts, as written

    def draw(pieces: list[tuple[float, float, str]], apart: bool = False, then: str = "") -> None:
        """Strings (x and baseline in mm, text) as one text object in the page's content (one
        ``pdf.text`` call each cost 1.2 million calls at 100,000 devices, a third of the
        packet's time), or each its own when ``apart`` (a table's headings: each reads as a
        text of its own, as ``pdf.text`` draws it); then the operators ``then`` (a row's rule).
        Text is encoded by the current font, as ``pdf.text`` does."""
        if not pieces:
            if then:
                pdf._out(then)
            return
        if not pdf.current_font_is_set_on_page:  # after a heading in bold, say
            pdf.text(pieces[0][0], pieces[0][1], "")  # selects the font as pdf.text does
        font = pdf.current_font
        assert isinstance(font, TTFFont)  # set by the caller
        whole = own[font.fontkey]
        k, height = pdf.k, pdf.h
        ops = ["q 0 g BT"]
        px = py = 0.0
        table, seen = codes.setdefault(font.i, {}), known.setdefault(font.i, set())
        for x, y, text in pieces:
            if text.isascii() or whole.issuperset(text):
                if seen.issuperset(text) and not font.is_symbol:  # encode's common case
                    code = f"({text.translate(table)}) Tj"
                else:
                    code = encode(font, text)
            else:
                code = encode_mixed(font, text)
            tx, ty = x * k, (height - y) * k
            # from the previous text: the same few moves between a table's columns, row
            # after row, each formatted once
            move = moves.get((tx - px, ty - py))
            if move is None:
                move = f"{tx - px:.2f} {ty - py:.2f} Td"
                if len(moves) < 10_000:
                    moves[(tx - px, ty - py)] = move
            ops.append(f"{move} {code}")
            px, py = tx, ty
            if apart:
                ops.append("ET BT")
                px = py = 0.0
        ops.append("ET Q")
        text = " ".join(ops)
        if then:  # as a call of its own would write it: on a line of its own
            text += "\n" + then
        pdf._out(text)  # fpdf2 (pinned < 3) has no public call for raw content
        for f in fallback:  # the fonts a row may have drawn in, listed for the page
            pdf._resource_catalog.add(PDFResourceType.FONT, f.i, pdf.page)

    def page_ends(page: int, total: int) -> tuple[bytes, bytes]:
        """Page ``page`` of ``total``'s header (the running title, and the page count at the
        right) and footer (centred), where fpdf2's cells put them, as the two content streams
        around the page's own: drawn as the packet is written, when the total is known."""
        font, size = dejavu[""], 8 / pdf.k
        k, height = pdf.k, pdf.h
        head = f"page {page} of {total}"
        foot = f"coa-audit certification checklist - page {page} of {total}"
        right = pdf.w - pdf.r_margin - pdf.c_margin - text_width(head, "", 8)
        centre = pdf.l_margin + (pdf.epw - text_width(foot, "", 8)) / 2
        top = pdf.t_margin + 3 + 0.3 * size  # the baseline of a 6 mm cell at the top margin

        def at(x: float, y: float, code: str) -> str:
            return f"q 0 g BT /F{font.i} 8.00 Tf {x * k:.2f} {(height - y) * k:.2f} Td {code} ET Q"

        above = at(pdf.l_margin + pdf.c_margin, top, running_code) + "\n"
        above += at(right, top, encode(font, head)) + "\n"
        below = at(centre, pdf.h - 12 + 4 + 0.3 * size, encode(font, foot)) + "\n"
        return above.encode("latin-1"), below.encode("latin-1")

    class _Packet(OutputProducer):
        """fpdf2's writer, but for the pages (each page's sealed content between its header
        and footer) and its buffer: written through to the file (a million devices' packet
        is 150 MB, never held whole)."""

        def __init__(self, fpdf: FPDF) -> None:
            super().__init__(fpdf)
            self.buffer = _Through(out)  # type: ignore[assignment]

        def _add_pages(self, _slice: slice = slice(0, None)) -> list[PDFPage]:
            fpdf = self.fpdf
            total = len(fpdf.pages)
            spilled = _spilled_class()
            page_objs: list[PDFPage] = []
            for page_obj in list(self._iter_pages_in_order())[_slice]:
                if fpdf.pdf_version > "1.3" and fpdf.allow_images_transparency:
                    page_obj.group = pdf_dict(
                        {"/Type": "/Group", "/S": "/Transparency", "/CS": "/DeviceRGB"},
                        field_join=" ",
                    )
                if page_obj.dimensions() != fpdf.default_page_dimensions:
                    page_obj.media_box = _dimensions_to_mediabox(page_obj.dimensions())
                self._add_pdf_obj(page_obj, "pages")
                page_objs.append(page_obj)
                body = spilled(spill, *sealed.pop(page_obj.index()))
                above, below = page_ends(page_obj.index(), total)
                streams = [
                    PDFContentStream(above, compress=True),
                    body,
                    PDFContentStream(below, compress=True),
                ]
                for stream in streams:
                    self._add_pdf_obj(stream, "pages")
                page_obj.contents = PDFArray(streams)  # type: ignore[assignment]
            return page_objs

    encode(dejavu[""], "page of 0123456789 coa-audit certification checklist -")  # page_ends

    h = cl.header
    running = (
        f"{clean(h.get('customer') or '', 'the customer name') or 'Customer: ____'} - agreement "
        f"{clean(h.get('agreement_number') or '', 'the agreement number') or '____'}"
    )

    # the running title's text, in DejaVu at 8 pt (and the CJK font where DejaVu has no glyph)
    pdf.set_font(family, size=8)
    if running.isascii() or regular.issuperset(running):
        running_code = encode(dejavu[""], running)
    else:
        running_code = encode_mixed(dejavu[""], running)

    cleaned: dict[str, str] = {}

    def clean_cell(t: str) -> str:
        """``clean`` once per distinct value of a table (statuses, checks, editions)."""
        c = cleaned.get(t)
        if c is None:
            c = clean(t)
            if len(t) <= 200:
                if len(cleaned) > 20_000:  # bounded: a fleet of distinct values
                    cleaned.clear()
                cleaned[t] = c
        return c

    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(12, 10, 12)
    pdf.add_page()
    page_top = pdf.get_y()  # below the page header
    bottom = pdf.h - pdf.b_margin  # where the automatic page break starts a new page
    page_room = bottom - page_top

    # -- keeping things together --------------------------------------------------------------

    units: dict[tuple[str, str], float] = {}  # (style, character) -> width in mm at 1 pt

    def text_width(text: str, style: str, size: float) -> float:
        """``text``'s width in mm, each character in the font that draws it (read from the
        fonts' widths: measuring sets no font on the page)."""
        total = 0.0
        for ch in text:
            u = units.get((style, ch))
            if u is None:
                font = font_for(ch, dejavu[style], style)
                u = units[(style, ch)] = font.cw[ord(ch)] / 1000 / pdf.k
            total += u
        return total * size

    def lines_of(text: str, width: float, style: str = "", size: float = 9) -> int:
        """How many lines ``multi_cell`` takes for ``text`` in ``width`` mm: its wrap at
        spaces, a word wider than a line broken where it must be, in a line a little
        narrower than its own, so that the count errs by a line too many, never too few."""
        room = width - 2 * pdf.c_margin - 0.5
        space = text_width(" ", style, size)
        lines, used = 0, -1.0  # used: what the current line holds (-1: no line yet)
        for word in text.split(" "):
            w = text_width(word, style, size)
            if used >= 0 and used + space + w <= room:
                used += space + w
                continue
            lines += 1
            while w > room:  # broken between characters: a line holds a little less
                lines += 1
                w -= room * 0.9
            used = w
        return max(1, lines)

    def room() -> float:
        """What is left of this page, in mm."""
        return bottom - pdf.get_y()

    def keep(height: float) -> None:
        """A new page unless ``height`` mm fits what is left of this one, when it fits a page
        at all: what goes together stays together."""
        if room() < height <= page_room:
            pdf.add_page()

    def paragraph_height(text: str, bold: bool = False) -> float:
        return 5 * lines_of(text, pdf.epw, "B" if bold else "")

    def lead_height(text: str, bold: bool = False) -> float:
        """What of a paragraph goes on the page it starts on: all of it when it fits a page,
        else its first sentence, else a line (a sentence longer than a page runs on)."""
        for part in (text, _SENTENCE_END.split(text, maxsplit=1)[0]):
            height = paragraph_height(part, bold)
            if height <= page_room - 8:  # under a heading
                return height
        return 5

    def paragraph(text: str, where: str, bold: bool = False) -> None:
        """A paragraph kept whole: one that does not fit what is left of the page starts the
        next one. One longer than a page breaks after the last sentence that fits, so that no
        page starts in the middle of a sentence, unless one sentence is longer than a page."""
        text = clean(text, where)
        pdf.set_font(family, "B" if bold else "", 9)
        while paragraph_height(text, bold) > room():
            if paragraph_height(text, bold) <= page_room:
                pdf.add_page()
                break
            sentences = _SENTENCE_END.split(text)
            fits = room()
            # how many sentences fit what is left of the page (found by halves: a hostile
            # value of 10,000 short "sentences" costs no more than a few passes over it)
            lo, hi = 0, len(sentences)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if paragraph_height(" ".join(sentences[:mid]), bold) <= fits:
                    lo = mid
                else:
                    hi = mid - 1
            if lo == len(sentences):  # it fits once its sentences are one space apart
                text = " ".join(sentences)
                break
            if lo == 0 and paragraph_height(sentences[0], bold) > page_room:
                break  # its first sentence is longer than a page: it runs on from here
            if lo:
                pdf.multi_cell(0, 5, " ".join(sentences[:lo]), new_x="LMARGIN", new_y="NEXT")
                text = " ".join(sentences[lo:])
            pdf.add_page()
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    def heading(title: str, size: float, height: float, then: float = 0) -> None:
        """A heading, on the same page as the ``then`` mm that follow it."""
        keep(height + then)
        pdf.set_font(family, "B", size)
        pdf.cell(0, height, title, new_x="LMARGIN", new_y="NEXT")

    def label_width(items: list[tuple[str, str]]) -> float:
        """The labels' column: as wide as the widest label."""
        widest = max(text_width(clean(k) + ":", "B", 9) for k, _ in items)
        return min(pdf.epw / 2, 3 + widest)

    def pairs(items: Iterable[tuple[str, str]], blank: str = "_" * 40) -> None:
        """Label and value, each pair kept whole on a page."""
        items = [(clean(k), clean(v, f"the field {k!r}") if v else blank) for k, v in items]
        if not items:
            return
        width = label_width(items)
        for label, value in items:
            keep(5 * lines_of(value, pdf.epw - width))
            pdf.set_font(family, "B", 9)
            pdf.cell(width, 5, label + ":")
            pdf.set_font(family, size=9)
            pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")

    def first_pair_height(items: list[tuple[str, str]]) -> float:
        if not items:
            return 0
        return 5 * lines_of(clean(items[0][1]) or "_", pdf.epw - label_width(items))

    pdf.set_font(family, "B", 14)
    pdf.multi_cell(0, 8, clean(packet_title(cl), "the title"), new_x="LMARGIN", new_y="NEXT")
    pairs((label, cl.header[key]) for key, label in HEADER_FIELDS)
    pdf.ln(2)
    for w in cl.warnings:
        paragraph(w, "a warning", bold=True)
    paragraph(counts_sentence(cl.counts), "the counts")
    if cl.continues:
        paragraph(cl.continues, "the earlier export this continues")
    pdf.ln(1)
    paragraph(STATEMENT, "the statement")
    pdf.ln(2)
    first = first_pair_height(cl.provenance)
    if not first and cl.sources:
        first = lead_height(clean(cl.sources[0], "the evidence files"))
    heading("Where this list came from", 11, 7, first)
    pairs(cl.provenance)
    for source in cl.sources:
        paragraph(source, "the evidence files")
    pdf.ln(3)

    # -- tables -------------------------------------------------------------------------------

    line_h = 4.2
    more = "…"
    glyphs: dict[tuple[str, str], float] = {}  # (style, character) -> width in mm

    widths_seen: dict[tuple[str, str], float] = {}  # (style, text): makes, models, editions

    def width_of(text: str) -> float:
        """The width of ``text`` in the current font, from each character's width measured
        once (fpdf2 measures a string in about 10 us; values here are mostly distinct)."""
        style = pdf.font_style
        total = widths_seen.get((style, text))
        if total is not None:
            return total
        total = 0.0
        for ch in text:
            w = glyphs.get((style, ch))
            if w is None:
                w = glyphs[(style, ch)] = pdf.get_string_width(ch)
            total += w
        if len(text) <= 200:
            if len(widths_seen) > 20_000:  # bounded: a fleet of distinct values
                widths_seen.clear()
            widths_seen[(style, text)] = total
        return total

    ascii_widths: dict[str, list[float]] = {}  # style -> width of each ASCII character

    def ascii_width(text: str) -> float:
        """The width of an ASCII ``text`` in the current font, summed as ``width_of`` sums it
        (the same floats, in the same order), in C."""
        table = ascii_widths.get(pdf.font_style)
        if table is None:
            table = ascii_widths[pdf.font_style] = [width_of(chr(c)) for c in range(128)]
        return sum(map(table.__getitem__, text.encode("ascii")))

    def fitting(text: str, room: float) -> int:
        """How many leading characters of ``text`` fit ``room`` mm (one pass: a hostile
        32,000-character cell costs no more than its length)."""
        if len(text) <= 200 and width_of(text) <= room:
            return len(text)
        style, total = pdf.font_style, 0.0
        for n, ch in enumerate(text):
            w = glyphs.get((style, ch))
            if w is None:
                w = glyphs[(style, ch)] = pdf.get_string_width(ch)
            total += w
            if total > room:
                return n
        return len(text)

    def fit(text: str, width: float) -> str:
        """One line of ``text`` that fits ``width`` mm, cut with an ellipsis if it must be."""
        room = width - 1.6
        if width_of(text) <= room:
            return text
        return text[: fitting(text, room - width_of(more))] + more

    wrapped: dict[tuple[str, str, float, int, str], list[str]] = {}

    def wrap_lines(text: str, width: float, limit: int, hyphen: str = "") -> list[str]:
        """``text`` in lines that fit ``width`` mm, broken at spaces, a long word broken
        where it must be (ending in ``hyphen``: headings only, never a serial or a key,
        where a dash would read as part of the value); up to ``limit`` + 1 lines (the
        caller marks a cut). A text seen before in the same column is wrapped once (the
        evidence, editions and checks of a fleet repeat)."""
        key = (pdf.font_style, text, width, limit, hyphen)
        lines = wrapped.get(key)
        if lines is None:
            lines = _wrap(text, width, limit, hyphen)
            if len(text) <= 200:
                if len(wrapped) > 20_000:  # bounded: a fleet of distinct values
                    wrapped.clear()
                wrapped[key] = lines
        return lines

    def _wrap(text: str, width: float, limit: int, hyphen: str) -> list[str]:
        room = width - 1.6
        if fitting(text, room) == len(text):
            return [text]
        lines: list[str] = []
        line = ""
        for word in text.split(" "):
            if len(lines) > limit:
                break
            candidate = f"{line} {word}" if line else word
            if fitting(candidate, room) == len(candidate):
                line = candidate
                continue
            if line:
                lines.append(line)
            # a word wider than the column, broken where it must be
            while len(lines) <= limit and (n := fitting(word, room)) < len(word):
                n = max(1, n - 1 if hyphen and n > 2 else n)
                lines.append(word[:n] + (hyphen if n < len(word) else ""))
                word = word[n:]
            line = word
        if line:
            lines.append(line)
        return lines or [""]

    def table(
        title: str,
        headers: tuple[str, ...],
        rows: Sequence[tuple[str, ...]],
        weights: tuple[int, ...],
        wrap: tuple[int, ...] = (),
    ) -> None:
        """A bordered table drawn with text and lines (fpdf2's table() and cell() cost
        minutes for 100,000 devices) under ``title`` (its count of rows in it); headings
        repeat on every page, and the ``wrap``
        columns (evidence, reasons: never cut) may take several lines. The title, the
        headings and the first row go on one page: a page never ends on a table's
        headings alone."""
        if not rows:
            heading(title, 11, 8, 6)
            pdf.set_font(family, size=7)
            pdf.cell(0, 6, "None.", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            return
        widths = [pdf.epw * w / sum(weights) for w in weights]
        left = pdf.l_margin
        edges = [left]
        for w in widths:
            edges.append(edges[-1] + w)
        pad, base = 0.8, 3.0  # text inset and baseline within a line
        # the heading row, each heading whole (wrapped, never cut: "Manufacturer")
        pdf.set_font(family, "B", 7)
        parts = [wrap_lines(h, w, 3, "-") for h, w in zip(headers, widths, strict=True)]
        heading_h = line_h * max(len(p) for p in parts) + 1
        # a row is never taller than a page holds under the title and the headings
        max_lines = max(1, int((page_room - 8 - heading_h - 1) / line_h))
        pdf.set_font(family, size=7)

        def headings() -> float:
            y = pdf.get_y()
            pdf.set_font(family, "B", 7)
            pdf.set_fill_color(225, 232, 240)
            pdf.rect(left, y, edges[-1] - left, heading_h, style="DF")
            draw(
                [
                    (x + pad, y + base + 0.5 + k * line_h, line)
                    for lines, x in zip(parts, edges[:-1], strict=True)
                    for k, line in enumerate(lines)
                    if line
                ],
                apart=True,
            )
            pdf.set_font(family, size=7)
            return y + heading_h

        def close_block(top: float, y: float) -> None:
            """The vertical rules of the rows drawn on this page."""
            for x in edges:
                pdf.line(x, top, x, y)

        def lay_out(row: tuple[str, ...]) -> tuple[list[str], dict[int, list[str]], float]:
            """A row's cells cleaned, the lines of its wrapped cells, and its height."""
            try:
                cells = [c if (c := cleaned.get(v)) is not None else clean_cell(v) for v in row]
            except OutputError:  # say where: the table, the row and the column
                for v, h in zip(row, headers, strict=True):
                    name = title.rsplit(" (", 1)[0]
                    clean(v, f"the table {name!r}, row {row[0]}, column {h!r}")
                raise
            lines = {
                i: [text]
                if (text := cells[i]).isascii() and ascii_width(text) <= rooms[i]
                else wrap_lines(text, widths[i], max_lines)
                for i in wrap
            }
            for i, cell_lines in lines.items():  # a row never taller than a page
                if len(cell_lines) > max_lines:
                    lines[i] = [
                        *cell_lines[: max_lines - 1],
                        fit(cell_lines[max_lines - 1] + more, widths[i]),
                    ]
            return cells, lines, line_h * max([1, *(len(v) for v in lines.values())])

        # an ASCII cell (most of a fleet's) that fits its column's line whole needs no wrapping:
        # its width summed in C from each character's, as ``fitting`` sums them
        rooms = {i: widths[i] - 1.6 for i in wrap}
        rule_from, rule_to = f"{left * pdf.k:.2f}", f"{edges[-1] * pdf.k:.2f}"
        laid = lay_out(rows[0])
        heading(title, 11, 8, heading_h + laid[2])
        pdf.set_font(family, size=7)
        top = pdf.get_y()
        y = headings()
        for n, row in enumerate(rows):
            if tick is not None and n % 2000 == 0:
                tick(n, len(rows))
            cells, lines, height = laid if n == 0 else lay_out(row)
            if y + height > bottom:
                close_block(top, y)
                pdf.add_page()
                top = pdf.get_y()
                y = headings()
            pieces: list[tuple[float, float, str]] = []
            for i, (text, x, w) in enumerate(zip(cells, edges[:-1], widths, strict=True)):
                if i in lines:
                    for k, line in enumerate(lines[i]):
                        if line:
                            pieces.append((x + pad, y + base + k * line_h, line))
                elif text:
                    pieces.append((x + pad, y + base, fit(text, w)))
            y += height
            # the rule under the row, as pdf.line(left, y, edges[-1], y) writes it
            at = f"{(pdf.h - y) * pdf.k:.2f}"
            draw(pieces, then=f"{rule_from} {at} m {rule_to} {at} l S")
        close_block(top, y)
        pdf.set_y(y)
        pdf.ln(4)

    heads = cl.eligible_headers
    weights = {"Row": 7, "Asset tag": 14, "Serial": 16, "Manufacturer": 12, "Model": 12}
    weights |= {"Evidence": 25, "Edition on the evidence": 16, "Edition as read": 15}
    weights |= {"Target image": 11, "Check": 17, "Verified by": 13, "Note": 14}
    # what the signer certifies is never cut short: these wrap instead
    # (an identifier, the evidence, an edition, the target: an OEM must tell 10 from 11)
    never_cut: tuple[str, ...] = ("Row", "Asset tag", "Serial", "Manufacturer", "Model")
    never_cut += ("Evidence", "Edition on the evidence", "Edition as read", "Target image")
    never_cut += ("Check",)
    table(
        f"Eligible devices ({len(cl.eligible)})",
        heads,
        cl.eligible,
        tuple(weights[h] for h in heads),
        wrap=tuple(i for i, h in enumerate(heads) if h in (*never_cut, "Note", "Verified by")),
    )
    # the other tables, as every format prints them: each column wraps but a status
    wide = {"Row": 8, "Asset tag": 16, "Serial": 20, "Status": 12, "Reason": 80}
    wide |= {"By": 18, "When": 16, "How": 16, "Mark": 16, "What the register says": 30}
    wide |= {"Finding it overrides": 30, "Accepted on": 30}
    for title, _name, headers, rows in cl.tables():
        table(
            title,
            headers,
            rows,
            tuple(wide.get(h, 24) for h in headers),
            wrap=tuple(i for i, h in enumerate(headers) if h != "Status"),
        )
    for title, items in cl.lists():
        where = f"the list {title!r}"
        heading(title, 11, 8, lead_height(clean(items[0], where)))
        for item in items:
            paragraph(item, where)
        pdf.ln(3)

    # -- signatures: on one page with the statement they sign --------------------------------

    blocks = [
        (
            clean(title, "the imaging provider"),
            [(k, clean(v, f"{title}: {k}") if v else "") for k, v in fields],
        )
        for title, fields in signature_blocks(cl)
    ]
    signed = paragraph_height(STATEMENT) + 2
    heading("Signatures", 11, 8, signed + sum(8 + 9 * len(f) + 3 for _t, f in blocks))
    paragraph(STATEMENT, "the statement")
    pdf.ln(2)
    for title, fields in blocks:
        if pdf.will_page_break(8 + 9 * len(fields)):  # only when they cannot share a page
            pdf.add_page()
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        for label, value in fields:
            pdf.ln(2)
            pdf.cell(30, 7, f"{label}:")
            pdf.cell(0, 7, value or "_" * 45, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(output_producer_class=_Packet)
