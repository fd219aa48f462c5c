"""Shared plot helpers: one style, axes with titles, labels and units, percent axes, and fonts
that draw Chinese, Japanese and Korean labels.

Fonts: matplotlib's default (DejaVu Sans) has no CJK glyphs, so a chart of events named
``瀏覽商品`` or ``加入購物車`` would draw boxes. :func:`use_style` puts the installed CJK
fonts it finds (:data:`CJK_FAMILIES`: Noto Sans CJK, Source Han Sans, PingFang, Microsoft
JhengHei / YaHei, Hiragino, Apple SD Gothic Neo, Malgun Gothic, ...) after the Latin sans-serif in
``font.family``; matplotlib (3.6+) then takes each glyph from the first font that has it, so
Latin text looks as before and CJK text is drawn. When no installed font has some character,
:func:`finish` says so in the chart itself (:data:`MISSING_GLYPHS_NOTE`) and once in the log,
instead of leaving boxes unexplained.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from ..core import i18n

__all__ = ["use_style", "new_ax", "finish", "percent_axis", "cjk_fonts", "missing_glyphs", "PALETTE",
           "CJK_FAMILIES", "MISSING_GLYPHS_NOTE"]

PALETTE = "crest"
_log = logging.getLogger(__name__)

#: CJK font families by the script variant they draw by default, each list in order of
#: preference: free pan-CJK fonts first (Noto Sans CJK, its twin Source Han Sans, and their
#: Google Fonts cuts), then the systems' own (macOS, Windows), then older Linux fallbacks. Every
#: Noto / Source Han face holds all of Han (Traditional and Simplified), kana and hangul; the
#: region only picks the regional glyph forms of shared characters.
CJK_FAMILIES: dict[str, tuple[str, ...]] = {
    "zh-TW": ("Noto Sans CJK TC", "Source Han Sans TC", "Source Han Sans TW", "Noto Sans TC", "PingFang TC",
              "Microsoft JhengHei", "Heiti TC", "Noto Sans CJK HK", "Source Han Sans HC", "PingFang HK"),
    "zh-CN": ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC", "PingFang SC",
              "Microsoft YaHei", "Heiti SC"),
    "ja": ("Noto Sans CJK JP", "Source Han Sans", "Source Han Sans JP", "Noto Sans JP", "Hiragino Sans",
           "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo"),
    "ko": ("Noto Sans CJK KR", "Source Han Sans K", "Source Han Sans KR", "Noto Sans KR", "Apple SD Gothic Neo",
           "Malgun Gothic"),
    "any": ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "Arial Unicode MS"),
}
#: Which variant's fonts come first for a report language; others follow as fallbacks. Reports
#: in English (or no language) prefer Traditional forms: the first audience is in Taiwan.
_VARIANT_ORDER = {
    "zh-TW": ("zh-TW", "zh-CN", "ja", "ko", "any"),
    "zh-HK": ("zh-TW", "zh-CN", "ja", "ko", "any"),
    "zh-CN": ("zh-CN", "zh-TW", "ja", "ko", "any"),
    "ja": ("ja", "zh-TW", "zh-CN", "ko", "any"),
    "ko": ("ko", "zh-TW", "zh-CN", "ja", "any"),
}
_DEFAULT_ORDER = ("zh-TW", "zh-CN", "ja", "ko", "any")
#: One character of each script the fonts must cover: Traditional and Simplified Han, hiragana,
#: katakana, hangul. Fonts are added in order of preference until all are covered.
_PROBES = "體体あア한"
#: File names of CJK fonts, to find ones installed after matplotlib cached its font list.
_CJK_FILE = re.compile(r"cjk|sourcehan|source-han|pingfang|msjh|msyh|wqy|droidsansfallback|hiragino|"
                       r"applesdgothic|malgun|yugoth|meiryo|notosans(tc|sc|hk|jp|kr)", re.I)

#: The note a chart carries when some of its characters have no font on the machine that drew it
#: (the report's text and tables, drawn by the reader's browser, still show them). A report
#: language may pass its own through :func:`use_style`; it is drawn only if the fonts cover it.
MISSING_GLYPHS_NOTE = ("Boxes in this chart stand for characters that the machine which made the report has "
                       "no font for (see README, Fonts); the page's text and tables show them in full.")
_GID = "rk-missing-glyphs"
_note: str | None = None  # None: the report language's (i18n message plot.missing_glyphs)


def _known_files() -> set[str]:
    return {f.fname for f in font_manager.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def _add_new_cjk_files() -> int:
    """Register CJK font files that matplotlib's cached font list does not know: fonts installed
    after the cache was built (``apt-get install fonts-noto-cjk`` after a first run) and conda's
    ``<env>/fonts`` folder, which matplotlib does not search. Once per process."""
    dirs = [Path(sys.prefix) / "fonts", Path(sys.prefix) / "share" / "fonts"]
    found = set(font_manager.findSystemFonts())
    for d in dirs:
        if d.is_dir():
            found |= set(font_manager.findSystemFonts(fontpaths=[str(d)]))
    known = _known_files()
    added = 0
    for path in sorted(found):
        if path not in known and _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
                added += 1
            except Exception:  # a broken or unreadable font file is skipped, like matplotlib does
                _log.debug("font file %s could not be read", path, exc_info=True)
    return added


def _installed_path(family: str) -> str | None:
    try:
        return font_manager.fontManager.findfont(font_manager.FontProperties(family=[family]),
                                                 fallback_to_default=False)
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def _charset(path: str) -> frozenset[int]:
    """The code points a font file draws (its character map)."""
    return frozenset(font_manager.get_font(path).get_charmap())


def cjk_fonts(language: str | None = None) -> tuple[str, ...]:
    """The installed CJK font families the style uses, in order of preference for ``language``
    (``zh-TW``, ``zh-CN``, ``ja``, ``ko``; ``None`` or another language: Traditional Chinese
    first): the fewest that together draw Traditional and Simplified Han, kana and hangul.
    Empty when no CJK font is installed.

    Examples
    --------
    >>> fonts = cjk_fonts("zh-CN")
    >>> all(isinstance(f, str) for f in fonts)
    True
    """
    order = _VARIANT_ORDER.get(language or "", _DEFAULT_ORDER)
    names = [f for v in order for f in CJK_FAMILIES[v]]
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not known.intersection(names) and _add_new_cjk_files():
        known = {f.name for f in font_manager.fontManager.ttflist}
    chosen: list[str] = []
    need = {ord(c) for c in _PROBES}
    for name in names:
        if name not in known or not need:
            continue
        path = _installed_path(name)
        if path is None:
            continue
        covers = need & _charset(path)
        if covers:
            chosen.append(name)
            need -= covers
    return tuple(chosen)


def use_style(*, language: str | None = None, missing_glyphs_note: str | None = None) -> None:
    """The kit's look: seaborn whitegrid, readable sizes, glyphs embedded as paths (offline
    pages), and CJK fonts after the Latin one (:func:`cjk_fonts`).

    Parameters
    ----------
    language
        The report's language (``en``, ``zh-TW``, ``zh-CN``, ...): which regional glyph forms
        come first; default the report language in force (:func:`retention_kit.core.i18n.current`).
        Data values in any script are drawn whatever the language.
    missing_glyphs_note
        The note a chart carries when a character has no font (default: the report language's,
        :data:`MISSING_GLYPHS_NOTE` in English); used only where the fonts can draw it.

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["font.family"][0]
    'sans-serif'
    """
    import seaborn as sns

    global _note
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.figsize": (9, 4.2), "figure.dpi": 100, "axes.titleweight": "bold",
                         "svg.fonttype": "path",
                         "font.family": ["sans-serif", *cjk_fonts(language or i18n.current())]})
    _note = missing_glyphs_note


def new_ax(ax: Axes | None = None, *, figsize: tuple[float, float] | None = None) -> Axes:
    """``ax`` itself, or a fresh figure's axes."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def percent_axis(ax: Axes, axis: str = "y", *, digits: int = 0) -> Axes:
    """Show fractions (0..1) on an axis as percents (for the report language's locale)."""
    fmt = FuncFormatter(lambda v, _: i18n.pct(v, digits))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def _drawable() -> frozenset[int]:
    """The code points the fonts of ``font.family`` draw between them."""
    paths = []
    for family in plt.rcParams["font.family"]:
        path = _installed_path(family)
        if path is not None:
            paths.append(path)
    return _union(tuple(paths))


@functools.lru_cache(maxsize=8)
def _union(paths: tuple[str, ...]) -> frozenset[int]:
    return frozenset().union(*(_charset(p) for p in paths)) if paths else frozenset()


def missing_glyphs(texts: Iterable[str]) -> str:
    """The characters of ``texts`` that no font of the current style draws, in order of first
    appearance (whitespace and control characters aside); empty when all are drawn.

    Examples
    --------
    >>> missing_glyphs(["Day", "Users (%)"])
    ''
    """
    have = _drawable()
    seen: dict[str, None] = {}
    for t in texts:
        for ch in t:
            if ord(ch) not in have and not ch.isspace() and ch.isprintable():
                seen.setdefault(ch, None)
    return "".join(seen)


def _figure_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text() and t.get_gid() != _GID]


def _mark_missing_glyphs(fig: Figure, title: str) -> None:
    """Say in the chart, and once in the log, that some of its characters have no font."""
    missing = missing_glyphs(_figure_texts(fig))
    if not missing:
        return
    _log.warning("chart %r: no installed font draws %s; they show as boxes. Install a CJK font "
                 "(Debian/Ubuntu: apt-get install fonts-noto-cjk; see README, Fonts)", title,
                 " ".join(missing[:40]) + (" ..." if len(missing) > 40 else ""))
    if any(t.get_gid() == _GID for t in fig.texts):
        return
    wanted = _note if _note is not None else i18n.t("plot.missing_glyphs")
    note = wanted if not missing_glyphs([wanted]) else MISSING_GLYPHS_NOTE
    height = fig.get_figheight()
    fig.text(0.01, 0.01, note, fontsize=8, color="#4a5568", ha="left", va="bottom", gid=_GID, wrap=True)
    fig.tight_layout(rect=(0, min(0.3, 0.32 / height), 1, 1))


def finish(ax: Axes, *, title: str, xlabel: str, ylabel: str, legend: bool | None = None) -> Axes:
    """Title and axis labels (with units) on every chart; tidy legend; a note in the chart when
    some characters have no installed font."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend is False and ax.get_legend() is not None:
        ax.get_legend().remove()
    elif legend:
        ax.legend(frameon=False)
    ax.figure.tight_layout()
    _mark_missing_glyphs(ax.figure, title)
    return ax
