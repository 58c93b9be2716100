"""The licensing policy: every verdict coa-audit gives comes from a TOML table.

The shipped table is ``data/policy.toml``. A user's policy file is merged over it: it only
needs the parts it changes (an edition entry replaces the shipped entry of the same id; a
list replaces the shipped list).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress
from operator import not_
from pathlib import Path
from typing import Any, Literal

from coa_audit.core.editions import ParsedEdition, is_empty
from coa_audit.core.errors import UsageError
from coa_audit.core.evidence import EvidenceWords
from coa_audit.core.files import parse_toml, read_small, shipped_toml, utf8_text
from coa_audit.core.identity import host_form, visible
from coa_audit.core.patterns import NEVER, Pattern, compile_pattern, pattern_keys
from coa_audit.core.text import fold_words

__all__ = [
    "KEY_PATTERN",
    "VERDICTS",
    "Policy",
    "PolicyError",
    "Verdict",
    "default_policy_text",
    "load_policy",
]

Verdict = Literal["qualifies", "review", "not-qualifying"]
VERDICTS: tuple[Verdict, ...] = ("qualifies", "review", "not-qualifying")


class PolicyError(UsageError):
    """The policy file is unreadable or inconsistent (a configuration error)."""


def default_policy_text() -> str:
    return (
        resources.files("coa_audit.core").joinpath("data/policy.toml").read_text(encoding="utf-8")
    )


@lru_cache(maxsize=1)
def builtin_sha256() -> str:
    """SHA-256 of the shipped policy file, as installed."""
    return hashlib.sha256(
        resources.files("coa_audit.core").joinpath("data/policy.toml").read_bytes()
    ).hexdigest()


@lru_cache(maxsize=1)
def builtin_version() -> str:
    """The shipped policy's version."""
    return str(shipped_toml("core", "policy.toml")["policy"].get("version", ""))


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _word_starts(words: list[str]) -> re.Pattern[str]:
    """One pattern matching any of ``words`` at the start of a word ("vmware" in "vmware7 1")."""
    alts = sorted({fold_words(w) for w in words if fold_words(w)}, key=len, reverse=True)
    if not alts:
        return re.compile(r"(?!)")
    return re.compile(r"(?:^|\s)(?:" + "|".join(re.escape(a) for a in alts) + ")")


# a lower-case letter before an upper-case one: "retirePending" is two words
_CAMEL_STEP = re.compile(r"(?<=[a-z])(?=[A-Z])")

# Five groups of five from the key alphabet (one N allowed, checked separately).
KEY_PATTERN = re.compile(r"[BCDFGHJKMPQRTVWXY2346789N]{5}(?:-[BCDFGHJKMPQRTVWXY2346789N]{5}){4}\Z")


@dataclass(frozen=True, slots=True)
class Rating:
    verdict: Verdict
    reason: str


@dataclass
class Policy:
    """A loaded, validated policy with the chosen target and agreement."""

    data: dict[str, Any]
    target: str
    agreement: str
    source: str = "built-in"
    source_sha256: str = ""  # of the policy file, when one was given
    _cache: dict[tuple[str, str | None], Rating] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for where, text in pattern_keys(self.data):  # before anything compiles one
            compile_pattern(f"{self._where}{where}", text, PolicyError)
        targets = self.data.get("targets", {})
        if self.target not in targets:
            raise PolicyError(
                f"unknown target {self.target!r}; choose one of: {', '.join(sorted(targets))}"
            )
        agreements = self.data.get("agreements", {})
        if self.agreement not in agreements:
            raise PolicyError(
                f"unknown agreement {self.agreement!r}; "
                f"choose one of: {', '.join(sorted(agreements))}"
            )
        for eid, entry in self.data.get("editions", {}).items():
            verdicts = [entry.get("verdict")] + [
                o.get("verdict") for o in entry.get("override", [])
            ]
            for v in verdicts:
                if v not in VERDICTS:
                    raise PolicyError(
                        f"edition {eid!r}: verdict {v!r} is not one of {', '.join(VERDICTS)}"
                    )
        if self.target == "windows-education" and self.agreement != "academic":
            raise PolicyError(
                "the windows-education target needs --agreement academic: Windows Education "
                "is sold only under academic agreements (EES, OVS-ES, School)"
            )
        self.evidence = EvidenceWords(self.data.get("evidence", {}))
        generic = self.data.get("keys", {}).get("generic", [])
        self.generic_keys = frozenset(self.key_norm(k) for k in generic)  # XXXXX-XXXXX-...
        self.placeholder_serials = frozenset(
            _alnum(s) for s in self.data.get("serials", {}).get("placeholders", [])
        )
        serials = self.data.get("serials", {})
        self.product_id = compile_pattern(
            "serials.product_id_pattern", serials.get("product_id_pattern", NEVER), PolicyError
        )
        scope = self.data.get("scope", {})
        self.apple_makers = frozenset(fold_words(w) for w in scope.get("apple_makers", []))
        self.apple_models = compile_pattern(
            "scope.apple_model_pattern", scope.get("apple_model_pattern", NEVER), PolicyError
        )
        self.not_pc_os = _word_starts(scope.get("not_pc_os", []))
        self.virtual_makers = frozenset(fold_words(w) for w in scope.get("virtual_makers", []))
        self.virtual_models = _word_starts(scope.get("virtual_models", []))
        self.virtual_serials = tuple(
            _alnum(w) for w in scope.get("virtual_serial_prefixes", []) if _alnum(w)
        )
        self._virtual_sizes, self._virtual_hosts = self._virtual_signs(scope)
        prefixes = sorted({prefix for prefix, _w, _p in self._virtual_hosts}, key=len)
        # a host name's first characters, told in C for a whole column (``virtual_hosts``)
        self._host_starts = re.compile(
            r"\s*(?:" + "|".join(re.escape(p) for p in prefixes) + ")", re.IGNORECASE
        )
        self.not_pc_types = frozenset(fold_words(w) for w in scope.get("not_pc_types", []))
        self._not_pc_words = max((len(t.split()) for t in self.not_pc_types), default=0)
        self.scope_types = {
            fold_words(w): what
            for what, words in scope.get("types", {}).items()
            for w in words
            if fold_words(w)
        }
        self._scope_type_words = max((len(t.split()) for t in self.scope_types), default=0)
        self.scope_os: dict[str, str] = dict(scope.get("os", {}))
        life = self.data.get("lifecycle", {})
        self.in_use = frozenset(fold_words(w) for w in life.get("in_use", []))
        self.gone = frozenset(fold_words(w) for w in life.get("gone", []))
        self.deleted_yes = frozenset(fold_words(w) for w in life.get("deleted_yes", []))
        self.deleted_no = frozenset(fold_words(w) for w in life.get("deleted_no", []))
        self.deleted_date = compile_pattern(
            "lifecycle.deleted_date_pattern", life.get("deleted_date_pattern", NEVER), PolicyError
        )
        dg = self.data.get("downgrade", {})
        self.version_order: list[str] = dg.get("version_order", [])
        self.never_images = frozenset(dg.get("never_images", []))
        self.covers: dict[str, dict[str, list[str]]] = dg.get("covers", {})

    @property
    def _where(self) -> str:
        """Where a key of this policy comes from, as a message names it."""
        return "" if self.source == "built-in" else f"policy file {self.source}: "

    # -- editions --------------------------------------------------------------------------
    @property
    def licensed_edition(self) -> str:
        return str(self.data["targets"][self.target]["licensed_edition"])

    @property
    def target_label(self) -> str:
        return str(self.data["targets"][self.target].get("label", self.target))

    @property
    def name(self) -> str:
        return str(self.data.get("policy", {}).get("name", "policy"))

    @property
    def version(self) -> str:
        return str(self.data.get("policy", {}).get("version", ""))

    @property
    def provenance(self) -> str:
        """The policy as a packet names it: its version and SHA-256 always, the built-in one
        included (a policy file: its own SHA-256 and the built-in text it was merged over)."""
        builtin = f"built-in policy version {builtin_version()} (SHA-256 {builtin_sha256()})"
        if self.source == "built-in":
            return builtin[0].upper() + builtin[1:]
        version = f", version {self.version}" if self.version != builtin_version() else ""
        return f"{self.source}{version} (SHA-256 {self.source_sha256}), merged over the {builtin}"

    def edition_label(self, key: str) -> str:
        """An edition's name without the policy label's note: "Windows Pro / Professional"
        for "Windows Pro / Professional (N, KN, in S mode, OA3 'Professional')"."""
        label = str(self.data.get("editions", {}).get(key, {}).get("label", key))
        return label.split(" (")[0]

    def edition_name(self, ed: ParsedEdition | None, text: str) -> str:
        """The edition as a person names it ("Windows 10 Pro N"), or the cell's own words
        when it was not read as one."""
        if ed is None or ed.edition in (None, "unreadable"):
            return " ".join(text.split())
        short = self.edition_label(ed.key).split(" /")[0]
        if ed.version and short.startswith("Windows ") and ed.family == "windows":
            name = short[8:]
            if name == "Pro" and ed.version in ("7", "xp", "2000"):
                name = "Professional"  # what those labels say
            short = f"Windows {ed.version.upper() if ed.version == 'xp' else ed.version} {name}"
        if ed.variant in ("n", "kn"):
            short += f" {ed.variant.upper()}"
        return short

    def rate(self, parsed: ParsedEdition) -> Rating:
        """The verdict and its reason for one parsed edition under this target/agreement."""
        key = (parsed.key, parsed.version)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._rate(parsed.key, parsed.version, self.target, self.agreement)
            self._cache[key] = hit
        return hit

    def _rate(self, eid: str, version: str | None, target: str, agreement: str) -> Rating:
        entry = self.data.get("editions", {}).get(eid) or self.data["editions"]["unreadable"]
        for o in entry.get("override", []):
            if "target" in o and o["target"] != target:
                continue
            if "agreement" in o and o["agreement"] != agreement:
                continue
            if "version" in o and o["version"] != version:
                continue
            return Rating(o["verdict"], o.get("reason", entry.get("reason", "")))
        return Rating(entry["verdict"], entry.get("reason", ""))

    def table(self) -> list[dict[str, str]]:
        """Every edition with its verdict for every target/agreement pair (policy show)."""
        rows = []
        for eid, entry in self.data.get("editions", {}).items():
            row = {"edition": eid, "label": entry.get("label", eid)}
            for target in self.data["targets"]:
                for agreement in self.data["agreements"]:
                    row[f"{target}/{agreement}"] = self._rate(eid, None, target, agreement).verdict
            rows.append(row)
        return rows

    # -- keys, serials, evidence -----------------------------------------------------------
    @staticmethod
    def key_norm(key: str) -> str:
        """A key as keys are compared: upper case, spaces and dashes set aside, and 25
        characters written back as five dashed groups (the form a clean key already has)."""
        k = key.strip().upper().replace("-", "").replace(" ", "")
        if len(k) != 25:
            return k
        return f"{k[:5]}-{k[5:10]}-{k[10:15]}-{k[15:20]}-{k[20:]}"

    @staticmethod
    def key_well_formed(key: str) -> bool:
        """25 characters of the key alphabet with at most one N, in five groups of five or
        written together (case, spaces and dashes set aside)."""
        k = Policy.key_norm(key)
        return bool(KEY_PATTERN.match(k)) and k.count("N") <= 1

    def key_generic(self, key: str) -> bool:
        return self.key_norm(key) in self.generic_keys

    @staticmethod
    def key_placeholder(key: str) -> bool:
        """A key that stands for no key: a key-length value whose first or last character
        stands 20 times or more, one character repeated (BBBBB-BBBBB-..., 00000-...) or a key
        masked from either end by the tool that exported it (XXXXX-XXXXX-XXXXX-XXXXX-3V66T,
        3V66T-XXXXX-..., *****-*****-...-3V66T)."""
        k = Policy.key_norm(key)
        return 20 <= len(k) <= 29 and max(k.count(k[0]), k.count(k[-1])) >= 20

    def serial_placeholder(self, serial: str) -> bool:
        if is_empty(serial) and serial.strip():  # an export's "NULL", "\N": no serial either
            return True
        low = serial.lower()
        if not low.isalnum():  # most serials: no punctuation to strip
            low = _alnum(serial)
        if low in self.placeholder_serials:
            return True
        # one character repeated ("0000000", "XXXXXXXX"); a short id of one digit is not one
        return len(low) >= 4 and low.count(low[0]) == len(low)

    def serial_not_hardware(self, serial: str, header: str = "") -> str | None:
        """Why a serial is not a hardware serial number (or None): a placeholder, the column's
        own name, a Windows product ID."""
        if self.serial_placeholder(serial):
            return "is a firmware placeholder"
        if header and _alnum(serial) == _alnum(header):
            return "is the column's own name"
        if self.product_id.match(serial.strip()):
            return "is a Windows product ID, not a hardware serial"
        return None

    def virtual_serial(self, serial: str) -> bool:
        return _alnum(serial).startswith(self.virtual_serials) if self.virtual_serials else False

    def _virtual_signs(
        self, scope: dict[str, Any]
    ) -> tuple[tuple[tuple[str, Pattern], ...], tuple[tuple[str, str, Pattern], ...]]:
        """The cloud sizes written as a model (what each is, its pattern) and the cloud host
        name conventions (prefix in its ``host_form``, what it is, its pattern), compiled once
        by RE2 (a pattern RE2 cannot compile is a configuration error naming its key)."""
        sizes = []
        for i, entry in enumerate(scope.get("virtual_model_sizes", [])):
            where = f"{self._where}scope.virtual_model_sizes[{i}].model_pattern"
            pattern = compile_pattern(where, entry.get("model_pattern", NEVER), PolicyError)
            sizes.append((str(entry.get("name", "a cloud instance size")), pattern))
        hosts = []
        for i, entry in enumerate(scope.get("virtual_host_names", [])):
            where = f"{self._where}scope.virtual_host_names[{i}].host_pattern"
            pattern = compile_pattern(where, entry.get("host_pattern", NEVER), PolicyError)
            what = str(entry.get("name", "a cloud platform's default host name"))
            hosts.append((host_form(str(entry.get("prefix", ""))), what, pattern))
        return tuple(sizes), tuple(hosts)

    def virtual_model(self, manufacturer: str, model: str) -> str | None:
        """The sign that the maker or model is a virtual machine's (RULES §6), as a message
        says it ("the model 'Standard_D4s_v5' is an Azure VM size"), or None: a maker of
        virtual machines only, a model or maker naming a virtual platform or a Cloud PC, a
        cloud instance size written as the model."""
        maker, words = fold_words(manufacturer), fold_words(model)
        if maker in self.virtual_makers:
            return f"the maker {_quoted(manufacturer)} is a virtual machine platform"
        hit = self.virtual_models.search(words)
        if hit:
            what = hit.group().strip()
            return f"the model {_quoted(model)} names a virtual machine platform ({what})"
        hit = self.virtual_models.search(maker)
        if hit:
            what = hit.group().strip()
            return f"the maker {_quoted(manufacturer)} names a virtual machine platform ({what})"
        if self._virtual_sizes and model:
            plain = model if model.isascii() else unicodedata.normalize("NFKC", model)
            plain = plain.strip()
            for what, pattern in self._virtual_sizes:
                if pattern.search(plain):
                    return f"the model {_quoted(model)} is {what}"
        return None

    def virtual_host(self, name: str) -> str | None:
        """The sign that a host name is one a cloud platform gives its virtual machines by
        default (``scope.virtual_host_names``), as a message says it ("the host name
        'EC2AMAZ-GQCP864' is the name Amazon EC2 gives a Windows instance"), or None. The
        name is read as ``core.identity.host_form`` (its first label, as it reads)."""
        if not self._virtual_hosts or not name:
            return None
        form = host_form(name)
        for prefix, what, pattern in self._virtual_hosts:
            if form.startswith(prefix) and pattern.search(form):
                return f"the host name {_quoted(visible(name))} is {what}"
        return None

    def virtual_hosts(self, names: Sequence[str]) -> dict[int, str]:
        """``virtual_host`` of every name of a column that has a sign, by row. Most names
        start with no convention's prefix: the rows that may are told in C (an ASCII name by
        its first characters, every name that is not ASCII), and only they are read."""
        if not self._virtual_hosts:
            return {}
        n = len(names)
        rows = set(compress(range(n), map(self._host_starts.match, names)))
        if not "".join(names).isascii():
            rows.update(compress(range(n), map(not_, map(str.isascii, names))))
        out: dict[int, str] = {}
        for i in sorted(rows):
            sign = self.virtual_host(names[i])
            if sign:
                out[i] = sign
        return out

    def out_of_scope(self, manufacturer: str, model: str) -> str | None:
        maker = fold_words(manufacturer)
        if maker in self.apple_makers or self.apple_models.search(fold_words(model)):
            return "Apple hardware"
        sign = self.virtual_model(manufacturer, model)
        if sign:
            return f"a virtual machine: {sign}"
        return None

    def mobile_os(self, os_text: str) -> bool:
        """True when an OS cell names a phone or tablet OS (iOS, iPadOS, Android...)."""
        return bool(os_text) and self.not_pc_os.search(fold_words(os_text)) is not None

    def not_a_pc(self, asset_type: str) -> bool:
        """True when an asset type / category cell names something other than a computer."""
        norm = fold_words(asset_type)
        if not norm:
            return False
        if norm in self.not_pc_types:
            return True
        words = norm.split()
        longest = min(len(words), self._not_pc_words)
        return any(" ".join(words[:n]) in self.not_pc_types for n in range(1, longest + 1))

    def type_out_of_scope(self, asset_type: str) -> str | None:
        """What an asset type names when it is a computer outside a desktop imaging batch
        ("a virtual machine", "a server", ``[scope.types]``), or None; read as ``not_a_pc``
        reads a type (the words, or the words the cell starts with)."""
        norm = fold_words(asset_type)
        if not norm or not self.scope_types:
            return None
        words = norm.split()
        for n in range(min(len(words), self._scope_type_words), 0, -1):
            what = self.scope_types.get(" ".join(words[:n]))
            if what is not None:
                return what
        return None

    def os_out_of_scope(self, edition: str) -> str | None:
        """What an installed OS of edition id ``edition`` says the device is, when that is
        outside a desktop imaging batch (``[scope.os]``), or None."""
        return self.scope_os.get(edition)

    def lifecycle(self, status: str) -> Literal["", "in use", "gone", "unknown"]:
        """What a status cell says of the asset's life (``[lifecycle]``), read whole: "" when
        it says nothing (blank, an export's NULL), else "in use", "gone" or "unknown"."""
        if is_empty(status):
            return ""
        if "?" in status:  # "Retired?": a doubt, whatever the word
            return "unknown"
        words = fold_words(_CAMEL_STEP.sub(" ", status))
        if words in self.gone:
            return "gone"
        if words in self.in_use:
            return "in use"
        return "unknown"

    def deleted(self, mark: str) -> Literal["", "deleted", "unknown"]:
        """What a soft-delete cell says: "deleted" (a date, a yes-word), "" (blank, an
        export's NULL, a no-word, a zero date) or "unknown"."""
        if is_empty(mark):
            return ""
        raw = mark.strip()
        if not raw.strip("0-:/. T"):  # 0000-00-00 00:00:00, MySQL's zero date
            return ""
        words = fold_words(raw)
        if words in self.deleted_no:
            return ""
        if words in self.deleted_yes or self.deleted_date.match(raw):
            return "deleted"
        return "unknown"

    def version_rank(self, version: str | None) -> int | None:
        if version is None or version not in self.version_order:
            return None
        return self.version_order.index(version)


def _quoted(text: str, limit: int = 60) -> str:
    """A cell as a policy's sentence quotes it: on one line, cut at ``limit`` characters."""
    text = " ".join(text.split())
    return f"'{text[: limit - 1]}…'" if len(text) > limit else f"'{text}'"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _type_problem(base: object, over: object, where: str) -> str | None:
    """Where ``over`` (the user's policy) gives a value of another kind than the shipped
    policy has at the same place, in words; None when every value fits."""
    if isinstance(base, dict):
        if not isinstance(over, dict):
            return f"{where} must be {_kind(base)}, not {_kind(over)}"
        if where.endswith("editions"):  # each entry is a table like the shipped ones
            sample: dict[str, Any] = {}  # every key any shipped entry has
            for entry in base.values():
                for key, value in entry.items() if isinstance(entry, dict) else ():
                    had = sample.get(key)
                    if isinstance(had, list) and isinstance(value, list):
                        sample[key] = [*had, *value]
                    else:
                        sample[key] = had or value
            for name, entry in over.items():
                problem = _type_problem(sample, entry, f"{where}.{name}")
                if problem:
                    return problem
            return None
        for key, value in over.items():
            if key in base:
                problem = _type_problem(base[key], value, f"{where}.{key}" if where else key)
                if problem:
                    return problem
        return None
    if isinstance(base, list):
        if not isinstance(over, list):
            return f"{where} must be {_kind(base)}, not {_kind(over)}"
        kinds = {_kind(b) for b in base}
        tables: dict[str, object] = {}
        for b in base:
            for key, value in b.items() if isinstance(b, dict) else ():
                tables.setdefault(key, value)
        for i, item in enumerate(over):
            if kinds and _kind(item) not in kinds:
                return f"{where} must hold {' or '.join(sorted(kinds))}, not {_kind(item)}"
            if isinstance(item, dict) and tables:
                problem = _type_problem(tables, item, f"{where}[{i}]")
                if problem:
                    return problem
        return None
    if _kind(base) != _kind(over):
        return f"{where} must be {_kind(base)}, not {_kind(over)}"
    return None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if k == "editions" and isinstance(v, dict):
            merged = dict(base.get("editions", {}))
            merged.update(v)  # an edition entry replaces the shipped one whole
            out[k] = merged
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            out[k] = _merge(base[k], v)
        else:
            out[k] = v
    return out


def load_policy(
    path: Path | None = None, target: str | None = None, agreement: str | None = None
) -> Policy:
    """Load the shipped policy, merged with ``path`` when given."""
    data = shipped_toml("core", "policy.toml")
    source, digest = "built-in", ""
    if path is not None:
        try:
            raw = read_small(Path(path), "policy file", error=PolicyError)
            digest = hashlib.sha256(raw).hexdigest()
            user = parse_toml(utf8_text(raw, Path(path), "policy file", error=PolicyError))
        except FileNotFoundError:
            raise PolicyError(f"policy file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from None
        problem = _type_problem(data, user, "")
        if problem:
            raise PolicyError(f"policy file {path}: {problem}; see `coa-audit policy show`")
        data = _merge(data, user)
        source = str(path)
    meta = data.get("policy", {})
    return Policy(
        data,
        target or meta.get("default_target", "windows-enterprise"),
        agreement or meta.get("default_agreement", "commercial"),
        source,
        digest,
    )
