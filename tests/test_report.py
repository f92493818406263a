"""The report's reshaping (src/present/report.py), without running any notebook."""
import json
from pathlib import Path

import pytest

from src.present import report
from src.present.figures import SINGLE

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


def _notebook(path, title, abstract=None, figure_alt=None, extra=()):
    """A small executed notebook at *path*: its title, an `abstract`-tagged cell printing *abstract* (Markdown),
    a figure output (alt text *figure_alt* in its metadata, or none), a "Paper vs this run" section."""
    import nbformat

    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [md(f"# {title}\n\nSome **bold** prose."), md("## Results")]
    if abstract is not None:
        cell = code("helpers.abstract(...)")
        cell.metadata["tags"] = ["abstract"]
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": abstract, "text/plain": "x"})]
        cells.append(cell)
    plot = code("helpers.savefig(fig, 'f', paths);")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Image>"},
                                           metadata={"image/png": {"alt": figure_alt}} if figure_alt else {})]
    cells += [plot, *extra, md("## Paper vs this run"), md("moved")]
    nb.cells = cells
    nbformat.write(nb, path)
    return path


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
SUMMARY = "scorecard: 238 match, 5 differs, 10 not reproducible, 0 not computed"


@pytest.fixture
def built(tmp_path):
    """A report of three small notebooks (the third an old one without an abstract cell)."""
    pytest.importorskip("nbconvert")
    a = _notebook(tmp_path / "01_a.ipynb", "01 · Cohort", "**Cohort.** 67 patients were treated.\n\n"
                  "**Results.** Median OS 7.7 months (95% CI 5.9-9.9).", figure_alt="Enrolment per year")
    b = _notebook(tmp_path / "02_b.ipynb", "02 · Survival", "**Results.**\n- SPP 5.5 vs 3.8 months\n- p = 0.041",
                  figure_alt="Kaplan-Meier curves of SPP")
    c = _notebook(tmp_path / "03_c.ipynb", "03 · Appraisal")  # no abstract cell, no alt text
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    report.render_report([a, b, c], bundled=True, private=False, summary=SUMMARY, target=target)
    return target.read_text(encoding="utf-8")


def _abstract_html(page):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    heading = soup.find(id="Abstract")
    paragraphs = []
    for node in heading.find_next_siblings():
        if node.name != "p":
            break
        paragraphs.append(node)
    return paragraphs


def test_abstract_is_collected_in_order_question_first_reproduction_last(built):
    paragraphs = _abstract_html(built)
    names = [p.find("strong").get_text() for p in paragraphs]
    assert names == ["Question.", "Cohort.", "Results.", "Reproduction."]
    texts = [p.get_text(" ", strip=True) for p in paragraphs]
    assert "sorafenib" in texts[0] and not any(ch.isdigit() for ch in texts[0])
    # the two notebooks' Results in one paragraph, in notebook order; list marks gone
    assert "Median OS 7.7 months (95% CI 5.9-9.9). SPP 5.5 vs 3.8 months p = 0.041" in texts[2]
    assert texts[3].startswith("Reproduction. 238 of 253 printed numbers reproduced, 5 differ, 10 cannot be "
                               "reproduced; see the appendix")
    assert paragraphs[3].find("a")["href"] == "#appendix"


def test_first_screen_reads_as_words(built):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    text = soup.get_text(" ")
    assert "**" not in text  # Markdown bold rendered, in the abstract and in the notebooks
    assert "notebook(s)" not in text and "scorecard:" not in text and "differs," not in text
    # the notebooks listed by title and link only, numbered once (by their titles)
    notebooks = soup.find("ul", class_="report-notebooks")
    assert [li.get_text() for li in notebooks.find_all("li")] == ["01 · Cohort", "02 · Survival", "03 · Appraisal"]
    assert [a["href"] for a in notebooks.find_all("a")] == ["#nb-01_a", "#nb-02_b", "#nb-03_c"]
    assert "#toc ol { list-style: none;" in built  # the contents: titles carry their numbers


def test_abstract_words_are_counted_and_a_long_one_is_logged(tmp_path, caplog):
    assert report.plain_words("**Question.** Did [sorafenib](#x) help `p`? <b>yes</b>") == \
        ["Question.", "Did", "sorafenib", "help", "p?", "yes"]
    assert len(report.plain_words("bilirubin (>=1.0 vs <1.0) HR 1.88, p < 0.001; ascites <5 > 2")) == 13
    words = "word " * 260
    a = _notebook(tmp_path / "01_a.ipynb", "01 · A", f"**Results.** {words}")
    b = _notebook(tmp_path / "02_b.ipynb", "02 · B", "**Results.** Short.")
    with caplog.at_level("WARNING", logger="src.present.report"):
        long = report.merge_notebooks([a], True, False, SUMMARY)
    assert any("abstract has" in r.getMessage() and "at most 250" in r.getMessage() for r in caplog.records)
    assert ("word " * 10).strip() in long.cells[0].source  # rendered all the same
    caplog.clear()
    with caplog.at_level("WARNING", logger="src.present.report"):
        short = report.merge_notebooks([b], True, False, SUMMARY)
    assert not caplog.records
    sections = report.abstract_sections(report.abstract_parts(
        __import__("nbformat").read(b, as_version=4).cells), report.reproduction_sentence(
        report.scorecard_counts(SUMMARY)))
    assert len(report.plain_words(report.abstract_markdown(sections))) <= report.ABSTRACT_MAX_WORDS
    assert "**Results.** Short." in short.cells[0].source


def test_the_reports_abstract_is_at_most_250_words():
    """The committed report's abstract (once the notebooks print their abstract cells)."""
    page = ROOT / "outputs" / "report.html"
    if not page.is_file():
        pytest.skip("no outputs/report.html")
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    if soup.find(id="Abstract") is None:
        pytest.skip("outputs/report.html predates the abstract")
    text = " ".join(p.get_text(" ") for p in _abstract_html(str(soup)))
    assert len(text.split()) <= report.ABSTRACT_MAX_WORDS


def test_old_notebooks_without_abstract_cells_give_the_list_only(tmp_path):
    pytest.importorskip("nbconvert")
    a = _notebook(tmp_path / "01_a.ipynb", "01 · A")
    merged = report.merge_notebooks([a], True, False, None)
    intro = merged.cells[0].source
    assert "## Abstract" in intro and "**Question.**" in intro and "Reproduction" not in intro
    assert '<a href="#nb-01_a">01 · A</a>' in intro


def test_scorecard_counts_from_summary_or_csv(tmp_path):
    assert report.scorecard_counts(SUMMARY) == {"match": 238, "differs": 5, "not reproducible": 10,
                                                "not computed": 0}
    (tmp_path / "scorecard.csv").write_text("id,source,published,reproduced,status,note\n"
                                            "a,,1,1,match,\nb,,1,2,differs,\nc,,1,,not computed,\n")
    counts = report.scorecard_counts(None, tmp_path)
    assert report.reproduction_sentence(counts) == ("1 of 3 printed numbers reproduced, 1 differs, 1 not computed "
                                                    "(their notebooks did not run); see the [appendix](#appendix).")
    assert report.scorecard_counts(None, tmp_path / "none") is None and report.reproduction_sentence(None) == ""


def test_every_image_has_an_alt_text_other_than_nbconverts_default(built):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built, "html.parser")
    alts = [img.get("alt") for img in soup.find_all("img")]
    assert len(alts) == 3 and all(alts) and report.NO_ALT not in alts
    assert "Enrolment per year" in alts and "Kaplan-Meier curves of SPP" in alts  # from the output metadata
    assert "Figure: Results" in alts  # an image without a caption: the heading it stands under


def test_print_edition(built):
    """A4 print: each notebook (and the appendix) on a new page, no contents, code stubs or prompts, the
    collapsed appendix printed open (CSS, and a beforeprint script for browsers without ::details-content)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built, "html.parser")
    css = " ".join(s.get_text() for s in soup.find_all("style"))
    printed = css[css.index("@media print"):]
    assert "@page { size: A4; margin: 10mm; }" in css
    assert ".nb-section-start { break-before: page; }" in printed
    starts = soup.find_all("div", class_="nb-section-start")
    assert [s.find("div", class_="nb-start")["id"] for s in starts if s.find("div", class_="nb-start")] == \
        ["nb-01_a", "nb-02_b", "nb-03_c"]
    assert any(s.find(id="appendix") for s in starts)
    hidden = printed[:printed.index("display: none !important")]
    assert "details.code-fold" in hidden and ".jp-OutputPrompt" in hidden and "#toc" in hidden
    assert "details::details-content { content-visibility: visible; display: contents; }" in printed
    script = " ".join(s.get_text() for s in soup.find_all("script"))
    assert "beforeprint" in script and "d.open = true" in script
    assert "table-layout: auto !important" in printed and "img, svg { max-width: 100% !important" in printed
    assert "overflow-wrap: anywhere" in printed


def test_wide_tables_are_marked_for_a_smaller_print_font():
    page = report.reshape(PAGE.replace("<p>moved</p>", "<table><tr>" + "<td>x</td>" * 7 + "</tr></table>"
                                       "<table><tr><th colspan='2'>a</th></tr></table>"))
    assert page.count('class="wide-table"') == 1


RAW = """<html><head><style>.x { content: "NaN" }</style><script>var nan = NaN;</script></head><body>
<h2>Table 2</h2>
<div class="jp-Cell jp-CodeCell"><div class="jp-Cell-inputWrapper">df.fillna(nan)</div>
<div class="jp-OutputArea"><table border="1" class="dataframe"><tr><th></th><th>hr_sorafenib</th></tr>
<tr><th>0</th><td>NaN</td></tr></table></div></div>
<h2>Table 3</h2><table class="gt_table"><tr><td>0.42 (0.19–0.98)</td></tr></table>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-Cell-inputWrapper"><div class="jp-InputArea">
<p>The median was nan months; a nanny, NaNs and 1.nan are words of their own.</p></div></div></div>
</body></html>"""


def test_raw_frames_and_nan_words():
    assert report.raw_frames(RAW) == ["table 1 under 'Table 2': hr_sorafenib"]
    found = report.nan_words(RAW)
    assert len(found) == 2 and found[0].startswith("under 'Table 2'") and "NaN" in found[0]
    assert "The median was nan months" in found[1] and found[1].startswith("under 'Table 3'")
    assert report.raw_frames("<table><tr><td>1</td></tr></table>") == [] and report.nan_words("<p>none</p>") == []


def test_savefig_shows_a_figure_once_with_its_caption_as_alt_text(tmp_path):
    """In a notebook, `helpers.savefig(...);` displays the figure once (the inline backend does not show it
    again at the cell's end): its saved SVG file, byte for byte (no third rendering), with its caption and
    on-screen width in the output metadata, which the report writes as alt text and width;
    `synthetic=False` leaves the synthetic-data mark off; with FIGURES = False nothing is shown."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    setup = (f"import matplotlib.pyplot as plt\nfrom types import SimpleNamespace\nfrom pathlib import Path\n"
             f"from src import helpers\nfrom src.present import figures\nhelpers.setup_plots()\n"
             f"paths = SimpleNamespace(figures=Path({str(tmp_path)!r}), bundled=True)")
    plot = ("fig, ax = plt.subplots(figsize=figures.size('single', 0.6))\nax.plot([0, 1], [0, 1])\n"
            "ax.set_xlabel('Months'); ax.set_ylabel('Survival probability')\n{title}"
            "helpers.savefig(fig, {name!r}, paths{extra});")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(setup),
                nbformat.v4.new_code_cell(plot.format(title="ax.set_title('Overall survival')\n", name="a", extra="")),
                nbformat.v4.new_code_cell(plot.format(title="", name="b", extra=", synthetic=False")),
                nbformat.v4.new_code_cell("paths.draw = False\n" + plot.format(title="", name="c", extra=""))]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    images = [[o for o in cell.outputs if "image/svg+xml" in o.get("data", {})] for cell in nb.cells[1:]]
    assert [len(i) for i in images] == [1, 1, 0]
    assert not any("image/png" in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", []))
    for image, name in zip(images, "ab"):
        assert image[0]["data"]["image/svg+xml"] == (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert image[0]["metadata"]["image/svg+xml"]["width"] == round(SINGLE * 150)  # as wide as the inline PNG was
    alts = [i[0]["metadata"]["image/svg+xml"]["alt"] for i in images[:2]]
    assert alts[0] == "Overall survival. Synthetic data (reconstructed cohort, not patients)."
    assert alts[1] == "Survival probability by Months"  # no title: the axes labels; no synthetic mark
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg", "b.png", "b.svg"]
    page = tmp_path / "nb.ipynb"
    nbformat.write(nb, page)
    target = tmp_path / "report.html"
    report.render_report([page], bundled=True, private=False, summary=None, target=target)
    page = target.read_text(encoding="utf-8")
    assert f'alt="{alts[0]}"' in page and f'alt="{alts[1]}"' in page and "data:image/svg+xml;base64," in page


def test_figure_caption_outside_a_notebook():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from src.present import figures

    fig, (a, b) = plt.subplots(1, 2, figsize=figures.size("double", 0.4))
    a.set_title("A  Overall survival", loc="left")
    b.set_title("B  Survival post-progression", loc="left")
    assert figures.caption(fig) == "A Overall survival; B Survival post-progression"
    fig.suptitle("Figure 2")
    assert figures.caption(fig, synthetic=True) == f"Figure 2. {figures.SYNTHETIC_NOTE}."
    plt.close(fig)
    empty = plt.figure()
    assert figures.caption(empty, "figure1_patient_flow") == "Figure 1 patient flow"
    plt.close(empty)


def test_savefig_synthetic_mark_can_be_left_off(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from types import SimpleNamespace

    from src.present import figures
    from src import helpers

    def texts(synthetic, bundled):
        fig, ax = plt.subplots(figsize=figures.size("single", 0.6))
        ax.plot([0, 1], [0, 1])
        kept = helpers.savefig(fig, "f", SimpleNamespace(figures=tmp_path, bundled=bundled), synthetic=synthetic)
        assert kept is fig  # outside a notebook: returned, still open
        plt.close(fig)
        return [t.get_text() for t in fig.texts]

    assert figures.SYNTHETIC_NOTE in texts(None, True) and figures.SYNTHETIC_NOTE not in texts(None, False)
    assert figures.SYNTHETIC_NOTE not in texts(False, True) and figures.SYNTHETIC_NOTE in texts(True, False)


def test_is_chapter():
    assert report.is_chapter("notebooks/01_cohort_flow.ipynb") and report.is_chapter(Path("07_appraisal.ipynb"))
    assert not any(report.is_chapter(name) for name in ("08_scorecard.ipynb", "09_audit.ipynb", "10_what.ipynb",
                                                        "notes.ipynb", "00_x.ipynb"))


def test_lesson_edition_has_the_chapters_without_scorecard_audit_or_appendix(tmp_path):
    """The lesson edition (runner --lesson): chapters 01-07 with their exercises; notebooks 08-10, the
    "Paper vs this run" sections and the scorecard sentence left out; a mark's link to notebook 10 is plain text."""
    pytest.importorskip("nbconvert")
    import nbformat
    from bs4 import BeautifulSoup

    md = nbformat.v4.new_markdown_cell
    exercises = [md("## Exercises\n\n1. Re-run with another cut-off."),
                 md("Median 5.5 months <sup>[free](10_what_the_numbers_pin_down.ipynb)</sup>; see "
                    "[notebook 02](02_b.ipynb).")]
    a = _notebook(tmp_path / "01_a.ipynb", "01 · Cohort", "**Cohort.** 67 patients were treated.", extra=exercises)
    b = _notebook(tmp_path / "02_b.ipynb", "02 · Survival", "**Results.** SPP 5.5 vs 3.8 months.")
    s = _notebook(tmp_path / "08_s.ipynb", "08 · Scorecard", "**Reproduction.** Scorecard words.")
    g = _notebook(tmp_path / "09_g.ipynb", "09 · Audit")
    target = tmp_path / "out" / report.LESSON_NAME
    target.parent.mkdir()
    report.render_report([a, b, s, g], bundled=True, private=False, summary=SUMMARY, target=target, lesson=True)
    page = target.read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    h1 = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in soup.find_all("h1")]
    assert h1 == [report.LESSON_TITLE, "01 · Cohort", "02 · Survival"]
    assert "Exercises" in page and "Re-run with another cut-off" in page
    text = " ".join(report.reader_soup(page).get_text(" ").split())  # what a reader reads (no style, no code)
    assert "Scorecard" not in text and "Audit" not in text and "Reproduction" not in text
    assert APPENDIX not in text and "moved" not in text
    assert soup.find(id="appendix") is None and not soup.select("details.appendix")
    assert [p.find("strong").get_text() for p in _abstract_html(page)] == ["Question.", "Cohort.", "Results."]
    hrefs = [link["href"] for link in soup.find_all("a", href=True)]
    assert not any(".ipynb" in h for h in hrefs) and "#nb-02_b" in hrefs
    assert "Median 5.5 months free" in text
    # the full report of the same notebooks keeps them all
    full = tmp_path / "out" / "report.html"
    report.render_report([a, b, s, g], bundled=True, private=False, summary=SUMMARY, target=full)
    assert "08 · Scorecard" in full.read_text(encoding="utf-8") and 'id="appendix"' in full.read_text(encoding="utf-8")


APPENDIX = report.APPENDIX_HEADING
