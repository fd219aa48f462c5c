"""The chart style's fonts: CJK labels are drawn where a CJK font is installed (matplotlib itself
reports no missing glyph), regional forms follow the report language, a font installed after
matplotlib cached its font list is found, and where no CJK font exists a chart says so in
itself and once in the log instead of showing unexplained boxes."""

from __future__ import annotations

import logging
import warnings

import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from retention_kit.plots import common
from retention_kit.plots.common import MISSING_GLYPHS_NOTE, cjk_fonts, finish, missing_glyphs, new_ax, use_style

LABELS = ["瀏覽商品", "加入購物車", "领取优惠券", "お気に入り", "리뷰 작성"]
TITLE = "樂屋網 買家"


def _has_noto() -> bool:
    return any("Noto Sans CJK" in f.name for f in font_manager.fontManager.ttflist) or bool(cjk_fonts())


needs_cjk = pytest.mark.skipif(not _has_noto(), reason="no CJK font installed (CI installs fonts-noto-cjk)")


def _chart():
    ax = new_ax()
    ax.bar(LABELS, [5, 4, 3, 2, 1], label="用戶")
    return finish(ax, title=TITLE, xlabel="事件", ylabel="Users", legend=True)


def _reset_font_lookups() -> None:
    font_manager.fontManager._findfont_cached.cache_clear()
    common._add_new_cjk_files.cache_clear()
    common._union.cache_clear()


@pytest.fixture
def restore_style():
    saved = plt.rcParams.copy()
    yield
    plt.close("all")
    plt.rcParams.update(saved)
    common._note = MISSING_GLYPHS_NOTE


@pytest.fixture
def no_cjk_fonts(monkeypatch, restore_style):
    """A machine without any CJK font (and none to discover)."""
    kept = [f for f in font_manager.fontManager.ttflist if not common._CJK_FILE.search(f.fname)
            and f.name not in {n for names in common.CJK_FAMILIES.values() for n in names}]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)
    monkeypatch.setattr(common, "_add_new_cjk_files", lambda: 0)
    font_manager.fontManager._findfont_cached.cache_clear()
    common._union.cache_clear()
    yield
    monkeypatch.undo()
    _reset_font_lookups()


@needs_cjk
def test_every_cjk_script_is_drawn_without_a_missing_glyph(restore_style):
    use_style()
    fonts = plt.rcParams["font.family"]
    assert fonts[0] == "sans-serif" and len(fonts) >= 2, fonts  # Latin first, then CJK
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ax = _chart()
        ax.figure.canvas.draw()  # title, tick labels, legend: every text is laid out
    glyph = [str(w.message) for w in seen if "missing from font" in str(w.message)]
    assert glyph == []  # matplotlib's own check: no character fell back to a box
    assert missing_glyphs([TITLE, *LABELS, "事件", "用戶"]) == ""
    assert not [t for t in ax.figure.texts if t.get_gid() == "rk-missing-glyphs"]


@needs_cjk
def test_the_report_language_picks_the_regional_forms_first():
    # Noto Sans CJK: every face holds all scripts, so one family is enough and the language
    # only decides which region's
    assert cjk_fonts("zh-TW")[0].endswith(("TC", "TW", "HK"))
    assert cjk_fonts("zh-CN")[0].endswith(("SC", "CN"))
    assert cjk_fonts("ja")[0].endswith(("JP", "Sans"))
    assert cjk_fonts("ko")[0].endswith(("KR", " K"))
    assert cjk_fonts() == cjk_fonts("zh-TW") == cjk_fonts("en")


@needs_cjk
def test_a_font_installed_after_matplotlib_cached_its_list_is_found(monkeypatch, restore_style):
    # the cache built before `apt-get install fonts-noto-cjk` knows no CJK font
    stale = [f for f in font_manager.fontManager.ttflist if not common._CJK_FILE.search(f.fname)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    _reset_font_lookups()
    try:
        assert cjk_fonts(), "the installed CJK font files were not registered"
        assert any(common._CJK_FILE.search(f.fname) for f in font_manager.fontManager.ttflist)
    finally:
        monkeypatch.undo()
        _reset_font_lookups()


def test_without_any_cjk_font_the_chart_says_so_and_the_log_names_the_characters(no_cjk_fonts, caplog):
    use_style()
    assert plt.rcParams["font.family"] == ["sans-serif"]  # no family that is not installed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib's per-glyph warnings (they go to the run log)
        with caplog.at_level(logging.WARNING, logger="retention_kit.plots.common"):
            ax = _chart()
    notes = [t for t in ax.figure.texts if t.get_gid() == "rk-missing-glyphs"]
    assert [t.get_text() for t in notes] == [MISSING_GLYPHS_NOTE]
    assert missing_glyphs([MISSING_GLYPHS_NOTE]) == ""  # the note itself is drawn
    [record] = [r for r in caplog.records if "no installed font draws" in r.getMessage()]
    msg = record.getMessage()
    assert "瀏" in msg and "樂" in msg and "리" in msg and "fonts-noto-cjk" in msg
    assert "U" not in msg.split("draws")[1].split(";")[0]  # Latin letters are not "missing"
    # a second axes of the same figure adds no second note
    finish(ax, title=TITLE, xlabel="事件", ylabel="Users")
    assert len([t for t in ax.figure.texts if t.get_gid() == "rk-missing-glyphs"]) == 1


def test_a_translated_note_is_used_only_when_the_fonts_draw_it(no_cjk_fonts):
    use_style(missing_glyphs_note="圖中的方框代表此機器沒有字型的字元。")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = _chart()
    [note] = [t for t in ax.figure.texts if t.get_gid() == "rk-missing-glyphs"]
    assert note.get_text() == MISSING_GLYPHS_NOTE  # a Chinese note would be boxes too


def test_latin_charts_carry_no_note(restore_style):
    use_style()
    ax = new_ax()
    ax.plot([1, 2], [3, 4], label="weekly ≥ 3 × ÷ –")
    finish(ax, title="Retention", xlabel="Week", ylabel="Users (%)", legend=True)
    assert not [t for t in ax.figure.texts if t.get_gid() == "rk-missing-glyphs"]
