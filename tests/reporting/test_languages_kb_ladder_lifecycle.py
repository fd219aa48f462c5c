"""The key-behaviour, ladder and lifecycle pages in zh-TW and zh-CN on the demo: every page
renders (a message missing from English would fail the run), no English sentence is left on
them, and the CSV exports are the English run's byte for byte (exports are contracts: column
names and values never change with the language)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from retention_kit.reporting.runner import EXIT_OK, run

from tests.factories import PARAMS
from tests.reporting.test_pages import visible_text

NOTEBOOKS = ["key_behaviors", "ladder", "lifecycle"]
LANGUAGES = ["en", "zh-TW", "zh-CN"]
# what the shared page scaffolding writes (reporting/, translated with it): the title block and
# the definitions shared by every report; removed before looking for English
_SCAFFOLD = [re.compile(p) for p in (
    r"(Key behaviours|Ladder of Engagement|Lifecycle and value): Demo Notes app",
    r"Data from \d{4}-\d\d-\d\d to .*?Report run on \d{4}-\d\d-\d\d\.",
    r"Definitions in force",
    r"Timezone : .*? zone\.", r"Week : starts on \w+\.", r"Active : a user is active .*?\)\.",
    r"Excluded events : never counted: [^.]*\.", r"Data range : .*? never as zero\.",
)]
# three or more Latin words in a row: a sentence or phrase left in English (event names such as
# invite_friend are one token; product names are data)
_ENGLISH = re.compile(r"[A-Za-z][A-Za-z'\-]*(?:[ ,;:]+[A-Za-z][A-Za-z'\-]*){2,}")
_DATA = {"Demo Notes app"}


def _english_left(page: str) -> list[str]:
    text = " ".join(visible_text(page).split())
    for p in _SCAFFOLD:
        text = p.sub(" ", text)
    return sorted({m.group(0) for m in _ENGLISH.finditer(text)} - _DATA)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("languages")
    demo = yaml.safe_load((PARAMS / "demo.yaml").read_text(encoding="utf-8"))
    paths = []
    for lang in LANGUAGES:
        path = folder / f"demo_{lang}.yaml"
        path.write_text(yaml.safe_dump({**demo, "product": f"demo_{lang.replace('-', '_')}", "language": lang},
                                       allow_unicode=True), encoding="utf-8")
        paths.append(path)
    res = run(paths, out=folder / "out", notebooks=NOTEBOOKS, jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [(s.product, s.notebook, s.message) for s in res.statuses if s.status != "ok"]
    return folder / "out"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh-TW", "zh-CN"])
def test_every_page_renders_with_no_english_left(runs, lang):
    out = runs / f"demo_{lang.replace('-', '_')}"
    left = {nb: _english_left((out / f"{nb}.html").read_text(encoding="utf-8")) for nb in NOTEBOOKS}
    assert not any(left.values()), left
    ladder = visible_text((out / "ladder.html").read_text(encoding="utf-8"))
    # rung names are data: the params' names stay, the kit's implicit rung is translated
    assert "Visitor" in ladder and "Creator" in ladder
    assert ("不活躍" if lang == "zh-TW" else "不活跃") in ladder and "Inactive" not in ladder
    kb = visible_text((out / "key_behaviors.html").read_text(encoding="utf-8"))
    assert "invite_friend" in kb and ("勝算比" if lang == "zh-TW" else "优势比") in kb


@pytest.mark.slow
def test_exports_do_not_change_with_the_language(runs):
    en = runs / "demo_en" / "data"
    csvs = sorted(p.name for p in en.glob("*.csv"))
    assert len(csvs) >= 8
    for lang in ("zh_TW", "zh_CN"):
        other = runs / f"demo_{lang}" / "data"
        assert sorted(p.name for p in other.glob("*.csv")) == csvs
        for name in csvs:
            assert (other / name).read_bytes() == (en / name).read_bytes(), (lang, name)


def test_the_english_check_sees_a_sentence_and_ignores_data_and_scaffolding():
    page = ("<h1>Key behaviours: Demo Notes app</h1><p>做過 <code>invite_friend</code> 的用戶</p>"
            "<p>Definitions in force</p><p>the rungs are in order</p>")
    assert _english_left(page) == ["the rungs are in order"]
