"""Every finding code fires on the row that earns it and stays quiet on a clean row,
checked through `coa-audit check --format json`."""

from __future__ import annotations

import pytest

from coa_audit.core.codes import codes
from tests.conftest import codes_of, device

# code -> rows (the first row is the one asserted on), extra check arguments
FIRING: dict[str, tuple[list[dict[str, str]], list[str]]] = {
    "COA_MISSING": ([device(1, COA_Present="No", COA_Edition="", Product_Key="")], []),
    "EDITION_NOT_QUALIFYING": (
        [device(1, COA_Edition="Windows 10 Home", Operating_System="Windows 10 Home")],
        [],
    ),
    "EDITION_UNKNOWN": ([device(1, COA_Edition="")], []),
    "EDITION_REVIEW": ([device(1, COA_Edition="Windows 10 Enterprise")], []),
    "KEY_MALFORMED": ([device(1, Product_Key="JB7TK-VCXJ4-8C3MW")], []),
    "KEY_GENERIC": ([device(1, Product_Key="W269N-WFGWX-YVC9B-4J6C9-T83GX")], []),
    "KEY_DUPLICATE": (
        [
            device(1, Product_Key="Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8"),
            device(2, Product_Key="q4n7v-9r8kp-wxc2m-dd6gt-3jhq8"),
        ],
        [],
    ),
    "SERIAL_MISSING": ([device(1, Serial_Number="")], []),
    "SERIAL_PLACEHOLDER": ([device(1, Serial_Number="To be filled by O.E.M.")], []),
    "SERIAL_DUPLICATE": (
        [device(1, Serial_Number="ABC123"), device(2, Serial_Number="abc123 ")],
        [],
    ),
    # equal once a spreadsheet dropped the leading zeros: review, never merged
    "SERIAL_POSSIBLE_DUPLICATE": (
        [device(1, Serial_Number="0047120593"), device(2, Serial_Number="47120593")],
        [],
    ),
    "SERIAL_NUMERIC": ([device(1, Serial_Number="4.02194E+11")], []),
    # hidden or look-alike characters (core.identity): a zero-width space, a Cyrillic С
    "SERIAL_UNUSUAL_CHARACTERS": ([device(1, Serial_Number="5CG\u200b1000001")], []),
    "ASSET_TAG_UNUSUAL_CHARACTERS": ([device(1, Asset_Tag="AT-\u0421-1")], []),
    "HOSTNAME_UNUSUAL_CHARACTERS": ([device(1, Hostname="PC-\uff11")], []),
    "ASSET_TAG_DUPLICATE": ([device(1, Asset_Tag="T-1"), device(2, Asset_Tag="T-1")], []),
    "IMAGE_NOT_COVERED": (
        [device(1, Target_Image="Windows 11 Enterprise", Licensed_Product="Windows 10 Enterprise")],
        [],
    ),
    "OS_EVIDENCE_MISMATCH": ([device(1, Operating_System="Windows 11 Home")], []),
    "EVIDENCE_CONFLICT": ([device(1, COA_Present="No")], []),
    "DEVICE_OUT_OF_SCOPE": ([device(1, Manufacturer="Apple", Model="MacBook Air")], []),
    "EVIDENCE_UNKNOWN": ([device(1, COA_Present="pending")], []),
    "EVIDENCE_NOT_BASE": ([device(1, COA_Present="MAK")], []),
    "KEY_PLACEHOLDER": (
        [device(1, COA_Present="", COA_Edition="", Product_Key="BBBBB-BBBBB-BBBBB-BBBBB-BBBBB")],
        [],
    ),
    "NOT_A_PC": ([device(1, Asset_Type="Monitor")], []),
    # the register's own fields (the Notes column mapped to them: the sample has no such column)
    "LABEL_FIRMWARE_DIFFER": (
        [device(1, Notes="[4.0] CoreSingleLanguage OEM:DM")],
        ["--map", "Notes=oa3_edition"],
    ),
    "OA3_EDITION_UNKNOWN": ([device(1, Notes="[4.0] Blah OEM:DM")], ["--map", "Notes=oa3_edition"]),
    "ASSET_GONE": ([device(1, Notes="Lost/Stolen")], ["--map", "Notes=asset_status"]),
    "STATUS_UNKNOWN": ([device(1, Notes="Frobnicated")], ["--map", "Notes=asset_status"]),
    "ASSET_DELETED": ([device(1, Notes="2024-02-29 10:11:12")], ["--map", "Notes=deleted_on"]),
    "DELETED_UNKNOWN": ([device(1, Notes="perhaps")], ["--map", "Notes=deleted_on"]),
}


# codes only the walk through the fleet gives (a verifier's acceptance or removal on
# screen): they fire in tests/test_walk.py, through the app and the exported packet
# the walk's codes fire from marks made on site (tests/test_walk.py, tests/test_audit_trail.py)
WALK_CODES = {
    "ATTESTED",
    "REMOVED_FROM_ORDER",
    "LABEL_DIFFERS",
    "LABEL_MISSING",
    "NOT_FOUND",
    "WALK_CONFLICT",
}


def test_every_code_has_a_firing_case() -> None:
    assert set(FIRING) | WALK_CODES == set(codes())
    assert not set(FIRING) & WALK_CODES


@pytest.mark.parametrize("code", sorted(FIRING))
def test_code_fires(code: str, inventory) -> None:
    rows, args = FIRING[code]
    report = inventory(*rows, device(99), args=args)
    assert code in codes_of(report, 0)
    finding = next(f for f in report["devices"][0]["findings"] if f["code"] == code)
    assert finding["severity"] == codes()[code].severity
    assert finding["message"].endswith(codes()[code].action)
    # the clean row beside it stays clean
    assert report["devices"][-1]["findings"] == []
    assert report["devices"][-1]["status"] == "eligible"


@pytest.mark.parametrize("code", sorted(FIRING))
def test_code_quiet_on_clean_row(code: str, inventory) -> None:
    report = inventory(device(1), device(2))
    for d in report["devices"]:
        assert code not in {f["code"] for f in d["findings"]}


def test_duplicates_name_the_related_rows(inventory) -> None:
    report = inventory(device(1, Serial_Number="X1"), device(2), device(3, Serial_Number="X1"))
    first, _, third = report["devices"]
    dup = next(f for f in first["findings"] if f["code"] == "SERIAL_DUPLICATE")
    assert dup["related_rows"] == [third["row"]] == [4]
    assert dup["column"] == "B"
    assert first["status"] == third["status"] == "blocked"


def test_status_follows_severity(inventory) -> None:
    report = inventory(
        device(1),
        device(2, COA_Edition="Windows 10 Enterprise"),
        device(3, COA_Edition="Windows 10 Home", Operating_System=""),
    )
    assert [d["status"] for d in report["devices"]] == ["eligible", "review", "blocked"]
    s = report["summary"]
    assert (s["eligible"], s["review"], s["blocked"]) == (1, 1, 1)


def test_installed_os_is_a_hint_not_evidence(inventory) -> None:
    report = inventory(device(1, COA_Edition="", Operating_System="Windows 10 Pro"))
    f = report["devices"][0]["findings"][0]
    assert f["code"] == "EDITION_UNKNOWN"
    assert "'Windows 10 Pro'" in f["message"] and "not evidence" in f["message"]


def test_placeholders_and_generic_keys_are_not_duplicates(inventory) -> None:
    report = inventory(
        device(1, Serial_Number="Default string"),
        device(2, Serial_Number="Default string"),
        device(3, Product_Key="W269N-WFGWX-YVC9B-4J6C9-T83GX"),
        device(4, Product_Key="W269N-WFGWX-YVC9B-4J6C9-T83GX"),
    )
    codes_seen = set().union(*(codes_of(report, i) for i in range(4)))
    assert "SERIAL_DUPLICATE" not in codes_seen and "KEY_DUPLICATE" not in codes_seen
    assert {"SERIAL_PLACEHOLDER", "KEY_GENERIC"} <= codes_seen


def test_downgrade_rules(inventory) -> None:
    report = inventory(
        device(1, Target_Image="Windows 10 Enterprise", Licensed_Product="Windows 11 Enterprise"),
        device(2, Target_Image="Windows 10 Pro", Licensed_Product="Windows 11 Enterprise"),
        device(3, Target_Image="Windows 11 Pro", Licensed_Product="Windows 11 Enterprise"),
        device(4, Target_Image="Windows 7 Ultimate", Licensed_Product="Windows 10 Enterprise"),
        device(5, Target_Image="Windows 10 Enterprise", Licensed_Product="Windows 10 Pro"),
    )
    covered = ["IMAGE_NOT_COVERED" not in codes_of(report, i) for i in range(5)]
    assert covered == [True, True, False, False, False]
    messages = [f["message"] for d in report["devices"] for f in d["findings"]]
    assert any("D3" in m for m in messages) and any("D2" in m for m in messages)


def test_keys_never_appear_in_full(inventory) -> None:
    key = "Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8"
    report = inventory(
        device(1, Product_Key=key),
        device(2, Product_Key=key),
        device(3, Product_Key="Q4N7V-9R8KP-WXC2"),
    )
    import json

    text = json.dumps(report)
    assert "Q4N7V" not in text
    assert "XXXXX-XXXXX-XXXXX-XXXXX-3JHQ8" in text


def test_duplicate_severity_comes_from_findings_toml(
    inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing a duplicate code's severity in findings.toml changes the verdict: nothing
    about duplicates is hard-coded as blocking."""
    rows = [device(1, Serial_Number="DUP-1"), device(2, Serial_Number="DUP-1")]
    assert [d["status"] for d in inventory(*rows)["devices"]] == ["blocked", "blocked"]
    import dataclasses

    import coa_audit.core.codes as codes_mod

    table = dict(codes_mod.codes())
    table["SERIAL_DUPLICATE"] = dataclasses.replace(table["SERIAL_DUPLICATE"], severity="warning")
    monkeypatch.setattr(codes_mod, "codes", lambda: table)
    monkeypatch.setattr(codes_mod, "code_info", lambda code: table[code])
    import coa_audit.core.audit as audit_mod

    monkeypatch.setattr(audit_mod, "code_info", lambda code: table[code])
    assert [d["status"] for d in inventory(*rows)["devices"]] == ["review", "review"]
