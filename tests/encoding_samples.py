"""Registers in every legacy code page coa-audit reads: a site, a user, a department and a
note per device, in the languages each code page is written in (invented values, realistic
words). ``tests/test_encodings.py`` and ``bench/encodings.py`` write them in their encoding.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

__all__ = ["LANGUAGES", "Language", "encode", "register"]


@dataclass(frozen=True)
class Language:
    code: str
    encoding: str  # the code page a Windows machine in this language writes
    sites: tuple[str, ...]
    users: tuple[str, ...]
    departments: tuple[str, ...]
    notes: tuple[str, ...]
    headers: tuple[str, str, str, str]  # site, user, department, note in the language


def _lang(code: str, encoding: str, *pools: str) -> Language:
    sites, users, departments, notes, headers = (tuple(p.split("|")) for p in pools)
    assert len(headers) == 4
    return Language(code, encoding, sites, users, departments, notes, headers)  # type: ignore[arg-type]


LANGUAGES: tuple[Language, ...] = (
    _lang("cs", "cp1250",
          "Praha|Brno|Ostrava|Plzeň|České Budějovice|Ústí nad Labem|Hradec Králové",
          "Jiří Černý|Šárka Dvořáková|Petr Novák|Zdeněk Růžička|Kateřina Horáková|Tomáš Křížek",
          "Účetní oddělení|Přední kancelář|Sklad|Personální oddělení|Nákup|Výroba",
          "štítek poškozený|bez štítku|nový počítač|vrácen do skladu|čeká na opravu",
          "Pobočka|Uživatel|Oddělení|Poznámka"),
    _lang("pl", "cp1250",
          "Łódź|Kraków|Gdańsk|Wrocław|Poznań|Białystok|Rzeszów",
          "Paweł Wójcik|Małgorzata Kowalczyk|Łukasz Żak|Agnieszka Wiśniewska|Michał Dąbrowski",
          "Księgowość|Dział kadr|Sprzedaż|Zaopatrzenie|Obsługa klienta|Magazyn",
          "naklejka uszkodzona|brak naklejki|wymieniony dysk|zwrócony do magazynu|do sprawdzenia",
          "Lokalizacja|Użytkownik|Dział|Uwagi"),
    _lang("hu", "cp1250",
          "Győr|Pécs|Debrecen|Székesfehérvár|Kecskemét|Nyíregyháza|Szombathely",
          "Kovács Péter|Szőke Éva|Tóth Gábor|Horváth Zsófia|Nagy Ildikó|Fűzi Bálint",
          "Könyvelés|Ügyfélszolgálat|Raktár|Beszerzés|Értékesítés|Műszaki osztály",
          "sérült címke|nincs címke|új gép|raktárba visszaküldve|javításra vár",
          "Telephely|Felhasználó|Osztály|Megjegyzés"),
    _lang("ru", "cp1251",
          "Москва|Санкт-Петербург|Новосибирск|Екатеринбург|Казань|Нижний Новгород",
          "Иванов Сергей|Петрова Мария|Смирнов Алексей|Кузнецова Ольга|Попов Дмитрий",
          "Бухгалтерия|Отдел кадров|Склад|Отдел продаж|Служба поддержки|Производство",
          "наклейка повреждена|нет наклейки|новый компьютер|возвращён на склад|ждёт ремонта",
          "Филиал|Пользователь|Отдел|Примечание"),
    _lang("uk", "cp1251",
          "Київ|Львів|Харків|Одеса|Дніпро|Запоріжжя|Івано-Франківськ",
          "Шевченко Олена|Коваленко Іван|Бондаренко Юлія|Ткаченко Євген|Мельник Ігор",
          "Бухгалтерія|Відділ кадрів|Склад|Відділ продажів|Служба підтримки|Виробництво",
          "наклейка пошкоджена|немає наклейки|новий комп'ютер|повернено на склад|чекає ремонту",
          "Філія|Користувач|Відділ|Примітка"),
    _lang("bg", "cp1251",
          "София|Пловдив|Варна|Бургас|Русе|Стара Загора|Плевен",
          "Георгиев Иван|Димитрова Мария|Петков Стефан|Николова Елена|Христов Тодор",
          "Счетоводство|Човешки ресурси|Склад|Продажби|Техническа поддръжка|Производство",
          "повреден етикет|няма етикет|нов компютър|върнат в склада|чака ремонт",
          "Клон|Потребител|Отдел|Бележка"),
    _lang("ru-koi8", "koi8_r",
          "Москва|Самара|Ростов-на-Дону|Челябинск|Омск|Красноярск|Воронеж",
          "Соколов Андрей|Морозова Наталья|Волков Игорь|Лебедева Анна|Козлов Павел",
          "Бухгалтерия|Отдел кадров|Склад|Отдел закупок|Служба поддержки|Цех",
          "наклейка повреждена|нет наклейки|новый ноутбук|списан|ждёт ремонта",
          "Филиал|Пользователь|Отдел|Примечание"),
    _lang("uk-koi8", "koi8_u",
          "Київ|Житомир|Вінниця|Черкаси|Полтава|Чернігів|Івано-Франківськ",
          "Гриценко Ірина|Савчук Євгенія|Марченко Їжак|Ґудзенко Олег|Лисенко Інна",
          "Бухгалтерія|Відділ кадрів|Склад|Відділ закупівель|Служба підтримки|Цех",
          "наклейка пошкоджена|немає наклейки|новий ноутбук|списаний|чекає ремонту",
          "Філія|Користувач|Відділ|Примітка"),
    _lang("de", "cp1252",
          "München|Köln|Düsseldorf|Nürnberg|Zürich|Saarbrücken|Lübeck",
          "Jürgen Müller|Björn Schäfer|Sabine Größ|Uwe Köhler|Käthe Weiß|Günter Fuß",
          "Buchhaltung|Einkauf|Geschäftsführung|Lager|Kundendienst|Personalabteilung",
          "Etikett beschädigt|kein Aufkleber|Gerät zurückgegeben|Prüfung läuft|Außendienst",
          "Standort|Benutzer|Abteilung|Bemerkung"),
    _lang("fr", "cp1252",
          "Genève|Orléans|Besançon|Nîmes|Angoulême|Périgueux|Évry",
          "François Lefèvre|Hélène Dubœuf|Jérôme Gaël|Cécile Bézier|Noël Ducôté",
          "Comptabilité|Ressources humaines|Entrepôt|Service après-vente|Achats|Direction générale",
          "étiquette abîmée|pas d'étiquette|poste réaffecté|à vérifier|prêté à l'accueil",
          "Site|Utilisateur|Service|Remarque"),
    _lang("es", "cp1252",
          "Málaga|Córdoba|León|Cádiz|A Coruña|Logroño|Alcalá de Henares",
          "José Muñoz|María Ibáñez|Íñigo Peña|Begoña Gómez|Ramón Núñez|Sofía Martín",
          "Administración|Contabilidad|Almacén|Atención al cliente|Compras|Dirección",
          "etiqueta dañada|sin etiqueta|equipo devuelto|pendiente de revisión|préstamo",
          "Ubicación|Usuario|Departamento|Observación"),
    _lang("pt", "cp1252",
          "São Paulo|Brasília|Belém|Maceió|Florianópolis|Goiânia|Vitória",
          "João Gonçalves|Conceição Araújo|Antônio Simões|Inês Magalhães|Sebastião Brandão",
          "Contabilidade|Recursos Humanos|Armazém|Atendimento|Compras|Direção",
          "etiqueta danificada|sem etiqueta|equipamento devolvido|em manutenção|não localizado",
          "Localização|Usuário|Departamento|Observação"),
    _lang("sv", "cp1252",
          "Göteborg|Malmö|Västerås|Örebro|Linköping|Jönköping|Umeå",
          "Åsa Lindström|Björn Ångström|Mårten Öberg|Ingrid Sjöö|Göran Hällström",
          "Ekonomiavdelning|Personalavdelning|Lager|Kundtjänst|Inköp|Försäljning",
          "skadad etikett|ingen etikett|återlämnad dator|väntar på reparation|utlånad",
          "Ort|Användare|Avdelning|Anteckning"),
    _lang("el", "cp1253",
          "Αθήνα|Θεσσαλονίκη|Πάτρα|Ηράκλειο|Λάρισα|Βόλος|Ιωάννινα",
          "Γιώργος Παπαδόπουλος|Μαρία Κωνσταντίνου|Νίκος Οικονόμου|Ελένη Γεωργίου",
          "Λογιστήριο|Ανθρώπινο δυναμικό|Αποθήκη|Πωλήσεις|Εξυπηρέτηση πελατών|Προμήθειες",
          "κατεστραμμένη ετικέτα|χωρίς ετικέτα|νέος υπολογιστής|επιστράφηκε στην αποθήκη",
          "Υποκατάστημα|Χρήστης|Τμήμα|Σημείωση"),
    _lang("tr", "cp1254",
          "İstanbul|İzmir|Eskişehir|Muğla|Şanlıurfa|Diyarbakır|Çanakkale",
          "Ayşe Yılmaz|Mehmet Öztürk|Gülşen Çelik|Ömer Şahin|İbrahim Doğan|Çağla Kılıç",
          "Muhasebe|İnsan kaynakları|Depo|Satış|Müşteri hizmetleri|Satın alma",
          "etiket hasarlı|etiket yok|yeni bilgisayar|depoya iade edildi|onarım bekliyor",
          "Şube|Kullanıcı|Bölüm|Açıklama"),
    _lang("he", "cp1255",
          "תל אביב|ירושלים|חיפה|באר שבע|נתניה|אשדוד|רמת גן",
          "משה כהן|שרה לוי|דוד מזרחי|רחל פרץ|יוסף ביטון|מיכל אברהם",
          "הנהלת חשבונות|משאבי אנוש|מחסן|מכירות|שירות לקוחות|רכש",
          "מדבקה פגומה|אין מדבקה|מחשב חדש|הוחזר למחסן|ממתין לתיקון",
          "סניף|משתמש|מחלקה|הערה"),
    _lang("ar", "cp1256",
          "القاهرة|الرياض|دبي|عمّان|الدار البيضاء|بيروت|تونس",
          "محمد العلي|فاطمة حسن|أحمد إبراهيم|مريم يوسف|خالد عبد الله|ليلى منصور",
          "المحاسبة|الموارد البشرية|المستودع|المبيعات|خدمة العملاء|المشتريات",
          "الملصق تالف|لا يوجد ملصق|جهاز جديد|أعيد إلى المستودع|بانتظار الإصلاح",
          "الفرع|المستخدم|القسم|ملاحظة"),
    _lang("lt", "cp1257",
          "Vilnius|Kaunas|Klaipėda|Šiauliai|Panevėžys|Marijampolė|Utena",
          "Jonas Žukauskas|Rūta Petraitienė|Darius Šimkus|Aušra Kazlauskienė|Tomas Čepulis",
          "Buhalterija|Personalo skyrius|Sandėlis|Pardavimai|Klientų aptarnavimas|Pirkimai",
          "pažeistas lipdukas|nėra lipduko|naujas kompiuteris|grąžintas į sandėlį|laukia remonto",
          "Filialas|Naudotojas|Skyrius|Pastaba"),
    _lang("lv", "cp1257",
          "Rīga|Daugavpils|Liepāja|Jelgava|Jūrmala|Ventspils|Rēzekne",
          "Jānis Bērziņš|Līga Ozoliņa|Andris Kalniņš|Ieva Zariņa|Māris Krūmiņš",
          "Grāmatvedība|Personāla daļa|Noliktava|Pārdošana|Klientu apkalpošana|Iepirkumi",
          "bojāta uzlīme|nav uzlīmes|jauns dators|atgriezts noliktavā|gaida remontu",
          "Filiāle|Lietotājs|Nodaļa|Piezīme"),
    _lang("vi", "cp1258",
          "Hà Nội|Thành phố Hồ Chí Minh|Đà Nẵng|Hải Phòng|Cần Thơ|Huế|Nha Trang",
          "Nguyễn Văn An|Trần Thị Bích|Lê Hoàng Dũng|Phạm Thu Hương|Đặng Quốc Việt",
          "Phòng kế toán|Phòng nhân sự|Kho hàng|Phòng kinh doanh|Chăm sóc khách hàng",
          "nhãn bị hỏng|không có nhãn|máy mới|đã trả về kho|đang chờ sửa chữa",
          "Chi nhánh|Người dùng|Phòng ban|Ghi chú"),
    _lang("ja", "cp932",
          "東京本社|大阪支店|名古屋営業所|福岡支店|札幌営業所|横浜事業所",
          "山田太郎|佐藤花子|鈴木一郎|高橋美咲|田中健太|渡辺さくら",
          "経理部|人事部|倉庫|営業部|カスタマーサポート|購買部",
          "ラベル破損|ラベルなし|新しいパソコン|倉庫に返却|修理待ち",
          "拠点|使用者|部署|備考"),
    _lang("zh-hans", "gb18030",
          "北京总部|上海分公司|广州办事处|深圳分公司|成都办事处|武汉仓库",
          "张伟|王芳|李娜|刘洋|陈静|杨磊",
          "财务部|人力资源部|仓库|销售部|客户服务部|采购部",
          "标签损坏|没有标签|新电脑|已退回仓库|等待维修",
          "地点|使用者|部门|备注"),
    _lang("zh-hant", "big5",
          "台北總部|台中分公司|高雄辦事處|新竹分公司|台南辦事處|桃園倉庫",
          "陳志明|林淑芬|黃建國|張雅婷|李俊傑|王美玲",
          "會計部|人力資源部|倉庫|業務部|客戶服務部|採購部",
          "標籤損壞|沒有標籤|新電腦|已退回倉庫|等待維修",
          "地點|使用者|部門|備註"),
    _lang("ko", "euc_kr",
          "서울 본사|부산 지점|대구 사무소|인천 지점|광주 사무소|대전 창고",
          "김민준|이서연|박지훈|최수빈|정우진|강하은",
          "회계팀|인사팀|창고|영업팀|고객지원팀|구매팀",
          "라벨 손상|라벨 없음|새 컴퓨터|창고로 반납|수리 대기",
          "지점|사용자|부서|비고"),
)  # fmt: skip

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: the base letter precomposed (â, ơ, ư...), the
    tone as a combining mark after it."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += base.encode("cp1258")
        out += "".join(c for c in parts if c in _TONES).encode("cp1258")
    return bytes(out)


def encode(text: str, encoding: str) -> bytes:
    return _cp1258(text) if encoding == "cp1258" else text.encode(encoding)


EDITIONS = ("Windows 10 Pro", "Windows 11 Pro", "Windows 10 Home", "Windows 7 Professional")


def register(lang: Language, rows: int, seed: int = 0, delimiter: str = ",") -> str:
    """A register of ``rows`` devices in ``lang``: the identifying columns in English (what
    coa-audit maps), the rest in the language."""
    rnd = random.Random(f"{lang.code}-{rows}-{seed}")
    head = ["Serial Number", "COA Edition", *lang.headers]
    lines = [delimiter.join(head)]
    for n in range(rows):
        values = [
            f"SN{rnd.randrange(10**6):06d}{n}",
            rnd.choice(EDITIONS),
            rnd.choice(lang.sites),
            rnd.choice(lang.users),
            rnd.choice(lang.departments),
            rnd.choice(lang.notes),
        ]
        lines.append(delimiter.join(values))
    return "\r\n".join(lines) + "\r\n"
