"""One entry point for every front end: read a file, load the policy, audit."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coa_audit.core.audit import Audit
from coa_audit.core.model import Inventory
from coa_audit.core.policy import Policy, load_policy
from coa_audit.importers.headers import parse_overrides
from coa_audit.importers.load import load_inventory

__all__ = ["Session", "open_session"]


@dataclass
class Session:
    inventory: Inventory
    policy: Policy
    audit: Audit


def open_session(
    path: str | Path,
    *,
    sheet: str | None = None,
    target: str | None = None,
    agreement: str | None = None,
    policy_path: str | Path | None = None,
    maps: Sequence[str] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> Session:
    """Policy first (a usage error should not wait for a large file), then the file, then the
    audit. Raises PolicyError / ValueError (usage), InputError (unreadable file)."""
    policy = load_policy(Path(policy_path) if policy_path else None, target, agreement)
    overrides = parse_overrides(maps)
    read = (lambda done, total: progress("reading", done, total)) if progress else None
    check = (lambda done, total: progress("auditing", done, total)) if progress else None
    with _collector_paused():
        inv = load_inventory(path, sheet=sheet, overrides=overrides, progress=read)
        session = Session(inv, policy, Audit(inv, policy, progress=check))
    return session


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a few huge lists and no reference cycles. Python's cyclic collector
    would walk every element of those lists again and again (a third of the load time at a
    million rows), so it waits; afterwards what was built is frozen out of its sight."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
