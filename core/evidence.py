"""Classify what a licence-evidence cell says: present, absent, not a base licence, or unknown.

Fail closed (RULES §2): a cell counts as evidence only when every word in it is recognised.
The words live in the ``[evidence]`` tables of the policy; this module is the small engine
that reads a cell with them. Results are cached per distinct text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

from coa_audit.core.editions import is_empty, stray_symbols
from coa_audit.core.patterns import NEVER, compile_pattern
from coa_audit.core.text import as_written, fold_words

__all__ = ["EvidenceClass", "EvidenceWords"]

Kind = Literal["blank", "present", "absent", "unknown", "volume", "digital", "denied"]


@dataclass(frozen=True, slots=True)
class EvidenceClass:
    kind: Kind
    type: str | None = None  # "COA label", "GML label", "OA3 firmware key", ... when named
    why: str = ""  # for "unknown": what was not understood, in words a message can quote


_BLANK = EvidenceClass("blank")


def _phrases(words: list[str]) -> list[tuple[str, ...]]:
    out = {tuple(fold_words(w).split()) for w in words}
    out.discard(())
    return sorted(out, key=len, reverse=True)  # longest first: "coa label" before "coa"


def _has(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


class EvidenceWords:
    """The policy's evidence vocabulary and the reader that applies it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._type_cache: dict[str, str | None] = {}
        symbols_yes = [w for w in data.get("yes", []) if not fold_words(w)]
        symbols_no = [w for w in data.get("no", []) if not fold_words(w)]
        self.symbols = {**{s: True for s in symbols_yes}, **{s: False for s in symbols_no}}
        self.yes = frozenset(fold_words(w) for w in data.get("yes", []) if fold_words(w))
        self.no = frozenset(fold_words(w) for w in data.get("no", []) if fold_words(w))
        not_base = data.get("not_base", {})
        self.pkid = compile_pattern("evidence.pkid_pattern", data.get("pkid_pattern", NEVER))
        self._negations = frozenset(fold_words(w) for w in data.get("negations", []))
        self._denial = _phrases(data.get("denial", []))
        self._denial_padded = tuple(f" {' '.join(p)} " for p in self._denial)
        self._doubt = frozenset(fold_words(w) for w in data.get("doubt", []))
        self._turns = frozenset(fold_words(w) for w in data.get("header_turns", []))
        self.volume = _phrases(not_base.get("volume", []))
        self.digital = _phrases(not_base.get("digital", []))
        # phrases as " word word " for a substring test on the padded, normalised text
        self._volume_padded = tuple(f" {' '.join(p)} " for p in self.volume)
        self._digital_padded = tuple(f" {' '.join(p)} " for p in self.digital)
        self.types: list[tuple[str, list[tuple[str, ...]]]] = [
            (name, _phrases(words)) for name, words in data.get("types", {}).items()
        ]
        # one table for the greedy reader: phrase -> (tag, type name)
        table: dict[tuple[str, ...], tuple[str, str | None]] = {}
        for w in self.yes:
            table[tuple(w.split())] = ("yes", None)
        # nouns after yes-words: "present" beside other words is about presence, so "COA not
        # present" is absent, while a negated check ("not checked") says nothing
        for w in data.get("nouns", []):
            table[tuple(fold_words(w).split())] = ("noun", None)
        for w in data.get("negations", []):
            table[tuple(fold_words(w).split())] = ("neg", None)
        for name, phrases in reversed(self.types):  # earlier types win a shared phrase
            for p in phrases:
                table[p] = ("type", name)
        table.pop((), None)
        self._table = table
        self._longest = max((len(p) for p in table), default=1)
        self._cache: dict[str, EvidenceClass] = {}

    def classify(self, text: str) -> EvidenceClass:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._classify(text)
            if len(self._cache) < 65536:
                self._cache[text] = hit
        return hit

    def doubtful(self, text: str) -> bool:
        """True when the text negates or doubts what it says ("no", "not", "?", "maybe",
        "to be checked"): such text is never read as evidence of an edition."""
        if "?" in text:
            return True
        tokens = fold_words(text).split()
        return any(t in self._negations or t in self._doubt for t in tokens)

    def header_turns(self, header: str) -> str | None:
        """The word of a presence column's header that turns or doubts what a yes or no
        under it says ("missing" in "COA missing", "fake", "fehlt", "damaged"), or None. A
        yes-word and a no-word together are the answer legend ("COA (Yes/No)"), not a turn;
        a check word is what the column records ("COA checked"), so the doubt list is not
        read here, only ``header_turns``."""
        tokens = fold_words(header).split()
        legend: set[int] = set()  # a short yes-word beside a short no-word: "(Yes/No)", "(J/N)"
        for i, (a, b) in enumerate(itertools.pairwise(tokens)):
            if len(a) > 5 or len(b) > 5:  # "missing" is no answer: "COA missing (Y/N)"
                continue
            if (a in self.yes and b in self.no) or (a in self.no and b in self.yes):
                legend.update((i, i + 1))
        for i, t in enumerate(tokens):
            if i in legend:
                continue
            if t in self._negations or t in self.no or t in self._turns:
                return t
        norm = " ".join(tokens)
        padded = f" {norm} "
        return next((p.strip() for p in self._denial_padded if p in padded), None)

    def denies(self, text: str) -> bool:
        """True when the text denies the licence itself ("unlicensed", "counterfeit COA",
        "activated with KMSpico"): no evidence at all, whatever else it names."""
        norm = fold_words(text)
        if not norm:
            return False
        padded = f" {norm} "
        return any(p in padded for p in self._denial_padded)

    def not_base(self, text: str) -> Kind | None:
        """ "volume" or "digital" when the text names a licence that is never a base licence."""
        tokens = tuple(fold_words(text).split())
        return self._not_base(tokens) if tokens else None

    def _not_base(self, tokens: tuple[str, ...]) -> Kind | None:
        padded = f" {' '.join(tokens)} "
        if any(p in padded for p in self._volume_padded):
            return "volume"
        # a Digital Product Key (DPK) is the OEM's firmware key, not a digital licence
        if " digital product key " not in padded and any(p in padded for p in self._digital_padded):
            return "digital"
        return None

    def type_of(self, text: str) -> str | None:
        """The evidence type a text names ("OA3 firmware key", ...), or None. Texts repeat
        down a column: each distinct one is read once (up to a bound)."""
        cache = self._type_cache
        if text in cache:
            return cache[text]
        tokens = tuple(fold_words(text).split())
        found = next(
            (name for name, phrases in self.types if any(_has(tokens, p) for p in phrases)), None
        )
        if len(cache) < 65536:
            cache[text] = found
        return found

    def _classify(self, text: str) -> EvidenceClass:
        raw = text.strip()
        if not raw:
            return _BLANK
        # what an export writes for no value ("NULL", "(null)", "#N/A") is blank, unless the
        # vocabulary gives the word a meaning of its own ("none": absent)
        if is_empty(raw) and raw.casefold() not in self.no:
            return _BLANK
        if self.pkid.match(raw):
            if _placeholder_digits(raw):  # 0000000000000, 1234567890123: no key's ID
                return EvidenceClass("unknown", why="a placeholder number, not a key's ID")
            return EvidenceClass("present", "OA3 firmware key (PKID)")
        norm = fold_words(raw)
        if not norm:
            symbol = self.symbols.get(raw)
            if symbol is None:
                return EvidenceClass("unknown", why=f"the symbol {_q(raw)}")
            return EvidenceClass("present") if symbol else EvidenceClass("absent")
        if self.denies(raw):
            return EvidenceClass("denied", self.type_of(raw))
        stray = stray_symbols(raw)
        if stray:  # "Yes?", "OK?", "COA*": a doubt or a mark the tool cannot place
            return EvidenceClass("unknown", why=f"{_q(stray)}, which doubts or qualifies it")
        if norm in self.no:
            return EvidenceClass("absent")
        tokens = tuple(norm.split())
        kind = self._not_base(tokens)
        if kind is not None:
            return EvidenceClass(kind, self.type_of(raw))
        if norm in self.yes:
            return EvidenceClass("present")
        # read the whole cell: every word must be a yes-word, noun, negation or evidence type
        runs: list[tuple[str, str | None]] = []  # (tag, type name) per phrase, in order
        unread: list[str] = []
        i, n, table = 0, len(tokens), self._table
        while i < n:
            for size in range(min(self._longest, n - i), 0, -1):
                hit = table.get(tokens[i : i + size])
                if hit is not None:
                    runs.append(hit)
                    i += size
                    break
            else:
                unread.append(tokens[i])  # a word the tool does not know: never evidence
                i += 1
        if unread:
            doubt = [w for w in unread if w in self._doubt]
            what = "doubts it" if doubt else "were not understood"
            said = " ".join(as_written(raw, unread))
            return EvidenceClass("unknown", why=f"the words {_q(said)} {what}")
        tags = [tag for tag, _ in runs]
        negs = [k for k, tag in enumerate(tags) if tag == "neg"]
        if negs:
            # "not checked", "no - yes": a negated or contradicted check says nothing;
            # "not missing", "no, not removed": a double negative is not read either
            if "yes" in tags or len(negs) > 1:
                return EvidenceClass("unknown", why="it says both yes and no")
            # "OA3 (no sticker)", "GML label, no COA": evidence named on both sides of the
            # negation is a mixed cell, not an absent one
            # ("no sticker, OA3": two kinds of evidence named around one negation, likewise)
            before = any(name for _t, name in runs[: negs[0]])
            after = any(name for _t, name in runs[negs[0] + 1 :])
            if (before and after) or len({name for _t, name in runs if name}) > 1:
                return EvidenceClass("unknown", why="it names evidence and denies evidence")
            return EvidenceClass("absent")
        found_type = next((name for _t, name in runs if name is not None), None)
        if found_type is not None:
            return EvidenceClass("present", self.type_of(raw) or found_type)
        if "yes" in tags:
            return EvidenceClass("present")
        return EvidenceClass("unknown", why="it names no evidence")


def _q(text: str) -> str:
    return f"'{text}'"


def _placeholder_digits(digits: str) -> bool:
    """Digits a person types for "some number": one digit repeated, or counting up or down."""
    return len(set(digits)) == 1 or digits in "1234567890" * 3 or digits in "9876543210" * 3
