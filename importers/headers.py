"""Find the header row and map source headers to canonical fields (aliases in data).

Headers are normalised first (accents, camelCase, ConfigMgr's trailing 0, SSRS prefixes,
GLPI's "Item - Field"), matched against ``data/headers.toml``, and where two columns could
take one field the values in the rows below decide (RULES §8).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from coa_audit.core.editions import is_blank, parse_edition
from coa_audit.core.errors import UsageError
from coa_audit.core.files import shipped_toml
from coa_audit.core.model import CANONICAL_FIELDS
from coa_audit.core.policy import Policy
from coa_audit.core.text import fold_words

__all__ = [
    "HEADER_SCAN_ROWS",
    "HeaderHit",
    "HeaderMap",
    "HeaderRow",
    "classify",
    "combine_headers",
    "field_candidates",
    "find_header",
    "first_data_row",
    "group_row",
    "header_by_structure",
    "header_candidates",
    "locate_header",
    "map_headers",
    "norm_header",
    "parse_overrides",
]

HEADER_SCAN_ROWS = 40
# Fields that identify a device or carry its evidence: a header row names at least one.
_ANCHOR_FIELDS = {
    "serial_number",
    "asset_tag",
    "hostname",
    "coa_edition",
    "oa3_edition",
    "coa_key",
    "coa_present",
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SSRS = re.compile(r"^details table\d* ")
_TRAILING_ZERO = re.compile(r"(?<=[a-z])0$")
_TABLE_PREFIX = re.compile(r"^(?:tbl|tsys|v_|sms_|dbo\.)[\w.]*?\.(?=\w)", re.IGNORECASE)
_PRODUCT_ID = re.compile(r"^\d{5}-\d{5}-\d{5}-[A-Za-z]{2}\d{3}$")


# Cyrillic and Greek letters that look like Latin ones: a header copied from a translated UI
# can carry one (Snipe-IT's French "Сatégorie" starts with a Cyrillic С)
_LOOKALIKES = str.maketrans(
    "АВСЕНІЈКМОРЅТХУаеіјорсхуѕΑΒΕΗΙΚΜΝΟΡΤΧΥΖ",
    "ABCEHIJKMOPSTXYaeijopcxysABEHIKMNOPTXYZ",
)


_LETTER_RUN = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-z]")
_OTHER_SCRIPT = re.compile("[\u0370-\u03ff\u0400-\u04ff]")


def _read_lookalikes(text: str) -> str:
    """Look-alike letters read as Latin where the header is Latin: in a word that holds a
    Latin letter ("Сatégorie"), or in any word when every Greek or Cyrillic letter of the
    header is a look-alike ("СОА"). A Greek or Cyrillic header keeps its letters
    ("Серийный номер", "Версия ОС")."""
    translated = text.translate(_LOOKALIKES)
    if _OTHER_SCRIPT.search(translated) is None:
        return translated  # every Greek or Cyrillic letter was a look-alike

    def word(m: re.Match[str]) -> str:
        w = m.group()
        return w.translate(_LOOKALIKES) if _LATIN.search(w) else w

    return _LETTER_RUN.sub(word, text)


@lru_cache(maxsize=65536)
def norm_header(text: str) -> str:
    """The form headers are compared in: accents folded, camelCase split, lower case,
    punctuation as spaces, a ConfigMgr trailing 0 and an SSRS report prefix dropped,
    Latin look-alike letters of other scripts read as Latin where the header is Latin
    (a Greek or Cyrillic header keeps its letters), each Han, kana or Hangul character a
    word (core.text.fold_words: phrases match at any character boundary)."""
    if not text.isascii():
        text = _read_lookalikes(text)
    words = fold_words(_CAMEL.sub(" ", text.replace("_", " ")))
    words = _SSRS.sub("", words)
    return " ".join(_TRAILING_ZERO.sub("", w) for w in words.split())


class _Aliases:
    def __init__(self, data: dict[str, list[str]]) -> None:
        self.table: dict[str, tuple[str, int]] = {}
        self.ignore = frozenset(norm_header(a) for a in data.get("_ignore", []))
        for fname, aliases in data.items():
            if fname.startswith("_"):
                continue
            for rank, alias in enumerate(aliases):
                self.table.setdefault(norm_header(alias), (fname, rank))
            self.table.setdefault(norm_header(fname), (fname, 0))

    def lookup(self, header: str) -> tuple[str, int] | None:
        """(field, rank) for one source header, or None."""
        # a query's table prefix: "v_GS_PC_BIOS.SerialNumber0", "tblAssetCustom.Serialnumber"
        table = _TABLE_PREFIX.match(header.strip())
        if table is not None:
            header = header.strip()[table.end() :]
        norm = norm_header(header)
        if not norm or norm in self.ignore:
            return None
        hit = self.table.get(norm)
        if hit is not None:
            return hit
        # "OSname" split as camelCase reads "o sname": try the header's own words too
        plain = " ".join(_TRAILING_ZERO.sub("", w) for w in fold_words(header).split())
        if plain != norm and plain not in self.ignore:
            hit = self.table.get(plain)
            if hit is not None:
                return hit
        if "(" in header:  # "Serial (from BIOS)", "Edition (COA)"
            bare = norm_header(re.sub(r"\(.*?\)", " ", header))
            if bare in self.ignore:
                return None
            hit = self.table.get(bare)
            if hit is not None:
                return hit
        if " - " in header:  # GLPI: "Operating system - Version" is about the OS
            item = norm_header(header.split(" - ", 1)[0])
            hit = self.table.get(item)
            if hit is not None:
                return hit[0], hit[1] + 100  # weaker than a whole-header match
        return None


@lru_cache(maxsize=4)
def _data(name: str) -> dict[str, Any]:
    """One of the package's TOML data files (importers/data/), parsed once (read only)."""
    return shipped_toml("importers", name)


@lru_cache(maxsize=1)
def _aliases() -> _Aliases:
    return _Aliases(_data("headers.toml"))


# -- headers by meaning (data/header_words.toml) -----------------------------------------------

_DOTTED = re.compile(r"^[A-Za-z][\w]*\.([A-Za-z][\w]*)$")
_BRACKETS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
MIN_MEANING = 8  # a one-word phrase with one unknown word beside it, at least
# a header is a few words: a cell of more (Han, kana and Hangul count one a character) names
# no field, and is never scored (the one bound of every reading by meaning)
MAX_HEADER_WORDS = 40
MAX_HEADER_CHARS = 400


# a Han, kana or Hangul character is a word of its own (core.text.fold_words): a phrase of
# them is shown as it is written ("シリアル番号", not "シ リ ア ル 番 号")
_WIDE_GAP = re.compile(
    r"(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]) "
    r"(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff])"
)


def _as_phrase(words: Sequence[str]) -> str:
    """The words of a phrase found in a header, as a reason quotes them."""
    return _WIDE_GAP.sub("", " ".join(words))


class _Vocabulary:
    """Each field's phrases per language, its qualifiers and the phrases that rule it out;
    see data/header_words.toml for how a header is scored."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.head_first = frozenset(k for k, v in data["languages"].items() if v == "first")
        self.filler = frozenset(fold_words(w) for w in data["filler"])
        self.phrases: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self.qualifiers: dict[str, frozenset[str]] = {}
        # a field's refusing phrases, each as its words (found as a run of the header's)
        self.refuse: dict[str, frozenset[tuple[str, ...]]] = {}
        self.refuse_len = 0
        self.words_of: dict[str, set[str]] = {}  # a phrase word -> the fields it names
        for fname, spec in data["fields"].items():
            if fname not in CANONICAL_FIELDS:
                raise ValueError(f"header_words.toml: unknown field {fname!r}")
            for lang in data["languages"]:
                for phrase in spec.get(lang, []):
                    words = tuple(fold_words(phrase).split())
                    if (fname, lang) not in self.phrases.get(words, []):
                        self.phrases.setdefault(words, []).append((fname, lang))
                    for w in words:
                        self.words_of.setdefault(w, set()).add(fname)
            self.qualifiers[fname] = frozenset(
                w for q in spec.get("qualifiers", []) for w in fold_words(q).split()
            )
            self.refuse[fname] = frozenset(
                tuple(fold_words(r).split()) for r in spec.get("refuse", [])
            )
            self.refuse_len = max(
                [self.refuse_len, *(len(r) for r in self.refuse[fname])], default=0
            )
        self.max_len = max(len(p) for p in self.phrases)
        # every phrase's first words: a run of a header's words that starts no phrase is not
        # read any further (most words start none)
        self.starts = frozenset(p[:k] for p in self.phrases for k in range(1, len(p) + 1))
        self.refuse_starts = frozenset(
            p[:k] for ps in self.refuse.values() for p in ps for k in range(1, len(p) + 1)
        )

    def scores(
        self, words: Sequence[str], notes: Sequence[str], refuse: bool = True
    ) -> dict[str, tuple[int, str]]:
        """field -> (best score, the phrase found) for one header's words (``refuse``: a
        field whose refusing phrases the header holds is ruled out)."""
        best: dict[str, tuple[int, str]] = {}
        n = len(words)
        if n > MAX_HEADER_WORDS or len(notes) > MAX_HEADER_WORDS:
            return best  # a sentence or a pasted blob names no field (and is not read:
            # each phrase found costs the header's length, so a long cell cost its square)
        for i in range(n):
            for j in range(i + 1, min(n, i + self.max_len) + 1):
                run = tuple(words[i:j])
                if run not in self.starts:
                    break
                hits = self.phrases.get(run)
                if not hits:
                    continue
                rest = [*words[:i], *words[j:]]
                for fname, lang in hits:
                    score = 10 * (j - i)
                    if (i == 0) if lang in self.head_first else (j == n):
                        score += 1
                    quals = self.qualifiers[fname]
                    for w in rest:
                        if w in self.filler:
                            continue
                        named = self.words_of.get(w, set())
                        if w in quals:
                            score += 1
                        elif fname in named:
                            continue  # another word of the same field ("OEM Manufacturer")
                        elif named:
                            score -= 4
                        else:
                            score -= 2
                    if score > best.get(fname, (-99, ""))[0]:
                        best[fname] = (score, _as_phrase(words[i:j]))
        if best and refuse:
            for fname in list(best):
                if self.refused(fname, words, notes):
                    del best[fname]
        return best

    def refused(self, fname: str, words: Sequence[str], notes: Sequence[str]) -> bool:
        """True when the header (its notes included) holds a phrase that rules ``fname``
        out: an "OS serial" is no hardware serial, an "installed" edition no licence."""
        phrases = self.refuse.get(fname)
        if not phrases:
            return False
        whole = [*words, *notes]
        n = len(whole)
        for i in range(n):
            for j in range(i + 1, min(n, i + self.refuse_len) + 1):
                run = tuple(whole[i:j])
                if run not in self.refuse_starts:
                    break
                if run in phrases:
                    return True
        return False


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    return _Vocabulary(_data("header_words.toml"))


@dataclass(frozen=True)
class HeaderHit:
    """What one header names: the field, how strongly, and how it was read."""

    field: str
    score: float  # an exact alias: 1000 less its rank; by meaning: the phrase's score
    how: str  # "alias" or "meaning"
    phrase: str = ""


@lru_cache(maxsize=65536)
def classify(header: str) -> HeaderHit | None:
    """The field ``header`` names, by exact alias first, else by meaning; None when it names
    none, or two equally (never guessed)."""
    aliases = _aliases()
    text = header.strip()
    if len(text) > MAX_HEADER_CHARS:
        return None  # no header is that long: a data cell, never read by meaning
    table = _TABLE_PREFIX.match(text)
    if table is not None:
        text = text[table.end() :]
    notes = norm_header(" ".join(_BRACKETS.findall(text))).split()
    main = norm_header(_BRACKETS.sub(" ", text))
    vocab = _vocabulary()
    words = main.split()
    hit = aliases.lookup(header)
    # the whole header an alias: taken; an alias found under a note or an item name still
    # yields to the field's refusals ("Edition (installed)", "Lizenz (OS)")
    if hit is not None and (
        norm_header(text) in aliases.table or not vocab.refused(hit[0], words, notes)
    ):
        return HeaderHit(hit[0], 1000.0 - hit[1], "alias")
    if not main or main in aliases.ignore:
        return None
    if not any(w in vocab.words_of for w in words):
        return None  # most data cells: no word of any field
    ranked = sorted(
        vocab.scores(words, notes).items(),
        key=lambda kv: kv[1][0],
        reverse=True,
    )
    if not ranked or ranked[0][1][0] < MIN_MEANING:
        return None
    if len(ranked) > 1 and ranked[1][1][0] == ranked[0][1][0]:
        return None  # two fields equally: not guessed
    if len(_named_parts(text)) > 1:
        return None  # "Serial / Hostname", "シリアル番号・名前": two fields, never guessed
    fname, (score, phrase) = ranked[0]
    item = _DOTTED.match(text)
    if item is not None and score < 2 * 10:
        # "system.type" (Open-AudIT's table.column): one weak word of the table's name
        # yields to the column's own name when that is an exact alias
        own = aliases.lookup(item.group(1))
        if own is not None:
            return HeaderHit(own[0], 1000.0 - own[1], "alias")
    return HeaderHit(fname, float(score), "meaning", phrase)


# what joins two names in one header: "Serial / Hostname", "Seriennr.|Rechner", "シリアル番号・名前"
_JOINED = re.compile(r"\s*[/|\\／｜・]\s*")


def _named_parts(text: str) -> set[str]:
    """The fields the parts of a header joined by a slash, a bar or a middle dot name, each
    part read alone (by alias, else by meaning)."""
    parts = _JOINED.split(_BRACKETS.sub(" ", text))
    if len(parts) < 2:
        return set()
    aliases, vocab = _aliases(), _vocabulary()
    named: set[str] = set()
    for part in parts:
        norm = norm_header(part)
        if not norm:
            continue
        alias = aliases.table.get(norm)
        if alias is not None:
            named.add(alias[0])
            continue
        scores = vocab.scores(norm.split(), ())
        if scores:
            best, (score, _phrase) = max(scores.items(), key=lambda kv: kv[1][0])
            if score >= MIN_MEANING:
                named.add(best)
    return named


def _field_for(header: str) -> str | None:
    hit = classify(header)
    return hit.field if hit else None


# -- what the values say ---------------------------------------------------------------------

_BUILD = re.compile(r"^\d+(?:\.\d+){1,3}$|^\d{4,5}$|^\d{2}h\d$", re.IGNORECASE)
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SERIALISH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{1,48}$")
_OA3 = re.compile(r"^\s*\[\d+\.\d+\]\s*\S", re.IGNORECASE)
_SOFTWARE = re.compile(
    r"\b(?:microsoft|365|adobe|acrobat|visio|antivirus|sophos|defender|apps for)\b"
    r"|\boffice\s+(?:20\d\d|professional|standard|home|pro|plus|ltsc)\b"
    r"|\bwindows\s+\d|\b(?:enterprise|professional)\s+edition\b",
    re.IGNORECASE,
)


# a value with none of these can name no edition (parse_edition costs ~0.2 ms a value)
_EDITION_HINTS = re.compile(
    r"win|pro|home|enter|educ|server|core|famil|ultimate|business|starter|vista|ltsc|iot|"
    r"hogar|casa|thuis|domow|famiglia|\bxp\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def _edition_score(value: str) -> float:
    """2 for an edition name, 1 for a version alone, -1 for a build number, 0 otherwise."""
    if _BUILD.match(value.strip()):
        return -1.0
    if not _EDITION_HINTS.search(value):
        return 0.0
    ed = parse_edition(value)
    if ed.edition in (None, "unreadable"):
        ed = parse_edition(f"Windows {value}")  # SkuFamily "Professional", GLPI "Famille"
        if ed.edition in (None, "unreadable", "unspecified"):
            return 0.0
    return 1.0 if ed.edition == "unspecified" else 2.0


def _evidence_edition_score(value: str) -> float:
    """An edition on a licence: never drops a column (the audit reads what is there)."""
    return max(0.0, _edition_score(value))


def _could_be_key(value: str) -> bool:
    """``Policy.key_well_formed``, with the values too short to be a key (25 characters of
    the key alphabet, ASCII: upper case can lengthen only other text) set aside first."""
    return (len(value) >= 25 or not value.isascii()) and Policy.key_well_formed(value)


def _key_score(value: str) -> float:
    if _PRODUCT_ID.match(value.strip()):
        return -1.0
    return 1.0 if _could_be_key(value) else 0.0


# identifiers that are no hardware serial: GUIDs, hashes, MAC addresses
_GUID = re.compile(
    r"^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$"
    r"|^[0-9a-f]{32,}$|^(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b",
    re.I,
)


def _serial_score(value: str) -> float:
    v = value.strip()
    if _PRODUCT_ID.match(v) or _could_be_key(v) or _GUID.match(v) or _BUILD.match(v):
        return -1.0
    return 1.0 if _SERIALISH.match(v) and any(c.isdigit() for c in v) else 0.0


def _host_score(value: str) -> float:
    v = value.strip()
    if len(v.split()) > 1 or _PRODUCT_ID.match(v) or _could_be_key(v):
        return -1.0  # "P2000301 - Dell Inc. Latitude 5440": a display name
    return 1.0 if _HOST.match(v) else 0.0


def _tag_score(value: str) -> float:
    v = value.strip()
    if _PRODUCT_ID.match(v) or _could_be_key(v):
        return -1.0
    return 1.0 if len(v.split()) == 1 else 0.0


_PICTURE = re.compile(r"^(?:https?://|www\.)|\.(?:jpe?g|png|gif|bmp|webp|svg|tiff?)$", re.I)


def _image_score(value: str) -> float:
    """A target image, not a photo of the asset (Snipe-IT's "Image" column)."""
    return -1.0 if _PICTURE.search(value.strip()) else 0.0


def _location_score(value: str) -> float:
    return -1.0 if _SOFTWARE.search(value) else 0.0  # "Microsoft 365 Apps for business"


@dataclass(frozen=True)
class _ValueWords:
    """What values are, from data/headers.toml and the policy: how exports write an empty
    cell, the words of a computer's type, the names of systems other than Windows, and the
    policy that says what is no PC."""

    blank: frozenset[str]
    pc_types: frozenset[str]
    os_names: re.Pattern[str]
    policy: Policy


@lru_cache(maxsize=1)
def _value_words() -> _ValueWords:
    from coa_audit.core.policy import load_policy

    data = _data("headers.toml")
    names = "|".join(re.escape(fold_words(w)) for w in data.get("_os_names", ["windows"]))
    return _ValueWords(
        frozenset(v.strip().lower() for v in data.get("_placeholders", [])),
        frozenset(fold_words(v) for v in data.get("_pc_types", [])),
        re.compile(rf"(?:^|\s)(?:{names})(?:\s|\d|$)"),
        load_policy(),
    )


@lru_cache(maxsize=4096)
def _type_score(value: str) -> float:
    """2 for a word naming something that is no PC (printer, switch), 1 for one naming a
    computer (Desktop, Laptop), 0 otherwise ("Unknown", "Latitude")."""
    known = _value_words()
    if known.policy.not_a_pc(value):
        return 2.0
    return 1.0 if fold_words(value) in known.pc_types else 0.0


@lru_cache(maxsize=16384)
def _os_score(value: str) -> float:
    """An installed OS: an edition name 2, a Windows version 1, another system's name
    ("macOS 14", "Ubuntu 22.04") 0.5, a build number -1, anything else 0."""
    score = _edition_score(value)
    if score != 0.0:
        return score
    known = _value_words()
    named = known.os_names.search(fold_words(value)) or known.policy.mobile_os(value)
    return 0.5 if named else 0.0


# field -> (a value's score, what a fitting value is, for "by values" and notices)
_SCORERS: dict[str, tuple[Callable[[str], float], str]] = {
    "current_os": (_os_score, "operating system names"),
    "coa_edition": (_evidence_edition_score, "edition names"),
    "coa_key": (_key_score, "5x5 product keys"),
    "serial_number": (_serial_score, "serial numbers"),
    "hostname": (_host_score, "host names"),
    "asset_tag": (_tag_score, "asset tags"),
    "location": (_location_score, "places"),
    "target_image": (_image_score, "Windows images"),
    "asset_type": (_type_score, "kinds of device"),
}
# fields whose column is dropped when most of its values are another field's shape (the
# others keep their column: the audit says what each cell is, row by row)
_DROPPABLE = frozenset({"current_os", "hostname", "location", "asset_tag", "target_image"})


VALUE_READ_LIMIT = 512  # characters of one value its shape is read from
VALUES_LOOKED_AT = 20  # the first filled values of a column decide for it
# values that cannot be a blank marker ("N/A", "unknown", "-"): letters and digits mixed
# with a dash, as serials, tags and host names are
_NO_BLANK = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9-]+$")


_read_values = threading.local()  # the values read of the rows a mapping looks at now


def _values(col: int, rows: Sequence[Sequence[object]]) -> list[str]:
    """The first filled values of a column (read once per column of the rows at hand: the
    mapping asks for them field by field); see ``_read_values_of``."""
    memo: tuple[object, dict[int, list[str]]] | None = getattr(_read_values, "memo", None)
    if memo is None or memo[0] is not rows:
        memo = (rows, {})
        _read_values.memo = memo
    read = memo[1]
    hit = read.get(col)
    if hit is None:
        hit = read[col] = _read_values_of(col, rows)
    return list(hit)


def _read_values_of(col: int, rows: Sequence[Sequence[object]]) -> list[str]:
    """The first filled values of a column; a cell an export wrote for nothing ("NULL",
    "(null)", "None", "\\N", "-", "N/A": data/headers.toml) is empty."""
    return _first_values(col, rows, VALUES_LOOKED_AT)


def _first_values(col: int, rows: Sequence[Sequence[object]], most: int) -> list[str]:
    """Up to ``most`` of the first filled values of a column, as ``_read_values_of`` reads
    them (a reader that may decide from fewer asks for fewer)."""
    blank = _value_words().blank
    out: list[str] = []
    for r in rows:
        if col < len(r):
            v = r[col]
            v = v if isinstance(v, str) else ("" if v is None else str(v))
            s = v.strip()
            # a blank marker is short: a long value is not read for one (is_blank is slow)
            if not s or s.lower() in blank:
                continue
            if len(v) <= 20 and _NO_BLANK.match(v) is None and is_blank(v):
                continue
            # a value is read for its shape by its start: no scorer is handed a pasted blob
            out.append(v if len(v) <= VALUE_READ_LIMIT else v[:VALUE_READ_LIMIT])
            if len(out) >= most:
                break
    return out


# at least 4 in 5 of a column's first values (and two of them) for a field its values alone
# decide; failing this many of the first, no column of VALUES_LOOKED_AT values reaches it
_OUT_OF_REACH = VALUES_LOOKED_AT // 5 + 1


class HeaderMap(dict[str, int]):
    """Canonical field -> column, with ``why``: for each field not taken by an exact alias,
    how it was read ("by meaning: ...", "by values: ...")."""

    def __init__(
        self,
        mapping: dict[str, int],
        why: dict[str, str] | None = None,
        refused: dict[int, tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(mapping)
        self.why: dict[str, str] = dict(why or {})
        # columns whose header named a field their values contradict, left unmapped:
        # column -> (field, what the values are)
        self.refused: dict[int, tuple[str, str]] = dict(refused or {})


def map_headers(
    headers: Sequence[str],
    overrides: dict[str, str] | None = None,
    rows: Sequence[Sequence[object]] = (),
) -> HeaderMap:
    """Canonical field -> column index. ``overrides`` (header or column letter -> field, or
    "-" to unmap) win over everything. Each header names a field by exact alias or by
    meaning; where several columns could take a field, the values in ``rows`` (the first
    rows below the header) decide: an empty column never wins over a full one, a column
    whose values are mostly another field's shape loses, then the better-fitting values,
    then the stronger header, then the first column. Fields the headers leave open are
    then taken by values alone where the values cannot be anything else (5x5 keys, OA3
    key descriptions)."""
    mapping: dict[str, int] = {}
    why: dict[str, str] = {}
    overrides = overrides or {}
    forced: dict[int, str | None] = {}
    for key, fname in overrides.items():
        col = _find_column(headers, key)
        if col is None:
            raise KeyError(key)
        forced[col] = None if fname in ("-", "", "none") else fname
    for fname in {f for f in forced.values() if f}:
        mapping[fname] = next(c for c, f in forced.items() if f == fname)
    candidates: dict[str, list[tuple[int, HeaderHit]]] = {}
    moved: dict[int, str] = {}  # columns a header gave one field and their values another
    for col, header in enumerate(headers):
        if col in forced:
            continue
        hit = classify(str(header))
        if hit is None or hit.field in mapping:
            continue
        if hit.field in ("coa_edition", "coa_present") and "coa_key" not in mapping:
            # "Windows licence" holds the key in some tools (OCS): 5x5 keys decide
            values = _values(col, rows)
            keys = sum(1 for v in values if _could_be_key(v))
            if len(values) >= 2 and keys * 5 >= len(values) * 4:
                hit = HeaderHit("coa_key", hit.score, hit.how, hit.phrase)
                moved[col] = f"by values: {keys} of {len(values)} values are 5x5 product keys"
        candidates.setdefault(hit.field, []).append((col, hit))
    refused: dict[int, tuple[str, str]] = {}
    for fname, cands in candidates.items():
        lost: dict[int, str] = {}
        chosen = _choose(fname, cands, headers, rows, lost)
        refused.update((c, (fname, why)) for c, why in lost.items())
        if chosen is None:
            continue
        col, reason = chosen
        mapping[fname] = col
        if reason:
            why[fname] = reason
        if col in moved:
            why[fname] = "; ".join(r for r in (moved[col], why.get(fname, "")) if r)
    _by_values(headers, rows, mapping, why, set(forced))
    # said only where the field stays without a column (another column took it: no news)
    taken = set(mapping.values())
    refused = {c: r for c, r in refused.items() if c not in taken and r[0] not in mapping}
    return HeaderMap({f: mapping[f] for f in CANONICAL_FIELDS if f in mapping}, why, refused)


# an object or issue key (Jira Assets "ITAM-1042", a ticket "INC-0042"): no product key
_OBJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,15}-\d{1,9}$")
# a column of host names holds nearly as many names as rows: one of fewer distinct values,
# each repeated, is a state or a kind ("Active", "Retired")
_DISTINCT_FIELDS = frozenset({"hostname"})  # repeated serials are duplicates: said per row


def _misfit(fname: str, values: list[str], each: list[float]) -> str | None:
    """Why a column whose header names ``fname`` cannot hold it, said of its values ("are
    ..."), or None when they may."""
    if not values:
        return None
    if fname in _DROPPABLE and sum(1 for x in each if x < 0) * 2 > len(values):
        what = _SCORERS.get(fname, (None, "values"))[1]
        return f"are mostly not {what} ({_quoted(values, lambda v: v)})"
    if fname in _DISTINCT_FIELDS and len(values) >= 4:
        distinct = {v.strip().lower() for v in values}
        if len(distinct) * 2 <= len(values) and all(len(v.split()) <= 2 for v in distinct):
            shown = _quoted(values, lambda v: v)
            return f"repeat a few words ({shown}), as a state or a kind does"
    if fname == "current_os" and len(values) >= 2 and max(each) <= 0:  # one cell: too little
        return f"name no operating system ({_quoted(values, lambda v: v)})"
    if fname == "coa_key":
        keys = sum(1 for v in values if _could_be_key(v))
        if not keys and all(_PRODUCT_ID.match(v.strip()) for v in values):
            return f"are Windows product IDs ({_quoted(values, lambda v: v)}), not product keys"
        objects = [v for v in values if _OBJECT_KEY.match(v.strip())]
        if not keys and len(objects) * 5 >= len(values) * 4:
            return f"are object or issue keys ({_quoted(objects, lambda v: v)}), not 5x5 keys"
    return None


def _quoted(values: list[str], show: Callable[[str], str], most: int = 2) -> str:
    """A few distinct values, quoted, for a reason."""
    seen: list[str] = []
    for v in values:
        v = show(v.strip())[:24]
        if v not in seen:
            seen.append(v)
        if len(seen) >= most:
            break
    return ", ".join(repr(v) for v in seen)


def _choose(
    fname: str,
    cands: list[tuple[int, HeaderHit]],
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    refused: dict[int, str] | None = None,
) -> tuple[int, str] | None:
    """The column that takes ``fname`` among the columns whose header names it, and why
    (empty when its header alone said so). A column whose values contradict the field
    (``_misfit``) is out; ``refused`` gets why, by column."""
    scored = []
    out: dict[int, str] = {}
    scorer = _SCORERS.get(fname)
    for col, hit in cands:
        values = _values(col, rows)
        each = [scorer[0](v) for v in values] if scorer is not None else []
        misfit = _misfit(fname, values, each)
        if misfit is not None:
            out[col] = misfit
            continue
        fit = sum(each) / len(each) if each else 0.0
        scored.append(((bool(values), fit, hit.score, -col), col, hit, values))
    if refused is not None:
        refused.update(out)
    if not scored:
        return None
    scored.sort(reverse=True)
    (_has, fit, _s, _c), col, hit, _vals = scored[0]
    reasons = []
    if hit.how == "meaning":
        reasons.append(f"by meaning: the words {hit.phrase!r}")
    # the values changed the outcome when a column with a stronger header lost to this one
    stronger = [(c, h) for c, h in cands if (h.score, -c) > (hit.score, -col)]
    if stronger:
        kept = {c: (k[1], v) for k, c, _h, v in scored}
        what = _SCORERS.get(fname, (None, "values"))[1]
        parts = []
        for c, _h in stronger:
            name = repr(str(headers[c]))
            if c in out:
                unlike = f"are mostly not {what} "
                said = "do not " + out[c][len(unlike) :] if out[c].startswith(unlike) else out[c]
                parts.append(f"its values look like {what}, those of {name} {said}")
            elif not kept[c][1]:
                parts.append(f"{name} is empty")
            elif kept[c][0] < fit:
                parts.append(f"its values look more like {what} than those of {name}")
        if parts:
            reasons.append("by values: " + "; ".join(parts))
    return col, "; ".join(reasons)


# a header naming another product: its keys are that product's (fail closed)
_OTHER_SOFTWARE = re.compile(
    r"office|visio|project|sql|exchange|adobe|acrobat|autocad|antivir|sophos|kaspersky|"
    r"mcafee|symantec|eset|vmware|citrix|veeam|backup|m365|o365|365",
    re.IGNORECASE,
)


def _by_values(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    mapping: dict[str, int],
    why: dict[str, str],
    forced: set[int],
) -> None:
    """Fields no header named, taken by a column whose header names nothing and whose
    values can be nothing else: 5x5 product keys, OA3 key descriptions ("[4.0] Professional
    OEM:DM"). An edition name could be the installed OS or the licence: never guessed."""
    taken = set(mapping.values()) | forced
    tests: tuple[tuple[str, Callable[[str], bool], str], ...] = (
        ("coa_key", _could_be_key, "5x5 product keys"),
        ("oa3_edition", lambda v: bool(_OA3.match(v)), "OA3 key descriptions"),
    )
    columns = [
        col
        for col, header in enumerate(headers)
        if col not in taken
        and classify(str(header)) is None
        # "Office SN", "Visio key": another product's keys, never Windows
        and not _OTHER_SOFTWARE.search(str(header))
    ]
    for col in columns:
        open_tests = [t for t in tests if t[0] not in mapping]
        if not open_tests:
            break
        # the first few values rule most columns out for every test at once; only a column
        # that could still pass is read in full (the rule is then taken exactly)
        first = _first_values(col, rows, _OUT_OF_REACH)
        for fname, test, what in open_tests:
            if len(first) == _OUT_OF_REACH and not any(test(v) for v in first):
                continue
            values = _values(col, rows)
            fits = sum(1 for v in values if test(v))
            if len(values) >= 2 and fits * 5 >= len(values) * 4:
                mapping[fname] = col
                why[fname] = f"by values: {fits} of {len(values)} values are {what}"
                break


_EVIDENCE_FIELDS = ("coa_present", "coa_edition", "oa3_edition", "coa_key")
_EVIDENCE_WORDS = frozenset(
    [
        "yes",
        "no",
        "y",
        "n",
        "ja",
        "nein",
        "oui",
        "non",
        "si",
        "sim",
        "nao",
        "tak",
        "nie",
        "coa",
        "gml",
        "oa3",
        "label",
        "sticker",
        "present",
        "missing",
    ]
)


_EDITION_FIELDS = ("coa_edition", "oa3_edition")


def field_candidates(
    headers: Sequence[str], rows: Sequence[Sequence[object]], mapping: dict[str, int]
) -> dict[str, list[int]]:
    """For the serial number and the licence evidence (or, when a COA column is mapped, the
    edition on the licence), when no column is mapped to them,
    the unmapped columns most like them (up to three, best first): by a header that names
    the field but was ruled out or scored too low, then by values of the field's shape."""
    taken = set(mapping.values())
    out: dict[str, list[int]] = {}
    vocab = _vocabulary()
    needs: list[tuple[str, tuple[str, ...], Callable[[str], float]]] = []
    if "serial_number" not in mapping:
        needs.append(("serial_number", ("serial_number",), _serial_score))
    if not any(f in mapping for f in _EVIDENCE_FIELDS):

        def evidence(v: str) -> float:
            if _could_be_key(v) or _OA3.match(v) or _edition_score(v) > 0:
                return 1.0
            return 1.0 if set(norm_header(v).split()) & _EVIDENCE_WORDS else 0.0

        needs.append(("evidence", _EVIDENCE_FIELDS, evidence))
    elif "coa_present" in mapping and not any(f in mapping for f in _EDITION_FIELDS):

        def edition(v: str) -> float:
            # an edition name could be the installed OS's: never offered by its values
            return 1.0 if _OA3.match(v) else 0.0

        needs.append(("edition", _EDITION_FIELDS, edition))
    for need, fields, score in needs:
        ranked = []
        for col, header in enumerate(headers):
            if col in taken:
                continue
            words = norm_header(_BRACKETS.sub(" ", str(header))).split()
            named = any(f in fields for f in vocab.scores(words, (), refuse=False))
            values = _values(col, rows)
            fit = sum(1 for v in values if score(v) > 0) / len(values) if values else 0.0
            if named or fit >= 0.5:
                ranked.append((named, fit, -col))
        ranked.sort(reverse=True)
        if ranked:
            out[need] = [-c for _n, _f, c in ranked[:3]]
    return out


def _find_column(headers: Sequence[str], key: str) -> int | None:
    for col, header in enumerate(headers):
        if header == key:
            return col
    norm = norm_header(key)
    for col, header in enumerate(headers):
        if norm_header(str(header)) == norm:
            return col
    return None


def find_header(
    rows: Sequence[Sequence[str]], overrides: dict[str, str] | None = None
) -> tuple[int, int] | None:
    """(index of the best header row among ``rows``, its score) or None when no row names
    an inventory's fields in words: at least two mapped columns, one of them identifying a
    device or carrying its evidence. The score counts mapped columns, not distinct fields,
    so a file whose identity columns are two serial aliases is still found. Headers named
    in ``overrides`` (--map) count as the fields they are mapped to."""
    forced = {norm_header(k): f for k, f in (overrides or {}).items() if f not in ("-", "none")}
    best: tuple[int, int] | None = None
    lone: tuple[int, int] | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [v for v in row if isinstance(v, str) and v.strip()]
        mapped = [f for f in (forced.get(norm_header(v)) or _field_for(v) for v in cells) if f]
        score = len(mapped)
        if not set(mapped) & _ANCHOR_FIELDS:
            continue
        if score >= 2 and (best is None or score > best[1]):
            best = (i, score)
        elif score == 1 and lone is None and len(cells) >= 3 and mapped[0] == "serial_number":
            lone = (i, score)  # an Autopilot CSV: one serial column beside hashes and IDs
    return best or lone


# -- the header row by its structure -----------------------------------------------------------

_NUMBERISH = re.compile(r"^[\d\s.,:/%+-]+$")
_SHAPE_RUNS = re.compile(r"[A-Z]+|[a-z]+|\d+|\s+")
DATA_ROWS_LOOKED_AT = 20  # the rows below a candidate header that its columns are judged by


@lru_cache(maxsize=65536)
def _shape(cell: str) -> str:
    """A cell's outline: runs of capitals, small letters, digits and blanks as one mark
    each, punctuation kept ("CON-LT-0101" -> "A-A-9", "Device name" -> "Aa a")."""

    def mark(m: re.Match[str]) -> str:
        run = m.group()
        if run[0].isdigit():
            return "9"
        if run[0].isspace():
            return " "
        return "A" if run[0].isupper() else "a"

    text = cell.strip()
    if not text.isascii():  # letters of any script: upper, lower or neither
        text = "".join(
            "A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c for c in text
        )
    return _SHAPE_RUNS.sub(mark, text)


def _filled(row: Sequence[object]) -> dict[int, str]:
    return {c: v.strip() for c, v in enumerate(row) if isinstance(v, str) and v.strip()}


@dataclass(frozen=True)
class _Columns:
    """What the rows below a candidate header hold, per column: the values, their most
    common outline and how many values share it."""

    values: dict[int, list[str]]
    shape: dict[int, tuple[str, int]]


def _columns_below(rows: Sequence[Sequence[object]], start: int) -> _Columns:
    values: dict[int, list[str]] = {}
    seen = 0
    for row in rows[start:]:
        cells = _filled(row)
        if not cells:
            continue
        seen += 1
        for c, v in cells.items():
            values.setdefault(c, []).append(v)
        if seen >= DATA_ROWS_LOOKED_AT:
            break
    shape = {}
    for c, vals in values.items():
        counts: dict[str, int] = {}
        for v in vals:
            k = _shape(v)
            counts[k] = counts.get(k, 0) + 1
        top = max(counts.items(), key=lambda kv: kv[1])
        shape[c] = top
    return _Columns(values, shape)


@dataclass(frozen=True)
class RowReading:
    """How one row reads as the header of the rows below it: columns whose cell differs
    from the values below (a name over values), columns whose cell is like them (a value
    among values), and the share of the columns below that it names."""

    differs: int
    alike: int
    cover: float
    text: bool  # every cell is short text, not a number or a date, and no two are the same

    @property
    def header(self) -> bool:
        return self.text and self.cover >= 0.5 and self.differs >= 1 and self.differs > self.alike

    @property
    def data(self) -> bool:
        return self.alike > 0 and (not self.text or self.alike >= self.differs)


def read_row(rows: Sequence[Sequence[object]], i: int) -> RowReading | None:
    """``rows[i]`` judged against the rows below it; None when it has under two cells or
    no row with values follows."""
    cells = _filled(rows[i])
    if len(cells) < 2:
        return None
    below = _columns_below(rows, i + 1)
    if not below.values:
        return None
    differs = alike = 0
    for c, v in cells.items():
        vals = below.values.get(c)
        if not vals:
            continue
        top, count = below.shape[c]
        if v in vals:
            alike += 1  # a name never repeats as a value of its own column
        elif _shape(v) == top and count * 5 >= len(vals) * 3:
            alike += 1
        else:
            differs += 1
    texts = [v for v in cells.values() if len(v) <= 60 and not _NUMBERISH.match(v)]
    distinct = len({norm_header(v) or v for v in cells.values()}) == len(cells)
    cover = sum(1 for c in below.values if c in cells) / len(below.values)
    return RowReading(differs, alike, cover, len(texts) == len(cells) and distinct)


def header_by_structure(rows: Sequence[Sequence[object]]) -> int | None:
    """The header row when no row names fields in known words: a row of distinct short
    texts over most of the columns below, whose cells differ in outline from the values
    under them (a name over values) more often than they resemble them. A title above the
    header covers too few columns; the first row of a file with no header is like the rows
    below it. None when no row reads as a header."""
    best: tuple[tuple[int, float], int] | None = None
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        cells = _filled(rows[i]).values()
        if len(cells) < 2 or any(len(v) > 60 or _NUMBERISH.match(v) for v in cells):
            continue  # no row of names: not worth reading the rows below
        reading = read_row(rows, i)
        if reading is None:
            continue
        if not reading.header:
            if reading.data and best is not None:
                break  # the values under the header have begun
            continue
        key = (reading.differs - reading.alike, reading.cover)
        if best is None or key > best[0]:
            best = (key, i)
    return None if best is None else best[1]


def first_data_row(rows: Sequence[Sequence[object]]) -> int | None:
    """When the file has no header at all: the index of its first row of two cells or more
    (a title may stand above it), if that row is like the rows below it (values among
    values); else None."""
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        if len(_filled(rows[i])) >= 2:  # a title above the table is no row of it
            reading = read_row(rows, i)
            return i if reading is not None and reading.data else None
    return None


def group_row(rows: Sequence[Sequence[object]], upper: int, lower: int) -> bool:
    """True when ``rows[upper]`` groups the header cells of ``rows[lower]`` below it: titles
    each over a header cell, at least two of them or one that does not start the row, at
    least one spanning the empty cells to its right (a merged cell), fewer than the cells
    below, none a number."""
    if upper < 0 or lower >= len(rows):
        return False
    top, low = _filled(rows[upper]), _filled(rows[lower])
    if not top or len(top) >= len(low) or any(c not in low for c in top):
        return False
    if any(_NUMBERISH.match(v) or len(v) > 60 for v in top.values()):
        return False
    if len(top) == 1 and min(top) == min(low):
        return False  # a title over the whole table
    return any(c + 1 in low and c + 1 not in top for c in top)


def combine_headers(upper: Sequence[object], lower: Sequence[object]) -> list[str]:
    """Two header rows as one: each group title (a merged cell spans the empty cells to its
    right) before the labels under it ("COA label" over "Yes/No" -> "COA label Yes/No").
    Where the combined text names no field and the label alone does, the label alone."""
    width = max(len(upper), len(lower))
    out: list[str] = []
    title = ""
    for c in range(width):
        above = upper[c] if c < len(upper) else ""
        below = lower[c] if c < len(lower) else ""
        up = above.strip() if isinstance(above, str) else ""
        low = below.strip() if isinstance(below, str) else ""
        if up:
            title = up
        if not low:
            out.append(up)
            title = title if up else ""
            continue
        whole = f"{title} {low}" if title else low
        if title and classify(whole) is None and classify(low) is not None:
            whole = low
        out.append(whole)
    return out


@dataclass(frozen=True)
class HeaderRow:
    """Where a file's header is: its row (the lower one when the header is two rows), how
    it was found ("words": cells name fields; "layout": by its structure alone), the score
    of its words, and the row of group titles above it, if any."""

    row: int
    how: str
    score: int = 0
    upper: int | None = None


def locate_header(
    rows: Sequence[Sequence[str]], overrides: dict[str, str] | None = None
) -> HeaderRow | None:
    """The header of ``rows``: by the fields its words name (``find_header``), else by its
    structure (``header_by_structure``); with the row of group titles above it when there
    is one (``group_row``). None when no row reads as a header."""
    found = find_header(rows, overrides)
    if found is not None:
        row, how, score = found[0], "words", found[1]
    else:
        by_layout = header_by_structure(rows)
        if by_layout is None:
            return None
        row, how, score = by_layout, "layout", 0
    if group_row(rows, row - 1, row):
        return HeaderRow(row, how, score, row - 1)
    if group_row(rows, row, row + 1):
        below = read_row(rows, row + 1)
        if below is not None and below.header:  # the titles were taken for the header
            return HeaderRow(row + 1, how, score, row)
    return HeaderRow(row, how, score)


def header_candidates(rows: Sequence[Sequence[str]], limit: int = 3) -> list[int]:
    """When no row is an inventory's header: the rows most like one (best first). A header
    is a row of several short text cells, none of them a number or a date, above rows with
    values; a cell that names a field (even weakly) counts three times, a row whose cells
    differ from the values below them gains, one like them loses."""
    ranked = []
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [c.strip() for c in row if isinstance(c, str) and c.strip()]
        if len(cells) < 2:
            continue
        texts = [c for c in cells if len(c) <= 60 and not _NUMBERISH.match(c)]
        named = sum(1 for c in texts if _named_weakly(c))
        below = sum(1 for r in rows[i + 1 : i + 4] if sum(1 for c in r if str(c).strip()) >= 2)
        score = len(texts) + 3 * named + (2 if below else 0) - (len(cells) - len(texts))
        reading = read_row(rows, i)
        if reading is not None:
            score += reading.differs - reading.alike
        ranked.append((score, -i))
    ranked.sort(reverse=True)
    return [-i for _s, i in ranked[:limit]]


def _named_weakly(cell: str) -> bool:
    words = norm_header(_BRACKETS.sub(" ", cell)).split()
    return bool(words) and bool(_vocabulary().scores(words, (), refuse=False))


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["Header=field", ...] -> {header: field}; raises ValueError with a readable message."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, fname = item.rpartition("=")
        header, fname = header.strip(), fname.strip()
        if not sep or not header:
            raise UsageError(f'--map {item!r}: write it as "Source header=field"')
        if fname not in CANONICAL_FIELDS and fname not in ("-", "none"):
            raise UsageError(
                f"--map {item!r}: unknown field {fname!r}; fields are {', '.join(CANONICAL_FIELDS)}"
            )
        out[header] = fname
    return out
