"""Step 3a: the batched simulated annealing of the rank stage (`calibrate_ranks`).

Many chains, each drawing several moves per sweep evaluated in one vectorised batch
(`src/synthetic/ranked_fit.py`), over the order of the 38 SPP patients, their censoring and the allocation
of bilirubin, albumin, prothrombin activity and ascites within each group (swaps keep every marginal exact;
Child-Pugh <= 8), against a loss that counts how far each computed number lies outside the rounding
interval of the printed one. The local search that follows is in `src/synthetic/polish.py`.
"""
from __future__ import annotations

import numpy as np

from src.synthetic.marginals import child_pugh_points
from src.synthetic.ranked_fit import (RANK_P_WEIGHT, curves_cross, fit_ranked_states, median_bounds, rank_statistics,
                                      sorafenib_median_later)
from src.synthetic.targets import RANK_MARGIN, distances

RANK_LOSS_POWER = 0.5  # rank-stage loss: sum of weight x distance ** power
MEDIAN_ORDER_WEIGHT = 5.0  # rank-stage loss per position the two median patients are out of their printed order
CROSSING_ORDER_WEIGHT = 1e3  # ... when the printed medians and hazard ratio point opposite ways (`curves_cross`)
SPP_PAIR_MOVES = 0.3  # share of rank-annealing candidates that make two random moves at once
SPP_CHAINS, SPP_PROPOSALS, SPP_SWEEPS, SPP_REFINE_SWEEPS = 16, 8, 1500, 500  # rank annealing budget


def _model_loss(p, beta, se, ok, pos_sor, pos_oth, T, D, skip, n):
    """Loss of the rank stage: the three model factors' log-rank p and the Cox model, plus the
    feasibility of the group medians (the other group's median must come first)."""
    stats_ = rank_statistics(p, beta, se)
    loss = np.zeros(len(ok))
    for k, v in stats_.items():
        if k in T and k not in skip:
            w = RANK_P_WEIGHT if k in ("t3_uni_p_tbil", "t3_uni_p_ascites", "spp_logrank_p") else 1.0
            loss += w * distances(v, T[k], D[k], RANK_MARGIN) ** RANK_LOSS_POWER
    loss += np.where(ok, 0.0, 1e3) + np.where((pos_sor >= n) | (pos_oth >= n), 1e3, 0.0)
    if not sorafenib_median_later(T):  # a targets file in which the other group's median is the later one
        pos_sor, pos_oth = pos_oth, pos_sor
    max_gap, max_first = median_bounds(T)
    weight = CROSSING_ORDER_WEIGHT if curves_cross(T) else MEDIAN_ORDER_WEIGHT
    return loss + weight * np.maximum(0, pos_oth - pos_sor + 1) + 1.0 * np.maximum(0, pos_sor - pos_oth - max_gap) \
        + 1.0 * np.maximum(0, pos_oth - max_first)


LABS = ("total_bilirubin", "albumin", "prothrombin_activity")  # the laboratory values the rank stage reallocates


def _initial_chains(rng, group, cols, chains) -> list:
    """The starting states of the chains: [order, event, bilirubin, albumin, prothrombin, ascites], (chains, n)
    arrays: a random order and censoring each, and each chain its own within-group allocation of the
    laboratory values and ascites, Child-Pugh consistent (<= 8)."""
    n, C = len(group), chains
    order = np.array([rng.permutation(n) for _ in range(C)])
    event = rng.random((C, n)) < 0.75
    tb, alb, pt = (np.tile(cols[c].astype(float), (C, 1)) for c in LABS)
    asc = np.tile(cols["ascites"] == "yes", (C, 1))
    for c in range(C):
        for _ in range(1000):
            for arr in (tb, alb, pt, asc):
                for idx in _members(group).values():
                    arr[c, idx] = rng.permutation(arr[c, idx])
            if (child_pugh_points(tb[c], alb[c], pt[c], asc[c]) <= 8).all():
                break
        else:
            raise RuntimeError("could not allocate the laboratory values with Child-Pugh <= 8")
    return [order, event, tb, alb, pt, asc]


def _members(group) -> dict:
    """{group: the indices of its patients}, 0 = other salvage, 1 = sorafenib."""
    return {g: np.nonzero(group == g)[0] for g in (0, 1)}


def _evaluate(order, event, tb, asc, beta, sor, T, D, skip):
    """The rank-stage loss (`_model_loss`) and Cox coefficients of K states ((K, n) arrays, `order` lists the
    patients by time; the fits start from `beta`)."""
    p, b, se, ok, pos_sor, pos_oth = fit_ranked_states(order, event, tb, asc, sor, beta)
    return _model_loss(p, b, se, ok, pos_sor, pos_oth, T, D, skip, len(sor)), b


def _propose(rng, state, rep, group) -> tuple:
    """Candidate states: the chains' states repeated as `rep` says, each with one random move, and a second
    one for a share `SPP_PAIR_MOVES`: a swap of two patients at a short distance in the order, a censoring
    flip, or a swap of a laboratory value or the ascites of two patients of the same group."""
    O, EV, TB, AL, PT, AS = (x[rep] for x in state)
    K, n = O.shape
    kk, members = np.arange(K), _members(group)
    for extra in range(2):  # one random move per candidate, a second one for some (pair moves)
        u = np.where(rng.random(K) < (1.0 if extra == 0 else SPP_PAIR_MOVES), rng.random(K), 2.0)
        # swap two patients at a short distance in the order
        k1 = kk[u < 0.5]
        a = rng.integers(0, n, K)[k1]
        b = np.clip(a + rng.geometric(0.4, len(k1)) * rng.choice([-1, 1], len(k1)), 0, n - 1)
        O[k1, a], O[k1, b] = O[k1, b], O[k1, a]
        # censor or uncensor one patient
        i = rng.integers(0, n, K)
        k2 = kk[(u >= 0.5) & (u < 0.62)]
        EV[k2, i[k2]] = ~EV[k2, i[k2]]
        # swap a laboratory value or the ascites of two patients of the same group
        j = np.where(group[i] == 1, members[1][rng.integers(0, len(members[1]), K)],
                     members[0][rng.integers(0, len(members[0]), K)])
        which = rng.integers(0, 4, K)
        for w, arr in enumerate((TB, AS, AL, PT)):
            k3 = kk[(u >= 0.62) & (u <= 1.0) & (which == w)]
            arr[k3, i[k3]], arr[k3, j[k3]] = arr[k3, j[k3]], arr[k3, i[k3]]
    return O, EV, TB, AL, PT, AS


def calibrate_ranks(rng, T, D, skip, group, cols, chains=SPP_CHAINS, proposals=SPP_PROPOSALS, sweeps=SPP_SWEEPS,
                    temp0=3.0, temp1=0.03, init=None, log=None):
    """Step 3a: simulated annealing, in rank space, of the SPP order, the censoring and the allocation of
    bilirubin, albumin, prothrombin activity and ascites within each group (Child-Pugh <= 8 kept).

    Log-rank tests and the Cox model depend on times only through their order, so the state is the
    order of the 38 patients; `chains` chains each draw `proposals` moves per sweep, all evaluated in
    one vectorised batch, and each chain takes the first move its Metropolis test accepts.
    `init` (a returned (order, event, cols)) starts every chain from that state.
    Returns (order, event, cols) of the best state met and its loss.
    """
    C, M, sor = chains, proposals, group == 1
    min_events = int(np.ceil(0.5 * len(group)))
    state = _initial_chains(rng, group, cols, C)  # (drawn also with `init`, so that later draws do not depend on it)
    if init is not None:
        state = [np.tile(init[0], (C, 1)), np.tile(init[1], (C, 1)),
                 *(np.tile(init[2][c].astype(float), (C, 1)) for c in LABS), np.tile(init[2]["ascites"] == "yes", (C, 1))]
    loss, beta = _evaluate(state[0], state[1], state[2], state[5], np.zeros((C, 3)), sor, T, D, skip)
    best_loss, best = np.inf, None
    rep = np.repeat(np.arange(C), M)
    for it in range(sweeps):
        temp = temp0 * (temp1 / temp0) ** (it / sweeps)
        cand = _propose(rng, state, rep, group)
        O, EV, TB, AL, PT, AS = cand
        new_loss, new_beta = _evaluate(O, EV, TB, AS, beta[rep], sor, T, D, skip)
        feasible = (child_pugh_points(TB, AL, PT, AS) <= 8).all(1) & (EV.sum(1) >= min_events)
        delta = np.where(feasible, new_loss, np.inf) - loss[rep]
        accept = ((delta <= 0) | (rng.random(C * M) < np.exp(-np.maximum(delta, 0) / temp))).reshape(C, M)
        c = np.nonzero(accept.any(1))[0]  # the chains that move, each to its first accepted candidate
        k = c * M + accept[c].argmax(1)
        for x, y in zip(state, cand):
            x[c] = y[k]
        loss[c], beta[c] = new_loss[k], new_beta[k]
        c = loss.argmin()
        if loss[c] < best_loss:
            best_loss, best = loss[c], tuple(x[c].copy() for x in state)
        if log and it % 1000 == 0:
            log(f"  SPP rank annealing {it:>5}: best loss {best_loss:.2f}")
    o, e, tb_, alb_, pt_, asc_ = best
    out = {**cols, "total_bilirubin": tb_, "albumin": alb_, "prothrombin_activity": pt_,
           "ascites": np.where(asc_, "yes", "no").astype(cols["ascites"].dtype)}
    return o, e, out, best_loss
