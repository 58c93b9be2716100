"""Text the tool writes into its reports: formula-injection neutralisation (OWASP "CSV
injection", CWE-1236) and product keys masked by their shape, wherever they sit, unless the
user asked to see them (``--show-keys``). The corrected inventory is the user's own data
and keeps every value."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from coa_audit.core.audit import holds_key, mask_keys

__all__ = [
    "DANGEROUS_PREFIXES",
    "is_dangerous",
    "keys_shown",
    "neutralise_csv",
    "shown",
    "shown_column",
]

_SHOW_KEYS: ContextVar[bool] = ContextVar("show_keys", default=False)


@contextlib.contextmanager
def keys_shown(show: bool) -> Iterator[None]:
    """Within this block reports show full product keys when ``show``."""
    token = _SHOW_KEYS.set(show)
    try:
        yield
    finally:
        _SHOW_KEYS.reset(token)


def shown(text: str) -> str:
    """``text`` as a report may show it: product keys masked unless asked for."""
    return text if _SHOW_KEYS.get() else mask_keys(text)


def shown_column(values: list[str]) -> list[str]:
    """A whole column as ``shown`` gives it, in one pass when it holds no key at all."""
    if _SHOW_KEYS.get() or not holds_key(values):
        return values
    return [mask_keys(v) for v in values]


DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS_PREFIXES)


def neutralise_csv(text: str) -> str:
    """Prefix a single quote so a spreadsheet shows the text instead of evaluating it."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text
