"""`coa-audit serve`: every packet the app sends the server arrives whole. The app's web
driver sends the screen from one thread and a download's chunks from another; the server
reads the pipe as a sequence of packets (a type byte, a 4-byte size, the payload), so one
packet's bytes inside another's stops the download (a CI run saw it: "failed to receive
chunk"). The app is started as the server starts it (TEXTUAL_DRIVER names Textual's web
driver), and both threads write packets far larger than the pipe takes at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SAMPLES

PACKETS, SIZE = 120, 65536

CHILD = f"""
import asyncio, os, sys, threading
os.environ["TEXTUAL_DRIVER"] = "textual.drivers.web_driver:WebDriver"
from coa_audit.tui.app import CoaAuditApp
app = CoaAuditApp(sys.argv[1])
async def make():
    return app.driver_class(app)
driver = asyncio.run(make())
def screen():
    for i in range({PACKETS}):
        driver.write(chr(ord("a") + i % 26) * {SIZE})
def chunks():
    for i in range({PACKETS}):
        driver.write_binary_encoded(("deliver_chunk", "key", bytes([i % 256]) * {SIZE}))
threads = [threading.Thread(target=screen), threading.Thread(target=chunks)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_the_screen_and_a_download_reach_the_server_as_whole_packets() -> None:
    binary = pytest.importorskip("textual_serve._binary_encode", reason="the serve extra")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(SAMPLES / "intune-export.csv")],
        stdin=subprocess.PIPE,  # the driver's input thread waits on it, as under the server
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    screens: list[str] = []
    chunks: list[bytes] = []
    at = 0
    while at < len(out):
        kind, size = out[at : at + 1], int.from_bytes(out[at + 1 : at + 5], "big")
        payload = out[at + 5 : at + 5 + size]
        at += 5 + size
        assert kind in (b"D", b"P"), f"packet {len(screens) + len(chunks)}: type {kind!r}"
        if kind == b"D":
            screens.append(payload.decode("utf-8"))
        else:
            name, key, chunk = binary.load(payload)
            assert (name, key) == ("deliver_chunk", "key")
            chunks.append(chunk)
    assert at == len(out)
    # each thread's packets, in its order, each one sender's bytes only
    assert screens == [chr(ord("a") + i % 26) * SIZE for i in range(PACKETS)]
    assert chunks == [bytes([i % 256]) * SIZE for i in range(PACKETS)]
