"""Ensemble, publication of a cohort's numbers, and known truths (issue 13, points 2-5).

Reference values are computed by hand or by independent implementations (lifelines, scipy). The
end-to-end tests (publish a cohort the project did not make, reconstruct it, publish the
reconstruction) run the notebooks and the calibration once each: a few minutes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.synthetic import coverage, ensemble, publish, quantities, reconstruct, truth
from src import validate

ROOT = Path(__file__).resolve().parents[1]


# --- classes and summaries, by hand ---------------------------------------------------------------

@pytest.mark.parametrize("values, kind, expected", [
    ([0.0101, 0.0104, 0.0098], "p", "pinned"),          # all print 0.010
    ([0.02, 0.04, 0.03], "p", "constrained"),           # range 0.02, all < 0.05
    ([0.03, 0.07], "p", "free"),                        # both sides of 0.05
    ([0.2, 0.35], "p", "free"),                         # range 0.15 > 0.1
    ([1.001, 1.004], "hr", "pinned"),                   # both 1.00
    ([1.0, 1.4], "hr", "constrained"),
    ([1.0, 2.0], "hr", "free"),
    ([41.6, 41.9, 42.4], "percent", "pinned"),          # all 42
    ([np.nan, np.nan], "r", "not estimable"),
])
def test_classify_by_hand(values, kind, expected):
    assert ensemble.classify(values, kind) == expected


def test_ensemble_table_by_hand():
    long = pd.DataFrame({"member": [1, 2, 3, 4] * 2, "group": "g", "quantity": ["a"] * 4 + ["b"] * 4,
                         "kind": ["p"] * 4 + ["hr"] * 4,
                         "value": [0.01, 0.2, 0.03, np.nan, 1.0, 3.0, 2.0, 4.0]})
    t = ensemble.ensemble_table(long).set_index("quantity")
    assert t.loc["a", ["members", "min", "median", "max"]].tolist() == [3, 0.01, 0.03, 0.2]
    assert t.loc["a", "share_p_below_0.05"] == pytest.approx(2 / 3)
    assert t.loc["b", "median"] == 2.5 and np.isnan(t.loc["b", "share_p_below_0.05"])
    assert t["class"].tolist() == ["free", "free"]


def test_member_seeds_are_visible_and_fixed():
    assert ensemble.member_seeds(3) == [ensemble.ENSEMBLE_SEED0 + 1, ensemble.ENSEMBLE_SEED0 + 2,
                                        ensemble.ENSEMBLE_SEED0 + 3]


# --- parallel machinery ----------------------------------------------------------------------------

def _square(x):
    return x * x


def test_run_parallel_locally_keeps_the_order():
    assert ensemble.run_parallel(_square, [(i,) for i in range(6)], jobs=2) == [0, 1, 4, 9, 16, 25]


def test_run_parallel_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert ensemble.run_parallel(_square, [(i,) for i in range(5)], dask_address=cluster.scheduler_address) \
            == [0, 1, 4, 9, 16]


# --- publish: the notebooks' numbers as a targets file ------------------------------------------------

def test_targets_from_reports_by_hand(tmp_path):
    template = tmp_path / "published.csv"
    template.write_text("id,value,decimals,relation,statistic,source,notebook\n"
                        "a,0.5,1,=,x,s,01\nb,0.001,3,<,p_value,s,01\nc,0.001,3,<,p_value,s,02\nd,7,0,=,count,s,02\n")
    reports = tmp_path / "tables"
    reports.mkdir()
    (reports / "paper_vs_run_01.csv").write_text("id,source,published,reproduced,status,note\n"
                                                 "a,s,0.5,0.7,differs,\nb,s,<0.001,0.000,match,\n")
    (reports / "paper_vs_run_02.csv").write_text("id,source,published,reproduced,status,note\n"
                                                 "c,s,<0.001,0.042,differs,\n")
    t = publish.targets_from_reports(reports, template).set_index("id")
    assert list(t.index) == ["a", "b", "c"]  # d was not computed: left out
    assert t.loc["a", ["value", "relation"]].tolist() == ["0.7", "="]
    assert t.loc["b", ["value", "relation"]].tolist() == ["0.001", "<"]  # still below the printed bound
    assert t.loc["c", ["value", "relation"]].tolist() == ["0.042", "="]
    assert ensemble.count_matches(reports) == {"match": 1, "differs": 2, "not_reproducible": 0}


# --- quantities, against independent implementations --------------------------------------------------

def test_member_quantities_agree_with_lifelines_and_scipy():
    from lifelines import KaplanMeierFitter
    from scipy import stats

    tables = validate.load_and_validate(ROOT / "data")
    q = quantities.member_quantities(tables).set_index("quantity")["value"]
    p = tables["patients"]
    days = (p["last_followup_date"] - p["first_haic_date"]).dt.days / 30.4375
    km = KaplanMeierFitter().fit(days, p["death"])
    assert q["OS at 18 months (%)"] == pytest.approx(100 * km.predict(18.0))
    rho = stats.spearmanr(p["total_bilirubin"], p["albumin"]).statistic
    assert q["Spearman r, total_bilirubin and albumin (baseline)"] == pytest.approx(rho)


def test_member_quantities_of_follow_up_delays_and_medians_by_hand():
    from lifelines import KaplanMeierFitter

    from src import helpers

    tables = validate.load_and_validate(ROOT / "data")
    q = quantities.member_quantities(tables).set_index("id")["value"]
    p = tables["patients"]
    months = (p["last_followup_date"] - p["first_haic_date"]).dt.days / 30.4375
    reverse = KaplanMeierFitter().fit(months, 1 - p["death"])  # censoring as the event
    assert q["followup_median"] == pytest.approx(reverse.median_survival_time_)
    spp = helpers.spp_frame(tables)
    delay = (spp["salvage_start_date"] - spp["progression_date"]).dt.days
    sor = spp["salvage_treatment"] == "sorafenib"
    assert q["delay_median_sorafenib"] == delay[sor].median() and q["delay_max_other"] == delay[~sor].max()
    low = spp["albumin"] < 3.8
    km = KaplanMeierFitter().fit(spp.loc[low, "spp_time"], spp.loc[low, "death"])
    assert q["spp_median_alb_0"] == pytest.approx(km.median_survival_time_)


def test_committed_quantities_are_what_the_committed_members_give():
    """`data/ensemble/quantities.csv` (read by the notebooks' marks and by notebook 10) is current."""
    committed = ensemble.read_quantities(ensemble.ENSEMBLE_DIR)
    fresh = ensemble.ensemble_quantities(ensemble.read_members(ensemble.ENSEMBLE_DIR))
    columns = ["member", "id", "quantity", "group", "kind"]  # every column but the value: wording drift fails too
    assert committed[columns].values.tolist() == fresh[columns].values.tolist()
    np.testing.assert_allclose(committed["value"], fresh["value"], rtol=1e-5, equal_nan=True)


def test_marks_by_hand_and_only_on_a_reconstruction(tmp_path):
    from types import SimpleNamespace

    folder = tmp_path / "ensemble"
    folder.mkdir()
    pd.DataFrame({"member": [1, 2, 1, 2, 1, 2], "id": ["a", "a", "b", "b", "c", "c"], "quantity": list("aabbcc"),
                  "group": "g", "kind": "months", "value": [1.0, 1.0, 1.0, 2.5, 1.0, 5.0]}
                 ).to_csv(folder / ensemble.QUANTITIES_NAME, index=False)
    paths = SimpleNamespace(data=tmp_path, bundled=True)
    mark = ensemble.marker(paths)
    # months: the same to 1 decimal -> pinned; a range of 1.5 <= 2 months -> constrained; 4 months -> free
    assert [mark.cls(i) for i in "abc"] == ["pinned", "constrained", "free"]
    assert "free" in mark("c") and ensemble.NOTEBOOK in mark("c") and "2 cohorts" in mark.legend
    with pytest.raises(KeyError):
        mark("unknown")
    for other in (ensemble.marker(SimpleNamespace(data=tmp_path, bundled=False)),   # a user's own cohort
                  ensemble.marker(paths, same_definitions=False)):                # other cut-offs
        assert other("c") == "" and other.legend == "" and not other.active


# --- known truths ------------------------------------------------------------------------------------

def test_true_cohorts_pass_validation_and_are_deterministic(tmp_path):
    a, b = truth.true_cohort(truth.TRUTH_SEED0 + 1), truth.true_cohort(truth.TRUTH_SEED0 + 1)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    ensemble.write_tables(a, tmp_path)
    tables, warnings_ = validate.check_data(tmp_path)
    assert len(warnings_) == 0
    p, g = tables["patients"], tables["progression"]
    assert len(p) == truth.TRUTH["n"]
    assert set(p["n_haic_sessions"]) <= set(truth.TRUTH["sessions"])
    assert set(g["patient_id"]) == set(p.loc[p["best_response"] == "PD", "patient_id"])
    sor = g[g["salvage_treatment"] == "sorafenib"]
    assert (sor["salvage_start_date"] >= pd.Timestamp(truth.TRUTH["sorafenib_approval"])).all()


# --- committed ensemble ----------------------------------------------------------------------------------

def test_committed_members_pass_validation_and_reproduce_the_paper():
    index = ensemble.read_index(ensemble.ENSEMBLE_DIR)
    if index is None:
        pytest.skip("no ensemble committed")
    included = index[index["included"] == "yes"]
    assert len(included) >= 10, index.to_string()
    assert (included["valid"] == "yes").all() and (included["match"] >= 236).all(), index.to_string()
    assert ((index["included"] == "yes") == (index["valid"].eq("yes") & (index["match"] >= 236))).all()
    assert ensemble.member_seeds(len(index)) == index["seed"].tolist()  # the first K seeds, none left out
    for name in included["folder"]:
        _, warnings_ = validate.check_data(ensemble.ENSEMBLE_DIR / name)
        assert len(warnings_) == 0


# --- committed means built: members and validation record the code that built them ---------------------------

#: The committed member rebuilt from its seed by `test_a_committed_member_is_rebuilt_byte_for_byte` (the cheapest
#: of the ensemble to calibrate; any included member would do, more slowly).
REBUILT_MEMBER_SEED = 20130203


def test_fingerprint_changes_with_any_byte_and_follows_the_imports(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    before = ensemble.fingerprint([a, b])
    assert ensemble.fingerprint([b, a]) == before and len(before) == 16
    a.write_text("x = 1 \n")
    assert ensemble.fingerprint([a, b]) != before
    assert ensemble.fingerprint([a, b], "extra") != ensemble.fingerprint([a, b])
    member = {str(p.relative_to(ROOT)) for p in ensemble.member_code_files()}
    # what builds a member's tables is in (found through the imports), what reads or presents them is not
    assert {"src/synthetic/reconstruct.py", "src/synthetic/spp.py", "src/stats/faststats.py", "src/study.py",
            "src/config.py", "src/validate/rules.py", "data/published_results.csv"} <= member
    assert not member & {"src/synthetic/ensemble.py", "src/synthetic/coverage.py", "src/synthetic/quantities.py",
                         "src/synthetic/truth.py", "src/helpers.py"}
    validation = {str(p.relative_to(ROOT)) for p in ensemble.source_closure(truth.VALIDATION_CODE,
                                                                             leave_out={"src.synthetic.ensemble"})}
    assert {"src/synthetic/truth.py", "src/synthetic/quantities.py", "src/synthetic/reconstruct.py"} <= validation
    assert "src/synthetic/ensemble.py" not in validation and "src/synthetic/coverage.py" not in validation


def test_a_resumed_build_keeps_a_member_of_todays_code_and_rebuilds_another(tmp_path, monkeypatch, capsys):
    import json

    calls = []

    def build_cohort(seed, published=None, log=None):  # the rebuild, stopped at once
        calls.append(seed)
        raise ValueError("stopped by the test")

    monkeypatch.setattr(reconstruct, "build_cohort", build_cohort)
    today = ensemble.member_fingerprint()
    folder = tmp_path / "seed_1"
    folder.mkdir()
    kept = {"seed": 1, "folder": "seed_1", ensemble.FINGERPRINT_FIELD: today, "valid": "yes", "match": 240}
    (folder / ensemble.MEMBER_ROW).write_text(json.dumps(kept))
    assert ensemble.build_member(1, folder) == kept and calls == []
    (folder / ensemble.MEMBER_ROW).write_text(json.dumps({**kept, ensemble.FINGERPRINT_FIELD: "0" * 16}))
    (folder / "patients.csv").write_text("an earlier code's table\n")
    row = ensemble.build_member(1, folder)
    assert calls == [1] and row["valid"] == "not built: stopped by the test" and row[ensemble.FINGERPRINT_FIELD] == today
    assert not (folder / ensemble.MEMBER_ROW).exists() and not (folder / "patients.csv").exists()  # nothing stale kept
    said = capsys.readouterr().out
    assert "seed_1: built by other code or targets (fingerprint 0000000000000000" in said and "rebuilt" in said


def test_committed_members_were_built_by_todays_code():
    import json

    index = ensemble.read_index(ensemble.ENSEMBLE_DIR)
    assert index is not None, "no data/ensemble/index.csv: `make ensemble` builds the ensemble"
    today = ensemble.member_fingerprint()
    recorded = index.get(ensemble.FINGERPRINT_FIELD, pd.Series([None] * len(index)))
    stale = [f"{name} ({code})" for name, code in zip(index["folder"], recorded) if code != today]
    assert not stale, (f"members built by other code or targets than today's (fingerprint {today}): "
                       f"{', '.join(stale)}. `make ensemble` rebuilds them (a resumed build keeps only the members "
                       "today's code built); then commit data/ensemble/.")
    for name in index["folder"]:
        row = json.loads((ensemble.ENSEMBLE_DIR / name / ensemble.MEMBER_ROW).read_text())
        assert row.get(ensemble.FINGERPRINT_FIELD) == today, f"{name}/member.json: `make ensemble` rebuilds it"


def test_committed_validation_was_built_by_todays_code():
    v = pd.read_csv(ensemble.ENSEMBLE_DIR / ensemble.VALIDATION_NAME)
    today = truth.validation_fingerprint()
    recorded = sorted(set(v[ensemble.FINGERPRINT_FIELD])) if ensemble.FINGERPRINT_FIELD in v else ["not recorded"]
    assert recorded == [today], (f"data/ensemble/{ensemble.VALIDATION_NAME} was built by other code ({recorded}) than "
                                 f"today's ({today}): `make validate-reconstruction M=30` rebuilds it")


def test_a_committed_member_is_rebuilt_byte_for_byte(tmp_path):
    index = ensemble.read_index(ensemble.ENSEMBLE_DIR).set_index("seed")
    assert index.loc[REBUILT_MEMBER_SEED, "included"] == "yes"  # its tables are committed
    committed = ensemble.ENSEMBLE_DIR / index.loc[REBUILT_MEMBER_SEED, "folder"]
    ensemble.write_tables(reconstruct.build_cohort(REBUILT_MEMBER_SEED), tmp_path)
    for name in ensemble.TABLES:
        assert (tmp_path / f"{name}.csv").read_bytes() == (committed / f"{name}.csv").read_bytes(), (
            f"{committed.name}/{name}.csv is not what today's code builds from its seed: `make ensemble` rebuilds it")


# --- end to end: print a cohort the project did not make, reconstruct it, print the reconstruction -------

@pytest.fixture(scope="module")
def printed_truth(tmp_path_factory):
    work = tmp_path_factory.mktemp("truth")
    folder = work / "truth_2"
    ensemble.write_tables(truth.true_cohort(truth.TRUTH_SEED0 + 2), folder)
    targets = work / "targets_2.csv"
    publish.publish(folder, targets)
    return work, targets


@pytest.fixture(scope="module")
def reconstruction(printed_truth):
    """The reconstruction of the printed truth with the first member seed, built once: the two tests below
    each reconstruct exactly this cohort (the same seed and targets; `build_cohort` is deterministic,
    test_reconstruct.py checks its bytes for a seed), the slowest step of each."""
    _, targets = printed_truth
    seed = ensemble.member_seeds(1)[0]
    return seed, str(targets), reconstruct.build_cohort(seed, str(targets))


def serve_reconstruction(monkeypatch, reconstruction) -> list:
    """Make `reconstruct.build_cohort` give (a copy of) the reconstruction built once for its seed and
    targets; returns the list of the seeds it served, which each test checks (a patch nobody reads would
    leave the test as slow as before, and unnoticed)."""
    seed, targets, tables = reconstruction
    real, served = reconstruct.build_cohort, []

    def build_cohort(s=reconstruct.DEFAULT_SEED, published=None, log=None):
        if s == seed and published is not None and str(published) == targets:
            served.append(s)
            return {name: frame.copy() for name, frame in tables.items()}
        return real(s, published, log)

    monkeypatch.setattr(reconstruct, "build_cohort", build_cohort)
    return served


def test_publish_draws_no_figure_and_prints_the_numbers_of_make_run(tmp_path):
    # publish runs the notebooks with FIGURES = False: no figure file, no image in the executed notebooks,
    # and the same paper-vs-run tables, byte for byte, as the committed full run (make run) of the bundled cohort
    reports = publish.run_notebooks(ROOT / "data", tmp_path)
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        p.name for p in (ROOT / "outputs" / "tables").glob("paper_vs_run_0[1-6]_*.csv"))
    for path in reports.iterdir():
        assert path.read_bytes() == (ROOT / "outputs" / "tables" / path.name).read_bytes(), path.name
    out = tmp_path / "out"
    assert not list((out / "figures").iterdir())
    # no image of any kind (a notebook shows a figure as its saved SVG, image/svg+xml, or as a PNG)
    assert all("image/" not in p.read_text() for p in (out / "notebooks").glob("*.ipynb"))


def test_publish_then_reconstruct_reproduces_the_printed_numbers(printed_truth, reconstruction, tmp_path, monkeypatch):
    _, targets = printed_truth
    served = serve_reconstruction(monkeypatch, reconstruction)
    printed = pd.read_csv(targets)
    template = pd.read_csv(publish.TEMPLATE)
    assert list(printed.columns) == list(template.columns) and len(printed) == len(template)
    row = ensemble.build_member(ensemble.member_seeds(1)[0], tmp_path / "member", str(targets))
    assert served == ensemble.member_seeds(1)
    assert row["valid"] == "yes", row
    # the paper: 238 of 253 (94%); a cohort whose printed numbers contradict nothing should do as well
    assert row["match"] >= 0.9 * len(printed), row


def test_validation_machinery_on_one_truth_and_one_reconstruction(printed_truth, reconstruction, monkeypatch):
    work, targets = printed_truth
    served = serve_reconstruction(monkeypatch, reconstruction)
    table = truth.validate_one_truth(2, 1, work, targets=targets, jobs=1)
    assert served == ensemble.member_seeds(1)
    assert list(table.columns) == truth.VALIDATION_COLUMNS
    assert (table["members"] <= 1).all() and set(table["true_cohort"]) == {2}
    one = table.dropna(subset=["min"])
    assert (one["min"] == one["max"]).all()
    assert (one["covered"] == ((one["min"] <= one["truth"]) & (one["truth"] <= one["max"]))).all()


def test_a_truth_without_any_reconstruction_counts_as_not_covered():
    rows = [  # truth 1 reconstructed (covered once of two), truth 2 not at all (every seed failed)
        {"true_cohort": 1, "quantity": "a", "kind": "p", "class": "free", "covered": True, "error_of_median": 0.1,
         "members": 3, "failed": 0},
        {"true_cohort": 1, "quantity": "b", "kind": "p", "class": "free", "covered": False, "error_of_median": -0.3,
         "members": 3, "failed": 0},
        {"true_cohort": 2, "quantity": "a", "kind": "p", "class": "not estimable", "covered": False,
         "error_of_median": np.nan, "members": 0, "failed": 3},
    ]
    v = pd.DataFrame(rows)
    assert coverage.unreconstructed(v) == [2]
    cov = coverage.coverage_table(v)
    # the failed truth is counted, as not covered, in a class of its own
    assert cov["class"].tolist() == ["free", coverage.NO_RECONSTRUCTION]
    assert cov["results"].tolist() == [2, 1] and cov["covered_pct"].tolist() == [50.0, 0.0]
    assert cov["median_abs_error"].iloc[0] == pytest.approx(0.2) and np.isnan(cov["median_abs_error"].iloc[1])
    h = coverage.headline_coverage(v).set_index("results")
    # by hand: free 1 of 2; no reconstruction 0 of 1; in all 1 of 3 (the failed truth in the denominator)
    assert h["comparisons"].to_dict() == {"pinned or constrained": 0, "free": 2, coverage.NO_RECONSTRUCTION: 1, "all": 3}
    assert h["covered"].to_dict() == {"pinned or constrained": 0, "free": 1, coverage.NO_RECONSTRUCTION: 0, "all": 1}
    assert h.loc["all", "coverage"] == pytest.approx(1 / 3) and np.isnan(h.loc["pinned or constrained", "coverage"])
    assert (h["expected"] == 0.5).all()  # K = 3 tried: (3 - 1) / (3 + 1)
    text = coverage.headline_sentence(v)
    assert "3 of the 6 failed" in text and "no seed reconstructed true cohort 2" in text
    assert "in 33% of 3 results in all" in text and "Every true cohort" not in text


def test_clopper_pearson_by_hand_and_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    # none or all covered: the one-sided bounds (alpha / 2) ** (1 / n) in closed form
    low, high = coverage.clopper_pearson(0, 5)
    assert low == 0 and high == pytest.approx(1 - 0.025 ** (1 / 5))
    low, high = coverage.clopper_pearson(5, 5)
    assert low == pytest.approx(0.025 ** (1 / 5)) and high == 1
    for k, n in ((31, 39), (194, 249), (1, 2)):
        assert coverage.clopper_pearson(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="beta"))
    assert all(np.isnan(coverage.clopper_pearson(0, 0)))


def test_expected_coverage_of_a_min_max_range_and_the_classes_not_recovered():
    # by hand: the truth is the smallest, largest or inside of k + 1 exchangeable draws; inside with (k - 1) / (k + 1)
    assert coverage.expected_coverage(3) == 0.5 and coverage.expected_coverage(10) == 9 / 11
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(20000, 11))  # a simulation of the same: truth in column 0, 10 members
    inside = (draws[:, 1:].min(1) <= draws[:, 0]) & (draws[:, 0] <= draws[:, 1:].max(1))
    assert abs(inside.mean() - 9 / 11) < 0.01
    rows = [{"true_cohort": 1, "quantity": f"q{i}", "kind": "r", "class": "free", "covered": False,
             "error_of_median": 0.5, "members": 3, "failed": 0} for i in range(5)]
    rows += [{"true_cohort": 1, "quantity": "h", "kind": "hr", "class": "constrained", "covered": True,
              "error_of_median": 0.1, "members": 3, "failed": 0}]
    text = coverage.validation_sentences(pd.DataFrame(rows))
    # pinned or constrained apart from free, each with its interval (1 of 1: 2.5%-100%; 0 of 5: 0-52%)
    assert ("covered the true value in 100% of 1 pinned or constrained results (95% CI 3-100%) and in 0% of 5 free "
            "results (95% CI 0-52%)") in text
    assert "none of the 3 failed" in text and "about 50% ((K - 1) / (K + 1))" in text
    assert "Not recovered (coverage more than 10 points below that): free r." in text  # hr: 1 result, not judged


def test_cpu_summary_adds_up_the_members_time():
    # calibration 10 + 20 + 30 = 60 s, scoring 5 + 7 = 12 s (a resumed member has none): 72 s, 36 s on 2 cores
    rows = pd.DataFrame({"calibration_cpu": [10.0, 20.0, 30.0, np.nan], "scoring_cpu": [5.0, 7.0, np.nan, np.nan]})
    text = ensemble.cpu_summary(rows, wall=50, cores=2)
    assert "calibration 60 s (per member 10 / 20 / 30)" in text and "scoring (notebooks 01-06) 12 s (per member 5 / 6 / 7)" in text
    assert "72 s in all, at least 36 s on 2 cores; wall 50 s" in text
    assert ensemble.cpu_summary(pd.DataFrame({"seed": [1]}), 1, 2).startswith("no member built")


def test_failure_reasons_are_counted_per_reason_and_truth():
    # truth 1: two seeds failed on Child-Pugh, one on the medians; truth 2: one on Child-Pugh; truth 3: none
    cp = "could not make baseline Child-Pugh scores consistent with the laboratory values"
    medians = "the rank stage found no order of the SPP times with both printed medians in place"
    v = pd.DataFrame({"true_cohort": [1, 1, 2, 3], "quantity": ["a", "b", "a", "a"],
                      "failures": [f"11: {cp}; 12: {medians}; 13: {cp}", f"11: {cp}; 12: {medians}; 13: {cp}",
                                   f"21: {cp}", np.nan]})
    out = coverage.failure_reasons(v)
    assert out.to_dict("records") == [{"reason": cp, "true_cohorts": "1, 2", "reconstructions": 3},
                                      {"reason": medians, "true_cohorts": "1", "reconstructions": 1}]
    assert coverage.failure_reasons(v.drop(columns="failures")).empty
    assert coverage.failure_reasons(v[v["true_cohort"] == 3]).empty


def test_the_reconstruction_of_a_truth_recovers_its_child_pugh_albumin_correlation(printed_truth, reconstruction):
    # the truth's Child-Pugh score is the sum of its components' points, and so is the reconstruction's
    # (src/synthetic/baseline.py): the score falls as albumin rises in both (the machinery end to end, K = 1)
    work, _ = printed_truth
    true = validate.load_and_validate(work / "truth_2", strict=True)["patients"]
    rebuilt = reconstruction[2]["patients"]
    r = [p["child_pugh_score"].rank().corr(p["albumin"].rank()) for p in (true, rebuilt)]
    assert r[0] < -0.4 and r[1] < -0.3, r
