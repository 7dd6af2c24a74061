import pytest

from detectors.plates.normalize import clean, is_valid_ru_region, normalize_plate


@pytest.mark.parametrize(
    ("raw", "formatted", "region"),
    [
        ("X590HP178", "Х590НР 178", "178"),  # Latin look-alikes, as a Latin OCR model emits them
        ("Х590НР178", "Х590НР 178", "178"),  # already Cyrillic
        ("x 590 hp 78", "Х590НР 78", "78"),  # lower case, spaces, two-digit region
        ("A123BC|777", "А123ВС 777", "777"),  # frame glyph between number and region
        ("X590HP178RUS", "Х590НР 178", "178"),  # flag caption read as text
    ],
)
def test_ru_private_formats(raw: str, formatted: str, region: str) -> None:
    plate = normalize_plate(raw)
    assert plate.format == "ru_private"
    assert plate.valid
    assert plate.formatted == formatted
    assert plate.region == region
    assert plate.number == formatted.split()[0]
    assert plate.raw == raw


@pytest.mark.parametrize(
    ("raw", "formatted", "repairs"),
    [
        ("XS90HP178", "Х590НР 178", 1),  # S read in a digit slot
        ("X59OHP178", "Х590НР 178", 1),  # letter O in a digit slot
        ("0123AB77", "О123АВ 77", 1),  # digit 0 in the leading letter slot
        ("8123BC77", "В123ВС 77", 1),  # 8 in a letter slot
        ("X5904P178", "Х590АР 178", 1),  # 4 in a letter slot
        ("XB9OHP17B", "Х890НР 178", 3),  # B and O in digit slots
    ],
)
def test_positional_repairs(raw: str, formatted: str, repairs: int) -> None:
    plate = normalize_plate(raw)
    assert plate.formatted == formatted
    assert plate.repairs == repairs
    assert plate.valid


def test_soviet_1980_format() -> None:
    plate = normalize_plate("B8233XA")
    assert plate.format == "su_1980"
    assert plate.valid
    assert plate.number == "В8233"
    assert plate.region == "ХА"
    assert plate.formatted == "В 8233 ХА"


@pytest.mark.parametrize("raw", ["", "202-", "X590HP", "www.Avto.Nomer.ru", "RAPID", "ЖЖЖЖЖЖЖЖ"])
def test_unmatched_text_is_invalid_and_kept(raw: str) -> None:
    plate = normalize_plate(raw)
    assert plate.format == "unknown"
    assert not plate.valid
    assert plate.region is None
    assert plate.raw == raw
    assert plate.formatted == clean(raw)


def test_too_many_repairs_is_rejected() -> None:
    # Every window would need four or more guesses; that is noise, not a plate.
    assert normalize_plate("OOOOOOOOO").format == "unknown"


@pytest.mark.parametrize(
    ("raw", "region"), [("A123BC00", "00"), ("A123BC000", "000"), ("A123BC278", "278")]
)
def test_impossible_region_matches_format_but_is_invalid(raw: str, region: str) -> None:
    plate = normalize_plate(raw)
    assert plate.format == "ru_private"
    assert plate.region == region
    assert not plate.valid


@pytest.mark.parametrize(
    ("region", "ok"),
    [("01", True), ("99", True), ("00", False), ("178", True), ("777", True), ("977", True),
     ("278", False), ("100", False), ("7", False), ("1234", False)],
)  # fmt: skip
def test_ru_region_rule(region: str, ok: bool) -> None:
    assert is_valid_ru_region(region) is ok


def test_clean_maps_only_the_twelve_twins() -> None:
    assert clean("abekmhopctyx") == "АВЕКМНОРСТУХ"
    assert clean("R-U.S") == "RUS"  # no Cyrillic twin: left as is, so it never fits a letter slot
