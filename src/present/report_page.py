"""The report's page: `reshape` turns nbconvert's page of the merged notebooks into the report a person reads.

`reshape(page)` goes through the page once and, step by step,

- gives every heading a unique id (`_unique_heading_ids`: a second "Glossary" gets its own) and points the
  links to a notebook inside the page (`_links_inside_the_page`: ``#nb-<notebook>``);
- folds the code of every code cell (`_fold_code`) and collapses each notebook's "Paper vs this run" section
  in the appendix (`_collapse_appendix`);
- marks what print needs (`_mark_for_print`: each notebook on a new page, wide tables in a smaller font) and
  describes every image (`_describe_images`: one without a caption by the heading it stands under);
- adds the sticky nested contents (`_contents`) beside the page, the style `REPORT_CSS` (with its print
  edition: A4, tables and figures within `PRINT_WIDTH_PX`) and `PRINT_SCRIPT`.

Place in the import order: the presentation room (imports nothing of `src`); `src/present/report.py` calls it.
"""
from __future__ import annotations

import re

APPENDIX_HEADING = "Paper vs this run"
NO_ALT = "No description has been provided for this image"  # nbconvert's alt text for an image without one
# A4 (210 mm) less Chromium's default print margins (1 cm each side; REPORT_CSS sets them explicitly with
# @page), at 96 CSS pixels per inch: 190 mm = 718.1 px. Nothing printed may reach beyond it.
PRINT_WIDTH_PX = 718
WIDE_TABLE_COLUMNS = 6  # a table with this many columns or more prints in a smaller font

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


def elements_of(root) -> list:
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
    everything = elements_of(soup)
    inside = elements_of(main)
    headings = _unique_heading_ids(inside)
    _links_inside_the_page(everything, unlink_missing)
    _fold_code(soup, inside)
    _collapse_appendix(soup, inside)
    inside = [t for t in inside if not t.decomposed]  # (the appendix's end markers are gone)
    _mark_for_print(inside)
    _describe_images(inside)
    _add_contents(soup, main, _contents(soup, headings))
    return str(soup)


def _unique_heading_ids(inside: list) -> list:
    """Give a second "Glossary" (nbconvert gives every one the same id) its own id ("glossary-2"), its
    anchor link too; returns the headings (h1-h3) that have an id, in page order."""
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
    return headings


def _links_inside_the_page(everything: list, unlink_missing: bool) -> None:
    """A link to a notebook of the report (``04_x.ipynb``) points to its place on the page (``#nb-04_x``);
    with *unlink_missing*, a link to a notebook that is not on the page becomes its plain text."""
    ids = {tag["id"] for tag in everything if tag.get("id") is not None}
    for link in [t for t in everything if t.name == "a" and t.get("href") is not None]:
        match = re.fullmatch(r"(?:\./)?(\d\d_[A-Za-z0-9_]+)\.ipynb(#.*)?", link["href"])
        if match and f"nb-{match.group(1)}" in ids:
            link["href"] = f"#nb-{match.group(1)}"
        elif match and unlink_missing:
            link.unwrap()


def _fold_code(soup, inside: list) -> None:
    """Each code cell's code in a closed ``<details class="code-fold">`` (one click opens it)."""
    for cell in [t for t in inside if t.name == "div" and "jp-CodeCell" in t.get_attribute_list("class")]:
        wrapper = cell.find("div", class_="jp-Cell-inputWrapper")
        if wrapper is not None:
            details = soup.new_tag("details", attrs={"class": "code-fold"})
            summary = soup.new_tag("summary")
            summary.string = "Code"
            wrapper.wrap(details)
            details.insert(0, summary)


def _collapse_appendix(soup, inside: list) -> None:
    """Each notebook's paper-vs-this-run section (between the markers of `merge_notebooks`) in a closed
    ``<details class="appendix">`` of the appendix; the end markers are removed."""
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


def _mark_for_print(inside: list) -> None:
    """For print: each notebook (and the appendix) starts a page (``nb-section-start``); a table of
    `WIDE_TABLE_COLUMNS` columns or more prints in a smaller font (``wide-table``)."""
    for marker in [t for t in inside if t.get("id") == "appendix"
                   or (t.name == "div" and "nb-start" in t.get_attribute_list("class"))]:
        cell = marker.find_parent("div", class_="jp-Cell")
        if cell is not None and "nb-section-start" not in cell.get_attribute_list("class"):
            cell["class"] = cell.get_attribute_list("class") + ["nb-section-start"]
    for table in [t for t in inside if t.name == "table"]:
        if _columns(table) >= WIDE_TABLE_COLUMNS:
            table["class"] = [c for c in table.get_attribute_list("class") if c] + ["wide-table"]


def _describe_images(inside: list) -> None:
    """Every image described: one without a caption of its own by the heading it stands under."""
    for img in [t for t in inside if t.name == "img"]:
        if not img.get("alt") or img.get("alt") == NO_ALT:
            heading = img.find_previous(["h1", "h2", "h3"])
            text = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading is not None else ""
            img["alt"] = f"Figure: {text}" if text else "Figure"


def _contents(soup, headings: list):
    """The nested contents ``<nav id="toc">``: the notebooks (h1) and their sections (h2), not those of
    the appendix."""
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
    return nav


def _add_contents(soup, main, nav) -> None:
    """The page's layout: the contents *nav* beside the *main* content, then `REPORT_CSS` and
    `PRINT_SCRIPT` in the head."""
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
