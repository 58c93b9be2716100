"""Shared helpers: run the real command and build small inventories."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coa_audit.cli.main import app
from coa_audit.core.sample import SAMPLE_HEADERS

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_inventories"
SHARED = REPO.parent / "shared"

# A device that passes every check under the default policy.
CLEAN: dict[str, str] = {
    "Asset Tag": "AT-1",
    "Serial Number": "5CG1000001",
    "Hostname": "PC-1",
    "Manufacturer": "HP",
    "Model": "EliteBook 840 G9",
    "Operating System": "Windows 10 Pro",
    "COA Present": "Yes",
    "COA Edition": "Windows 11 Pro",
    "Product Key": "JB7TK-VCXJ4-8C3MW-YK3DF-8R2QG",
    "Target Image": "Windows 11 Enterprise",
    "Licensed Product": "Windows 11 Enterprise",
    "Location": "London",
    "Notes": "",
    "Purchase Date": "2023-03-01",
    "Asset Type": "Laptop",
}
KEY_ALPHABET = "BCDFGHJKMPQRTVWXY2346789"


def oem_copy(folder: Path) -> Path:
    """The shipped OEM sample, copied where the test may write next to it."""
    src = folder / "oem-fleet.xlsx"
    src.write_bytes((SAMPLES / "oem-fleet.xlsx").read_bytes())
    return src


def device(n: int, **changes: str) -> dict[str, str]:
    """A clean device with unique identifiers, then ``changes`` (header names with _ for spaces)."""
    row = dict(CLEAN)
    row["Asset Tag"] = f"AT-{n:05d}"
    row["Serial Number"] = f"5CG{n:07d}"
    row["Hostname"] = f"PC-{n:05d}"
    tail = "".join(KEY_ALPHABET[(n // 24**i) % 24] for i in range(5))
    row["Product Key"] = f"JB7TK-VCXJ4-8C3MW-YK3DF-{tail}"
    for k, v in changes.items():
        name = k.replace("_", " ")
        assert name in row, name
        row[name] = v
    return row


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    headers: Sequence[str] = SAMPLE_HEADERS,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    out = io.StringIO()
    # CRLF, as Excel writes it: a bare CR inside a value then gets quoted
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([r.get(h, "") for h in headers])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def states_register(folder: Path) -> Path:
    """``folder/states.csv``: one device in every state a row can be in (eligible, review,
    blocked, not a PC), for the app's snapshots and colour tests."""
    return write_csv(
        folder / "states.csv",
        [
            device(1),
            device(2, COA_Present="No"),
            device(3, COA_Edition="Windows 10 Enterprise"),
            device(4, Asset_Type="Monitor"),
            device(5),
        ],
        (*SAMPLE_HEADERS, "Asset Type"),
    )


class Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_bounded(*args: str | Path, gib: int = 3, timeout: float = 60) -> Result:
    """The installed program (supervisor and all) on ``args``, under an address-space limit
    of ``gib`` GiB and a time limit: what a hostile file may cost at most."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (gib * 1024**3, gib * 1024**3))

    coa = str(Path(sys.executable).parent / "coa-audit")
    proc = subprocess.run(
        [coa, *map(str, args)], capture_output=True, timeout=timeout, preexec_fn=limit
    )
    return Result(
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )


def assert_verdict_or_refusal(res: Result) -> None:
    """A hostile file ends in a verdict (0, or 1 with findings) or the one-line refusal
    (3), never a signal or a traceback."""
    assert res.code in (0, 1, 3), (res.code, res.stderr[-300:])
    if res.code == 3:
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr[-500:]


def counted_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children ``exporters.side_by_side`` forks from now on (their pids), recorded as
    the forks are made: how a test knows work really ran on two cores."""
    from coa_audit.exporters import side_by_side

    forks: list[int] = []
    real_fork = os.fork

    def counted_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(side_by_side.os, "fork", counted_fork)
    return forks


def run_cli(*args: str | Path) -> Result:
    runner = CliRunner()
    res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return Result(res.exit_code, res.stdout, res.stderr)


@pytest.fixture
def inventory(tmp_path: Path):
    """Write rows to a CSV and return the `check --format json` report of it."""

    def make(*rows: dict[str, str], args: Sequence[str] = ()) -> dict[str, Any]:
        path = write_csv(tmp_path / "inv.csv", rows, (*SAMPLE_HEADERS, "Asset Type"))
        res = run_cli("check", path, "--format", "json", "--fail-on", "never", *args)
        assert res.code == 0, res.stderr
        return res.json()

    return make


async def settle(app, pilot) -> None:
    """Let the app's workers (loading, export) finish, the keys pressed run, and the screen
    catch up."""
    await app.workers.wait_for_complete()
    await let_keys_through(pilot)


async def let_keys_through(pilot, limit: float = 5.0) -> None:
    """Wait until the main screen has let every key pressed through, then until the app is
    idle. There a printable key waits a moment (tui/burst.py, BURST_WINDOW) in case it starts
    a scanner's burst, and runs after it: a test that looks at a key's effect waits here."""
    import time

    from coa_audit.tui.burst import BURST_WINDOW

    guard = getattr(getattr(pilot.app, "main", None), "scan_guard", None)
    until = time.monotonic() + limit
    await pilot.pause()  # keys still on their way reach the screen
    while guard is not None and guard.busy and time.monotonic() < until:
        await pilot.pause(BURST_WINDOW / 3)
    await pilot.pause()


async def press(pilot, *keys: str) -> None:
    """``pilot.press``, then wait until the keys have run (``let_keys_through``)."""
    await pilot.press(*keys)
    await let_keys_through(pilot)


def killed_session(src: Path, *edits: tuple[int, str, str], undo: int = 0):  # -> Session
    """A session that journaled ``edits`` (row index, header, value) and ``undo`` undos, then
    died without a word (no close entry, nothing exported)."""
    from coa_audit.session.session import open_session

    session = open_session(src)
    session.start_journal()
    inv = session.inventory
    for row, header, value in edits:
        session.apply(row, inv.headers.index(header), value)
    for _ in range(undo):
        session.undo()
    assert session.journal is not None
    session.journal.close()
    return session


def codes_of(report: dict[str, Any], row_index: int = 0) -> set[str]:
    return {f["code"] for f in report["devices"][row_index]["findings"]}


# modules whose tests time something (a ratio against a reference, a signal mid-export) or
# drive the app, whose scanner guard tells a burst from typing by time: each runs with a
# core to itself (make test: -n 2 --dist loadfile, after the others)
SERIAL_MODULES = {"test_linear_checkers"}
# modules whose app tests type no scanner burst and time nothing (a command key, a prompt's
# text, a dialog's fields): they share the cores with the others; the walk, scanner, loading
# and audit-trail tests, which type bursts or watch a file load, stay alone
UNTIMED_MODULES = {
    "test_tui",
    "test_tui_polish",
    "test_reopen_encoding",
    "test_guards",
    "test_special_cells",
    "test_headers_by_meaning",
    "test_edition_headers",
    "test_collected_evidence",
    "test_desk_grid",
    "test_desk_actions",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``serial`` every test that drives the app (a coroutine) or sits in a module that
    times something; ``make test`` runs the rest on both cores first."""
    import inspect

    for item in items:
        func = getattr(item, "function", None)
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""  # type: ignore[attr-defined]
        if item.get_closest_marker("untimed") is not None or module in UNTIMED_MODULES:
            continue  # drives the app, but times nothing and types no printable burst
        if inspect.iscoroutinefunction(func) or module in SERIAL_MODULES:
            item.add_marker(pytest.mark.serial)


@pytest.fixture(autouse=True)
def _private_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journals and the profile live in a throwaway folder, never in the user's own."""
    base = tmp_path_factory.mktemp("coa-state")
    monkeypatch.setenv("COA_AUDIT_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("COA_AUDIT_CONFIG_DIR", str(base / "config"))


@pytest.fixture
def state_dir() -> Path:
    """This test's own state folder (journals, walks), as ``_private_state`` set it."""
    return Path(os.environ["COA_AUDIT_STATE_DIR"])
