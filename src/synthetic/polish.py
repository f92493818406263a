"""Step 3a, end: the deterministic local search after the rank stage's annealing (`polish_ranks`), and the
iterated local search around it (`polish_with_kicks`: restarts from a perturbed best state).

Every single move (`single_moves`: swap of two patients at most 4 apart in the time order, censoring flip,
swap of bilirubin or ascites within a group) is evaluated exactly; combinations of up to five are predicted
by adding their effects, and the best predictions evaluated exactly, with a loss that counts the numbers
not matched.
"""
from __future__ import annotations

import numpy as np

from src.synthetic.design import CUTOFFS
from src.synthetic.marginals import child_pugh_ok
from src.synthetic.ranked_fit import (fit_states, median_bounds, rank_statistics, rank_targets, ranked_statistics,
                                      sorafenib_median_later)
from src.synthetic.targets import RANK_MARGIN

POLISH_ROUNDS, POLISH_BEAM, POLISH_EXACT = 20, 1000, 1000  # step 3a: combination search after the annealing
POLISH_STEP = 3.0  # ... whose loss adds this for every number not matched
POLISH_KICKS = 24  # ... restarted this many times from a perturbed best state


def single_moves(group, order, tb, asc) -> np.ndarray:
    """The single moves of the rank-stage local search, one row each (kind, a, b): kind 0 swaps the patients at
    positions a and b of the time order (at most 4 apart), 1 flips patient a's censoring, 2 and 3 swap the
    bilirubin (across the cut-off) or the ascites of patients a and b of the same group."""
    n = len(order)
    out = [(0, p, q) for p in range(n) for q in range(p + 1, min(n, p + 5))]
    out += [(1, i, i) for i in range(n)]
    for g in (0, 1):
        idx = np.nonzero(group == g)[0]
        out += [(2, i, j) for i in idx for j in idx if i < j and (tb[i] >= CUTOFFS["tbil"]) != (tb[j] >= CUTOFFS["tbil"])]
        out += [(3, i, j) for i in idx for j in idx if i < j and asc[i] != asc[j]]
    return np.array(out)


def apply_moves(moves, order, event, tb, asc):
    """The K states (order, event, bilirubin, ascites; (K, n) arrays) after each row of `moves` (K, m, 3):
    the m moves of `single_moves` of a row applied one after the other to the given state."""
    K = len(moves)
    O, EV, TB, AS = np.tile(order, (K, 1)), np.tile(event, (K, 1)), np.tile(tb, (K, 1)), np.tile(asc, (K, 1))
    r = np.arange(K)
    for m in range(moves.shape[1]):
        kind, a, b = moves[:, m, 0], moves[:, m, 1], moves[:, m, 2]
        for arr, k in ((O, 0), (TB, 2), (AS, 3)):
            s_ = r[kind == k]
            arr[s_, a[s_]], arr[s_, b[s_]] = arr[s_, b[s_]], arr[s_, a[s_]]
        s_ = r[kind == 1]
        EV[s_, a[s_]] = ~EV[s_, a[s_]]
    return O, EV, TB, AS


def _sum_rows_pairwise(a) -> np.ndarray:
    """Sum over the first axis of `a` (m rows) with NumPy's pairwise summation of m values along a contiguous
    last axis: eight partial sums, each adding every eighth row, combined as a tree, then the rows left over
    one by one (m < 8: one after the other). So `_sum_rows_pairwise(a)` equals `b.sum(-1)` for the C-ordered
    copy `b` of `np.moveaxis(a, 0, -1)` bit for bit (`tests/test_reconstruct.py` checks it), but adds whole
    rows instead of looping in NumPy over many short rows of m values, which is slow."""
    m = len(a)
    if m > 128:  # NumPy splits longer sums in halves (never the case here: at most 15 published numbers)
        return np.ascontiguousarray(np.moveaxis(a, 0, -1)).sum(-1)
    if m < 8:
        out = a[0].copy()
        for row in a[1:]:
            out += row
        return out
    r = a[:8].copy()
    for i in range(8, m - m % 8, 8):
        r += a[i:i + 8]
    out = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for row in a[m - m % 8:]:
        out += row
    return out


def _polish_loss(S, target, unit, weight, scratch=None) -> np.ndarray:
    """The loss of `polish_ranks` for statistics S with the published numbers first ((keys, ...), float64,
    or float32 for predictions; overwritten): the sum over the numbers of weight x (square root of the
    distance outside `RANK_MARGIN`, in rounding units, plus `POLISH_STEP` if the number is missed).
    `scratch`: a boolean array, a float array and a float array of zeros of S's shape, to reuse for the
    intermediate results (`np.maximum` against an array of zeros is much faster than against the scalar 0)."""
    t = S.dtype.type
    missed, extra, zeros = scratch if scratch is not None else (np.empty(S.shape, bool), np.empty_like(S),
                                                                 np.zeros_like(S))
    per_key = (slice(None),) + (None,) * (S.ndim - 1)
    np.subtract(S, target.astype(t)[per_key], out=S)
    np.abs(S, out=S)
    np.subtract(S, (RANK_MARGIN * unit).astype(t)[per_key], out=S)
    np.maximum(S, zeros, out=S)
    np.divide(S, unit.astype(t)[per_key], out=S)
    np.greater(S, 0, out=missed)
    np.sqrt(S, out=S)
    np.multiply(t(POLISH_STEP), missed, out=extra)
    np.add(S, extra, out=S)
    np.multiply(S, weight.astype(t)[per_key], out=S)
    return _sum_rows_pairwise(S)


def _predicted_losses(sums, base, target, unit, weight, rows=32) -> np.ndarray:
    """Predicted `_polish_loss` (float32) of every pair of a row of `sums` (the added effects of a set of
    moves) and a row of `base` (the statistics after one more move), flattened in row-major order
    (len(sums) x len(base)). Computed `rows` rows of `sums` at a time, the numbers first, in arrays
    allocated once: they stay in the processor's cache."""
    s32, b32 = sums.astype(np.float32).T, base.astype(np.float32).T  # (keys, len(sums)), (keys, len(base))
    out = np.empty((len(sums), len(base)), np.float32)
    shape = (len(target), rows, len(base))
    buffers = (np.empty(shape, np.float32), np.empty(shape, bool), np.empty(shape, np.float32),
               np.zeros(shape, np.float32))
    for i in range(0, len(sums), rows):
        S, *scratch = (x[:, :min(rows, len(sums) - i)] for x in buffers)
        np.add(s32[:, i:i + rows, None], b32[:, None, :], out=S)
        out[i:i + rows] = _polish_loss(S, target, unit, weight, scratch=scratch)
    return out.ravel()


def _extend_combinations(combos, x, y, beam, n_moves):
    """The first `beam` distinct combinations, in the given order, of a combination `combos[x]` (rows of
    sorted indices of the `n_moves` moves) with a move `y` not already in it: (their sorted rows, the x and
    the y used)."""
    fresh = ~(combos[x] == y[:, None]).any(1)
    x, y = x[fresh], y[fresh]
    rows = np.sort(np.column_stack([combos[x], y]), axis=1)
    code = rows @ n_moves ** np.arange(rows.shape[1], dtype=np.int64)  # one integer per combination (< 2**63)
    _, first = np.unique(code, return_index=True)  # the first occurrence of each combination
    keep = np.sort(first)[:beam]
    return rows[keep], x[keep], y[keep]


def polish_ranks(T, D, skip, group, order, event, cols, rounds=POLISH_ROUNDS, beam=POLISH_BEAM):
    """Step 3a, end: a deterministic search over combinations of up to 5 single moves (swap of two
    patients at most 4 apart in the order, censoring flip, swap of bilirubin or ascites within a group).

    Each round evaluates every single move exactly, predicts the statistics of combinations by adding
    the single moves' effects (a beam search keeps the `beam` best predictions of each size), evaluates
    the most promising combinations exactly and takes the best. The loss counts every printed number
    not matched (plus the square root of its distance), so the search goes for matches.
    """
    sor = group == 1
    order, event = order.copy(), event.copy()
    tb, asc = cols["total_bilirubin"].astype(float), cols["ascites"] == "yes"
    alb, pt = cols["albumin"].astype(float), cols["prothrombin_activity"].astype(float)
    keys, target, unit, weight = rank_targets(T, D, skip)

    def stat_matrix(p, b, se):
        st = rank_statistics(p, b, se)
        return np.stack([st[k] for k in keys], axis=-1)

    def evaluate(moves, beta):  # moves: (K, m, 3) -> losses, statistics, betas and states after them
        O, EV, TB, AS = apply_moves(moves, order, event, tb, asc)
        p, b, se, feasible = fit_states(O, EV, TB, AS, alb, pt, sor, np.tile(beta, (len(moves), 1)),
                                         sorafenib_median_later(T), median_bounds(T))
        S = stat_matrix(p, b, se)
        return np.where(feasible, _polish_loss(S.T.copy(), target, unit, weight), np.inf), S, b, (O, EV, TB, AS)

    loss, S0, beta, _ = evaluate(np.zeros((1, 0, 3), int), np.zeros(3))
    loss, S0, beta = loss[0], S0[0], beta[0]
    for _ in range(rounds):
        one = single_moves(group, order, tb, asc)
        l1, s1, b1, st1 = evaluate(one[:, None, :], beta)
        keep = np.isfinite(l1)
        one, effect = one[keep], s1[keep] - S0
        if not len(one):  # no allowed single move from here
            break
        best = (loss, None)
        k = int(np.argmin(l1))
        if l1[k] < loss - 1e-9:
            best = (l1[k], (s1[k], b1[k], tuple(x[k] for x in st1)))
        combos, sums = np.arange(len(one))[:, None], effect
        for size in range(2, 6):
            pred = _predicted_losses(sums, S0 + effect, target, unit, weight)
            top = np.argpartition(pred, min(3 * beam, pred.size - 1))[:3 * beam]
            top = top[np.lexsort((top, pred[top]))]  # best predictions first, ties by index
            combos, a, b = _extend_combinations(combos, *np.unravel_index(top, (len(sums), len(effect))), beam,
                                                len(one))
            if not len(combos):
                break
            sums = sums[a] + effect[b]
            l_, s_, b_, st_ = evaluate(one[combos[:POLISH_EXACT]], beta)
            k = int(np.argmin(l_))
            if l_[k] < best[0] - 1e-9:
                best = (l_[k], (s_[k], b_[k], tuple(x[k] for x in st_)))
        if best[1] is None:
            break
        loss, (S0, beta, state) = best
        order, event, tb, asc = (x.copy() for x in state)
    out = {**cols, "total_bilirubin": tb, "ascites": np.where(asc, "yes", "no").astype(cols["ascites"].dtype)}
    return order, event, out, loss


def kick(rng, group, order, event, cols, swaps=8):
    """A random perturbation of a rank-stage state: `swaps` swaps of two patients at most 4 apart in the
    order and one swap of bilirubin values within a group (kept only if Child-Pugh stays <= 8)."""
    order, cols = order.copy(), {**cols, "total_bilirubin": cols["total_bilirubin"].copy()}
    n = len(order)
    for _ in range(swaps):
        a = int(rng.integers(0, n))
        b = int(np.clip(a + rng.integers(1, 5) * rng.choice([-1, 1]), 0, n - 1))
        order[[a, b]] = order[[b, a]]
    i = int(rng.integers(0, n))
    j = int(rng.choice(np.nonzero(group == group[i])[0]))
    tb = cols["total_bilirubin"]
    tb[[i, j]] = tb[[j, i]]
    if not child_pugh_ok(cols):
        tb[[i, j]] = tb[[j, i]]
    return order, event.copy(), cols


def rank_misses(T, D, skip, group, order, event, cols) -> int:
    """How many of the rank stage's published numbers a state misses (outside `RANK_MARGIN` units)."""
    keys, target, unit, _ = rank_targets(T, D, skip)
    sor = group == 1
    cov = np.stack([cols["total_bilirubin"] >= CUTOFFS["tbil"], cols["ascites"] != "yes", ~sor], axis=1)
    p, b, se, ok = ranked_statistics(cov[order][None].astype(float), event[order][None], np.zeros((1, 3)))
    st = rank_statistics(p, b, se)
    x = np.array([st[k][0] for k in keys])
    return int((~(np.abs(x - target) <= RANK_MARGIN * unit)).sum()) if ok[0] else len(keys)


def polish_with_kicks(rng, T, D, skip, group, order, event, cols, kicks=POLISH_KICKS, log=None):
    """`polish_ranks` from the annealing's best state, then an iterated local search: `kicks` times, perturb the
    best state (`kick`) and search again; the best state is replaced when fewer numbers are missed (then by the
    loss). Returns (order, event, cols, loss) of the best state."""
    log = log or (lambda msg: None)
    best = polish_ranks(T, D, skip, group, order, event, cols)
    best_key = (not np.isfinite(best[3]), rank_misses(T, D, skip, group, *best[:3]), best[3])
    log(f"SPP polish: {best_key[1]} numbers missed, loss {best[3]:.3f}")
    kick_rng = np.random.default_rng(rng.integers(2 ** 63))  # later steps do not depend on the number of kicks
    for _ in range(kicks):
        cand = polish_ranks(T, D, skip, group, *kick(kick_rng, group, *best[:3]))
        key = (not np.isfinite(cand[3]), rank_misses(T, D, skip, group, *cand[:3]), cand[3])
        log(f"SPP polish after a kick: {key[1]} numbers missed, loss {cand[3]:.3f}")
        if key < best_key:
            best, best_key = cand, key
    return best
