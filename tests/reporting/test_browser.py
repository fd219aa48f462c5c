"""Hostile content in a real browser: nothing from data or params runs, loads or logs; and a
product whose title, event and rung names are Chinese, Japanese and Korean renders every page
with nothing external, no warning text, and its names drawn in the charts.

A product whose event names, title, ladder rung names and user attribute values are script,
image-onerror, Markdown-link and CSS payloads is run through every notebook; each HTML page
(and the index) is opened from file:// in headless Chromium with every http(s) request routed
to a local recording proxy. The test asserts that no payload ran (each one would set
``data-pwned`` on the page's root element, visible in the dumped DOM), that the console stayed
silent (no errors, no messages at all: the reports carry no scripts), and that no request left
the file. Skipped only where no Chromium is installed (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import http.server
from html.parser import HTMLParser
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest

from retention_kit.plots.common import cjk_fonts
from retention_kit.reporting.render import machine_dirs
from retention_kit.reporting.runner import available_notebooks, run

from tests.reporting.shop import SHOP_EVENTS, SHOP_RUNGS, SHOP_TITLE, write_shop

PWN = "document.documentElement.dataset.pwned=1;window.__pwned=1"
PAYLOADS = [
    f"<script>{PWN}</script>",
    f'<img src=x onerror="{PWN}">',
    f"[click](javascript:{PWN})",
    f'<a href="javascript:{PWN}">link</a>',
    f"<svg onload={PWN}>",
    f'"><iframe src="javascript:{PWN}"></iframe>',
    f"<math><mtext><table><mglyph><style><img src=x onerror={PWN}>",
    "![beacon](http://beacon.invalid/markdown.png)",
    "<style>body{background:url(http://beacon.invalid/css.png)}</style>",
    "<link rel=stylesheet href=https://beacon.invalid/x.css>",
    "**bold** _em_ `code` | pipe | ~~strike~~ # hash",
    "line one\nline two\r\nline three",
    "🚀 launch 👩\u200d👩\u200d👧",
    "مرحبا שלום \u202egnp.exe",
    "{{7*7}} ${7*7} %s {0}",
]
TITLE = f"Shop <script>{PWN}</script> [x](javascript:{PWN}) <img src=x onerror=\"{PWN}\">"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--no-pings", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A 'proxy' that answers 404 to everything and remembers what was asked."""

    seen: list[tuple[str, str]] = []

    def _record(self) -> None:
        host = self.path.split("/")[2] if "://" in self.path else self.path.split(":")[0]
        self.seen.append((host, f"{self.command} {self.path}"))
        self.send_response(404)
        self.end_headers()

    do_GET = do_POST = do_CONNECT = do_HEAD = _record

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class Browser:
    """Headless Chromium with all http(s) traffic sent to a local recorder (network off)."""

    def __init__(self, exe: str):
        self.exe = exe
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), type("R", (_Recorder,), {"seen": []}))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.profile = tempfile.mkdtemp(prefix="rk-chromium-")
        # the browser's own background calls (time, updates, accounts) happen without any page
        # too: learn their hosts on an empty page, so only a page's own requests count
        blank = Path(self.profile) / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>")
        self.open(blank)
        self.baseline = {h for h, _ in self.requests()}

    @property
    def handler(self):
        return self.server.RequestHandlerClass

    def requests(self) -> list[tuple[str, str]]:
        return list(self.handler.seen)

    def _cmd(self, *extra: str) -> list[str]:
        port = self.server.server_address[1]
        return [self.exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--proxy-server=127.0.0.1:{port}",
                "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=3000", *extra]

    def open(self, page: Path) -> tuple[str, list[str]]:
        """The page's DOM after scripts ran, and the console lines it produced."""
        r = subprocess.run(self._cmd("--dump-dom", page.resolve().as_uri()), capture_output=True, text=True, timeout=120)
        console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
        return r.stdout, console

    def screenshot(self, page: Path, png: Path, *, width: int = 1200, height: int = 1500) -> None:
        subprocess.run(self._cmd(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri()),
                       capture_output=True, timeout=120, check=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.profile, ignore_errors=True)


class _Markup(HTMLParser):
    """Every tag, attribute and style text of a page, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _unsafe_markup(html: str) -> list[str]:
    """Active markup a page should never hold: script-capable tags, event-handler attributes,
    javascript: or remote URLs, remote URLs in CSS. The reports carry no scripts at all."""
    m = _Markup()
    m.feed(html)
    bad = []
    for tag, attrs in m.tags:
        if tag in {"script", "iframe", "svg", "math", "object", "embed", "frame", "base"} or (
                tag == "meta" and any(n == "http-equiv" for n, _ in attrs)):
            bad.append(f"<{tag}>")
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name.startswith("on"):
                bad.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data"} and (
                    v.startswith(("javascript:", "vbscript:", "http:", "https:", "//")) or "beacon" in v):
                bad.append(f"<{tag} {name}={value[:60]}>")
    bad += [f"<style> with {u}" for css in m.styles for u in re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", css)]
    return bad


def _hostile_product(tmp: Path) -> Path:
    rows = []
    for u in range(240):
        for d in range(0, 56, 1 + u % 5):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=d, hours=9 + u % 8)
            rows.append((f"uid-{u:04d}", day, "open"))
            rows.append((f"uid-{u:04d}", day + pd.Timedelta(minutes=5), PAYLOADS[(u + d) % len(PAYLOADS)]))
    pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).to_csv(tmp / "events.csv", index=False)
    pd.DataFrame({"user_id": [f"uid-{u:04d}" for u in range(240)],
                  "signup_time": [pd.Timestamp("2024-01-01") + pd.Timedelta(days=u % 20) for u in range(240)],
                  "plan": [PAYLOADS[u % 4] for u in range(240)]}).to_csv(tmp / "users.csv", index=False)
    params = {
        "product": "hostile", "title": TITLE,
        "data": {"source": "events.csv", "users": {"source": "users.csv", "attributes": ["plan"]}},
        "key_behaviors": {"segment_attributes": ["plan"]},
        "ladder": {"rungs": [{"name": PAYLOADS[0], "when": {"active_days": 1}},
                             {"name": PAYLOADS[2][:80], "when": {"event": PAYLOADS[1], "min": 1}},
                             {"name": PAYLOADS[1][:80], "when": {"active_days": 3}}]},
    }
    p = tmp / "hostile.yaml"
    p.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return p


@pytest.fixture(scope="module")
def browser():
    exe = find_browser()
    if exe is None:
        pytest.skip("no Chromium installed (CI installs Debian's chromium)")
    b = Browser(exe)
    yield b
    b.close()


@pytest.mark.slow
def test_hostile_content_never_runs_loads_or_logs(tmp_path, browser):
    out = tmp_path / "out"
    res = run([_hostile_product(tmp_path)], out=out, jobs=2, progress=False)
    assert {s.notebook for s in res.statuses} == set(available_notebooks())
    assert all(s.status == "ok" for s in res.statuses), [(s.notebook, s.message) for s in res.statuses]
    pages = sorted((out / "hostile").glob("*.html")) + [out / "index.html"]
    assert len(pages) == len(available_notebooks()) + 1

    executed, console_lines, leaks = 0, [], []
    for page in pages:
        before = len(browser.requests())
        dom, console = browser.open(page)
        assert "<body" in dom, page  # the page did render
        root = re.search(r"<html[^>]*>", dom).group(0)
        executed += "data-pwned" in root
        console_lines += [f"{page.name}: {ln}" for ln in console]
        leaks += [f"{page.name}: {req}" for host, req in browser.requests()[before:] if host not in browser.baseline]
        browser.screenshot(page, tmp_path / f"{page.stem}.png")
        assert (tmp_path / f"{page.stem}.png").stat().st_size > 5_000

        html = page.read_text(encoding="utf-8")
        bad = _unsafe_markup(html)
        assert not bad, (page.name, bad[:5])
        # show_user_ids is off: no user id on any page (the at-risk CSV export may hold them)
        assert not re.findall(r"uid-\d{4}", re.sub(r"data:image/[^\"']+", "", html)), page.name

    assert executed == 0, "a payload ran"
    assert not console_lines, console_lines
    assert not leaks, leaks
    # not vacuous: the payloads are on the pages, as text
    overview = (out / "hostile" / "overview.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in overview and "🚀 launch" in overview and "שלום" in overview
    assert "Shop &lt;script&gt;" in overview  # the title


@pytest.mark.slow
def test_cjk_pages_load_nothing_external_carry_no_warning_and_draw_their_names(tmp_path, browser, monkeypatch):
    # kernels draw figures inline, as for a reader (the suite's MPLBACKEND=Agg would leave them out)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    out = tmp_path / "out"
    res = run([write_shop(tmp_path)], out=out, jobs=2, progress=False)
    assert all(s.status == "ok" for s in res.statuses), [(s.notebook, s.message) for s in res.statuses]
    pages = sorted((out / "shop").glob("*.html")) + [out / "index.html"]
    assert len(pages) == len(available_notebooks()) + 1
    console_lines, leaks, images = [], [], 0
    for page in pages:
        before = len(browser.requests())
        dom, console = browser.open(page)
        assert "<body" in dom, page
        console_lines += [f"{page.name}: {ln}" for ln in console]
        leaks += [f"{page.name}: {req}" for host, req in browser.requests()[before:] if host not in browser.baseline]
        # the screenshots stay in the test's folder, to look at (the glyphs, not boxes)
        png = tmp_path / f"shop-{page.stem}.png"
        browser.screenshot(page, png, height=2400)
        assert png.stat().st_size > 5_000
        html = page.read_text(encoding="utf-8")
        content = re.sub(r"<style[^>]*>.*?</style>", "", html, flags=re.S)
        for noise in ("Glyph", "missing from font", "Warning:", "WARNING", "Traceback"):
            assert noise not in content, (page.name, noise)
        for folder in (*machine_dirs(), str(tmp_path)):
            assert folder not in html, (page.name, folder)
        images += content.count("<img")
    assert not console_lines, console_lines
    assert not leaks, leaks
    assert images >= 20  # the charts are on the pages
    overview = (out / "shop" / "overview.html").read_text(encoding="utf-8")
    assert SHOP_TITLE in overview and all(e in overview for e in SHOP_EVENTS)
    assert all(r in (out / "shop" / "ladder.html").read_text(encoding="utf-8") for r in SHOP_RUNGS)
    log = (out / "shop" / "run.log").read_text(encoding="utf-8")
    if cjk_fonts():  # every label was drawn: neither matplotlib nor the style found a missing glyph
        assert "missing from font" not in log and "no installed font draws" not in log, log[-2000:]


def screenshots(report_dir: Path, dest: Path, *, max_bytes: int = 300_000) -> list[Path]:
    """Screenshots of every page in ``report_dir`` (a product's folder) for the docs, as small
    palette PNGs: ``python -m tests.test_browser reports/demo docs/screenshots``."""
    from PIL import Image

    exe = find_browser()
    if exe is None:
        raise SystemExit("no Chromium found")
    b = Browser(exe)
    dest.mkdir(parents=True, exist_ok=True)
    made = []
    try:
        for page in sorted(report_dir.glob("*.html")):
            png = dest / f"{page.stem}.png"
            b.screenshot(page, png, width=1200, height=1500)
            img = Image.open(png).convert("RGB")
            img = img.resize((900, int(img.height * 900 / img.width)), Image.LANCZOS)
            for colours in (128, 64, 32):
                img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
                if png.stat().st_size <= max_bytes:
                    break
            made.append(png)
    finally:
        b.close()
    return made


if __name__ == "__main__":  # pragma: no cover
    import sys

    for p in screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(p, os.path.getsize(p))
