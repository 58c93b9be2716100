"""The audit's rules: one function for each finding code, declared once.

Every finding code of ``data/findings.toml`` is decided by exactly one method of ``Rules``
(``RULE_OF`` says which). The audit engine (``core.audit``) calls these methods in its full
run, in its incremental update and in any fast path; a fast path is only a cached form of the
same call (per distinct combination of repeated text), never a second copy of a rule. Each rule
that runs once per row (``key``, ``serial``) begins with its own test for the common clean
value, so the engine has nothing to inline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntFlag
from typing import Any, NamedTuple

from coa_audit.core.codes import code_info
from coa_audit.core.editions import ParsedEdition, is_blank, is_empty, parse_edition
from coa_audit.core.evidence import EvidenceClass
from coa_audit.core.identity import identity, suspects, unpadded, unusual, visible
from coa_audit.core.keys import holds_key, mask_key, mask_keys
from coa_audit.core.policy import KEY_PATTERN, Policy
from coa_audit.core.status import Status

__all__ = [
    "KEY_GOOD",
    "KEY_NONE",
    "KEY_PROVES_NOTHING",
    "KEY_UNREADABLE",
    "ROW_INPUTS",
    "ROW_TEXT_FIELDS",
    "RULE_OF",
    "UNUSUAL_CODE",
    "DeviceEvidence",
    "Duplicate",
    "Item",
    "RowFacts",
    "RowInput",
    "Rules",
    "holds_key",
    "mask_key",
    "mask_keys",
    "quote",
]

ELIGIBLE, REVIEW, BLOCKED, OUT_OF_SCOPE = (int(s) for s in Status)
# What the key cell holds, as far as evidence goes.
KEY_NONE, KEY_GOOD, KEY_PROVES_NOTHING, KEY_UNREADABLE = 0, 1, 2, 3

Item = tuple[str, str]  # (code, detail sentence)


class Duplicate(IntFlag):
    """The kinds of duplicate a row can take part in (a row's flags are their union)."""

    SERIAL = 1
    KEY = 2
    ASSET_TAG = 4
    SERIAL_POSSIBLE = 8  # equal once leading zeros are dropped (``Rules.possible_key``)


# the finding for an identifier that holds hidden or look-alike characters, by field
UNUSUAL_CODE: dict[str, str] = {
    "serial_number": "SERIAL_UNUSUAL_CHARACTERS",
    "asset_tag": "ASSET_TAG_UNUSUAL_CHARACTERS",
    "hostname": "HOSTNAME_UNUSUAL_CHARACTERS",
}
_FIELD_WORDS = {"serial_number": "serial", "asset_tag": "asset tag", "hostname": "host name"}

# Which rule decides each finding code (a test holds this to data/findings.toml).
RULE_OF: dict[str, str] = {
    "NOT_A_PC": "device",
    "COA_MISSING": "device",
    "EVIDENCE_UNKNOWN": "device",
    "EVIDENCE_NOT_BASE": "device",
    "EVIDENCE_CONFLICT": "device",
    "EDITION_NOT_QUALIFYING": "device",
    "EDITION_UNKNOWN": "device",
    "EDITION_REVIEW": "device",
    "OS_EVIDENCE_MISMATCH": "device",
    "IMAGE_NOT_COVERED": "device",
    "DEVICE_OUT_OF_SCOPE": "device",  # by maker, model or OS; by serial, host name: ``serial``,
    # ``hostname``
    "LABEL_FIRMWARE_DIFFER": "device",  # the label and the register's firmware key description
    "OA3_EDITION_UNKNOWN": "device",
    "ASSET_GONE": "device",  # the register's status says the asset is gone
    "ASSET_DELETED": "device",
    "STATUS_UNKNOWN": "device",
    "DELETED_UNKNOWN": "device",
    "KEY_MALFORMED": "key",
    "KEY_PLACEHOLDER": "key",
    "KEY_GENERIC": "key",
    "SERIAL_MISSING": "serial",
    "SERIAL_PLACEHOLDER": "serial",
    "SERIAL_NUMERIC": "serial",
    "SERIAL_UNUSUAL_CHARACTERS": "serial",  # hidden or look-alike characters (core.identity)
    "ASSET_TAG_UNUSUAL_CHARACTERS": "identifier",
    "HOSTNAME_UNUSUAL_CHARACTERS": "identifier",
    "SERIAL_DUPLICATE": "dup_key",
    "SERIAL_POSSIBLE_DUPLICATE": "possible_key",  # leading zeros dropped: review, never merged
    "KEY_DUPLICATE": "dup_key",
    "ASSET_TAG_DUPLICATE": "dup_key",
    "ATTESTED": "walk",  # core.audit.Audit._status_of: the walk's marks, read after the verdict
    "REMOVED_FROM_ORDER": "walk",
    "LABEL_DIFFERS": "walk",  # the label a verifier confirmed on site
    "LABEL_MISSING": "walk",
    "NOT_FOUND": "walk",
    "WALK_CONFLICT": "walk",
}

_SCIENTIFIC = re.compile(r"^\s*\d(?:[.,]\d+)?E\+\d+\s*$", re.IGNORECASE)


def _alnum_lower(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _doubted(text: str) -> ParsedEdition:
    return ParsedEdition(text, None, None, "unreadable", None, "it negates or doubts what it names")


def quote(text: str, limit: int = 60) -> str:
    text = mask_keys(" ".join(text.split()))  # a finding never carries a full key
    return f"'{text[: limit - 1]}…'" if len(text) > limit else f"'{text}'"


@dataclass(frozen=True, slots=True)
class DeviceEvidence:
    """What the evidence cells of one device say."""

    # present, absent, none, key_only, unknown, not_base, denied; unread: nothing but the
    # register's firmware key description, which is not read (its own finding says so)
    state: str
    edition: ParsedEdition | None
    text: str  # the text the edition was read from
    cell: str  # the cell the state was read from ("" when no cell says it)
    not_base: str | None  # "volume" or "digital" when state is not_base
    # register, oa3 (the register's firmware key description alone), register+oa3 (label and
    # that description agree), firmware (collected), both (register and collected)
    source: str = "register"
    conflict: str | None = None  # register and collected firmware disagree
    firmware_generic: bool = False  # the collected firmware key is generic: no evidence
    why: str = ""  # for "unknown": what in the cell was not understood
    differ: str | None = None  # the label and the register's firmware key disagree
    oa3_problem: str | None = None  # the register's firmware key description is not read


# a cell read to what it says, with its own words for the message: ("", "") says nothing
Reading = tuple[str, str]
NOTHING: Reading = ("", "")


# No cell a rule reads (a COA word, an edition, a type, a status, a model) is this long: a
# longer one is never read, but quoted by its start and ended with "…", which no vocabulary
# reads, so it is not understood (review), and no reader is handed a cell whose length could
# make it slow (a phrase search over a pasted blob cost the blob's square).
CELL_READ_LIMIT = 512


def _overlong(text: str) -> str:
    """A cell too long to be read: its start, then "…" (never understood)."""
    return text[:80].rstrip() + " …"


class RowFacts(NamedTuple):
    """What the row-local rule (``Rules.device``) reads of one row, each cell reduced as its
    ``ROW_INPUTS`` entry declares. The engine caches the rule's answer per distinct
    ``RowFacts``; a field is named, never found by its place in a tuple."""

    present: str = ""  # coa_present
    edition: str = ""  # coa_edition: the label's edition, as the register records it
    oa3: str = ""  # oa3_edition: the register's own firmware (OA3) key description
    os_text: str = ""  # current_os
    image: str = ""  # target_image
    licensed: str = ""  # licensed_product
    maker: str = ""  # manufacturer
    model: str = ""  # model
    asset_type: str = ""  # asset_type
    fw: str = ""  # fw_edition: the firmware key description collected from the PC
    status: Reading = NOTHING  # asset_status, read to what it says of the asset's life
    deleted: Reading = NOTHING  # deleted_on, read to whether the register deleted the asset
    kc: int = KEY_NONE  # coa_key, reduced to its key class
    fkc: int = KEY_NONE  # fw_key (collected), reduced to its key class


@dataclass(frozen=True, slots=True)
class RowInput:
    """One input of the row-local rule: the ``RowFacts`` field, the inventory field it is
    read from, and how its cell is reduced before it enters the cache key ("text": as it
    is; "key class": ``Rules.key_class``, worked out column-wise by ``Rules.key_column`` in a
    full run; any other name: the method ``Rules._reduce_<name>``, which reads the cell to the
    little the rule needs, so rows that say the same share one cache entry)."""

    attr: str
    source: str
    reduce: str = "text"


# Every input of the row-local rule, in ``RowFacts`` order: adding one is an entry here and
# a field there (a test holds the two together; see ARCHITECTURE.md, "Adding a rule").
ROW_INPUTS: tuple[RowInput, ...] = (
    RowInput("present", "coa_present"),
    RowInput("edition", "coa_edition"),
    RowInput("oa3", "oa3_edition"),
    RowInput("os_text", "current_os"),
    RowInput("image", "target_image"),
    RowInput("licensed", "licensed_product"),
    RowInput("maker", "manufacturer"),
    RowInput("model", "model"),
    RowInput("asset_type", "asset_type"),
    RowInput("fw", "fw_edition"),
    RowInput("status", "asset_status", "status"),
    RowInput("deleted", "deleted_on", "deleted"),
    RowInput("kc", "coa_key", "key class"),
    RowInput("fkc", "fw_key", "key class"),
)
assert tuple(i.attr for i in ROW_INPUTS) == RowFacts._fields, "ROW_INPUTS follows RowFacts"
# the text inputs, in order: the cells the engine reads for every row (``Rules.facts``)
ROW_TEXT_FIELDS: tuple[str, ...] = tuple(i.source for i in ROW_INPUTS if i.reduce != "key class")


def _virtual_host(sign: str) -> Item:
    return ("DEVICE_OUT_OF_SCOPE", f"The host name says this is a virtual machine: {sign}.")


_SERIAL_UNMAPPED: Item = (
    "SERIAL_MISSING",
    "No column of the file is mapped to the serial number: see the file's notice.",
)


class Rules:
    """Every rule of the audit under one policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # fields the verdict needs that no column is mapped to (the engine sets it on every
        # run): a row then says "no column is mapped to ..." instead of "... is blank"
        self.unmapped: frozenset[str] = frozenset()
        # the COA presence column's header and the word of it that turns or doubts what its
        # cells say ("COA missing"): then no cell of it is read as presence (the engine sets
        # it on every run, with ``unmapped``)
        self.present_turned: tuple[str, str] | None = None
        # how each text input is reduced (None: as it is), in ``ROW_TEXT_FIELDS`` order
        self._reducers: tuple[Any, ...] = tuple(
            None if i.reduce == "text" else getattr(self, f"_reduce_{i.reduce}")
            for i in ROW_INPUTS
            if i.reduce != "key class"
        )

    def facts(self, texts: Sequence[str], kc: int, fkc: int) -> RowFacts:
        """The row-local rule's input: ``texts`` are the cells of ``ROW_TEXT_FIELDS`` in order,
        ``kc`` and ``fkc`` the key classes of the key cells; each reduced as ``ROW_INPUTS``
        declares. The one builder of ``RowFacts`` (a full run and a one-row update alike)."""
        reduced = [
            _overlong(t) if len(t) > CELL_READ_LIMIT else (r(t) if r is not None else t)
            for r, t in zip(self._reducers, texts, strict=True)
        ]
        return RowFacts._make((*reduced, kc, fkc))

    def evidence_facts(self, cells: dict[str, str], kc: int, fkc: int) -> RowFacts:
        """``facts`` from the evidence cells alone (by inventory field; the rest blank)."""
        return self.facts(tuple(cells.get(f, "") for f in ROW_TEXT_FIELDS), kc, fkc)

    def _reduce_status(self, text: str) -> Reading:
        """A status cell as the rule reads it: ("gone" or "unknown", the cell), or NOTHING
        when it says the asset is in use or says nothing."""
        kind = self.policy.lifecycle(text)
        return (kind, text) if kind in ("gone", "unknown") else NOTHING

    def _reduce_deleted(self, text: str) -> Reading:
        """A soft-delete cell as the rule reads it: ("deleted" or "unknown", the cell), or
        NOTHING when it says the asset is not deleted."""
        kind = self.policy.deleted(text)
        return (kind, text) if kind else NOTHING

    def device(self, facts: RowFacts) -> tuple[tuple[Item, ...], int]:
        """Every row-local finding that depends on repeated text only (evidence, edition,
        OS, image, maker, model, asset type, status, and the key cells' classes): the engine
        caches the answer per distinct ``RowFacts``."""
        asset_type, os_text = facts.asset_type, facts.os_text
        gone: list[Item] = []
        if facts.status[0] == "gone":
            gone.append(
                (
                    "ASSET_GONE",
                    f"The status column says {quote(facts.status[1])}: the register marks this "
                    "device as gone.",
                )
            )
        if facts.deleted[0] == "deleted":
            gone.append(
                (
                    "ASSET_DELETED",
                    f"The deleted column says {quote(facts.deleted[1])}: the register marks this "
                    "device as deleted.",
                )
            )
        if gone:
            return tuple(gone), OUT_OF_SCOPE
        if asset_type and self.policy.not_a_pc(asset_type):
            detail = f"The asset type says {quote(asset_type)}: this row is not a computer."
            return (("NOT_A_PC", detail),), OUT_OF_SCOPE
        if os_text and self.policy.mobile_os(os_text):
            detail = f"The OS column says {quote(os_text)}: a phone or tablet, not a PC."
            return (("NOT_A_PC", detail),), OUT_OF_SCOPE
        items = self._local_items(facts)
        if facts.status[0] == "unknown":
            items.append(
                (
                    "STATUS_UNKNOWN",
                    f"coa-audit does not understand the status {quote(facts.status[1])}: it is "
                    "neither a status of a device in use nor one of a device gone.",
                )
            )
        if facts.deleted[0] == "unknown":
            items.append(
                (
                    "DELETED_UNKNOWN",
                    f"coa-audit does not understand the deleted column {quote(facts.deleted[1])}:"
                    " it is neither a date, a yes-word nor a no-word.",
                )
            )
        level = max((code_info(c).level for c, _ in items), default=0)
        return tuple(items), level

    def key_class(self, key: str) -> int:
        """What a key cell is worth as evidence (``key``'s first answer)."""
        return self.key(key)[0]

    def evidence(self, facts: RowFacts) -> DeviceEvidence:
        """Read the evidence of one device (RULES §2: fail closed): the register's cells,
        then the firmware key description collected from the PC, if any."""
        ev = self._oa3_evidence(
            self._register_evidence(facts.present, facts.edition, facts.kc), facts
        )
        fw, fkc = facts.fw, facts.fkc
        if is_empty(fw):  # "?", "tbd", "unknown" are not nothing: they are not read
            return ev
        words = self.policy.evidence
        if fkc == KEY_PROVES_NOTHING:  # a generic or placeholder key in firmware: nothing
            return replace(ev, firmware_generic=True)
        fw_ed = parse_edition(fw)
        fw_not_base = words.not_base(fw)
        if fw_ed.edition in (None, "unreadable") or fw_not_base is not None or words.doubtful(fw):
            # not read: the register speaks for the device, and this says that the PC's own
            # answer was not understood (never silence: it may contradict the register)
            if fw_not_base is not None:
                why = (
                    "it names a Volume Licensing channel or a digital licence, never a base licence"
                )
            elif fw_ed.edition in (None, "unreadable"):
                why = fw_ed.note or "its words are not an edition"
            else:
                why = "it negates or doubts what it names"
            problem = (
                f"coa-audit cannot read the firmware key description collected from the PC, "
                f"{quote(fw)} ({why})."
            )
            if ev.oa3_problem:
                problem = f"{ev.oa3_problem} {problem}"
            return replace(ev, oa3_problem=problem)
        said = f"the firmware key collected from the PC says {quote(fw)}"
        if ev.state in ("none", "key_only", "absent"):
            conflict = (
                f"The COA column says {quote(ev.cell)} but {said}."
                if ev.state == "absent"
                else None
            )
            return DeviceEvidence("present", fw_ed, fw, fw, None, "firmware", conflict)
        if ev.edition is not None and ev.edition.edition not in ("unreadable", None):
            ours = self.policy.rate(ev.edition).verdict
            theirs = self.policy.rate(fw_ed).verdict
            if (ours == "qualifies") != (theirs == "qualifies"):
                conflict = f"The register says {quote(ev.text)} but {said}."
                return replace(ev, source="both", conflict=conflict)
            return replace(ev, source="both")
        if ev.state == "present":  # the register says present but names no edition
            return DeviceEvidence("present", fw_ed, fw, ev.cell, None, "both")
        return ev

    def _oa3_evidence(self, ev: DeviceEvidence, facts: RowFacts) -> DeviceEvidence:
        """The register's evidence with its own firmware key description (``oa3_edition``)
        beside it (RULES §2): read whole like an edition; alone it is firmware evidence read
        from the register; beside a readable label edition the two must name the same
        edition; unreadable, it is a review saying so (never evidence)."""
        oa3 = facts.oa3
        if is_empty(oa3):  # an evidence field: "?", "tbd", "unknown" are not read, not blank
            return ev
        words = self.policy.evidence
        said = f"the register's firmware key description says {quote(oa3)}"
        if words.denies(oa3):
            if ev.state in ("none", "key_only", "absent", "present"):
                return DeviceEvidence("denied", None, oa3, oa3, None, source="oa3")
            return ev
        parsed = parse_edition(oa3)
        if parsed.edition in (None, "unreadable") or words.doubtful(oa3):
            note = parsed.note or "its words are not an edition"
            if words.doubtful(oa3) and parsed.edition not in (None, "unreadable"):
                note = "it negates or doubts what it names"
            problem = (
                "coa-audit cannot read the register's firmware key description "
                f"{quote(oa3)} ({note})."
            )
            if ev.state in ("none", "key_only"):
                return replace(ev, state="unread", oa3_problem=problem, text=oa3, cell=oa3)
            return replace(ev, oa3_problem=problem)
        not_base = words.not_base(oa3)
        if not_base is not None and ev.state not in ("none", "key_only", "absent"):
            # a label beside a firmware description of a volume or digital licence: a firmware
            # (OA3) key is an OEM key, so one of the two is not what the register says
            what = "a Volume Licensing channel" if not_base == "volume" else "a digital licence"
            recorded = quote(ev.text if ev.edition else ev.cell)
            differ = (
                f"The register records {recorded} beside the firmware key "
                f"description {quote(oa3)}, which names {what}: a firmware key is an OEM "
                "key, so one of the two is wrong."
            )
            return replace(ev, differ=differ)
        if ev.state in ("none", "key_only", "absent"):
            conflict = (
                f"The COA column says {quote(ev.cell)} but {said}."
                if ev.state == "absent"
                else None
            )
            if not_base is not None:
                return DeviceEvidence("not_base", parsed, oa3, oa3, not_base, source="oa3")
            return DeviceEvidence("present", parsed, oa3, oa3, None, "oa3", conflict)
        label = ev.edition
        if label is None:  # the register says present (or unknown) but names no edition
            return replace(ev, edition=parsed, text=oa3, source="oa3")
        if label.edition == "unreadable":
            return ev  # the label's edition is not read: EDITION_UNKNOWN says so
        if label.edition != parsed.edition:
            differ = (
                f"The label edition {quote(ev.text)} ({self.describe(label)}) and the register's "
                f"firmware key description {quote(oa3)} ({self.describe(parsed)}) name "
                "different editions."
            )
            return replace(ev, differ=differ, source="register+oa3")
        return replace(ev, source="register+oa3")

    def _register_evidence(self, present: str, edition: str, kc: int) -> DeviceEvidence:
        words = self.policy.evidence
        pc = words.classify(present)
        # a cell that denies the licence denies it under any header: still no evidence
        if self.present_turned is not None and pc.kind not in ("blank", "denied"):
            header, word = self.present_turned
            pc = EvidenceClass(
                "unknown",
                why=f"its header {quote(header)} says {quote(word)}, which turns or doubts what "
                "a yes or no under it means",
            )
        if pc.kind == "denied":
            return DeviceEvidence("denied", None, edition, present, None)
        if edition.strip() and words.denies(edition):
            return DeviceEvidence("denied", None, edition, edition, None)
        ed = None if is_blank(edition) else parse_edition(edition)
        text = edition
        edition_absent = False
        if (
            ed is not None
            and ed.edition == "unreadable"
            and words.classify(edition).kind == "absent"
        ):
            ed, edition_absent = None, True  # "missing", "no label" in the edition column
        if (
            ed is not None
            and words.doubtful(edition)
            and self.policy.rate(ed).verdict == "qualifies"
        ):
            ed = _doubted(edition)  # "no Windows 10 Pro label", "Windows 10 Pro?": not read
        if pc.kind == "unknown" and not words.doubtful(present):
            # the COA column holds an edition itself ("Windows 10 Pro", "[4.0] Professional
            # OEM:DM"), read whole; beside an edition column it must name the same edition
            guess = parse_edition(present)
            if guess.edition not in (None, "unreadable") and (
                ed is None or ed.edition == guess.edition
            ):
                if ed is None:
                    ed, text = guess, present
                pc = EvidenceClass("present", words.type_of(present))
        ed_not_base = words.not_base(edition) if ed is not None and text == edition else None
        kind = pc.kind
        if kind in ("volume", "digital"):
            return DeviceEvidence("not_base", ed, text, present, kind)
        if kind == "absent":
            return DeviceEvidence("absent", ed, text, present, None)
        if ed_not_base is not None:
            return DeviceEvidence("not_base", ed, text, edition, ed_not_base)
        if kind == "unknown":
            return DeviceEvidence("unknown", ed, text, present, None, why=pc.why)
        if kind == "present":
            return DeviceEvidence("present", ed, text, present, None)
        # the COA column is blank or missing: the edition or the key must carry the evidence
        if ed is not None or kc in (KEY_GOOD, KEY_UNREADABLE):
            return DeviceEvidence("present", ed, text, "", None)
        if edition_absent:
            return DeviceEvidence("absent", None, text, edition, None)
        if kc == KEY_PROVES_NOTHING:
            return DeviceEvidence("key_only", None, text, "", None)
        return DeviceEvidence("none", None, text, "", None)

    def _local_items(self, facts: RowFacts) -> list[Item]:
        items: list[Item] = []
        pol = self.policy
        present, os_text, kc = facts.present, facts.os_text, facts.kc
        ev = self.evidence(facts)
        if ev.conflict:
            items.append(("EVIDENCE_CONFLICT", ev.conflict))
        if ev.differ:
            items.append(("LABEL_FIRMWARE_DIFFER", ev.differ))
        if ev.oa3_problem:
            items.append(("OA3_EDITION_UNKNOWN", ev.oa3_problem))
        ed, ed_text = ev.edition, ev.text
        os_ed = None if is_blank(os_text) else parse_edition(os_text)
        if ev.state in ("absent", "none", "key_only", "denied"):
            if ev.state == "denied":
                column = "COA column" if ev.cell == present else "COA edition column"
                if ev.source == "oa3":
                    column = "register's firmware key description"
                detail = (
                    f"The {column} says {quote(ev.cell)}: words that deny the licence itself "
                    "(unlicensed, counterfeit, pirated, an activation hack) are no evidence."
                )
            elif ev.state == "absent":
                if ed is not None or kc == KEY_GOOD:
                    what = "an edition" if ed is not None else "a product key"
                    items.append(
                        (
                            "EVIDENCE_CONFLICT",
                            f"The COA column says {quote(ev.cell)} but {what} is recorded.",
                        )
                    )
                column = "COA column" if ev.cell == present else "COA edition column"
                detail = f"The {column} says {quote(ev.cell)}."
            elif ev.state == "key_only":
                detail = (
                    "The only evidence recorded is a generic, placeholder or masked product key,"
                    " which proves nothing about this device."
                )
            elif "evidence" in self.unmapped:
                detail = (
                    "No column of the file is mapped to licence evidence (COA, COA edition, "
                    "product key, OA3 description): see the file's notice."
                )
            else:
                detail = "No COA, edition or product key is recorded for this device."
            if ev.firmware_generic:
                detail += (
                    " The firmware key collected from the PC is a published generic key, which "
                    "proves nothing."
                )
            if os_ed is not None and pol.rate(os_ed).verdict == "qualifies":
                detail += (
                    f" The current OS column says {quote(os_text)}: the installed OS is not "
                    "evidence, but this device may well carry such a licence; look for its "
                    "label or firmware key."
                )
            items.append(("COA_MISSING", detail))
        else:
            if ev.state == "unknown":
                why = f": {ev.why}" if ev.why else ""
                items.append(
                    (
                        "EVIDENCE_UNKNOWN",
                        f"coa-audit does not understand the COA column {quote(ev.cell)}{why}.",
                    )
                )
            elif ev.state == "not_base":
                what = (
                    "a Volume Licensing channel or key"
                    if ev.not_base == "volume"
                    else "a digital licence"
                )
                items.append(("EVIDENCE_NOT_BASE", f"{quote(ev.cell)} names {what}."))
            if ev.state == "unread":
                pass  # OA3_EDITION_UNKNOWN says what was not read
            elif ed is None or ed.edition == "unreadable":
                if ev.state == "present":
                    if ed is None and "edition" in self.unmapped:
                        detail = (
                            "No column of the file is mapped to the edition on the licence "
                            "(COA edition, OA3 description): see the file's notice."
                        )
                    elif ed is None:
                        detail = "The edition on the licence evidence is blank."
                    else:
                        detail = f"coa-audit cannot read the edition {quote(ed_text)}"
                        detail += f" ({ed.note})." if ed.note else "."
                    if os_ed is not None:
                        detail += (
                            f" The current OS column says {quote(os_text)}, but the installed "
                            "OS is a hint, not evidence of a licence."
                        )
                    items.append(("EDITION_UNKNOWN", detail))
            else:
                rating = pol.rate(ed)
                what = f"{quote(ed_text)} reads as {self.describe(ed)}"
                if rating.verdict == "not-qualifying":
                    items.append(("EDITION_NOT_QUALIFYING", f"{what}: {rating.reason}"))
                elif rating.verdict == "review":
                    items.append(("EDITION_REVIEW", f"{what}: {rating.reason}"))
            if ed is not None and os_ed is not None:
                mismatch = self._os_mismatch(ed, os_ed)
                if mismatch:
                    items.append(("OS_EVIDENCE_MISMATCH", mismatch))
        image = facts.image
        if image.strip() and not is_blank(image):
            uncovered = self._image_not_covered(image, facts.licensed)
            if uncovered:
                items.append(("IMAGE_NOT_COVERED", uncovered))
        scope = pol.out_of_scope(facts.maker, facts.model)
        if scope:
            items.append(("DEVICE_OUT_OF_SCOPE", f"The maker/model says this is {scope}."))
        kind = pol.type_out_of_scope(facts.asset_type) if facts.asset_type else None
        if kind:
            items.append(
                ("DEVICE_OUT_OF_SCOPE", f"The asset type says {quote(facts.asset_type)}: {kind}.")
            )
        on_os = pol.os_out_of_scope(os_ed.key) if os_ed is not None else None
        if on_os:
            items.append(("DEVICE_OUT_OF_SCOPE", f"The OS column says {quote(os_text)}: {on_os}."))
        return items

    def describe(self, ed: ParsedEdition) -> str:
        label = self.policy.edition_label(ed.key)
        if (
            ed.version
            and ed.family == "windows"
            and not label.startswith(("Windows 7", "Windows 1"))
        ):
            label = f"{label}, version {ed.version}"
        return label

    def _os_mismatch(self, ed: ParsedEdition, os_ed: ParsedEdition) -> str | None:
        tiers = self.policy.data.get("os_mismatch", {})
        consumer, business = set(tiers.get("consumer", [])), set(tiers.get("business", []))
        a, b = ed.edition, os_ed.edition
        if (a in consumer and b in business) or (a in business and b in consumer):
            return (
                f"The installed OS reads as {self.describe(os_ed)} but the licence evidence "
                f"reads as {self.describe(ed)}."
            )
        return None

    def _image_not_covered(self, image: str, licensed: str) -> str | None:
        pol = self.policy
        img = parse_edition(image)
        if img.edition in (None, "unreadable", "unspecified", "ambiguous"):
            return None
        lic = None if is_blank(licensed) else parse_edition(licensed)
        if lic is None or lic.edition in (None, "unreadable", "unspecified", "ambiguous"):
            lic_edition, lic_version = pol.licensed_edition, None
            lic_name = pol.target_label.replace(" upgrade", "")
        else:
            lic_edition, lic_version = lic.edition or "", lic.version
            lic_name = quote(licensed)
        img_key = f"{img.edition}@{img.version}"
        if img_key in pol.never_images:
            return f"Image {quote(image)} is never a downgrade target (rule D3)."
        ri, rl = pol.version_rank(img.version), pol.version_rank(lic_version)
        lic_release = lic.release if lic is not None else None
        if img.release and lic_release and int(img.release) > int(lic_release):
            return (
                f"Image {quote(image)} is a newer LTSC release than the licensed {lic_name} "
                "(rule D1)."
            )
        if ri is not None and rl is not None and ri > rl:
            return (
                f"Image {quote(image)} is a newer version than the licensed {lic_name} (rule D1)."
            )
        covers = pol.covers.get(
            lic_edition, {"same_version": [lic_edition], "earlier_versions": []}
        )
        same = covers.get("same_version", [])
        earlier = covers.get("earlier_versions", [])
        if ri is not None and rl is not None:
            allowed = same if ri == rl else earlier
        else:
            allowed = [*same, *earlier]
        if img.edition not in allowed:
            return (
                f"Image {quote(image)} is not the licensed {lic_name} edition nor a lower "
                "edition of an earlier version (rule D2)."
            )
        return None

    def key(self, key: str) -> tuple[int, tuple[Item, ...]]:
        """KEY_PLACEHOLDER, KEY_MALFORMED, KEY_GENERIC (RULES §5): what a key cell is worth as
        evidence, and its findings (``keys`` for one value)."""
        return self.keys([key])[0]

    def keys(self, values: Sequence[str]) -> list[tuple[int, tuple[Item, ...]]]:
        """``key`` for every value of a key column, in order (see ``key_column``)."""
        return self.key_column(values)[0]

    def key_column(
        self, values: Sequence[str]
    ) -> tuple[list[tuple[int, tuple[Item, ...]]], list[int]]:
        """``key`` for every value of a key column, in order, and the rows whose value is not
        written as the common clean value (the rows a duplicate index must normalise). Keys
        are compared normalised:
        case, spaces and dashes never make two keys differ, nor a generic key look like a
        device's own. The common clean value is decided in one pass: a 5x5 key of the key
        alphabet in upper case with dashes, not a published key, at most one N, and neither
        its first nor its last character 20 times (``Policy.key_placeholder``); every other
        value takes the full rule."""
        generic, clean = self.policy.generic_keys, KEY_PATTERN.match
        good = (KEY_GOOD, ())
        out: list[Any] = [
            good
            if (
                clean(k)
                and k not in generic
                and k.count("N") <= 1
                # a placeholder repeats a character 20 times, masking from either end
                and k.count(k[0]) < 20
                and k.count(k[-1]) < 20
            )
            else None
            for k in values
        ]
        slow, irregular = self._key, []
        for i, got in enumerate(out):
            if got is None:
                out[i] = slow(values[i])
                irregular.append(i)
        return out, irregular

    def _key(self, key: str) -> tuple[int, tuple[Item, ...]]:
        pol = self.policy
        if not key.strip():
            return KEY_NONE, ()
        if pol.key_placeholder(key):
            return KEY_PROVES_NOTHING, (
                ("KEY_PLACEHOLDER", f"The product key {mask_key(key)} stands for no key."),
            )
        if not pol.key_well_formed(key):
            # words with no digit may say "no key" ("N/A", "none", "not found"); a truncated
            # key has digits and is read as a key
            if not any(ch.isdigit() for ch in key) and (
                is_blank(key) or pol.evidence.classify(key).kind == "absent"
            ):
                return KEY_NONE, ()
            return KEY_UNREADABLE, (
                ("KEY_MALFORMED", f"The product key {mask_key(key)} is not a valid key format."),
            )
        if pol.key_generic(key):
            return KEY_PROVES_NOTHING, (
                (
                    "KEY_GENERIC",
                    f"The key ending {pol.key_norm(key)[-5:]} is a published generic key.",
                ),
            )
        return KEY_GOOD, ()

    def serial(self, serial: str, was_number: bool = False, header: str = "") -> tuple[Item, ...]:
        """SERIAL_MISSING, SERIAL_PLACEHOLDER, SERIAL_NUMERIC, and DEVICE_OUT_OF_SCOPE for a
        serial a virtual machine reports (RULES §6); ``serials`` for one value. ``header`` is
        the serial column's name (a serial equal to it is a placeholder)."""
        return self.serials([serial], {0} if was_number else None, header)[0]

    def serials(
        self, values: Sequence[str], numeric: set[int] | None = None, header: str = ""
    ) -> list[tuple[Item, ...]]:
        """``serial`` for every value of a serial column, in order (``numeric``: the rows the
        file stored as numbers). The common clean value is decided in one pass: letters and
        digits only, no placeholder or the column's own name, not one character repeated,
        not a virtual machine's prefix (by its first three characters), not a number, ASCII;
        every other value takes the full rule."""
        # the column's own name ("SerialNumber" under "Serial Number") is a placeholder too
        placeholders = self.policy.placeholder_serials | {_alnum_lower(header)}
        vm_prefixes = self.policy.virtual_serials
        vm_starts = frozenset(p[:3] for p in vm_prefixes)
        if any(len(p) < 3 for p in vm_prefixes):  # a prefix shorter than the test: none clean
            vm_starts = frozenset(low[:3] for low in map(str.lower, values))
        out: list[Any] = [
            ()
            if (
                v.isascii()  # anything else may hide a character (``identifier``)
                and v.isalnum()
                and (low := v.lower()) not in placeholders
                and (low[0] != low[-1] or low.count(low[0]) != len(low))
                and low[:3] not in vm_starts
            )
            else None
            for v in values
        ]
        for i in numeric or ():
            out[i] = None  # stored as a number: the full rule says so
        slow, numeric = self._serial, numeric or set()
        for i, got in enumerate(out):
            if got is None:
                out[i] = slow(values[i], i in numeric, header)
        return out

    def _serial(self, serial: str, was_number: bool, header: str) -> tuple[Item, ...]:
        if not serial.strip():
            return self._serial_items(serial, was_number, header)
        return self._serial_items(serial, was_number, header) + self.identifier(
            "serial_number", serial
        )

    def _serial_items(self, serial: str, was_number: bool, header: str) -> tuple[Item, ...]:
        pol = self.policy
        if not serial.strip():
            if "serial_number" in self.unmapped:
                return (_SERIAL_UNMAPPED,)
            return (("SERIAL_MISSING", "The serial number is blank."),)
        why = pol.serial_not_hardware(serial, header)
        if why:
            return (("SERIAL_PLACEHOLDER", f"The serial {quote(serial)} {why}."),)
        if pol.virtual_serial(serial):
            return (
                (
                    "DEVICE_OUT_OF_SCOPE",
                    f"The serial {quote(serial)} is one a virtual machine reports.",
                ),
            )
        if was_number:
            return (("SERIAL_NUMERIC", f"The serial {quote(serial)} is stored as a number."),)
        if _SCIENTIFIC.match(serial):
            return (
                (
                    "SERIAL_NUMERIC",
                    f"The serial {quote(serial)} is in scientific notation: a spreadsheet turned "
                    "it into a number and its digits are lost.",
                ),
            )
        return ()

    def identifier(self, fname: str, value: str) -> tuple[Item, ...]:
        """SERIAL_/ASSET_TAG_/HOSTNAME_UNUSUAL_CHARACTERS: an identifier whose letters and
        digits are not what they look like (an invisible character, a look-alike letter of
        another script, a wide form: ``core.identity.unusual``), each character named. It is
        still compared as what it reads as (``core.identity.identity``); case, spaces and
        dashes alone are no finding (see ``core.identity``)."""
        if value.isascii() and value.isprintable():  # the common clean value
            return ()
        what = unusual(value)
        if not what:
            return ()
        detail = (
            f"The {_FIELD_WORDS[fname]} {quote(visible(value))} holds {what}: it is compared "
            f"as {identity(value) or 'blank'}."
        )
        return ((UNUSUAL_CODE[fname], detail),)

    def identifiers(
        self, fname: str, values: Sequence[str], rows: Sequence[int] | None = None
    ) -> dict[int, tuple[Item, ...]]:
        """``identifier`` for every value of a column, by row, only the rows with a finding
        (the common clean value is told for the whole column at once: printable ASCII).
        ``rows``: the column's ``core.identity.suspects``, when already known."""
        out: dict[int, tuple[Item, ...]] = {}
        for i in suspects(values) if rows is None else rows:
            items = self.identifier(fname, values[i])
            if items:
                out[i] = items
        return out

    def hostname(self, value: str) -> tuple[Item, ...]:
        """DEVICE_OUT_OF_SCOPE for a host name a cloud platform gives its virtual machines by
        default (RULES §6, ``Policy.virtual_host``); ``hostnames`` for one value."""
        sign = self.policy.virtual_host(value) if value else None
        return (_virtual_host(sign),) if sign else ()

    def hostnames(self, values: Sequence[str]) -> dict[int, tuple[Item, ...]]:
        """``hostname`` for every value of a host name column, by row, only the rows with a
        finding (``Policy.virtual_hosts`` reads only the names that may have one)."""
        return {i: (_virtual_host(s),) for i, s in self.policy.virtual_hosts(values).items()}

    def possible_key(self, value: str, serial_header: str = "") -> str | None:
        """The form in which a serial counts as a *possible* duplicate (RULES §6): its
        identity without leading zeros (``core.identity.unpadded``), or None when it never
        counts (as ``dup_key``). Rows of one such form and different identities are each a
        SERIAL_POSSIBLE_DUPLICATE (review, never merged); rows of one identity are a
        SERIAL_DUPLICATE."""
        key = self.dup_key(Duplicate.SERIAL, value, serial_header)
        return (unpadded(key) or None) if key is not None else None

    def norm_id(self, fname: str, value: str) -> str:
        """The form in which a field's values are compared for duplicates: serials, asset
        tags and host names as their identity (``core.identity.identity``: letters and
        digits as read, hidden characters and look-alikes folded); keys as their identity
        too, written back as five dashed groups (``Policy.key_norm``), so a key copied with
        a zero-width space or in fullwidth letters is still the same key."""
        if fname == "coa_key":
            return self.policy.key_norm(identity(value))
        return identity(value)

    def dup_key(self, kind: Duplicate, value: str, serial_header: str = "") -> str | None:
        """The form in which ``value`` counts as a duplicate of ``kind``, or None when it
        never counts as one (blank, a placeholder, a generic key). ``value`` as written: a
        Windows product ID is told by its dashes."""
        if not value or value.isspace() or is_empty(value):  # an export's "NULL" is no value
            return None
        pol = self.policy
        # placeholders, product IDs, generic and masked keys are shared by nature: they are
        # findings of their own, never duplicates
        if kind is Duplicate.SERIAL and pol.serial_not_hardware(value, serial_header):
            return None
        if kind is Duplicate.KEY:
            key = self.norm_id("coa_key", value)  # (its own rule says if it is malformed)
            if not pol.key_well_formed(key) or pol.key_generic(key) or pol.key_placeholder(key):
                return None
            return key
        return identity(value) or None
