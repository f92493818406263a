"""Scoring a written cohort (for the tests and the scorecard): its SPP-analysis state, its calibration loss,
and how finely the smallest changes of the rank stage move its numbers (`move_granularity`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.synthetic.design import CONTINUOUS
from src.synthetic.factors import high_levels
from src.synthetic.polish import apply_moves, single_moves
from src.synthetic.ranked_fit import fit_states, median_bounds, rank_statistics, rank_targets, sorafenib_median_later
from src.synthetic.spp import SppState, spp_loss, spp_statistics
from src.synthetic.targets import load_targets


def state_from_tables(tables: dict, max_child_pugh: int = 8):
    """The SPP-analysis state (as used by the annealing) of a cohort given as tables."""
    prog = tables["progression"]
    prog = prog[prog["child_pugh_score"] <= max_child_pugh]
    df = prog.merge(tables["patients"][["patient_id", "sex", "first_haic_date", "last_followup_date", "death"]],
                    on="patient_id")
    s = SppState()
    s.group = df["salvage_treatment"].eq("sorafenib").astype(int).to_numpy()
    s.spp_days = (df["last_followup_date"] - df["progression_date"]).dt.days.to_numpy(float)
    s.ttp_days = (df["progression_date"] - df["first_haic_date"]).dt.days.to_numpy(float)
    s.event = df["death"].eq(1).to_numpy()
    s.cols = {c: df[c].to_numpy() for c in [CONTINUOUS[k][0] for k in CONTINUOUS] + ["ascites", "pvtt"]}
    s.cols["sex"] = np.where(df["sex"].eq("M"), "male", "female")
    s.cols["ps"] = np.where(df["ecog_ps"].eq(0), "0", "1_2")
    s.high = high_levels(s.cols)
    return s


def spp_cohort_loss(tables: dict, published=None) -> float:
    """Calibration loss of the SPP analysis of a cohort (0 = every target met)."""
    T, D, skip = load_targets(published)
    return spp_loss(spp_statistics(state_from_tables(tables)), T, D, skip)


def move_granularity(tables: dict, published=None) -> tuple[pd.DataFrame, int]:
    """How finely the smallest changes of a cohort can move the numbers of the SPP rank stage.

    Takes the 38 SPP patients of `tables` (no two SPP times equal, as in the reconstructed cohort), applies
    every single move of the rank stage's local search (`single_moves`: swap of two patients at most 4 apart
    in the time order, censoring flip, swap of bilirubin or ascites within a group) that keeps the data
    feasible, and refits. Returns one row per published number of the stage (the three log-rank p of the
    Cox model's factors, its hazard ratios, 95% CIs and p-values) with the change each move makes, in units
    of the printed last digit, and the number of moves after which more of these numbers match.
    """
    T, D, skip = load_targets(published)
    s = state_from_tables(tables)
    if len(np.unique(s.spp_days)) < len(s.spp_days):
        raise ValueError("move_granularity needs distinct survival-post-progression times (rank-stage model)")
    keys, target, unit, _ = rank_targets(T, D, skip)
    order, sor = np.argsort(s.spp_days, kind="stable"), s.group == 1
    tb, asc = s.cols["total_bilirubin"].astype(float), s.cols["ascites"] == "yes"
    moves = single_moves(s.group, order, tb, asc)
    moves = np.concatenate([np.zeros((1, 3), int), moves])[:, None, :]  # row 0: no move (the cohort itself)
    O, EV, TB, AS = apply_moves(moves, order, s.event, tb, asc)
    alb, pt = (s.cols[c].astype(float) for c in ("albumin", "prothrombin_activity"))
    p, b, se, feasible = fit_states(O, EV, TB, AS, alb, pt, sor, np.zeros((len(O), 3)), sorafenib_median_later(T),
                                     median_bounds(T))
    st = rank_statistics(p, b, se)
    S = np.stack([st[k] for k in keys], axis=-1)
    matched = np.abs(S - target) <= 0.5 * unit  # printed precision (half-up rounding aside)
    change = np.abs(S[1:][feasible[1:]] - S[0]) / unit
    moved = change > 1e-9
    table = pd.DataFrame({
        "id": keys, "published": target, "this run": S[0], "matched": matched[0],
        "moves": int(feasible[1:].sum()), "moves that change it": moved.sum(0),
        "smallest change (last digits)": [c[m].min() if m.any() else np.nan for c, m in zip(change.T, moved.T)],
        "median change (last digits)": [np.median(c[m]) if m.any() else np.nan for c, m in zip(change.T, moved.T)],
        "moves after which it matches": matched[1:][feasible[1:]].sum(0)})
    better = int((matched[1:][feasible[1:]].sum(1) > matched[0].sum()).sum())
    return table, better
