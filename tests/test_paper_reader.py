"""The reader's edition of the comparison with the paper: every published id in words (`paper.describe`), the
paper-vs-run table a notebook displays (words, no ids, no nan, statuses in words) while its CSV keeps the columns
the scorecard reads, and the audit's tables and summary in words."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from src.paper import audit, compare as paper
from src import helpers

ROOT = helpers.ROOT
PUBLISHED = pd.read_csv(ROOT / "data" / "published_results.csv", dtype=str)
ID_LIKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


# --- describe ------------------------------------------------------------------------

def test_every_published_id_has_a_description_in_words():
    descriptions = {i: paper.describe(i) for i in PUBLISHED["id"]}
    assert len(descriptions) == 253
    assert not [d for d in descriptions.values() if "_" in d or not d.strip()]
    assert len(set(descriptions.values())) == len(descriptions), "two ids share a description"


def test_describe_by_hand():
    assert paper.describe("flow_n_haic_from_2009") == "Patients given continued HAIC from 2009 (Figure 1)"
    assert paper.describe("flow_n_bsc_from_2009") == "Patients given best supportive care from 2009 (Results)"
    assert paper.describe("flow_n_bsc_from_2009_fig") == "Patients given best supportive care from 2009 (Figure 1)"
    assert paper.describe("t2_tumor_count_ge4_sor") == "Table 2: tumour count ≥4, sorafenib group, n"
    assert paper.describe("t2_alt_median_oth") == "Table 2: ALT, other-salvage group, median (U/L)"
    assert paper.describe("t1_afp_gt500") == "Table 1: AFP >500 ng/mL, n"
    assert paper.describe("spp_median_sor") == "Median SPP, sorafenib (months)"
    assert paper.describe("t3_multi_hr_tbil") == "Table 3: multivariable HR, total bilirubin"
    assert paper.describe("t3_multi_p_ascites") == "Table 3: multivariable Cox p, ascites"
    assert paper.describe("r_sessions_1_n") == "Patients with 1 HAIC session, n"  # one session, not "session(s)"
    assert paper.describe("r_sessions_2_pct") == "Patients with 2 HAIC sessions (% of the cohort)"
    assert paper.describe("os_2y_pct") == "2-year overall survival (%)"


def test_describe_falls_back_to_words():
    # ids the vocabulary cannot read still read in words, without underscores
    assert paper.describe("t2_new_thing_p") == "Table 2: new thing p"
    assert paper.describe("xyz_abc_def") == "Xyz abc def"
    assert "_" not in paper.describe("t3_multi_hr_newfactor")


def test_in_words_and_printed_in():
    assert paper.in_words("t2_pvtt_yes_oth=5") == "Table 2: portal vein tumour thrombosis, yes, other-salvage group, n = 5"
    assert paper.in_words("see spp_median_sor; chi2_like stays") == "see Median SPP, sorafenib (months); chi2_like stays"
    assert paper.printed_in("Table 3, multivariate Cox, Ascites, p; Abstract") == "Table 3; Abstract"
    assert paper.printed_in("Results (Child-Pugh score 9 or more); Figure 1 (Child-Pugh grade C after HAIC)") == \
        "Results; Figure 1"


def test_notebook_title_in_words():
    assert paper.notebook_title("04_overall_survival") == "Overall survival"
    assert paper.notebook_title("06_cox_prognostic_factors") == "Prognostic factors for survival post-progression"
    assert paper.notebook_title("99_not_a_notebook") == "Not a notebook"


def test_agreement_sentence_counts_without_plural_tricks():
    statuses = ["match"] * 238 + ["differs"] * 5 + ["not reproducible"] * 10
    assert paper.agreement_sentence(statuses) == \
        "238 of 253 printed numbers reproduced, 5 differ, 10 cannot be reproduced"
    assert paper.agreement_sentence(["match", "differs"]) == "1 of 2 printed numbers reproduced, 1 differs"
    assert paper.plural(1, "number") == "1 number" and paper.plural(2, "number") == "2 numbers"


# --- paper_vs_run ----------------------------------------------------------------------

@pytest.fixture
def paths(tmp_path):
    """The bundled published numbers, output folders in tmp_path."""
    return helpers.resolve_paths(None, tmp_path / "out")


REPRODUCED = {"flow_n_haic_from_2009": 4, "t2_tumor_count_ge4_sor": 14, "t3_multi_p_sorafenib": 0.0252,
              "os_logrank_p_dc_vs_pd": 0.00002, "t3_multi_hr_sorafenib": float("nan"), "spp_median_sor": 5.5}


def test_paper_vs_run_returns_a_table_in_words(paths):
    table = paper.paper_vs_run(REPRODUCED, "04_overall_survival", paths)
    assert table.title == "Paper vs this run: Overall survival"
    for text in (table.markdown(), table.html()):
        body = re.sub(r"<style.*?</style>", "", text, flags=re.DOTALL)
        visible = re.sub(r"<[^>]+>", " ", body)  # HTML: the text a reader sees, not class names
        assert not [w for w in ID_LIKE.findall(visible) if w in set(PUBLISHED["id"])], "an id is shown"
        assert "04_overall" not in visible and not re.search(r"\bnan\b|\bNaN\b|\bTrue\b|\bFalse\b", visible)
    shown = table.frame()
    assert list(shown.columns) == ["Published number", "Printed in", "Paper", "This run", "Agreement", "Note"]
    assert set(shown["Agreement"]) <= {"Match", "Differs", "Not reproducible", "Not computed"}
    by_number = shown.set_index("Published number")
    assert by_number.loc["Table 3: multivariable Cox p, sorafenib", "Agreement"] == "Not reproducible"
    assert by_number.loc["Table 3: multivariable HR, sorafenib", "Agreement"] == "Not computed"
    assert by_number.loc["Overall survival, disease control vs progressive disease: log-rank p", "This run"] == "<0.001"
    assert by_number.loc["Median SPP, sorafenib (months)", "Agreement"] == "Match"
    assert by_number.loc["Median SPP, sorafenib (months)", "Printed in"] == "Abstract; Results"
    assert not any("_" in n for n in shown["Note"])
    written = (paths.tables / "paper_vs_run_04_overall_survival.md").read_text(encoding="utf-8")
    assert "Paper vs this run: Overall survival" in written and "t3_multi" not in written


def test_paper_vs_run_csv_is_what_the_scorecard_reads(paths):
    table = paper.paper_vs_run(REPRODUCED, "04_overall_survival", paths)
    written = pd.read_csv(paths.tables / "paper_vs_run_04_overall_survival.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == paper.SCORECARD_COLUMNS == ["id", "source", "published", "reproduced", "status",
                                                                "note"]
    assert written["status"].isin(paper.SCORECARD_STATUSES).all()
    rows = written.set_index("id")
    assert rows.loc["t3_multi_p_sorafenib", "status"] == "not reproducible"
    assert rows.loc["t3_multi_p_sorafenib", "reproduced"] == "0.025"
    assert rows.loc["os_logrank_p_dc_vs_pd", "published"] == "<0.001"
    assert rows.loc["os_logrank_p_dc_vs_pd", "reproduced"] == "0.000"
    assert rows.loc["t3_multi_hr_sorafenib", ["reproduced", "status"]].tolist() == ["", "not computed"]
    assert "Wald" in rows.loc["t3_multi_p_sorafenib", "note"]  # the audit's reason, verbatim
    pd.testing.assert_frame_equal(table.data.astype(str), written.astype(str), check_dtype=False)
    # the scorecard reads it back
    reports = paper.read_paper_vs_run(paths.tables)
    scored, unknown = paper.build_scorecard(PUBLISHED.to_dict("records"), reports)
    assert unknown == [] and {r["id"]: r["status"] for r in scored}["t3_multi_p_sorafenib"] == "not reproducible"


def test_paper_vs_run_none_without_published_results(tmp_path):
    own = helpers.resolve_paths(tmp_path, tmp_path / "out")
    assert paper.paper_vs_run({"anything": 1}, "nb", own) is None


# --- the audit in words ----------------------------------------------------------------

def _visible(table) -> str:
    return table.markdown()


def test_audit_tables_in_words():
    pub = audit.published_by_id()
    findings = audit.run_audit(pub)
    shown = [paper.findings_table(findings, "All", columns=tuple(paper.FINDING_COLUMNS)),
             paper.audit_summary_table(audit.summary_by_check(findings), "Summary"),
             paper.table2_tests_table(audit.table2_tests(pub), "Table 2"),
             paper.reading_table(pub, "Reading"), paper.cox_table(pub, "Cox"), paper.directions_table(pub, "Dir")]
    for table in shown:
        text = _visible(table)
        assert not [w for w in ID_LIKE.findall(text) if w in set(PUBLISHED["id"])], table.title
        assert not re.search(r"\bnan\b|\bTrue\b|\bFalse\b", text), table.title
    assert set(shown[0].frame()["Consistent"]) == {"Yes", "No"}


def test_sorafenib_hr_in_one_direction():
    pub = audit.published_by_id()
    cox = audit.cox_in_one_direction(pub).set_index("key")
    # printed 2.481 (1.120-5.497) as "Sorafenib (yes vs. no)"; sorafenib vs other salvage: 1/2.481 = 0.403,
    # limits 1/5.497 = 0.182 and 1/1.120 = 0.893; p unchanged
    sor = cox.loc["sorafenib"]
    assert sor["factor"] == "Sorafenib vs other salvage" and sor["inverted"]
    assert (round(sor["hr"], 3), round(sor["ci_low"], 3), round(sor["ci_high"], 3)) == (0.403, 0.182, 0.893)
    assert sor["printed_p"] == "0.010"
    assert cox.loc["ascites", "factor"] == "Ascites (no ascites vs ascites)" and cox.loc["ascites", "hr"] == 0.283
    table = paper.cox_table(pub, "Cox")
    assert "0.403 (0.182–0.893)" in table.markdown() and "2.481" not in table.frame().to_string()
    assert any("printed the inverse" in note and "2.481 (1.120–5.497)" in note for note in table.footnotes)


def test_cox_p_sentence_from_the_printed_numbers():
    # Wald p of 2.481 (1.120-5.497): SE = (ln 5.497 - ln 1.120)/3.92 = 0.406, z = 2.24, p = 0.025;
    # of 0.283 (0.104-0.769): p = 0.013 (tests/test_audit.py works both by hand)
    sentence = audit.cox_p_sentence(audit.published_by_id())
    assert "Abstract" in sentence and "sorafenib 0.010, ascites 0.003" in sentence
    assert "about 0.025 and 0.013" in sentence
    found = paper.audit_found(audit.run_audit(), audit.published_by_id())
    assert sentence in found and not [w for w in ID_LIKE.findall(found) if w in set(PUBLISHED["id"])]


def test_scorecard_by_part_in_words():
    rows = pd.DataFrame({"id": ["t1_sex_male", "t1_sex_female", "t3_multi_p_sorafenib"],
                         "status": ["match", "differs", "not reproducible"]})
    frame = paper.scorecard_by_part(rows).frame()
    assert frame.columns[0] == "Part of the paper" and list(frame.iloc[:, 0]) == ["Table 1", "Table 3"]
    assert frame.set_index("Part of the paper").loc["Table 1", "Differs"] == "1"
    assert np.all(["_" not in c for c in frame.columns])
