"""Write independent export files on two cores.

The export's files do not depend on each other, so the command line splits them between
itself and one forked child (copy-on-write: the child sees the loaded inventory without
copying or pickling it). Each file is still written whole or not at all by the writer
itself; this module only decides who writes it and brings back what was written, the
child's progress, and the child's error, which the parent raises as its own.

Only the command line forks: the app runs exports in a thread, and forking a threaded
process is unsafe, so there (and wherever ``os.fork`` or ``signal.pthread_sigmask`` is
missing: Windows) the jobs run one by one. A spawned child would have to be sent the whole
inventory (pickled), which costs more than the second core gives back.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Job", "can_fork", "run_beside", "run_jobs"]

Progress = Callable[[str, int, int], None]
_HEAD = struct.Struct("!I")


@dataclass(frozen=True)
class Job:
    """One file (or a few that share work) and its relative cost, used to split the work.
    Jobs with the same ``shared`` name share work done once per process (``setup``: the
    packet's rows, built once for every packet format a process writes)."""

    cost: float
    run: Callable[[Progress | None], Any]
    shared: str = ""
    setup: float = 0.0
    here: bool = False  # runs in this process, whatever the split (it writes to its files)


def can_fork() -> bool:
    """Whether the files can be split with a forked child here: POSIX's ``fork`` and
    ``pthread_sigmask`` (Windows has neither), and no thread running."""
    return (
        hasattr(os, "fork") and hasattr(signal, "pthread_sigmask") and threading.active_count() == 1
    )


def _split(jobs: Sequence[Job]) -> tuple[list[int], list[int]]:
    """Longest first, each to the side where it would finish first (a shared setup counted
    once per side): (parent's, child's) job indexes."""
    sides: tuple[list[int], list[int]] = ([], [])
    load = [0.0, 0.0]
    ready: tuple[set[str], set[str]] = (set(), set())
    for i in sorted(
        range(len(jobs)), key=lambda i: (not jobs[i].here, -jobs[i].cost - jobs[i].setup)
    ):
        job = jobs[i]
        ends = [
            load[s] + job.cost + (job.setup if job.shared and job.shared not in ready[s] else 0)
            for s in (0, 1)
        ]
        side = 0 if job.here or ends[0] <= ends[1] else 1
        sides[side].append(i)
        load[side] = ends[side]
        if job.shared:
            ready[side].add(job.shared)
    return sorted(sides[0]), sorted(sides[1])


def run_jobs(
    jobs: Sequence[Job],
    progress: Progress | None,
    done: Callable[[int, Any], None],
    fork: bool,
) -> None:
    """Run every job; ``done(index, result)`` is called for each job that finished (also
    when another failed), then the first failure is raised."""
    if not fork or len(jobs) < 2 or not can_fork():
        for i, job in enumerate(jobs):
            done(i, job.run(progress))
        return
    mine, theirs = _split(jobs)
    rfd, wfd = os.pipe()
    for fd in (rfd, wfd):
        os.set_inheritable(fd, False)
    # a stop signal arriving during the fork itself would interrupt Python's after-fork
    # hooks in the child (a traceback instead of one line): held until both sides are ready
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rfd)
        _child([(i, jobs[i]) for i in theirs], wfd, mask)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(wfd)
    failure: BaseException | None = None
    try:
        for i in mine:
            done(i, jobs[i].run(progress))
    except BaseException as exc:
        failure = exc
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # the child removes its temporary file and stops
    child_failure = _collect(rfd, pid, progress if failure is None else None, done)
    if failure is not None:
        raise failure
    if child_failure is not None:
        raise child_failure


def run_beside(mine: Callable[[], object], theirs: Callable[[], object]) -> None:
    """``mine`` in this process while ``theirs`` runs in a forked child (one after the
    other where ``can_fork`` says no); a failure of either is raised here, as ``run_jobs``
    does. Neither returns anything: each leaves its work in a file it was given."""
    jobs = [Job(1.0, lambda _progress: mine(), here=True), Job(1.0, lambda _progress: theirs())]
    run_jobs(jobs, None, lambda _i, _result: None, fork=True)


def _send(fd: int, message: tuple[Any, ...], wait: bool = True) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    frame = _HEAD.pack(len(data)) + data
    if wait:
        os.set_blocking(fd, True)
        view = memoryview(frame)
        while view:
            view = view[os.write(fd, view) :]
        return
    # progress is dropped rather than waited for while the parent is busy: a frame of at
    # most PIPE_BUF bytes is written whole or not at all
    if len(frame) <= 512:
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            os.write(fd, frame)


# the signals that stop a command (Windows has no SIGHUP: only what exists is held)
_STOP_SIGNALS = {
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
}


def _child(jobs: list[tuple[int, Job]], fd: int, mask: set[int | signal.Signals]) -> None:
    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(143)

    code = 0
    try:
        signal.signal(signal.SIGTERM, stop)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal held since the fork: now

        def progress(what: str, d: int, total: int) -> None:
            _send(fd, ("p", what, d, total), wait=False)

        for i, job in jobs:
            _send(fd, ("w", i, job.run(progress)))
    except BaseException as exc:
        code = 1
        with contextlib.suppress(BaseException):
            try:
                _send(fd, ("e", exc))
            except Exception:  # an exception that does not pickle: its words do
                _send(fd, ("e", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        with contextlib.suppress(BaseException):
            sys.stderr.flush()
        os._exit(code)  # no atexit handlers, no buffers of the parent flushed twice


def _collect(
    fd: int, pid: int, progress: Progress | None, done: Callable[[int, Any], None]
) -> BaseException | None:
    """Read the child's messages to the end, wait for it, return its failure if any."""
    failure: BaseException | None = None
    buf = b""
    try:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                buf += chunk
                while len(buf) >= _HEAD.size:
                    (size,) = _HEAD.unpack_from(buf)
                    if len(buf) < _HEAD.size + size:
                        break
                    message = pickle.loads(buf[_HEAD.size : _HEAD.size + size])
                    buf = buf[_HEAD.size + size :]
                    if message[0] == "p" and progress is not None:
                        progress(*message[1:])
                    elif message[0] == "w":
                        done(message[1], message[2])
                    elif message[0] == "e" and failure is None:
                        failure = message[1]
    except BaseException as exc:  # interrupted while waiting: stop the child too
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        failure = exc
    _pid, status = os.waitpid(pid, 0)
    if failure is None and os.waitstatus_to_exitcode(status) != 0:
        failure = RuntimeError(f"export worker ended with status {status}")
    return failure
