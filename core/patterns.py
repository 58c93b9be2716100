"""Patterns a policy gives (``*_pattern`` keys), matched by RE2: time linear in the text
whatever the pattern, so a pattern such as ``^(a|aa)+$`` cannot hang an audit. RE2 has no
backreferences and no look-around; a pattern it cannot compile is a configuration error
(exit 2) naming the key and the pattern."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

from coa_audit.core.errors import UsageError

__all__ = ["NEVER", "Pattern", "compile_pattern", "pattern_keys"]

NEVER = r"[^\x00-\x{10FFFF}]"  # matches no text (RE2 has no "(?!)")
_SHOWN = 80  # characters of a refused pattern quoted in its message


class Pattern(Protocol):
    """What a compiled pattern offers (RE2's compiled patterns and Python's alike)."""

    def match(self, text: str) -> Any: ...

    def search(self, text: str) -> Any: ...


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own line on stderr
    return options


def compile_pattern(where: str, text: object, error: type[UsageError] = UsageError) -> Pattern:
    """``text`` compiled by RE2; ``error`` (a usage error, exit 2) naming ``where`` (the key)
    and the pattern when RE2 cannot compile it."""
    if not isinstance(text, str):
        raise error(f"{where} must be text (a pattern), not {type(text).__name__}")
    try:
        return re2.compile(text, _options())
    except re2.error as exc:
        why = exc.args[0] if exc.args else exc
        why = why.decode(errors="replace") if isinstance(why, bytes) else str(why)
        shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
        raise error(
            f"{where} = {shown!r} is no pattern coa-audit can use ({why}): patterns are "
            "matched by RE2, which has no backreferences or look-around"
        ) from None


def pattern_keys(data: dict[str, Any], where: str = "") -> Iterator[tuple[str, object]]:
    """Every ``*_pattern`` key of a policy, at any depth, with where it sits ("a.b")."""
    for key, value in data.items():
        at = f"{where}.{key}" if where else str(key)
        if isinstance(value, dict):
            yield from pattern_keys(value, at)
        elif str(key).endswith("_pattern"):
            yield at, value
