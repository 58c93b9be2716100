"""`coa-audit serve`: the app in a browser, as an auditor uses it. The command is started
as a user starts it, a request without its token is refused, and a real Chromium (driven
by Playwright) opens the printed address, clicks a device's cell, edits it, exports, and
the packet arrives as downloads, whole. The screen the browser was sent is read back with
pyte (the terminal is drawn on a canvas, so the page holds no text to read)."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import SAMPLES, run_cli

CHROMIUM = Path("/usr/bin/chromium")
EDITED = "WEB-EDIT-42"
WHO = "Brenda Browser"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _refused(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


class Screen:
    """What the browser's terminal was sent, as a terminal shows it."""

    def __init__(self) -> None:
        import pyte

        self.pyte = pyte
        self.screen: Any = None
        self.stream: Any = None

    def opened(self, ws: Any) -> None:
        query = parse_qs(urlsplit(ws.url).query)
        width, height = int(query["width"][0]), int(query["height"][0])
        self.screen = self.pyte.Screen(width, height)
        self.stream = self.pyte.ByteStream(self.screen)
        ws.on("framereceived", self.received)
        ws.on("framesent", self.sent)

    def received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):  # text frames are textual-serve's own messages
            self.stream.feed(payload)

    def sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            import json

            size = json.loads(payload)[1]
            self.screen.resize(size["height"], size["width"])

    @property
    def lines(self) -> list[str]:
        return list(self.screen.display) if self.screen is not None else []

    def text(self) -> str:
        return "\n".join(self.lines)


def test_serve_refuses_without_token_and_delivers_an_edited_export(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve", reason="the serve extra: pip install -e '.[serve]'")
    pytest.importorskip("pyte", reason="pip install -e '.[test]'")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium")

    sample = tmp_path / "fleet.csv"
    shutil.copyfile(SAMPLES / "intune-export.csv", sample)
    with open(sample, encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    clicked = records[2]  # the third device: not where the cursor starts
    env = dict(os.environ)
    env["COA_AUDIT_STATE_DIR"] = str(tmp_path / "state")
    env["COA_AUDIT_CONFIG_DIR"] = str(tmp_path / "config")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "coa_audit", "serve", str(sample), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
    )
    try:
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.append(server.stdout.readline()))
        reader.start()
        reader.join(30)
        assert said and said[0].strip(), f"no address printed: {server.poll()}"
        url = said[0].strip()
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        token = parse_qs(urlsplit(url).query)["token"][0]
        assert len(token) >= 32
        root = f"http://127.0.0.1:{port}"
        # without the token, with a wrong one, and the websocket without it: refused
        assert _refused(f"{root}/") == 403
        assert _refused(f"{root}/?token={token[:-1]}x") == 403
        assert _refused(f"{root}/ws") == 403
        assert _refused(f"{root}/static/js/textual.js") == 403
        _drive(playwright, url, tmp_path, sample, clicked)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the apps it started
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        print(server.stderr.read())  # shown when the test fails: what the server logged


def _drive(
    playwright: Any, url: str, tmp_path: Path, sample: Path, clicked: dict[str, str]
) -> None:
    screen = Screen()
    downloads: list[Any] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 800})

            def download(d: Any) -> None:
                downloads.append(d)

            context.on("page", lambda page: page.on("download", download))
            page = context.new_page()
            page.on("websocket", screen.opened)
            page.goto(url)

            def wait_for(what: str, ok: Callable[[], bool], seconds: float = 30) -> None:
                end = time.monotonic() + seconds
                while not ok():
                    assert time.monotonic() < end, f"waited for {what}; screen:\n{screen.text()}"
                    page.wait_for_timeout(100)

            def keys(*names: str) -> None:
                for name in names:
                    page.keyboard.press(name)
                    page.wait_for_timeout(60)  # a person's pace: never a scanner's burst

            def typed(text: str) -> None:
                page.keyboard.type(text, delay=60)

            serial = clicked["Serial number"]
            wait_for("the grid", lambda: "BLOCKED" in screen.text() and serial in screen.text())
            # click the third device's serial number where the browser shows it
            y = next(i for i, line in enumerate(screen.lines) if serial in line)
            x = screen.lines[y].index(serial) + 2
            box = page.locator(".xterm-screen").bounding_box()
            assert box is not None
            cell_w, cell_h = (
                box["width"] / screen.screen.columns,
                box["height"] / screen.screen.lines,
            )
            page.mouse.click(box["x"] + (x + 0.5) * cell_w, box["y"] + (y + 0.5) * cell_h)
            page.wait_for_timeout(300)
            keys("e")
            wait_for("the edit bar", lambda: "would be" in screen.text())
            keys("Control+u")
            typed(EDITED)
            keys("Enter")
            wait_for("who is working", lambda: "Who is working?" in screen.text())
            typed(WHO)
            keys("Enter")
            wait_for("the edit", lambda: "1 edits" in screen.text())
            keys("Control+s")
            wait_for("the export dialog", lambda: "Customer" in screen.text())
            page.wait_for_timeout(500)  # the form's first field takes the focus (a busy host)
            keys("Tab")
            typed("Contoso")
            keys("Enter")
            # the review step (the name reaching the packet is checked in the download)
            wait_for("the review", lambda: "write the files" in screen.text())
            keys("Enter")

            wanted = {"fleet.corrected.csv", "fleet.checklist.md", "fleet.checklist.pdf"}

            def arrived() -> bool:
                return wanted <= {d.suggested_filename for d in downloads}

            wait_for("the downloads", arrived, 60)
            got = tmp_path / "downloaded"
            for d in downloads:
                d.save_as(got / d.suggested_filename)
        finally:
            browser.close()
    # every file downloaded is the file the export wrote, whole
    names = sorted(f.name for f in got.iterdir())
    assert "fleet.corrected.csv" in names and "fleet.checklist.pdf" in names, names
    for f in got.iterdir():
        assert f.read_bytes() == (sample.parent / f.name).read_bytes(), f.name
    # the clicked device's serial is the one edited, nothing else
    with open(got / "fleet.corrected.csv", encoding="utf-8-sig", newline="") as f:
        corrected = {r["Device name"]: r for r in csv.DictReader(f)}
    assert corrected[clicked["Device name"]]["Serial number"] == EDITED
    with open(sample, encoding="utf-8-sig", newline="") as f:
        before = {r["Device name"]: r for r in csv.DictReader(f)}
    changed = [k for k in before if before[k] != corrected[k]]
    assert changed == [clicked["Device name"]]
    assert "Contoso" in (got / "fleet.checklist.md").read_text(encoding="utf-8")


def test_serve_without_the_extra_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = tmp_path / "fleet.csv"
    shutil.copyfile(SAMPLES / "intune-export.csv", sample)
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    res = run_cli("serve", sample)
    assert res.code == 2
    assert res.stderr.count("\n") == 1 and "pip install 'coa-audit[serve]'" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["missing.csv"], 3, "no such file"),
        (["-"], 2, "save the file and give its name"),
        (["FILE", "--port", "70000"], 2, "--port"),
    ],
)
def test_serve_bad_input_is_one_line(
    tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    sample = tmp_path / "fleet.csv"
    shutil.copyfile(SAMPLES / "intune-export.csv", sample)
    res = run_cli("serve", *[str(sample) if a == "FILE" else a for a in args])
    assert res.code == code, res.stderr
    assert res.stderr.count("\n") == 1 and words in res.stderr, res.stderr
