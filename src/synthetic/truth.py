"""Known truths: "true" cohorts of the study's design, to validate the reconstruction against.

`true_cohort(seed)` draws a cohort in the data contract, of the study's size and design (HAIC,
response, progression during HAIC, salvage after progression with sorafenib only after its
approval), from a model that does **not** share the reconstruction's assumptions:

- baseline factors are correlated through one latent liver-reserve score (bilirubin, albumin,
  prothrombin activity, platelets, ascites, its grade and encephalopathy move together) and through a
  tumour-burden score (AFP, DCP, PVTT, tumour count and size); the reconstruction draws most of them
  independently (`src/synthetic/baseline.py` says which it draws jointly);
- the Child-Pugh score is, by construction, the sum of its five components' points (bilirubin,
  albumin, prothrombin activity, ascites none / mild / moderate, encephalopathy none / grade 1-2);
  the data contract records ascites as yes/no and no encephalopathy, so the printed score lies in
  the range `src.validate.child_pugh_points_range` allows;
- survival post-progression has a chosen true sorafenib effect (`TRUTH["sorafenib_hr"]`), effects
  of bilirubin and ascites, and an era effect (patients who progressed from 2009 do better, with or
  without sorafenib: `TRUTH["era_hr"]`);
- salvage depends on calendar time: sorafenib only after its approval, its share among the salvage
  options rising with the years since approval (`TRUTH["sorafenib_share"]`);
- follow-up as in a retrospective cohort: the survivors are censored at the data cut-off (after the
  last enrolment, `src.study`), a share (`TRUTH["lost_to_follow_up"]`) lost earlier, at a time
  uniform between the first HAIC and the cut-off.

Every parameter is in `TRUTH`. The structure follows what the paper's targets file can describe
(the ids of `data/published_results.csv`): session counts in {1..7, 9}, progression only for the
progressive-disease patients, salvage options sorafenib / HAIC / tegafur-uracil / BSC.

`validate_reconstruction(M, K)` then prints each truth (`src.publish`), reconstructs it K times
from the printed numbers alone (`reconstruct.build_cohort` with the targets file: the path of
``make data TARGETS=...``) and compares every quantity of `quantities.member_quantities`.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import study
from src.study import MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS
from src.validate import child_pugh_points_range

TRUTH_SEED0 = 7000  # true cohort j (1..M) has seed TRUTH_SEED0 + j
TRUTH = {
    "n": 67,
    "enrol": (study.ENROL_START, study.ENROL_END),
    "cutoff": study.DATA_CUTOFF,
    "sorafenib_approval": study.SORAFENIB_APPROVED_ON,  # the generators' earliest sorafenib start
    "era_start": study.ERA_START,
    "response": {"CR": 0.07, "PR": 0.13, "SD": 0.08, "PD": 0.62, "NE": 0.10},
    "sessions": [1, 2, 3, 4, 5, 6, 7, 9],       # the counts the targets file has ids for
    "liver_loadings": {"total_bilirubin": 0.30, "albumin": -0.30, "prothrombin_activity": -9.0,
                       "platelets": -0.25, "ascites": 1.2},   # per unit of the latent liver score
    # logit(P) = intercept + slope * liver score: moderate ascites among those with ascites; encephalopathy
    "moderate_ascites_logit": (-1.5, 0.8), "encephalopathy_logit": (-3.5, 1.0),
    "burden_loadings": {"afp": 1.5, "dcp": 1.5, "pvtt": 1.0, "tumor_count": 0.8, "max_tumor_size_mm": 0.35},
    "progression_worsening": 0.5,                # liver score shift from baseline to progression
    "median_ttp_months": 2.2,                    # progressive disease
    "median_os_months": {"CR": 45.0, "PR": 30.0, "SD": 20.0, "NE": 2.5, "excluded": 2.0},
    "median_spp_months": 3.5,                    # other salvage, before 2009, bilirubin < 1, no ascites
    "sorafenib_hr": 0.65,                        # the chosen true effect of sorafenib on SPP
    "era_hr": 0.75,                              # progression from 2009 vs before
    "bilirubin_hr": 1.6, "ascites_hr": 2.8,
    # of the patients progressing after approval: rising with the years since approval, up to a maximum
    "sorafenib_share": {"at_approval": 0.45, "per_year": 0.12, "max": 0.85},
    "other_salvage": {"haic": 0.3, "uft": 0.15, "bsc": 0.55},
    "lost_to_follow_up": 0.12,                   # share censored before the cut-off (uniform time)
    "toxicity": {"Nausea": 0.02, "Diarrhea": 0.02, "Bilirubin (hyperbilirubinemia)": 0.06, "AST (SGOT)": 0.15,
                 "ALT (SGPT)": 0.10, "Alkaline phosphatase": 0.02, "GGT (gamma-glutamyl transpeptidase)": 0.18,
                 "Glucose (hyperglycemia)": 0.07, "Platelets": 0.10, "Hemoglobin": 0.07,
                 "Neutrophils/granulocytes (ANC/AGC)": 0.06},
}


def _days(ts, days):
    return pd.to_datetime(ts) + pd.to_timedelta(np.round(np.asarray(days, float)), unit="D")


def _labs(rng, z, b, p=TRUTH):
    """Laboratory values and tumour features from the liver score z and the burden score b."""
    n, L, B = len(z), p["liver_loadings"], p["burden_loadings"]
    return {
        "alt": np.round(np.exp(rng.normal(3.9, 0.5, n))).clip(9, 400),
        "ast": np.round(np.exp(rng.normal(4.4 + 0.1 * z, 0.5, n))).clip(15, 400),
        "total_bilirubin": np.round(np.exp(np.log(0.8) + L["total_bilirubin"] * z + rng.normal(0, 0.2, n)), 1).clip(0.2, 2.9),
        "albumin": np.round(3.7 + L["albumin"] * z + rng.normal(0, 0.25, n), 1).clip(2.3, 4.8),
        "prothrombin_activity": np.round(95 + L["prothrombin_activity"] * z + rng.normal(0, 9, n)).clip(60, 140),
        "platelets": np.round(np.exp(np.log(12) + L["platelets"] * z + rng.normal(0, 0.35, n)), 1).clip(3.0, 48.0),
        "afp": np.round(np.exp(6.2 + B["afp"] * b + rng.normal(0, 1.5, n))).clip(2, 900000),
        "dcp": np.round(np.exp(6.8 + B["dcp"] * b + rng.normal(0, 1.5, n))).clip(10, 300000),
        "ascites": np.where(rng.random(n) < _logistic(-1.2 + L["ascites"] * z), "yes", "no"),
        "moderate_ascites": rng.random(n) < _logistic(p["moderate_ascites_logit"][0] + p["moderate_ascites_logit"][1] * z),
        "encephalopathy": rng.random(n) < _logistic(p["encephalopathy_logit"][0] + p["encephalopathy_logit"][1] * z),
        "pvtt": np.where(rng.random(n) < _logistic(0.5 + B["pvtt"] * b), "yes", "no"),
        "tumor_distribution": np.where(rng.random(n) < _logistic(0.8 + b), "bilateral", "unilateral"),
        "tumor_count": np.clip(np.round(np.exp(1.3 + B["tumor_count"] * b + rng.normal(0, 0.5, n))), 1, 20).astype(int),
        "max_tumor_size_mm": np.round(np.exp(np.log(45) + B["max_tumor_size_mm"] * b + rng.normal(0, 0.4, n))).clip(12, 150),
    }


def _logistic(x):
    return 1 / (1 + np.exp(-x))


def _child_pugh(labs) -> np.ndarray:
    """The Child-Pugh score: the sum of the points of bilirubin, albumin, prothrombin activity, ascites (none 1,
    mild 2, moderate 3) and encephalopathy (none 1, grade 1-2 2). The lowest score the recorded components
    allow (`child_pugh_points_range`: mild ascites, no encephalopathy) plus the unrecorded points."""
    low, _ = child_pugh_points_range(*(pd.Series(labs[c]) for c in
                                       ("total_bilirubin", "albumin", "prothrombin_activity", "ascites")))
    return low.to_numpy(int) + ((labs["ascites"] == "yes") & labs["moderate_ascites"]) + labs["encephalopathy"]


MONTH_DAYS = 30.4375  # days per month of the truth's medians


def _baseline(rng, p, first):
    """Baseline laboratory values and tumour features from the latent liver and burden scores (z, b), Child-Pugh
    A or B only (the study's inclusion: a worse liver score is redrawn), performance status and stages."""
    n = p["n"]
    z, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    labs = _labs(rng, z, b, p)
    cp = _child_pugh(labs)
    for _ in range(50):  # baseline Child-Pugh A or B only (the study's inclusion)
        worse = cp > 9
        if not worse.any():
            break
        z[worse] = rng.normal(-0.5, 0.7, worse.sum())
        redraw = _labs(rng, z, b, p)
        for k in labs:
            labs[k] = np.where(worse, redraw[k], labs[k])
        cp = _child_pugh(labs)
    ps = np.where(rng.random(n) < 0.65, 0, rng.choice([1, 1, 2], n))
    bclc = np.where((labs["pvtt"] == "no") & (ps == 0) & (rng.random(n) < 0.6), "B", "C")
    tnm = np.where(bclc == "B", np.where(rng.random(n) < 0.25, "II", "III"),
                   np.where(rng.random(n) < 0.06, "IVB", np.where(rng.random(n) < 0.65, "IVA", "III")))
    return SimpleNamespace(first=first, z=z, b=b, labs=labs, cp=cp, ps=ps, bclc=bclc, tnm=tnm)


def _sorafenib_share(p, prog_date) -> np.ndarray:
    """The chance of sorafenib as salvage for a progression on `prog_date` (after its approval): rising
    with the years since approval (`TRUTH["sorafenib_share"]`)."""
    share = p["sorafenib_share"]
    years = (prog_date - pd.Timestamp(p["sorafenib_approval"])).dt.days.to_numpy() / 365.25
    return np.clip(share["at_approval"] + share["per_year"] * years, 0, share["max"])


def _outcomes(rng, p, base, response):
    """Progression (the liver worse at progression; Child-Pugh > 8 excluded from the SPP analysis), salvage
    (sorafenib only after its approval), SPP with the true effects, and the overall survival in days."""
    n, month = p["n"], MONTH_DAYS
    approval, era_start = pd.Timestamp(p["sorafenib_approval"]), pd.Timestamp(p["era_start"])
    ttp = np.maximum(21, rng.exponential(p["median_ttp_months"] * month / np.log(2), n)).round()
    is_pd = response == "PD"
    prog_z = base.z + p["progression_worsening"] + rng.normal(0, 0.6, n)
    prog_labs = _labs(rng, prog_z, base.b + 0.3, p)
    prog_cp = _child_pugh(prog_labs)
    excluded = is_pd & (prog_cp > 8)
    prog_date = _days(base.first, ttp)
    after = prog_date >= approval
    salvage = np.where(after & (rng.random(n) < _sorafenib_share(p, prog_date)), "sorafenib",
                       rng.choice(list(p["other_salvage"]), n, p=list(p["other_salvage"].values())))
    salvage = np.where(excluded, "bsc", salvage)
    lin = (np.log(p["sorafenib_hr"]) * (salvage == "sorafenib") + np.log(p["era_hr"]) * (prog_date >= era_start)
           + np.log(p["bilirubin_hr"]) * (prog_labs["total_bilirubin"] >= 1.0)
           + np.log(p["ascites_hr"]) * (prog_labs["ascites"] == "yes"))
    spp = np.maximum(7, rng.exponential(p["median_spp_months"] * month / np.log(2) / np.exp(lin))).round()
    med = np.array([p["median_os_months"].get(r, 1.0) for r in response])
    med = np.where(excluded, p["median_os_months"]["excluded"], med)
    os_days = rng.exponential(med * month / np.log(2)).round() + 14
    dc = np.isin(response, ["CR", "PR", "SD"])
    os_days = np.where(dc, np.maximum(os_days, RESPONSE_ASSESSMENT_DAYS + 14), os_days)
    os_days = np.where(is_pd, ttp + np.where(excluded, np.maximum(14, os_days - 14), spp), os_days)
    return SimpleNamespace(ttp=ttp, prog_labs=prog_labs, prog_cp=prog_cp, prog_date=prog_date, salvage=salvage,
                           os_days=os_days, dc=dc)


def _follow_up(rng, p, first, ttp, os_days, response):
    """Censoring as in a retrospective cohort: the survivors at the data cut-off, a share
    (`lost_to_follow_up`) lost earlier at a time uniform between the first HAIC and the cut-off. Returns
    (deaths, follow-up days, responses: NE when progression was not seen or follow-up ended before the first
    assessment)."""
    cutoff = pd.Timestamp(p["cutoff"])
    is_pd = response == "PD"
    admin = (cutoff - first).dt.days.to_numpy().astype(float)
    lost = rng.random(len(admin)) < p["lost_to_follow_up"]
    end_days = np.where(lost, np.round(rng.uniform(0, admin)), admin)
    end_days = np.where(is_pd, np.maximum(end_days, ttp + 7), end_days)  # progression is seen
    end_days = np.minimum(end_days, admin)
    death = os_days <= end_days
    follow = np.where(death, os_days, end_days).round()
    is_pd = is_pd & (ttp + 7 <= follow)  # a progression after the end of follow-up is not seen
    response = np.where(~is_pd & (response == "PD"), "NE", response)
    response = np.where(follow < RESPONSE_ASSESSMENT_DAYS, "NE", response)
    return death, follow, response


def _sessions(rng, p, span, dc) -> np.ndarray:
    """Session counts within the span to progression (or follow-up), more for disease control."""
    n = len(span)
    cap = 1 + span // MIN_SESSION_INTERVAL_DAYS
    wish = np.where(dc, rng.integers(3, 10, n), rng.integers(1, 3, n))
    allowed = np.array(p["sessions"])
    return np.array([allowed[allowed <= min(w, c)].max() for w, c in zip(wish, cap)])


def _patients_table(rng, base, ids, sessions, response, follow, death) -> pd.DataFrame:
    """The baseline table (sex, age, etiology and initial treatment drawn here)."""
    n, labs = len(ids), base.labs
    return pd.DataFrame({
        "patient_id": ids, "sex": np.where(rng.random(n) < 0.75, "M", "F"),
        "age": np.clip(np.round(rng.normal(70, 8, n)), 35, 88).astype(int),
        "etiology": rng.choice(["HBV", "HCV", "alcohol", "other"], n, p=[0.12, 0.68, 0.08, 0.12]),
        "tnm_stage": base.tnm, "bclc_stage": base.bclc, "ecog_ps": base.ps,
        "initial_treatment": rng.choice(["resection", "rfa_pei", "tace", "tace_rfa", "none"], n,
                                        p=[0.1, 0.2, 0.4, 0.1, 0.2]),
        "child_pugh_score": base.cp, **{k: labs[k] for k in ("alt", "total_bilirubin", "prothrombin_activity", "albumin",
                                                             "platelets", "afp", "dcp", "ascites", "pvtt",
                                                             "tumor_distribution", "tumor_count", "max_tumor_size_mm")},
        "first_haic_date": base.first, "n_haic_sessions": sessions, "best_response": response,
        "last_followup_date": _days(base.first, follow), "death": death.astype(int)})


def _progression_table(rng, p, base, out, patients, k) -> pd.DataFrame:
    """The progression table of the patients `k` whose progression was seen; salvage starts 3-20 days after
    progression (sorafenib not before its approval), never after the last follow-up."""
    approval = pd.Timestamp(p["sorafenib_approval"])
    ids, prog_labs = patients["patient_id"].to_numpy(), out.prog_labs
    pd_date = out.prog_date.iloc[k].reset_index(drop=True)
    last = patients["last_followup_date"].iloc[k].reset_index(drop=True)
    gap = np.minimum(rng.integers(3, 21, len(k)), (last - pd_date).dt.days.to_numpy())
    start_ = _days(pd_date, np.where(out.salvage[k] == "sorafenib",
                                     np.maximum(gap, (approval - pd_date).dt.days.to_numpy()), gap))
    start_ = pd.Series(np.minimum(start_, last))
    return pd.DataFrame({
        "patient_id": ids[k], "progression_date": pd_date,
        "age": patients["age"].to_numpy()[k]
        + ((pd_date - base.first.iloc[k].reset_index(drop=True)).dt.days // 366).to_numpy(),
        "ecog_ps": np.minimum(base.ps[k] + rng.choice([0, 0, 1], len(k)), 2), "child_pugh_score": out.prog_cp[k],
        **{c: prog_labs[c][k] for c in ("alt", "ast", "total_bilirubin", "albumin", "prothrombin_activity",
                                        "platelets", "afp", "dcp", "ascites", "pvtt", "tumor_distribution",
                                        "tumor_count")},
        "max_tumor_size_mm": np.maximum(prog_labs["max_tumor_size_mm"][k], base.labs["max_tumor_size_mm"][k]),
        "salvage_treatment": out.salvage[k], "salvage_start_date": start_})


def _adverse_events(rng, p, ids) -> pd.DataFrame:
    """Grade 3-4 toxicities with the truth's shares, and one rash that stopped HAIC."""
    n, rows = len(ids), []
    for term, share in p["toxicity"].items():
        for i in np.nonzero(rng.random(n) < share)[0]:
            rows.append((ids[i], term, int(rng.choice([3, 4], p=[0.8, 0.2])), 0))
    rows.append((ids[int(rng.integers(n))], "Rash/desquamation", 2, 1))
    ae = pd.DataFrame(rows, columns=["patient_id", "term", "grade", "led_to_discontinuation"])
    return ae.drop_duplicates(["patient_id", "term"]).sort_values(["patient_id", "term"]).reset_index(drop=True)


def true_cohort(seed: int, p: dict = TRUTH) -> dict[str, pd.DataFrame]:
    """One true cohort (the three tables), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n = p["n"]
    start, end = (pd.Timestamp(x) for x in p["enrol"])
    first = pd.Series(np.sort(start + pd.to_timedelta(rng.integers(0, (end - start).days + 1, n), unit="D")))
    base = _baseline(rng, p, first)
    response = rng.choice(list(p["response"]), n, p=list(p["response"].values()))
    out = _outcomes(rng, p, base, response)
    death, follow, response = _follow_up(rng, p, first, out.ttp, out.os_days, response)
    is_pd = response == "PD"
    sessions = _sessions(rng, p, np.where(is_pd, out.ttp, follow), out.dc)
    ids = [f"T{k:03d}" for k in range(1, n + 1)]
    patients = _patients_table(rng, base, ids, sessions, response, follow, death)
    prog = _progression_table(rng, p, base, out, patients, np.nonzero(is_pd)[0])
    return {"patients": patients, "progression": prog, "adverse_events": _adverse_events(rng, p, ids)}


# --- validation ---------------------------------------------------------------------------------

def _reconstruct_and_measure(seed: int, targets: str) -> tuple[pd.DataFrame, str]:
    """The unprinted quantities of the reconstruction with `seed`, and "" ; or no rows and why it failed."""
    from src.synthetic import ensemble, quantities, reconstruct
    from src import validate

    with tempfile.TemporaryDirectory(prefix="haic-recon-") as tmp:
        try:
            tables = reconstruct.build_cohort(seed, targets)
        except (ValueError, RuntimeError) as exc:  # no cohort fits these targets from this seed: counted as failed
            return pd.DataFrame(columns=["quantity", "group", "kind", "value", "seed"]), f"{seed}: {exc}"
        ensemble.write_tables(tables, tmp)
        typed = validate.load_and_validate(tmp, accept_warnings=True, strict=True)  # generators: hard constraints
    return quantities.member_quantities(typed).assign(seed=seed), ""


VALIDATION_COLUMNS = ["true_cohort", "true_seed", "group", "quantity", "kind", "class", "truth", "min", "median",
                      "max", "covered", "error_of_median", "share_p_below_0.05", "members", "failed", "failures"]
#: What the validation's numbers depend on besides M and K, for its fingerprint (`validation_fingerprint`): this
#: module and every module of src it imports, directly or through another (the reconstruction, the unprinted
#: results of `quantities.member_quantities`, `publish`), except src/synthetic/ensemble.py, of which only the
#: parts the validation uses count (the seeds, `ensemble_table` and `classify` with their constants: by their
#: source text), so that an edit of notebook 10's presentation leaves the validation valid. Not in it: notebooks
#: 01-06, which `publish` runs to print a truth's numbers (an edit of their prose would otherwise ask for the
#: whole validation again).
VALIDATION_CODE = "src.synthetic.truth"


def validation_fingerprint() -> str:
    """The fingerprint (`ensemble.fingerprint`) of the code that builds the validation table (`VALIDATION_CODE`)."""
    import inspect

    from src.synthetic import ensemble

    used = (ensemble.member_seeds, ensemble.ensemble_table, ensemble.classify)
    constants = (ensemble.ENSEMBLE_SEED0, ensemble.PRECISION, ensemble.CONSTRAINED_WIDTH, ensemble.ALPHA)
    files = ensemble.source_closure(VALIDATION_CODE, leave_out={"src.synthetic.ensemble"})
    return ensemble.fingerprint(files, "".join(map(inspect.getsource, used)) + repr(constants))


def validate_one_truth(j: int, k: int, work, targets=None, jobs=-1, dask_address=None) -> pd.DataFrame:
    """True cohort j: written to `work`/truth_<j>, printed (unless `targets` is given), reconstructed with
    the k seeds `ensemble.member_seeds(k)`, and compared quantity by quantity."""
    from src.synthetic import ensemble, publish, quantities
    from src import validate

    folder = Path(work) / f"truth_{j}"
    ensemble.write_tables(true_cohort(TRUTH_SEED0 + j), folder)
    truth_q = quantities.member_quantities(validate.load_and_validate(folder, accept_warnings=True, strict=True))
    if targets is None:
        targets = Path(work) / f"targets_{j}.csv"
        publish.publish(folder, targets)
    results = ensemble.run_parallel(_reconstruct_and_measure,
                                    [(s, str(targets)) for s in ensemble.member_seeds(k)], jobs, dask_address)
    long = pd.concat([r[0] for r in results], ignore_index=True).rename(columns={"seed": "member"})
    if long.empty:  # every reconstruction failed: the truth's rows, with no ensemble
        long = truth_q.assign(value=np.nan, member=0)
    summary = ensemble.ensemble_table(long)
    summary["failed"] = k - long.loc[long["member"] != 0, "member"].nunique()
    summary = summary.merge(truth_q[["quantity", "value"]].rename(columns={"value": "truth"}), on="quantity")
    summary["covered"] = (summary["min"] <= summary["truth"]) & (summary["truth"] <= summary["max"])
    summary["error_of_median"] = summary["median"] - summary["truth"]
    summary["failures"] = "; ".join(r[1] for r in results if r[1])  # "seed: why it failed", for each that did
    return summary.assign(true_cohort=j, true_seed=TRUTH_SEED0 + j)[VALIDATION_COLUMNS]


def validate_reconstruction(m: int = 6, k: int = 10, jobs=-1, dask_address=None, work=None) -> pd.DataFrame:
    """For true cohorts 1..m: publish, reconstruct k times, compare (`validate_one_truth`). One row per
    (truth, quantity): truth value, ensemble min / median / max, class over the ensemble, covered
    (min <= truth <= max), error of the ensemble median."""
    with (contextlib.nullcontext(work) if work else tempfile.TemporaryDirectory(prefix="haic-truth-")) as tmp:
        out = [validate_one_truth(j, k, tmp, jobs=jobs, dask_address=dask_address) for j in range(1, m + 1)]
    return pd.concat(out, ignore_index=True)


def main(argv=None) -> int:
    from src.synthetic import ensemble

    parser = argparse.ArgumentParser(prog="python -m src.synthetic.truth", description="validation of the reconstruction "
                                     "against known true cohorts (make validate-reconstruction)")
    parser.add_argument("--m", type=int, default=6, help="true cohorts (seeds TRUTH_SEED0 + 1..m)")
    parser.add_argument("--k", type=int, default=10, help="reconstructions of each")
    parser.add_argument("--jobs", type=int, default=-1, help="local processes (joblib; -1 = every core)")
    parser.add_argument("--dask", default=None, help="address of a running Dask scheduler")
    default = ensemble.ENSEMBLE_DIR / ensemble.VALIDATION_NAME
    parser.add_argument("--out", default=str(default),
                        help="the table (read by notebook 10; default data/ensemble/, copied to outputs/tables/)")
    args = parser.parse_args(argv)
    t0 = time.time()
    code = validation_fingerprint()  # of the code as the run starts (the table records it)
    table = validate_reconstruction(args.m, args.k, jobs=args.jobs, dask_address=args.dask)
    table[ensemble.FINGERPRINT_FIELD] = code
    if validation_fingerprint() != code:  # the table then fails tests/test_ensemble.py until it is rebuilt
        print("warning: the validation's code changed during the run; the table records the code it started with")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, lineterminator="\n", float_format="%.6g")
    print(f"wrote {args.out} ({len(table)} rows) in {time.time() - t0:.0f} s")
    if Path(args.out) == default:  # outputs/ is the runner's (src/runner/outdir.py): notebook 10 copies the table there
        print("run `make run` to show it in outputs/ (notebook 10 and the report)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
