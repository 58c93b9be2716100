"""Rules declared once: every finding code has one rule (core.rules.RULE_OF), and the audit's
loop over a file, its update after an edit and a fresh audit of the device alone give the same
verdict for every value of every policy list, written with any separators, case and notes."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coa_audit.core.audit import Audit
from coa_audit.core.policy import load_policy
from coa_audit.core.rules import RULE_OF, Rules
from coa_audit.importers.load import load_inventory
from tests.conftest import device, write_csv

POLICY = load_policy()
EVIDENCE = POLICY.data["evidence"]
SCOPE = POLICY.data["scope"]


def test_every_finding_code_has_one_rule() -> None:
    raw = resources.files("coa_audit.core").joinpath("data/findings.toml").read_text("utf-8")
    codes = set(tomllib.loads(raw))
    assert set(RULE_OF) == codes
    rules = Rules(POLICY)
    for code, rule in RULE_OF.items():
        assert rule == "walk" or callable(getattr(rules, rule)), code


def _key_forms(key: str) -> st.SearchStrategy[str]:
    """A key as people write it: dashes, spaces or nothing between groups, any case."""
    groups = key.replace("-", "")
    parts = [groups[i : i + 5] for i in range(0, 25, 5)]
    return st.tuples(st.sampled_from(["-", " ", ""]), st.sampled_from([str.upper, str.lower])).map(
        lambda t: t[1](t[0].join(parts))
    )


PLACEHOLDER_KEYS = [
    "BBBBB-BBBBB-BBBBB-BBBBB-BBBBB",
    "XXXXX-XXXXX-XXXXX-XXXXX-3V66T",
    "3V66T-XXXXX-XXXXX-XXXXX-XXXXX",
    "22222-22222-22222-22222-22222",
]
NOTES = ["", "?", " (label damaged)", " - pending", ", sticker faded", " (vielleicht)", " forse"]
SEPARATORS = ["", " ", "-", "_", "/", ". "]


def _case(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.title()])


# (field, value strategy): every value list of the policy
VALUES: dict[str, st.SearchStrategy[str]] = {
    "generic key": st.sampled_from(sorted(POLICY.data["keys"]["generic"])).flatmap(_key_forms),
    "placeholder key": st.sampled_from(PLACEHOLDER_KEYS).flatmap(_key_forms),
    "placeholder serial": st.sampled_from(POLICY.data["serials"]["placeholders"]).flatmap(_case),
    "vm serial": st.tuples(
        st.sampled_from(SCOPE["virtual_serial_prefixes"]),
        st.sampled_from(SEPARATORS),
        st.text("0123456789ABCDEF", min_size=4, max_size=12),
    ).map(lambda t: f"{t[0].upper()}{t[1]}{t[2]}"),
    "evidence word": st.tuples(
        st.sampled_from(EVIDENCE["yes"] + EVIDENCE["no"] + EVIDENCE["doubt"]).flatmap(_case),
        st.sampled_from(NOTES),
    ).map("".join),
}
FIELD = {
    "generic key": "Product_Key",
    "placeholder key": "Product_Key",
    "placeholder serial": "Serial_Number",
    "vm serial": "Serial_Number",
    "evidence word": "COA_Present",
}


def _verdicts(audit: Audit) -> list[tuple[str, list[str]]]:
    return [(audit.status(r), sorted(audit.codes(r))) for r in range(len(audit.inv))]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), kind=st.sampled_from(sorted(VALUES)))
def test_loop_update_and_fresh_audit_agree(tmp_path: Path, data, kind: str) -> None:
    value = data.draw(VALUES[kind])
    header = FIELD[kind]
    name = header.replace("_", " ")
    # the loop: the value read from the file, among clean devices
    with_value = write_csv(tmp_path / "a.csv", [device(1), device(2, **{header: value}), device(3)])
    loop = Audit(load_inventory(with_value), POLICY)
    # the update: the same value typed into a clean device after the audit
    clean = write_csv(tmp_path / "b.csv", [device(1), device(2), device(3)])
    inv = load_inventory(clean)
    edited = Audit(inv, POLICY)
    col = inv.headers.index(name)
    old = inv.set_value(1, col, value)
    edited.update(1, col, old)
    # a fresh audit of the device alone
    alone = Audit(
        load_inventory(write_csv(tmp_path / "c.csv", [device(2, **{header: value})])), POLICY
    )
    assert _verdicts(loop) == _verdicts(edited)
    assert _verdicts(loop)[1] == _verdicts(alone)[0]
    status, codes = _verdicts(loop)[1]
    # and the verdict is the class's: never eligible for a value that proves nothing
    if kind in ("generic key", "placeholder key"):
        assert {"KEY_GENERIC", "KEY_PLACEHOLDER"} & set(codes) and status != "eligible"
    elif kind == "placeholder serial":
        assert "SERIAL_PLACEHOLDER" in codes and status != "eligible"
    elif kind == "vm serial":
        assert "DEVICE_OUT_OF_SCOPE" in codes and status != "eligible"
    else:
        word = value.rstrip("?")
        noted = value != word or any(n and value.endswith(n) for n in NOTES)
        doubt = any(w.lower() == word.strip().lower() for w in EVIDENCE["doubt"])
        if noted or doubt:
            assert status != "eligible", value
