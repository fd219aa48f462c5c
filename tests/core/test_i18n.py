"""The report languages: complete catalogs that agree on their placeholders, the glossary's terms,
and numbers and dates for each locale."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
import yaml

from retention_kit.core import i18n

GLOSSARY = yaml.safe_load((i18n._MESSAGES / "glossary.yaml").read_text(encoding="utf-8"))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_key_exists_in_every_language_with_the_same_placeholders(language):
    en, other = i18n.catalog("en"), i18n.catalog(language)
    assert set(other) == set(en), {"missing": sorted(set(en) - set(other))[:20], "extra": sorted(set(other) - set(en))[:20]}
    for key, template in en.items():
        assert _fields(other[key]) == _fields(template), key


def _words(template: str) -> str:
    """A template's own words: without placeholders, code spans, params keys and column names
    (``stickiness.retention.max_day``, ``day_cohorts``: names, not words) and the kit's name."""
    s = re.sub(r"\{[^}]*\}|`[^`]*`|\b\w+(?:\.\w+)+\b|\b\w*_\w*\b", " ", template)
    return s.replace("Retention Kit", " ").lower()


@pytest.mark.parametrize("language", ["zh-TW", "zh-CN"])
def test_the_glossary_terms_are_used_consistently(language):
    en, other = i18n.catalog("en"), i18n.catalog(language)
    for term, translations in GLOSSARY.items():
        for key, template in en.items():
            if term.lower() in _words(template):
                assert translations[language] in other[key], (term, key)


def test_numbers_and_dates_for_each_locale():
    day = dt.date(2024, 1, 5)
    assert (i18n.pct(0.1834), i18n.num(12345.6), i18n.month_year(day)) == ("18%", "12,346", "January 2024")
    with i18n.using("zh-TW"):
        assert (i18n.pct(0.1834, 1), i18n.num(12345.6), i18n.month_year(day), i18n.month(day)) == (
            "18.3%", "12,346", "2024年1月", "1月")
    with i18n.using("zh-CN"):
        assert i18n.month_year(day) == "2024年1月"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.use("fr")


def test_an_unknown_key_names_the_catalog():
    with pytest.raises(KeyError, match="no message 'no.such.key'"):
        i18n.t("no.such.key")
