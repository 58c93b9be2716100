"""A small supervisor: the command runs in a child process whose address space is bounded,
so no file can take the program down with it.

The readers (python-calamine for xlsx/xlsb/xls/ods) allocate what a file's headers claim.
Predicting that from the file is a race against every way of writing it; instead the work
runs in a forked child under ``RLIMIT_AS``. An allocation past the bound fails at once (a
Rust reader then aborts), and whatever ends the child abnormally (an abort, a signal, the
kernel's out-of-memory killer) reaches the parent, which restores the terminal (the app
may have left it in raw mode on the alternate screen) and says in one line what happened,
with exit code 3. A child that ends normally passes its exit code through unchanged.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
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
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    threading.excepthook = lambda _args: None
    sys.unraisablehook = lambda _info: None
    warnings.simplefilter("ignore")


def _die_with(parent: int) -> None:
    """In the child: end when the supervising process is gone, however it went (a timeout's
    SIGKILL, a CI runner's kill -9), instead of working on unwatched at full CPU. Linux
    tells the kernel (PR_SET_PDEATHSIG); elsewhere a thread looks every half second."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # gone already, before the kernel was told
        os._exit(130)

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
    stream = io.TextIOWrapper(io.FileIO(keep, "w"), encoding=encoding, errors="replace")
    sys.stderr = stream
    setattr(sys, "__stderr__", stream)  # noqa: B010 - where Textual's driver draws
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def memory_bound() -> int | None:
    """Bytes of address space the work may use: the machine's memory (more could only
    swap), or ``COA_AUDIT_MEMORY_LIMIT_MB``; never above a limit already set."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    wanted: int | None = None
    text = os.environ.get(_ENV_LIMIT, "").strip()
    if text:
        with contextlib.suppress(ValueError):
            wanted = int(text) * 1024 * 1024
    if wanted is None:
        try:
            wanted = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    wanted = max(wanted, 512 * 1024 * 1024)  # the program itself needs room
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        wanted = min(wanted, soft)
    return wanted


def input_file(argv: Sequence[str]) -> str:
    """The file the command was reading: the first argument naming an existing file."""
    for arg in argv[1:]:
        if not arg.startswith("-") and os.path.isfile(arg):
            return Path(arg).name
    return "the input file"


def _restore(saved: list[Any] | None) -> None:
    """Put the terminal back as it was before the child took it."""
    if saved is not None:
        with contextlib.suppress(Exception):
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, saved)
    if sys.stdout.isatty():
        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), _TERMINAL_RESET.encode())


def _why(status: int, bound: int | None) -> str:
    sig = os.WTERMSIG(status)
    gib = f"{bound / 1024**3:.1f} GiB" if bound else "the memory available"
    if sig in (signal.SIGABRT, signal.SIGKILL):
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
    stderr when the child ends abnormally. Without fork (Windows) or when already
    supervised, ``run`` runs here."""
    argv = list(sys.argv if argv is None else argv)
    if not hasattr(os, "fork") or os.environ.get(_CHILD):
        return run() or 0
    bound = memory_bound()
    saved = None
    if sys.stdin.isatty():
        with contextlib.suppress(Exception):
            import termios

            saved = termios.tcgetattr(sys.stdin.fileno())
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
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:
            why = reader_crash(exc)
            with contextlib.suppress(Exception):
                if why is not None:  # a reader died on the input, in any of its ways
                    sys.stderr.write(f"coa-audit: {input_file(argv)}: {why}\n")
                else:
                    sys.stderr.write(f"coa-audit: {internal_error(exc, False)}\n")
            code = EXIT_INPUT if why is not None else EXIT_INTERNAL
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
