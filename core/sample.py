"""Deterministic synthetic fleet inventories with a known mix of problems (demos, tests,
benchmarks). Pure: yields rows of text; writing them is the exporters' job."""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["SAMPLE_HEADERS", "sample_rows"]

SAMPLE_HEADERS: tuple[str, ...] = (
    "Asset Tag",
    "Serial Number",
    "Hostname",
    "Manufacturer",
    "Model",
    "Operating System",
    "COA Present",
    "COA Edition",
    "Product Key",
    "Target Image",
    "Licensed Product",
    "Location",
    "Notes",
    "Purchase Date",
)

_KEY_ALPHABET = "BCDFGHJKMPQRTVWXY2346789"
_MODELS = {
    "Dell Inc.": ["Latitude 5440", "OptiPlex 7010", "Precision 3660", "Latitude 7430"],
    "HP": ["EliteBook 840 G9", "ProBook 450 G10", "EliteDesk 800 G6", "Z2 Tower G9"],
    "LENOVO": ["ThinkPad T14 Gen 3", "ThinkCentre M70q", "ThinkPad X1 Carbon Gen 11"],
    "Microsoft Corporation": ["Surface Pro 9", "Surface Laptop 5"],
}
_GOOD = [
    "Windows 11 Pro",
    "Windows 10 Pro",
    "Microsoft Windows 10 Pro",
    "Win10 Pro",
    "Windows 11 Pro for Workstations",
    "[4.0] Professional OEM:DM",
    "Windows 7 Professional",
]
_SITES = ["London", "Leeds", "Dublin", "Berlin", "Paris", "Madrid", "Oslo", "Remote"]
# (weight, problem) — the remainder is a clean, eligible device.
_PROBLEMS: list[tuple[float, str]] = [
    (0.05, "home"),
    (0.025, "no_coa"),
    (0.02, "enterprise"),
    (0.015, "blank_edition"),
    (0.012, "dup_serial"),
    (0.01, "placeholder_serial"),
    (0.008, "missing_serial"),
    (0.01, "malformed_key"),
    (0.008, "generic_key"),
    (0.006, "dup_key"),
    (0.008, "dup_tag"),
    (0.006, "server"),
    (0.008, "image_newer"),
    (0.008, "os_mismatch"),
    (0.004, "apple"),
    (0.004, "conflict"),
    (0.006, "unknown_evidence"),
    (0.004, "volume"),
    (0.003, "placeholder_key"),
    (0.002, "vm"),
]


def _key(rng: random.Random) -> str:
    return "-".join("".join(rng.choices(_KEY_ALPHABET, k=5)) for _ in range(5))


def sample_rows(rows: int, seed: int = 1, problems: float | None = None) -> Iterator[list[str]]:
    """Yield ``rows`` device rows in SAMPLE_HEADERS order. ``problems``: the share of
    devices given a problem (default about a quarter, a tidy register; 0.93 is a first
    audit of a real one, where almost every device has a finding)."""
    rng = random.Random(seed)
    makers = list(_MODELS)
    last: list[str] = []
    cumulative = []
    acc = 0.0
    total = sum(w for w, _n in _PROBLEMS)
    scale = 1.0 if problems is None else max(0.0, min(problems, 1.0)) / total
    for weight, name in _PROBLEMS:
        acc += weight * scale
        cumulative.append((acc, name))
    for i in range(rows):
        maker = rng.choice(makers)
        model = rng.choice(_MODELS[maker])
        serial = f"{maker[:2].upper()}{rng.randrange(16**8):08X}"
        tag = f"AT-{i + 1:07d}"
        edition = rng.choice(_GOOD)
        row = [
            tag,
            serial,
            f"PC-{i + 1:07d}",
            maker,
            model,
            "Windows 10 Pro" if "7" not in edition else "Windows 7 Professional",
            "Yes",
            edition,
            _key(rng),
            "Windows 11 Enterprise" if "7" not in edition else "Windows 10 Enterprise",
            "Windows 11 Enterprise",
            rng.choice(_SITES),
            "",
            f"20{rng.randrange(18, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        ]
        x = rng.random()
        problem = next((name for limit, name in cumulative if x < limit), None)
        if problem == "home":
            row[7] = rng.choice(["Windows 10 Home", "Windows 11 Home", "[4.0] Core OEM:DM"])
            row[5] = "Windows 10 Home"
        elif problem == "no_coa":
            row[6], row[7], row[8] = "No", "", ""
        elif problem == "enterprise":
            row[7] = "Windows 10 Enterprise"
        elif problem == "blank_edition":
            row[7] = ""
        elif problem == "dup_serial" and last:
            row[1] = last[1]
        elif problem == "placeholder_serial":
            row[1] = rng.choice(
                ["To be filled by O.E.M.", "Default string", "System Serial Number"]
            )
        elif problem == "missing_serial":
            row[1] = ""
        elif problem == "malformed_key":
            row[8] = row[8][:-2]
        elif problem == "generic_key":
            row[8] = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
        elif problem == "dup_key" and last:
            row[8] = last[8]
        elif problem == "dup_tag" and last:
            row[0] = last[0]
        elif problem == "server":
            row[7] = "Windows Server 2019 Standard"
            row[5] = "Windows Server 2019 Standard"
        elif problem == "image_newer":
            row[9], row[10] = "Windows 11 Enterprise", "Windows 10 Enterprise"
        elif problem == "os_mismatch":
            row[5] = "Windows 11 Home"
        elif problem == "apple":
            row[3], row[4], row[7] = "Apple", "MacBook Pro 14", "macOS Ventura 13.4"
        elif problem == "conflict":
            row[6] = "No"
        elif problem == "unknown_evidence":
            row[6] = rng.choice(["pending", "n/a", "damaged", "see notes", "TBC"])
        elif problem == "volume":
            row[6] = rng.choice(["MAK", "KMS", "Volume:GVLK"])
        elif problem == "placeholder_key":
            row[6], row[7], row[8] = "", "", "BBBBB-BBBBB-BBBBB-BBBBB-BBBBB"
        elif problem == "vm":
            row[3], row[4] = "VMware, Inc.", "VMware7,1"
            row[1] = "VMware-56 4d " + row[1][-8:].lower()
        last = row
        yield row
