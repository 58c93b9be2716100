"""Evidence collected from the PCs themselves (RULES §8): files that the collect script,
`Get-CimInstance ... | Export-Csv`, `wmic /format:csv`, Intune or Configuration Manager
wrote, each row one PC with its firmware (OA3) key description and, optionally, the key.

They are read with the same importer as a register, then merged onto the register's devices
by serial number (normalised: case, spaces and punctuation ignored), else by host name. The
merge adds three derived columns to the register (never written into the corrected file)
and lists what did not match either way."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import subprocess
import sys
from dataclasses import dataclass, field
from itertools import compress
from operator import not_
from pathlib import Path

from coa_audit.core.errors import CoaError, InputError, UsageError
from coa_audit.core.model import Inventory
from coa_audit.importers.headers import norm_header
from coa_audit.importers.load import load_inventory

__all__ = [
    "COLLECTED_FIELDS",
    "CollectedFile",
    "Collection",
    "CollectionFile",
    "PendingCollection",
    "merge_collection",
    "read_collection_file",
]

# derived fields the merge adds to the register, with their column titles
COLLECTED_FIELDS = {
    "fw_edition": "Firmware key description (collected)",
    "fw_key": "Firmware key (collected)",
    "fw_source": "Collected from",
}
# the columns `coa-audit collect-script` writes (data/collect-coa-evidence.ps1), in order
COLLECT_SCRIPT_HEADERS = (
    "ComputerName",
    "SerialNumber",
    "Manufacturer",
    "Model",
    "OSCaption",
    "OSBuild",
    "OA3xOriginalProductKeyDescription",
    "OA3xOriginalProductKey",
    "CollectedAt",
)
_WHEN_HEADERS = {"collected at", "collected", "collection date", "date", "timestamp", "scan date"}
_ALNUM = re.compile(r"[^0-9A-Z]+")


def _norm_serial(value: str) -> str:
    if value.isalnum():  # most serials: no spaces or punctuation to strip
        return value.upper()
    return _ALNUM.sub("", value.upper())


def _norm_host(value: str) -> str:
    return value.strip().split(".")[0].upper()


@dataclass
class CollectionFile:
    path: str
    sha256: str
    rows: int


@dataclass
class Collection:
    """What the merge found: the files, and the two lists no register gives."""

    files: list[CollectionFile] = field(default_factory=list)
    matched: int = 0
    by_hostname: int = 0
    not_collected: list[int] = field(default_factory=list)  # register row indexes
    not_in_register: list[dict[str, str]] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    def as_dict(self, inv: Inventory) -> dict[str, object]:
        return {
            "files": [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in self.files],
            "matched": self.matched,
            "matched_by_hostname": self.by_hostname,
            "not_collected": [inv.row_numbers[r] for r in self.not_collected],
            "not_in_register": self.not_in_register,
            "ambiguous": self.ambiguous,
        }


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in (".csv", ".txt", ".xlsx"))
            if not found:
                raise UsageError(f"--evidence {p}: the folder holds no csv or xlsx file")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"--evidence {p}: no such file")
    return out


@dataclass
class CollectedFile:
    """One collection file, reduced to what the merge needs (it crosses a process
    boundary: plain lists only)."""

    path: str
    sha256: str
    rows: list[int]
    serial: list[str]
    host: list[str]
    manufacturer: list[str]
    model: list[str]
    description: list[str]
    key: list[str]
    when: list[str]


def read_collection_file(path: str) -> CollectedFile:
    """Read one collection file with the register importer and keep its evidence columns."""
    import gc

    gc.disable()  # as for the register: big lists, no cycles (see session._collector_paused)
    try:
        col = load_inventory(path)
    except InputError as exc:
        raise InputError(f"--evidence: {exc}") from None
    finally:
        gc.enable()

    def values(name: str) -> list[str]:
        c = col.mapping.get(name)
        return col.columns[c] if c is not None else [""] * len(col)

    when_col = next((c for c, h in enumerate(col.headers) if norm_header(h) in _WHEN_HEADERS), None)
    if when_col is not None:
        when = [v[:10] for v in col.columns[when_col]]
    else:
        when = [dt.date.fromtimestamp(Path(path).stat().st_mtime).isoformat()] * len(col)
    return CollectedFile(
        path,
        col.source.sha256,
        list(col.row_numbers),
        values("serial_number"),
        values("hostname"),
        values("manufacturer"),
        values("model"),
        values("coa_edition"),
        values("coa_key"),
        when,
    )


class PendingCollection:
    """Collection files being read in another process while the register loads (they are
    as large as the register: reading them side by side uses the second core). The child is
    ``python -m coa_audit.importers.collection FILE``: it never runs the caller's own main
    module, and hands back plain lists."""

    PARALLEL_FROM = 8 * 1024 * 1024  # bytes; smaller files are read in this process

    def __init__(self, paths: list[Path]) -> None:
        self.paths = _files(paths)
        self._children: list[subprocess.Popen[bytes]] = []
        if sum(p.stat().st_size for p in self.paths) >= self.PARALLEL_FROM:
            self._children = [
                subprocess.Popen(
                    [sys.executable, "-m", "coa_audit.importers.collection", str(p)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                )
                for p in self.paths
            ]

    def result(self) -> list[CollectedFile]:
        try:
            if not self._children:
                return [read_collection_file(str(p)) for p in self.paths]
            out = []
            for path, child in zip(self.paths, self._children, strict=True):
                data, _ = child.communicate()
                try:
                    kind, value = pickle.loads(data)
                except Exception:
                    raise InputError(f"--evidence {path}: it could not be read") from None
                if kind == "error":
                    message, code = value
                    raise (UsageError if code == UsageError.exit_code else InputError)(message)
                out.append(value)
            return out
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading (the register failed, or the work is done)."""
        for child in self._children:
            if child.poll() is None:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
        self._children = []


def _child_main(path: str) -> None:
    """``python -m coa_audit.importers.collection FILE``: read, pickle to stdout."""
    try:
        result: tuple[str, object] = ("ok", read_collection_file(path))
    except CoaError as exc:
        result = ("error", (str(exc), exc.exit_code))
    except Exception as exc:  # a bug: one line, like everywhere else
        result = ("error", (f"--evidence {path}: internal error: {type(exc).__name__}", 3))
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


def _keys(values: list[str], norm) -> list[str]:  # norm: str -> str
    """The normalised key of every value ("" for a blank), at C speed where it can be."""
    if norm is _norm_serial:  # the common serial is upper-cased, nothing more
        keys = list(map(str.upper, values))
        for i in compress(range(len(values)), map(not_, map(str.isalnum, values))):
            keys[i] = norm(values[i]) if values[i] else ""
        return keys
    # host names: upper case at C speed; only names with a domain or spaces need more
    keys = list(map(str.upper, values))
    for i, v in enumerate(values):
        if "." in v or v[:1].isspace() or v[-1:].isspace():
            keys[i] = norm(v)
    return keys


class _Index:
    """key -> register row, from the keys' hashes sorted with numpy (no dict of a million
    keys). A key held by two rows or more is shared (ambiguous); a hit is confirmed on the
    key itself, so a hash collision never merges two devices."""

    def __init__(self, keys: list[str]) -> None:
        import numpy as np

        self.keys = keys
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.rows = hashes[order], order
        runs = self.hashes[1:] == self.hashes[:-1]
        self.shared_hashes = set(self.hashes[1:][runs].tolist())
        self.blank = hash("")

    def lookup(self, keys: list[str]) -> tuple[list[int | None], list[bool]]:
        """(register row or None, shared?) for every key."""
        import numpy as np

        if not len(self.hashes):
            return [None] * len(keys), [False] * len(keys)
        wanted = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        pos = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        hit = (self.hashes[pos] == wanted) & (wanted != self.blank)
        rows = self.rows[pos].tolist()
        mine = self.keys
        found = [
            r if ok and mine[r] == k else None
            for r, ok, k in zip(rows, hit.tolist(), keys, strict=True)
        ]
        shared_hashes = self.shared_hashes
        if not shared_hashes:
            return found, [False] * len(keys)
        blank = self.blank
        shared = [h in shared_hashes and h != blank for h in wanted.tolist()]
        return found, shared


def merge_collection(inv: Inventory, files: list[CollectedFile]) -> Collection:
    """Merge the collected files onto ``inv`` (adds the derived columns) and list what did
    not match either way."""
    out = Collection()
    n = len(inv)
    blank = [""] * n
    sc, hc = inv.mapping.get("serial_number"), inv.mapping.get("hostname")
    serial_values = inv.column_values(sc) if sc is not None else blank
    host_values = inv.column_values(hc) if hc is not None else blank
    serials = _Index(_keys(serial_values, _norm_serial))
    host_index: list[_Index] = []  # built on first need

    fw_edition, fw_key, fw_source = [""] * n, [""] * n, [""] * n
    matched: set[int] = set()
    hostname_rows: set[int] = set()
    for cf in files:
        out.files.append(CollectionFile(cf.path, cf.sha256, len(cf.rows)))
        label = Path(cf.path).name
        keys = _keys(cf.serial, _norm_serial)
        found, shared_keys = serials.lookup(keys)
        # register row -> collected row; the common case (a unique serial) in one pass
        pairs = {
            r: i
            for i, (r, sh) in enumerate(zip(found, shared_keys, strict=True))
            if r is not None and not sh
        }
        slow = [
            i for i, (r, sh) in enumerate(zip(found, shared_keys, strict=True)) if r is None or sh
        ]
        # rows no serial found: look them up by host name, all at once
        by_name = [i for i in slow if found[i] is None and not shared_keys[i] and cf.host[i]]
        host_hits: dict[int, tuple[int | None, bool]] = {}
        if by_name:
            if not host_index:
                host_index.append(_Index(_keys(host_values, _norm_host)))
            rows, shared_hosts = host_index[0].lookup([_norm_host(cf.host[i]) for i in by_name])
            host_hits = dict(zip(by_name, zip(rows, shared_hosts, strict=True), strict=True))
        for i in slow:  # by host name, ambiguous, or not in the register
            r, how, shared = found[i], "serial", shared_keys[i]
            if i in host_hits:
                how = "hostname"
                r, shared = host_hits[i]
            if r is not None and shared:
                shown = cf.serial[i] if how == "serial" else cf.host[i]
                out.ambiguous.append(
                    f"{label} row {cf.rows[i]}: {how} {shown!r} is on more than one register row"
                )
            elif r is None:
                out.not_in_register.append(
                    {
                        "file": label,
                        "row": str(cf.rows[i]),
                        "hostname": cf.host[i],
                        "serial_number": cf.serial[i],
                        "manufacturer": cf.manufacturer[i],
                        "model": cf.model[i],
                        "firmware_key_description": cf.description[i],
                    }
                )
            else:
                pairs[r] = i
                hostname_rows.add(r)
        # a later collection of the same PC wins; the columns are built in one pass each
        sources: dict[str, str] = {}
        for r, i in pairs.items():
            when = cf.when[i]
            src = sources.get(when)
            if src is None:
                src = sources[when] = f"{label}, {when}"
            fw_edition[r], fw_key[r], fw_source[r] = cf.description[i], cf.key[i], src
        matched.update(pairs)
    out.matched = len(matched)
    out.by_hostname = len(hostname_rows & matched)
    seen = matched
    out.not_collected = [r for r in range(n) if r not in seen]
    inv.add_derived(COLLECTED_FIELDS, [fw_edition, fw_key, fw_source])
    return out


if __name__ == "__main__":
    # run from the module under its real name, so what is pickled names
    # coa_audit.importers.collection, not __main__
    from coa_audit.importers.collection import _child_main as child_main

    child_main(sys.argv[1])
