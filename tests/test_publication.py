"""What a journal gets: the Word tables and the saved figures, read back as a reader's software reads them.

- `manuscript_tables.docx` read with python-docx: Tables 1-3 and the appraisal table, each under its
  title, headers with N, labels in words (no data codes such as `rfa_pei`, `tbil`, `ps`), no `nan`,
  footnotes naming the tests and the abbreviations, and on the bundled cohort the synthetic-data note;
  `docx_problems` must also find each fault of a deliberately wrong file.
- every saved figure is 8.5 or 17.5 cm wide (SVG and 300-dpi PNG); every Kaplan-Meier curve in the saved
  SVGs (its id `km<panel>-<group>`, `figures.km_gid`) has the colour and line style of its group in
  `figures.GROUP_STYLES`, and every KM figure of the notebooks has its curves there;
  `figures.size_problems` and `helpers.savefig` refuse a wrong width or a text under 7 pt.

The files checked are those of outputs/ (tests/test_outputs_current.py shows they are what the code
makes); HAIC_CHECK_OUTPUTS=folder checks another run's folder.
"""
from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from src.present import figures, tables  # noqa: E402
from src import helpers
from src.stats import survival
from src.present import plots
from src.helpers import ROOT  # noqa: E402

OUTPUTS = Path(os.environ.get("HAIC_CHECK_OUTPUTS") or ROOT / "outputs")
DOCX = OUTPUTS / "manuscript_tables.docx"
KM_FIGURES = ["figure2_os_spp_by_salvage", "os_all_patients", "os_by_response", "scorecard_km_curves"]

# codes of the data that must never be a printed label (column names and coded levels)
CODES = {"rfa_pei", "tace_rfa", "tbil", "ps", "pvtt", "ecog_ps", "total_bilirubin", "child_pugh_score",
         "max_tumor_size_mm", "tumor_count", "tumor_distribution", "initial_treatment", "bclc_stage", "tnm_stage",
         "salvage_treatment", "best_response", "n_haic_sessions", "M", "F", "n", "nan", "NaN", "None"}
SNAKE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
TESTS_NAMED = {1: [], 2: ["Fisher", "Student"], 3: ["log-rank", "Cox"]}


# --- the Word file ------------------------------------------------------------------------------

def read_docx(path: Path) -> list[dict]:
    """Each table of the file: its title (the paragraph before it), header cells, body rows and the
    paragraphs after it up to the next table (its footnotes)."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    out, title, current = [], "", None
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(block, doc).text.strip()
            if current is not None and text:
                current["notes"].append(text)
            elif text:
                title = text
        elif tag == "tbl":
            grid = Table(block, doc)
            rows = [[c.text for c in row.cells] for row in grid.rows]
            current = {"title": title, "header": rows[0], "rows": rows[1:], "notes": []}
            out.append(current)
            title = ""
    # a title paragraph after a page break belongs to the next table: move a trailing "Table ..." note
    for first, second in zip(out, out[1:]):
        if not second["title"] and first["notes"]:
            second["title"] = first["notes"].pop()
    return out


def docx_problems(path: Path, bundled: bool = True) -> list[str]:
    """Every way the file falls short of a gtsummary-style manuscript table (empty list when none)."""
    problems = []
    found = read_docx(path)
    titles = [t["title"] for t in found]
    for number in (1, 2, 3):
        if not any(t.startswith(f"Table {number}") for t in titles):
            problems.append(f"no Table {number} (titles: {titles})")
    if not any("apprais" in t.lower() or "sorafenib effect" in t.lower() for t in titles):
        problems.append(f"no appraisal table (titles: {titles})")
    for table in found:
        name = table["title"][:40] or "untitled table"
        number = next((n for n in (1, 2, 3) if table["title"].startswith(f"Table {n}")), None)
        header = [h.replace("\n", " ") for h in table["header"]]
        if number in (1, 2) and not all(re.search(r"N = (<)?\d+", h) for h in header[1:] if "p" not in h.lower()):
            problems.append(f"{name}: a group header without its N ({header})")
        if number == 3 and not ({"N"} <= set(header) and any("HR (95% CI)" in h for h in header)):
            problems.append(f"{name}: header without N or HR (95% CI) ({header})")
        if number == 3 and header[1:2] != ["N"]:
            problems.append(f"{name}: columns out of order, N is not first ({header})")
        p_columns = [i for i, h in enumerate(header) if h.lower() in ("p", "p-value")]
        if number == 2 and p_columns != [len(header) - 1]:
            problems.append(f"{name}: the p-value is not the last column ({header})")
        for row in table["rows"]:
            label = row[0].strip()
            if label in CODES or SNAKE.match(label):
                problems.append(f"{name}: the label {label!r} is a data code, not words")
            for cell in row:
                if cell.strip() in {"nan", "NaN", "None"}:
                    problems.append(f"{name}: a cell reads {cell!r}")
        notes = " ".join(table["notes"])
        if not notes:
            problems.append(f"{name}: no footnotes")
        for test in TESTS_NAMED.get(number, []):
            if test.lower() not in notes.lower():
                problems.append(f"{name}: the footnotes do not name the test {test!r}")
        if number and not re.search(r"\b[A-Z]{2,}, [a-z]", notes):
            problems.append(f"{name}: the footnotes spell out no abbreviation")
        if bundled and tables.SYNTHETIC_NOTE not in table["notes"]:
            problems.append(f"{name}: no note that the data are synthetic")
    return problems


@pytest.fixture(scope="module")
def docx_path():
    if not DOCX.is_file():
        pytest.fail(f"{DOCX} missing: make run writes it (then commit outputs/)")
    return DOCX


def test_manuscript_docx_reads_like_a_journal_table(docx_path):
    assert docx_problems(docx_path) == []


def _spec(title, stub, columns, rows, footnotes):
    return {"title": title, "stub": stub, "columns": columns, "rows": rows, "footnotes": footnotes}


def test_docx_check_finds_every_fault_of_a_wrong_file(tmp_path):
    import json

    folder = tmp_path / "tables"
    folder.mkdir()
    bad = {  # codes as labels, no N in the header, no footnotes, a nan cell, no appraisal table
        "table1_baseline": _spec("Table 1. Baseline", "Characteristic", {"v": "All patients"},
                                 [{"label": "initial_treatment", "bold": True, "v": ""},
                                  {"label": "rfa_pei", "indent": 1, "v": "3 (4.5%)"}], []),
        "table2_characteristics_at_progression": _spec(
            "Table 2. At progression", "Characteristic", {"p": "p-value", "a": "sorafenib"},
            [{"label": "ps", "a": "nan", "p": "0.5"}], ["Abbreviations: none."]),
        "table3_paper_model": _spec("Table 3. Cox", "Factor", {"hr": "hr"}, [{"label": "tbil", "hr": "2.1"}],
                                    [tables.SYNTHETIC_NOTE]),
    }
    for name, spec in bad.items():
        (folder / f"{name}.json").write_text(json.dumps(spec), encoding="utf-8")
    target = tables.manuscript_docx(folder, tmp_path / "bad.docx")
    problems = "\n".join(docx_problems(target))
    for expected in ["no appraisal table", "without its N", "'rfa_pei' is a data code", "'initial_treatment' is a data code",
                     "'ps' is a data code", "'tbil' is a data code", "reads 'nan'", "Table 1. Baseline: no footnotes",
                     "name the test 'Fisher'", "name the test 'log-rank'", "header without N or HR",
                     "Table 2. At progression: no note that the data are synthetic",
                     "Table 2. At progression: the p-value is not the last column", "N is not first"]:
        assert expected in problems, f"{expected!r} not found in:\n{problems}"


# --- figures ------------------------------------------------------------------------------------

def _svg_width_cm(path: Path) -> float:
    root = ET.parse(path).getroot()
    width = root.get("width")
    value = float(re.match(r"[\d.]+", width).group())
    return value / 72 * 2.54 if width.endswith("pt") else value / 96 * 2.54


def _png_width_cm(path: Path) -> float:
    with open(path, "rb") as handle:
        head = handle.read(24)
    return struct.unpack(">I", head[16:20])[0] / 300 * 2.54


def figure_files():
    return sorted(OUTPUTS.glob("figures/*.svg"))


def test_every_figure_is_one_or_two_journal_columns_wide():
    svgs = figure_files()
    assert svgs, f"no SVG figure in {OUTPUTS / 'figures'}"
    for svg in svgs:
        png = svg.with_suffix(".png")
        assert png.is_file(), f"{png.name} missing beside {svg.name}"
        for width in (_svg_width_cm(svg), _png_width_cm(png)):
            assert min(abs(width - 8.5), abs(width - 17.5)) < 0.05, f"{svg.stem}: {width:.2f} cm wide"


SVG = "{http://www.w3.org/2000/svg}"


def km_curves(svg: Path) -> dict[str, dict]:
    """{curve id: {"stroke": colour, "dasharray": "..." or None}} of the Kaplan-Meier curves in *svg*."""
    curves = {}
    for group in ET.parse(svg).getroot().iter(f"{SVG}g"):
        gid = group.get("id", "")
        if re.fullmatch(r"km\d+-[a-z0-9-]+", gid) and "-ci-" not in gid:
            path = next(group.iter(f"{SVG}path"))
            style = dict(part.strip().split(":", 1) for part in path.get("style", "").split(";") if ":" in part)
            style = {k.strip(): v.strip() for k, v in style.items()}
            curves[gid] = {"stroke": style.get("stroke"), "dasharray": style.get("stroke-dasharray")}
    return curves


def dash_kind(dasharray: str | None) -> str:
    """The line style an SVG dash array draws: "-" (none), "--", ":" or "-." (by matplotlib's patterns)."""
    if not dasharray or dasharray == "none":
        return "-"
    dashes = [float(x) for x in re.split(r"[ ,]+", dasharray.strip())]
    if len(dashes) == 4:
        return "-."
    return "--" if dashes[0] > dashes[1] else ":"


def test_every_km_curve_of_the_saved_figures_has_its_groups_style():
    checked = {}
    for svg in figure_files():
        for gid, seen in km_curves(svg).items():
            label = figures.label_of_gid(gid)
            assert label in figures.GROUP_STYLES, f"{svg.stem}: curve {gid} of a group without a shared style"
            style = figures.GROUP_STYLES[label]
            assert to_hex(seen["stroke"]) == to_hex(style["color"]), f"{svg.stem} {gid}: colour {seen['stroke']}"
            assert dash_kind(seen["dasharray"]) == style["linestyle"], f"{svg.stem} {gid}: dashes {seen['dasharray']}"
            checked.setdefault(svg.stem, []).append(label)
    for name in KM_FIGURES:
        assert checked.get(name), f"no Kaplan-Meier curve found in {name}.svg"
    assert {"sorafenib", "other salvage"} <= set(checked["figure2_os_spp_by_salvage"])


def test_svg_check_finds_a_curve_in_the_wrong_style(tmp_path):
    helpers.setup_plots()
    fig, ax = plt.subplots(figsize=figures.size("single"))
    a = survival.km_fit(pd.Series([1.0, 2, 3, 4]), pd.Series([1, 0, 1, 1]), label="sorafenib")
    b = survival.km_fit(pd.Series([1.0, 2, 5, 6]), pd.Series([1, 1, 0, 1]), label="other salvage")
    plots.plot_km([a, b], ax=ax, at_risk=False)
    good = tmp_path / "good.svg"
    fig.savefig(good)
    seen = km_curves(good)
    assert {figures.label_of_gid(g) for g in seen} == {"sorafenib", "other salvage"}
    for gid, s in seen.items():
        style = figures.GROUP_STYLES[figures.label_of_gid(gid)]
        assert to_hex(s["stroke"]) == to_hex(style["color"]) and dash_kind(s["dasharray"]) == style["linestyle"]
    next(line for line in ax.get_lines() if line.get_gid() == "km0-sorafenib").set(color="red", linestyle=":")
    bad = tmp_path / "bad.svg"
    fig.savefig(bad)
    wrong = km_curves(bad)["km0-sorafenib"]
    assert to_hex(wrong["stroke"]) != figures.GROUP_STYLES["sorafenib"]["color"].lower() and dash_kind(wrong["dasharray"]) == ":"
    plt.close(fig)


def test_km_plot_artists_follow_the_shared_mapping_for_every_group():
    helpers.setup_plots()
    fitters = [survival.km_fit(pd.Series([1.0, 2, 3, 4 + i]), pd.Series([1, 0, 1, 1]), label=label)
               for i, label in enumerate(figures.GROUP_STYLES)]
    fig, ax = plt.subplots(figsize=figures.size("single", 1.2))
    plots.plot_km(fitters, ax=ax)
    for label, style in figures.GROUP_STYLES.items():
        line = next(x for x in ax.get_lines() if x.get_gid() == figures.km_gid(0, label))
        assert to_hex(line.get_color()) == to_hex(style["color"]) and line.get_linestyle() == style["linestyle"]
    assert figures.size_problems(fig) == []
    plt.close(fig)


def test_size_check_refuses_a_wrong_width_and_small_text(tmp_path):
    helpers.setup_plots()
    fig, ax = plt.subplots(figsize=(13 / 2.54, 6 / 2.54))
    ax.set_title("tiny", fontsize=6)
    problems = figures.size_problems(fig)
    assert any("width 13.00 cm" in p for p in problems) and any("'tiny' at 6.0 pt" in p for p in problems)
    paths = SimpleNamespace(figures=tmp_path, bundled=False)
    with pytest.raises(ValueError, match="journal"):
        helpers.savefig(fig, "wrong", paths)
    assert not list(tmp_path.iterdir())
    plt.close(fig)
    fig, ax = plt.subplots(figsize=figures.size("double", 0.5))
    ax.plot([0, 1], [0, 1])
    helpers.savefig(fig, "right", SimpleNamespace(figures=tmp_path, bundled=True))
    assert abs(_png_width_cm(tmp_path / "right.png") - 17.5) < 0.05 and abs(_svg_width_cm(tmp_path / "right.svg") - 17.5) < 0.05
    assert figures.SYNTHETIC_NOTE in [t.get_text() for t in fig.texts]
    plt.close(fig)


def test_estimates_read_as_a_journal_prints_them():
    nan = float("nan")
    assert tables.format_estimate(12.3, 3.91, nan) == "12.30 (3.91–NR)"  # upper limit never reached
    assert tables.format_estimate(nan, 4.6, nan) == "NR (4.60–NR)"  # median never reached
    assert tables.format_estimate(2.04, -0.536, 4.61) == "2.04 (-0.54 to 4.61)"  # a negative limit: "to"
    assert tables.format_estimate(0.418, 0.184, 0.95) == "0.42 (0.18–0.95)"
    assert tables.format_estimate(4.37, nan, nan) == "4.37" and tables.format_estimate(nan, nan, nan) == ""


def test_figures_off_draws_and_shows_nothing(tmp_path):
    # FIGURES = False (paths.draw): no file, the figure closed (so the inline backend shows nothing), None returned
    helpers.setup_plots()
    paths = helpers.resolve_paths(tmp_path / "data", tmp_path / "out", private=False, draw=False)
    fig, ax = plt.subplots(figsize=figures.size("single", 0.5))
    ax.plot([0, 1], [0, 1])
    assert helpers.savefig(fig, "off", paths) is None
    assert not plt.fignum_exists(fig.number) and not list(paths.figures.iterdir())
    assert helpers.resolve_paths(tmp_path / "data", tmp_path / "out2").draw is True


def _cox(rows):
    return pd.DataFrame([{"key": k, "factor": k, "comparison": "b vs a", "hr": hr, "ci_low": lo, "ci_high": hi,
                          "p": 0.04, "n": 38, "events": 28} for k, hr, lo, hi in rows])


def test_forest_figure_draws_each_model_once_on_one_scale():
    helpers.setup_plots()
    one = plots.forest_figure({"the paper's factors": _cox([("x", 2.0, 1.1, 3.6), ("y", 0.5, 0.3, 0.9)])})
    assert [ax.get_title(loc="left") for ax in one.axes] == ["the paper's factors"]
    two = plots.forest_figure({"selected": _cox([("x", 2.0, 1.1, 3.6), ("y", 0.5, 0.3, 0.9), ("z", 1, 0.9, 1.1)]),
                                  "paper": _cox([("w", 8.0, 4.0, 16.0)])})
    assert [ax.get_title(loc="left") for ax in two.axes] == ["selected", "paper"]
    # one hazard-ratio scale: from the smaller lower limit (0.3 / 1.3) to the larger upper one (16 * 1.3)
    for ax in two.axes:
        assert ax.get_xlim() == pytest.approx((0.3 / 1.3, 16 * 1.3))
    # the panel with three rows is the taller; both figures are a journal's width with no text under 7 pt
    assert two.axes[0].get_position().height > two.axes[1].get_position().height
    assert figures.size_problems(one) == [] and figures.size_problems(two) == []
    plt.close("all")


# --- the CONSORT flow diagram ---------------------------------------------------------------------

def _flow_counts():
    return {"title": "All", "total": 10, "response": {"DC": 3, "PD": 7}, "progressed": "PD",
            "excluded": {"CP > 8": 1}, "analysed": ("SPP", 6), "groups": {"Sorafenib": 2, "Other": 4},
            "split": "Other",
            "breakdown": {"early": {"HAIC": 1, "UFT": 0, "BSC": 2}, "late": {"HAIC": 0, "UFT": 0, "BSC": 1}}}


def _boxes(ax):
    """(text, centre x, top y, kind by edge style) of every box of a drawn diagram."""
    from matplotlib.patches import FancyBboxPatch
    from matplotlib.text import Annotation

    texts = [t for t in ax.texts if not isinstance(t, Annotation)]
    out = []
    for patch in (p for p in ax.patches if isinstance(p, FancyBboxPatch)):
        x0, y0, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
        inside = [t.get_text() for t in texts if x0 <= t.get_position()[0] <= x0 + w and y0 <= t.get_position()[1] <= y0 + h]
        out.append((inside[0] if inside else "", x0 + w / 2, y0 + h, patch.get_linestyle()))
    return out


def test_consort_diagram_is_one_vertical_path_with_exits_to_the_side():
    from src.present import flow

    helpers.setup_plots()
    ax = flow.draw_consort(flow.salvage_flow(_flow_counts()))
    boxes = {text.split("\n")[0]: (x, top, ls) for text, x, top, ls in _boxes(ax)}
    assert set(boxes) == {"All", "DC", "PD", "CP > 8", "SPP", "Sorafenib", "Other", "early", "late"}
    path = ["All", "PD", "SPP"]
    assert len({round(boxes[b][0], 6) for b in path}) == 1, "the path boxes share one vertical axis"
    assert [boxes[b][1] for b in path] == sorted((boxes[b][1] for b in path), reverse=True)
    for exit_, after, before in (("DC", "All", "PD"), ("CP > 8", "PD", "SPP")):
        assert boxes[exit_][0] > boxes["All"][0] + 1, f"{exit_} is not to the side"
        assert boxes[before][1] < boxes[exit_][1] < boxes[after][1], f"{exit_} is not beside its arrow"
    assert boxes["CP > 8"][2] == "--" and boxes["DC"][2] == "-"
    assert boxes["Sorafenib"][1] == boxes["Other"][1] < boxes["SPP"][1]  # the arms side by side, below
    texts = [t for t, *_ in _boxes(ax)]
    assert all("(n\u00a0=\u00a0" in t for t in texts), "a box without its n"
    fig = ax.figure
    assert figures.size_problems(fig) == []
    plt.close(fig)


def test_consort_diagram_suppresses_small_counts():
    from src.present import flow

    ax = flow.draw_consort(flow.salvage_flow(_flow_counts(), min_cell=3))
    text = "\n".join(t for t, *_ in _boxes(ax))
    assert "(n\u00a0=\u00a0<3)" in text and "(n\u00a0=\u00a010)" in text
    assert not any(f"(n\u00a0=\u00a0{k})" in text for k in (1, 2))
    plt.close(ax.figure)


# --- great_tables' CSS ------------------------------------------------------------------------------

def test_great_tables_css_applies_to_its_own_table_only():
    table = tables.plain(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), "Table 9. Something")
    page = table.html("t9")
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css) for s in block.split(",")]
    assert selectors and all(s.startswith("#t9") for s in selectors), [s for s in selectors if not s.startswith("#t9")]
    assert '<div id="t9"' in page
    # what great_tables writes without scoping (it would take the borders off every other table of the report)
    raw = table.gt("t9").as_raw_html()
    raw_selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", re.search(r"<style>(.*?)</style>", raw, re.S).group(1))
                     for s in block.split(",")]
    assert any(not s.startswith("#t9") for s in raw_selectors)
    assert tables.plain(pd.DataFrame({"a": [1]}), "My title: x").html().startswith('<div id="My-title-x"')


def test_consort_groups_that_overlap_the_next_box_are_a_breakdown_not_exits():
    from matplotlib.text import Annotation

    from src.present import flow

    counts = {**_flow_counts(), "progressed": None, "progression": ("Progressed (any)", 8),
              "analysed": ("SPP", 7), "groups": {"Sorafenib": 3, "Other": 4}}
    ax = flow.draw_consort(flow.salvage_flow(counts))
    texts = [t for t, *_ in _boxes(ax)]
    assert any(t.startswith("Of these:") and "DC (n\u00a0=\u00a03)" in t and "PD (n\u00a0=\u00a07)" in t for t in texts)
    horizontal = [a for a in ax.texts if isinstance(a, Annotation) and a.xy[1] == a.xyann[1]]
    assert len(horizontal) == 1, "only the exclusion leaves the path with an arrow"
    plt.close(ax.figure)


def test_levels_read_in_words_inside_a_sentence():
    assert [tables.phrase(c) for c in ("bsc", "haic", "uft")] == ["best supportive care", "continued HAIC", "tegafur-uracil"]
    assert tables.phrase("PVTT") == "PVTT" and tables.phrase("AFP level") == "AFP level"
    assert tables.phrase("Total bilirubin") == "total bilirubin" and tables.phrase("") == ""
