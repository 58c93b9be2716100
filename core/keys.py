"""Product keys in text, in every spelling: the one detector the screen, the findings, the
error lines and every file the tool writes use (``exporters.safety`` adds --show-keys).

A key is five groups of five letters and digits, separated by any dash, space, underscore or
dot (fullwidth and other lookalikes too, several together, " - "), or none at all; in either
case, in fullwidth or other compatibility letters (NFKC), with Cyrillic or Greek lookalike
capitals, with zero-width characters anywhere. Masked, only its last group shows.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["FILLERS", "SHORTEST_KEY", "holds_key", "mask_key", "mask_keys"]


def mask_key(key: str) -> str:
    """Show only the last group of a product key: XXXXX-XXXXX-XXXXX-XXXXX-3V66T."""
    key = key.strip()
    if len(key) <= 5:
        return "X" * len(key)
    tail = key[-5:]
    head = "".join("-" if ch == "-" else "X" for ch in key[:-5])
    return head + tail


# -- product keys, in every spelling -----------------------------------------------------------

# characters that draw nothing (zero-width, joiners, bidi marks, variation selectors, BOM,
# soft hyphen, Hangul fillers): allowed anywhere inside a key
FILLERS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
# what may stand between two groups: any space, dash, underscore or dot, and lookalikes
_SEPARATORS = (
    r"\s\-_.\u2010-\u2015\u2017\u2022\u2024\u2027\u2043\u2212\u2219\u22c5\u2e3a\u2e3b"
    r"\u00b7\u02d7\u2796\u30fb\u30fc\ufe4d-\ufe4f\ufe52\ufe58\ufe63\uff0d\uff0e\uff3f\uff65"
)
# letters of other scripts that look like the Latin capitals of a key
_LOOKALIKES = dict(
    zip(
        "АВСЕНКМОРТХУЅІЈԁԛԜΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
        "ABCEHKMOPTXYSIJdqWABEZHIKMNOPTYX",
        strict=True,
    )
)


@functools.cache
def _folding() -> dict[int, str]:
    """(Built at the first text that is not ASCII.) What each character reads as where a
    key is looked for: a letter or digit as its
    ASCII self (fullwidth, mathematical, circled, lookalike...), a character that draws
    nothing as \x01, any other separator as a dash. One character for one: a match in the
    folded text is the same span of the text."""
    fold = {ord(k): v for k, v in _LOOKALIKES.items()}
    for lo, hi in ((0x80, 0x3000), (0xFF00, 0xFFF0), (0x1D400, 0x1D800), (0x1F100, 0x1F200)):
        for cp in range(lo, hi):
            k = unicodedata.normalize("NFKC", chr(cp))
            if len(k) == 1 and k.isascii() and k.isalnum():
                fold[cp] = k
    for ch in re.findall(f"[{FILLERS}]", "".join(map(chr, range(0x80, 0x10000)))):
        fold[ord(ch)] = "\x01"
    for ch in re.findall(f"[{_SEPARATORS}]", "".join(map(chr, range(0x80, 0x10000)))):
        fold.setdefault(ord(ch), "-")
    return fold


# a key is 25 letters and digits at least: no shorter text holds one
SHORTEST_KEY = 25
_L = "[0-9A-Za-z]"
_GAP = "[\\s\\-_.]{0,8}"
_KEY_SHAPE = re.compile(f"(?<!{_L}){_L}{{5}}(?:{_GAP}{_L}{{5}}){{4}}(?!{_L})")
# the same with characters that draw nothing anywhere in it (slower: only where one is)
_GROUP = f"{_L}(?:\x01*{_L}){{4}}"
_KEY_SHAPE_FILLED = re.compile(
    f"(?<!{_L}){_GROUP}(?:[\\s\\-_.\x01]{{0,8}}{_GROUP}){{4}}(?!\x01*{_L})"
)
# the spellings masked as ``core.audit.mask_key`` always masked them
_PLAIN_KEY = re.compile(r"[A-Za-z0-9]{5}(?:[- ][A-Za-z0-9]{5}){4}|[A-Za-z0-9]{25}")


def _folded(text: str) -> str:
    return text if text.isascii() else text.translate(_folding())


def _key_spans(text: str) -> list[tuple[int, int]]:
    if len(text) < SHORTEST_KEY:
        return []
    folded = _folded(text)
    shape = _KEY_SHAPE_FILLED if "\x01" in folded else _KEY_SHAPE
    if shape.search(folded) is None:  # nearly always: one search, no list
        return []
    return [m.span() for m in shape.finditer(folded)]


def _masked(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return mask_key(key)
    letters = "".join(ch for ch in _folded(key) if ch.isascii() and ch.isalnum()).upper()
    return "XXXXX-XXXXX-XXXXX-XXXXX-" + letters[-5:]


def mask_keys(text: str) -> str:
    """``text`` with every product key in it, in any spelling, masked: only its last group
    shows (XXXXX-XXXXX-XXXXX-XXXXX-3V66T)."""
    spans = _key_spans(text)
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], _masked(text[start:end])]
        at = end
    return "".join(out) + text[at:]


def holds_key(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` holds a key in any spelling (one pass over them all)."""
    return bool(_key_spans("\x00".join(texts)))
