"""The registry of finding codes, read from ``data/findings.toml`` (the one place they are
documented)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

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
    raw = (
        resources.files("coa_audit.core").joinpath("data/findings.toml").read_text(encoding="utf-8")
    )
    return {
        code: CodeInfo(code, e["severity"], e["field"], e["title"], e["action"])
        for code, e in tomllib.loads(raw).items()
    }


def code_info(code: str) -> CodeInfo:
    return codes()[code]
