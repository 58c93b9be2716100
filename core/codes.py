"""The registry of finding codes, read from ``data/findings.toml`` (the one place they are
documented)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from coa_audit.core.files import shipped_toml

__all__ = ["SEVERITY_LEVEL", "CodeInfo", "code_info", "codes"]

Severity = Literal["info", "error", "warning", "out-of-scope"]
# "out-of-scope" outranks everything: a row that is not a PC is counted apart, never blocked.
SEVERITY_LEVEL: dict[str, int] = {"info": 0, "warning": 1, "error": 2, "out-of-scope": 3}


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    field: str
    title: str
    action: str

    @property
    def level(self) -> int:
        return SEVERITY_LEVEL[self.severity]


@lru_cache(maxsize=1)
def codes() -> dict[str, CodeInfo]:
    return {
        code: CodeInfo(code, e["severity"], e["field"], e["title"], e["action"])
        for code, e in shipped_toml("core", "findings.toml").items()
    }


def code_info(code: str) -> CodeInfo:
    return codes()[code]
