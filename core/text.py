"""Make untrusted text (cells, headers, file names) safe to show in a terminal."""

from __future__ import annotations

import re

__all__ = ["safe_text"]

# C0 controls (except none: tab and newline are shown too), DEL, C1 controls, and the
# bidirectional overrides/isolates that can reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _picture(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ESC shows as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def safe_text(text: str) -> str:
    """Replace control characters and bidi overrides with visible placeholders."""
    return _UNSAFE.sub(_picture, text) if _UNSAFE.search(text) else text
