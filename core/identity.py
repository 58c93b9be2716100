"""One identity for a device: the one form in which serial numbers, asset tags and host
names are compared, everywhere (duplicates, the evidence merge, walk files, scans, go to,
corrections files, journal restore).

``identity(value)`` is the value as a person reads it off a label: Unicode NFKC (fullwidth
and other compatibility forms become the letter or digit they are), every invisible
character removed (format characters such as U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER,
U+FEFF BOM, U+00AD SOFT HYPHEN, controls, combining marks and the other default-ignorable
code points of ``data/identity.toml``), spaces of every kind (NBSP, tabs, U+3000), dashes of
every kind (U+2011, U+2212 MINUS SIGN, U+FF0D) and all other punctuation folded away, letters
of other scripts drawn like a Latin letter or a digit read as that letter or digit
(Cyrillic С as C, Greek Ο as O: ``data/identity.toml``), digits of any script read as ASCII
digits, case folded, in upper case. ``5CG1234567``, ``5cg-123 4567``, ``５ＣＧ１２３４５６７``,
``5СG1234567`` (Cyrillic С) and ``5CG\\u200b1234567`` are one identity, ``5CG1234567``.

Why letters and digits only: a serial or tag is compared to find the same device twice,
and the one error that hurts is a device certified twice (a wrong "eligible"). Two rows
that differ only in punctuation are treated as one device: the worst that costs is a
duplicate finding a person clears, never a second certification. (The evidence merge and
scan mode already compared serials this way.)

What is a finding (``unusual``): a value whose letters and digits are not what they look
like: an invisible or control character, a combining mark, a look-alike letter of another
script (unless the value is a word of that script: a Cyrillic asset tag ``ИТ-001`` is
Cyrillic, ``5СG1234567`` is a Latin serial with one Cyrillic letter), a wide or other
compatibility form, a digit of another script. Its message names each character with its
code point, name and position. Case, spaces and dashes (of any kind: an NBSP or en dash
pasted from a web page or typed by Excel is still visibly a space or a dash) and ASCII
punctuation are not findings by themselves: a register legitimately writes ``5CG-123 456``
and the device's label reads the same; they still compare equal for duplicates. For the
customer: the value is what the imaging order, the packet and the vendor's systems will
carry; one that looks like another but is not the same text must be retyped from the
label before the device is certified, so it is a review, never silently eligible.

Speed: a million values are compared per audit. ``identity`` returns an ASCII letters-and-
digits value upper-cased (``str.isascii`` and ``str.isalnum`` first); ``identities`` does a
column in chunks, the ASCII values of a chunk joined and translated in one C call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import and_, not_

from coa_audit.core.files import shipped_toml

__all__ = [
    "Oddity",
    "host_form",
    "host_identities",
    "host_identity",
    "host_label",
    "identities",
    "identity",
    "iter_identities",
    "oddities",
    "suspects",
    "unpadded",
    "unusual",
    "visible",
]

# ASCII: lower case to upper case, everything but letters, digits and NUL (the chunk
# separator) deleted.
_ASCII: dict[int, int | None] = {
    c: (c - 32 if 0x61 <= c <= 0x7A else None)
    for c in range(128)
    if (c and not chr(c).isalnum()) or 0x61 <= c <= 0x7A
}
_CHUNK = 1 << 16
_MINUS = frozenset("\u2212\u207b\u208b\u2796\ufe63\uff0d")  # minus signs that are no Pd


@lru_cache(maxsize=1)
def _data() -> tuple[dict[int, str], frozenset[int]]:
    data = shipped_toml("core", "identity.toml")
    confusables = {ord(k): v for k, v in data["confusables"].items()}
    ignorable: set[int] = set()
    for item in data["ignorable"]:
        lo, _, hi = item.partition("-")
        ignorable.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return confusables, frozenset(ignorable)


def identity(value: str) -> str:
    """The one form in which identifiers are compared (see the module): letters and digits
    as read, upper case; "" for a value with no letter or digit."""
    if value.isascii():
        if value.isalnum():
            return value.upper()
        done = value.translate(_ASCII)  # (which keeps NUL: the separator of a chunk)
        return done.replace("\x00", "") if "\x00" in done else done
    return _wide(value)


def _wide(value: str) -> str:
    confusables, ignorable = _data()
    text = unicodedata.normalize("NFKC", value).translate(confusables)
    out: list[str] = []
    for ch in text.casefold():
        if ch.isalnum() and ord(ch) not in ignorable:
            if not ch.isascii() and ch.isdigit():
                d = unicodedata.decimal(ch, None)
                ch = str(d) if d is not None else ch
            out.append(ch)
    return "".join(out).upper()


def unpadded(form: str) -> str:
    """An identity (``identity``) without its leading zeros, as a spreadsheet that read a
    serial as a number writes it (``0047120593``: ``47120593``): two serials of one unpadded
    form and different identities are a *possible* duplicate, reviewed and never merged."""
    return form.lstrip("0")


def host_label(value: str) -> str:
    """A host name's first label, its domain dropped (``PC-01.corp.example``: ``PC-01``)."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value).replace("\u3002", ".")
    return value.split(".", 1)[0]


def host_identity(value: str) -> str:
    """A host name as it is compared: ``identity`` of its first label (``PC-01.corp`` is
    ``PC01``)."""
    return identity(host_label(value))


def host_form(value: str) -> str:
    """A host name's first label as it reads, for matching a naming convention (a cloud's
    default names, ``Policy.virtual_host``): upper case, surrounding space dropped; a name that
    is not ASCII read as ``identity`` reads it (NFKC, invisible characters dropped, look-alike
    letters and digits of other scripts as what they look like), except that its dashes of
    every kind stay, as "-" (``ec2amaz-gqcp864.corp``, ``ＥＣ２AMAZ\u2011GQCP864``:
    ``EC2AMAZ-GQCP864``)."""
    label = host_label(value).strip()
    if label.isascii():
        return label.upper()
    confusables, ignorable = _data()
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", label).translate(confusables):
        cat = unicodedata.category(ch)
        if cat == "Pd" or ch in _MINUS:
            out.append("-")
        elif ch.isalnum() and ord(ch) not in ignorable:
            if not ch.isascii() and ch.isdigit():
                d = unicodedata.decimal(ch, None)
                ch = str(d) if d is not None else ch
            out.append(ch)
        elif ch.isascii() and ch.isprintable() and not ch.isspace():
            out.append(ch)  # ASCII punctuation stays what it is
    return "".join(out).upper()


_DOMAIN = re.compile(r"\.[^\x00]*")  # from a host name's first dot to the end of its value


def host_identities(values: Sequence[str]) -> list[str]:
    """``host_identity`` of every value, in order: an ASCII column's domains dropped by one
    expression over the joined column."""
    joined = "\x00".join(values)
    if not joined.isascii() or joined.count("\x00") != len(values) - 1:
        return list(map(host_identity, values))
    labels = _DOMAIN.sub("", joined).split("\x00") if "." in joined else list(values)
    return identities(labels)


def iter_identities(values: Sequence[str], odd: list[int] | None = None) -> Iterator[list[str]]:
    """``identity`` of every value, in order, a chunk (a list) at a time: the ASCII values
    of a chunk joined and translated in one call, the others one at a time. A value already
    in its form comes back as the same object. ``odd``, when given, gets ``suspects`` of
    ``values`` in the same pass (a column is read once)."""
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        out, plain = _chunk(chunk)
        if odd is not None and not plain:
            odd.extend(start + i for i in suspects(values[start : start + _CHUNK]))
        yield out


def identities(values: Sequence[str]) -> list[str]:
    """``identity`` of every value, in order (see ``iter_identities``)."""
    if len(values) <= _CHUNK:
        return _chunk(list(values))[0]
    out: list[str] = []
    for chunk in iter_identities(values):
        out.extend(chunk)
    return out


_PRINTABLE = bytes(range(0x20, 0x7F))
_PRINTABLE_NUL = b"\x00" + _PRINTABLE


def _chunk(values: list[str]) -> tuple[list[str], bool]:
    """``identity`` of every value of ``values`` (the caller's own list: it may be
    changed), and whether every value is printable ASCII (then none is a finding)."""
    if not values:
        return [], True
    joined = "\x00".join(values)
    if joined.count("\x00") != len(values) - 1:  # a NUL inside a value: one at a time
        return list(map(identity, values)), False
    if joined.isascii():
        done = joined.translate(_ASCII)
        plain = not joined.encode("ascii").translate(None, _PRINTABLE_NUL)
        return (values if done == joined else done.split("\x00")), plain
    flags = list(map(str.isascii, values))
    wide = list(compress(range(len(values)), map(not_, flags)))
    originals = [values[i] for i in wide]
    for i in wide:
        values[i] = ""
    ascii_joined = "\x00".join(values)
    out = ascii_joined.translate(_ASCII).split("\x00")
    for i, value in zip(wide, originals, strict=True):
        out[i] = _wide(value)
    return out, False


def suspects(values: Sequence[str]) -> list[int]:
    """The rows of ``values`` that may hold a character ``oddities`` names: every value
    that is not printable ASCII. A column of printable ASCII is told in a few C calls
    (joined, encoded, its printable bytes deleted: nothing may be left)."""
    joined = "".join(values)
    if joined.isascii() and not joined.encode("ascii").translate(None, _PRINTABLE):
        return []
    plain = map(and_, map(str.isascii, values), map(str.isprintable, values))
    return list(compress(range(len(values)), map(not_, plain)))


@dataclass(frozen=True, slots=True)
class Oddity:
    """A character of an identifier that is not what it looks like."""

    char: str
    positions: tuple[int, ...]  # 1-based, in the value as written
    why: str  # "invisible", "looks like Latin C", "a fullwidth form of 5"...

    def describe(self) -> str:
        code = ord(self.char)
        name = unicodedata.name(self.char, "") or (
            "a control character" if unicodedata.category(self.char) == "Cc" else "unnamed"
        )
        where = ", ".join(map(str, self.positions))
        plural = "s" if len(self.positions) > 1 else ""
        return f"U+{code:04X} {name} ({self.why}) at position{plural} {where}"


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").split(" ", 1)[0]


def oddities(value: str) -> list[Oddity]:
    """The characters of ``value`` that make it a finding (see the module), in order of
    first position; [] for a value of plain text."""
    if value.isascii():
        if value.isprintable():
            return []
        found: dict[str, list[int]] = {}
        for pos, ch in enumerate(value, 1):
            if not (ch.isprintable() or ch.isspace()):
                found.setdefault(ch, []).append(pos)
        return [Oddity(ch, tuple(p), "a control character") for ch, p in found.items()]
    confusables, ignorable = _data()
    letters = [ch for ch in unicodedata.normalize("NFKC", value) if ch.isalpha()]
    latin = any(ch.isascii() or _script(ch) == "LATIN" for ch in letters)
    # scripts written as words of their own: a letter with no Latin twin in the value
    own_words = set() if latin else {_script(ch) for ch in letters if ord(ch) not in confusables}
    # an accent written apart from its letter (as macOS writes file names) that NFC joins
    # with it is the letter itself: no finding
    composed = unicodedata.normalize("NFC", value)
    why_of: dict[str, str] = {}
    where: dict[str, list[int]] = {}
    for pos, ch in enumerate(value, 1):
        why = why_of.get(ch)
        if why is None:
            why = why_of[ch] = _why(ch, confusables, ignorable, own_words, composed)
        if why:
            where.setdefault(ch, []).append(pos)
    return [Oddity(ch, tuple(p), why_of[ch]) for ch, p in where.items()]


def _why(
    ch: str, confusables: dict[int, str], ignorable: frozenset[int], own: set[str], nfc: str
) -> str:
    """Why ``ch`` makes an identifier a finding, or "" (see the module). ``nfc``: the
    value composed (NFC)."""
    if ch.isascii():
        return "" if ch.isprintable() or ch.isspace() else "a control character"
    code = ord(ch)
    cat = unicodedata.category(ch)
    if code in ignorable or cat in ("Cf", "Cc", "Cs", "Co", "Cn"):
        return "invisible" if cat != "Cc" else "a control character"
    if cat in ("Mn", "Me"):
        return "a combining mark" if ch in nfc else ""
    if ch.isspace() or cat in ("Zs", "Zl", "Zp", "Pd") or ch in _MINUS:
        return ""  # a space or a dash of another kind: still visibly a space or a dash
    plain = unicodedata.normalize("NFKC", ch)
    if plain != ch:
        shown = "".join(confusables.get(ord(c), c) for c in plain)
        width = unicodedata.name(ch, "").split(" ", 1)[0]
        if width in ("FULLWIDTH", "HALFWIDTH"):
            return f"a {width.lower()} form of {shown}"
        return f"a compatibility form of {shown}"
    if code in confusables:
        if _script(ch) in own:
            return ""
        what = confusables[code]
        return f"looks like the digit {what}" if what.isdigit() else f"looks like Latin {what}"
    if cat == "Nd":
        return f"a digit of another script, read as {unicodedata.decimal(ch)}"
    return ""


def unusual(value: str) -> str:
    """What in ``value`` is not what it looks like, named character by character ("U+200B
    ZERO WIDTH SPACE (invisible) at position 4"), or "" for a plain value."""
    found = oddities(value)
    if not found:
        return ""
    named = [o.describe() for o in found[:4]]
    if len(found) > 4:
        return "; ".join(named) + f"; and {len(found) - 4} more such characters"
    return "; ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]


def visible(value: str) -> str:
    """``value`` with every character that draws nothing shown as its code point
    (``5CG⟦U+200B⟧1234567``): what a message quotes."""
    if value.isascii() and value.isprintable():
        return value
    _confusables, ignorable = _data()
    out = []
    for ch in value:
        cat = unicodedata.category(ch)
        if (not ch.isascii() and (ord(ch) in ignorable or cat in ("Cf", "Cs", "Co", "Cn"))) or (
            cat == "Cc" and not ch.isspace()
        ):
            out.append(f"⟦U+{ord(ch):04X}⟧")
        else:
            out.append(ch)
    return "".join(out)
