"""Read free-text Windows edition names into (family, version, edition, variant).

The engine is small on purpose: the words it knows live in ``data/editions.toml``.
Parsing is pure and cached per distinct text, so a million rows that repeat a few dozen
edition strings cost a few dozen parses.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from coa_audit.core.text import fold

__all__ = ["ParsedEdition", "is_blank", "parse_edition", "suggestions"]


@dataclass(frozen=True, slots=True)
class ParsedEdition:
    """What the parser read from one edition text (the verdict comes from the policy)."""

    text: str
    family: str | None  # windows, windows-server, macos, linux, chromeos, none, virtual
    version: str | None  # "7", "8.1", "10", "11", "xp", ...
    edition: str | None  # policy id: "pro", "home", "enterprise", ... ; None when blank
    variant: str | None  # "n", "kn", "s mode", ...
    note: str | None = None  # why the text is ambiguous, when it is
    release: str | None = None  # LTSC/LTSB release year ("2019"), compared before versions

    @property
    def key(self) -> str:
        """The policy id this text is rated by ("unreadable" when nothing was read)."""
        return self.edition or "unreadable"


@dataclass(frozen=True, slots=True)
class _Rule:
    all: tuple[tuple[str, ...], ...]
    any: tuple[tuple[str, ...], ...]
    none: tuple[tuple[str, ...], ...]
    family: str
    edition: str
    note: str | None


class _Tables:
    def __init__(self, data: dict) -> None:
        self.blank = frozenset(data["blank"])
        self.rewrites = [(re.compile(r["pattern"]), r["to"]) for r in data["rewrite"]]
        self.synonyms: dict[str, str] = data["synonyms"]
        dg = data["downgrade"]
        self.base_after: list[str] = dg["base_after"]
        self.base_before: list[str] = dg["base_before"]
        self.versions: dict[str, str] = data["versions"]
        self.win11_build: int = data["builds"]["windows11_min_build"]
        self.bare_version: dict[str, str] = data["bare_version"]
        self.suggestions: dict[str, list[str]] = data.get("suggestions", {})
        ctx = data["context"]
        self.needs_context = frozenset(ctx["needs_windows_context"])
        self.other_products = tuple(tuple(p.split()) for p in ctx["other_products"])
        self.edition_ids = frozenset(i.lower() for i in ctx["edition_ids"])
        self.ltsc_releases: dict[str, str] = data["ltsc_releases"]
        self.rules = [
            _Rule(
                all=tuple(tuple(p.split()) for p in r.get("all", [])),
                any=tuple(tuple(p.split()) for p in r.get("any", [])),
                none=tuple(tuple(p.split()) for p in r.get("none", [])),
                family=r["family"],
                edition=r["edition"],
                note=r.get("note"),
            )
            for r in data["rule"]
        ]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    raw = (
        resources.files("coa_audit.core").joinpath("data/editions.toml").read_text(encoding="utf-8")
    )
    return _Tables(tomllib.loads(raw))


_MARKS = re.compile(r"®|™|\(r\)|\(tm\)|\bmicrosoft\b", re.IGNORECASE)
_IOT = re.compile(r"(?<![a-z])iot", re.IGNORECASE)  # "IoT" is one word, not "Io T"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Letters and a Windows version run together ("Win10Pro", "W7P", "Win8.1"): split them. Other
# letter-digit runs stay whole, so a model name ("G7", "T480s", "840G7") is never a version.
_WIN_PREFIX = re.compile(r"(?<![a-z])(windows|wind|win|w)(?=(?:xp|vista|\d))")
_VERSION_TAIL = re.compile(r"(?<![a-z0-9.])(xp|vista|7|8\.1|8|10|11)(?=[a-z])")
_NON_WORD = re.compile(r"[^a-z0-9.]+|(?<!\d)\.|\.(?!\d)")
_BUILD = re.compile(r"^(?:10\.0\.)?(\d{5})$")
# An OA3 key description as Windows reports it: "[4.0] Professional OEM:DM", "[TH] Core OEM:DM"
_OA3 = re.compile(r"^\s*\[[^\]]{1,12}\]\s*[A-Za-z]")
_CHANNEL = re.compile(r"\b(?:OEM|Retail|Volume):[A-Za-z_]+", re.IGNORECASE)
_EDITION_ID = re.compile(r"^[A-Za-z]+$")


def normalise(text: str) -> str:
    """Lower-case, accents folded, Windows versions split from the words around them, marks
    and punctuation dropped."""
    text = _IOT.sub(" iot ", _MARKS.sub(" ", text))
    text = fold(_CAMEL.sub(" ", text))
    text = _WIN_PREFIX.sub("windows ", text)
    text = _VERSION_TAIL.sub(r"\1 ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=65536)
def is_blank(text: str) -> bool:
    """True when an edition cell records nothing ("", "N/A", "unknown", "-")."""
    return normalise(text) in _tables().blank if text.strip() else True


def _has(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in tokens
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def _base_part(norm: str, t: _Tables) -> str:
    """For "Windows 10 Pro (downgrade from Windows 11 Pro)" keep the base licence part."""
    for marker in t.base_after:
        head, sep, tail = norm.partition(f" {marker} ")
        if sep and tail:
            return tail
    for marker in t.base_before:
        head, sep, _tail = norm.partition(f" {marker} ")
        if sep and head:
            return head
    return norm


def _version(tokens: tuple[str, ...], t: _Tables) -> str | None:
    version = None
    for tok in tokens:
        build = _BUILD.match(tok)
        if build and int(build.group(1)) >= t.win11_build:
            return "11"
        if version is None and tok in t.versions:
            version = t.versions[tok]
    return version


_VARIANTS = (("kn",), ("n",), ("s", "mode"), ("g",))


def _windows_context(text: str, tokens: tuple[str, ...], version: str | None, t: _Tables) -> bool:
    """Does the text say it is about Windows? A Windows word or version, an OA3 key
    description ("[4.0] Professional OEM:DM"), a licence channel, or a Windows edition ID
    ("ProfessionalN", as Intune and the registry write it)."""
    if "windows" in tokens or version is not None:
        return True
    if _OA3.match(text) or _CHANNEL.search(text):
        return True
    stripped = text.strip()
    return bool(_EDITION_ID.match(stripped)) and stripped.lower() in t.edition_ids


def _release(tokens: tuple[str, ...], t: _Tables) -> str | None:
    if "ltsc" not in tokens:
        return None
    return next((tok for tok in tokens if tok in t.ltsc_releases), None)


@lru_cache(maxsize=65536)
def parse_edition(text: str) -> ParsedEdition:
    """Parse one edition text. Blank-like text gives ``edition=None``."""
    t = _tables()
    norm = normalise(text)
    if not text.strip() or norm in t.blank:
        return ParsedEdition(text, None, None, None, None)
    norm = _base_part(norm, t)
    for pattern, repl in t.rewrites:
        norm = pattern.sub(repl, norm)
    words: list[str] = []
    for tok in norm.split():
        words.extend(t.synonyms.get(tok, tok).split())
    tokens = tuple(words)
    version = _version(tokens, t)
    release = _release(tokens, t)
    if release is not None and version is None:
        version = t.ltsc_releases[release]
    variant = next((" ".join(v) for v in _VARIANTS if _has(tokens, v)), None)
    if "windows" not in tokens and any(_has(tokens, p) for p in t.other_products):
        return ParsedEdition(
            text, None, None, "unreadable", None, "the text names a product that is not Windows"
        )
    for rule in t.rules:
        if rule.none and any(_has(tokens, p) for p in rule.none):
            continue
        if rule.all and not all(_has(tokens, p) for p in rule.all):
            continue
        if rule.any and not any(_has(tokens, p) for p in rule.any):
            continue
        family = rule.family
        if rule.edition == "virtual-machine":
            return ParsedEdition(text, family, None, rule.edition, None)
        if rule.edition in t.needs_context and not _windows_context(text, tokens, version, t):
            return ParsedEdition(
                text,
                None,
                None,
                "unreadable",
                None,
                "no Windows word or version: it may name another product",
            )
        return ParsedEdition(text, family, version, rule.edition, variant, rule.note, release)
    if version is not None and ("windows" in tokens or version in {"xp", "vista"}):
        edition = t.bare_version.get(version, "unspecified")
        return ParsedEdition(text, "windows", version, edition, variant)
    if version is not None and "nt" in tokens:
        return ParsedEdition(text, "windows", version, "unspecified", variant)
    return ParsedEdition(text, None, version, "unreadable", None)


def suggestions(field: str) -> list[str]:
    """Values the screen offers while the user types into ``field``."""
    return list(_tables().suggestions.get(field, []))
