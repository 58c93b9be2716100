"""Textual's web driver (``coa-audit serve``), with each packet written whole and alone.

Textual's ``WebDriver`` writes a packet to the pipe textual-serve reads with one
``os.write`` and no lock: the screen from the writer thread, a downloaded file's chunks
from the input thread. A pipe takes a write larger than its atomic size (4 KiB on Linux)
in pieces once it is full, and two threads' pieces then interleave. The server then reads
a packet with another packet's bytes inside, and the download it was carrying stops. A
write that returns early (a signal) would cut a packet the same way. Here every packet
is written by one thread at a time, to its last byte.
"""

from __future__ import annotations

import os
import threading
from functools import partial
from typing import Any

from textual.drivers.web_driver import WebDriver

__all__ = ["WholeWebDriver"]


def _write_whole(fd: int, lock: threading.Lock, data: bytes) -> int:
    view = memoryview(data)
    with lock:
        while view:
            view = view[os.write(fd, view) :]
    return len(data)


class WholeWebDriver(WebDriver):
    """``WebDriver`` whose packets reach the server whole, whichever thread sends them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write = partial(_write_whole, self.fileno, threading.Lock())
