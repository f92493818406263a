"""The report: every executed notebook on one offline HTML page a person can navigate.

`render_report(executed, bundled, private, summary, target)` merges the executed notebooks
(`merge_notebooks`), renders them with nbconvert's lab template without the scripts it would fetch
(`report_template/offline.html.j2`), then reshapes the page (`reshape`):

- a structured abstract at the top (`abstract_sections`): a fixed **Question.**, the sections that the
  notebooks' `abstract`-tagged cells print (``**Cohort.** 67 patients ...``; one paragraph per section name,
  in notebook order) and the scorecard in words last (**Reproduction.**), at most `ABSTRACT_MAX_WORDS`
  words (a longer one is rendered and logged), then the main figure (Figure 2) and the list of notebooks;
- a nested, sticky table of contents (notebooks, their sections);
- unique heading anchors (a second "Glossary" gets its own id), and Previous/Next links that
  point inside the page (`#nb-<notebook>`) instead of to `.ipynb` files that are not beside it;
- code cells folded (one click opens them), the `parameters` and papermill's `injected-parameters`
  cells left out (the latter names the machine's folders);
- each notebook's "Paper vs this run" section moved to a collapsed appendix at the end;
- a print edition (`REPORT_CSS`, `PRINT_SCRIPT`; A4): each notebook on a new page, no contents, code or
  prompts, the appendix open, tables and figures within the printable width (`PRINT_WIDTH_PX`);
- every image with an alt text: a figure's caption (`helpers.savefig` gives it as output metadata, the
  template writes it), else the heading it stands under.

`raw_frames(html)` and `nan_words(html)` list what a reader should not meet: a raw pandas table, a `NaN`.

The lesson edition (`render_report(..., lesson=True)`, `python -m src.runner --lesson`, `make lesson`) is the same
page for a class: the chapters only (`is_chapter`: notebooks 01-`LESSON_LAST_CHAPTER`, with their glossaries and
exercises), under `LESSON_TITLE`, without the paper-vs-this-run sections (no appendix) and without the scorecard
in the abstract; a link to a notebook left out (a mark's link to notebook 10) becomes its plain text.

No date and no folder name is written, so identical runs give identical reports.
Place in the import order: the pipeline (above tables and the comparison with the paper; imported by
the runner only).
"""
from __future__ import annotations

import base64
import copy
import html
import logging
import re
from pathlib import Path
from typing import Sequence
from xml.etree import ElementTree

from src.config import SYNTHETIC_NOTE_REPORT

REPORT_TITLE = "HAIC-SPP reproduction: executed analysis notebooks"
REPORT_SYNTHETIC_NOTE = SYNTHETIC_NOTE_REPORT  # the report's wording (`config`: one per medium)
REPORT_OWN_DATA_NOTE = (
    "Every number, table and figure below was computed on the data given to the "
    "run (its folder is not named here), not on the bundled synthetic cohort."
)
REPORT_PRIVATE_NOTE = (
    "The notebooks ran in private mode: aggregates only, and the output was searched "
    "for every identifier and date of the input before it was published."
)
REPORT_TEMPLATE = Path(__file__).resolve().parent / "report_template" / "offline.html.j2"
HIDDEN_TAGS = {"parameters", "injected-parameters"}
APPENDIX_HEADING = "Paper vs this run"
MAIN_FIGURES = ("figure2_os_spp_by_salvage.png", "os_all_patients.png")
ABSTRACT_TAG = "abstract"  # a code cell so tagged prints Markdown sections: "**Cohort.** 67 patients ..."
ABSTRACT_MAX_WORDS = 250
QUESTION = ("In advanced hepatocellular carcinoma that progressed during hepatic arterial infusion chemotherapy "
            "(HAIC) with cisplatin powder, did the patients who then received sorafenib live longer after "
            "progression than those given another salvage option?")
NO_ALT = "No description has been provided for this image"  # nbconvert's alt text for an image without one
# A4 (210 mm) less Chromium's default print margins (1 cm each side; REPORT_CSS sets them explicitly with
# @page), at 96 CSS pixels per inch: 190 mm = 718.1 px. Nothing printed may reach beyond it.
PRINT_WIDTH_PX = 718
WIDE_TABLE_COLUMNS = 6  # a table with this many columns or more prints in a smaller font
LESSON_NAME = "lesson.html"
LESSON_LAST_CHAPTER = 7  # the chapters: 01-07; the scorecard (08), audit (09) and reconstruction (10) are not
LESSON_TITLE = "HAIC-SPP: survival analysis in seven chapters (lesson edition)"
LESSON_NOTE = ("A lesson edition: the chapters (notebooks 01-07), each with its glossary, exercises and further "
               "reading. The scorecard, the audit of the printed numbers, the reconstruction notebook and the "
               "paper-vs-this-run appendix are left out; the full report has them.")

_H1 = re.compile(r"^#\s+(\S.*?)\s*#*\s*$")
_H2 = re.compile(r"^##\s+(\S.*?)\s*#*\s*$")


def is_chapter(path) -> bool:
    """Whether the notebook *path* (``NN_name.ipynb``) is a chapter of the lesson: NN at most `LESSON_LAST_CHAPTER`."""
    match = re.match(r"(\d+)_", Path(path).name)
    return bool(match) and 1 <= int(match.group(1)) <= LESSON_LAST_CHAPTER


def find_title(nb) -> str | None:
    """The first level-1 markdown heading (``# Title``) of notebook *nb*."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = _H1.match(line)
            if match:
                return match.group(1)
    return None


def heading_anchor(title: str) -> tuple[str, str]:
    """``(anchor id, plain text)`` that nbconvert gives the heading ``# title``."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(f"# {title}").strip()
    try:
        element = ElementTree.fromstring(rendered)
    except ElementTree.ParseError:
        return "", title
    for link in element.findall("a"):
        element.remove(link)
    return element.get("id", ""), "".join(element.itertext()).strip() or title


def _section_of(cell) -> str | None:
    """The text of a markdown cell's first ``## heading`` line, if it starts with one."""
    if cell.cell_type != "markdown":
        return None
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    match = _H2.match(first)
    return match.group(1) if match else None


_SECTION_START = re.compile(r"(?m)^[ \t]*(?=\*\*[^*\n]+\*\*)")  # a paragraph that starts in bold
_SECTION = re.compile(r"\s*\*\*\s*([^*\n]+?)\s*\*\*\s*(.*)", re.S)
_LIST_MARK = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")


def _output_markdown(output) -> str:
    """The Markdown text of an output (``text/markdown`` of an execute_result or display_data), else ""."""
    text = output.get("data", {}).get("text/markdown") if output.get("output_type") in (
        "execute_result", "display_data") else None
    if not text:
        return ""
    return "".join(text) if isinstance(text, list) else str(text)


def abstract_parts(cells) -> list[tuple[str, str]]:
    """``(section name, text)`` of every section that the code cells tagged `ABSTRACT_TAG` print, in
    cell order: each Markdown output paragraph that starts with a bold name (``**Cohort.** 67 patients ...``)
    starts a section (its name without the final full stop); its text, lists and line breaks included,
    becomes one line. Other outputs of those cells, and text before the first bold name, are left out."""
    parts = []
    for cell in cells:
        if cell.get("cell_type") != "code" or ABSTRACT_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            for chunk in _SECTION_START.split(_output_markdown(output)):
                match = _SECTION.fullmatch(chunk)
                if not match:
                    continue
                name = match.group(1).strip().rstrip(".:").strip()
                text = " ".join(_LIST_MARK.sub("", match.group(2)).split())
                if name and text:
                    parts.append((name, text))
    return parts


def scorecard_counts(summary: str | None, folder: Path | None = None) -> dict[str, int] | None:
    """``{status: count}`` of the scorecard: read from the runner's summary line (``scorecard: 238 match,
    5 differs, 10 not reproducible, 0 not computed``, `src.paper.summarize_scorecard`), else counted in
    *folder*/scorecard.csv; None when there is no scorecard."""
    from src.paper.compare import SCORECARD_STATUSES

    if summary:
        found = dict((status, int(n)) for n, status in re.findall(
            r"(\d+) (" + "|".join(map(re.escape, sorted(SCORECARD_STATUSES, key=len, reverse=True))) + r")\b",
            summary))
        if found:
            return {status: found.get(status, 0) for status in SCORECARD_STATUSES}
    if folder is not None and (folder / "scorecard.csv").is_file():
        import csv

        with (folder / "scorecard.csv").open(newline="", encoding="utf-8") as handle:
            statuses = [row.get("status", "") for row in csv.DictReader(handle)]
        if statuses:
            counts = {status: statuses.count(status) for status in SCORECARD_STATUSES}
            other = len(statuses) - sum(counts.values())
            return {**counts, **({"other": other} if other else {})}
    return None


def reproduction_sentence(counts: dict[str, int] | None, appendix: bool = True) -> str:
    """The scorecard in words: "238 of 253 printed numbers reproduced, 5 differ, 10 cannot be reproduced;
    see the appendix." ("" without a scorecard)."""
    if not counts:
        return ""
    total = sum(counts.values())
    if not total:
        return ""
    parts = [f"{counts.get('match', 0)} of {total} printed number{'s' if total != 1 else ''} reproduced"]
    differ = counts.get("differs", 0)
    if differ:
        parts.append(f"{differ} differ{'s' if differ == 1 else ''}")
    if counts.get("not reproducible", 0):
        parts.append(f"{counts['not reproducible']} cannot be reproduced")
    if counts.get("not computed", 0):
        parts.append(f"{counts['not computed']} not computed (their notebooks did not run)")
    if counts.get("other", 0):
        parts.append(f"{counts['other']} of another status")
    where = "; see the [appendix](#appendix)." if appendix else "."
    return ", ".join(parts) + where


def abstract_sections(parts: Sequence[tuple[str, str]], reproduction: str = "",
                      question: str = QUESTION) -> list[tuple[str, str]]:
    """The abstract's paragraphs ``(name, text)``: **Question.** first, then the notebooks' sections in the
    order they first appear, each name once (the texts of one name joined into one paragraph; names
    compared without case), **Reproduction.** (the scorecard in words) last."""
    merged: dict[str, list] = {"question": ["Question", [question] if question else []]}
    for name, text in parts:
        merged.setdefault(name.lower(), [name, []])[1].append(text)
    tail = merged.pop("reproduction", ["Reproduction", []])
    if reproduction:
        tail[1].append(reproduction)
    sections = [(name, " ".join(texts)) for name, texts in merged.values() if texts]
    return sections + ([(tail[0], " ".join(tail[1]))] if tail[1] else [])


def abstract_markdown(sections: Sequence[tuple[str, str]]) -> str:
    """The abstract as Markdown: one paragraph per section, its name in bold (``**Question.** ...``)."""
    return "\n\n".join(f"**{name}.** {text}" for name, text in sections)


def plain_words(markdown: str) -> list[str]:
    """The words a reader reads in *markdown* (emphasis marks, code ticks, tags and link targets left out)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", " ", text)  # tags, not "<1.0" or "p < 0.05"
    text = re.sub(r"[*`]+|(?<!\w)_+|_+(?!\w)", "", text)
    return text.split()


def intro_markdown(entries: Sequence[tuple[str, str, str]], bundled: bool, private: bool,
                   abstract: Sequence[tuple[str, str]] = (), figure: str | None = None, lesson: bool = False) -> str:
    """Markdown of the report's first cell: title, what the data are, the structured abstract
    (`abstract_sections`), the main figure as a data URI and the notebooks (titles and links);
    with *lesson*, `LESSON_TITLE` and `LESSON_NOTE`.

    *entries* are ``(notebook stem, anchor id, heading text)``. No date and no folder name."""
    lines = [f"# {LESSON_TITLE if lesson else REPORT_TITLE}", "", *([LESSON_NOTE, ""] if lesson else []),
             REPORT_SYNTHETIC_NOTE if bundled else REPORT_OWN_DATA_NOTE,
             *(["", REPORT_PRIVATE_NOTE] if private else []), ""]
    if abstract:
        lines += ["## Abstract", "", abstract_markdown(abstract), ""]
    if figure:
        lines += [f'<img alt="Main figure: overall survival and survival post-progression by salvage treatment" '
                  f'src="data:image/png;base64,{figure}" style="max-width: 100%;">', ""]
    items = [f'<li><a href="#nb-{html.escape(stem)}">{html.escape(text)}</a></li>' for stem, _anchor, text in entries]
    lines += ["## Chapters" if lesson else "## Notebooks", "", '<ul class="report-notebooks">\n' + "\n".join(items) + "\n</ul>"]
    return "\n".join(lines)


def merge_notebooks(executed: Sequence[Path], bundled: bool, private: bool, summary: str | None,
                    figures_dir: Path | None = None, scorecard_dir: Path | None = None, lesson: bool = False):
    """One nbformat notebook: the intro (the abstract, from the notebooks' `abstract` cells and the scorecard:
    *summary*, else *scorecard_dir*/scorecard.csv), every executed notebook (an anchor ``nb-<stem>`` first, the
    parameter cells left out, its "Paper vs this run" section moved out), then the appendix with
    those sections, each between markers that `reshape` turns into a collapsed block.

    A notebook without a ``# Title`` heading gets one (its file stem). Cell ids are renumbered so that
    they stay unique and deterministic. With *lesson* (the lesson edition), the "Paper vs this run" sections
    are left out instead of moved (no appendix) and the abstract has no scorecard."""
    import nbformat

    merged = nbformat.v4.new_notebook()
    entries, cells, appendix, parts = [], [], [], []
    for number, path in enumerate(executed, start=1):
        nb = nbformat.read(path, as_version=4)
        if number == 1:
            merged.metadata = {k: copy.deepcopy(nb.metadata[k]) for k in ("kernelspec", "language_info")
                               if k in nb.metadata}
        title = find_title(nb)
        own = [copy.deepcopy(cell) for cell in nb.cells
               if not HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", []))]
        if title is None:
            title = path.stem
            own.insert(0, nbformat.v4.new_markdown_cell(f"# {title}"))
        anchor, text = heading_anchor(title)
        entries.append((path.stem, anchor, text))
        parts += abstract_parts(own)
        body, moved, inside = [], [], False
        for cell in own:
            section = _section_of(cell)
            if section is not None:
                inside = section == APPENDIX_HEADING
            (moved if inside else body).append(cell)
        start = nbformat.v4.new_markdown_cell(f'<div class="nb-start" id="nb-{path.stem}"></div>')
        for index, cell in enumerate([start, *body]):
            cell["id"] = f"nb{number:02d}-c{index:04d}"
            cell.get("metadata", {}).pop("papermill", None)
        cells += [start, *body]
        if moved and not lesson:
            moved[0] = nbformat.v4.new_markdown_cell(f"### {text}")  # the section's own heading, renamed
            opening = nbformat.v4.new_markdown_cell(f'<div class="appendix-start" data-title="{html.escape(text)}"></div>')
            closing = nbformat.v4.new_markdown_cell('<div class="appendix-end"></div>')
            for index, cell in enumerate([opening, *moved, closing]):
                cell["id"] = f"nb{number:02d}-a{index:04d}"
                cell.get("metadata", {}).pop("papermill", None)
            appendix += [opening, *moved, closing]
    figure = None
    for name in MAIN_FIGURES:
        if figures_dir is not None and (figures_dir / name).is_file():
            figure = base64.b64encode((figures_dir / name).read_bytes()).decode("ascii")
            break
    counts = None if lesson else scorecard_counts(summary, scorecard_dir)
    abstract = abstract_sections(parts, reproduction_sentence(counts, appendix=bool(appendix)))
    words = len(plain_words(abstract_markdown(abstract)))
    if words > ABSTRACT_MAX_WORDS:
        logging.getLogger(__name__).warning("warning: the report's abstract has %d words (at most %d)",
                                            words, ABSTRACT_MAX_WORDS)
    intro = nbformat.v4.new_markdown_cell(intro_markdown(entries, bundled, private, abstract, figure, lesson))
    intro["id"] = "report-intro"
    tail = []
    if appendix:
        heading = nbformat.v4.new_markdown_cell(
            f'<div id="appendix"></div>\n\n# Appendix: {APPENDIX_HEADING.lower()}\n\n'
            "Each notebook's published numbers beside the ones computed "
            "here (open a block to read it); all of them in `scorecard.csv`.")
        heading["id"] = "report-appendix"
        tail = [heading, *appendix]
    merged.cells = [intro, *cells, *tail]
    return merged


REPORT_CSS = """
body { margin: 0; }
#report-layout { display: flex; align-items: flex-start; }
#toc { position: sticky; top: 0; flex: 0 0 17rem; max-height: 100vh; overflow-y: auto; font-size: 0.85rem;
       padding: 1rem 0.8rem; border-right: 1px solid #ddd; background: #fafafa; box-sizing: border-box; }
#toc ol { list-style: none; padding-left: 0.8rem; margin: 0.2rem 0; }
#toc > ol { padding-left: 0; }
#toc li { margin: 0.15rem 0; }
#toc a { text-decoration: none; color: #0b4f8a; }
#toc .toc-title { font-weight: bold; margin-bottom: 0.4rem; }
#report-main { flex: 1 1 auto; min-width: 0; }
details.code-fold > summary { cursor: pointer; color: #555; font-size: 0.8rem; margin: 0.2rem 0 0.2rem 1rem; }
details.appendix { margin: 0.6rem 1rem; border: 1px solid #ddd; border-radius: 4px; padding: 0.2rem 0.6rem; }
details.appendix > summary { cursor: pointer; font-weight: bold; }
@page { size: A4; margin: 10mm; }
@media print {
  #toc, details.code-fold, .jp-InputPrompt, .jp-OutputPrompt, .jp-InputArea-prompt, .jp-OutputArea-prompt {
    display: none !important; }
  #report-layout, #report-main { display: block; }
  .nb-section-start { break-before: page; }
  h1, h2, h3, h4 { break-after: avoid; }
  img, svg, tr, .jp-RenderedImage { break-inside: avoid; }
  details::details-content { content-visibility: visible; display: contents; }
  details.appendix { border: none; padding: 0; margin: 0.6rem 0; }
  details > summary { list-style: none; }
  details > summary::-webkit-details-marker { display: none; }
  .jp-Notebook, .jp-Cell, .jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-OutputArea-child,
  div[style*="overflow"] { overflow: visible !important; max-width: 100% !important; padding-left: 0 !important;
    padding-right: 0 !important; box-sizing: border-box; }
  table, table.dataframe, .gt_table { max-width: 100% !important; width: auto !important;
    table-layout: auto !important; margin-left: 0 !important; }
  th, td { white-space: normal !important; overflow-wrap: anywhere !important; word-wrap: break-word; }
  .gt_table { font-size: 9pt !important; }
  table.wide-table, table.wide-table th, table.wide-table td { font-size: 7pt !important; }
  table.wide-table th, table.wide-table td { padding: 1px 3px !important; }
  img, svg { max-width: 100% !important; height: auto !important; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
}
"""
# Printing opens every collapsed block but the folded code (which print hides), and closes them again after:
# the CSS above shows a closed block's content in print already (details::details-content), this makes
# browsers without that selector print it too.
PRINT_SCRIPT = """
(function () {
  var opened = [];
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details:not([open]):not(.code-fold)').forEach(function (d) {
      d.open = true; opened.push(d); });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; }); opened = [];
  });
})();
"""


def _columns(table) -> int:
    """The number of columns of an HTML table (its widest row, colspans counted)."""
    widest = 0
    for row in table.find_all("tr"):
        width = 0
        for cell in row.find_all(["td", "th"], recursive=False):
            try:
                width += max(1, int(cell.get("colspan", 1)))
            except ValueError:
                width += 1
        widest = max(widest, width)
    return widest


def _reader_text(page):
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
    soup = _reader_text(page)
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
    soup = _reader_text(page)
    found = []
    for node in soup.find_all(string=_NAN):
        text = " ".join(str(node).split())
        for match in _NAN.finditer(text):
            context = text[max(0, match.start() - 40):match.end() + 40]
            found.append(f"{_where(node.parent) if node.parent is not None else ''}: {context}")
    return found



def _elements(root) -> list:
    """The elements (tags) below *root*, in page order."""
    from bs4 import Tag

    return [node for node in root.descendants if isinstance(node, Tag)]


def reshape(page, unlink_missing: bool = False) -> str:
    """Unique heading ids, in-page Previous/Next links, folded code, the collapsed appendix and the
    sticky nested contents (see the module docstring); returns the new page. *page* is the HTML text
    or that text already parsed by BeautifulSoup's "html.parser" (changed in place). With *unlink_missing*
    (the lesson edition), a link to a notebook that is not on the page becomes its plain text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser") if isinstance(page, str) else page
    main = soup.find("main") or soup.body
    # every element, listed once in page order (rather than one search of the page per kind below);
    # the steps below change attributes and move elements, but add or remove none of these
    everything = _elements(soup)
    inside = _elements(main)
    # unique heading ids (nbconvert gives every "Glossary" the same one)
    seen, headings = {}, []
    for h in [t for t in inside if t.name in ("h1", "h2", "h3")]:
        hid = h.get("id")
        if not hid:
            continue
        base, k = hid, seen.get(hid, 0)
        if k:
            hid = f"{base}-{k + 1}"
            while hid in seen:
                k += 1
                hid = f"{base}-{k + 1}"
            h["id"] = hid
            for link in h.find_all("a", class_="anchor-link"):
                link["href"] = f"#{hid}"
        seen[base] = seen.get(base, 0) + 1
        seen.setdefault(hid, 1)
        headings.append(h)
    # links to a notebook of the report point inside the page
    ids = {tag["id"] for tag in everything if tag.get("id") is not None}
    for link in [t for t in everything if t.name == "a" and t.get("href") is not None]:
        match = re.fullmatch(r"(?:\./)?(\d\d_[A-Za-z0-9_]+)\.ipynb(#.*)?", link["href"])
        if match and f"nb-{match.group(1)}" in ids:
            link["href"] = f"#nb-{match.group(1)}"
        elif match and unlink_missing:
            link.unwrap()
    # code folded by default
    for cell in [t for t in inside if t.name == "div" and "jp-CodeCell" in t.get_attribute_list("class")]:
        wrapper = cell.find("div", class_="jp-Cell-inputWrapper")
        if wrapper is not None:
            details = soup.new_tag("details", attrs={"class": "code-fold"})
            summary = soup.new_tag("summary")
            summary.string = "Code"
            wrapper.wrap(details)
            details.insert(0, summary)
    # each notebook's paper-vs-this-run section collapsed in the appendix
    for marker in [t for t in inside if t.name == "div" and "appendix-start" in t.get_attribute_list("class")]:
        start_cell = marker.find_parent("div", class_="jp-Cell")
        details = soup.new_tag("details", attrs={"class": "appendix"})
        summary = soup.new_tag("summary")
        summary.string = f"{APPENDIX_HEADING}: {marker.get('data-title', '')}"
        details.append(summary)
        node = start_cell.find_next_sibling()
        while node is not None and not node.find("div", class_="appendix-end"):
            following = node.find_next_sibling()
            details.append(node.extract())
            node = following
        start_cell.replace_with(details)
        if node is not None:
            node.decompose()
    # print: each notebook (and the appendix) starts a page; a wide table prints in a smaller font
    inside = [t for t in inside if not t.decomposed]  # (the appendix's end markers are gone)
    for marker in [t for t in inside if t.get("id") == "appendix"
                   or (t.name == "div" and "nb-start" in t.get_attribute_list("class"))]:
        cell = marker.find_parent("div", class_="jp-Cell")
        if cell is not None and "nb-section-start" not in cell.get_attribute_list("class"):
            cell["class"] = cell.get_attribute_list("class") + ["nb-section-start"]
    for table in [t for t in inside if t.name == "table"]:
        if _columns(table) >= WIDE_TABLE_COLUMNS:
            table["class"] = [c for c in table.get_attribute_list("class") if c] + ["wide-table"]
    # every image described: a figure without a caption of its own by the heading it stands under
    for img in [t for t in inside if t.name == "img"]:
        if not img.get("alt") or img.get("alt") == NO_ALT:
            heading = img.find_previous(["h1", "h2", "h3"])
            text = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading is not None else ""
            img["alt"] = f"Figure: {text}" if text else "Figure"
    # nested contents: notebooks (h1) and their sections (h2)
    nav = soup.new_tag("nav", attrs={"id": "toc", "aria-label": "Contents"})
    title = soup.new_tag("div", attrs={"class": "toc-title"})
    title.string = "Contents"
    nav.append(title)
    top = soup.new_tag("ol")
    nav.append(top)
    current = None
    for h in headings:  # those with an id, in page order (moving the appendix kept the order)
        if h.name == "h3" or h.find_parent("details", class_="appendix"):
            continue
        text = h.get_text(" ", strip=True).rstrip("¶").strip()
        item = soup.new_tag("li")
        link = soup.new_tag("a", href=f"#{h['id']}")
        link.string = text
        item.append(link)
        if h.name == "h1":
            top.append(item)
            current = soup.new_tag("ol")
            item.append(current)
        elif current is not None:
            current.append(item)
    for sub in nav.find_all("ol"):
        if not sub.find("li"):
            sub.decompose()
    layout = soup.new_tag("div", attrs={"id": "report-layout"})
    content = soup.new_tag("div", attrs={"id": "report-main"})
    main.wrap(content)
    content.wrap(layout)
    layout.insert(0, nav)
    style = soup.new_tag("style")
    style.string = REPORT_CSS
    (soup.head or soup).append(style)
    script = soup.new_tag("script")
    script.string = PRINT_SCRIPT
    (soup.head or soup).append(script)
    return str(soup)


def render_report(executed: Sequence[Path], bundled: bool, private: bool, summary: str | None, target: Path,
                  figures_dir: Path | None = None, lesson: bool = False) -> None:
    """Render the executed notebooks into one self-contained HTML page *target* (see the module docstring);
    *lesson*: the lesson edition, of the chapters among *executed* only (`is_chapter`)."""
    if lesson:
        executed = [path for path in executed if is_chapter(path)]
    merged = merge_notebooks(executed, bundled, private, summary, figures_dir, scorecard_dir=target.parent,
                             lesson=lesson)
    exporter = _exporter_class()(template_name="lab", template_file=REPORT_TEMPLATE.name,
                                 extra_template_paths=[str(REPORT_TEMPLATE.parent)], exclude_input_prompt=True,
                                 embed_images=True)
    resources = {"metadata": {"name": LESSON_TITLE if lesson else REPORT_TITLE, "path": "notebooks"}}
    soup, _ = exporter.soup_from_notebook_node(merged, resources=resources)
    target.write_text(reshape(soup, unlink_missing=lesson), encoding="utf-8")


def _exporter_class():
    """nbconvert's `HTMLExporter` that also gives its page as the BeautifulSoup it finishes it on
    (`soup_from_notebook_node`), so that `reshape` goes on with that tree instead of parsing the
    page's text again (a parse and a serialisation of the whole page less; the same bytes)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def soup_from_notebook_node(self, nb, resources=None, **kw):
            """`HTMLExporter.from_notebook_node` (nbconvert 7.17), returning the soup instead of its text."""
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            soup = BeautifulSoup(page, features="html.parser")
            # nbconvert's three CSS selections, by one walk of the page (soupsieve searches it three times)
            elements = _elements(soup)
            missing_alt = 0
            for elem in elements:  # img:not([alt])
                if elem.name == "img" and "alt" not in elem.attrs:
                    elem.attrs["alt"] = "No description has been provided for this image"
                    missing_alt += 1
            if missing_alt:
                self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
            focusable = {}  # .jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output
            for notebook in [e for e in elements if "jp-Notebook" in e.get_attribute_list("class")]:
                for elem in _elements(notebook):
                    if elem.name == "div" and {"jp-Cell-inputWrapper", "jp-OutputArea-output"} & set(
                            elem.get_attribute_list("class")):
                        focusable[id(elem)] = elem
            for elem in focusable.values():
                elem.attrs["tabindex"] = "0"
            return soup, resources

    return ReportExporter
