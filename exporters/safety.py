"""Formula-injection neutralisation for text the tool writes into CSV and xlsx reports
(OWASP "CSV injection", CWE-1236)."""

from __future__ import annotations

__all__ = ["DANGEROUS_PREFIXES", "is_dangerous", "neutralise_csv"]

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS_PREFIXES)


def neutralise_csv(text: str) -> str:
    """Prefix a single quote so a spreadsheet shows the text instead of evaluating it."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text
