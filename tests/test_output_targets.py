"""Every file coa-audit writes is written whole beside its name and renamed over it, so a
name held by a pipe, a device or a socket is refused before anything is written (as root,
`-o /dev/null --force` replaced the device with a file), a symbolic link is written through
(the link stays a link, its file gets the output), and a full disk or standard output ends in
exit 4 with one line, never an internal error. Each command that writes a named file is tried
on each kind of name (a FIFO stands for every device: it needs no privilege to make)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and links are POSIX")

SRC = SAMPLES / "intune-export.csv"
WRITERS = {
    "check json": lambda t: ("check", SRC, "--format", "json", "-o", t, "--force"),
    "check csv": lambda t: ("check", SRC, "--format", "csv", "-o", t, "--force"),
    "collect-script": lambda t: ("collect-script", "-o", t, "--force"),
    "sample": lambda t: ("sample", t, "--rows", "5", "--force"),
    "policy init": lambda t: ("policy", "init", t, "--force"),
}


def _targets(folder: Path) -> dict[str, Path]:
    """Names held by something that is no regular file, directly or through links."""
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    link = folder / "link.csv"
    link.symlink_to(fifo)
    chain = folder / "chain.csv"
    chain.symlink_to(link)
    return {"a pipe": fifo, "a link to a pipe": link, "links to a pipe": chain}


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_name_held_by_a_pipe_or_device_is_refused_and_left_as_it_is(
    tmp_path: Path, command: str
) -> None:
    for what, target in _targets(tmp_path).items():
        res = run_cli(*WRITERS[command](target))
        assert res.code == 4, (what, res.code, res.stderr)
        err = res.stderr.strip()
        assert len(err.splitlines()) == 1 and "not a regular file" in err, (what, err)
        assert Path(tmp_path / "pipe.csv").is_fifo(), "the pipe is still a pipe"
        assert target.is_symlink() or target.is_fifo()
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "chain.csv",
            "link.csv",
            "pipe.csv",
        ], "nothing was left beside them"
        for p in tmp_path.iterdir():
            p.unlink()
        _targets(tmp_path)


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_link_to_a_file_is_written_through(tmp_path: Path, command: str) -> None:
    real = tmp_path / "real" / "out.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    res = run_cli(*WRITERS[command](link))
    assert res.code in (0, 1), res.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text(encoding="utf-8-sig") != "old" and real.stat().st_size > 10


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ("check", str(SRC), "--format", "json"),
        ("check", str(SRC)),
        ("columns", str(SRC), "--format", "json"),
        ("codes",),
        ("schema", "report"),
        ("policy", "show", "--format", "json"),
    ],
    ids=lambda a: " ".join(a[:3:2]),
)
def test_standard_output_that_takes_no_more_is_exit_4(args: tuple[str, ...]) -> None:
    exe = Path(sys.executable).parent / "coa-audit"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(exe), *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert proc.returncode == 4, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot write" in proc.stderr
    assert "internal error" not in proc.stderr
