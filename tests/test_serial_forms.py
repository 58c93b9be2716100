"""Serials in one form for duplicates (RULES §6, issue 32 item 8): spaces, dashes, NBSP,
fullwidth digits, zero-width characters and case never make two serials differ (a
SERIAL_DUPLICATE naming the other row); two serials equal once leading zeros are dropped
are a SERIAL_POSSIBLE_DUPLICATE (a review naming the other row, never merged into a
duplicate). Through `coa-audit check --format json` on generated registers, and through a
session's edits that make two serials collide or stop colliding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import device, run_cli, write_csv

HEADERS = (*SAMPLE_HEADERS, "Asset Type")
SEPARATORS = [" ", "-", "\u00a0", "\u2011", "\u2013", "\u3000", "\u200b", "\u2060", "\ufeff"]
POSSIBLE = "SERIAL_POSSIBLE_DUPLICATE"


def _check(tmp: Path, serials: list[str]) -> list[dict[str, Any]]:
    rows = [device(i, Serial_Number=s) for i, s in enumerate(serials)]
    path = write_csv(tmp / "inv.csv", rows, HEADERS)
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    devices: list[dict[str, Any]] = res.json()["devices"]
    assert len(devices) == len(serials)
    return devices


def _related(d: dict[str, Any], code: str) -> set[int] | None:
    """The rows a device's finding of ``code`` names, or None without that finding."""
    found = [f for f in d["findings"] if f["code"] == code]
    assert len(found) <= 1
    return set(found[0]["related_rows"]) if found else None


@st.composite
def spelled(draw: st.DrawFn, serial: str) -> str:
    """``serial`` written another way: separators inside it, case, fullwidth forms."""
    chars = list(serial)
    for i in draw(st.lists(st.integers(0, len(chars) - 1), max_size=3, unique=True)):
        if chars[i].isascii() and chars[i].isalnum():
            chars[i] = chr(ord(chars[i].upper()) + 0xFEE0)  # FULLWIDTH form
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(1, len(chars) - 1))
        chars.insert(at, draw(st.sampled_from(SEPARATORS)))
    text = "".join(chars)
    return draw(st.sampled_from([text, text.lower(), text.upper()]))


serial_text = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ123456789", min_size=6, max_size=10).filter(
    lambda s: len(set(s)) > 2  # not one repeated character (a placeholder of its own)
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(serial_text, min_size=2, max_size=5, unique=True), st.data())
def test_a_serial_written_another_way_is_a_duplicate(
    tmp_path_factory: Any, bases: list[str], data: st.DataObject
) -> None:
    """Each serial and a spelling of it: the pair, and only the pair, are duplicates."""
    tmp = tmp_path_factory.mktemp("forms")
    serials = [s for base in bases for s in (base, data.draw(spelled(base)))]
    devices = _check(tmp, serials)
    for i, d in enumerate(devices):
        partner = i + 1 if i % 2 == 0 else i - 1
        assert _related(d, "SERIAL_DUPLICATE") == {partner + 2}, (serials[i], d["findings"])
        assert _related(d, POSSIBLE) is None
        assert d["status"] == "blocked"


def test_the_issues_spellings_are_one_serial(tmp_path: Path) -> None:
    devices = _check(tmp_path, ["PF3A7K2B", "PF3A 7K2B", "PF3A-7K2B", "pf3a7k2b", "PF3A7K2C"])
    for d in devices[:4]:
        assert len(_related(d, "SERIAL_DUPLICATE") or ()) == 3
    assert devices[4]["status"] == "eligible" and devices[4]["findings"] == []


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.text("123456789", min_size=1, max_size=1), min_size=1, max_size=4),
    st.data(),
)
def test_serials_equal_once_leading_zeros_are_dropped_are_a_possible_duplicate(
    tmp_path_factory: Any, heads: list[str], data: st.DataObject
) -> None:
    """Pairs of a serial with leading zeros (one to four, in any spelling) and without
    them: each a review naming the other, never a SERIAL_DUPLICATE."""
    tmp = tmp_path_factory.mktemp("zeros")
    serials: list[str] = []
    for n, head in enumerate(heads):
        digits = f"{head}{n}7120593{n}"
        zeros = "0" * data.draw(st.integers(1, 4))
        padded = data.draw(st.sampled_from([zeros + digits, data.draw(spelled(zeros + digits))]))
        serials += [padded, digits] if data.draw(st.booleans()) else [digits, padded]
    devices = _check(tmp, serials)
    for i, d in enumerate(devices):
        partner = i + 1 if i % 2 == 0 else i - 1
        assert _related(d, POSSIBLE) == {partner + 2}, (serials, i, d["findings"])
        assert _related(d, "SERIAL_DUPLICATE") is None
        assert d["status"] == "review"
        message = next(f["message"] for f in d["findings"] if f["code"] == POSSIBLE)
        assert f"row {partner + 2}" in message and "leading zeros" in message


def test_an_exact_duplicate_keeps_its_finding_beside_a_possible_one(tmp_path: Path) -> None:
    devices = _check(tmp_path, ["0047120593", "0047120593", "47120593", "0047120594"])
    assert _related(devices[0], "SERIAL_DUPLICATE") == {3}
    assert _related(devices[1], "SERIAL_DUPLICATE") == {2}
    assert _related(devices[0], POSSIBLE) == _related(devices[1], POSSIBLE) == {4}
    assert _related(devices[2], POSSIBLE) == {2, 3}
    assert _related(devices[2], "SERIAL_DUPLICATE") is None
    assert [d["status"] for d in devices] == ["blocked", "blocked", "review", "eligible"]


def test_zeros_that_are_not_leading_make_no_possible_duplicate(tmp_path: Path) -> None:
    """Trailing or inner zeros, a different serial, zeros alone: nothing to review."""
    serials = ["4712059", "47120590", "A0047", "A47", "47012", "4712", "00000000", "0"]
    devices = _check(tmp_path, serials)
    for s, d in zip(serials, devices, strict=True):
        assert _related(d, POSSIBLE) is None and _related(d, "SERIAL_DUPLICATE") is None, s


def test_edits_make_serials_collide_and_part(tmp_path: Path) -> None:
    """Through a session: an edit that makes a serial a spelling of another is a duplicate
    on both, one that drops its leading zeros a possible duplicate on both; editing it away
    clears both rows, and undo gives each state back."""
    from coa_audit.session.session import open_session

    src = write_csv(tmp_path / "inv.csv", [device(i) for i in range(5)], HEADERS)
    session = open_session(src)
    audit = session.audit
    col = session.inventory.headers.index("Serial Number")
    other = session.inventory.value(3, col)  # 5CG0000003
    session.apply(1, col, "5cg\u00a0000-0003")
    assert audit.codes(1) == audit.codes(3) == ["SERIAL_DUPLICATE"]
    session.apply(1, col, "000" + other[3:])  # 0000003: the same digits, zeros in front
    session.apply(3, col, other[3:].lstrip("0"))  # 3
    assert audit.codes(1) == audit.codes(3) == [POSSIBLE]
    assert audit.status(1) == audit.status(3) == "review"
    assert [f.related_rows for f in audit.findings(1)] == [(5,)]
    session.apply(1, col, "\uff10\u200b3")  # fullwidth 0, a zero-width space, 3: "03"
    assert audit.codes(1) == ["SERIAL_UNUSUAL_CHARACTERS", POSSIBLE]  # and its characters
    assert audit.codes(3) == [POSSIBLE]
    session.apply(1, col, "5CG7777777")
    assert audit.codes(1) == audit.codes(3) == []
    session.undo()
    assert audit.codes(1) == ["SERIAL_UNUSUAL_CHARACTERS", POSSIBLE]
    session.undo()
    assert audit.codes(1) == audit.codes(3) == [POSSIBLE]
    session.undo()
    assert audit.codes(1) == audit.codes(3) == []  # 0000003 beside 5CG0000003: different
    session.undo()
    assert audit.codes(1) == audit.codes(3) == ["SERIAL_DUPLICATE"]
    session.undo()
    assert [audit.status(r) for r in range(5)] == ["eligible"] * 5
