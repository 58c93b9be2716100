"""A register's status and soft-delete columns in the issue 32 languages: a device the
register marks as gone (retired, scrapped, stolen, deleted) is out of scope with that reason,
one in use is audited as usual, and a status word the tool does not know is review, never
eligible and never dropped (RULES §6)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import run_cli

# language -> (status header, in use, gone, soft-delete header, a yes to "deleted")
LANGUAGES = {
    "sv": ("Status", "I bruk", "Kasserad", "Raderad", "Ja"),
    "da": ("Status", "I brug", "Kasseret", "Slettet", "Ja"),
    "nb": ("Status", "I bruk", "Kassert", "Slettet", "Ja"),
    "fi": ("Tila", "Käytössä", "Romutettu", "Poistettu", "Kyllä"),
    "cs": ("Stav", "V provozu", "Vyřazeno", "Smazáno", "Ano"),
    "sk": ("Stav", "V prevádzke", "Vyradené", "Odstránené", "Áno"),
    "hu": ("Állapot", "Használatban", "Selejtezett", "Törölve", "Igen"),
    "ro": ("Stare", "În uz", "Casat", "Șters", "Da"),
    "tr": ("Durum", "Kullanımda", "Hurda", "Silindi", "Evet"),
    "ru": ("Статус", "В эксплуатации", "Списан", "Удалено", "Да"),
    "uk": ("Стан", "В експлуатації", "Списано", "Видалено", "Так"),
    "el": ("Κατάσταση", "Σε χρήση", "Αποσύρθηκε", "Διαγράφηκε", "Ναι"),
    "ja": ("状態", "使用中", "廃棄済み", "削除日", "2024-03-01"),
    "zh": ("状态", "在用", "已报废", "删除时间", "2024-03-01 10:00:00"),
    "zh_tw": ("狀態", "使用中", "已報廢", "刪除時間", "2024/03/01"),
    "ko": ("상태", "사용 중", "폐기됨", "삭제일", "2024-03-01"),
}


def _spell(word: str, how: str) -> str:
    return {"as is": word, "upper": word.upper(), "padded": f"  {word}  "}[how]


def _register(path: Path, status_header: str, deleted_header: str, rows: list[list[str]]) -> Path:
    head = ["Serial Number", "Hostname", "COA Present", "COA Edition", status_header]
    head.append(deleted_header)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(head)
        for i, (status, deleted) in enumerate(rows):
            w.writerow([f"5CG{i:07d}", f"PC-{i:03d}", "Yes", "Windows 11 Pro", status, deleted])
    return path


@pytest.mark.parametrize("how", ["as is", "upper", "padded"])
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_gone_in_use_and_unknown_in_every_language(tmp_path: Path, lang: str, how: str) -> None:
    status_h, in_use, gone, deleted_h, yes = LANGUAGES[lang]
    rows = [
        [_spell(in_use, how), ""],
        [_spell(gone, how), ""],
        [_spell(in_use, how), _spell(yes, how)],
        ["Frobnicated", ""],  # a word no list has
    ]
    path = _register(tmp_path / f"{lang}.csv", status_h, deleted_h, rows)
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stdout + res.stderr
    report = res.json()
    assert report["mapping"].get("asset_status") == status_h
    assert report["mapping"].get("deleted_on") == deleted_h
    by_row = {d["row"]: d for d in report["devices"]}
    codes = {r: {f["code"] for f in d["findings"]} for r, d in by_row.items()}
    assert by_row[2]["status"] == "eligible", by_row[2]
    assert by_row[3]["status"] == "out-of-scope" and "ASSET_GONE" in codes[3]
    gone_message = next(f["message"] for f in by_row[3]["findings"] if f["code"] == "ASSET_GONE")
    assert gone.strip().split()[0] in gone_message or gone.upper() in gone_message
    assert by_row[4]["status"] == "out-of-scope" and "ASSET_DELETED" in codes[4]
    assert by_row[5]["status"] == "review" and "STATUS_UNKNOWN" in codes[5]
    assert report["summary"]["eligible"] == 1


# iTop's status values of a physical device as its locales write them (in production, being
# implemented, in stock: in use; obsolete: gone)
ITOP_STATUS = {
    "v produkci": "eligible",
    "implementace": "eligible",
    "skladem/rezerva": "eligible",
    "zastaralé": "out-of-scope",
    "稼働": "eligible",
    "保存": "eligible",
    "廃止": "out-of-scope",
    "Эксплуатация": "eligible",
    "Устаревший": "out-of-scope",
    "Produktiv": "eligible",
    "Obsolet": "out-of-scope",
    "Forældet": "out-of-scope",
    "Elavult": "out-of-scope",
    "生产": "eligible",
    "废弃": "out-of-scope",
    "kullanım dışı": "out-of-scope",
}


def test_itop_status_values_in_its_locales(tmp_path: Path) -> None:
    words = list(ITOP_STATUS)
    path = _register(tmp_path / "itop.csv", "Status", "deleted_at", [[w, ""] for w in words])
    report = run_cli("check", path, "--format", "json", "--fail-on", "never").json()
    got = {words[d["row"] - 2]: d["status"] for d in report["devices"]}
    assert got == ITOP_STATUS
