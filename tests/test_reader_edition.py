"""What a reader meets in the committed outputs (issue 18, "the reader's edition").

These read the build products in `outputs/` (`make run` writes them; `test_outputs_current` checks that they are
what the code and data give), as a reader opens them: the report in a browser, the executed notebooks, the Word file.
Each check failed on the outputs before the reader's edition (raw pandas frames, ids, NaN, default alt texts,
ruled Word tables without a repeated header, unprinted numbers without their class).
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "outputs"
REPORT = OUT / "report.html"
NBVIEW_DEFAULT_ALT = "No description has been provided for this image"
MARK = re.compile(r"<sup>\[(pinned|constrained|free)\]\(10_what_the_numbers_pin_down\.ipynb\)</sup>")


def _report() -> BeautifulSoup:
    return BeautifulSoup(REPORT.read_text(encoding="utf-8"), "html.parser")


def _reader_text(soup: BeautifulSoup) -> str:
    """The text a reader reads: no scripts, styles or code (folded code cells and their inputs)."""
    soup = BeautifulSoup(str(soup), "html.parser")
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    for tag in soup.find_all(class_=re.compile(r"jp-InputArea|jp-Cell-inputWrapper|code-fold")):
        tag.decompose()
    return soup.get_text(" ")


def _internal_names() -> set:
    """Names a reader must never meet: the data dictionary's column names and the published ids (those with '_')."""
    dictionary = pd.read_csv(ROOT / "data" / "data_dictionary.csv")
    published = pd.read_csv(ROOT / "data" / "published_results.csv")
    names = set(dictionary["column"]) | set(published["id"])
    return {n for n in names if "_" in n} | {"td_cox_sorafenib", "chi2_yates", "era_from2009"}


def _markdown_outputs(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return [out["data"]["text/markdown"] if isinstance(out["data"]["text/markdown"], str)
            else "".join(out["data"]["text/markdown"])
            for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if "text/markdown" in out.get("data", {})]


def _notebook(stem: str) -> Path:
    (path,) = (OUT / "notebooks").glob(f"{stem}*.ipynb")
    return path


def test_the_report_has_no_raw_frame_and_no_nan():
    soup = _report()
    raw = [t for t in soup.find_all("table") if "dataframe" in (t.get("class") or [])]
    assert not raw, f"{len(raw)} raw pandas tables in report.html, the first: {raw[0].get_text(' ')[:200]!r}"
    text = _reader_text(soup)
    nan = [m.group(0) for m in re.finditer(r".{40}\b(?:NaN|nan)\b.{20}", text)]
    assert not nan, nan[:5]


def test_no_internal_name_in_markdown_outputs_or_key_results():
    names = _internal_names()
    token = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
    found = {}
    for notebook in sorted((OUT / "notebooks").glob("*.ipynb")):
        for text in _markdown_outputs(notebook):
            hits = {t for t in token.findall(text) if t in names}
            if hits:
                found[notebook.name] = sorted(hits)
    key = _report().find(id="key-results")
    section = key.find_parent("div") if key is not None else None
    hits = {t for t in token.findall(_reader_text(section) if section is not None else "") if t in names}
    if hits:
        found["key results"] = sorted(hits)
    assert not found, found


def test_every_image_has_a_description():
    images = _report().find_all("img")
    assert images
    bad = [img.get("src", "")[:40] for img in images if not img.get("alt") or img["alt"] == NBVIEW_DEFAULT_ALT]
    assert not bad, f"{len(bad)} of {len(images)} images without a description"


def test_word_tables_repeat_their_header_and_have_no_inside_vertical_rules():
    with zipfile.ZipFile(OUT / "manuscript_tables.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", xml, flags=re.S)
    assert len(tables) >= 4
    for table in tables:
        first_row = re.search(r"<w:tr[ >].*?</w:tr>", table, flags=re.S).group(0)
        assert "<w:tblHeader" in first_row
        assert 'w:val="TableGrid"' not in table
        for rule in re.findall(r"<w:(?:insideV|left|right)\b[^>]*>", table):
            assert re.search(r'w:val="(?:nil|none)"', rule), rule


@pytest.mark.parametrize("stem, near", [
    ("01_", "Median follow-up"),            # one patient's time: the reverse Kaplan-Meier median
    ("04_", "Median follow-up"),
    ("05_", "salvage started a median of"),  # salvage delays, never printed by the paper
    ("07_", "switching on at its first dose"),  # the time-varying Cox model
])
def test_unprinted_numbers_carry_their_class_where_they_are_read(stem, near):
    texts = [t for t in _markdown_outputs(_notebook(stem)) if near in t]
    assert texts, f"no Markdown output of {stem} says {near!r}"
    assert all(MARK.search(t) for t in texts), texts[0][:300]


def test_time_varying_p_and_univariate_medians_carry_their_class():
    seven = "\n".join(_markdown_outputs(_notebook("07_")))
    assert re.search(r"Wald p = [0-9.<]+ " + MARK.pattern, seven)  # the time-varying Cox p
    nb = json.loads(_notebook("06_").read_text(encoding="utf-8"))
    html = "".join("".join(out["data"]["text/html"]) for cell in nb["cells"] if cell["cell_type"] == "code"
                   for out in cell.get("outputs", []) if "text/html" in out.get("data", {}))
    assert "Medians: what the paper determines" in html
    assert re.search(r"(pinned|constrained|free) / (pinned|constrained|free)", html)
    key = _reader_text(_report())
    assert re.search(r"time-varying", key) and re.search(r"\[(pinned|constrained|free)\]|(pinned|constrained|free)", key)
