"""Registers and iTop exports in the issue 32 languages (RULES §8): each loads without
--map and maps identity and evidence as a careful person would; yes/no words, not-a-PC
types and localised edition names read right in generated spellings; a Greek or Cyrillic
header keeps its letters; Han, kana and Hangul headers match at character boundaries."""

from __future__ import annotations

import itertools
import time
import unicodedata
from pathlib import Path

import pytest

from coa_audit.core.editions import parse_edition
from coa_audit.core.policy import load_policy
from coa_audit.importers.headers import classify, norm_header
from tests.conftest import REPO, run_cli

EXPORTS = REPO / "tests" / "fixtures" / "exports"

_ID = ("asset_tag", "serial_number", "hostname")
_EVIDENCE = ("coa_present", "coa_edition")

# file -> the headers a careful reader maps (identity, evidence, OS, type), and the status of
# each device in order: a PC with its label, one without, a monitor/printer/phone, ...
FIXTURES: dict[str, tuple[dict[str, str], list[str]]] = {
    "register-sv.csv": (
        {
            "asset_tag": "Tillgångstagg",
            "serial_number": "Serienummer",
            "hostname": "Datornamn",
            "asset_type": "Kategori",
            "current_os": "Operativsystem",
            "coa_present": "COA-etikett",
            "coa_edition": "Licens",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-fi.csv": (
        {
            "asset_tag": "Laitetunniste",
            "serial_number": "Sarjanumero",
            "hostname": "Tietokoneen nimi",
            "asset_type": "Laitetyyppi",
            "current_os": "Käyttöjärjestelmä",
            "coa_present": "COA-tarra",
            "coa_edition": "Lisenssi",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-cs.csv": (
        {
            "asset_tag": "Inventární číslo",
            "serial_number": "Sériové číslo",
            "hostname": "Název počítače",
            "asset_type": "Typ zařízení",
            "current_os": "Operační systém",
            "coa_present": "Štítek COA",
            "coa_edition": "Licence Windows",
        },
        # the fourth: "Windows 11 Pro (štítek poškozen)" is not read whole
        ["eligible", "blocked", "out-of-scope", "review", "blocked"],
    ),
    "register-hu.csv": (
        {
            "asset_tag": "Leltári szám",
            "serial_number": "Sorozatszám",
            "hostname": "Számítógépnév",
            "asset_type": "Eszköz típus",
            "current_os": "Operációs rendszer",
            "coa_present": "COA matrica",
            "coa_edition": "Licenc",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-tr.csv": (
        {
            "asset_tag": "Demirbaş Etiketi",
            "serial_number": "Seri Numarası",
            "hostname": "Bilgisayar Adı",
            "asset_type": "Tür",
            "current_os": "İşletim Sistemi",
            "coa_present": "COA Etiketi",
            "coa_edition": "Lisans",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-ru.csv": (
        {
            "asset_tag": "Инвентарный номер",
            "serial_number": "Серийный номер",
            "hostname": "Имя компьютера",
            "asset_type": "Тип устройства",
            "current_os": "Операционная система",
            "coa_present": "Наклейка COA",
            "coa_edition": "Лицензия Windows",
        },
        # the fourth: a label read whole as "Windows 10 Домашняя" (Home) does not qualify
        ["eligible", "blocked", "out-of-scope", "blocked", "blocked"],
    ),
    "register-el.csv": (
        {
            "asset_tag": "Αριθμός παγίου",
            "serial_number": "Σειριακός Αριθμός",
            "hostname": "Όνομα υπολογιστή",
            "asset_type": "Κατηγορία",
            "current_os": "Λειτουργικό σύστημα",
            "coa_present": "Ετικέτα COA",
            "coa_edition": "Άδεια χρήσης",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-ja.csv": (
        {
            "asset_tag": "資産番号",
            "serial_number": "シリアル番号",
            "hostname": "コンピューター名",
            "asset_type": "種別",
            "current_os": "OS",
            "coa_present": "COAラベル",
            "coa_edition": "ライセンス",
        },
        ["eligible", "blocked", "out-of-scope", "eligible"],
    ),
    "register-zh.csv": (
        {
            "asset_tag": "资产编号",
            "serial_number": "序列号",
            "hostname": "计算机名称",
            "asset_type": "设备类型",
            "current_os": "操作系统",
            "coa_present": "COA标签",
            "coa_edition": "许可证",
        },
        # the fourth: 家庭中文版 is Home China, read whole, and does not qualify
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    "register-ko.csv": (
        {
            "asset_tag": "자산 번호",
            "serial_number": "일련번호",
            "hostname": "컴퓨터 이름",
            "asset_type": "유형",
            "current_os": "운영 체제",
            "coa_present": "COA 라벨",
            "coa_edition": "라이선스",
        },
        ["eligible", "blocked", "out-of-scope", "blocked"],
    ),
    # iTop CSV exports write the dictionary's attribute labels (datamodels/2.x/
    # itop-config-mgmt/dictionaries/cs.dict and ja.dict); the COA columns are custom fields
    "itop-cs.csv": (
        {
            "hostname": "Název",
            "serial_number": "Sériové číslo",
            "asset_tag": "Inventární číslo",
            "current_os": "Verze OS",
            "coa_present": "Štítek COA",
            "coa_edition": "Licence Windows",
        },
        # the fourth: "Windows 11 Pro pro pracovní stanice" is Pro for Workstations
        ["eligible", "blocked", "out-of-scope", "eligible"],
    ),
    "itop-ja.csv": (
        {
            "hostname": "名前",
            "serial_number": "シリアル番号",
            "asset_tag": "資産番号",
            "current_os": "OSバージョン",
            "coa_present": "COAラベル",
            "coa_edition": "ライセンス",
        },
        ["eligible", "blocked", "out-of-scope", "eligible"],
    ),
}


def _check(path: Path) -> dict:
    res = run_cli("check", path, "--format", "json", "--fail-on", "never")
    assert res.code == 0, res.stderr
    return res.json()


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_register_maps_and_reads_without_map(name: str) -> None:
    expected, statuses = FIXTURES[name]
    doc = _check(EXPORTS / name)
    mapping = doc["mapping"]
    for field, header in expected.items():
        assert mapping.get(field) == header, (field, mapping)
    assert [d["status"] for d in doc["devices"]] == statuses
    # `columns` says the same
    cols = run_cli("columns", EXPORTS / name)
    assert cols.code == 0, cols.stderr
    assert all(header in cols.stdout for header in expected.values())


def test_edition_not_read_whole_is_quoted_back() -> None:
    doc = _check(EXPORTS / "register-cs.csv")
    device = doc["devices"][3]
    messages = " ".join(f["message"] for f in device["findings"])
    assert "štítek poškozen" in messages


def test_a_register_in_a_language_outside_the_vocabulary_still_loads() -> None:
    """Icelandic (Snipe-IT is-IS words): the header row is found, the file loads, nothing is
    eligible on words the tool does not know."""
    doc = _check(EXPORTS / "register-is.csv")
    assert len(doc["devices"]) == 3
    assert doc["source"]["header_row"] == 1
    assert all(d["status"] != "eligible" for d in doc["devices"])
    cols = run_cli("columns", EXPORTS / "register-is.csv")
    assert cols.code == 0 and "Raðnúmer" in cols.stdout


# -- yes / no words, generated spellings --------------------------------------------------------

YES = ["Ja", "Kyllä", "Ano", "Áno", "Igen", "Da", "Evet", "Да", "Так", "Ναι", "はい", "あり",
    "是", "有", "예", "있음"]  # fmt: skip
NO = ["Nej", "Nei", "Ei", "Ne", "Nie", "Nem", "Nu", "Hayır", "Нет", "Ні", "Όχι", "いいえ",
    "なし", "否", "无", "無", "아니오", "없음", "Saknas", "Mangler", "Puuttuu", "chybí",
    "hiányzik", "lipsă", "eksik", "отсутствует", "відсутня", "λείπει"]  # fmt: skip


def _strip_accents(text: str) -> str:
    """Accents dropped as a keyboard without them types (kana keep their voicing marks:
    nobody types フリンター for プリンター)."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = (c for c in decomposed if not unicodedata.combining(c) or c in "\u3099\u309a")
    return unicodedata.normalize("NFC", "".join(kept))


def _spellings(word: str) -> set[str]:
    """The word as people type it: case, accents dropped, spaces around, a label noun."""
    forms = {word, word.upper(), word.lower(), word.capitalize(), _strip_accents(word)}
    return {f"{pad}{f}{pad}" for f in forms for pad in ("", " ", "  ")}


@pytest.mark.parametrize(("words", "kind"), [(YES, "present"), (NO, "absent")])
def test_yes_and_no_words_read_in_every_spelling(words: list[str], kind: str) -> None:
    evidence = load_policy().evidence
    for word in words:
        for spelling in _spellings(word):
            assert evidence.classify(spelling).kind == kind, (word, spelling)
        # with a label noun of the same language beside it
        for noun in ("COA", "COA label", "ラベル", "标签", "наклейка", "štítek"):
            got = evidence.classify(f"{noun} {word}").kind
            assert got in (kind, "unknown"), (noun, word, got)  # never the opposite


@pytest.mark.parametrize(
    "cell",
    ["Ano?", "是?", "はい (たぶん)", "Да, наверное", "标签损坏", "Igen, de sérült", "예 아마"],
)
def test_what_is_not_understood_stays_unknown(cell: str) -> None:
    got = load_policy().evidence.classify(cell)
    assert got.kind == "unknown", (cell, got)
    assert got.why


def test_cjk_yes_and_no_read_beside_latin_and_inside_a_run() -> None:
    evidence = load_policy().evidence
    assert evidence.classify("COAあり").kind == "present"
    assert evidence.classify("ラベルなし").kind == "absent"
    assert evidence.classify("有标签").kind == "present"
    assert evidence.classify("无标签").kind == "absent"


# -- not a PC --------------------------------------------------------------------------------

NOT_PC = ["Bildskärm", "Skrivare", "Tulostin", "Näyttö", "Tiskárna", "Mobilní telefon",
    "Dokovací stanice", "Tlačiareň", "Nyomtató", "Imprimantă", "Yazıcı", "Monitör", "Монитор",
    "Принтер", "Смартфон", "Монітор", "Εκτυπωτής", "Οθόνη", "モニター", "プリンター", "複合機",
    "携帯電話", "显示器", "打印机", "手机", "印表機", "顯示器", "모니터", "프린터", "스마트폰",
    "ヘッドセット", "Гарнитура", "Projektor", "Periferie"]  # fmt: skip
PC = ["Bärbar dator", "Kannettava", "notebook", "desktop", "laptop", "Ноутбук", "Φορητός",
    "ノートPC", "デスクトップ", "笔记本电脑", "台式机", "電腦", "노트북", "PC"]  # fmt: skip


def test_not_a_pc_in_every_language_and_spelling() -> None:
    policy = load_policy()
    for word in NOT_PC:
        for spelling in _spellings(word) | {f"{word} 24", f"{word.upper()} HP"}:
            assert policy.not_a_pc(spelling), spelling
    for word in PC:
        for spelling in _spellings(word):
            assert not policy.not_a_pc(spelling), spelling


# -- localised edition names, read whole ------------------------------------------------------

EDITIONS = {
    "Windows 11 Pro voor Werkstations": "pro-workstation",
    "Windows 11 Pro voor Workstations": "pro-workstation",
    "Windows 10 Pro para Estações de Trabalho": "pro-workstation",
    "Windows 11 Pro pro pracovní stanice": "pro-workstation",
    "Windows 11 Pro pre pracovné stanice": "pro-workstation",
    "Windows 11 Pro för arbetsstationer": "pro-workstation",
    "Windows 11 Pro til arbejdsstationer": "pro-workstation",
    "Windows 11 Pro for arbeidsstasjoner": "pro-workstation",
    "Windows 10 Pro для рабочих станций": "pro-workstation",
    "Windows 10 Pro для робочих станцій": "pro-workstation",
    "Windows 11 专业版": "pro",
    "Windows11专业版": "pro",
    "Windows 11 专业版 64位": "pro",
    "Windows 11 家庭版": "home",
    "Windows 10 家庭中文版": "home",
    "Windows 11 专业工作站版": "pro-workstation",
    "Windows 11 专业教育版": "pro-education",
    "Windows 11 企业版 LTSC 2024": "enterprise-ltsc",
    "Windows 11 教育版": "education",
    "Windows 7 旗舰版": "ultimate",
    "Windows 11 家用版": "home",
    "Windows 11 專業版": "pro",
    "Windows 10 工作站專業版": "pro-workstation",
    "Windows 11 企業版": "enterprise",
    "Windows 11 Pro 64ビット": "pro",
    "Windows 10 Домашняя": "home",
    "Windows 10 Домашняя для одного языка": "home",
    "Windows 7 Профессиональная": "pro",
    "Windows 7 Максимальная": "ultimate",
    "Windows 10 Корпоративная LTSC": "enterprise-ltsc",
    "Windows 10 для образовательных учреждений": "education",
    "Windows 10 Pro для образовательных учреждений": "pro-education",
    "Windows 10 Домашня": "home",
    "Windows 10 Pro для освіти": "pro-education",
}

NEAR_MISSES = [
    "Windows 11 Pro (štítek poškozen)",
    "Windows 11 专业版正版",
    "Windows 11 专业版 (标签损坏)",
    "Windows 10 Домашняя (наклейка повреждена)",
    "Windows 11 Pro ラベル破損",
    "Windows 10 Pro pracovní stanice",
    "Windows 11 专业",
]


def _edition_spellings(text: str) -> set[str]:
    return {
        text,
        text.upper(),
        text.lower(),
        _strip_accents(text),
        f"  {text}  ",
        text.replace(" ", "  "),
        f"Microsoft {text}",
    }


@pytest.mark.parametrize("text", sorted(EDITIONS))
def test_localised_edition_names_are_read_whole(text: str) -> None:
    for spelling in _edition_spellings(text):
        got = parse_edition(spelling)
        assert got.edition == EDITIONS[text], (spelling, got)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_of_localised_names_go_to_review(text: str) -> None:
    for spelling in _edition_spellings(text):
        got = parse_edition(spelling)
        assert got.edition == "unreadable", (spelling, got)
        assert got.note


# -- the header machinery on other scripts ----------------------------------------------------


def test_greek_and_cyrillic_headers_keep_their_letters() -> None:
    for header in ("Серийный номер", "Версия ОС", "Σειριακός Αριθμός", "КАТЕГОРИЯ", "Тип"):
        norm = norm_header(header)
        assert not norm.isascii(), (header, norm)
    # a Latin header with a look-alike letter is still read as Latin
    assert norm_header("Сatégorie") == "categorie"
    assert norm_header("СОА") == "coa"


CJK_HEADERS = {
    "serial_number": ["シリアル番号", "シリアルナンバー", "序列号", "序號", "일련번호",
        "시리얼 번호", "コンピューターシリアル番号", "设备序列号", "序列号SN"],
    "asset_tag": ["資産番号", "資産タグ", "资产编号", "資產標籤", "자산 태그", "자산태그"],
    "hostname": ["コンピューター名", "コンピュータ名", "ホスト名", "计算机名称", "主机名",
        "電腦名稱", "컴퓨터 이름", "컴퓨터이름"],
    "coa_key": ["プロダクトキー", "产品密钥", "产品序列号", "產品序號", "제품 키"],
    "current_os": ["OSバージョン", "操作系统", "操作系统版本", "作業系統", "운영 체제"],
}  # fmt: skip


def test_cjk_headers_match_at_character_boundaries() -> None:
    for field, headers in CJK_HEADERS.items():
        for header in headers:
            for spelling in (header, f" {header} ", header.replace(" ", ""), f"{header}(PC)"):
                hit = classify(spelling)
                assert hit is not None and hit.field == field, (spelling, hit)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ru", ["Серийный номер", "Имя компьютера", "Инвентарный номер", "Ключ продукта"]),
        ("uk", ["Серійний номер", "Ім'я комп'ютера", "Інвентарний номер", "Ключ продукту"]),
        ("el", ["Σειριακός αριθμός", "Όνομα υπολογιστή", "Αριθμός παγίου", "Κλειδί προϊόντος"]),
        ("tr", ["Seri numarası", "Bilgisayar adı", "Demirbaş numarası", "Ürün anahtarı"]),
        ("hu", ["Sorozatszám", "Számítógépnév", "Leltári szám", "Termékkulcs"]),
        ("ro", ["Număr de serie", "Nume calculator", "Număr de inventar", "Cheie de produs"]),
        ("cs", ["Sériové číslo", "Název počítače", "Inventární číslo", "Produktový klíč"]),
        ("sk", ["Sériové číslo", "Názov počítača", "Inventárne číslo", "Produktový kľúč"]),
        ("sv", ["Serienummer", "Datornamn", "Inventarienummer", "Produktnyckel"]),
        ("da", ["Serienummer", "Computernavn", "Inventarnummer", "Produktnøgle"]),
        ("nb", ["Serienummer", "Datamaskinnavn", "Eiendelsmerke", "Produktnøkkel"]),
        ("fi", ["Sarjanumero", "Tietokoneen nimi", "Laitetunniste", "Tuoteavain"]),
    ],
)
def test_identity_headers_in_every_spelling(lang: str, words: list[str]) -> None:
    fields = ["serial_number", "hostname", "asset_tag", "coa_key"]
    for header, field in zip(words, fields, strict=True):
        spellings = {
            header,
            header.upper(),
            header.lower(),
            _strip_accents(header),
            header.replace(" ", "  "),
            header.replace(" ", "_"),
            f"{header}:",
        }
        for spelling in spellings:
            hit = classify(spelling)
            assert hit is not None and hit.field == field, (lang, spelling, hit)


def test_an_os_serial_is_no_hardware_serial_in_other_languages() -> None:
    for header in ("Серийный номер ОС", "OSシリアル番号", "操作系统序列号", "Seri numarası lisans"):
        hit = classify(header)
        assert hit is None or hit.field != "serial_number", (header, hit)


def test_a_wide_header_in_other_scripts_is_read_quickly() -> None:
    """1,000 distinct headers in the new scripts, read cold, well under a second."""
    words = ["Серийный номер", "シリアル番号", "序列号", "Σειριακός Αριθμός", "일련번호", "Notlar"]
    headers = [f"{w} {i}" for i, w in zip(range(1000), itertools.cycle(words))]
    start = time.perf_counter()
    for h in headers:
        classify(h)
    assert time.perf_counter() - start < 0.5
