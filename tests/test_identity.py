"""One identity for a device (core.identity): a serial, asset tag or host name spelled with
hidden characters, look-alike letters, wide forms, other dashes or spaces is the same device
for duplicates, the evidence merge, walk files and scans; the spellings that are not what
they look like are a finding naming each character. Through `coa-audit check --format json`
(one inventory per generated example, every spelling in it)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import codes_of, device, run_cli, write_csv

NEVER = ("--fail-on", "never")
PRO = "[4.0] Professional OEM:DM"
HEADERS = (*SAMPLE_HEADERS, "Asset Type")

# characters that draw nothing (the issue named U+200B, U+2060, U+FEFF and U+00AD)
HIDDEN = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",  # ZERO WIDTH NON-JOINER
    "\u200d",  # ZERO WIDTH JOINER
    "\u2060",  # WORD JOINER
    "\u2062",  # INVISIBLE TIMES
    "\u2064",  # INVISIBLE PLUS
    "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (BOM)
    "\u00ad",  # SOFT HYPHEN
    "\u180e",  # MONGOLIAN VOWEL SEPARATOR
    "\u034f",  # COMBINING GRAPHEME JOINER
    "\ufe0f",  # VARIATION SELECTOR-16
    "\u3164",  # HANGUL FILLER (a "letter" that draws nothing)
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
]
# dashes and spaces of every kind: folded away, and no finding by themselves
DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d"]
SPACES = [" ", "\u00a0", "\u2007", "\u2009", "\u202f", "\u3000"]
# look-alikes of the letters of BASE (Cyrillic, Greek, Armenian, Cherokee)
LOOKALIKE = {
    "C": ["\u0421", "\u13df"],  # CYRILLIC ES, CHEROKEE TLI
    "G": ["\u050c", "\u13c0"],  # CYRILLIC KOMI SJE, CHEROKEE NAH
    "O": ["\u039f", "\u041e", "\u0555"],  # GREEK OMICRON, CYRILLIC O, ARMENIAN OH
    "K": ["\u039a", "\u041a"],  # GREEK KAPPA, CYRILLIC KA
    "A": ["\u0391", "\u0410"],  # GREEK ALPHA, CYRILLIC A
}
BASE = "5CG7O3K5A1"  # letters with look-alikes, digits with wide forms


def _wide(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0)  # FULLWIDTH DIGIT/LATIN CAPITAL LETTER


@st.composite
def spellings(draw: st.DrawFn, base: str) -> tuple[str, list[str]]:
    """``base`` written another way, and the characters that must be named in its finding
    (none when only dashes, spaces and case differ)."""
    chars = list(base)
    odd: list[str] = []
    # swap a few letters or digits for look-alikes or wide forms
    for i in draw(st.lists(st.integers(0, len(chars) - 1), max_size=2, unique=True)):
        ch = chars[i]
        options = [_wide(ch), *LOOKALIKE.get(ch, [])]
        chars[i] = draw(st.sampled_from(options))
        odd.append(chars[i])
    if draw(st.booleans()):
        chars = [c.lower() if c.isascii() else c for c in chars]
    # insert hidden characters, dashes, spaces between them
    for _ in range(draw(st.integers(0 if odd else 1, 3))):
        kind = draw(st.sampled_from(["hidden", "dash", "space"]))
        pool = {"hidden": HIDDEN, "dash": DASHES, "space": SPACES}[kind]
        ch = draw(st.sampled_from(pool))
        at = draw(st.integers(1, len(chars) - 1))  # inside the value
        chars.insert(at, ch)
        if kind == "hidden":
            odd.append(ch)
    return "".join(chars), odd


def _named(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch)}"


def _check(path: Path, *args: str | Path) -> dict[str, Any]:
    res = run_cli("check", path, "--format", "json", *NEVER, *args)
    assert res.code == 0, res.stderr
    return res.json()


def _message(doc: dict[str, Any], index: int, code: str) -> str:
    return next(f["message"] for f in doc["devices"][index]["findings"] if f["code"] == code)


def _assert_named(message: str, value: str, odd: list[str]) -> None:
    """Every hidden or look-alike character is named with its code point and position (the
    message names the first four distinct characters)."""
    distinct = list(dict.fromkeys(odd))
    if len(distinct) <= 4:
        for ch in distinct:
            assert _named(ch) in message, (ch, message)
            first = value.index(ch) + 1
            assert f"at position {first}" in message or f"at positions {first}" in message


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.lists(spellings(BASE), min_size=4, max_size=10))
def test_every_spelling_of_a_serial_is_one_device(
    tmp_path: Path, copies: list[tuple[str, list[str]]]
) -> None:
    rows = [device(1, Serial_Number=BASE)]
    rows += [device(i + 2, Serial_Number=s) for i, (s, _odd) in enumerate(copies)]
    rows.append(device(99))  # another device: stays clean
    doc = _check(write_csv(tmp_path / "inv.csv", rows, HEADERS))
    devices = doc["devices"]
    assert len(devices) == len(rows)
    for i in range(len(rows) - 1):
        assert "SERIAL_DUPLICATE" in codes_of(doc, i), rows[i]["Serial Number"]
        assert devices[i]["status"] != "eligible"
        related = next(f for f in devices[i]["findings"] if f["code"] == "SERIAL_DUPLICATE")
        assert len(related["related_rows"]) == len(rows) - 2  # every other copy
    assert devices[-1]["status"] == "eligible" and devices[-1]["findings"] == []
    assert "SERIAL_UNUSUAL_CHARACTERS" not in codes_of(doc, 0)
    for i, (value, odd) in enumerate(copies, start=1):
        if odd:
            message = _message(doc, i, "SERIAL_UNUSUAL_CHARACTERS")
            _assert_named(message, value, odd)
            assert "compared as 5CG7O3K5A1" in message
        else:  # only dashes, spaces and case: a duplicate, no finding of its own
            assert "SERIAL_UNUSUAL_CHARACTERS" not in codes_of(doc, i), value


@SETTINGS
@given(
    st.lists(spellings("AT7O3K"), min_size=3, max_size=8),
    # a host name holds no space (a column of names with spaces is no host name column)
    st.lists(
        spellings("PCKA3O").filter(lambda s: bool(s[1]) and not any(c.isspace() for c in s[0])),
        min_size=2,
        max_size=6,
    ),
)
def test_asset_tags_and_host_names_too(
    tmp_path: Path,
    tags: list[tuple[str, list[str]]],
    hosts: list[tuple[str, list[str]]],
) -> None:
    rows = [device(1, Asset_Tag="AT7O3K")]
    rows += [device(i + 2, Asset_Tag=t) for i, (t, _odd) in enumerate(tags)]
    first_host = len(rows)
    # host names with hidden or look-alike characters (each its own device)
    rows += [device(100 + i, Hostname=f"{h}-{i}") for i, (h, _odd) in enumerate(hosts)]
    doc = _check(write_csv(tmp_path / "inv.csv", rows, HEADERS))
    devices = doc["devices"]
    for i in range(len(tags) + 1):
        assert "ASSET_TAG_DUPLICATE" in codes_of(doc, i), rows[i]["Asset Tag"]
        assert devices[i]["status"] != "eligible"
    for i, (value, odd) in enumerate(tags, start=1):
        if odd:
            _assert_named(_message(doc, i, "ASSET_TAG_UNUSUAL_CHARACTERS"), value, odd)
        else:
            assert "ASSET_TAG_UNUSUAL_CHARACTERS" not in codes_of(doc, i)
    for j, (value, odd) in enumerate(hosts):
        i = first_host + j
        assert devices[i]["hostname"], "the host name column is mapped"
        assert devices[i]["status"] == "review", value
        _assert_named(_message(doc, i, "HOSTNAME_UNUSUAL_CHARACTERS"), f"{value}-{j}", odd)


# the held-out spellings of issue 31
ISSUE = [
    "5CG1234567",
    "5CG\u200b1234567",  # zero-width space
    "5CG1234\u2060567",  # word joiner
    "\ufeff5CG1234567",  # BOM
    "5CG12\u00ad34567",  # soft hyphen
    "5CG-1234567",  # a hyphen
    "5CG1234\u00a0567",  # an inner no-break space
    "５ＣＧ１２３４５６７",  # fullwidth
    "5\u0421G1234567",  # Cyrillic С for Latin C
]


def test_the_issues_spellings_are_one_device_and_the_merge_agrees(tmp_path: Path) -> None:
    rows = [device(i + 1, Serial_Number=s) for i, s in enumerate(ISSUE)] + [device(99)]
    register = write_csv(tmp_path / "inv.csv", rows, HEADERS)
    collection = tmp_path / "c.csv"
    collection.write_text(
        f"ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\nPC-X,5cg1234567,{PRO}\n",
        encoding="utf-8",
    )
    doc = _check(register, "--evidence", collection)
    assert [d["status"] for d in doc["devices"]] == ["blocked"] * len(ISSUE) + ["eligible"]
    for i in range(len(ISSUE)):
        assert "SERIAL_DUPLICATE" in codes_of(doc, i)
    # the merge and the audit agree: one serial on several register rows, never guessed
    col = doc["collection"]
    assert col["matched"] == 0 and len(col["ambiguous"]) == 1
    assert "is on more than one register row" in col["ambiguous"][0]
    hidden = {1: "U+200B ZERO WIDTH SPACE", 2: "U+2060 WORD JOINER", 3: "U+FEFF", 4: "U+00AD"}
    for i, name in hidden.items():
        assert name in _message(doc, i, "SERIAL_UNUSUAL_CHARACTERS")
    assert "at position 4" in _message(doc, 1, "SERIAL_UNUSUAL_CHARACTERS")
    assert "CYRILLIC CAPITAL LETTER ES (looks like Latin C) at position 2" in _message(
        doc, 8, "SERIAL_UNUSUAL_CHARACTERS"
    )
    assert "FULLWIDTH DIGIT FIVE" in _message(doc, 7, "SERIAL_UNUSUAL_CHARACTERS")
    for i in (0, 5, 6):  # case, a hyphen, a space: no finding of their own
        assert "SERIAL_UNUSUAL_CHARACTERS" not in codes_of(doc, i)


@settings(max_examples=10, deadline=None)
@given(st.lists(spellings("5CG8000001"), min_size=1, max_size=3))
def test_evidence_names_the_one_device_however_spelled(
    tmp_path_factory: Any, spelled: list[tuple[str, list[str]]]
) -> None:
    """Collected evidence naming a device with hidden characters, look-alikes or other
    dashes finds that one device (never a device of its own); a serial two register rows
    share under any spelling is ambiguous, never guessed."""
    tmp = tmp_path_factory.mktemp("evidence")
    rows = [
        device(1, Serial_Number="5CG8000001", COA_Present="", COA_Edition="", Product_Key=""),
        device(2, Serial_Number="5CG9000001"),
        device(3, Serial_Number="5CG-9000001"),
        device(4),
    ]
    register = write_csv(tmp / "inv.csv", rows, HEADERS)
    before = _check(register)
    assert before["devices"][0]["status"] == "blocked"  # no evidence of its own
    lines = [f"PC-8,{s},{PRO}" for s, _odd in spelled]  # one PC, collected again and again
    lines.append(f"PC-9,5\u0421G9000\u200b001,{PRO}")  # the shared serial, spelled otherwise
    collection = tmp / "c.csv"
    collection.write_text(
        "ComputerName,SerialNumber,OA3xOriginalProductKeyDescription\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    doc = _check(register, "--evidence", collection)
    col = doc["collection"]
    assert len(doc["devices"]) == len(rows)
    assert col["matched"] == 1 and col["not_in_register"] == []
    assert col["not_collected"] == [3, 4, 5]
    assert doc["devices"][0]["status"] == "eligible"  # its firmware evidence found it
    assert [d["status"] for d in doc["devices"][1:3]] == ["blocked", "blocked"]
    assert any("is on more than one register row" in a for a in col["ambiguous"])


def test_walk_files_and_scans_find_the_one_device(tmp_path: Path) -> None:
    """A walk file naming a device with hidden or look-alike characters puts its mark on
    that device; naming a serial two rows share, on none (said). Scan mode and go to find
    the device by the same identity."""
    rows = [
        device(1, Serial_Number="5CG7000001"),
        device(2, Serial_Number="5CG7000002", Asset_Tag="AT-7002"),
        device(3, Serial_Number="5CG7000003"),
        device(4, Serial_Number="5cg 7000003"),
        device(5),
    ]
    register = write_csv(tmp_path / "inv.csv", rows, HEADERS)
    walk = tmp_path / "site.walk.csv"
    walk.write_text(
        "kind,row,serial_number,asset_tag,hostname,mark,value,by\n"
        'mark,2,5CG\u200b7000001,,,label,"missing (by Ann, 2026-12-04 10:00)",\n'
        'mark,3,,\uff21\uff34\u20117002,,label,"missing (by Ann, 2026-12-04 10:01)",\n'
        'mark,4,5\u0421G7000\u2060003,,,label,"missing (by Ann, 2026-12-04 10:02)",\n',
        encoding="utf-8",
    )
    res = run_cli("check", register, "--walk", walk, "--format", "json", *NEVER)
    assert res.code == 0, res.stderr
    doc = res.json()
    assert len(doc["devices"]) == len(rows)
    assert "LABEL_MISSING" in codes_of(doc, 0) and "LABEL_MISSING" in codes_of(doc, 1)
    assert "LABEL_MISSING" not in codes_of(doc, 2) | codes_of(doc, 3)
    assert "names 2 devices; its label mark is not placed" in res.stderr
    assert doc["devices"][4]["status"] == "eligible"

    from coa_audit.session.session import open_session

    session = open_session(register)
    lookup = session.code_index()
    assert lookup("5\u0421G\ufeff7000001") == [0]  # as a scanner or go to would ask
    assert lookup("\uff41\uff54-7002") == [1]
    assert lookup("5CG\u00ad7000003") == [2, 3]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.text(alphabet="aB1-. \t\x00\x1b\u00a0\u200b\ufeff\u0421\uff15\u0665ß", max_size=6),
        max_size=9,
    )
)
def test_a_column_at_once_is_each_value_alone(values: list[str]) -> None:
    """The audit and the merge take a column's identities a chunk at a time (joined, one
    translation); that is exactly each value's identity, and the rows told as suspect in
    the same pass are those ``suspects`` tells."""
    from itertools import chain

    import coa_audit.core.identity as ident

    saved = ident._CHUNK
    ident._CHUNK = 4  # several chunks, some ASCII, some not
    try:
        odd: list[int] = []
        got = list(chain.from_iterable(ident.iter_identities(values, odd)))
    finally:
        ident._CHUNK = saved
    assert got == [ident.identity(v) for v in values] == ident.identities(values)
    assert odd == ident.suspects(values)
    assert all(ident.identity(k) == k for k in got)  # a form is its own form
    assert ident.host_identities(values) == [ident.host_identity(v) for v in values]


def test_a_journal_finds_its_device_however_the_file_now_spells_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A restored edit finds its device by its identifiers as an identity when the file
    changed (the serial retyped with a hidden character, a row inserted above); when the
    changed file holds that identity twice, the edit is not placed (said), never guessed."""
    from coa_audit.session.session import open_session

    def killed_with_an_edit(state: str) -> tuple[Path, int]:
        monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(tmp_path / state))
        src = write_csv(tmp_path / f"{state}.csv", [device(1), device(2)])
        first = open_session(src)
        first.start_journal()
        notes = first.inventory.headers.index("Notes")
        first.apply(0, notes, "seen by Ann")  # device 1, serial 5CG0000001
        assert first.journal is not None
        first.journal.close()  # the process dies
        return src, notes

    def restore(src: Path, rows: list[dict[str, str]]) -> tuple[dict[Any, str], list[str]]:
        write_csv(src, rows)
        session = open_session(src)
        pending, _ = session.pending()
        restored = session.restore(pending[0])
        return dict(session.inventory.edits), restored.skipped

    src, notes = killed_with_an_edit("once")
    rows = [device(9), device(1, Serial_Number="5CG\u200b0000001"), device(2)]
    assert restore(src, rows) == ({(1, notes): "seen by Ann"}, [])

    src, notes = killed_with_an_edit("twice")
    rows = [device(9), device(1, Serial_Number="5cg-0000001"), device(1), device(2)]
    edits, skipped = restore(src, rows)
    assert edits == {} and len(skipped) == 1


def test_a_key_copied_with_hidden_characters_is_still_a_duplicate(tmp_path: Path) -> None:
    """A product key is compared as its identity too: a copy with a zero-width space, in
    fullwidth letters or with a Cyrillic look-alike is the same key on two devices (both
    blocked), never one eligible device beside a malformed copy."""
    key = "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG"
    copies = [
        "JB7TK-VCXJ4\u200b-8C3MW-YK3DF-8R2QG",
        "".join(_wide(c) if c.isalnum() else c for c in key),
        key.replace("C", "\u0421"),
    ]
    rows = [device(1, Product_Key=key)]
    rows += [device(i + 2, Product_Key=k) for i, k in enumerate(copies)]
    rows.append(device(99))
    doc = _check(write_csv(tmp_path / "inv.csv", rows, HEADERS))
    for i in range(len(copies) + 1):
        assert "KEY_DUPLICATE" in codes_of(doc, i), rows[i]["Product Key"]
        assert doc["devices"][i]["status"] == "blocked"
    assert doc["devices"][-1]["status"] == "eligible"
