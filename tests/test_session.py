"""The session layer: every change goes through it, is journaled, and restores exactly, on
the right device, whatever happened to the session or to the file."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.session.session import Session, open_session
from tests.conftest import device, run_cli, write_csv

EXAMPLES = int(os.environ.get("COA_FUZZ_EXAMPLES", "40"))
EDITABLE = ("COA Present", "COA Edition", "Notes", "Location", "Serial Number")
VALUES = ("GML", "No", "Windows 11 Pro", "Windows 10 Home", "checked", "", "5CG-NEW")


def _state(s: Session) -> tuple:
    inv, h = s.inventory, s.history
    return (
        dict(inv.edits),
        dict(inv.mapping),
        [(e.row, e.col, e.old, e.new) for e in h.undo_stack],
        [(e.row, e.col, e.old, e.new) for e in h.redo_stack],
        s.audit.summary(),
    )


def _kill(s: Session) -> None:
    """The process dies: no close entry, no export, the descriptor simply goes away."""
    assert s.journal is not None
    s.journal.close()


actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("edit"),
            st.integers(0, 4),
            st.sampled_from(EDITABLE),
            st.sampled_from(VALUES),
        ),
        st.tuples(st.just("undo")),
        st.tuples(st.just("redo")),
        st.tuples(st.just("remap"), st.booleans()),
    ),
    max_size=25,
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(script=actions)
def test_restore_gives_back_exactly_the_state_at_the_kill(
    script: list[tuple], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(Path(tmp) / "state"))
        src = write_csv(Path(tmp) / "fleet.csv", [device(i) for i in range(1, 6)])
        first = open_session(src)
        first.start_journal()
        inv = first.inventory
        original_mapping = dict(inv.mapping)
        for action in script:
            if action[0] == "edit":
                _, row, header, value = action
                first.apply(row, inv.headers.index(header), value)
            elif action[0] == "undo":
                first.undo()
            elif action[0] == "redo":
                first.redo()
            else:  # swap what Notes and Location mean, or put them back
                m = dict(original_mapping)
                if action[1]:
                    m["notes"], m["location"] = m["location"], m["notes"]
                first.remap(m)
        at_kill = _state(first)
        _kill(first)

        second = open_session(src)
        pending, log = second.pending()
        assert log.skipped == 0
        if not pending:  # nothing to restore: the first session left the file's state
            assert at_kill[0] == {} and not first.mapping_changes
            return
        restored = second.restore(pending[0])
        assert restored.skipped == []
        assert _state(second) == at_kill
        # and the second session's own journal restores the same again
        _kill(second)
        third = open_session(src)
        again, _ = third.pending()
        third.restore(again[0])
        assert _state(third) == at_kill


def _rows_csv(path: Path, serials: list[str]) -> Path:
    """One device per serial; its asset tag and host name travel with it."""
    rows = [
        device(i + 1, Serial_Number=s, Asset_Tag=f"AT-{s}", Hostname=f"PC-{s}")
        for i, s in enumerate(serials)
    ]
    return write_csv(path, rows)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(("COA Edition", "Notes", "COA Present"))),
        min_size=1,
        max_size=10,
    ),
    inserted=st.lists(st.integers(0, 8), max_size=4),
    deleted=st.sets(st.integers(0, 7), max_size=3),
)
def test_no_restored_edit_lands_on_another_device(
    edits: list[tuple[int, str]],
    inserted: list[int],
    deleted: set[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(Path(tmp) / "state"))
        serials = [f"SER-{i:03d}" for i in range(8)]
        src = _rows_csv(Path(tmp) / "fleet.csv", serials)
        first = open_session(src)
        first.start_journal()
        inv = first.inventory
        meant: dict[tuple[str, str], str] = {}  # (serial, header) -> value
        for n, (row, header) in enumerate(edits):
            value = f"edit {n}"
            first.apply(row, inv.headers.index(header), value)
            meant[(serials[row], header)] = value
        _kill(first)
        # the source changes: devices inserted at the top or between, some deleted
        now = [s for i, s in enumerate(serials) if i not in deleted]
        for k, pos in enumerate(inserted):
            now.insert(min(pos, len(now)), f"NEW-{k}")
        _rows_csv(src, now)

        second = open_session(src)
        pending, _ = second.pending()
        restored = second.restore(pending[0])
        inv2 = second.inventory
        for (row, col), value in inv2.edits.items():
            serial = inv2.original(row, inv2.mapping["serial_number"])
            assert meant[(serial, inv2.headers[col])] == value  # its own device, never another
        placed = {
            (inv2.original(r, inv2.mapping["serial_number"]), inv2.headers[c])
            for r, c in inv2.edits
        }
        lost = {k for k in meant if k[0] not in now}
        assert placed == set(meant) - lost
        assert len(restored.skipped) >= len([k for k in meant if k[0] not in now])


def test_export_resume_never_puts_an_edit_on_another_device(tmp_path: Path) -> None:
    src = _rows_csv(tmp_path / "fleet.csv", ["A-1", "A-2", "A-3"])
    first = open_session(src)
    first.start_journal()
    first.apply(1, first.inventory.headers.index("COA Present"), "GML")  # device A-2
    _kill(first)
    _rows_csv(src, ["NEW-TOP", "A-1", "A-3"])  # a row at the top, A-2 deleted
    res = run_cli("export", src, "--resume", "--checklist", "")
    assert res.code == 0
    assert "resumed 0 journaled edit(s) (1 not applied)" in res.stderr
    assert "A-2" in res.stderr
    text = (tmp_path / "fleet.corrected.csv").read_text()
    assert "GML" not in text


def test_two_sessions_one_quits_clean_the_other_is_killed(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1), device(2)])
    a, b = open_session(src), open_session(src)
    a.start_journal()
    b.start_journal()
    a.apply(0, a.inventory.headers.index("Notes"), "from a")
    a.undo()  # a ends with nothing pending and quits clean
    b.apply(1, b.inventory.headers.index("Notes"), "from b")
    a.close()
    _kill(b)
    c = open_session(src)
    pending, _ = c.pending()
    assert len(pending) == 1
    c.restore(pending[0])
    assert list(c.inventory.edits.values()) == ["from b"]


def test_journal_is_private_to_its_owner(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1)])
    s = open_session(src)
    s.start_journal()
    s.apply(0, s.inventory.headers.index("Product Key"), "Q4N7V-9R8KP-WXC2M-DD6GT-3JHQ8")
    assert s.journal is not None
    mode = stat.S_IMODE(s.journal.path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(s.journal.path.parent.stat().st_mode) & 0o077 == 0


def test_an_unwritable_journal_never_stops_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(blocker))
    src = write_csv(tmp_path / "fleet.csv", [device(1, COA_Present="No")])
    s = open_session(src)
    s.start_journal()
    s.apply(0, s.inventory.headers.index("COA Present"), "GML")
    assert s.journal_error is not None
    assert s.audit.summary().eligible == 1 and s.dirty
    s.undo()
    s.close()


def test_restore_of_many_edits_writes_the_journal_once(tmp_path: Path) -> None:
    rows = [device(i) for i in range(1, 2001)]
    src = write_csv(tmp_path / "fleet.csv", rows)
    first = open_session(src)
    first.start_journal()
    col = first.inventory.headers.index("Notes")
    for r in range(2000):
        first.apply(r, col, f"note {r}")
    _kill(first)
    second = open_session(src)
    pending, _ = second.pending()
    fsyncs = []
    real = os.fsync
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real(fd))[1])
        restored = second.restore(pending[0])
    assert restored.applied == 2000
    assert len(fsyncs) <= 2  # the opening line and the whole restore: not one per edit


def test_changes_sheet_and_summary_show_the_mapping(tmp_path: Path) -> None:
    import openpyxl

    src = write_csv(tmp_path / "fleet.csv", [device(1)])
    s = open_session(src)
    m = dict(s.inventory.mapping)
    m["notes"], m["location"] = m["location"], m["notes"]
    s.remap(m)
    from coa_audit.exporters.export import ExportRequest, export_all

    export_all(s.audit, s.changes(), ExportRequest(checklist=()), s.mapping_changes)
    wb = openpyxl.load_workbook(tmp_path / "fleet.audit.xlsx")
    summary = [tuple(r[:2]) for r in wb["Summary"].values]
    assert ("notes", "L: Location") in summary and ("location", "M: Notes") in summary
    changes = list(wb["Changes"].values)
    assert changes[1][1] == "(column mapping)" and "notes: Notes" in changes[1][3]
    assert "notes: Location" in changes[1][4]


def test_saved_mapping_is_offered_headlessly_and_used_with_mapping(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("Serial Number,Host,Label Text\n5CG1,PC-1,Windows 11 Pro\n")
    res = run_cli("columns", path, "--map", "Label Text=coa_edition", "--save-mapping")
    assert res.code == 0
    saved = Path(res.stdout.strip().splitlines()[-1].split(": ", 1)[1])
    assert saved.exists() and stat.S_IMODE(saved.stat().st_mode) == 0o600
    # the same layout next month: check says a saved mapping exists, and does not apply it
    month = tmp_path / "next-month.csv"
    month.write_text("Serial Number,Host,Label Text\n5CG2,PC-2,Windows 10 Home\n")
    doc = run_cli("check", month, "--format", "json", "--fail-on", "never").json()
    assert "coa_edition" not in doc["mapping"]
    assert any(f"--mapping {saved}" in n for n in doc["source"]["notices"])
    doc = run_cli(
        "check", month, "--mapping", saved, "--format", "json", "--fail-on", "never"
    ).json()
    assert doc["mapping"]["coa_edition"] == "Label Text"
    assert doc["devices"][0]["status"] == "blocked"  # Home: the saved mapping read the evidence
    # --map still wins over a saved mapping
    doc = run_cli(
        "check", month, "--mapping", saved, "--map", "Label Text=notes", "--format", "json"
    ).json()
    assert doc["mapping"].get("notes") == "Label Text" and "coa_edition" not in doc["mapping"]


@pytest.mark.parametrize(
    "content", ["not toml [", "[mapping]\nno_such_field = 'X'\n", "[other]\na = 1\n"]
)
def test_a_bad_mapping_file_is_a_usage_error(tmp_path: Path, content: str) -> None:
    src = write_csv(tmp_path / "fleet.csv", [device(1)])
    bad = tmp_path / "m.toml"
    bad.write_text(content)
    res = run_cli("check", src, "--mapping", bad)
    assert res.code == 2 and "--mapping" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
