"""Step 4: the overall-survival times of the patients outside the SPP analysis (`calibrate_os`).

An annealing over the OS times (and censoring) of the disease-control, not-evaluated and excluded
patients, jointly with the SPP days of the 38 (order kept, the two median patients fixed) and their times
to progression, for the median OS, the 1/2/3-year survival and the medians by response, keeping the targets
of step 3d; a second pass only if a number is still outside its rounding interval.
"""
from __future__ import annotations

import numpy as np

from src.stats import faststats as fs
from src.study import DAYS_PER_MONTH, RESPONSE_ASSESSMENT_DAYS
from src.synthetic.design import DATA_CUTOFF, ENROL_START, MAX_SPP_DAYS, MIN_NE_DAYS, MIN_SPP_DAYS
from src.synthetic.ranked_fit import median_position
from src.synthetic.targets import RANK_MARGIN, distance

OS_ITERATIONS = 60000  # step 4 annealing iterations (twice if needed)


def os_statistics(days, event, role) -> dict:
    """Published overall-survival statistics from OS days, events and response role."""
    m = days / DAYS_PER_MONTH
    curve = fs.km_curve(m, event)
    land = fs.curve_at(*curve, [12, 24, 36]) * 100
    dc, pd_ = role == "dc", (role == "pd") | (role == "excluded")
    return {"os_median_all": fs.curve_median(*curve), "os_1y_pct": land[0], "os_2y_pct": land[1],
            "os_3y_pct": land[2], "os_median_dc": fs.km_median(m[dc], event[dc]),
            "os_median_pd": fs.km_median(m[pd_], event[pd_])}


def _roles(n38, n_roles) -> np.ndarray:
    """The response role of every patient: the 38 of the SPP analysis ("pd"), then the excluded, the
    disease-control and the not-evaluated patients (`n_roles`: their counts)."""
    return np.r_[["pd"] * n38, ["excluded"] * n_roles["excluded"], ["dc"] * n_roles["dc"], ["ne"] * n_roles["ne"]]


def _initial_times(rng, T, s, role, max_days):
    """Starting OS days and deaths: the 38's from step 3, the others drawn around the printed medians (the
    excluded patients, whose liver function failed, die within 120 days; 60% of disease control die)."""
    free = role != "pd"
    days = np.r_[s.spp_days + s.ttp_days, np.zeros(free.sum())].astype(float)
    event = np.r_[s.event, np.ones(free.sum(), bool)]
    med = {"excluded": T["os_median_pd"] * 0.6, "dc": T["os_median_dc"], "ne": T["os_median_all"]}
    for r in ("excluded", "dc", "ne"):
        k = role == r
        days[k] = np.round(rng.exponential(med[r] * DAYS_PER_MONTH / np.log(2), k.sum())) + 30
    days = np.minimum(days, max_days)
    days[role == "excluded"] = np.minimum(days[role == "excluded"], 120)  # their liver function failed: they die early
    event[role == "dc"] = rng.random((role == "dc").sum()) < 0.6
    return days, event


def _loss_function(T, D, skip, role, sor):
    """loss_of(spp, ttp, days, event) -> (loss, statistics) of step 4: the OS statistics of everyone with the
    38's OS as SPP + TTP, and the OS log-rank p and SPP/OS median ratio of the 38."""
    n38 = len(sor)
    last_38 = [None, None, None]  # SPP and TTP arrays (never changed in place) and the statistics of the 38

    def statistics_38(spp_, ttp_, e):
        """The OS log-rank p of the 38 and their SPP/OS median ratio; these depend on the 38's SPP and TTP
        only (the moves change no event of the 38), so half the moves, which change neither, reuse them."""
        if last_38[0] is not spp_ or last_38[1] is not ttp_:
            os38 = (spp_ + ttp_) / DAYS_PER_MONTH
            last_38[:] = spp_, ttp_, {
                "os38_logrank_p": fs.logrank_p(os38, e[:n38], sor)[0],
                "spp_over_os_median_sor_pct": 100 * fs.km_median(spp_[sor] / DAYS_PER_MONTH, e[:n38][sor])
                / fs.km_median(os38[sor], e[:n38][sor])}
        return last_38[2]

    def loss_of(spp_, ttp_, d, e):
        d = d.copy()
        d[:n38] = spp_ + ttp_
        st = {**os_statistics(d, e, role), **statistics_38(spp_, ttp_, e)}
        return sum(distance(v, T[k], D[k]) for k, v in st.items() if k in T and k not in skip), st

    return loss_of


class _Moves:
    """The moves of step 4's annealing, with what bounds them: the OS days or death of a patient outside the
    SPP analysis, the SPP days of one of the 38 between its neighbours (the two median patients stay), or a
    time to progression of one of the 38."""

    def __init__(self, s, role, max_days):
        n38 = len(s.group)
        self.order = np.argsort(s.spp_days, kind="stable")
        sor_sorted, ev_sorted = (s.group[self.order] == 1)[None], s.event[self.order][None]
        fixed = {self.order[median_position(sor_sorted, ev_sorted)[0]],
                 self.order[median_position(~sor_sorted, ev_sorted)[0]]}
        self.movable = np.array([i for i in range(n38) if i not in fixed])
        self.rank = np.empty(n38, int)
        self.rank[self.order] = np.arange(n38)
        self.n38, self.role, self.max_days = n38, role, max_days
        self.idx_free = np.nonzero(role != "pd")[0]
        # a response other than NE needs an assessment 4 weeks after the first session (validate rule 9)
        self.min_days = np.where(role == "ne", MIN_NE_DAYS, RESPONSE_ASSESSMENT_DAYS)

    def propose(self, rng, spp, ttp, days, event, temp):
        """A candidate (spp, ttp, days, event): the arrays not moved are the ones given; None when the drawn
        move is not allowed."""
        u = rng.random()
        if u < 0.45:
            return spp, ttp, self._os_days(rng, days, temp), event
        if u < 0.55:
            i = rng.choice(self.idx_free)
            if self.role[i] == "excluded":
                return None
            e2 = event.copy()
            e2[i] = ~e2[i]
            return spp, ttp, days, e2
        if u < 0.8:
            spp2 = self._spp_days(rng, spp, temp)
            return None if spp2 is None else (spp2, ttp, days, event)
        return spp, self._ttp_days(rng, ttp), days, event

    def _os_days(self, rng, days, temp):
        i = rng.choice(self.idx_free)
        d2 = days.copy()
        if rng.random() < 0.2:  # a jump anywhere
            d2[i] = float(rng.integers(self.min_days[i], self.max_days + 1))
        else:
            d2[i] = float(np.clip(d2[i] + np.round(rng.normal(0, 5 + 200 * temp)), self.min_days[i], self.max_days))
        if self.role[i] == "excluded":
            d2[i] = min(d2[i], 366)
        return d2

    def _spp_days(self, rng, spp, temp):
        i = rng.choice(self.movable)
        r, order = self.rank[i], self.order
        lo = spp[order[r - 1]] + 1 if r > 0 else MIN_SPP_DAYS
        hi = spp[order[r + 1]] - 1 if r < self.n38 - 1 else MAX_SPP_DAYS
        if hi <= lo:
            return None
        spp2 = spp.copy()
        if rng.random() < 0.2:  # anywhere between the neighbours
            spp2[i] = float(rng.integers(lo, hi + 1))
        else:
            spp2[i] = float(np.clip(spp[i] + np.round(rng.normal(0, 3 + 100 * temp)), lo, hi))
        return spp2

    def _ttp_days(self, rng, ttp):
        i = rng.integers(self.n38)
        ttp2 = ttp.copy()
        v = rng.random()
        if v < 0.2:
            ttp2[i] = float(rng.integers(21, 241))
        elif v < 0.4:  # exchange with another patient
            j = rng.integers(self.n38)
            ttp2[[i, j]] = ttp2[[j, i]]
        else:
            ttp2[i] = float(np.clip(ttp[i] + np.round(rng.normal(0, 10)), 21, 240))
        return ttp2


def _all_matched(st, T, D, skip) -> bool:
    """Whether every statistic lies inside `RANK_MARGIN` of its printed number's rounding interval."""
    return all(abs(v - T[k]) <= RANK_MARGIN * 10.0 ** -D[k] for k, v in st.items() if k in T and k not in skip)


def calibrate_os(rng, T, D, skip, s, n_roles, iterations=OS_ITERATIONS, log=None):
    """Step 4: annealing over the OS times (and censoring) of the disease-control, not-evaluated and
    excluded patients, jointly with the SPP days of the 38 (order kept, the two median patients fixed,
    so step 3's statistics do not move) and their times to progression. Updates `s` in place.
    Returns (OS days, deaths, roles, statistics, loss) of every patient."""
    n38 = len(s.group)
    role = _roles(n38, n_roles)
    max_days = (DATA_CUTOFF - ENROL_START).days - 30
    days, event = _initial_times(rng, T, s, role, max_days)
    spp, ttp = s.spp_days.copy(), s.ttp_days.copy()
    moves = _Moves(s, role, max_days)
    loss_of = _loss_function(T, D, skip, role, s.group == 1)
    loss, st = loss_of(spp, ttp, days, event)
    for it in range(2 * iterations):  # a second pass only if the first one ends with a number missed
        if loss == 0 or _all_matched(st, T, D, skip):
            break
        temp0 = 2.0
        temp = temp0 * (0.01 / temp0) ** ((it % iterations) / iterations)
        candidate = moves.propose(rng, spp, ttp, days, event, temp)
        if candidate is None:
            continue
        new_loss, new_st = loss_of(*candidate)
        if new_loss <= loss or rng.random() < np.exp((loss - new_loss) / temp):
            (spp, ttp, days, event), loss, st = candidate, new_loss, new_st
        if log and it % 10000 == 0:
            log(f"  OS annealing {it:>6}: loss {loss:.2f}")
    s.spp_days, s.ttp_days = spp, ttp
    days[:n38] = spp + ttp
    return days, event, role, st, loss
