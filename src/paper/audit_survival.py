"""Checks of the audit on survival: the Kaplan-Meier median against landmark survival, landmarks that never
rise, landmarks against the medians of the response groups, and the medians of survival post-progression
against overall survival (plausibility, from the printed numbers alone).

Each check takes the published numbers (`published.published_by_id`) and returns findings
(`src/paper/audit.py` describes them)."""
from __future__ import annotations

import re

from src.paper.published import COHORT, _finding, _half, _has, _ids_matching, _p, _v
from src.study import DAYS_PER_MONTH, RESPONSE_ASSESSMENT_DAYS


# --- survival: medians against landmarks and against each other -------------

SURVIVAL_LANDMARKS = {"os_median_all": r"os_(\d+)y_pct"}  # median id -> landmark survival ids (years)
GROUP_MEDIANS = {"os_median_dc": "flow_n_disease_control", "os_median_pd": "r_response_pd"}  # median -> group size


def _landmarks(pub, pattern) -> list[tuple[str, float]]:
    ids = _ids_matching(pub, pattern)
    return sorted(((i, 12.0 * int(re.fullmatch(pattern, i).group(1))) for i in ids), key=lambda x: x[1])


def median_vs_landmark(pub) -> list[dict]:
    """Kaplan-Meier median against landmark survival: the median is the first time the
    curve reaches 50%, so survival is at most 50% after it and above 50% before it."""
    findings = []
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        if not _has(pub, median_id):
            continue
        m = _v(pub, median_id)
        for pct_id, t in _landmarks(pub, pattern):
            s, half = _v(pub, pct_id), _half(pub, pct_id)
            if m < t:
                ok, need = s - half <= 50, "at most 50%"
            elif m > t:
                ok, need = s + half >= 50, "above 50%"
            else:
                continue
            findings.append(_finding(
                "median_vs_landmark", [pct_id, median_id], f"{_p(pub, pct_id)}% at {t:g} months",
                f"{need} (median {_p(pub, median_id)} months)", ok,
                f"the median {_p(pub, median_id)} months is {'before' if m < t else 'after'} {t:g} months, so "
                f"survival at {t:g} months must be {need}; the printed {_p(pub, pct_id)}% "
                f"{'agrees' if ok else 'does not'}"))
    return findings


def landmarks_decreasing(pub) -> list[dict]:
    """Landmark survival percentages cannot increase with time."""
    findings = []
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        marks = _landmarks(pub, pattern)
        if len(marks) < 2:
            continue
        values = [_v(pub, i) for i, _ in marks]
        ok = all(a >= b for a, b in zip(values, values[1:]))
        printed = " >= ".join(f"{_p(pub, i)}% ({t:g} mo)" for i, t in marks)
        findings.append(_finding("landmarks_decreasing", [i for i, _ in marks], printed, "non-increasing", ok,
                                 "a survival curve never goes up: " + printed
                                 + (" holds" if ok else " does not hold")))
    return findings


def landmark_vs_group_medians(pub) -> list[dict]:
    """Plausibility: overall landmark survival against the medians of the response groups.

    A group whose median is beyond the landmark has more than half its patients alive
    there, a group whose median is before it at most half; groups without a median (not
    evaluated) may have all or none alive. Exact without censoring before the landmark,
    approximate otherwise."""
    findings = []
    groups = {m: n for m, n in GROUP_MEDIANS.items() if _has(pub, m, n)}
    if not groups or not _has(pub, COHORT):
        return findings
    total = _v(pub, COHORT)
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        for pct_id, t in _landmarks(pub, pattern):
            above = sum(_v(pub, n) for m, n in groups.items() if _v(pub, m) > t)
            below = sum(_v(pub, n) for m, n in groups.items() if _v(pub, m) < t)
            lo, hi = 100 * above / 2 / total, 100 * (total - below / 2) / total
            s, half = _v(pub, pct_id), _half(pub, pct_id)
            ok = lo <= s + half and s - half <= hi
            findings.append(_finding(
                "landmark_vs_group_medians", [pct_id, *groups, *groups.values(), COHORT],
                f"{_p(pub, pct_id)}% at {t:g} months", f"{lo:.1f}%-{hi:.1f}%", ok,
                f"groups with a median beyond {t:g} months ({above:.0f} patients) keep more than half alive and "
                f"groups with a median before it ({below:.0f} patients) at most half, so of {total:.0f} patients "
                f"between {lo:.1f}% and {hi:.1f}% survive {t:g} months (ignoring censoring); the printed "
                f"{_p(pub, pct_id)}% {'fits' if ok else 'does not fit'}"))
    return findings


SPP_OVER_OS = ("spp_over_os_median_sor_pct", "spp_median_sor")  # Discussion: "about 80%", sorafenib group
FIRST_ASSESSMENT_WEEKS = RESPONSE_ASSESSMENT_DAYS // 7  # Methods: response assessed "at 4 weeks after each HAIC session"


def spp_over_os_ratio(pub) -> list[dict]:
    """Plausibility of 'median SPP is about X% of median OS' (sorafenib group).

    With the printed median SPP and X known to its rounding, the implied median OS is
    SPP / X and median OS minus median SPP (the paper's own definition of what precedes
    progression) must be at least the time to the first response assessment."""
    ratio_id, spp_id = SPP_OVER_OS
    if not _has(pub, ratio_id, spp_id):
        return []
    r, half, spp = _v(pub, ratio_id), _half(pub, ratio_id), _v(pub, spp_id)
    r_lo, r_hi = max(r - half, 1e-9), min(r + half, 100)
    os_lo, os_hi = spp / (r_hi / 100), spp / (r_lo / 100)
    before_lo, before_hi = os_lo - spp, os_hi - spp
    first = FIRST_ASSESSMENT_WEEKS * 7 / DAYS_PER_MONTH
    ok = r - half <= 100 and before_hi >= first
    return [_finding(
        "spp_over_os_ratio", [ratio_id, spp_id], f"median SPP about {_p(pub, ratio_id)}% of median OS",
        f"median OS {os_lo:.1f}-{os_hi:.1f} months; OS minus SPP {before_lo:.1f}-{before_hi:.1f} months", ok,
        f"a median SPP of {_p(pub, spp_id)} months that is {r - half:g}-{min(r + half, 100):g}% of the median OS "
        f"means a median OS of {os_lo:.1f}-{os_hi:.1f} months, so progression came about {before_lo:.1f}-"
        f"{before_hi:.1f} months after the first HAIC; the first assessment was {FIRST_ASSESSMENT_WEEKS} weeks "
        f"({first:.1f} months) after the first session, so this is {'plausible' if ok else 'not possible'}")]


SPP_GROUPS = {"spp_median_sor": "flow_n_sorafenib", "spp_median_oth": "flow_n_other"}  # median SPP -> group size
OS_OF_PROGRESSORS = ("os_median_pd", "r_response_pd")  # median OS and size of the group that contains them


def spp_median_vs_os_median(pub) -> list[dict]:
    """Each group's median SPP against the median OS of the patients who progressed.

    OS = time to progression + SPP, so a patient alive t months after progression is
    alive t months after the first HAIC. A group whose median SPP exceeds the progressors'
    median OS m keeps more than half its patients (floor(n/2)+1) alive at m, and at most
    floor(N/2) of the N progressors are alive at m (exact without censoring)."""
    os_id, n_id = OS_OF_PROGRESSORS
    groups = {m: n for m, n in SPP_GROUPS.items() if _has(pub, m, n)}
    if not groups or not _has(pub, os_id, n_id):
        return []
    m, big_n = _v(pub, os_id), int(_v(pub, n_id))
    need = sum(int(_v(pub, n)) // 2 + 1 for g, n in groups.items() if _v(pub, g) > m)
    allowed = big_n // 2
    ok = need <= allowed
    beyond = [f"{g} ({_p(pub, g)} months, n={int(_v(pub, n))})" for g, n in groups.items() if _v(pub, g) > m]
    return [_finding(
        "spp_median_vs_os_median", [*groups, *groups.values(), os_id, n_id],
        "; ".join(f"{g}={_p(pub, g)}" for g in groups) + f"; {os_id}={_p(pub, os_id)}",
        f"at least {need} alive at {_p(pub, os_id)} months, at most {allowed} allowed", ok,
        (f"median SPP beyond the progressors' median OS of {_p(pub, os_id)} months: {', '.join(beyond)}; "
         if beyond else f"no group's median SPP exceeds the progressors' median OS of {_p(pub, os_id)} months; ")
        + f"at least {need} patients must then be alive at {_p(pub, os_id)} months after the first HAIC, and at most "
          f"{allowed} of the {big_n} progressors can be (ignoring censoring): "
        + ("possible" if ok else "impossible"))]
