"""Evidence collected from the PCs themselves (RULES §8): files that the collect script,
`Get-CimInstance ... | Export-Csv`, `wmic /format:csv`, Intune or Configuration Manager
wrote, each row one PC with its firmware (OA3) key description and, optionally, the key.

They are read with the same importer as a register, then merged onto the register's devices
by serial number, else by host name, each compared as its identity (``core.identity``: case,
spaces, punctuation and hidden characters ignored, look-alike letters read as the letter). The
merge adds three derived columns to the register (never written into the corrected file)
and lists what did not match either way."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress
from operator import ne, not_
from pathlib import Path
from typing import TYPE_CHECKING

from coa_audit.core.errors import EXIT_INTERNAL, CoaError, InputError, UsageError, internal_error
from coa_audit.core.files import not_regular
from coa_audit.core.identity import host_identities, host_identity, identities, identity
from coa_audit.core.model import Inventory
from coa_audit.core.sorting import SortedHashes, hashes_of
from coa_audit.importers.formats import start_apart
from coa_audit.importers.headers import norm_header
from coa_audit.importers.load import load_inventory

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

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
_REPEATED = re.compile(r"\x00([^\x00])\1{3,}(?=\x00)")  # "\x000000000\x00", "\x00XXXXXXXX\x00"


def _interned(values: list[str]) -> list[str]:
    """Equal values as one object: pickled once, however many rows repeat them."""
    seen: dict[str, str] = {}
    return [seen.setdefault(v, v) for v in values]


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
        else:
            out.append(p)
    for p in out:
        why = not_regular(p)
        if why is not None:
            raise InputError(f"--evidence {p}: {why}")
    return out


@dataclass
class CollectedFile:
    """One collection file, reduced to what the merge needs. It crosses a process boundary,
    so it holds plain lists, with repeated values as one object (pickled once) and each
    serial's key worked out where the file was read (on the other core)."""

    path: str
    sha256: str
    rows: Sequence[int]
    serial: list[str]
    serial_key: list[str]
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
    serial = values("serial_number")
    keys = identities(serial)
    if keys is not serial:  # a key equal to its serial is the same object: pickled once
        keys = [v if k == v else k for v, k in zip(serial, keys, strict=True)]
    return CollectedFile(
        path,
        col.source.sha256,
        col.row_numbers,
        serial,
        keys,
        values("hostname"),
        _interned(values("manufacturer")),
        _interned(values("model")),
        # the OA3 description (its own field), or an edition column of a hand-made file
        _interned(values("oa3_edition" if "oa3_edition" in col.mapping else "coa_edition")),
        values("coa_key"),
        _interned(when),
    )


class PendingCollection:
    """Collection files being read in another process while the register loads (they are
    as large as the register: reading them side by side uses the second core). Each file is
    read by a ``multiprocessing`` child started afresh (spawn: never a fork of a process
    that runs threads; in a one-file build the program itself, through
    ``multiprocessing.freeze_support`` in ``cli.main.main``), which hands back plain lists
    through a pipe. A child that dies on a file ends its pipe: that file is refused."""

    PARALLEL_FROM = 8 * 1024 * 1024  # bytes; smaller files are read in this process

    def __init__(self, paths: list[Path]) -> None:
        self.paths = _files(paths)
        self._children: list[tuple[BaseProcess, Connection]] = []
        if sum(p.stat().st_size for p in self.paths) >= self.PARALLEL_FROM:
            from multiprocessing import Pipe

            try:
                for p in self.paths:
                    receiver, sender = Pipe(duplex=False)
                    try:
                        child = start_apart(_child_main, str(p), sender, name="coa-audit-evidence")
                    finally:
                        sender.close()  # the child's end: its pipe ends when the child does
                    self._children.append((child, receiver))
            except BaseException:
                self.close()
                raise

    def result(self) -> list[CollectedFile]:
        try:
            if not self._children:
                return [read_collection_file(str(p)) for p in self.paths]
            out = []
            for path, (_child, receiver) in zip(self.paths, self._children, strict=True):
                try:
                    kind, value = pickle.loads(receiver.recv_bytes())
                except Exception:  # EOFError: the child died on it
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
        for child, receiver in self._children:
            receiver.close()
            if child.is_alive():
                child.kill()
            child.join()
            child.close()
        self._children = []


def _child_main(path: str, sender: Connection) -> None:
    """In the reading process: read ``path``, send the result (or the error's one line and
    exit code) pickled through ``sender``. What native code writes to file descriptor 2 (a
    Rust panic's words) goes to the null device, as in the supervised command."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        result: tuple[str, object] = ("ok", read_collection_file(path))
    except CoaError as exc:
        result = ("error", (str(exc), exc.exit_code))
    except Exception as exc:  # a bug: one line, like everywhere else
        result = ("error", (f"--evidence {path}: {internal_error(exc, False)}", EXIT_INTERNAL))
    sender.send_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sender.close()


def _without_placeholders(keys: list[str], placeholders: frozenset[str]) -> list[str]:
    """``keys`` with those of serials that are no serial blanked, so they never match: a
    firmware placeholder the policy lists ("To be filled by O.E.M."), one character
    repeated ("0000000")."""
    blank = set(compress(range(len(keys)), map(placeholders.__contains__, keys)))
    joined = "\x00".join(keys)
    if joined.count("\x00") == len(keys) - 1:
        joined, seen, at = f"\x00{joined}\x00", 0, 0
        for m in _REPEATED.finditer(joined):  # NULs counted up to each hit: its row
            seen += joined.count("\x00", at, m.start() + 1)
            at = m.start() + 1
            blank.add(seen - 1)
    else:
        blank.update(i for i, k in enumerate(keys) if len(k) >= 4 and k.count(k[0]) == len(k))
    if not blank:
        return keys
    keys = list(keys)
    for i in blank:
        keys[i] = ""
    return keys


class _Index:
    """key -> register row, from the keys' hashes sorted (``core.sorting``: no dict of a
    million keys). A key held by two rows or more is shared (ambiguous); a hit is confirmed
    on the key itself, so a hash collision never merges two devices, and a blank key matches
    nothing."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.sorted = SortedHashes(hashes_of(keys, len(keys)))

    def lookup(self, keys: list[str]) -> tuple[list[int], list[bool]]:
        """The register row of every key (-1: none), and whether it is shared."""
        m = len(keys)
        found, shared = self.sorted.first(hashes_of(keys, m))
        hits = list(compress(range(m), map((-1).__ne__, found)))
        theirs = map(self.keys.__getitem__, map(found.__getitem__, hits))
        wrong = chain(
            compress(hits, map(ne, theirs, map(keys.__getitem__, hits))),  # another key
            compress(hits, map(not_, map(keys.__getitem__, hits))),  # blank
        )
        for i in wrong:
            found[i], shared[i] = -1, False
        return found, shared


def _joined(files: list[CollectedFile], name: str) -> list[str]:
    if len(files) == 1:
        return getattr(files[0], name)
    return list(chain.from_iterable(getattr(f, name) for f in files))


def merge_collection(
    inv: Inventory, files: list[CollectedFile], placeholders: frozenset[str] = frozenset()
) -> Collection:
    """Merge the collected files onto ``inv`` (adds the derived columns) and list what did
    not match either way. ``placeholders``: serials that are no serial (the policy's list),
    which match nothing.

    A PC is its register device when their serials agree; else, when one of the two serials
    is blank, when their host names agree. A serial or host name on two register rows, a
    serial two PCs report, a host name whose serials disagree: listed as ambiguous, never
    guessed. A later row (or file) of the same PC wins."""
    out = Collection()
    n = len(inv)
    sc, hc = inv.mapping.get("serial_number"), inv.mapping.get("hostname")
    blank = [""] * n
    serial_values = inv.column_values(sc) if sc is not None else blank
    host_values = inv.column_values(hc) if hc is not None else blank
    upper = frozenset(map(identity, placeholders))
    register_keys = _without_placeholders(identities(serial_values), upper)
    register = _Index(register_keys)

    # all files as one list of collected rows, in order
    starts = list(accumulate((len(f.serial) for f in files), initial=0))
    labels = [Path(f.path).name for f in files]
    for cf in files:
        out.files.append(CollectionFile(cf.path, cf.sha256, len(cf.serial)))
    keys = _without_placeholders(_joined(files, "serial_key"), upper)
    serial, host = _joined(files, "serial"), _joined(files, "host")

    def where(i: int) -> tuple[str, int]:
        f = bisect_right(starts, i) - 1
        return labels[f], files[f].rows[i - starts[f]]

    def ambiguous(i: int, why: str) -> None:
        label, row = where(i)
        out.ambiguous.append(f"{label} row {row}: {why}")

    found, shared = register.lookup(keys)
    for i in compress(range(len(keys)), shared):
        ambiguous(i, f"serial_number {serial[i]!r} is on more than one register row")
    by_serial = [i for i, (r, s) in enumerate(zip(found, shared, strict=True)) if r >= 0 and not s]
    pos = [-1] * n  # register row -> collected row
    for i in by_serial:
        pos[found[i]] = i  # the last collection of a PC wins
    # one device matched by two collected rows: the same PC again (same host name), or two
    # PCs that share a serial (a placeholder the policy does not know): never guessed
    if len(by_serial) > n - pos.count(-1):
        groups: dict[int, list[int]] = {}  # register row -> its collected rows, in order
        for i in by_serial:
            groups.setdefault(found[i], []).append(i)
        for device in sorted(groups):
            group = groups[device]
            if len(group) > 1:
                # distinct PCs by their host name's identity, each named as it was written
                hosts = {host_identity(host[i]): host[i].strip() for i in group}
                if len(hosts) > 1:
                    pos[device] = -1
                    ambiguous(
                        group[-1],
                        f"serial_number {serial[group[-1]]!r} was reported by {len(group)} "
                        f"PCs ({', '.join(sorted(repr(h) for h in hosts.values()))})",
                    )

    # no serial found: by host name, when one of the two serials is blank
    rest = list(compress(range(len(keys)), map((0).__gt__, found)))
    named = [i for i in rest if host[i]]
    names = dict(zip(named, host_identities([host[i] for i in named]), strict=True))
    rows_of: dict[str, list[int]] = {}
    if names:
        register_hosts = host_identities(host_values)
        wanted = set(names.values()) - {""}
        for r in compress(range(n), map(wanted.__contains__, register_hosts)):
            rows_of.setdefault(register_hosts[r], []).append(r)
    via_host: set[int] = set()
    for i in rest:
        rows = rows_of.get(names.get(i, ""), [])
        if len(rows) > 1:
            ambiguous(i, f"hostname {host[i]!r} is on more than one register row")
        elif rows and register_keys[rows[0]] and keys[i]:
            ambiguous(
                i,
                f"hostname {host[i]!r} is register row {inv.row_numbers[rows[0]]}, whose "
                f"serial_number {serial_values[rows[0]]!r} is not the PC's {serial[i]!r}",
            )
        elif rows and (pos[rows[0]] < 0 or rows[0] in via_host):
            pos[rows[0]] = i
            via_host.add(rows[0])
        elif not rows:
            k = bisect_right(starts, i) - 1
            j = i - starts[k]
            out.not_in_register.append(
                {
                    "file": labels[k],
                    "row": str(files[k].rows[j]),
                    "hostname": host[i],
                    "serial_number": serial[i],
                    "manufacturer": files[k].manufacturer[j],
                    "model": files[k].model[j],
                    "firmware_key_description": files[k].description[j],
                }
            )
        # else: a PC reported again without its serial, already matched by it

    sources: list[str] = []
    for label, f in zip(labels, files, strict=True):
        named_source = {w: f"{label}, {w}" for w in set(f.when)}
        sources.extend(map(named_source.__getitem__, f.when))
    take = pos  # -1 picks the "" appended to each list
    columns = [
        list(map([*_joined(files, name), ""].__getitem__, take)) for name in ("description", "key")
    ]
    columns.append(list(map([*sources, ""].__getitem__, take)))
    out.matched = n - pos.count(-1)
    out.by_hostname = len(via_host)
    out.not_collected = list(compress(range(n), map((0).__gt__, pos)))
    inv.add_derived(COLLECTED_FIELDS, columns)
    return out
