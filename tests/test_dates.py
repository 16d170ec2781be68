"""pars-docs writes dates as Babel does (pars_docs/compose/dates.py), from the names it keeps."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import babel.dates
import pytest

from pars_docs import startup_cache
from pars_docs.compose import dates
from pars_docs.load.loader import load_yaml
from pars_docs.resources import templates_dir

FORMATS = load_yaml(templates_dir() / "formats.yaml").data
EXTRA = [
    "EEE, MMM d, yy",
    "E d/M/y",
    "EEEEE MMMMM LLLL LLL cccc ccc",
    "K:mm a, k:mm, HH:mm:ss, hh 'o''clock' aaaa",
    "d.MM.yyyy 'um' H 'Uhr'",
    "'quoted letters: EEEE d y' MMMM",
    "100% M/d",
    "y",
]
LOCALES = ["en", "en_GB", "es", "es_US", "vi", "fr", "de", "pt_BR", "ru", "el", "pl"]
MOMENTS = [
    datetime(2026, 1 + m, 1 + (m * 5) % 28, h, (h * 7) % 60, tzinfo=ZoneInfo("America/New_York"))
    for m in range(12)
    for h in (0, 1, 9, 11, 12, 13, 23)
] + [datetime(2027, 2, 28, 8, 5) + timedelta(days=d) for d in range(7)]


def patterns():
    found = {p for table in FORMATS.values() for p in table.values() if isinstance(p, str)}
    return sorted(p for p in found if not p.startswith(" ")) + EXTRA


@pytest.mark.parametrize("locale", LOCALES)
def test_every_format_is_written_as_babel_writes_it(locale, tmp_path, monkeypatch):
    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    for _ in (False, True):  # names asked of Babel, then read back from the cache
        dates._names.cache_clear()
        for pattern in patterns():
            for moment in MOMENTS:
                ours = dates.format_datetime(moment, pattern, locale)
                assert ours == babel.dates.format_datetime(moment, pattern, locale=locale)
            if not any(c in pattern for c in "hHKkmsa"):
                day = MOMENTS[5].date()
                ours = dates.format_date(day, pattern, locale)
                assert ours == babel.dates.format_date(day, pattern, locale=locale)
        assert list(tmp_path.glob("dates-*")), "the names were not kept"


@pytest.mark.parametrize("pattern", ["medium", "w 'week'", "QQQ y", "h:mm a z", "G y", "B"])
def test_other_fields_are_left_to_babel(pattern):
    moment = datetime(2026, 12, 3, 8, 30, tzinfo=ZoneInfo("Europe/Madrid"))
    assert dates._tokens(pattern) is None
    expected = babel.dates.format_datetime(moment, pattern, locale="es")
    assert dates.format_datetime(moment, pattern, "es") == expected


def test_names_are_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    dates._names.cache_clear()
    dates.format_date(date(2026, 12, 3), "EEEE", "en")
    (record,) = tmp_path.glob("dates-*")
    names = startup_cache.load("dates", record.name.partition("-")[2])
    names["E4"] = ["Lundi"] * 7
    startup_cache.keep("dates", record.name.partition("-")[2], names)
    dates._names.cache_clear()
    assert dates.format_date(date(2026, 12, 3), "EEEE d", "en") == "Lundi 3"
    # A record made by other pars-docs code (which may have read other fields) is not used.
    monkeypatch.setattr(startup_cache, "_own_digest", lambda: b"another pars-docs")
    dates._names.cache_clear()
    assert dates.format_date(date(2026, 12, 3), "EEEE d", "en") == "Thursday 3"
    monkeypatch.undo()
    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    record.write_bytes(b"damaged")
    dates._names.cache_clear()
    assert dates.format_date(date(2026, 12, 3), "EEEE d", "en") == "Thursday 3"
    dates._names.cache_clear()


HAITIAN = {key: FORMATS["ht"][key] for key in ("months", "weekdays")}


def test_a_languages_own_names_replace_the_ones_cldr_lacks():
    # CLDR (Babel) has no Haitian Creole names: it writes "Thu" and "M12".
    assert "M12" in babel.dates.format_date(date(2026, 12, 3), "EEEE d MMMM", locale="ht")
    day = date(2026, 12, 3)
    assert dates.format_date(day, "EEEE d MMMM y", "ht", own=HAITIAN) == "jedi 3 desanm 2026"
    moment = datetime(2027, 3, 1, 14, 5)
    written = dates.format_datetime(moment, FORMATS["ht"]["when"], "ht", own=HAITIAN)
    assert written == "lendi, 1 mas, a 14:05"
    assert dates.format_date(date(2027, 2, 28), "cccc LLLL", "ht", own=HAITIAN) == "dimanch fevriye"
    # The numbers and other fields are written as for any language.
    assert dates.format_date(day, "d/MM/y", "ht", own=HAITIAN) == "3/12/2026"


@pytest.mark.parametrize("pattern", ["EEE d MMM", "EEEE w", "MMMMM"])
def test_own_names_refuse_a_pattern_that_would_print_cldrs(pattern):
    assert dates.own_names_problem(pattern)
    assert dates.own_names_problem("EEEE d MMMM y, 'a' H:mm") is None
