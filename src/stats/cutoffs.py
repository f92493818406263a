"""Cut-offs and their cost: how the log-rank p of a dichotomised factor depends on where it is cut, and how
often choosing the cut-off with the smallest p finds an effect that is not there.

Splitting a continuous factor (AFP, albumin, age) at a cut-off "below" / "at or above" loses information,
and a cut-off chosen after looking at the data, the one with the smallest p, makes a chance finding likely:
each candidate cut-off is another test (Altman et al., J Natl Cancer Inst 1994; Lausen and Schumacher,
Biometrics 1992).

- `candidate_cutoffs`: every observed value between two percentiles (default the 10th and 90th).
- `quantile_grid`: cut-offs at evenly spaced percentiles instead (private mode: no patient's value).
- `logrank_by_cutoff`: the log-rank p of the two levels at each candidate cut-off.
- `simulate_min_p`: a seeded simulation under no effect (survival independent of the factor, exponential
  times, independent exponential censoring; it uses no data): the share of studies in which the smallest
  p over the candidate cut-offs, or the p at one cut-off fixed in advance (the median), is below alpha.
- `plot_p_by_cutoff`: p against the cut-off; `explorer`: a slider over the cut-off (ipywidgets, for an
  interactive session only) redrawing the two Kaplan-Meier curves and the p.

Log-rank p-values are `faststats.logrank_p` (hypergeometric variance, as lifelines and R's survdiff).
matplotlib and ipywidgets are imported inside the functions that draw.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.stats import faststats

N_PATIENTS = 38          # the paper's SPP cohort (patients who progressed with a Child-Pugh score of 8 or less)
CENSORED_SHARE = 0.25    # expected share of censored times in the simulation
PERCENTILES = (10, 90)   # candidate cut-offs: observed values between these percentiles


def candidate_cutoffs(values, percentiles=PERCENTILES) -> np.ndarray:
    """The distinct observed values between the two `percentiles` (inclusive), in order: each is a cut-off
    splitting the factor into "< c" and ">= c" with both levels non-empty."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) == 0:
        return np.array([])
    low, high = np.percentile(x, percentiles)
    cuts = np.unique(x[(x >= low) & (x <= high)])
    return cuts[cuts > x.min()]  # a cut at the minimum leaves the lower level empty


def quantile_grid(values, percentiles=PERCENTILES, points: int = 33) -> np.ndarray:
    """`points` cut-offs evenly spaced in percentile between the two `percentiles` (interpolated quantiles,
    aggregates rather than any patient's value: for private mode), without repeats."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) == 0:
        return np.array([])
    cuts = np.unique(np.percentile(x, np.linspace(*percentiles, points)))
    return cuts[cuts > x.min()]


def logrank_by_cutoff(df: pd.DataFrame, duration_col, event_col, column, cutoffs=None) -> pd.DataFrame:
    """For each cut-off (default `candidate_cutoffs` of `column`), the patients below and at or above it and
    the log-rank p of the two levels. Rows with a missing value are left out. Columns `cutoff`, `n_below`,
    `n_above`, `p`."""
    d = df[[duration_col, event_col, column]].apply(pd.to_numeric, errors="coerce").dropna()
    x = d[column].to_numpy(float)
    cuts = candidate_cutoffs(x) if cutoffs is None else np.asarray(cutoffs, float)
    if len(cuts) == 0 or d[event_col].sum() == 0:
        return pd.DataFrame(columns=["cutoff", "n_below", "n_above", "p"])
    above = (x[:, None] >= cuts[None, :]).astype(float)
    p = faststats.logrank_p(d[duration_col].to_numpy(float), d[event_col].to_numpy(bool), above)
    return pd.DataFrame({"cutoff": cuts, "n_below": (above == 0).sum(0), "n_above": above.sum(0).astype(int), "p": p})


def _one_study(rng, n, censored_share):
    """Times, events and an unrelated continuous factor of one simulated study (hazard 1, censoring hazard
    chosen so that `censored_share` of the times are censored on average)."""
    t = rng.exponential(1.0, n)
    c = rng.exponential(1.0 / (censored_share / (1 - censored_share)), n) if censored_share > 0 else np.full(n, np.inf)
    x = rng.normal(size=n)
    return np.minimum(t, c), t <= c, x


def simulate_min_p(replicates: int = 1000, n: int = N_PATIENTS, alpha: float = 0.05, seed: int = 21,
                   censored_share: float = CENSORED_SHARE, percentiles=PERCENTILES) -> dict:
    """Simulate `replicates` studies of `n` patients whose survival does not depend on the factor.

    In each, the log-rank p is computed at every candidate cut-off (`candidate_cutoffs`) and at the
    median, a cut-off fixed before looking at the outcome. Returns `nominal_alpha`, `replicates`,
    `share_min_p_below_alpha` (share of studies whose smallest p is below `alpha`: the false-positive rate of
    choosing the best cut-off), `share_prespecified_below_alpha` (the same with the median: near `alpha`),
    `cutoffs_tried` (median number of candidate cut-offs per study). Seeded: the same numbers every run.
    """
    rng = np.random.default_rng(seed)
    min_p, pre_p, tried = np.empty(replicates), np.empty(replicates), np.empty(replicates)
    for i in range(replicates):
        time, event, x = _one_study(rng, n, censored_share)
        cuts = candidate_cutoffs(x, percentiles)
        groups = np.column_stack([x >= np.median(x), x[:, None] >= cuts[None, :]]).astype(float)
        p = faststats.logrank_p(time, event, groups)
        pre_p[i], min_p[i], tried[i] = p[0], np.nanmin(p[1:]), len(cuts)
    return {"nominal_alpha": alpha, "replicates": replicates,
            "share_min_p_below_alpha": float(np.mean(min_p < alpha)),
            "share_prespecified_below_alpha": float(np.mean(pre_p < alpha)),
            "cutoffs_tried": float(np.median(tried))}


def plot_p_by_cutoff(table: pd.DataFrame, ax=None, used=None, alpha: float = 0.05, log_x: bool = False, **kwargs):
    """The log-rank p of a `logrank_by_cutoff` table against the cut-off (p on a log scale), with a
    horizontal line at `alpha` and, when given, a vertical line at the cut-off `used` (the paper's).
    `**kwargs` go to the line. Returns `ax`."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.step(table["cutoff"], table["p"], where="post", **{"color": "#0072B2", "lw": 1.0, **kwargs})
    ax.axhline(alpha, color="0.3", lw=0.8, linestyle="--")
    if used is not None and np.isfinite(used):
        ax.axvline(used, color="#D55E00", lw=0.9, linestyle=":")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_yscale("log")
    low = min(0.001, table["p"].min() * 0.8) if len(table) else 0.001
    ax.set_ylim(low, 1.05)
    ax.yaxis.set_major_locator(FixedLocator([t for t in (0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1) if t >= low]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    if log_x:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.set_ylabel("Log-rank p")
    return ax


def explorer(df: pd.DataFrame, duration_col, event_col, columns: dict, unit: str = "months"):
    """In JupyterLab: a drop-down over the factors (`columns`: column -> label) and a slider over the
    candidate cut-offs; each move redraws the Kaplan-Meier curves of the two levels with the log-rank p.
    Returns the ipywidgets box (display it). Needs ipywidgets and a live kernel."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from src.present import figures
    from src.stats import survival

    present = {c: label for c, label in columns.items() if c in df and df[c].notna().any()}
    factor = widgets.Dropdown(options=[(label, c) for c, label in present.items()], description="Factor")
    slider = widgets.SelectionSlider(options=[0.0], description="Cut-off", continuous_update=False,
                                     layout=widgets.Layout(width="60%"))
    out = widgets.Output()

    def set_options(*_):
        cuts = candidate_cutoffs(df[factor.value])
        slider.options = [(f"{c:g}", float(c)) for c in cuts] or [("none", np.nan)]
        slider.index = len(slider.options) // 2

    def draw(*_):
        with out:
            out.clear_output(wait=True)
            c = slider.value
            d = df[[duration_col, event_col, factor.value]].dropna()
            d = d.assign(level=np.where(d[factor.value] >= c, f">= {c:g}", f"< {c:g}"))
            fitters = survival.km_by_group(d, duration_col, event_col, "level", order=[f"< {c:g}", f">= {c:g}"])
            _, p = survival.logrank(d, duration_col, event_col, "level")
            fig, ax = plt.subplots(figsize=figures.size("single", 0.9))
            survival.plot_km(fitters, ax=ax, annotate_p=p, unit=unit, at_risk=False,
                             xlabel=f"{unit.capitalize()} from progression")
            ax.set_title(f"{present[factor.value]}: cut at {c:g}", loc="left")
            plt.show()

    factor.observe(lambda change: (set_options(), draw()), names="value")
    slider.observe(draw, names="value")
    set_options()
    draw()
    box = widgets.VBox([widgets.HBox([factor, slider]), out])
    display(box)
    return box
