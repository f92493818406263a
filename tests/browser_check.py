"""Open report.html in headless Chromium and check what a reader would meet (`make check-report`).

Checks, each reported with what failed:
- every link of the contents (`nav#toc`) lands on an element of the page;
- every in-page link (`href="#..."`) has its target, and no link points to a file that is missing
  beside the report (links to the web are not followed: the report must work offline);
- the browser logged no console error;
- every image loaded (complete, with a natural width);
- print (`check_print`): with print media emulated on a window as wide as an A4 page's printable width
  (`PRINT_WIDTH_PX`: 210 mm less Chromium's default margins of 1 cm each side = 190 mm = 718 px at 96 dpi)
  and every <details> opened as printing opens them (the page's `beforeprint` handlers run, then every
  one is opened), no table, img or svg reaches beyond that width, and no code stub ("Code" summary of
  folded code), code or In[n]:/Out[n]: prompt is visible.

Needs Debian's `chromium` and `chromium-driver` (selenium drives them; nothing is downloaded).
Not part of `make test`, which stays Python-only. Usage: python tests/browser_check.py [report.html]
[--screenshot file.png]; `--self-test` checks the checker: each fault on a deliberately broken page is
caught (`make check-report` runs both).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--window-size=1400,1000"]


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


PAGE_WIDTH_MM, PRINT_MARGIN_MM = 210, 10  # A4; Chromium's default print margins (1 cm), which the report sets
PRINT_WIDTH_PX = int((PAGE_WIDTH_MM - 2 * PRINT_MARGIN_MM) / 25.4 * 96)  # 718 CSS px

PRINT_JS = """
const width = arguments[0];
window.dispatchEvent(new Event('beforeprint'));
document.querySelectorAll('details').forEach(d => { d.open = true; });
const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const where = el => {
  const all = Array.from(document.querySelectorAll('h1, h2, h3'));
  let last = null;
  for (const h of all) {
    if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) last = h; else break;
  }
  return last ? last.textContent.replace('¶', '').trim().slice(0, 60) : '(top)';
};
const wide = [], stubs = [];
document.querySelectorAll('table, img, svg').forEach((el, i) => {
  if (!shown(el) || (el.tagName.toLowerCase() === 'svg' && el.closest('svg') !== el)) return;
  const r = el.getBoundingClientRect();
  if (r.right > width + 0.5) wide.push([el.tagName.toLowerCase(), Math.round(r.right), where(el)]);
});
const prompt = /^\s*(In|Out)\s*\[\s*\d*\s*\]\s*:?\s*$/;
document.querySelectorAll('summary, .jp-InputPrompt, .jp-OutputPrompt, .jp-InputArea-editor, pre, div').forEach(el => {
  if (!shown(el)) return;
  const text = el.textContent.trim();
  if (el.tagName.toLowerCase() === 'summary') {
    if (/^\W*Code$/.test(text) || el.parentElement.classList.contains('code-fold')) stubs.push(['code stub', text, where(el)]);
  } else if (el.matches('.jp-InputArea-editor')) {
    stubs.push(['code', text.slice(0, 40), where(el)]);
  } else if (el.matches('.jp-InputPrompt, .jp-OutputPrompt') ? text : (el.children.length === 0 && prompt.test(text))) {
    stubs.push(['prompt', text.slice(0, 40), where(el)]);
  }
});
window.dispatchEvent(new Event('afterprint'));
return [wide, stubs];
"""


def check_print(driver, width: int = PRINT_WIDTH_PX) -> list[str]:
    """What a print of the page (print media, `width` px wide, every <details> open) would cut or show
    that a reader should not read: a table, img or svg beyond the printable width; a code stub, code or prompt."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})  # a printed page has none
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        wide, stubs = driver.execute_script(PRINT_JS, width)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    problems = [f"print: {tag} under {heading!r} reaches {right} px, beyond the printable width of {width} px"
                for tag, right, heading in wide]
    problems += [f"print: visible {kind} {text!r} under {heading!r}" for kind, text, heading in stubs]
    return problems


LINKS_JS = """
return Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), !!a.closest('nav#toc')]);
"""
IMAGES_JS = """
return Array.from(document.images).map((img, i) => [i, img.complete && img.naturalWidth > 0,
    (img.getAttribute('alt') || img.getAttribute('src') || '').slice(0, 60)]);
"""
TARGET_JS = """
const raw = arguments[0];  // as a browser does: the fragment as written, then percent-decoded
let decoded = raw; try { decoded = decodeURIComponent(raw); } catch (e) {}
const el = document.getElementById(raw) || document.getElementById(decoded) || document.getElementsByName(decoded)[0];
if (!el) return null;
el.scrollIntoView();
const r = el.getBoundingClientRect();
return [r.width > 0 || r.height > 0 || el.offsetParent !== null || el.closest('details') !== null, Math.round(r.top)];
"""


def check(report: Path, screenshot: Path | None = None, print_check: bool = True) -> list[str]:
    problems = []
    profile = Path(tempfile.mkdtemp(prefix="haic-chromium-"))
    driver = browser(profile)
    try:
        driver.get(report.resolve().as_uri())
        driver.execute_script("return document.readyState")
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        links = driver.execute_script(LINKS_JS)
        toc = [href for href, in_toc in links if in_toc]
        if not toc:
            problems.append("the page has no table of contents (nav#toc with links)")
        for href, in_toc in links:
            if href.startswith("#"):
                if href == "#":
                    continue
                found = driver.execute_script(TARGET_JS, href[1:])
                if found is None:
                    problems.append(f"{'contents ' if in_toc else ''}link {href} lands on no element")
                continue
            parsed = urlparse(href)
            if parsed.scheme in ("http", "https", "mailto"):
                continue
            if parsed.scheme in ("", "file"):
                target = (report.parent / unquote(parsed.path)).resolve() if not parsed.scheme else Path(unquote(parsed.path))
                if parsed.path and not target.exists():
                    problems.append(f"link {href} points to a missing file")
            elif parsed.scheme != "data":
                problems.append(f"link {href}: unexpected scheme {parsed.scheme}")
        for index, loaded, what in driver.execute_script(IMAGES_JS):
            if not loaded:
                problems.append(f"image {index} ({what}) did not load")
        if print_check:
            problems += check_print(driver)
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                problems.append(f"console error: {entry.get('message')}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return problems


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<nav id="toc"><ol><li><a href="#sec-a">A</a></li>{toc}</ol></nav>
<main><h1 id="sec-a">A</h1><p>text</p>
<details><summary>Paper vs this run</summary><table><tr><td>a narrow table in a closed block</td></tr></table></details>
<img alt="ok" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">
<a href="report.html">this page</a>{body}</main></body></html>"""
BREAKAGES = {  # name: (extra contents entries, extra body, what the check must report)
    "contents link to a missing anchor": ('<li><a href="#no-such-section">B</a></li>', "",
                                          "contents link #no-such-section lands on no element"),
    "link to a missing file": ("", '<a href="notebooks/missing.ipynb">gone</a>',
                               "link notebooks/missing.ipynb points to a missing file"),
    "broken image": ("", '<img alt="broken figure" src="figures/missing.png">', "image 1 (broken figure) did not load"),
    "console error": ("", "<script>console.error('deliberate error for the self-test')</script>",
                      "console error:"),
    "table too wide for print": ("", '<table style="width: 1000px"><tr><td>a cell of a table wider than an A4 page'
                                 '</td></tr></table>', "print: table under 'A' reaches 10"),
    "too wide table in a collapsed block": ("", '<details><summary>Appendix</summary><table style="width: 900px">'
                                            '<tr><td>hidden on screen, printed open</td></tr></table></details>',
                                            "print: table under 'A' reaches 9"),
    "code stub printed": ("", '<details class="code-fold"><summary>Code</summary><pre>x = 1</pre></details>',
                          "print: visible code stub 'Code'"),
    "prompt printed": ("", '<div class="jp-OutputPrompt">Out[3]:</div>', "print: visible prompt 'Out[3]:'"),
}


def self_test() -> int:
    """Check a clean page and one copy per fault (`BREAKAGES`): the clean one must pass, each broken one
    must be reported with its own problem. Returns 0 when every fault was caught."""
    failures = []
    folder = Path(tempfile.mkdtemp(prefix="haic-browser-selftest-"))
    try:
        clean = folder / "clean" / "report.html"
        clean.parent.mkdir()
        clean.write_text(PAGE.format(toc="", body=""), encoding="utf-8")
        problems = check(clean)
        if problems:
            failures.append(f"the clean page was reported: {problems}")
        for number, (name, (toc, body, expected)) in enumerate(BREAKAGES.items()):
            page = folder / f"broken{number}" / "report.html"
            page.parent.mkdir()
            page.write_text(PAGE.format(toc=toc, body=body), encoding="utf-8")
            problems = check(page)
            if not any(expected in p for p in problems):
                failures.append(f"{name}: not caught (problems reported: {problems})")
            else:
                print(f"check-report self-test: {name} caught")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if failures:
        print("check-report self-test FAILED:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    print(f"check-report self-test: the clean page passes and all {len(BREAKAGES)} faults are caught")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", default="outputs/report.html")
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--self-test", action="store_true",
                        help="instead: show that each fault (a contents link to a missing anchor, a link to a "
                             "missing file, a broken image, a console error, a table too wide for print, a "
                             "code stub or a prompt in print) is caught on a broken page")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    report = Path(args.report)
    if not report.is_file():
        print(f"check-report: {report} does not exist (make run first)", file=sys.stderr)
        return 2
    problems = check(report, args.screenshot)
    if problems:
        print(f"check-report: {len(problems)} problem(s) in {report}:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"check-report: {report} OK (contents, links, console, images, print at {PRINT_WIDTH_PX} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
