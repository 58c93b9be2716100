"""A small supervisor: the command runs in a child process whose address space is bounded,
so no file can take the program down with it.

The readers (python-calamine for xlsx/xlsb/xls/ods) allocate what a file's headers claim.
Predicting that from the file is a race against every way of writing it; instead the work
runs in a forked child under ``RLIMIT_AS``. An allocation past the bound fails at once (a
Rust reader then aborts), and whatever ends the child abnormally (an abort, a signal, the
kernel's out-of-memory killer) reaches the parent, which restores the terminal (the app
may have left it in raw mode on the alternate screen) and says in one line what happened,
with exit code 3. A child that ends normally passes its exit code through unchanged.

Where ``fork`` (or the signal calls the parent waits with: ``sigtimedwait`` and
``pthread_sigmask``, missing on macOS too) is missing, as on Windows, the child is started
by ``multiprocessing``'s spawn instead (``_spawned``): a new process of the same program
(a one-file build starts itself again through ``freeze_support``; nothing runs
``sys.executable`` as an interpreter of its own accord), told what to run, whose words come
back over a pipe and whose native stderr goes to the null device, as here. Its memory is
bounded by a Job Object on Windows (``JOB_OBJECT_LIMIT_PROCESS_MEMORY``: committed memory,
the machine's RAM or ``COA_AUDIT_MEMORY_LIMIT_MB``), by ``RLIMIT_AS`` where ``resource``
exists, and not at all elsewhere (said in the one line). A child that dies without saying
its exit code (a Rust abort, an access violation) is the one-line refusal, exit 3.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from coa_audit.core.errors import EXIT_INTERNAL, InputError, internal_error, reader_crash

__all__ = ["STDERR_TTY", "input_file", "memory_bound", "supervised"]

EXIT_INPUT = InputError.exit_code
_ENV_LIMIT = "COA_AUDIT_MEMORY_LIMIT_MB"
_CHILD = "COA_AUDIT_SUPERVISED"  # set in the child: never supervise twice
# what a program on the alternate screen may have switched on: leave it, show the cursor,
# stop mouse and paste reporting, reset colours
_TERMINAL_RESET = (
    "\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    "\x1b[?2004l\x1b[?1004l\x1b[?7h\x1b[0m"
)


STDERR_TTY = "COA_AUDIT_STDERR_TTY"  # the child's stderr is a pipe to a terminal


class _Relay:
    """Copies what the tool itself says on stderr (the child's ``sys.stderr``) to ours as
    it comes. What native code writes to file descriptor 2 (a Rust panic's message and
    path, an allocator's complaint) never reaches this pipe: the child points fd 2 at the
    null device, so a dying reader's words are never relayed, in whatever wording."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            with contextlib.suppress(OSError):
                os.write(2, chunk)

    def finish(self) -> None:
        """Wait (briefly: a grandchild may hold the pipe open) for the last output."""
        self.thread.join(timeout=2)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _own_stderr(relay: tuple[int, int]) -> None:
    """In the child: the tool's own words (``sys.stderr``) go to the relay's pipe; file
    descriptor 2, where native libraries write, goes to the null device. Python's hooks
    that would print a library's traceback (a thread's, an object's finaliser) are quiet:
    what went wrong is said once, in the tool's own line."""
    os.close(relay[0])
    sys.stderr = io.TextIOWrapper(
        io.FileIO(relay[1], "w"), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    _quiet_fd2()
    _quiet_hooks()


def _quiet_hooks() -> None:
    threading.excepthook = lambda _args: None
    sys.unraisablehook = lambda _info: None
    warnings.simplefilter("ignore")


def _quiet_fd2() -> None:
    """File descriptor 2 (where native code writes) goes to the null device. Windows: Rust
    and the C runtime also write to the process's standard error handle, which is pointed
    there too (``SetStdHandle``; ``dup2`` alone may leave it on the console)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    if sys.platform == "win32":
        with contextlib.suppress(Exception):
            import ctypes
            import msvcrt
            from ctypes import wintypes

            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            kernel32.SetStdHandle.argtypes = [wintypes.DWORD, wintypes.HANDLE]
            kernel32.SetStdHandle.restype = wintypes.BOOL
            kernel32.SetStdHandle(_STD_ERROR_HANDLE, msvcrt.get_osfhandle(2))


def _die_with(parent: int) -> None:
    """In the child: end when the supervising process is gone, however it went (a timeout's
    SIGKILL, a CI runner's kill -9), instead of working on unwatched at full CPU. Linux
    tells the kernel (PR_SET_PDEATHSIG); elsewhere a thread looks every half second. Only
    there: a thread running keeps an export from forking its second writer
    (``side_by_side.can_fork``), which on Linux halved the export's speed."""
    told = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            told = libc.prctl(1, getattr(signal, "SIGKILL", 9), 0, 0, 0) == 0  # PDEATHSIG
    if os.getppid() != parent:  # gone already, before the kernel was told
        os._exit(130)
    if told:
        return

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(130)

    threading.Thread(target=watch, name="coa-audit-parent-watch", daemon=True).start()


def _own_terminal() -> None:
    """In the app's child: the app draws through a descriptor of its own onto the terminal
    stderr was, and file descriptor 2 goes to the null device, so a native library writing
    there (a Rust panic's message) cannot scribble over the screen."""
    keep = os.dup(2)
    encoding = getattr(sys.__stderr__, "encoding", None) or "utf-8"
    stream: io.TextIOWrapper
    if sys.platform == "win32":  # a console takes text through its own writer (not bytes)
        stream = open(keep, "w", encoding=encoding, errors="replace")  # noqa: SIM115
    else:
        stream = io.TextIOWrapper(io.FileIO(keep, "w"), encoding=encoding, errors="replace")
    sys.stderr = stream
    setattr(sys, "__stderr__", stream)  # noqa: B010 - where Textual's driver draws (POSIX)
    _quiet_fd2()


def memory_bound() -> int | None:
    """Bytes of address space the work may use: the machine's memory (more could only
    swap), or ``COA_AUDIT_MEMORY_LIMIT_MB``; never above a limit already set. None where
    nothing can enforce it: no ``resource`` (RLIMIT_AS) and not Windows (a Job Object)."""
    try:
        import resource
    except ImportError:  # Windows: a Job Object bounds the child instead (_windows_job)
        resource = None  # type: ignore[assignment]
        if sys.platform != "win32":
            return None
    wanted: int | None = None
    text = os.environ.get(_ENV_LIMIT, "").strip()
    if text:
        with contextlib.suppress(ValueError):
            wanted = int(text) * 1024 * 1024
    if wanted is None:
        wanted = _physical_memory()
        if wanted is None:
            return None
    wanted = max(wanted, 512 * 1024 * 1024)  # the program itself needs room
    if resource is not None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            wanted = min(wanted, soft)
    return wanted


def _physical_memory() -> int | None:
    """The machine's memory in bytes: ``sysconf`` on POSIX, ``GlobalMemoryStatusEx`` on
    Windows (which has no ``sysconf``); None when neither answers."""
    if sys.platform == "win32":
        try:
            import ctypes
            from ctypes import wintypes

            class _MemoryStatus(ctypes.Structure):
                _fields_ = [
                    ("dwLength", wintypes.DWORD),
                    ("dwMemoryLoad", wintypes.DWORD),
                    ("ullTotalPhys", ctypes.c_uint64),
                    ("ullAvailPhys", ctypes.c_uint64),
                    ("ullTotalPageFile", ctypes.c_uint64),
                    ("ullAvailPageFile", ctypes.c_uint64),
                    ("ullTotalVirtual", ctypes.c_uint64),
                    ("ullAvailVirtual", ctypes.c_uint64),
                    ("ullAvailExtendedVirtual", ctypes.c_uint64),
                ]

            status = _MemoryStatus()
            status.dwLength = ctypes.sizeof(status)
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            kernel32.GlobalMemoryStatusEx.argtypes = [ctypes.POINTER(_MemoryStatus)]
            kernel32.GlobalMemoryStatusEx.restype = wintypes.BOOL
            if kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
                return int(status.ullTotalPhys)
        except Exception:  # no figure: the bound is not set
            return None
        return None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _windows_job(bound: int) -> bool:
    """Windows, in the child: this process joins a new Job Object whose per-process limit
    of committed memory is ``bound`` (``JOB_OBJECT_LIMIT_PROCESS_MEMORY``): an allocation
    past it fails, as one past ``RLIMIT_AS`` does, and the processes it starts share the
    limit. The job's handle is kept until the process ends. False when it could not be set
    (Windows 7 cannot nest jobs): the work then runs unbounded."""
    try:
        import ctypes
        from ctypes import wintypes

        class _Basic(ctypes.Structure):  # JOBOBJECT_BASIC_LIMIT_INFORMATION
            _fields_ = [
                ("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD),
            ]

        class _Io(ctypes.Structure):  # IO_COUNTERS
            _fields_ = [
                (name, ctypes.c_uint64)
                for name in ("Reads", "Writes", "Others", "ReadBytes", "WriteBytes", "OtherBytes")
            ]

        class _Extended(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
            _fields_ = [
                ("BasicLimitInformation", _Basic),
                ("IoInfo", _Io),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t),
            ]

        kernel32 = _kernel32()
        kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
        kernel32.CreateJobObjectW.restype = wintypes.HANDLE
        kernel32.SetInformationJobObject.argtypes = [
            wintypes.HANDLE,
            ctypes.c_int,
            ctypes.c_void_p,
            wintypes.DWORD,
        ]
        kernel32.SetInformationJobObject.restype = wintypes.BOOL
        kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
        kernel32.AssignProcessToJobObject.restype = wintypes.BOOL
        kernel32.GetCurrentProcess.argtypes = []
        kernel32.GetCurrentProcess.restype = wintypes.HANDLE
        job = kernel32.CreateJobObjectW(None, None)
        if not job:
            return False
        info = _Extended()
        info.BasicLimitInformation.LimitFlags = 0x100  # JOB_OBJECT_LIMIT_PROCESS_MEMORY
        info.ProcessMemoryLimit = bound
        extended_limits = 9  # JobObjectExtendedLimitInformation
        if not kernel32.SetInformationJobObject(
            job, extended_limits, ctypes.byref(info), ctypes.sizeof(info)
        ):
            return False
        return bool(kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()))
    except Exception:  # no job: unbounded, as documented
        return False


def input_file(argv: Sequence[str]) -> str:
    """The file the command was reading: the first argument naming an existing file."""
    for arg in argv[1:]:
        if not arg.startswith("-") and os.path.isfile(arg):
            return Path(arg).name
    return "the input file"


def _save_terminal() -> Any:
    """How the terminal is set before the child takes it: termios where it exists; on
    Windows (no termios) the console's input and output modes."""
    if sys.platform == "win32":
        return _console_modes()
    if not sys.stdin.isatty():
        return None
    try:
        import termios

        return termios.tcgetattr(sys.stdin.fileno())
    except Exception:  # no termios (or not a terminal): nothing to restore
        return None


def _kernel32() -> Any:
    """Windows' kernel32 with the console calls typed (OSError elsewhere)."""
    if sys.platform != "win32":
        raise OSError("not Windows")
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetStdHandle.argtypes = [wintypes.DWORD]
    kernel32.GetStdHandle.restype = wintypes.HANDLE
    kernel32.GetConsoleMode.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    kernel32.GetConsoleMode.restype = wintypes.BOOL
    kernel32.SetConsoleMode.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    kernel32.SetConsoleMode.restype = wintypes.BOOL
    return kernel32


_STD_INPUT_HANDLE, _STD_OUTPUT_HANDLE, _STD_ERROR_HANDLE = 0xFFFFFFF6, 0xFFFFFFF5, 0xFFFFFFF4
_VT_PROCESSING = 0x0004  # ENABLE_VIRTUAL_TERMINAL_PROCESSING: escapes are obeyed


def _console_modes() -> list[tuple[int, int]] | None:
    """Windows: the modes of the console's input and screen buffer (what the app changes:
    raw input, mouse, escapes); None when there is no console."""
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = _kernel32()
        modes = []
        for which in (_STD_INPUT_HANDLE, _STD_OUTPUT_HANDLE):
            mode = wintypes.DWORD()
            handle = kernel32.GetStdHandle(which)
            if handle and kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
                modes.append((which, int(mode.value)))
        return modes or None
    except Exception:  # no console: nothing to restore
        return None


def _restore_console(saved: list[tuple[int, int]] | None) -> None:
    """Windows: leave the app's screen (only if the console obeys escapes now: a legacy
    console would print them), then put the saved console modes back."""
    with contextlib.suppress(Exception):
        import ctypes
        from ctypes import wintypes

        kernel32 = _kernel32()
        out = kernel32.GetStdHandle(_STD_OUTPUT_HANDLE)
        mode = wintypes.DWORD()
        obeys_escapes = kernel32.GetConsoleMode(out, ctypes.byref(mode)) and (
            mode.value & _VT_PROCESSING
        )
        if out and obeys_escapes:
            os.write(sys.stdout.fileno(), _TERMINAL_RESET.encode())
        for which, value in saved or ():
            kernel32.SetConsoleMode(kernel32.GetStdHandle(which), value)


def _restore(saved: Any) -> None:
    """Put the terminal back as it was before the child took it."""
    if sys.platform == "win32":
        _restore_console(saved)
        return
    if saved is not None:
        with contextlib.suppress(Exception):
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, saved)
    if sys.stdout.isatty():
        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), _TERMINAL_RESET.encode())


def _why(status: int, bound: int | None) -> str:
    return _why_signal(os.WTERMSIG(status), bound)


def _why_exit(exitcode: int | None, bound: int | None) -> str:
    """Why a spawned child ended without saying its exit code: a signal (POSIX: negative)
    or, on Windows, the status it died with (0xC0000409 a Rust abort, 0xC0000005 an access
    violation, 0xC00000FD a stack overflow...)."""
    if exitcode is not None and exitcode < 0:
        return _why_signal(-exitcode, bound)
    status = f"0x{(exitcode or 0) & 0xFFFFFFFF:08X}"
    gib = f"over {bound / 1024**3:.1f} GiB" if bound else "more than the memory available"
    return (
        f"the reader stopped on it (status {status}): the file is damaged or hostile, or "
        f"reading it needed {gib}; open it in the program that made it and save it again"
    )


def _why_signal(sig: int, bound: int | None) -> str:
    gib = f"{bound / 1024**3:.1f} GiB" if bound else "the memory available"
    if sig in (signal.SIGABRT, getattr(signal, "SIGKILL", 9)):
        return (
            f"reading it needed more memory than its data can explain (over {gib}): the "
            "file claims a far larger sheet than it holds, so it is damaged or hostile; "
            "open it in the program that made it and save it again"
        )
    name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
    return (
        f"the reader stopped on it ({name}): the file is damaged or hostile; open it in "
        "the program that made it and save it again"
    )


_SI_KERNEL = 0x80  # si_code of a signal the kernel sent (the terminal's Ctrl-C)


def _wait(pid: int) -> int:
    """The child's wait status; meanwhile a termination signal sent to the parent alone
    is passed on to the child."""
    watched = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD]
    if hasattr(signal, "SIGQUIT"):
        watched.append(signal.SIGQUIT)
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 70 << 8
        if done:
            return status
        info = signal.sigtimedwait(watched, 0.5)
        if info is None or info.si_signo == signal.SIGCHLD:
            continue
        # the terminal's Ctrl-C and Ctrl-\ reached the child already; its hangup (the SSH
        # connection or the terminal window gone) reaches only the session's leader, this
        # process: passed on, or the app would be left reading a terminal that is gone
        if info.si_code != _SI_KERNEL or info.si_signo == signal.SIGHUP:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, info.si_signo)


def supervised(run: Callable[[], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``run`` in a bounded child and return its exit code, or 3 with one line on
    stderr when the child ends abnormally. Without fork (Windows) the child is spawned
    (``_spawned``); when already supervised, ``run`` runs here."""
    argv = list(sys.argv if argv is None else argv)
    _printable_output()
    if os.environ.get(_CHILD):
        return _in_process(run, argv)
    if not _can_fork():
        return _spawned(run, argv)
    bound = memory_bound()
    saved = _save_terminal()
    sys.stdout.flush()
    sys.stderr.flush()
    # a headless command's own words pass through the parent; what a dying reader prints
    # ("memory allocation of 549755813888 bytes failed", a panic and its path) goes
    # nowhere, so that the refusal is one line; the app draws on stderr: left alone
    relay = None if (len(argv) > 1 and argv[1] == "tui") else os.pipe()
    tty = sys.stderr.isatty()
    # the parent takes its signals one by one (below); the child gets the mask back
    watched = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD}
    if hasattr(signal, "SIGQUIT"):
        watched.add(signal.SIGQUIT)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: bounded, does the work, never returns
        code = 70
        try:
            _die_with(parent)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.environ[_CHILD] = "1"
            os.environ["RUST_BACKTRACE"] = "0"
            if relay is not None:
                _own_stderr(relay)
                if tty:
                    os.environ[STDERR_TTY] = "1"
            else:
                _own_terminal()
            if bound is not None:
                import resource

                hard = resource.getrlimit(resource.RLIMIT_AS)[1]
                resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
            code = run() or 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException as exc:
            code = _crashed(exc, argv)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    relayed = None
    if relay is not None:
        os.close(relay[1])
        relayed = _Relay(relay[0])
    # the parent: a signal from the terminal reached the whole process group, the child
    # too; one sent to the parent alone (kill, a CI runner, systemd) is passed on
    try:
        status = _wait(pid)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if relayed is not None:
            relayed.finish()
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    sig = os.WTERMSIG(status)
    if sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        _restore(saved)
        sys.stderr.write("coa-audit: interrupted\n")
        return 130
    _restore(saved)
    sys.stderr.write(f"coa-audit: {input_file(argv)}: {_why(status, bound)}\n")
    return EXIT_INPUT


def _can_fork() -> bool:
    """Whether the forked supervisor can run here: ``fork`` and the signal calls its parent
    waits with (Linux, the BSDs). Windows has none of them and macOS lacks
    ``sigtimedwait``: there the child is spawned."""
    return hasattr(os, "fork") and all(
        hasattr(signal, name) for name in ("pthread_sigmask", "sigtimedwait", "SIGHUP", "SIGCHLD")
    )


def _printable_output() -> None:
    """A character stdout's encoding cannot hold (a Japanese header on a cp1252 console or
    a redirected Windows stdout) is printed as ``?`` instead of ending the command with
    exit 70. The JSON and CSV reports are written as UTF-8 bytes and never pass here."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="replace")


def _exit_code(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _crashed(exc: BaseException, argv: Sequence[str]) -> int:
    """What escaped the command: a reader that died on the input in any of its ways (a
    panic, ``MemoryError``, ``RecursionError``) is one refusal line and exit 3; anything
    else a bug, one line and exit 70 (an interrupt that got this far: 130)."""
    if isinstance(exc, KeyboardInterrupt):
        with contextlib.suppress(Exception):
            sys.stderr.write("coa-audit: interrupted\n")
        return 130
    why = reader_crash(exc)
    with contextlib.suppress(Exception):
        if why is not None:
            sys.stderr.write(f"coa-audit: {input_file(argv)}: {why}\n")
        else:
            sys.stderr.write(f"coa-audit: {internal_error(exc, False)}\n")
    return EXIT_INPUT if why is not None else EXIT_INTERNAL


def _in_process(run: Callable[[], int | None], argv: Sequence[str]) -> int:
    """``run`` here (already supervised, or no child could be started), a crash still
    turned into its one line."""
    try:
        return run() or 0
    except SystemExit as exc:
        return _exit_code(exc)
    except BaseException as exc:
        return _crashed(exc, argv)


class _ToParent(io.RawIOBase):
    """One of the spawned child's output streams: every write is one message to the
    supervisor, tagged with the stream it belongs to (``o`` stdout, ``e`` stderr)."""

    def __init__(self, conn: Any, tag: bytes, lock: threading.Lock) -> None:
        super().__init__()
        self._conn, self._tag, self._lock = conn, tag, lock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        with self._lock:
            self._conn.send_bytes(self._tag + chunk)
        return len(chunk)


def _watch_parent() -> None:
    """In a spawned child: end when the supervisor is gone, however it went (killed from
    the Task Manager, a CI runner's timeout), instead of working on unwatched. Windows'
    process handle of the parent, POSIX's pipe from it: multiprocessing's sentinel."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(130)

    threading.Thread(target=watch, name="coa-audit-parent-watch", daemon=True).start()


def _spawned_child(
    argv: list[str],
    conn: Any,
    encodings: tuple[str, str],
    tty: bool,
    tui: bool,
    bound: int | None,
) -> None:
    """The spawned child (never returns): the program's entry point runs again here, now
    marked supervised, so the command runs in this process. A headless command's output and
    words go to the supervisor over ``conn``; the app draws on the console it inherited.
    The last message is always the exit code (``x``): a child that ends without it died."""
    code = EXIT_INTERNAL
    try:
        _watch_parent()
        os.environ[_CHILD] = "1"
        os.environ["RUST_BACKTRACE"] = "0"
        if tui:
            with contextlib.suppress(OSError):  # no descriptor 2 to keep: nothing to guard
                _own_terminal()
        else:
            lock = threading.Lock()
            sys.stdout = io.TextIOWrapper(
                io.BufferedWriter(_ToParent(conn, b"o", lock), 1 << 16),
                encoding=encodings[0],
                errors="replace",
            )
            sys.stderr = io.TextIOWrapper(
                io.BufferedWriter(_ToParent(conn, b"e", lock)),
                encoding=encodings[1],
                errors="backslashreplace",
                line_buffering=True,
            )
            if tty:
                os.environ[STDERR_TTY] = "1"
            with contextlib.suppress(OSError):
                _quiet_fd2()
            _quiet_hooks()
        if bound is not None:
            if sys.platform == "win32":
                _windows_job(bound)
            else:
                with contextlib.suppress(ImportError, ValueError, OSError):
                    import resource

                    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
                    resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
        sys.argv = list(argv)
        from coa_audit.cli.main import main

        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException as exc:
        code = _crashed(exc, argv)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(Exception):
            conn.send_bytes(b"x%d" % code)
        os._exit(code)


def _pass_on(tag: bytes, data: bytes) -> None:
    """Write what the child said where the supervisor's own output goes, as bytes (the
    child encoded it in this stream's encoding)."""
    stream = sys.stdout if tag == b"o" else sys.stderr
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode(getattr(stream, "encoding", None) or "utf-8", "replace"))
        stream.flush()


def _spawned(run: Callable[[], int | None], argv: Sequence[str]) -> int:
    """Where fork is missing (Windows; macOS): the command runs in a child started by
    ``multiprocessing``'s spawn, under the same contract as the forked one: its exit code
    passed through, a crash one line and exit 3, a signal to this process passed on. When
    no child can be started, the command runs here (``_in_process``)."""
    try:
        import multiprocessing

        multiprocessing.freeze_support()  # a one-file build: the child's start ends here
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
    except (ImportError, ValueError, OSError):
        return _in_process(run, argv)
    tui = len(argv) > 1 and argv[1] == "tui"
    bound = memory_bound()
    encodings = (
        getattr(sys.stdout, "encoding", None) or "utf-8",
        getattr(sys.stderr, "encoding", None) or "utf-8",
    )
    process = context.Process(
        target=_spawned_child,
        args=(list(argv), writer, encodings, sys.stderr.isatty(), tui, bound),
        name="coa-audit",
    )
    saved = _save_terminal()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    # the mark travels in the environment too: a child that ran the program again before
    # reaching _spawned_child (a build without freeze_support) runs it, never spawns again
    os.environ[_CHILD] = "1"
    # the child is told there is no main module to import again (the entry script, whose
    # imports would be paid twice): what it runs is named by _spawned_child's module
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        process.start()
    except (OSError, RuntimeError, ValueError):
        reader.close()
        writer.close()
        return _in_process(run, argv)
    finally:
        sys.modules["__main__"] = main
        os.environ.pop(_CHILD, None)
    writer.close()
    code, stopped, broken = _follow(process, reader)
    if broken:  # stdout's reader left (`| head`): what it did not take is not news
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        return 0
    if code is not None:
        return code
    _restore(saved)
    if stopped:
        sys.stderr.write("coa-audit: interrupted\n")
        return 130
    sys.stderr.write(f"coa-audit: {input_file(argv)}: {_why_exit(process.exitcode, bound)}\n")
    return EXIT_INPUT


def _follow(process: Any, reader: Any) -> tuple[int | None, bool, bool]:
    """Pass on what the child says until it ends: (its exit code, None when it died without
    saying it; whether it was stopped; whether stdout's reader went away). The console's
    Ctrl-C (Ctrl-Break) reaches the child too, which stops and says so; a stop signal sent
    to this process alone (POSIX) is passed on; a child that outlives an interrupt by 5
    seconds is ended."""
    import time as clock
    from multiprocessing.connection import wait

    code: int | None = None
    stopped = broken = False
    deadline: float | None = None

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopped, deadline
        stopped = True
        deadline = deadline or clock.monotonic() + 5
        with contextlib.suppress(Exception):
            process.terminate()  # POSIX: SIGTERM, the child unwinds as on Ctrl-C

    previous = {}
    for name in ("SIGTERM", "SIGHUP", "SIGBREAK"):  # SIGBREAK: Windows' Ctrl-Break
        sig = getattr(signal, name, None)
        if sig is not None:
            with contextlib.suppress(ValueError, OSError):
                previous[sig] = signal.signal(sig, stop)
    try:
        while True:
            try:
                ready = wait([reader, process.sentinel], timeout=0.5)
                if reader in ready:
                    try:
                        message = reader.recv_bytes()
                    except (EOFError, OSError):
                        break
                    tag, data = message[:1], message[1:]
                    if tag == b"x":
                        code = int(data)
                    elif not (broken and tag == b"o"):
                        try:
                            _pass_on(tag, data)
                        except BrokenPipeError:
                            broken = True
                            with contextlib.suppress(Exception):
                                process.terminate()
                        except OSError:
                            pass
                    continue
                # ended, and nothing is left to read (a grandchild may hold the pipe open)
                if process.sentinel in ready and not reader.poll(0):
                    break
                if deadline is not None and clock.monotonic() > deadline:
                    with contextlib.suppress(Exception):
                        process.terminate()
            except KeyboardInterrupt:
                stopped = True
                deadline = deadline or clock.monotonic() + 5
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)
        reader.close()
    process.join()
    return code, stopped, broken
