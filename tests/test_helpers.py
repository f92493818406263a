"""Unit tests for src/helpers.py and src/present/flow.py, with hand-computed values."""
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from src.present import flow  # noqa: E402
from src import helpers
from src.paper import compare as paper


@pytest.fixture
def paths(tmp_path):
    """Folders in tmp_path, with a three-row published_results.csv."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "published_results.csv").write_text(
        "id,value,decimals,relation,statistic,source,notebook\n"
        "a_count,67,0,=,count,Somewhere,nb\n"
        "a_p,0.001,3,<,p_value,Somewhere else,nb\n"
        "a_pct,80,-1,=,percent,Discussion,nb\n")
    return helpers.resolve_paths(data, tmp_path / "out")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- loading and derived frames ----------------------------------------------

def test_time_between_hand_values():
    # 2009-01-01 to 2009-07-02 is 182 days; 182 / 30.4375 = 5.979 months = 26 weeks = 0.4983 years
    start, end = pd.Series(pd.to_datetime(["2009-01-01"])), pd.Series(pd.to_datetime(["2009-07-02"]))
    out = helpers.time_between(start, end)
    assert out.iloc[0] == pytest.approx(5.979, abs=5e-4)
    assert out.iloc[0] == 182 / helpers.DAYS_PER_MONTH
    assert helpers.time_between(start, end, "weeks").iloc[0] == 26
    assert helpers.time_between(start, end, "years").iloc[0] == pytest.approx(0.4983, abs=5e-5)
    with pytest.raises(ValueError, match="fortnights"):
        helpers.time_between(start, end, "fortnights")


def test_landmark_years_in_other_units():
    assert helpers.years_in([1, 2], "months") == [12, 24]
    assert helpers.years_in([1], "days") == [365.25]


def test_child_pugh_class_boundaries():
    out = helpers.child_pugh_class([5, 6, 7, 9, 10, 15, 4, 16])
    assert out.tolist()[:6] == ["A", "A", "B", "B", "C", "C"]
    assert out.iloc[6:].isna().all()


def test_split_at_both_conventions_and_missing():
    x = pd.Series([3, 4, 5, np.nan])
    assert helpers.split_at(x, 4).tolist()[:3] == ["<4", ">=4", ">=4"]
    assert helpers.split_at(x, 4, " mm").iloc[0] == "<4 mm"
    assert helpers.split_at(x, 4, strict=True).tolist()[:3] == ["<=4", "<=4", ">4"]
    assert pd.isna(helpers.split_at(x, 4).iloc[3])


def test_treatment_era_labels_boundary_and_empty_era():
    dates = pd.Series(pd.to_datetime(["2008-12-31", "2009-01-01", "2010-05-05"]))
    era = helpers.treatment_era(dates, "2009-01-01", 2005)
    assert era.tolist() == ["2005-2008", "from 2009", "from 2009"]
    assert list(era.cat.categories) == ["2005-2008", "from 2009"]
    only_late = helpers.treatment_era(dates.iloc[1:], "2009-01-01", 2005)
    assert list(only_late.cat.categories) == ["2005-2008", "from 2009"]  # the empty era stays a category


# --- summaries ---------------------------------------------------------------

def test_count_percent_order_absent_and_denominator():
    out = helpers.count_percent(pd.Series(["a", "b", "b", "b"], name="x"), order=["b", "a", "c"])
    assert out.index.tolist() == ["b", "a", "c"]
    assert out["n"].tolist() == [3, 1, 0]
    assert out["percent"].tolist() == [75.0, 25.0, 0.0]
    assert out.index.name == "x"
    assert helpers.count_percent(["a"], denominator=4).loc["a", "percent"] == 25.0


def test_count_percent_default_order_is_most_frequent_first():
    assert helpers.count_percent(["a", "b", "b"]).index.tolist() == ["b", "a"]


def test_order_present_drops_absent_levels():
    df = pd.DataFrame({"x": ["a", "c", None]})
    assert helpers.order_present(df, {"x": ["a", "b", "c"]}) == {"x": ["a", "c"]}


def test_clopper_pearson_hand_values():
    # k = 0: lower bound 0, upper bound 1 - (alpha/2)^(1/n)
    low, high = helpers.clopper_pearson(0, 10)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** (1 / 10))
    # k = n: symmetric
    low, high = helpers.clopper_pearson(10, 10)
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 10))
    # general case: beta quantiles
    low, high = helpers.clopper_pearson(19, 67)
    assert low == pytest.approx(stats.beta.ppf(0.025, 19, 49))
    assert high == pytest.approx(stats.beta.ppf(0.975, 20, 48))


def test_patients_with_grade_counts_each_patient_once_per_term():
    events = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p3", "p3"],
                           "term": ["AST", "AST", "AST", "AST", "Nausea"],
                           "grade": [3, 4, 2, 3, 3]})
    out = helpers.patients_with_grade(events, n_patients=10, min_grade=3)
    assert out.loc["AST", "n"] == 2  # p1 twice counts once; p2 is grade 2
    assert out.loc["AST", "percent"] == 20.0
    assert out.loc["Nausea", "n"] == 1
    fixed = helpers.patients_with_grade(events, 10, 3, terms=["Rash", "AST"])
    assert fixed.index.tolist() == ["Rash", "AST"] and fixed["n"].tolist() == [0, 2]
    assert helpers.patients_with_grade(events, 10, min_grade=2).loc["AST", "n"] == 3


# --- plots -------------------------------------------------------------------

def test_plot_counts_labels_every_bar():
    ax = helpers.plot_counts(pd.Series([3, 0, 5], index=[1, 2, 3]))
    assert [t.get_text() for t in ax.texts] == ["3", "0", "5"]
    assert ax.get_ylim()[1] > 5


def test_plot_distribution_log_axis_and_median_line():
    ax = helpers.plot_distribution(pd.Series([1, 10, 100, 1000, np.nan]), log=True)
    assert ax.get_xscale() == "log"
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(55)  # median of 1, 10, 100, 1000


def test_distribution_grid_hides_spare_panels():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 5.0, 9.0], "c": [2.0, 3.0, 4.0]})
    fig = helpers.distribution_grid(df, ["a", "b", "c"], labels={"a": "A (U/L)"}, log=["b"], ncols=2)
    axes = fig.axes
    assert len(axes) == 4 and not axes[3].get_visible()
    assert axes[0].get_xlabel() == "A (U/L)" and axes[1].get_xlabel() == "b (log scale)"


# --- writing results ---------------------------------------------------------

def test_write_table_writes_csv_md_html(paths):
    df = pd.DataFrame({"term": ["AST", "ALT"], "n": [2, 1]})
    assert helpers.write_table(df, "tox", paths) is df
    assert (paths.tables / "tox.csv").read_text() == "term,n\nAST,2\nALT,1\n"
    assert "| AST" in (paths.tables / "tox.md").read_text()
    assert "<table" in (paths.tables / "tox.html").read_text()


# --- comparison with the paper -----------------------------------------------

def test_round_half_up_and_format_number():
    assert helpers.round_half_up(0.0445, 3) == Decimal("0.045")  # binary float would give 0.044
    assert helpers.format_number(2.0, 1) == "2.0"
    assert helpers.format_number(80, -1) == "80"
    assert helpers.format_number(84.9, -1) == "80"
    assert helpers.format_number(85, -1) == "90"
    assert helpers.format_number(float("nan"), 1) == ""


def test_compare_value():
    assert paper.compare_value("0.045", "=", 3, 0.0445) == "match"
    assert paper.compare_value("2.0", "=", 1, 2.04) == "match"
    assert paper.compare_value("2.0", "=", 1, 2.05) == "differs"
    assert paper.compare_value("80", "=", -1, 79.6) == "match"
    assert paper.compare_value("80", "=", -1, 86) == "differs"
    assert paper.compare_value("0.001", "<", 3, 0.0004) == "match"
    assert paper.compare_value("0.001", "<", 3, 0.001) == "differs"
    assert paper.compare_value("67", "=", 0, None) == "not computed"
    assert paper.compare_value("67", "=", 0, float("nan")) == "not computed"


def test_paper_vs_run_table_and_file(paths):
    table = paper.paper_vs_run({"a_count": np.int64(67), "a_p": 0.0002, "a_pct": 77.0}, "nb", paths).data
    assert table["status"].tolist() == ["match", "match", "match"]
    assert table["published"].tolist() == ["67", "<0.001", "80"]
    assert table["reproduced"].tolist() == ["67", "0.000", "80"]
    written = pd.read_csv(paths.tables / "paper_vs_run_nb.csv", dtype=str)
    assert written["id"].tolist() == ["a_count", "a_p", "a_pct"]


def test_paper_vs_run_unknown_id_raises(paths):
    with pytest.raises(KeyError, match="not_an_id"):
        paper.paper_vs_run({"a_count": 67, "not_an_id": 1}, "nb", paths)


def test_paper_vs_run_without_published_results(tmp_path):
    own = helpers.resolve_paths(tmp_path, tmp_path / "out")
    assert own.published is None
    assert paper.paper_vs_run({"anything": 1}, "nb", own) is None


def test_only_published(paths, tmp_path):
    assert paper.only_published({"a_count": 1, "a_count_8": 2}, paths) == {"a_count": 1}
    own = helpers.resolve_paths(tmp_path, tmp_path / "out2")
    assert paper.only_published({"x": 1}, own) == {"x": 1}


# --- src/present/flow.py -------------------------------------------------------------

def test_layout_puts_leaves_in_slots_and_centres_parents():
    tree = flow.box("root", 3, [flow.box("a", 1), flow.box("b", 2, [flow.box("c", 1), flow.box("d", 1)])])
    where = {node["text"]: (x, depth) for node, x, depth in flow.layout(tree)}
    assert where["a"] == (0, 1) and where["c"] == (1, 2) and where["d"] == (2, 2)
    assert where["b"] == (1.5, 1)
    assert where["root"] == (0.75, 0)


def test_box_text_keeps_count_on_one_line():
    text = flow.box_text(flow.box("A rather long label that must be wrapped", 120, lines=["Option (n\u00a0=\u00a03)"]))
    assert "(n\u00a0=\u00a0120)" in text.splitlines()
    assert text.splitlines()[-1].endswith("(n\u00a0=\u00a03)")


def counts_for_flow():
    return {"title": "All", "total": 10, "response": {"DC": 3, "PD": 7}, "progressed": "PD",
            "excluded": {"CP > 8": 1}, "analysed": ("SPP", 6), "groups": {"Sorafenib": 2, "Other": 4},
            "split": "Other",
            "breakdown": {"early": {"HAIC": 1, "UFT": 0, "BSC": 2}, "late": {"HAIC": 0, "UFT": 0, "BSC": 1}}}


def test_salvage_flow_leaves_out_empty_groups():
    counts = {**counts_for_flow(), "groups": {"Sorafenib": 0, "Other": 4}}
    spp_box = flow.salvage_flow(counts)["children"][1]["children"][1]
    assert [c["text"] for c in spp_box["children"]] == ["Other"]
    counts["breakdown"] = {"early": {"HAIC": 0, "BSC": 0}, "late": {"HAIC": 1, "BSC": 3}}  # an era nobody was in
    other = flow.salvage_flow(counts)["children"][1]["children"][1]["children"][0]
    assert [c["text"] for c in other["children"]] == ["late"]


def test_salvage_flow_builds_tree_from_counts_and_drops_empty_options():
    tree = flow.salvage_flow(counts_for_flow())
    assert (tree["text"], tree["n"]) == ("All", 10)
    dc, pd_box = tree["children"]
    assert dc["children"] == [] and [c["text"] for c in pd_box["children"]] == ["CP > 8", "SPP"]
    assert pd_box["children"][0]["kind"] == "exclude"
    other = pd_box["children"][1]["children"][1]
    early, late = other["children"]
    assert (early["n"], late["n"]) == (3, 1)
    assert early["lines"] == ["HAIC (n\u00a0=\u00a01)", "BSC (n\u00a0=\u00a02)"]




def test_salvage_flow_gives_progression_its_own_box_when_other_groups_progressed_too():
    counts = {**counts_for_flow(), "progressed": None, "progression": ("Progressed (any)", 7)}
    tree = flow.salvage_flow(counts)
    assert [(c["text"], c["n"]) for c in tree["children"]] == [("DC", 3), ("PD", 7), ("Progressed (any)", 7)]
    assert tree["children"][1]["children"] == []
    assert [c["text"] for c in tree["children"][2]["children"]] == ["CP > 8", "SPP"]

def test_salvage_flow_shows_small_counts_as_below_min_cell():
    tree = flow.salvage_flow(counts_for_flow(), min_cell=3)
    text = "\n".join(flow.box_text(node) for node, _, _ in flow.layout(tree))
    # by hand: 1 and 2 are below 3 (CP > 8: 1, Sorafenib: 2, early HAIC 1 and BSC 2, late BSC 1 and its box 1)
    assert "(n\u00a0=\u00a0<3)" in text and "(n\u00a0=\u00a010)" in text and "(n\u00a0=\u00a03)" in text
    assert not any(f"(n\u00a0=\u00a0{k})" in text for k in (1, 2))
    assert tree["n"] == 10  # the counts themselves are kept


def test_plot_counts_labels_small_bars_as_below_min_cell():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    helpers.plot_counts(pd.Series([12, 3, 0], index=[2005, 2006, 2007]), ax=ax, min_cell=5)
    assert [t.get_text() for t in ax.texts] == ["12", "<5", "0"]
    plt.close(fig)

def test_draw_flow_draws_one_box_per_node_and_one_arrow_per_edge():
    ax = flow.draw_flow(flow.salvage_flow(counts_for_flow()))
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    labels = [t for t in ax.texts if not isinstance(t, Annotation)]
    assert len(ax.patches) == 9 and len(labels) == 9 and len(arrows) == 8
    assert any("(n\u00a0=\u00a010)" in t.get_text() for t in labels)


def test_cross_counts_lists_every_level_even_without_data():
    rows, cols = pd.Series(["a", "a", "b"], name="r"), pd.Series(["x", "y", "x"], name="c")
    table = helpers.cross_counts(rows, cols, ["a", "b", "z"], ["x", "y"])
    assert table.to_dict("index") == {"a": {"x": 1, "y": 1}, "b": {"x": 1, "y": 0}, "z": {"x": 0, "y": 0}}
    empty = helpers.cross_counts(pd.Series([], dtype=object), pd.Series([], dtype=object), ["a"], ["x", "y"])
    assert empty.shape == (1, 2) and int(empty.to_numpy().sum()) == 0


def test_treatment_era_label_when_the_cohort_starts_after_the_era_boundary():
    era = helpers.treatment_era(pd.to_datetime(["2013-05-01"]), "2009-01-01", 2012)
    assert list(era.cat.categories) == ["before 2009", "from 2009"] and era.iloc[0] == "from 2009"
