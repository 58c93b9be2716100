"""Which legacy code page a text table that is not UTF-8 was written in, and the names the
user may give one (``--encoding``).

A register that is not UTF-8 was written by a Windows program in the machine's ANSI code
page (1250-1258), in a national multi-byte encoding (Shift_JIS, GB18030, Big5, EUC-KR), in
KOI8-R/KOI8-U, or by Excel for Mac in Mac Roman. Decoding decides little: most single-byte
code pages turn any byte into some letter. So each candidate's decoding of a bounded sample
is read as text of the languages written in that code page:

- every run of characters between separators that holds a non-ASCII character (a word) is
  plausible when one language of the code page has all of its letters and its case reads
  as a word's case does (``Kraków``, ``KRAKÓW``, never ``KraKÓw`` or ``£ódŸ``);
- an ideograph, kana or hangul syllable is plausible when it is among the characters
  commonly written in that encoding's language (the first level of its national set, which
  the codec itself enumerates), so Japanese read as Chinese is mostly rare characters;
- a symbol between two letters (``Wa¿ny``), a control character or a letter no language of
  the code page writes counts against it;
- a word a language's spelling rules out is not of that language (a diaeresis after a
  consonant, ``Klaipëda``; an ordinal indicator inside a word, ``Timiºoara``; ç before e);
- and a text is mostly in one language: the share of words one language covers adds to
  the score, which tells Czech (``Přední``) from the same bytes read as Western
  (``Pøední``), each letter of which some Western language has.

The best score wins; ties go to the more common code page (Windows-1252 first). Measured
against charset-normalizer, chardet and cchardet on three- and thirty-row registers in
every code page, on the registers it was tuned on and on held-out ones
(``tests/encoding_holdout.py``): ``bench/encodings.py``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from coa_audit.core.errors import UsageError

__all__ = [
    "CANDIDATES",
    "DELIMITER_NAMES",
    "canonical_encoding",
    "encoding_label",
    "guess_legacy",
    "parse_delimiter",
    "plausibility",
]

# what --delimiter accepts by name (a shell makes a tab hard to type)
DELIMITER_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
    "colon": ":",
}
# quoting and line breaks cannot separate values; neither can a letter or digit
_NOT_DELIMITERS = frozenset("\"'\r\n\x00")


def parse_delimiter(text: str) -> str:
    """The one character ``--delimiter`` names (``;``, ``\\t``, ``tab``, ``semicolon``...);
    anything that cannot split a record is a usage error, said in one line."""
    named = DELIMITER_NAMES.get(text.strip().lower(), text)
    if len(named) != 1 or named in _NOT_DELIMITERS or named.isalnum():
        raise UsageError(
            f"--delimiter {text!r}: a delimiter is one character that is not a quote, a line "
            "break, NUL, a letter or a digit; give it as ; , | or \\t, or by name: tab, "
            "comma, semicolon, pipe"
        )
    return named


# the legacy encodings a register may be in, most common first (the order breaks ties)
CANDIDATES: tuple[str, ...] = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "cp1255",
    "cp1256",
    "cp1258",
    "cp932",
    "euc_kr",  # before GB18030: Korean's bytes are common hanzi there too
    "gb18030",
    "big5",
    "koi8_r",
    "koi8_u",
    "mac_roman",
)

_LABELS = {
    "utf_8": "UTF-8",
    "utf_8_sig": "UTF-8 with a byte-order mark",
    "utf_16": "UTF-16",
    "utf_16_le": "UTF-16 little-endian",
    "utf_16_be": "UTF-16 big-endian",
    "utf_32": "UTF-32",
    "utf_32_le": "UTF-32 little-endian",
    "utf_32_be": "UTF-32 big-endian",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1252": "Windows-1252 (Western)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp1257": "Windows-1257 (Baltic)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "cp932": "Shift_JIS (Japanese)",
    "shift_jis": "Shift_JIS (Japanese)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "gbk": "GBK (Simplified Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "euc_kr": "EUC-KR (Korean)",
    "koi8_r": "KOI8-R (Russian)",
    "koi8_u": "KOI8-U (Ukrainian)",
    "mac_roman": "Mac Roman",
    "latin_1": "ISO-8859-1 (Latin-1)",
}


def canonical_encoding(name: str) -> str | None:
    """The codec ``name`` means (``windows-1251``, ``cp1251``, ``Shift_JIS``...), or None
    when Python knows no text encoding of that name (``base64`` is bytes to bytes)."""
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name.replace("-", "_")


def encoding_label(codec: str) -> str:
    """How the notice names an encoding: ``Windows-1250 (Central European), cp1250``."""
    key = codecs.lookup(codec).name.replace("-", "_") if _known(codec) else codec
    label = _LABELS.get(key)
    return f"{label}, {codec}" if label else codec


def _known(codec: str) -> bool:
    try:
        codecs.lookup(codec)
    except LookupError:
        return False
    return True


# -- the languages of each code page ----------------------------------------------------------
# the letters beyond ASCII each language writes, lower case (upper case is added)

_WEST = {
    "de": "äöüß",
    "fr": "àâæçéèêëîïôœùûüÿ",
    "es": "áéíñóúüºª",  # Nº, 1ª: ordinal indicators are written as letters
    "pt": "áâãàçéêíóôõúºª",
    "it": "àèéìíîòóùºª",
    "nl": "áéíóúëïöüè",
    "sv": "åäöé",
    "da": "æøå",
    "fi": "äöåšž",
    "et": "äõöüšž",  # Windows-1257 in Estonia, but its letters are Western ones too
    "is": "áðéíóúýþæö",
    "ca": "àçéèíïòóúüºª",
    "ga": "áéíóú",
}
_CENTRAL = {
    "cs": "áčďéěíňóřšťúůýž",
    "sk": "áäčďéíĺľňóôŕšťúýž",
    "pl": "ąćęłńóśźż",
    "hu": "áéíóöőúüű",
    "sl": "čšž",
    "hr": "čćđšž",
    "ro": "ăâîşţ",
    "sq": "çë",
    "de": "äöüß",
}
_RU = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_UK = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_CYRILLIC = {
    "ru": _RU,
    "uk": _UK,
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
}
_GREEK = {"el": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς"}
_TURKISH = {"tr": "çğıöşüâîûİ"}
_BALTIC = {"lt": "ąčęėįšųūž", "lv": "āčēģīķļņšūž", "et": "äõöüšž", "de": "äöüß"}
_HEBREW = {"he": "אבגדהוזחטיכךלמםנןסעפףצץקרשת" + "".join(map(chr, range(0x05B0, 0x05C8)))}
_ARABIC_LETTERS = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيـ" + "".join(map(chr, range(0x064B, 0x0653)))
_ARABIC = {
    "ar": _ARABIC_LETTERS,
    "fa": _ARABIC_LETTERS + "پچژگکی",
    "ur": _ARABIC_LETTERS + "پچژگکیٹڈڑںھہے",
    "fr": _WEST["fr"],
}
_VI_BASE = "ăâđêôơư"
_VI_TONED = "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
_VI_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # cp1258 writes tones as combining marks
_VIETNAMESE = {"vi": _VI_BASE + _VI_TONED + _VI_MARKS}

_LANGUAGES: dict[str, dict[str, str]] = {
    "cp1252": _WEST,
    "cp1250": _CENTRAL,
    "cp1251": _CYRILLIC,
    "cp1253": _GREEK,
    "cp1254": _TURKISH,
    "cp1257": _BALTIC,
    "cp1255": _HEBREW,
    "cp1256": _ARABIC,
    "cp1258": _VIETNAMESE,
    "koi8_r": {"ru": _RU, "bg": _CYRILLIC["bg"]},
    "koi8_u": {"uk": _UK, "ru": _RU},
    "mac_roman": _WEST,
}


# the most frequent letters of the languages written wholly beyond ASCII: a decoding into
# their alphabet that is mostly rare letters (Hebrew read as Cyrillic: й ш щ ъ) is a wrong one
_FREQUENT = {
    "ru": "оеаинтсрвлкмдпу",
    "uk": "оанивітерсклудмп",
    "bg": "оаеинтрсвлкдпмз",
    "sr": "аоеинрстјвдклмпу",
    "mk": "аоеинтрсвдклмпуј",
    "be": "аоеінрсвлкдтмпуы",
    "el": "αοειτσνηυρπκμλ",
    "he": "יוהלרמתאבנשקדע",
    "ar": "الیيمونرتبعهدفةسكق",
    "fa": "الیيمونرتبعهدفةسكقک",
    "ur": "الیيمونرتبعهدفةسكقکے",
}
FREQUENT_SHARE = 0.65  # below this share of frequent letters, a decoding is penalised


# where a letter stands in a word of a language that writes it: a word breaking one of
# these is no word of that language (Lithuanian ``Klaipėda`` read as ``Klaipëda``, Romanian
# ``Timişoara`` as ``Timiºoara``, Latvian ``Rēzekne`` as ``Rçzekne``). Read on the word in
# small letters.
_ORDINAL = r"[ºª][^\W\d_]|[^\W\d_n][ºª]"  # after a number (1º, 2ª, Nº), ending it
_DIAERESIS = r"(?:^|[^aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýœ])[ëïÿ]"  # Noël, naïf: after a vowel
_CEDILLA = r"ç(?![aouàáâãóòôõúûü]|$)"  # ça, garçon, ação, reçu; feliç ends a word
_NASAL = r"[ãõ](?![oesi]|$)"  # Portuguese ão, ãe, ãs, ões, irmã
_SPELLING = {
    lang: re.compile("|".join(rules))
    for lang, rules in {
        "fr": (_DIAERESIS, _CEDILLA),
        "nl": (_DIAERESIS,),
        "ca": (_DIAERESIS, _CEDILLA, _ORDINAL),
        "pt": (_CEDILLA, _NASAL, _ORDINAL),
        "es": (_ORDINAL,),
        "it": (_ORDINAL,),
    }.items()
}


def _base(c: str) -> str:
    return unicodedata.normalize("NFD", c.lower())[0]


@cache
def _letters(codec: str) -> dict[str, frozenset[str]]:
    out = {}
    for lang, lower in _LANGUAGES.get(codec, {}).items():
        chars = set(lower)
        chars.update(c.upper() for c in lower if len(c.upper()) == 1)
        out[lang] = frozenset(chars)
    return out


# the characters commonly written in each multi-byte encoding: the ranges of its national
# set that hold symbols, kana or hangul and the first (most common) level of ideographs
_COMMON_RANGES: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    # (first lead, last lead, first trail, last trail)
    "cp932": ((0x81, 0x83, 0x40, 0xFC), (0x88, 0x98, 0x40, 0xFC)),
    "gb18030": ((0xA1, 0xA9, 0xA1, 0xFE), (0xB0, 0xD7, 0xA1, 0xFE)),
    "big5": ((0xA1, 0xA3, 0x40, 0xFE), (0xA4, 0xC6, 0x40, 0xFE)),
    "euc_kr": ((0xA1, 0xAC, 0xA1, 0xFE), (0xB0, 0xC8, 0xA1, 0xFE)),
}


@cache
def _common(codec: str) -> frozenset[str]:
    out: set[str] = set()
    for lead_lo, lead_hi, trail_lo, trail_hi in _COMMON_RANGES.get(codec, ()):
        for lead in range(lead_lo, lead_hi + 1):
            for trail in range(trail_lo, trail_hi + 1):
                try:
                    out.add(bytes((lead, trail)).decode(codec))
                except UnicodeDecodeError:
                    continue
    if codec == "cp932":  # level 2 begins at row 0x98 column 0x9F
        out -= {bytes((0x98, t)).decode(codec, "ignore") for t in range(0x9F, 0xFD)}
    out.discard("")
    return frozenset(out)


# symbols a register writes outside words: quotes, dashes, currency, degree, numero...
_NEUTRAL = frozenset("€‚„…†‡‰‹›‘’“”•–—™ ¡¢£¥§©«®°±·»¿×÷№،؛؟")
# what separates words: ASCII punctuation and white space
# (runs between them, one character class repeated: linear time whatever the text; a run
# with a letter beyond ASCII is a word to read. A pattern that had to find such a letter
# inside the run was quadratic on a long run of ASCII letters.)
_TOKEN = re.compile(r"[^\s!-/:-@\[-`{-~]+")
WORD_CHARS = 64  # at most this much of one run of text is read as a word (time: linear)
_WIDE = 0x2E80  # from here on (CJK, kana, hangul, fullwidth forms) a character is a unit


def plausibility(text: str, codec: str, limit: int = 4000) -> float:
    """How much ``text``, decoded with ``codec``, reads as its languages: from -1 (nothing
    does) to 1.25 (every word, all in one language)."""
    languages = _letters(codec)
    common = _common(codec) if codec in _COMMON_RANGES else frozenset()
    good = bad = 0
    words: list[str] = []
    n = 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token.isascii():
            continue
        n += 1
        if n > limit:
            break
        token = token[:WORD_CHARS]  # a word is short: a longer run is read by its start
        narrow = []
        for i, c in enumerate(token):
            o = ord(c)
            if o < 0x80:
                narrow.append(c)
            elif o >= _WIDE:
                if c in common:
                    good += 1
                else:
                    bad += 1
            else:
                narrow.append(c)
                if i > 0 and o < _WIDE and not c.isalpha() and unicodedata.category(c) != "Mn":
                    before, after = token[i - 1], token[i + 1 : i + 2]
                    if before.isalpha() and after.isalpha():
                        bad += 1  # a symbol inside a word: a letter read wrong
        word = "".join(narrow)
        if any(ord(c) >= 0x80 for c in word):
            words.append(word)
    per_language: dict[str, int] = dict.fromkeys(languages, 0)
    frequent: dict[str, int] = dict.fromkeys(languages, 0)
    seen: dict[str, int] = dict.fromkeys(languages, 0)
    for word in words:
        letters = [
            c for c in word if ord(c) >= 0x80 and (c.isalpha() or unicodedata.category(c) == "Mn")
        ]
        letter_set = set(letters)
        others = [c for c in word if ord(c) >= 0x80 and c not in letter_set]
        if any(c not in _NEUTRAL for c in others):
            bad += 1
            continue
        if not letters:
            continue
        if not _cased_as_a_word(word) or not _one_script(word):
            bad += 1
            continue
        small = word.lower()
        covered = [
            lang
            for lang, chars in languages.items()
            if all(c in chars for c in letters)
            and (lang not in _SPELLING or not _SPELLING[lang].search(small))
        ]
        if covered:
            good += 1
            for lang in covered:
                per_language[lang] += 1
                frequent[lang] += sum(1 for c in letters if _base(c) in _FREQUENT.get(lang, ""))
                seen[lang] += len(letters)
        else:
            bad += 1
    units = good + bad
    if units == 0:
        return 0.0
    single, penalty = 0.0, 0.0
    if words and per_language:
        lang = max(per_language, key=lambda k: per_language[k])
        single = per_language[lang] / len(words)
        if lang in _FREQUENT and seen[lang]:
            penalty = max(0.0, FREQUENT_SHARE - frequent[lang] / seen[lang])
    return (good - bad) / units + 0.25 * single - penalty


def _script(c: str) -> str:
    o = ord(c)
    if o < 0x250:
        return "latin"
    if 0x370 <= o < 0x400:
        return "greek"
    if 0x400 <= o < 0x530:
        return "cyrillic"
    if 0x590 <= o < 0x600:
        return "hebrew"
    if 0x600 <= o < 0x700:
        return "arabic"
    if 0x1E00 <= o < 0x1F00:
        return "latin"  # Vietnamese precomposed
    return str(o >> 8)


def _one_script(word: str) -> bool:
    """A word is written in one alphabet (``Klaipлda`` is Baltic read as Cyrillic)."""
    scripts = {_script(c) for c in word if c.isalpha()}
    return len(scripts) <= 1


def _cased_as_a_word(word: str) -> bool:
    """No capital after a small letter where either is beyond ASCII (``McDonald`` is a
    name; ``йЧБНПЧ`` is KOI8 read as Windows-1251)."""
    prev = ""
    for c in word:
        if unicodedata.category(c) == "Mn":
            continue
        if prev and prev.islower() and c.isupper() and (ord(prev) >= 0x80 or ord(c) >= 0x80):
            return False
        prev = c if c.isalpha() else ""
    return True


def guess_legacy(
    sample: bytes, cr_only: bool = False, candidates: Iterable[str] = CANDIDATES
) -> str:
    """The legacy encoding ``sample`` (a head of the file, cut at a line end) reads best
    in. Mac Roman is a candidate only with Excel for Mac's CR-only line ends, where it wins
    ties."""
    best, best_score = "cp1252", float("-inf")
    order = list(candidates)
    if cr_only and "mac_roman" in order:
        order.remove("mac_roman")
        order.insert(0, "mac_roman")
    elif not cr_only and "mac_roman" in order:
        order.remove("mac_roman")
    for codec in order:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        score = plausibility(text, codec)
        if score > best_score:
            best, best_score = codec, score
    return best
