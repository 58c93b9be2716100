"""How well each way of telling a register's encoding reads registers in every legacy code
page, above all small ones (three devices: the hard case).

    python bench/encodings.py              # both sets, per language and in total
    python bench/encodings.py --set holdout --seeds 20
    PYTHONPATH=/tmp/pkg /tmp/encbench2/bin/python bench/encodings.py   # with the libraries
                                           # installed apart (see tests/encoding_holdout.py)

Two sets: ``tuned``, the registers of ``tests/encoding_samples.py`` the guesser was tuned
on (its number is optimistic), and ``holdout``, those of ``tests/encoding_holdout.py``: other
words, places, names, mostly-ASCII registers with one word beyond ASCII, Mac Roman with CR
line ends; the guesser was never tuned on it. ``holdout-2``: a second held-out set, written
before the guesser's fix for what ``holdout`` showed and measured only after it;
``holdout-3`` likewise for the fix after ``holdout-2``.

Approaches: ``before`` (coa-audit until issue 32: UTF-8, else Windows-1252, else Mac Roman),
``charset-normalizer`` (``from_bytes(...).best()``), ``chardet`` 5 (``detect``) and
``cchardet`` (faust-cchardet, ``detect``) when importable, and ``coa-audit``
(``importers.encodings.guess_legacy`` after the UTF-8 check, what ``importers.load`` uses
now). A guess is right when the bytes it decodes are the text
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
from tests import encoding_holdout, encoding_samples  # noqa: E402

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


def cchardet_guess(data: bytes) -> str | None:
    import cchardet

    return cchardet.detect(data)["encoding"]


def right(data: bytes, text: str, codec: str | None) -> bool:
    if codec is None:
        return False
    try:
        read = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return unicodedata.normalize("NFC", read) == unicodedata.normalize("NFC", text)


Case = tuple[str, str, int, bytes, str]  # language, code page, rows, bytes, text


def tuned_cases(sizes: list[int], seeds: int) -> list[Case]:
    out = []
    for lang in encoding_samples.LANGUAGES:
        for rows in sizes:
            for seed in range(seeds):
                text = encoding_samples.register(lang, rows, seed)
                data = encoding_samples.encode(text, lang.encoding)
                out.append((lang.code, lang.encoding, rows, data, text))
    return out


def holdout_cases(
    sizes: list[int], seeds: int, registers: tuple[encoding_holdout.Holdout, ...]
) -> list[Case]:
    out = []
    for h in registers:
        for rows in sizes:
            for seed in range(seeds):
                text = encoding_holdout.register(h, rows, seed)
                data = encoding_holdout.encode(text, h.encoding)
                out.append((h.code, h.encoding, rows, data, text))
    return out


SETS = {
    "tuned": lambda sizes, seeds: tuned_cases(sizes, seeds),
    "holdout": lambda sizes, seeds: holdout_cases(sizes, seeds, encoding_holdout.HOLDOUT),
    "holdout-2": lambda sizes, seeds: holdout_cases(sizes, seeds, encoding_holdout.HOLDOUT_2),
    "holdout-3": lambda sizes, seeds: holdout_cases(sizes, seeds, encoding_holdout.HOLDOUT_3),
}


def table(
    title: str, all_cases: list[Case], sizes: list[int], approaches: dict[str, Guess]
) -> None:
    score: dict[tuple[str, str, int], int] = {}
    count: dict[tuple[str, int], int] = {}
    seconds: dict[str, float] = dict.fromkeys(approaches, 0.0)
    wrong: dict[str, int] = {}
    langs: dict[str, str] = {}
    for code, enc, rows, data, text in all_cases:
        langs[code] = enc
        count[(code, rows)] = count.get((code, rows), 0) + 1
        for name, guess in approaches.items():
            t0 = time.perf_counter()
            codec = guess(data)
            seconds[name] += time.perf_counter() - t0
            ok = right(data, text, codec)
            score[(name, code, rows)] = score.get((name, code, rows), 0) + ok
            if not ok and name == "coa-audit":
                key = f"{code}/{rows} rows -> {codec}"
                wrong[key] = wrong.get(key, 0) + 1
    names = list(approaches)
    print(f"\n### {title}\n")
    print(f"| language (code page) | rows | {' | '.join(names)} |")
    print("|---|---|" + "---|" * len(names))
    for code, enc in langs.items():
        for rows in sizes:
            n = count[(code, rows)]
            cells = [f"{score[(a, code, rows)]}/{n}" for a in names]
            print(f"| {code} ({enc}) | {rows} | {' | '.join(cells)} |")
    for rows in sizes:
        n = sum(v for (c, r), v in count.items() if r == rows)
        cells = [
            f"{100 * sum(v for (a, c, r), v in score.items() if a == name and r == rows) / n:.1f}%"
            for name in names
        ]
        print(f"| **all, {rows} rows** | {rows} | {' | '.join(cells)} |")
    total = len(all_cases)
    cells = [f"{1000 * seconds[a] / total:.2f} ms" for a in names]
    print(f"| time per register | | {' | '.join(cells)} |")
    for line, n in wrong.items():
        print(f"coa-audit wrong: {line} ({n}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sizes", default="3,30", help="rows per register (comma-separated)")
    ap.add_argument("--seeds", type=int, default=10, help="registers per language and size")
    ap.add_argument("--set", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    approaches: dict[str, Guess] = {"before": before}
    if importlib.util.find_spec("charset_normalizer"):
        approaches["charset-normalizer"] = normalizer
    if importlib.util.find_spec("chardet"):
        approaches["chardet"] = chardet_guess
    if importlib.util.find_spec("cchardet"):
        approaches["cchardet"] = cchardet_guess
    approaches["coa-audit"] = own
    for name in args.set.split(","):
        table(f"{name} set", SETS[name](sizes, args.seeds), sizes, approaches)


if __name__ == "__main__":
    main()
