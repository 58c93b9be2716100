"""Make untrusted text (cells, headers, file names) safe to show in a terminal."""

from __future__ import annotations

import re

__all__ = ["safe_text"]

# C0 controls (tab and newline included: a cell is one line), DEL, C1 controls, the
# bidirectional marks, overrides and isolates that can reorder what a reader sees, line and
# paragraph separators, and invisible format characters (zero-width spaces and joiners, word
# joiner, BOM, interlinear annotations).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


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
