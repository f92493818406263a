"""The report: every executed notebook on one offline HTML page a person can navigate.

`render_report(executed, bundled, private, summary, target)` merges the executed notebooks
(`merge_notebooks`), renders them with nbconvert's lab template without the scripts it would fetch
(`report_template/offline.html.j2`), then reshapes the page (`reshape`):

- a "Key results" section at the top: what the data are, the scorecard's summary, the main figure
  (Figure 2) and the first findings of each notebook, with links;
- a nested, sticky table of contents (notebooks, their sections);
- unique heading anchors (a second "Glossary" gets its own id), and Previous/Next links that
  point inside the page (`#nb-<notebook>`) instead of to `.ipynb` files that are not beside it;
- code cells folded (one click opens them), the `parameters` and papermill's `injected-parameters`
  cells left out (the latter names the machine's folders);
- each notebook's "Paper vs this run" section moved to a collapsed appendix at the end.

No date and no folder name is written, so identical runs give identical reports.
Place in the import order: the pipeline (above tables and the comparison with the paper; imported by
the runner only).
"""
from __future__ import annotations

import base64
import copy
import html
import re
from pathlib import Path
from typing import Sequence
from xml.etree import ElementTree

REPORT_TITLE = "HAIC-SPP reproduction: executed analysis notebooks"
REPORT_SYNTHETIC_NOTE = (
    "Every number, table and figure below was computed on a **reconstructed "
    "synthetic cohort** (simulated patients shaped after the published "
    "summaries), not on the study's patient records."
)
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
FOUND_HEADINGS = ("What this notebook found", "Weighing it up")  # a notebook's summary section (07: the latter)
MAIN_FIGURES = ("figure2_os_spp_by_salvage.png", "os_all_patients.png")
FINDINGS_SHOWN = 2  # lines of each notebook's findings in the key results

_H1 = re.compile(r"^#\s+(\S.*?)\s*#*\s*$")
_H2 = re.compile(r"^##\s+(\S.*?)\s*#*\s*$")


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


def _findings(cells) -> str:
    """The first lines of the Markdown output of a notebook's summary section (`FOUND_HEADINGS`), whose
    ``## heading`` may stand on any line of its markdown cell (after a paragraph that ends the section before)."""
    inside = False
    for cell in cells:
        headings = [m.group(1) for m in map(_H2.match, cell.source.splitlines()) if m] \
            if cell.cell_type == "markdown" else []
        if headings:
            inside = headings[-1] in FOUND_HEADINGS
            continue
        if inside and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/markdown") or (
                    "".join(output.get("text", "")) if output.get("output_type") == "stream" else "")
                lines = [line for line in str(text).splitlines() if line.strip()]
                if lines:
                    return "\n".join(lines[:FINDINGS_SHOWN])
    return ""


def intro_markdown(entries: Sequence[tuple[str, str, str]], bundled: bool, private: bool, summary: str | None,
                   findings: dict | None = None, figure: str | None = None) -> str:
    """Markdown of the report's first cell: title, what the data are, the key results (scorecard
    summary, main figure as a data URI, each notebook's first findings) and where to read on.

    *entries* are ``(notebook stem, anchor id, heading text)``. No date and no folder name."""
    lines = [f"# {REPORT_TITLE}", "", REPORT_SYNTHETIC_NOTE if bundled else REPORT_OWN_DATA_NOTE,
             *(["", REPORT_PRIVATE_NOTE] if private else []), "", "## Key results", ""]
    if summary:
        lines += [f"Published vs reproduced ({summary}); every number in `scorecard.csv`, the paper-vs-this-run "
                  "tables in the [appendix](#appendix).", ""]
    if figure:
        lines += [f'<img alt="Main figure: overall survival and survival post-progression by salvage treatment" '
                  f'src="data:image/png;base64,{figure}" style="max-width: 100%;">', ""]
    items = []
    for stem, _anchor, text in entries:
        found = (findings or {}).get(stem, "")
        found = " ".join(line.lstrip("- ").strip() for line in found.splitlines())
        items.append(f'<li><a href="#nb-{html.escape(stem)}">{html.escape(text)}</a>'
                     + (f": {html.escape(found)}" if found else "") + "</li>")
    lines += [f"{len(entries)} notebook(s) executed in order:", "", "<ol>\n" + "\n".join(items) + "\n</ol>"]
    return "\n".join(lines)


def merge_notebooks(executed: Sequence[Path], bundled: bool, private: bool, summary: str | None,
                    figures_dir: Path | None = None):
    """One nbformat notebook: the intro, every executed notebook (an anchor ``nb-<stem>`` first, the
    parameter cells left out, its "Paper vs this run" section moved out), then the appendix with
    those sections, each between markers that `reshape` turns into a collapsed block.

    A notebook without a ``# Title`` heading gets one (its file stem). Cell ids are renumbered so that
    they stay unique and deterministic."""
    import nbformat

    merged = nbformat.v4.new_notebook()
    entries, cells, appendix, findings = [], [], [], {}
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
        findings[path.stem] = _findings(own)
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
        if moved:
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
    intro = nbformat.v4.new_markdown_cell(intro_markdown(entries, bundled, private, summary, findings, figure))
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
#toc ol { padding-left: 1.1rem; margin: 0.2rem 0; }
#toc li { margin: 0.15rem 0; }
#toc a { text-decoration: none; color: #0b4f8a; }
#toc .toc-title { font-weight: bold; margin-bottom: 0.4rem; }
#report-main { flex: 1 1 auto; min-width: 0; }
details.code-fold > summary { cursor: pointer; color: #555; font-size: 0.8rem; margin: 0.2rem 0 0.2rem 1rem; }
details.appendix { margin: 0.6rem 1rem; border: 1px solid #ddd; border-radius: 4px; padding: 0.2rem 0.6rem; }
details.appendix > summary { cursor: pointer; font-weight: bold; }
@media print { #toc { display: none; } }
"""


def _elements(root) -> list:
    """The elements (tags) below *root*, in page order."""
    from bs4 import Tag

    return [node for node in root.descendants if isinstance(node, Tag)]


def reshape(page) -> str:
    """Unique heading ids, in-page Previous/Next links, folded code, the collapsed appendix and the
    sticky nested contents (see the module docstring); returns the new page. *page* is the HTML text
    or that text already parsed by BeautifulSoup's "html.parser" (changed in place)."""
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
    return str(soup)


def render_report(executed: Sequence[Path], bundled: bool, private: bool, summary: str | None, target: Path,
                  figures_dir: Path | None = None) -> None:
    """Render the executed notebooks into one self-contained HTML page *target* (see the module docstring)."""
    merged = merge_notebooks(executed, bundled, private, summary, figures_dir)
    exporter = _exporter_class()(template_name="lab", template_file=REPORT_TEMPLATE.name,
                                 extra_template_paths=[str(REPORT_TEMPLATE.parent)], exclude_input_prompt=True,
                                 embed_images=True)
    resources = {"metadata": {"name": REPORT_TITLE, "path": "notebooks"}}
    soup, _ = exporter.soup_from_notebook_node(merged, resources=resources)
    target.write_text(reshape(soup), encoding="utf-8")


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
