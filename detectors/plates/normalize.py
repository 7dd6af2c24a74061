"""Normalise raw OCR text into Russian / Soviet licence-plate formats.

Pure functions only: no image or engine code, so the rules can be unit-tested in isolation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PlateFormat = Literal["ru_private", "su_1980", "unknown"]

# Only these 12 Cyrillic letters are issued on Russian plates because each has a Latin twin,
# which is also why a Latin-only OCR model can read them.
PLATE_LETTERS = "АВЕКМНОРСТУХ"
_LATIN_TWINS = str.maketrans("ABEKMHOPCTYX", PLATE_LETTERS)
_DIGITS = "0123456789"

# Repairs applied only where the format demands a letter or a digit: the glyph pairs that OCR
# engines confuse on plate fonts.
_TO_LETTER = {"0": "О", "D": "О", "Q": "О", "8": "В", "4": "А", "7": "Т", "V": "У"}
_TO_DIGIT = dict(zip("ОDQUILJZЗАЧSGБТВ", "0000111234456678", strict=True))

# (format, slot pattern, length of the trailing region part). L = letter slot, D = digit slot.
_TEMPLATES: tuple[tuple[PlateFormat, str, int], ...] = (
    ("ru_private", "LDDDLLDDD", 3),
    ("ru_private", "LDDDLLDD", 2),
    # 1980-1993 Soviet series: the two trailing letters are the oblast code.
    ("su_1980", "LDDDDLL", 2),
)
# A reading that needs more guessing than this is noise that happens to fit a pattern.
_MAX_REPAIRS = 3
_MAX_DROPPED = 3


@dataclass(frozen=True, slots=True)
class NormalizedPlate:
    raw: str
    number: str
    region: str | None
    formatted: str
    valid: bool
    format: PlateFormat
    repairs: int


def clean(raw: str) -> str:
    """Upper-case, drop separators and map Latin look-alikes onto their Cyrillic twins."""
    return "".join(ch for ch in raw.upper() if ch.isalnum()).translate(_LATIN_TWINS)


def _fit(chars: str, pattern: str) -> tuple[str, int] | None:
    out: list[str] = []
    repairs = 0
    for ch, slot in zip(chars, pattern, strict=True):
        if slot == "L":
            if ch in PLATE_LETTERS:
                out.append(ch)
            elif ch in _TO_LETTER:
                out.append(_TO_LETTER[ch])
                repairs += 1
            else:
                return None
        elif ch in _DIGITS:
            out.append(ch)
        elif ch in _TO_DIGIT:
            out.append(_TO_DIGIT[ch])
            repairs += 1
        else:
            return None
    return "".join(out), repairs


def is_valid_ru_region(region: str) -> bool:
    """Region codes are 01-99, and three-digit ones only exist in the 1xx, 7xx and 9xx ranges."""
    if len(region) == 2:
        return region != "00"
    return len(region) == 3 and region[0] in "179" and region[1:] != "00"


def normalize_plate(raw: str) -> NormalizedPlate:
    """Fit ``raw`` to the closest known plate format, repairing letter/digit confusions.

    Candidates are ranked by repairs plus twice the characters dropped from the edges (stray
    frame or flag glyphs), so an exact full-length fit always wins.
    """
    text = clean(raw)
    best: tuple[int, int, PlateFormat, str, int] | None = None
    for index, (fmt, pattern, _) in enumerate(_TEMPLATES):
        dropped = len(text) - len(pattern)
        if not 0 <= dropped <= _MAX_DROPPED:
            continue
        for start in range(dropped + 1):
            fitted = _fit(text[start : start + len(pattern)], pattern)
            if fitted is None or fitted[1] > _MAX_REPAIRS:
                continue
            cost = fitted[1] + 2 * dropped
            if best is None or (cost, index) < (best[0], best[4]):
                best = (cost, fitted[1], fmt, fitted[0], index)
    if best is None:
        return NormalizedPlate(raw, text, None, text, False, "unknown", 0)
    _, repairs, fmt, chars, index = best
    region_len = _TEMPLATES[index][2]
    number, region = chars[:-region_len], chars[-region_len:]
    if fmt == "su_1980":
        formatted = f"{number[0]} {number[1:]} {region}"
        valid = True
    else:
        formatted = f"{number} {region}"
        valid = is_valid_ru_region(region)
    return NormalizedPlate(raw, number, region, formatted, valid, fmt, repairs)
