"""Audit.update after an edit gives exactly what a full re-audit gives, for any edit
sequence, and touches only the edited row and the rows sharing its identifiers."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.core.audit import Audit
from coa_audit.core.policy import load_policy
from coa_audit.importers.load import load_inventory
from tests.conftest import device, write_csv

VALUES = {
    "serial_number": [
        "S1",
        "S2",
        "s1",
        "",
        "To be filled by O.E.M.",
        "4.1E+11",
        "S9",
        "0S1",
        "00s-1",
    ],
    "coa_key": [
        "Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8",
        "W269N-WFGWX-YVC9B-4J6C9-T83GX",
        "",
        "BAD",
        "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG",
    ],
    "asset_tag": ["T1", "T2", "", "t1"],
    "coa_edition": ["Windows 11 Pro", "Windows 10 Home", "", "Win 10", "Windows 10 Enterprise"],
    "coa_present": ["Yes", "No", "", "GML"],
    "current_os": ["Windows 11 Home", "Windows 10 Pro", ""],
    "target_image": ["Windows 11 Enterprise", "Windows 7 Ultimate", ""],
}

edits = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(sorted(VALUES)), st.integers(0, 8)),
    min_size=1,
    max_size=25,
)


def _state(audit: Audit) -> tuple:
    n = len(audit.inv)
    return (
        [audit.status(r) for r in range(n)],
        [sorted(f.code for f in audit.findings(r)) for r in range(n)],
        [[f.related_rows for f in audit.findings(r)] for r in range(n)],
        audit.summary().as_dict(),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=edits)
def test_incremental_equals_full(tmp_path: Path, edits: list[tuple[int, str, int]]) -> None:
    path = write_csv(tmp_path / "inc.csv", [device(i) for i in range(8)])
    inv = load_inventory(path)
    policy = load_policy()
    audit = Audit(inv, policy)
    for row, fname, pick in edits:
        choices = VALUES[fname]
        col = inv.mapping[fname]
        old = inv.set_value(row, col, choices[pick % len(choices)])
        touched = audit.update(row, col, old)
        assert row in touched
    fresh = Audit(inv, policy)
    assert _state(audit) == _state(fresh)


def test_update_cost_is_local(tmp_path: Path) -> None:
    rows = [device(i) for i in range(2000)]
    path = write_csv(tmp_path / "big.csv", rows)
    inv = load_inventory(path)
    audit = Audit(inv, load_policy())
    col = inv.mapping["serial_number"]
    # make row 5 share row 1500's serial: rows 5 and 1500 only
    old = inv.set_value(5, col, inv.value(1500, col))
    assert audit.update(5, col, old) == {5, 1500}
    assert audit.status(5) == audit.status(1500) == "blocked"
    old = inv.set_value(5, col, "UNIQUE-1")
    assert audit.update(5, col, old) == {5, 1500}
    assert audit.status(1500) == "eligible"
    col = inv.mapping["coa_edition"]
    old = inv.set_value(7, col, "Windows 10 Home")
    assert audit.update(7, col, old) == {7}
    assert audit.summary().blocked == 1
