"""The report language: one message catalog per language, and numbers, percents and dates
formatted for its locale (Babel).

Every heading, sentence template, axis label, legend, table header, definition and note a report
shows comes from a catalog, ``retention_kit/core/messages/<language>/*.yaml``: one file per report
family (``stickiness.yaml``, ``common.yaml``, ...), each a flat mapping of keys
(``"stickiness.summary.ratio"``) to templates with ``{name}`` placeholders; a language's catalog
is the union of its files, and a key defined in two files is an error. Data values (event
names, rung names, attribute values) are never translated: they are the placeholders' values.
``glossary.yaml`` beside the catalogs holds the terms both Chinese variants must use.

The language in force is set once per report (``report.start`` reads ``params.language``) and
read by :func:`t` and the formatters, so analyses and narrative modules need no language
argument. English output is byte-identical to the kit's original wording and formats.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = ["LANGUAGES", "Language", "current", "use", "using", "t", "has", "catalog", "pct", "num",
           "month_year", "month", "locale"]

Language = Literal["en", "zh-TW", "zh-CN"]
#: The report languages, English first (the fallback).
LANGUAGES: tuple[str, ...] = ("en", "zh-TW", "zh-CN")
_LOCALES = {"en": "en", "zh-TW": "zh_Hant_TW", "zh-CN": "zh_Hans_CN"}
_MESSAGES = Path(__file__).resolve().parent / "messages"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("retention_kit_language", default="en")


def _check(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    return language


def current() -> str:
    """The language in force (``"en"`` unless :func:`use` set another)."""
    return _current.get()


def use(language: str) -> None:
    """Make ``language`` the language in force for this process (a report's kernel)."""
    _current.set(_check(language))


@contextlib.contextmanager
def using(language: str) -> Iterator[None]:
    """The language in force within the block.

    Examples
    --------
    >>> with using("zh-TW"):
    ...     current()
    'zh-TW'
    >>> current()
    'en'
    """
    token = _current.set(_check(language))
    try:
        yield
    finally:
        _current.reset(token)


def locale() -> str:
    """The Babel locale of the language in force."""
    return _LOCALES[current()]


@functools.lru_cache(maxsize=None)
def catalog(language: str) -> Mapping[str, str]:
    """The messages of ``language``: key -> template, from every file of its folder."""
    merged: dict[str, str] = {}
    where: dict[str, str] = {}
    for path in sorted((_MESSAGES / _check(language)).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, template in data.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined in both {where[key]} and {path.name} "
                                 f"of language {language}")
            merged[key], where[key] = str(template), path.name
    return merged


def has(key: str) -> bool:
    """Whether the English catalog defines ``key``."""
    return key in catalog("en")


def t(key: str, /, **values: Any) -> str:
    """The message ``key`` in the language in force, with ``{name}`` placeholders filled.

    Values are inserted as given (format numbers with :func:`num`, :func:`pct` and the date
    helpers first; escape data with :func:`retention_kit.core.text.fill` where Markdown is
    built). A key missing from a translation falls back to English (a test keeps every catalog
    complete); a key missing from English is a ``KeyError``.
    """
    lang = current()
    template = catalog(lang).get(key)
    if template is None:
        template = catalog("en").get(key)
        if template is None:
            raise KeyError(f"no message {key!r} in the English catalog (retention_kit/core/messages/en/)")
    return template.format(**values) if values else template


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, digits: int = 0) -> str:
    """A fraction as a percent for the locale ('18%'); '–' when missing.

    Examples
    --------
    >>> pct(0.1834), pct(0.1834, 1), pct(None)
    ('18%', '18.3%', '–')
    """
    if _missing(x):
        return "–"
    if current() == "en":
        return f"{100 * x:.{digits}f}%"
    from babel.numbers import format_percent

    return format_percent(x, "#,##0" + ("." + "0" * digits if digits else "") + "%", locale=locale())


def num(x: float | int | None, digits: int = 0) -> str:
    """A number with the locale's grouping ('12,345'); '–' when missing.

    Examples
    --------
    >>> num(12345), num(2.5, 1), num(float("nan"))
    ('12,345', '2.5', '–')
    """
    if _missing(x):
        return "–"
    if current() == "en":
        return f"{x:,.{digits}f}"
    from babel.numbers import format_decimal

    return format_decimal(x, "#,##0" + ("." + "0" * digits if digits else ""), locale=locale())


def month_year(day: dt.date) -> str:
    """A month and year for the locale ('January 2024', '2024年1月').

    Examples
    --------
    >>> month_year(dt.date(2024, 1, 5))
    'January 2024'
    >>> with using("zh-TW"):
    ...     month_year(dt.date(2024, 1, 5))
    '2024年1月'
    """
    if current() == "en":
        return f"{day:%B %Y}"
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", day, locale=locale())


def month(day: dt.date) -> str:
    """A month's name for the locale ('January', '1月')."""
    if current() == "en":
        return f"{day:%B}"
    from babel.dates import format_date

    return format_date(day, "M月", locale=locale())
