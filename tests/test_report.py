"""The report's reshaping (src/report.py), without running any notebook."""
import json
from pathlib import Path

import pytest

from src import report

ROOT = Path(__file__).resolve().parents[1]


def test_highlighted_code_is_unchanged_by_bleach():
    """The report template leaves out the lab template's `clean_html` on highlighted code: bleach must
    return Pygments' output of every code cell of the notebooks unchanged."""
    pytest.importorskip("nbconvert")
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.strings import clean_html

    highlight = Highlight2HTML(pygments_lexer="ipython3")
    sources = ["x = '<b>' & \"q\"  # é < > \t", "%%time\n!ls 'a b'"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        sources += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    for source in sources:
        html = highlight(source)
        assert clean_html(html) == html, source


PAGE = """<!DOCTYPE html>
<html><head><title>t</title></head><body><main>
<div class="jp-Cell"><h1 id="A">A<a class="anchor-link" href="#A">¶</a></h1>
<h2 id="Glossary">Glossary<a class="anchor-link" href="#Glossary">¶</a></h2>
<a href="02_b.ipynb">next</a><a href="03_c.ipynb">missing</a></div>
<div class="nb-start" id="nb-02_b"></div>
<div class="jp-Cell jp-CodeCell"><div class="jp-Cell-inputWrapper">code</div></div>
<div class="jp-Cell"><h2 id="Glossary">Glossary<a class="anchor-link" href="#Glossary">¶</a></h2></div>
<div class="jp-Cell"><div class="appendix-start" data-title="B"></div></div>
<div class="jp-Cell"><h3 id="B">B</h3><p>moved</p></div>
<div class="jp-Cell"><div class="appendix-end"></div></div>
</main></body></html>
"""


def test_reshape():
    page = report.reshape(PAGE)
    assert 'id="Glossary-2"' in page and 'href="#Glossary-2"' in page
    assert 'href="#nb-02_b"' in page and 'href="03_c.ipynb"' in page
    assert '<details class="code-fold"><summary>Code</summary><div class="jp-Cell-inputWrapper">' in page
    assert '<details class="appendix"><summary>Paper vs this run: B</summary>' in page
    assert "appendix-end" not in page
    toc = page[page.index('<nav aria-label="Contents" id="toc">'):page.index("</nav>")]
    assert toc.count("<li>") == 3 and 'href="#Glossary-2"' in toc and "#B" not in toc


def test_report_exporter_matches_nbconvert():
    """`soup_from_notebook_node` repeats `HTMLExporter.from_notebook_node` of the installed nbconvert,
    and reshaping its soup gives the page that reshaping nbconvert's text gives."""
    pytest.importorskip("nbconvert")
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n## Glossary\n\n<img src='x.png'>"),
                nbformat.v4.new_code_cell("x = '<b>' & 1", outputs=[nbformat.v4.new_output(
                    "execute_result", data={"text/html": "<table><tr><td>1</td></tr></table>"}, execution_count=1)]),
                nbformat.v4.new_markdown_cell("## Glossary")]
    exporter = report._exporter_class()(template_name="lab", template_file=report.REPORT_TEMPLATE.name,
                                        extra_template_paths=[str(report.REPORT_TEMPLATE.parent)],
                                        exclude_input_prompt=True, embed_images=True)
    text, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    soup, _ = exporter.soup_from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    assert str(soup) == text
    assert report.reshape(soup) == report.reshape(text)


def test_findings_are_found_under_a_heading_that_starts_inside_a_markdown_cell():
    import nbformat

    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    found = code("Markdown(text)")
    found.outputs = [nbformat.v4.new_output("execute_result", data={"text/markdown": "- first\n- second\n- third"})]
    other = code("print('x')")
    other.outputs = [nbformat.v4.new_output("stream", text="not a finding\n")]
    cells = [md("## Method"), other, md("A closing caution of the method.\n\n## What this notebook found"), found]
    assert report._findings(cells) == "- first\n- second"
    cells = [md("## Weighing it up"), found]  # notebook 07's summary section
    assert report._findings(cells) == "- first\n- second"
    assert report._findings([md("## Method"), other, md("## Glossary"), found]) == ""
