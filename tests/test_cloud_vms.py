"""Virtual machines by every sign (RULES §6, issue 32 item 7): a cloud instance size as the
model (Azure, AWS, Google Cloud, generated across series, sizes, versions and case), a
Windows 365 Cloud PC, oVirt/RHEV, Amazon EC2 and Google as maker or model, a cloud's default
host name; each a DEVICE_OUT_OF_SCOPE review whose message names the sign, never eligible.
Real PCs and look-alike host names stay eligible. Through `coa-audit check --format json`
(one inventory per family, every spelling a row of it) and a session's edits."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from coa_audit.core.sample import SAMPLE_HEADERS
from tests.conftest import codes_of, device, run_cli, write_csv

HEADERS = (*SAMPLE_HEADERS, "Asset Type")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _check(tmp_path: Path, rows: list[dict[str, str]], *args: str) -> list[dict[str, Any]]:
    path = write_csv(tmp_path / "inv.csv", rows, HEADERS)
    res = run_cli("check", path, "--format", "json", "--fail-on", "never", *args)
    assert res.code == 0, res.stderr
    devices: list[dict[str, Any]] = res.json()["devices"]
    assert len(devices) == len(rows)
    return devices


def _vm_message(d: dict[str, Any]) -> str:
    found = [f["message"] for f in d["findings"] if f["code"] == "DEVICE_OUT_OF_SCOPE"]
    assert len(found) == 1, d["findings"]
    return found[0]


def _cases(words: list[str]) -> list[str]:
    """Each word as written, in upper case and in lower case."""
    return [w for word in words for w in (word, word.upper(), word.lower())]


def _azure() -> list[str]:
    """Azure sizes across families, vCPU counts, constrained cores, features, accelerators
    and versions (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions)."""
    out = ["Basic_A1", "Basic_A4", "Standard_A0", "Standard_A2m_v2", "Standard_D11_v2_Promo"]
    for family in ("A", "B", "D", "DS", "DC", "E", "F", "FX", "L", "M", "NC", "ND", "NV", "HB"):
        for cores in ("2", "4", "16", "64", "416"):
            for features, version in (("", ""), ("s", "_v5"), ("ms", ""), ("ads", "_v6")):
                out.append(f"Standard_{family}{cores}{features}{version}")
    out += [
        "Standard_NV6ads_A10_v5",
        "Standard_NC24ads_A100_v4",
        "Standard_ND96isr_H100_v5",
        "Standard_ND96isr_MI300X_v5",
        "Standard_E64-32s_v5",
        "Standard_M416-208s_v2",
        "Standard_DS11-1_v2",
        "Standard_B2ats_v2",
        "Standard_D2plds_v5",
        "Standard D4s v5",  # written with spaces
    ]
    return out


def _aws() -> list[str]:
    """EC2 instance types across families, generations, attributes and sizes
    (docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html)."""
    families = ["t2", "t3", "t3a", "t4g", "m5", "m6i", "m7i-flex", "m8g", "c5", "c5n", "c7gn"]
    families += ["r6gd", "x2iedn", "z1d", "g4dn", "g5", "p4d", "inf2", "trn1n", "hpc7g", "i4i"]
    sizes = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "48xlarge"]
    out = [f"{f}.{s}" for f in families for s in sizes]
    return [*out, "m5.metal", "c6i.metal-24xl", "u-6tb1.metal", "mac2-m2pro.metal", "mac1.metal"]


def _gcp() -> list[str]:
    """Compute Engine machine types across series, types and vCPUs, shared-core and custom
    (cloud.google.com/compute/docs/machine-resource)."""
    series = ["n1", "n2", "n2d", "n4", "e2", "c2", "c2d", "c3", "c3d", "c4", "c4a", "t2d", "h3"]
    out = [
        f"{s}-{t}-{v}" for s in series for t in ("standard", "highcpu", "highmem") for v in (2, 8)
    ]
    out += ["e2-micro", "e2-small", "e2-medium", "f1-micro", "g1-small", "a2-highgpu-1g"]
    out += ["a2-ultragpu-8g", "a3-megagpu-8g", "m1-ultramem-40", "m3-megamem-64", "g2-standard-4"]
    return [*out, "c3-standard-4-lssd", "n2-custom-4-8192", "custom-2-4096", "z3-highmem-88"]


@pytest.mark.parametrize(
    ("sizes", "what"),
    [
        (_azure, "an Azure VM size"),
        (_aws, "an Amazon EC2 instance type"),
        (_gcp, "a Google Compute Engine machine type"),
    ],
)
def test_a_cloud_size_as_the_model_is_a_virtual_machine(tmp_path: Path, sizes, what) -> None:
    models = _cases(sizes())
    rows = [device(i, Manufacturer="", Model=m) for i, m in enumerate(models)]
    for model, d in zip(models, _check(tmp_path, rows), strict=True):
        assert d["status"] == "review", model
        assert f"the model '{model}' is {what}" in _vm_message(d), model


@pytest.mark.parametrize(
    ("maker", "model", "sign"),
    [
        ("Microsoft Corporation", "Cloud PC Enterprise 2vCPU/8GB/128GB", "(cloud pc)"),
        ("Microsoft Corporation", "Cloud PC Frontline 4vCPU/16GB/128GB", "(cloud pc)"),
        ("", "CLOUD PC BUSINESS 2VCPU/4GB/64GB", "(cloud pc)"),
        ("oVirt", "oVirt Node", "the maker 'oVirt'"),
        ("", "oVirt Node", "(ovirt)"),
        ("Red Hat", "RHEV Hypervisor", "the maker 'Red Hat'"),
        ("", "RHEV Hypervisor", "(rhev)"),
        ("Amazon EC2", "m5.large", "the maker 'Amazon EC2'"),
        ("", "Amazon EC2", "(amazon ec2)"),
        ("Google", "Google Compute Engine", "the maker 'Google'"),
        ("", "Google Compute Engine", "(google compute engine)"),
        ("Microsoft Corporation", "Virtual Machine", "(virtual machine)"),
        ("", "VM.Standard.E4.Flex", "an Oracle Cloud shape"),
    ],
)
def test_a_cloud_pc_and_platform_names_are_virtual_machines(
    tmp_path: Path, maker: str, model: str, sign: str
) -> None:
    d = _check(tmp_path, [device(1, Manufacturer=maker, Model=model)])[0]
    assert d["status"] == "review"
    assert "this is a virtual machine:" in _vm_message(d) and sign in _vm_message(d)


def _ec2_names(rng: random.Random) -> list[str]:
    names = ["EC2AMAZ-" + "".join(rng.choices(ALNUM, k=7)) for _ in range(12)]
    names += ["ec2amaz-gqcp864", "EC2AMAZ-408S766.corp.example", "  EC2AMAZ-D46OILK "]
    return names


def _cpc_names(rng: random.Random) -> list[str]:
    names = [
        f"CPC-{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=k))}-"
        + "".join(rng.choices(ALNUM, k=5))
        for k in (1, 2, 3, 4, 5, 5)
    ]
    return [*names, "cpc-alexw-8K2QX", "CPC-ADA-1A2B3.contoso.local"]


@pytest.mark.parametrize(
    ("names", "what"),
    [
        (_ec2_names, "the name Amazon EC2 gives a Windows instance"),
        (_cpc_names, "the name Windows 365 gives a Cloud PC"),
    ],
)
def test_a_cloud_default_host_name_is_a_virtual_machine(tmp_path: Path, names, what) -> None:
    """A real PC's maker and model beside a cloud's default host name: the host name alone
    is the sign."""
    hosts = names(random.Random(7))
    rows = [device(i, Hostname=h) for i, h in enumerate(hosts)]
    for host, d in zip(hosts, _check(tmp_path, rows), strict=True):
        assert d["status"] == "review", host
        message = _vm_message(d)
        assert "host name" in message and what in message, (host, message)
        assert f"'{host.strip()}'" in message, (host, message)


def test_a_host_name_spelled_with_hidden_or_wide_characters_is_still_read(
    tmp_path: Path,
) -> None:
    hosts = [
        "ＥＣ２ＡＭＡＺ－ＧＱＣＰ８６４",
        "EC2AMAZ\u2011GQCP864",
        "EC2\u200bAMAZ-GQCP864",
        "CPC\u2013ada-1A2B3",
    ]
    rows = [device(i, Hostname=h) for i, h in enumerate(hosts)]
    for host, d in zip(hosts, _check(tmp_path, rows), strict=True):
        assert d["status"] == "review", host
        assert "DEVICE_OUT_OF_SCOPE" in codes_of({"devices": [d]}), host


REAL_MODELS = [
    ("Dell Inc.", "Latitude 5440"),
    ("HP", "EliteBook 840 G9"),
    ("LENOVO", "ThinkPad T14 Gen 3"),
    ("LENOVO", "20XW0026GE"),
    ("Microsoft Corporation", "Surface Pro 9"),
    ("Dell Inc.", "OptiPlex 7010"),
    ("HP", "ProDesk 400 G7"),
    ("HP", "Z2 Tower G9"),
    ("Dell Inc.", "Precision 3660"),
    ("LENOVO", "ThinkCentre M70q"),
]
# host names a convention must not take: too short, too long, the prefix alone, another shape
REAL_HOSTS = [
    "EC2-ROOM",
    "EC2AMAZ",
    "EC2AMAZ-ABC12",
    "EC2AMAZ-ABC12345",
    "EC2AMAZON-1",
    "CPC1",
    "CPC-01",
    "CPC-alexander-8K2QX",
    "CPC-alexw-8K2Q",
    "CPC-alexw-8K2QX9",
    "STANDARD-PC01",
    "PC-CPC-ab-12345",
    "LAPTOP-EC2AMAZ1",
    "DESKTOP-1D8K0YZ",
]


def test_real_pcs_and_look_alike_host_names_stay_eligible(tmp_path: Path) -> None:
    rows = [device(i, Manufacturer=mk, Model=md) for i, (mk, md) in enumerate(REAL_MODELS)]
    rows += [device(100 + i, Hostname=h) for i, h in enumerate(REAL_HOSTS)]
    for row, d in zip(rows, _check(tmp_path, rows), strict=True):
        assert d["status"] == "eligible", (row["Model"], row["Hostname"], d["findings"])


def test_a_policy_file_replaces_the_conventions(tmp_path: Path) -> None:
    """The conventions are the policy's: a policy file that empties them takes the host
    names back (the model sizes stay); a pattern RE2 cannot compile is exit 2 naming it."""
    rows = [device(1, Hostname="EC2AMAZ-GQCP864"), device(2, Model="m6i.large")]
    policy = tmp_path / "p.toml"
    policy.write_text("[scope]\nvirtual_host_names = []\n", encoding="utf-8")
    d = _check(tmp_path, rows, "--policy", str(policy))
    assert [x["status"] for x in d] == ["eligible", "review"]
    policy.write_text(
        "[scope]\nvirtual_host_names = [{ prefix = 'X', name = 'x', host_pattern = '(a' }]\n",
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "inv.csv", rows, HEADERS)
    res = run_cli("check", path, "--policy", policy)
    assert res.code == 2 and "virtual_host_names[0].host_pattern" in res.stderr, res.stderr


def test_an_edit_of_the_host_name_or_model_changes_the_verdict(tmp_path: Path) -> None:
    """Through a session: a host name edited to a cloud default makes the device a review,
    edited back it is eligible again; the same for a model; undo gives the verdict back."""
    from coa_audit.session.session import open_session

    src = write_csv(tmp_path / "inv.csv", [device(i) for i in range(4)], HEADERS)
    session = open_session(src)
    audit, headers = session.audit, session.inventory.headers
    host, model = headers.index("Hostname"), headers.index("Model")
    assert audit.status(2) == "eligible"
    session.apply(2, host, "EC2AMAZ-GQCP864")
    assert audit.status(2) == "review" and "DEVICE_OUT_OF_SCOPE" in audit.codes(2)
    assert "EC2AMAZ-GQCP864" in next(f.message for f in audit.findings(2))
    session.apply(2, host, "PC-00002")
    assert audit.status(2) == "eligible" and audit.codes(2) == []
    session.apply(1, model, "Standard_NV6ads_A10_v5")
    assert audit.status(1) == "review" and audit.codes(1) == ["DEVICE_OUT_OF_SCOPE"]
    session.undo()
    assert audit.status(1) == "eligible"
    assert [audit.status(r) for r in range(4)] == ["eligible"] * 4
