"""Read free-text Windows edition names into (family, version, edition, variant).

A cell is read whole (RULES §2, §7): it is split into words, the grammar consumes every word
(an edition phrase, a version, a release or build, or a word of the closed harmless lists), and
the reading is accepted only when nothing is left over. Words left over are kept in
``ParsedEdition.unread`` and quoted in the note; the edition is then "unreadable" (review).

The engine is small on purpose: the words it knows live in ``data/editions.toml``. Parsing is
pure and cached per distinct text, so a million rows that repeat a few dozen edition strings
cost a few dozen parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from coa_audit.core.files import shipped_toml
from coa_audit.core.text import as_written, fold, split_scripts

__all__ = [
    "ParsedEdition",
    "is_blank",
    "is_empty",
    "parse_edition",
    "quote_words",
    "stray_symbols",
    "suggestions",
]


@dataclass(frozen=True, slots=True)
class ParsedEdition:
    """What the parser read from one edition text (the verdict comes from the policy)."""

    text: str
    family: str | None  # windows, windows-server, macos, linux, chromeos, none, virtual
    version: str | None  # "7", "8.1", "10", "11", "xp", ...
    edition: str | None  # policy id: "pro", "home", "enterprise", ... ; None when blank
    variant: str | None  # "n", "kn", "s mode", ...
    note: str | None = None  # why the text is ambiguous or not read, when it is
    release: str | None = None  # LTSC/LTSB release year ("2019"), compared before versions
    unread: tuple[str, ...] = ()  # words the grammar could not place, as written

    @property
    def key(self) -> str:
        """The policy id this text is rated by ("unreadable" when nothing was read)."""
        return self.edition or "unreadable"


def quote_words(words: tuple[str, ...] | list[str]) -> str:
    """Words not understood, as a message quotes them: 'label damaged'."""
    return "'" + " ".join(words) + "'"


@dataclass(frozen=True, slots=True)
class _Rule:
    all: tuple[tuple[str, ...], ...]
    any: tuple[tuple[str, ...], ...]
    none: tuple[tuple[str, ...], ...]
    family: str
    edition: str
    note: str | None


def _phrases(items: list[str]) -> list[tuple[str, ...]]:
    return [tuple(p.split()) for p in items if p.split()]


class _Tables:
    def __init__(self, data: dict[str, Any]) -> None:
        self.blank = frozenset(data["blank"])
        self.empty = frozenset(w.casefold() for w in data.get("empty", []))
        self.rewrites = [(re.compile(r["pattern"]), r["to"]) for r in data["rewrite"]]
        self.synonyms: dict[str, str] = data["synonyms"]
        dg = data["downgrade"]
        self.base_after = frozenset(_phrases(dg["base_after"]))
        self.base_before = frozenset(_phrases(dg["base_before"]))
        self.upgrade = frozenset(_phrases(data["clauses"]["upgrade"]))
        self.covers = {k: frozenset(v) for k, v in dg["covers"].items()}
        self.oa3_tag = re.compile(data["oa3"]["tag"])
        self.edition_versions = {k: tuple(v) for k, v in data["edition_versions"].items()}
        self.versions: dict[str, str] = data["versions"]
        self.win11_build: int = data["builds"]["windows11_min_build"]
        self.kernel_versions = frozenset(data["builds"]["kernel_versions"])
        self.bare_version: dict[str, str] = data["bare_version"]
        self.legacy_versions = frozenset(data["legacy"]["versions"])
        self.legacy_edition: str = data["legacy"]["edition"]
        self.version_editions: dict[str, str] = data["version_editions"]
        self.suggestions: dict[str, list[str]] = data.get("suggestions", {})
        ctx = data["context"]
        self.needs_context = frozenset(ctx["needs_windows_context"])
        self.other_products = tuple(_phrases(ctx["other_products"]))
        self.edition_ids = frozenset(i.lower() for i in ctx["edition_ids"])
        # edition IDs whose words are not their camelCase parts ("EnterpriseS": LTSC)
        self.id_words = {k.lower(): v for k, v in data["edition_id_words"].items()}
        self.ltsc_releases: dict[str, str] = data["ltsc_releases"]
        self.rules = [
            _Rule(
                all=tuple(_phrases(r.get("all", []))),
                any=tuple(_phrases(r.get("any", []))),
                none=tuple(_phrases(r.get("none", []))),
                family=r["family"],
                edition=r["edition"],
                note=r.get("note"),
            )
            for r in data["rule"]
        ]
        grammar = data["grammar"]
        self.separators = frozenset(grammar["separators"])
        self.release_patterns = re.compile(
            "|".join(f"(?:{p})" for p in grammar["release_patterns"])
        )
        heads = data["heads"]
        self.head_words = frozenset(_phrases(heads["words"]))
        self.head_combos = frozenset(frozenset(c) for c in heads["combos"])
        self.lenient = frozenset(data["lenient"]["families"])
        # phrase -> category; edition words (named by the rules) win over the harmless lists
        table: dict[tuple[str, ...], str] = {}
        for category in ("filler", "maker", "release", "language", "channel", "architecture"):
            for p in _phrases(grammar[category]):
                table[p] = category
        for p in _phrases(grammar["product"]):
            table[p] = "product"
        for y in self.ltsc_releases:
            table[(y,)] = "release"
        for v in self.versions:
            table[(v,)] = "version"
        for rule in self.rules:
            for p in (*rule.all, *rule.any, *rule.none):
                table[p] = "edition"
        for p in self.head_words:
            table[p] = "edition"
        for p in _phrases(
            ["n", "kn", "k", "g", "gn", "s mode", "in s mode", "premium", "basic", "connected"]
        ):
            table[p] = "edition"
        for p in self.base_after | self.base_before | self.upgrade:
            table[p] = "clause"
        self.table = table
        self.longest = max(len(p) for p in table)


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    return _Tables(shipped_toml("core", "editions.toml"))


_MARKS = re.compile(r"®|™|©|\((?:r|tm|c)\)|\bmicrosoft\b", re.IGNORECASE)
_IOT = re.compile(r"(?<![a-z])iot", re.IGNORECASE)  # "IoT" is one word, not "Io T"
# Letters and a Windows version run together ("Win10Pro", "W7P", "Win8.1"): split them. Other
# letter-digit runs stay whole, so a model name ("G7", "T480s", "840G7") is never a version.
_WIN_PREFIX = re.compile(r"(?<![a-z])(windows|win|w)(?=(?:xp|vista|\d))")
_VERSION_TAIL = re.compile(r"(?<![a-z0-9.])(xp|vista|7|8\.1|8|10|11)(?=[a-z])")
# Word breaks: anything but letters, digits and a dot between digits. Letters of any script
# stay words ("专业版", "повреждена"): a word the grammar does not know is never dropped.
_NON_WORD = re.compile(r"[^\w.]+|_+|(?<!\d)\.|\.(?!\d)")
_BUILD = re.compile(r"^(?:build)?(?:10\.0\.)?(\d{5})(?:\.\d+)?$")
_KERNEL = re.compile(r"^(\d{1,2}\.\d)\.\d{4,5}(?:\.\d+)?$")
_CHANNEL = re.compile(r"\b(?:OEM|Retail|Volume):[A-Za-z_]+", re.IGNORECASE)
_RAW_SPLIT = re.compile(r"[^\w.]+|(?<!\d)\.|\.(?!\d)")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _folded_words(text: str) -> list[str]:
    text = _WIN_PREFIX.sub("windows ", fold(text))
    return _NON_WORD.sub(" ", _VERSION_TAIL.sub(r"\1 ", text)).split()


def _split_ids(text: str, t: _Tables) -> str:
    """Split words written together in camelCase when every part is a word the grammar knows
    ("ProfessionalN", "ServerStandardEval", "windows10MobileEnterprise"), and the edition IDs
    whose parts say something else ("EnterpriseS" is Enterprise LTSC); anything else stays
    one word, so "ProBook", "ThinPro" and "ProDesk" are never read as Pro."""
    parts = _RAW_SPLIT.split(text)
    out: list[str] = []
    changed = False
    for part in parts:
        words = t.id_words.get(part.lower())
        if words is None and _CAMEL.search(part) and (fold(part),) not in t.table:
            pieces = _CAMEL.sub(" ", part)
            folded = [w for f in _folded_words(pieces) for w in t.synonyms.get(f, f).split()]
            runs = _consume(tuple(folded), t)
            if all(cat != "unread" for cat, _ in runs):
                words = pieces
        changed |= words is not None
        out.append(part if words is None else words)
    return " ".join(out) if changed else text


def normalise(text: str) -> str:
    """Lower-case, accents folded, edition IDs and Windows versions split from the words
    around them, marks and punctuation dropped."""
    t = _tables()
    text = _split_ids(_IOT.sub(" iot ", _MARKS.sub(" ", text)), t)
    text = _WIN_PREFIX.sub("windows ", split_scripts(fold(text)))
    text = _VERSION_TAIL.sub(r"\1 ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def is_empty(text: str) -> bool:
    """True when a cell holds no value: nothing but spaces, or what an export writes for no
    value ("NULL", "(null)", "\\N", "None", "#N/A": the ``empty`` list of the editions data,
    compared whole as written). The one test every reader of a cell starts from."""
    stripped = text.strip()
    return not stripped or stripped.casefold() in _tables().empty


@lru_cache(maxsize=65536)
def is_blank(text: str) -> bool:
    """True when an edition cell records nothing ("", "N/A", "unknown", "-", an export's
    "NULL")."""
    return True if is_empty(text) else normalise(text) in _tables().blank


def _has(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in tokens
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


@dataclass(frozen=True, slots=True)
class _Reading:
    """One run of words read by the grammar."""

    words: tuple[str, ...]  # the words that name something (product, version, edition)
    unread: tuple[str, ...]  # the words nothing consumed
    versions: frozenset[str]  # distinct versions named (a build >= 22000 names 11)
    heads: frozenset[str]  # edition words


def _consume(tokens: tuple[str, ...], t: _Tables) -> list[tuple[str, tuple[str, ...]]]:
    """Longest-match the tokens against the grammar: (category, phrase) for each run, with
    category "unread" for a word nothing consumes."""
    out: list[tuple[str, tuple[str, ...]]] = []
    i, n, table = 0, len(tokens), t.table
    while i < n:
        for size in range(min(t.longest, n - i), 0, -1):
            cat = table.get(tokens[i : i + size])
            if cat is not None:
                out.append((cat, tokens[i : i + size]))
                i += size
                break
        else:
            tok = tokens[i]
            out.append(("release" if t.release_patterns.match(tok) else "unread", (tok,)))
            i += 1
    return out


def _read(runs: list[tuple[str, tuple[str, ...]]], t: _Tables) -> _Reading:
    words: list[str] = []
    unread: list[str] = []
    versions: set[str] = set()
    kernels: set[str] = set()  # "6.3": a version only when no version word is named
    build11 = False  # a build number >= 22000: Windows 11 whatever the version word says
    heads: set[str] = set()
    # an LTSC release year is a release only in a cell that says LTSC ("Windows 2019 Pro" is
    # not Windows 10 Pro LTSC 2019: a year beside an edition is not understood)
    ltsc = any("ltsc" in phrase for _cat, phrase in runs)
    for cat, phrase in runs:
        if cat == "release" and not ltsc and len(phrase) == 1 and phrase[0] in t.ltsc_releases:
            cat = "unread"
        if cat == "unread":
            unread.extend(phrase)
            continue
        if cat in ("product", "version", "edition", "release"):
            words.extend(phrase)
        if cat == "version":
            tok = phrase[0]
            (kernels if tok in t.kernel_versions else versions).add(t.versions[tok])
        elif cat == "release" and len(phrase) == 1:
            tok = phrase[0]
            build = _BUILD.match(tok)
            kernel = _KERNEL.match(tok)
            if build and int(build.group(1)) >= t.win11_build:
                build11 = True
            elif kernel and kernel.group(1) in t.versions:
                versions.add(t.versions[kernel.group(1)])
        elif cat == "edition" and phrase in t.head_words:
            heads.add(" ".join(phrase))
    versions = versions or kernels
    if build11 and versions <= {"10", "11"}:  # "Windows 10 Pro 10.0.22631": the registry's 11
        versions = {"11"}
    return _Reading(tuple(words), tuple(unread), frozenset(versions), frozenset(heads))


def _windows_context(text: str, tokens: tuple[str, ...], version: str | None, t: _Tables) -> bool:
    """Does the text say it is about Windows? A Windows word (Win, W10...), XP or Vista, an OA3
    key description ("[4.0] Professional OEM:DM"), a licence channel, or a Windows edition ID
    written whole ("ProfessionalN"). A bare number is not Windows context ("Professional 7")."""
    if "windows" in tokens or version in ("xp", "vista"):
        return True
    if t.oa3_tag.match(text) or _CHANNEL.search(text):
        return True
    stripped = text.strip()
    return stripped.isalpha() and stripped.lower() in t.edition_ids


def _unreadable(text: str, note: str, unread: tuple[str, ...] = ()) -> ParsedEdition:
    return ParsedEdition(text, None, None, "unreadable", None, note, None, unread)


_VARIANTS = (("kn",), ("n",), ("s", "mode"), ("g",))
# Categories of words that say nothing about which edition a cell names.
_HARMLESS = frozenset({"filler", "maker", "language", "channel", "architecture"})


def _classify(text: str, reading: _Reading, t: _Tables) -> ParsedEdition:
    """The edition one reading names (its words all understood, or a lenient family)."""
    tokens = reading.words
    if len(reading.versions) > 1:
        named = ", ".join(sorted(reading.versions))
        return _unreadable(text, f"it names more than one Windows version ({named})")
    version = next(iter(reading.versions), None)
    release = None
    if "ltsc" in tokens:
        release = next((tok for tok in tokens if tok in t.ltsc_releases), None)
        if release is not None and version is None:
            version = t.ltsc_releases[release]
    variant = next((" ".join(v) for v in _VARIANTS if _has(tokens, v)), None)
    for rule in t.rules:
        if rule.none and any(_has(tokens, p) for p in rule.none):
            continue
        if rule.all and not all(_has(tokens, p) for p in rule.all):
            continue
        if rule.any and not any(_has(tokens, p) for p in rule.any):
            continue
        family = rule.family
        if reading.unread and family not in t.lenient:
            break  # words left over: the Windows reading is not accepted (below)
        if rule.edition == "virtual-machine":
            return ParsedEdition(text, family, None, rule.edition, None, unread=reading.unread)
        if family in t.lenient:
            return ParsedEdition(
                text, family, version, rule.edition, variant, rule.note, release, reading.unread
            )
        if version in t.legacy_versions:
            return ParsedEdition(text, "windows", version, t.legacy_edition, variant)
        if len(reading.heads) > 1 and reading.heads not in t.head_combos:
            named = ", ".join(sorted(reading.heads))
            return _unreadable(text, f"it names editions that do not go together ({named})")
        if rule.edition in t.needs_context and not _windows_context(text, tokens, version, t):
            return _unreadable(text, "no Windows word: it may name another product")
        edition = t.version_editions.get(f"{rule.edition}@{version}", rule.edition)
        versions = t.edition_versions.get(edition)
        if versions is not None and version not in versions:
            named = f"Windows {version}" if version else "no version"
            return _unreadable(
                text,
                f"that edition exists only in Windows {' and '.join(versions)}; it names {named}",
            )
        return ParsedEdition(text, family, version, edition, variant, rule.note, release)
    if reading.unread:
        raw = tuple(reading.unread)
        note = f"the words {quote_words(as_written(text, raw))} were not understood"
        if "windows" not in tokens and any(_has(raw, p) for p in t.other_products):
            note += "; they name another product or hardware, not a Windows edition"
        return _unreadable(text, note, raw)
    if version in t.legacy_versions:
        return ParsedEdition(text, "windows", version, t.legacy_edition, variant)
    if version is not None and ("windows" in tokens or version in {"xp", "vista"}):
        edition = t.bare_version.get(version, "unspecified")
        return ParsedEdition(text, "windows", version, edition, variant)
    if version is not None and "nt" in tokens:
        return ParsedEdition(text, "windows", version, "unspecified", variant)
    return _unreadable(text, "it names no edition")


def _split_clause(
    runs: list[tuple[str, tuple[str, ...]]], t: _Tables
) -> tuple[str, list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]] | None:
    """(kind, base side, other side) of the first clause marker: "after" when the base is
    named after the marker ("downgrade from"), else "before"; "upgrade" likewise before."""
    for i, (cat, phrase) in enumerate(runs):
        if cat != "clause":
            continue
        left, right = runs[:i], runs[i + 1 :]
        if phrase in t.upgrade:
            return "upgrade", left, right
        if all(cat in _HARMLESS for cat, _ in right):
            # "Windows 10 Pro (Windows 11 Pro downgrade [available])": the base is just before
            starts = [j for j, (_c, p) in enumerate(left) if p == ("windows",)]
            if len(starts) < 2:
                return "before", left, []
            return "before", left[starts[-1] :], left[: starts[-1]]
        if phrase in t.base_after:
            return "after", right, left
        return "before", left, right
    return None


@lru_cache(maxsize=65536)
def parse_edition(text: str) -> ParsedEdition:
    """Parse one edition text, read whole. Blank-like text gives ``edition=None``."""
    t = _tables()
    oa3 = t.oa3_tag.match(text)  # "[4.0] Professional OEM:DM": the bracket is Windows' own tag
    body = text[oa3.end() :] if oa3 else text
    norm = normalise(body)
    stray = tuple(dict.fromkeys(ch for ch in _MARKS.sub(" ", body) if _stray(ch, t)))
    stray += _cut_marks(body)
    if not text.strip() or (norm in t.blank and not stray):
        return ParsedEdition(text, None, None, None, None)
    for pattern, repl in t.rewrites:
        norm = pattern.sub(repl, norm)
    words: list[str] = []
    for tok in norm.split():
        words.extend(t.synonyms.get(tok, tok).split())
    runs = _consume(tuple(words), t)
    runs += [("unread", (ch,)) for ch in stray]
    clause = _split_clause(runs, t)
    if clause is None:
        return _classify(text, _read(runs, t), t)
    kind, base_runs, other_runs = clause
    clause_phrase = next(phrase for cat, phrase in runs if cat == "clause")
    if sum(cat == "clause" for cat, _ in runs) > 1:
        return _unreadable(text, "it holds more than one downgrade or upgrade clause")
    base, other = _read(base_runs, t), _read(other_runs, t)
    if base.unread or other.unread:
        unread = base.unread + other.unread
        said = quote_words(as_written(text, unread))
        return _unreadable(text, f"the words {said} were not understood", unread)
    parsed = _classify(text, base, t)
    if kind == "upgrade" and not other.words:  # "Windows 10 Pro (upgraded)": from what?
        return _unreadable(text, "it was upgraded from an edition it does not name")
    if not other.words:
        return parsed
    # the other side must name a Windows edition or version of its own, read whole ("upgraded
    # to Pro": the Windows word of the base side names it too)
    if "windows" in base.words and "windows" not in other.words:
        other = replace(other, words=("windows", *other.words))
    second = _classify(text, other, t) if other.heads else None
    if second is None and not other.versions:
        return _unreadable(text, "the clause names no Windows edition or version")
    if second is not None and second.edition == "unreadable":
        return second
    if kind == "upgrade" and second is None and clause_phrase[-1] == "from":
        # "upgraded from Windows 8.1": from its Core (Home) edition, or its Pro? The base
        # licence is the edition it came from, and the text does not name it
        return _unreadable(text, "it was upgraded from a version whose edition it does not name")
    if kind == "upgrade" and second is not None and second.edition != parsed.edition:
        return _unreadable(
            text, "it was upgraded from or to another edition: find the base licence's label"
        )
    if (
        kind != "upgrade"
        and second is not None
        and second.edition != parsed.edition
        and second.edition not in t.covers.get(parsed.edition or "", frozenset())
    ):
        return _unreadable(
            text, f"a {parsed.edition} licence has no downgrade to {second.edition} (RULES D2)"
        )
    return parsed


_OPEN, _CLOSE = "([{（［", ")]}）］"
_TRAILING_OFF = re.compile(r"\.{2,}")


def _cut_marks(text: str) -> tuple[str, ...]:
    """Signs that a text was cut short or trails off, which separators would otherwise pass:
    a bracket left open or closed without its opening ("Windows 10 Pro (label", ":("), and
    dots in a row ("Windows 10 Pro ...")."""
    marks: list[str] = []
    stack: list[str] = []
    for ch in text:
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE:
            if stack and _OPEN.index(stack[-1]) == _CLOSE.index(ch):
                stack.pop()
            else:
                marks.append(ch)
    marks += stack
    if _TRAILING_OFF.search(text):
        marks.append("...")
    return tuple(dict.fromkeys(marks))


def stray_symbols(text: str) -> str:
    """The characters of ``text`` that are neither letters, digits, spaces, word separators
    nor trademark signs ("?" in "Yes?"), each once, in order."""
    t = _tables()
    return "".join(dict.fromkeys(ch for ch in _MARKS.sub(" ", text) if _stray(ch, t)))


def _stray(ch: str, t: _Tables) -> bool:
    """A character that is neither a letter, a digit, a space nor a word separator ("?")."""
    return not ch.isalnum() and not ch.isspace() and ch not in t.separators


def suggestions(field: str) -> list[str]:
    """Values the screen offers while the user types into ``field``."""
    return list(_tables().suggestions.get(field, []))
