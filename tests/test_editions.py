"""The edition parser and the default policy, against the domain reference."""

from __future__ import annotations

import pytest

from coa_audit.core.editions import parse_edition
from coa_audit.core.policy import load_policy
from tests.conftest import SHARED


def _tsv_lines() -> list[tuple[str, str, str]]:
    path = SHARED / "domain" / "editions.tsv"
    if not path.exists():
        pytest.skip(f"{path} not present (shared/ sits beside the checkout)")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text, verdict, *why = line.split("\t")
        out.append((text, verdict, why[0] if why else ""))
    return out


def test_every_line_of_editions_tsv_gets_its_verdict() -> None:
    policy = load_policy()
    lines = _tsv_lines()
    assert len(lines) >= 70
    wrong = [
        (t, v, policy.rate(parse_edition(t)).verdict)
        for t, v, _ in lines
        if policy.rate(parse_edition(t)).verdict != v
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "family", "version", "edition", "variant"),
    [
        ("Microsoft Windows 7 Professional ", "windows", "7", "pro", None),
        ("Microsoft® Windows Server® 2008 Enterprise", "windows-server", None, "server", None),
        ("Microsoft Windows 11 Pro Education", "windows", "11", "pro-education", None),
        ("Microsoft Windows 10 Pro for Workstations", "windows", "10", "pro-workstation", None),
        ("Windows 10 Pro 10.0.22631", "windows", "11", "pro", None),
        ("Windows 10 Pro (downgrade from Windows 11 Pro)", "windows", "11", "pro", None),
        ("professionalN", "windows", None, "pro", "n"),
        ("Windows 10 Pro KN", "windows", "10", "pro", "kn"),
        ("Windows 10 IoT Core", "windows", "10", "iot-core", None),
        ("Win8.1 Core", "windows", "8.1", "home", None),
        ("Win7 HP", "windows", "7", "ambiguous", None),
        ("Win 2019", "windows-server", None, "server", None),
        ("[4.0] Core OEM:DM", "windows", None, "home", None),
        ("Microsoft Windows NT Workstation 10.0", "windows", "10", "unspecified", None),
    ],
)
def test_parser_reads_the_pitfalls(
    text: str, family: str, version: str | None, edition: str, variant: str | None
) -> None:
    p = parse_edition(text)
    assert (p.family, p.version, p.edition, p.variant) == (family, version, edition, variant)


@pytest.mark.parametrize("text", ["", "   ", "N/A", "n/a", "unknown", "-"])
def test_blank_like_text_is_no_edition(text: str) -> None:
    assert parse_edition(text).edition is None


def test_gibberish_is_unreadable_not_a_guess() -> None:
    p = parse_edition("see sticker on PSU")
    assert p.edition == "unreadable"
    assert load_policy().rate(p).verdict == "review"


def test_academic_agreement_and_education_target() -> None:
    home = parse_edition("Windows 10 Home")
    pro_edu = parse_edition("Windows 11 Pro Education")
    assert load_policy().rate(home).verdict == "not-qualifying"
    assert load_policy(agreement="academic").rate(home).verdict == "not-qualifying"
    edu = load_policy(target="windows-education", agreement="academic")
    assert edu.rate(home).verdict == "qualifies"
    assert load_policy(agreement="academic").rate(pro_edu).verdict == "qualifies"
    assert load_policy().rate(pro_edu).verdict == "review"


def test_windows_pro_target_is_stricter_about_ultimate() -> None:
    ult = parse_edition("Windows 7 Ultimate")
    assert load_policy().rate(ult).verdict == "qualifies"
    assert load_policy(target="windows-pro").rate(ult).verdict == "review"
