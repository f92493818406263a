"""What a reader sees of a table (issue 18, items 1, 7 and 8): `tables.plain`, `tables.write_frame` and the
Word file of `tables.manuscript_docx`.

A reader never sees an index column, an internal column name, NaN, True/False or a long float; p-values
read as journals print them; a median never reached reads NR. The CSV stays what `df.to_csv` writes.
The Word tables are three-line tables with a repeated header row, rows that do not split, numbered titles
and footnotes in words. Expected values are written out by hand.
"""
from __future__ import annotations

import json
import re
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from src.present import tables

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FORBIDDEN = ["nan", "NaN", "None", "True", "False", "47.44147", "ci_low", "ci_high", "share_p_below"]


def reader_frame() -> pd.DataFrame:
    """A frame with everything a reader must not see: an index, NaN, booleans, a long float, internal names."""
    return pd.DataFrame({
        "label": ["disease control", "progressive disease", "sorafenib"],
        "n": [19, 41, 12],
        "median": [47.441478439425055, 5.420944558521561, np.nan],
        "ci_low": [17.018480492813143, 5.026694045174538, 4.6],
        "ci_high": [61.53593429158111, 7.162217659137577, np.nan],
        "p": [0.0321, 0.0004, np.nan],
        "hr": [2.4712, 0.5, 1.0],
        "share_p_below_0.05": [0.26666, np.nan, 0.5],
        "significant": [True, False, True],
        "note": ["", np.nan, "reference"],
    }, index=[10, 11, 12])


def body_cells(table: tables.Table) -> list[list[str]]:
    return [[r["label"], *(r[k] for k in table.columns)] for r in table.rows]


def visible_text(table: tables.Table) -> str:
    """The text of the HTML a reader sees (tags and the style block left out) and of the Markdown."""
    html = re.sub(r"<style.*?</style>", "", table.html("t"), flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return html + "\n" + table.markdown()


def test_plain_shows_no_index_nan_booleans_long_floats_or_internal_names():
    table = tables.plain(reader_frame(), "Median overall survival by best response")
    text = visible_text(table)
    for word in FORBIDDEN:
        assert not re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text), f"{word!r} is shown"
    assert "10" not in [r["label"] for r in table.rows] and len(table.columns) == 7  # no index column
    assert "Unnamed" not in text and "| 0 " not in table.markdown()


def test_plain_merges_the_confidence_interval_and_rounds_by_kind():
    table = tables.plain(reader_frame(), "Medians")
    headers = list(table.columns.values())
    assert headers == ["N", "Median (95% CI)", "p-value", "Hazard ratio", "Share with p < 0.05", "Significant",
                       "Note"]
    assert table.stub == "Group"
    rows = body_cells(table)
    # labels in words, first letter capital; the median at 1 decimal with its CI; NR where never reached
    assert rows[0] == ["Disease control", "19", "47.4 (17.0–61.5)", "0.032", "2.47", "0.27", "Yes", "—"]
    assert rows[1] == ["Progressive disease", "41", "5.4 (5.0–7.2)", "<0.001", "0.50", "—", "No", "—"]
    assert rows[2] == ["Sorafenib", "12", "NR (4.6–NR)", "—", "1.00", "0.50", "Yes", "reference"]
    assert "NR, not reached" in " ".join(table.footnotes) and "CI, confidence interval" in " ".join(table.footnotes)


def test_plain_prints_nr_for_a_missing_median_and_a_dash_elsewhere():
    df = pd.DataFrame({"group": ["sorafenib", "other salvage"], "median": [6.77, np.nan], "events": [11.0, 17.0],
                       "percent": [np.nan, 10.5263], "months": [12.0, 24.0]})
    rows = body_cells(tables.plain(df, "t"))
    assert rows == [["Sorafenib", "6.8", "11", "—", "12"], ["Other salvage", "NR", "17", "10.5", "24"]]


def test_plain_headers_digits_and_levels_can_be_set_by_the_caller():
    df = pd.DataFrame({"arm": ["sorafenib"], "hr": [0.4181], "ci_low": [0.1842], "ci_high": [0.9503],
                       "statistic": [4.6512], "odd_value": [3.14159265]})
    table = tables.plain(df, "t", headers={"hr": "HR, sorafenib vs other (95% CI)"}, digits={"hr": 3})
    assert list(table.columns.values()) == ["HR, sorafenib vs other (95% CI)", "Test statistic", "Odd value"]
    assert body_cells(table)[0] == ["Sorafenib", "0.418 (0.184–0.950)", "4.65", "3.142"]
    assert tables.HEADERS["ci_low"] and tables.HEADERS["p"] == "p-value"  # the map notebook authors add to


def test_plain_shows_a_named_index_and_hides_internal_keys():
    df = pd.DataFrame({"key": ["tbil", "ascites"], "factor": ["Total bilirubin (mg/dL)", "Ascites"],
                       "p": [0.031, 0.0004]}).set_index("key")
    table = tables.plain(df, "t")  # the named index holds the keys: hidden as internal, the factor is the stub
    assert table.stub == "Factor" and body_cells(table) == [["Total bilirubin (mg/dL)", "0.031"], ["Ascites", "<0.001"]]
    codes = tables.plain(pd.DataFrame({"covariate": ["tbil", "unknown_code"], "p": [0.2, 0.3]}), "t")
    assert [r["label"] for r in codes.rows] == ["Total bilirubin", "unknown_code"]  # no words invented


def test_plain_keeps_small_counts_suppressed():
    df = pd.DataFrame({"term": ["Nausea", "Rash"], "n": [3, 12], "percent": [4.5, 17.9]})
    table = tables.plain(df, "t", SimpleNamespace(min_cell=5, bundled=False))
    assert body_cells(table) == [["Nausea", "<5", "—"], ["Rash", "12", "17.9"]]


def test_platelet_unit_is_spelled_one_way():
    assert tables.labels()["platelets"] == "Platelet count (×10⁴/µL)"
    table = tables.plain(pd.DataFrame({"factor": ["Platelet count (10^4/uL)"], "p": [0.5]}), "Platelets (10⁴/µL)")
    assert table.rows[0]["label"] == "Platelet count (×10⁴/µL)" and table.title == "Platelets (×10⁴/µL)"
    assert tables.unit_text("Platelet count (10^4/L)") == "Platelet count (10^4/L)"  # the paper's misprint, quoted
    assert "hepatitis B virus" in tables.abbreviations_in("HBV") and "hepatitis C virus" in tables.abbreviations_in("HCV")


def test_write_frame_returns_the_table_and_keeps_the_csv(tmp_path):
    paths = SimpleNamespace(tables=tmp_path, min_cell=0, bundled=True)
    df = reader_frame().reset_index(drop=True)
    table = tables.write_frame(df, "os_by_response_medians", paths)
    assert isinstance(table, tables.Table) and "<table" in table._repr_html_()
    assert (tmp_path / "os_by_response_medians.csv").read_text() == df.to_csv(index=False, lineterminator="\n")
    assert table.data.equals(df)
    md = (tmp_path / "os_by_response_medians.md").read_text(encoding="utf-8")
    html = (tmp_path / "os_by_response_medians.html").read_text(encoding="utf-8")
    assert md.startswith("**Median overall survival by best response**")  # TITLES, not "Os by response medians"
    assert "Median overall survival by best response" in html and "**" not in html
    for text in (md, re.sub(r"<style.*?</style>", "", html, flags=re.S)):
        assert "nan" not in text.lower().split() and "47.44147" not in text and "ci_low" not in text
        assert "NR (4.6–NR)" in text and "<0.001" in text.replace("&lt;", "<")
    assert tables.title_of("os_landmarks") == "Overall survival at landmark times"
    assert tables.title_of("table3_univariate").startswith("Table 3 (univariate)")


def test_write_frame_suppresses_small_counts_in_the_csv_and_the_returned_data(tmp_path):
    paths = SimpleNamespace(tables=tmp_path, min_cell=5, bundled=False)
    df = pd.DataFrame({"term": ["Nausea", "Rash"], "n": [3, 12]})
    table = tables.write_frame(df, "tox", paths, title="Adverse events")
    assert (tmp_path / "tox.csv").read_text() == "term,n\nNausea,<5\nRash,12\n"
    assert table.data["n"].tolist() == ["<5", 12]


# --- the Word file ---------------------------------------------------------------------------------

def _spec(title, columns, rows, footnotes):
    return {"title": title, "stub": "Characteristic", "columns": columns, "rows": rows, "footnotes": footnotes}


@pytest.fixture()
def small_docx(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    rows = [{"label": "Sex", "indent": 0, "bold": True, "a": "", "b": "", "p": "1.000"},
            {"label": "Male", "indent": 1, "bold": False, "a": "14 (73.7%)", "b": "14 (73.7%)", "p": ""},
            {"label": "Female", "indent": 1, "bold": False, "a": "5 (26.3%)", "b": "5 (26.3%)", "p": ""}]
    specs = {
        "table1_baseline": _spec("Table 1. Baseline characteristics", {"a": "All patients\nN = 67"},
                                 [{**r, "a": r["a"] or ""} for r in rows], ["Values are n (%) (tableone)."]),
        "table2_characteristics_at_progression": _spec(
            "Table 2. Characteristics at progression", {"a": "Sorafenib\nN = 19", "b": "Other salvage\nN = 19",
                                                        "p": "p-value"}, rows, ["p-values: Fisher's exact."]),
        "appraisal": {"title": "Appraisal of the sorafenib comparison", "stub": "Analysis",
                      "columns": {"estimate": "Estimate (95% CI)", "note": "Note"},
                      "rows": [{"label": "SMD, Sex", "estimate": "0.00", "note": "sorafenib vs other (tableone)"},
                               {"label": "RMST difference", "estimate": "2.04 (-0.54 to 4.61)", "note": "months"}],
                      "footnotes": ["One row per analysis of notebook 07."]},
    }
    for name, spec in specs.items():
        (folder / f"{name}.json").write_text(json.dumps(spec), encoding="utf-8")
    target = tables.manuscript_docx(folder, tmp_path / "m.docx",
                                    names=["table1_baseline", "table2_characteristics_at_progression", "appraisal"])
    return target


def _document(path):
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read("word/document.xml")), z.read("word/document.xml").decode("utf-8")


def test_docx_tables_are_three_line_tables_with_a_repeated_header(small_docx):
    root, xml = _document(small_docx)
    grids = root.findall(f".//{W}tbl")
    assert len(grids) == 3
    assert "TableGrid" not in xml and "Table Grid" not in xml
    for number, grid in enumerate(grids, 1):
        rows = grid.findall(f"{W}tr")
        assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None  # the header row repeats on every page
        assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)  # no row split across pages
        assert all(r.find(f"{W}trPr/{W}tblHeader") is None for r in rows[1:])
        borders = grid.find(f"{W}tblPr/{W}tblBorders")
        assert borders is not None
        edge = {e.tag[len(W):]: e.get(f"{W}val") for e in borders}
        assert edge["top"] == "single" and edge["bottom"] == "single"
        assert edge["insideV"] in ("nil", "none") and edge["insideH"] in ("nil", "none")
        assert edge["left"] in ("nil", "none") and edge["right"] in ("nil", "none")
        for inside in grid.iter(f"{W}insideV"):
            assert inside.get(f"{W}val") in ("nil", "none")
        header_rules = [c.find(f"{W}tcPr/{W}tcBorders/{W}bottom") for c in rows[0].findall(f"{W}tc")]
        assert all(b is not None and b.get(f"{W}val") == "single" for b in header_rules)
        body_rules = [b for r in rows[1:] for b in r.iter(f"{W}tcBorders")]
        assert body_rules == []  # no other horizontal rule
        # the last row is not left alone on a page: the row before it keeps with the next
        assert rows[-2].find(f".//{W}keepNext") is not None
        # columns sized to the content, not equal: the stub wider than the columns of numbers
        widths = [int(c.get(f"{W}w")) for c in grid.find(f"{W}tblGrid")]
        assert len(set(widths)) > 1
        if number < 3:
            assert widths[0] > max(widths[1:])


def test_docx_titles_are_numbered_and_footnotes_in_words(small_docx):
    from docx import Document

    doc = Document(str(small_docx))
    titles = [p.text for p in doc.paragraphs if p.text.startswith("Table ")]
    assert titles == ["Table 1. Baseline characteristics", "Table 2. Characteristics at progression",
                      "Table 3. Appraisal of the sorafenib comparison"]
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "tableone" not in text and "notebook" not in text.lower()
    assert "One row per analysis of the appraisal." in text
    # numbers centred, the stub left
    table = doc.tables[1]
    assert table.rows[1].cells[1].paragraphs[0].alignment == 1  # WD_ALIGN_PARAGRAPH.CENTER
    assert table.rows[1].cells[0].paragraphs[0].alignment in (None, 0)
    # the same tables give the same bytes (fixed dates, zip members dated 1980)
    again = tables.manuscript_docx(small_docx.parent / "tables", small_docx.parent / "again.docx",
                                   names=["table1_baseline", "table2_characteristics_at_progression", "appraisal"])
    assert again.read_bytes() == small_docx.read_bytes()


def test_appraisal_table_footnotes_and_notes_name_no_software_or_notebook():
    frame = pd.DataFrame({"analysis": ["smd_sex"], "estimate": [0.0], "ci_low": [np.nan], "ci_high": [np.nan],
                          "p": [np.nan], "n": [38], "note": ["absolute standardised mean difference (tableone)"]})
    table = tables.appraisal_table(frame, "Appraisal")
    assert table.rows[0]["note"] == "absolute standardised mean difference"
    assert not any("notebook" in n for n in table.footnotes)


def test_a_table_reads_as_markdown_in_a_text_view():
    """The text/plain beside a table's HTML (a console, a text-only notebook view) is the formatted table, never
    the raw frame with its NaN and column names."""
    import numpy as np

    table = tables.plain(pd.DataFrame({"group": ["a"], "median": [np.nan], "ci_low": [1.0], "ci_high": [np.nan]}),
                         "Medians", None)
    text = repr(table)
    assert text.startswith("**Medians**") and "NR" in text
    assert "nan" not in text.lower() and "ci_low" not in text
