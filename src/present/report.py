"""The report: every executed notebook on one offline HTML page a person can navigate.

`render_report(executed, bundled, private, summary, target)` merges the executed notebooks
(`merge_notebooks`), renders them with nbconvert's lab template without the scripts it would fetch
(`report_template/offline.html.j2`), then reshapes the page (`reshape`):

- a structured abstract at the top (`src/present/report_abstract.py`): a fixed **Question.**, the sections
  that the notebooks' `abstract`-tagged cells print (``**Cohort.** 67 patients ...``; one paragraph per section
  name, in notebook order) and the scorecard in words last (**Reproduction.**, from the runner's summary line),
  at most `ABSTRACT_MAX_WORDS` words (a longer one is rendered and logged), then the main figure (Figure 2)
  and the list of notebooks;
- the `parameters` and papermill's `injected-parameters` cells left out (the latter names the machine's
  folders), each notebook's "Paper vs this run" section moved to an appendix at the end;
- then `reshape` (`src/present/report_page.py`): a nested, sticky table of contents, unique heading anchors,
  Previous/Next links inside the page (`#nb-<notebook>`), code cells folded, the appendix collapsed, a print
  edition (A4: each notebook on a new page, tables and figures within `PRINT_WIDTH_PX`), and every image
  with an alt text: a figure's caption (`helpers.savefig` gives it as output metadata, the template writes
  it), else the heading it stands under.

`raw_frames(html)` and `nan_words(html)` (`src/present/report_checks.py`) list what a reader should not meet:
a raw pandas table, a `NaN`.

The lesson edition (`render_report(..., lesson=True)`, `python -m src.runner --lesson`, `make lesson`) is the same
page for a class: the chapters only (`is_chapter`: notebooks 01-`LESSON_LAST_CHAPTER`, with their glossaries and
exercises), under `LESSON_TITLE`, without the paper-vs-this-run sections (no appendix) and without the scorecard
in the abstract; a link to a notebook left out (a mark's link to notebook 10) becomes its plain text.

No date and no folder name is written, so identical runs give identical reports.
Place in the import order: the top of the presentation room (imports `config` and the report's modules
beside it; the runner calls it, handing it the scorecard's summary line).
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
from src.present.report_abstract import (ABSTRACT_MAX_WORDS, ABSTRACT_TAG, QUESTION,  # noqa: F401 (re-exported)
                                         abstract_markdown, abstract_parts, abstract_sections, plain_words,
                                         reproduction_sentence, scorecard_counts)
from src.present.report_checks import nan_words, raw_frames, reader_soup  # noqa: F401 (re-exported)
from src.present.report_page import (APPENDIX_HEADING, NO_ALT, PRINT_WIDTH_PX, REPORT_CSS,  # noqa: F401
                                     WIDE_TABLE_COLUMNS, elements_of, reshape)

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
MAIN_FIGURES = ("figure2_os_spp_by_salvage.svg", "os_all_patients.svg")  # the first one saved is shown
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


def intro_markdown(entries: Sequence[tuple[str, str, str]], bundled: bool, private: bool,
                   abstract: Sequence[tuple[str, str]] = (), figure: str | None = None, lesson: bool = False) -> str:
    """Markdown of the report's first cell: title, what the data are, the structured abstract
    (`abstract_sections`), the main figure (its SVG file, base64) as a data URI, as wide as the page, and the
    notebooks (titles and links);
    with *lesson*, `LESSON_TITLE` and `LESSON_NOTE`.

    *entries* are ``(notebook stem, anchor id, heading text)``. No date and no folder name."""
    lines = [f"# {LESSON_TITLE if lesson else REPORT_TITLE}", "", *([LESSON_NOTE, ""] if lesson else []),
             REPORT_SYNTHETIC_NOTE if bundled else REPORT_OWN_DATA_NOTE,
             *(["", REPORT_PRIVATE_NOTE] if private else []), ""]
    if abstract:
        lines += ["## Abstract", "", abstract_markdown(abstract), ""]
    if figure:
        lines += [f'<img alt="Main figure: overall survival and survival post-progression by salvage treatment" '
                  f'src="data:image/svg+xml;base64,{figure}" style="width: 100%;">', ""]
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
            elements = elements_of(soup)
            missing_alt = 0
            for elem in elements:  # img:not([alt])
                if elem.name == "img" and "alt" not in elem.attrs:
                    elem.attrs["alt"] = "No description has been provided for this image"
                    missing_alt += 1
            if missing_alt:
                self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
            focusable = {}  # .jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output
            for notebook in [e for e in elements if "jp-Notebook" in e.get_attribute_list("class")]:
                for elem in elements_of(notebook):
                    if elem.name == "div" and {"jp-Cell-inputWrapper", "jp-OutputArea-output"} & set(
                            elem.get_attribute_list("class")):
                        focusable[id(elem)] = elem
            for elem in focusable.values():
                elem.attrs["tabindex"] = "0"
            return soup, resources

    return ReportExporter
