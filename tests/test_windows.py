"""Windows, natively (issue 33): the program runs where CPython has none of POSIX's extras.

Every test runs the code in a subprocess whose start (a ``sitecustomize`` in a folder put
on ``PYTHONPATH``) takes away what Windows' CPython 3.11 lacks: ``os.fork``, ``os.fchmod``,
``os.getuid``, ``O_NOFOLLOW``, ``O_NONBLOCK``, ``sysconf``, the wait-status macros, the
signals Windows has not (SIGHUP, SIGCHLD, SIGKILL...), ``pthread_sigmask`` and
``sigtimedwait``, and the modules termios, fcntl, resource, tty, pty, pwd and grp. Files
read 0o666, as Windows reports every writable file, and ``os.kill(pid, 0)`` fails loudly
(on Windows it would end that process). ``sys.platform`` is "win32" for coa-audit's own
modules only, so their Windows branches run (their ctypes calls fail here and must fall
back quietly); Textual keeps its own driver and platformdirs its own backend, as each picks
its Windows one there. What this cannot show (the console, Job Objects, access lists) is
listed in ARCHITECTURE.md's Windows paragraph.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import device, write_csv

EXE = Path(sys.executable).parent / "coa-audit"

SHIM = r'''
"""What Windows' CPython 3.11 lacks, taken away before anything else is imported."""
import builtins
import os
import signal
import stat
import sys

import platformdirs  # its POSIX backend binds os.getuid; on Windows it has its own

for _name in ("fork", "forkpty", "fchmod", "fchown", "chown", "lchown", "getuid",
              "geteuid", "getgid", "getegid", "setsid", "killpg", "mkfifo", "mknod",
              "sysconf", "O_NOFOLLOW", "O_NONBLOCK", "WIFEXITED", "WEXITSTATUS",
              "WTERMSIG"):
    if hasattr(os, _name):
        delattr(os, _name)
for _name in ("SIGHUP", "SIGCHLD", "SIGQUIT", "SIGKILL", "SIGALRM", "SIGPIPE",
              "SIGUSR1", "SIGUSR2", "pthread_sigmask", "pthread_kill", "sigwaitinfo",
              "sigtimedwait", "setitimer", "alarm", "siginterrupt"):
    if hasattr(signal, _name):
        delattr(signal, _name)
_POSIX_ONLY = {"termios", "fcntl", "resource", "tty", "pty", "pwd", "grp"}


def _as_windows(real):
    """os.stat and friends as Windows answers: a regular file is 0o666, owner-only or not."""
    def call(*args, **kwargs):
        st = real(*args, **kwargs)
        if not stat.S_ISREG(st.st_mode):
            return st
        times = ("st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns")
        extra = {k: getattr(st, k) for k in times}
        return os.stat_result((stat.S_IFREG | 0o666, *tuple(st)[1:]), extra)
    return call


for _name in ("stat", "lstat", "fstat"):
    setattr(os, _name, _as_windows(getattr(os, _name)))

_real_kill = os.kill


def _kill(pid, sig):
    if sig == 0:  # any signal but Ctrl-C / Ctrl-Break is TerminateProcess on Windows
        raise AssertionError(f"os.kill({pid}, 0) would end process {pid} on Windows")
    return _real_kill(pid, sig)


os.kill = _kill


class _WindowsSys:
    """sys as coa-audit's own modules see it: on Windows."""
    platform = "win32"

    def __getattr__(self, name):
        return getattr(sys, name)

    def __setattr__(self, name, value):
        setattr(sys, name, value)


_WINDOWS_SYS = _WindowsSys()
_real_import = builtins.__import__


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    caller = str((globals or {}).get("__name__", ""))
    if name == "sys" and caller.startswith("coa_audit"):
        return _WINDOWS_SYS
    if (
        level == 0
        and name.split(".")[0] in _POSIX_ONLY
        and not caller.startswith("textual")  # Textual picks its driver by the real platform
        and caller not in _POSIX_ONLY
    ):
        raise ImportError(f"No module named {name!r} (not on Windows)")
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _import
'''

# Runs in the shim: every module imported; every command run in-process exactly as the
# spawned child runs it (COA_AUDIT_SUPERVISED is set: cli.supervise runs it here, a crash
# still one line); a journal written and read back; the app opened, headless.
SCENARIOS = r'''
import asyncio, importlib, io, json, os, pkgutil, socket, sys
from pathlib import Path

work = Path(sys.argv[1])
done = {}

names = []
for package in ("core", "importers", "exporters", "session", "tui", "cli"):
    root = importlib.import_module(f"coa_audit.{package}")
    names.append(root.__name__)
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
done["modules"] = names

from coa_audit.cli.main import main


def command(*args, encoding="utf-8"):
    """One command, its stdout a redirected Windows stdout in ``encoding`` (strict)."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding=encoding, errors="strict")
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    sys.argv = ["coa-audit", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved
    return {"code": code, "out": out.getvalue().decode(encoding), "err": err.getvalue().decode()}


inv = work / "fleet.csv"
done["sample"] = command("sample", work / "sample.csv", "--rows", "30", "--seed", "3")
done["policy"] = command("policy", "init", work / "policy.toml")
done["columns"] = command("columns", work / "jp.csv", encoding="cp1252")
done["check"] = command("check", inv)
done["check_json"] = command("check", inv, "--format", "json", "-o", work / "report.json")
done["export"] = command("export", inv, "--out-dir", work / "out")
done["exported"] = sorted(p.name for p in (work / "out").iterdir())

from coa_audit.session.session import open_session

session = open_session(inv)
session.start_journal()
session.apply(0, session.inventory.headers.index("Notes"), "label checked")
journal = session.journal
done["journal"] = {"error": journal.error, "warning": journal.warning}
journal.close()
raw = journal.path.read_bytes()
done["journal_lines"] = [json.loads(line)["t"] for line in raw.splitlines()]
done["journal_crlf"] = b"\r\n" in raw
# a session of another process of this host, still running, on the same file
line = {"sid": "0123456789abcdef", "t": "open", "time": 1.0, "sha256": "x",
        "source": str(inv.resolve()), "pid": os.getppid(), "host": socket.gethostname()}
with open(journal.path, "ab") as f:
    f.write(json.dumps(line).encode() + b"\n")

from coa_audit.tui.app import CoaAuditApp
from coa_audit.tui.main_screen import MainScreen


async def app_run():
    app = CoaAuditApp(inv)
    notes = []
    app.notify = lambda message, *a, **k: notes.append(str(message))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.session is not None and type(app.screen).__name__ == "RestoreScreen":
                break
        asked = type(app.screen).__name__
        await pilot.press("y")  # restore the journaled edit
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, MainScreen) and app.session.changes():
                break
        cell = app.session.inventory.field(0, "notes")
        error = app.session.journal.error if app.session.journal else "no journal"
        return {"asked": asked, "cell": cell, "error": error, "notes": notes}


done["app"] = asyncio.run(app_run())

# a state folder outside the profile: its access list cannot be read here, so the
# journal says it is not protected instead of claiming it is
os.environ["COA_AUDIT_STATE_DIR"] = str(work / "elsewhere")
other = open_session(inv)
other.start_journal()
other.apply(0, other.inventory.headers.index("Notes"), "again")
done["elsewhere"] = {"error": other.journal.error, "warning": other.journal.warning}
print(json.dumps(done))
'''


def _shim(tmp_path: Path) -> dict[str, str]:
    """The environment of a process that starts as on Windows: the shim on PYTHONPATH, a
    profile folder as home holding the state and config folders (where platformdirs puts
    them there, under %LOCALAPPDATA% and %APPDATA%)."""
    folder = tmp_path / "shim"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SHIM, encoding="utf-8")
    home = tmp_path / "profile"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(folder),
        HOME=str(home),
        USERPROFILE=str(home),
        COA_AUDIT_STATE_DIR=str(home / "AppData" / "Local" / "coa-audit"),
        COA_AUDIT_CONFIG_DIR=str(home / "AppData" / "Roaming" / "coa-audit"),
        PYTHONIOENCODING="utf-8",
    )
    env.pop("COA_AUDIT_SUPERVISED", None)
    return env


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    inv = write_csv(tmp_path / "fleet.csv", [device(1), device(2, COA_Present="No")])
    jp = tmp_path / "jp.csv"  # a header cp1252 cannot hold
    jp.write_bytes("Serial Number,Hostname,シリアル番号\r\n5CG1,PC-1,日本\r\n".encode())
    return inv, jp


def test_every_command_and_the_app_run_without_posix(tmp_path: Path) -> None:
    _inputs(tmp_path)
    env = _shim(tmp_path)
    env["COA_AUDIT_SUPERVISED"] = "1"  # in-process, as the spawned child runs
    script = tmp_path / "scenarios.py"
    script.write_text(SCENARIOS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    done = json.loads(proc.stdout.decode().splitlines()[-1])

    modules = set(done["modules"])
    for name in ("cli.supervise", "exporters.side_by_side", "session.state", "tui.app"):
        assert f"coa_audit.{name}" in modules
    assert len(modules) > 40

    assert done["sample"]["code"] == 0, done["sample"]
    assert (tmp_path / "sample.csv").read_bytes().count(b"\r\n") == 31  # header + 30, CRLF
    assert done["policy"]["code"] == 0, done["policy"]
    assert (tmp_path / "policy.toml").read_text(encoding="utf-8").startswith("# coa-audit policy")
    # a header the console's code page cannot hold is printed as ?, never exit 70
    columns = done["columns"]
    assert columns["code"] == 0, columns
    assert "Serial Number" in columns["out"] and "??????" in columns["out"]
    assert done["check"]["code"] == 1, done["check"]  # the device with no COA is blocked
    assert "devices 2" in done["check"]["out"]
    assert done["check_json"]["code"] == 1, done["check_json"]
    report = json.loads((tmp_path / "report.json").read_bytes())
    assert report["schema"] == "coa-audit.report/1" and report["summary"]["devices"] == 2
    assert done["export"]["code"] == 0, done["export"]
    assert {
        "fleet.corrected.csv",
        "fleet.audit.xlsx",
        "fleet.checklist.md",
        "fleet.checklist.pdf",
        "fleet.checklist.xlsx",
    } <= set(done["exported"])

    # files read 0o666 here, as on Windows: the journal in the profile is still private
    assert done["journal"] == {"error": None, "warning": None}
    assert done["journal_lines"] == ["open", "apply"] and not done["journal_crlf"]
    app = done["app"]
    assert app["asked"] == "RestoreScreen" and app["cell"] == "label checked", app
    assert app["error"] is None, app
    assert not [n for n in app["notes"] if "protect" in n.lower()], app["notes"]
    # outside the profile, with no access list to read, it is said, never claimed private
    elsewhere = done["elsewhere"]
    assert elsewhere["error"] and "outside your user profile" in elsewhere["error"], elsewhere


def test_the_installed_command_supervises_without_fork(tmp_path: Path) -> None:
    """The installed command, spawning its child (no fork): its output and exit code come
    back, a character the console cannot hold is a ?, and a reader that dies (the child
    killed by a signal, as a Rust abort ends it) is one line and exit 3."""
    _inv, jp = _inputs(tmp_path)
    big = tmp_path / "big.csv"
    write_csv(big, [device(n) for n in range(1, 3001)])
    env = _shim(tmp_path)
    cp1252 = dict(env, PYTHONIOENCODING="cp1252")
    runs = {
        "columns": subprocess.Popen(
            [EXE, "columns", jp], env=cp1252, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ),
        "crash": subprocess.Popen(
            [EXE, "check", big], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ),
    }
    crashed = runs["crash"]
    child = _spawned_child_of(crashed.pid, until=time.monotonic() + 60)
    assert child is not None, "no child was spawned"
    os.kill(child, signal.SIGSEGV)
    out = {name: proc.communicate(timeout=120) for name, proc in runs.items()}

    assert runs["columns"].returncode == 0, out["columns"][1]
    shown = out["columns"][0].decode("cp1252")
    assert "Serial Number" in shown and "??????" in shown
    assert crashed.returncode == 3, out["crash"]
    lines = out["crash"][1].decode().strip().splitlines()
    assert len(lines) == 1 and "big.csv: the reader stopped on it" in lines[0], lines


def _spawned_child_of(parent: int, until: float) -> int | None:
    """The process ``parent`` spawned to run the command (not multiprocessing's resource
    tracker), read from /proc."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    while time.monotonic() < until:
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
                if ppid != parent:
                    continue
                cmdline = (stat_file.parent / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if b"spawn_main" in cmdline:
                return int(stat_file.parent.name)
        time.sleep(0.02)
    return None
