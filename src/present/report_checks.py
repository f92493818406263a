"""What a reader of the report should not meet: a raw pandas table (`raw_frames`), a ``NaN`` (`nan_words`).

Both read the text a reader reads (`reader_soup`: no scripts, styles, code or prompts) and name the heading
each finding stands under, so that a test can read a built report with them.

Place in the import order: the presentation room (imports nothing of `src`).
"""
from __future__ import annotations

import re

def reader_soup(page):
    """*page* (HTML text) parsed, without what a reader does not read: scripts, styles, the code of code
    cells (folded or not) and their prompts."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser") if isinstance(page, str) else page
    for tag in soup.find_all(["script", "style", "template"]):
        tag.decompose()
    for tag in soup.select(".jp-CodeCell .jp-Cell-inputWrapper, details.code-fold, .jp-InputPrompt, "
                           ".jp-OutputPrompt"):  # (a Markdown cell's text is in its inputWrapper too)
        tag.decompose()
    return soup


def _where(element) -> str:
    """The heading an element stands under, as a reader finds it ("under 'Table 1'")."""
    heading = element.find_previous(["h1", "h2", "h3", "h4"])
    text = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading is not None else ""
    return f"under {text!r}" if text else "before any heading"


def raw_frames(page) -> list[str]:
    """The raw pandas tables (class ``dataframe``: an index column, machine names) in *page* (HTML text),
    each as "table <n> under '<heading>': <first column names>"; empty when there are none."""
    soup = reader_soup(page)
    found = []
    for number, table in enumerate(soup.find_all("table"), start=1):
        if "dataframe" not in table.get_attribute_list("class"):
            continue
        header = table.find("tr")
        names = [c.get_text(" ", strip=True) for c in header.find_all(["th", "td"])] if header is not None else []
        found.append(f"table {number} {_where(table)}: " + ", ".join(n for n in names[:6] if n))
    return found


_NAN = re.compile(r"(?<![\w.])(?:NaN|nan|NAN)(?![\w])")


def nan_words(page) -> list[str]:
    """Every ``NaN``/``nan`` standing as a word in the text a reader reads of *page* (HTML text; not in
    scripts, styles or the code of code cells), each as "<heading>: ...context..."."""
    soup = reader_soup(page)
    found = []
    for node in soup.find_all(string=_NAN):
        text = " ".join(str(node).split())
        for match in _NAN.finditer(text):
            context = text[max(0, match.start() - 40):match.end() + 40]
            found.append(f"{_where(node.parent) if node.parent is not None else ''}: {context}")
    return found
