"""Make untrusted text (cells, headers, file names) safe to show in a terminal."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "as_written",
    "cjk",
    "fold",
    "fold_words",
    "plural",
    "safe_field",
    "safe_text",
    "split_cjk",
    "split_scripts",
]

# C0 controls (tab and newline included: a cell is one line), DEL, C1 controls, the
# bidirectional marks, overrides and isolates that can reorder what a reader sees, line and
# paragraph separators, and invisible format characters (zero-width spaces and joiners, word
# joiner, BOM, interlinear annotations), and lone surrogates (a file name that is not
# UTF-8 arrives with its bytes escaped as surrogates, which no terminal or JSON can hold).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff]"
)


def _picture(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ESC shows as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


_EDIT_CODE = re.compile(r"⟦U\+([0-9A-F]{4,6})⟧")
_PICTURED = re.compile("[␀-␟␡]")


def _edit_picture(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "␡"
    return f"⟦U+{code:04X}⟧"  # ⟦U+202E⟧: a bidi override, a zero-width space...


def editable(text: str) -> str:
    """``text`` as an input box may show it: every control, escape and invisible character
    as a visible stand-in that ``from_editable`` turns back, so that a cell holding OSC 52
    or ESC[2J is shown, never run, and an edit keeps the user's other bytes."""
    return _UNSAFE.sub(_edit_picture, text) if _UNSAFE.search(text) else text


def from_editable(text: str) -> str:
    """The inverse of ``editable``: what an input box held, as the bytes to store."""
    if _PICTURED.search(text):

        def back(m: re.Match[str]) -> str:
            code = ord(m.group())
            return "\x7f" if code == 0x2421 else chr(code - 0x2400)

        text = _PICTURED.sub(back, text)
    if "⟦" in text:
        text = _EDIT_CODE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def safe_field(text: str) -> str:
    """``safe_text`` for a field of a CSV report: tab, CR and LF stay (quoting carries them
    and they are the user's text); escapes and every other control become pictures."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\t\r\n" else _picture(m), text)


def safe_text(text: str) -> str:
    """Replace control characters and bidi overrides with visible placeholders."""
    return _UNSAFE.sub(_picture, text) if _UNSAFE.search(text) else text


# Word breaks once folded: anything but letters and digits. Letters of other scripts stay
# words ("Yes 损坏" is two words, never "yes").
_NON_ALNUM = re.compile(r"[\W_]+")


# Letters that Unicode does not decompose into a base letter and a mark (Polish ł, Danish ø...)
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i", "þ": "th"})


# Marks that are no accent: the kana voicing marks (バ is not ハ, プ is not フ). Hangul
# syllables decompose into their letters under NFKD and are composed again.
_KEEP_MARKS = frozenset("\u3099\u309a")
_COMPOSE = re.compile("[\u1100-\u11ff\u3099\u309a]")


def fold(text: str) -> str:
    """Lower case with accents removed ("Éducation" -> "education", "ß" -> "ss",
    "Fałsz" -> "falsz"); Greek and Cyrillic lose their accents too ("Όχι" -> "οχι"), kana
    keep their voicing ("ビット") and Hangul its syllables."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    out = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch in _KEEP_MARKS)
    return unicodedata.normalize("NFC", out) if _COMPOSE.search(out) else out


# Scripts written without spaces between words: Han (Chinese characters, kanji), kana and
# Hangul syllables. Each character is a word of its own once folded, so a phrase matches at
# any character boundary of a run ("シリアル番号" holds "シリアル" and "番号"; "序列号SN" is
# "序 列 号 sn") and a character nothing knows is a word left over, never dropped.
_CJK_CLASS = (
    "\u3005\u3006\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
)


@lru_cache(maxsize=1)
def cjk() -> re.Pattern[str]:
    """One character of Han, kana or Hangul (compiled at first use: its class, and the
    script edges built on it, cost a start-up about 20 ms to compile)."""
    return re.compile(f"[{_CJK_CLASS}]")


@lru_cache(maxsize=1)
def _script_edge() -> re.Pattern[str]:
    return re.compile(
        f"(?<=[{_CJK_CLASS}])(?=[^\\W_{_CJK_CLASS}])|(?<=[^\\W_{_CJK_CLASS}])(?=[{_CJK_CLASS}])"
    )


def split_cjk(text: str) -> str:
    """``text`` with a space around every character of a script written without spaces
    (Han, kana, Hangul): "Windows11专业版" -> "Windows11 专 业 版"."""
    if text.isascii() or max(text) < "\u3005" or cjk().search(text) is None:
        return text
    return cjk().sub(lambda m: f" {m.group()} ", text)


def split_scripts(text: str) -> str:
    """``text`` with a space where a run of Han, kana or Hangul meets letters or digits of
    another script, each run kept whole: "Windows11专业版" -> "Windows11 专业版" (the edition
    grammar reads a run as one word; a run it does not know is left over)."""
    if text.isascii() or max(text) < "\u3005" or cjk().search(text) is None:
        return text
    return _script_edge().sub(" ", text)


@lru_cache(maxsize=65536)
def fold_words(text: str) -> str:
    """Accents folded, lower case, every run of punctuation one space, each Han, kana or
    Hangul character a word: the form in which evidence words and headers are compared
    ("Numéro de série" -> "numero de serie", "シリアル番号" -> "シ リ ア ル 番 号")."""
    if text.isascii():  # most headers and words: no accent, no wide script
        low = text.lower()
        return low if low.isalnum() else " ".join(_NON_ALNUM.sub(" ", low).split())
    return " ".join(_NON_ALNUM.sub(" ", split_cjk(fold(text))).split())


_RAW_WORDS = re.compile(r"[^\W_]+")


def as_written(text: str, words: list[str] | tuple[str, ...]) -> list[str]:
    """``words`` (folded, as a reader compared them) as ``text`` writes them, so a message
    quotes "Beschädigt" and "64ビット", not "beschadigt" and "64ヒット"; a word the text does not
    hold as one run is given as it is."""
    written: dict[str, str] = {}
    for raw in _RAW_WORDS.findall(text):
        written.setdefault(fold(raw), raw)
    return [written.get(w, w) for w in words]


def plural(count: int, word: str, words: str = "") -> str:
    """ "1 device", "2 devices" (``words`` for an irregular plural)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
