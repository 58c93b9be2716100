"""How well each way of telling a register's encoding reads registers in every legacy code
page, above all small ones (three devices: the hard case).

    python bench/encodings.py              # the table, per language and in total
    PYTHONPATH=/tmp/encbench python bench/encodings.py   # with chardet installed apart

Approaches: ``before`` (coa-audit until issue 32: UTF-8, else Windows-1252, else Mac Roman),
``charset-normalizer`` (``from_bytes(...).best()``), ``chardet`` 5 (``detect``) when
importable, and ``coa-audit`` (``importers.encodings.guess_legacy`` after the UTF-8 check,
what ``importers.load`` uses now). A guess is right when the bytes it decodes are the text
written (Unicode-normalised: Windows-1258 writes tones as combining marks), so KOI8-U read
as KOI8-R is right for a register whose letters both share.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coa_audit.importers.encodings import guess_legacy  # noqa: E402
from tests.encoding_samples import LANGUAGES, encode, register  # noqa: E402

Guess = Callable[[bytes], "str | None"]


def before(data: bytes) -> str | None:
    for codec in ("utf-8", "cp1252"):
        try:
            data.decode(codec)
            return codec
        except UnicodeDecodeError:
            pass
    return "mac_roman"


def own(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return guess_legacy(data, cr_only=b"\r" in data and b"\n" not in data)


def normalizer(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None else None


def chardet_guess(data: bytes) -> str | None:
    import chardet

    return chardet.detect(data)["encoding"]


def right(data: bytes, text: str, codec: str | None) -> bool:
    if codec is None:
        return False
    try:
        read = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return unicodedata.normalize("NFC", read) == unicodedata.normalize("NFC", text)


def cases(sizes: list[int], seeds: int) -> list[tuple[str, str, int, bytes, str]]:
    out = []
    for lang in LANGUAGES:
        for rows in sizes:
            for seed in range(seeds):
                text = register(lang, rows, seed)
                out.append((lang.code, lang.encoding, rows, encode(text, lang.encoding), text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="3,30", help="rows per register (comma-separated)")
    ap.add_argument("--seeds", type=int, default=10, help="registers per language and size")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    approaches: dict[str, Guess] = {"before": before}
    if importlib.util.find_spec("charset_normalizer"):
        approaches["charset-normalizer"] = normalizer
    if importlib.util.find_spec("chardet"):
        approaches["chardet"] = chardet_guess
    approaches["coa-audit"] = own
    all_cases = cases(sizes, args.seeds)
    score: dict[tuple[str, str, int], int] = {}
    count: dict[tuple[str, int], int] = {}
    seconds: dict[str, float] = dict.fromkeys(approaches, 0.0)
    wrong: dict[str, list[str]] = {name: [] for name in approaches}
    for code, _enc, rows, data, text in all_cases:
        count[(code, rows)] = count.get((code, rows), 0) + 1
        for name, guess in approaches.items():
            t0 = time.perf_counter()
            codec = guess(data)
            seconds[name] += time.perf_counter() - t0
            ok = right(data, text, codec)
            score[(name, code, rows)] = score.get((name, code, rows), 0) + ok
            if not ok and name == "coa-audit":
                wrong[name].append(f"{code}/{rows} rows -> {codec}")
    names = list(approaches)
    print(f"| language (code page) | rows | {' | '.join(names)} |")
    print("|---|---|" + "---|" * len(names))
    for lang in LANGUAGES:
        for rows in sizes:
            n = count[(lang.code, rows)]
            cells = [f"{score[(a, lang.code, rows)]}/{n}" for a in names]
            print(f"| {lang.code} ({lang.encoding}) | {rows} | {' | '.join(cells)} |")
    total = len(all_cases)
    for rows in sizes:
        n = sum(v for (c, r), v in count.items() if r == rows)
        cells = [
            f"{100 * sum(v for (a, c, r), v in score.items() if a == name and r == rows) / n:.0f}%"
            for name in names
        ]
        print(f"| **all, {rows} rows** | {rows} | {' | '.join(cells)} |")
    cells = [f"{1000 * seconds[a] / total:.2f} ms" for a in names]
    print(f"| time per register | | {' | '.join(cells)} |")
    for line in wrong["coa-audit"]:
        print("coa-audit wrong:", line)


if __name__ == "__main__":
    main()
