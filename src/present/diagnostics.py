"""Diagnostic plots: is a model's assumption met, does a result depend on a choice made after looking?

- `plot_zph`: the scaled Schoenfeld residuals of a `zph.cox_zph` result against transformed time with a
  smooth, one panel per term (proportional hazards hold when the smooth stays flat); `zph_figure`: the same
  as a figure at a journal's size.
- `plot_p_by_cutoff`: the log-rank p of a `cutoffs.logrank_by_cutoff` table against the cut-off;
  `explorer`: a slider over the cut-off (ipywidgets, for an interactive session only) redrawing the two
  Kaplan-Meier curves (`plots.plot_km`) and the p.

The statistics come from `src/stats/` (`zph`, `cutoffs`, `survival`); sizes from `figures`. matplotlib,
statsmodels and ipywidgets are imported inside the functions that use them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.present import figures, plots
from src.stats import cutoffs, survival


# --- proportional hazards ------------------------------------------------------------

def zph_figure(result: dict, names: dict | None = None, title: str | None = None, points: bool = True,
               ncols: int = 3):
    """A journal-size figure (`figures.size`) of `plot_zph`: one panel per term, `ncols` to a row (two
    columns wide, or one for a single term), `title` above. Returns the figure."""
    import matplotlib.pyplot as plt

    k = result["y"].shape[1]
    ncols = max(1, min(k, ncols))
    nrows = -(-k // ncols)
    width = "single" if ncols == 1 else "double"
    aspect = 0.8 if ncols == 1 else 0.42 * nrows * (3 / max(ncols, 3)) * (1 + 0.15 / nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figures.size(width, aspect), squeeze=False)
    axes = axes.ravel()
    plot_zph(result, names=names, axes=axes[:k], points=points)
    for ax in axes[k:]:
        ax.set_visible(False)
    for ax in axes[:k]:
        if ax not in axes[::ncols][:nrows]:
            ax.set_ylabel("")
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    return fig


def _smooth(x, y, frac=2 / 3):
    """A lowess smooth of y on x (statsmodels), evaluated at the sorted x."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    fit = lowess(y, x, frac=frac, return_sorted=True)
    return fit[:, 0], fit[:, 1]


def plot_zph(result: dict, names: dict | None = None, axes=None, hr_scale: bool = True, points: bool = True, **kwargs):
    """Scaled Schoenfeld residuals of a `cox_zph` result against transformed time, one panel per term,
    with a lowess smooth (an estimate of beta(t), the log hazard ratio at time t) and the fitted, constant
    coefficient (dashed): under proportional hazards the smooth stays near the dashed line.

    `names` maps a term to its label; `axes` a sequence of matplotlib axes (default: a new row of panels);
    `hr_scale` labels the y axis in hazard ratios (exp of beta(t), ticks on a log scale). The x axis is
    the transformed time ("km": 1 - S(t-), about the share of the deaths observed by then). `**kwargs`
    go to the scatter; `points=False` draws the smooth only (one point is one patient's death). Returns the axes.
    """
    import matplotlib.pyplot as plt

    y = result["y"]
    if axes is None:
        _, axes = plt.subplots(1, y.shape[1], squeeze=False)
        axes = axes[0]
    style = {"s": 8, "color": "0.45", "linewidths": 0, **kwargs}
    for ax, term in zip(axes, y.columns):
        ok = np.isfinite(y[term].to_numpy())
        x, v = result["x"][ok], y[term].to_numpy()[ok]
        if points:
            ax.scatter(x, v, **style)
        if ok.sum() > 3:
            sx, sy = _smooth(x, v)
            ax.plot(sx, sy, color="#0072B2", lw=1.2, label="smooth (lowess)")
        if term in result.get("coef", {}):
            ax.axhline(result["coef"][term], color="#D55E00", lw=0.9, linestyle="--", label="Cox model (constant)")
        ax.set_title((names or {}).get(term, term), loc="left")
        if result["transform"] == "km":
            ax.set_xlim(-0.03, 1.03)
            ax.set_xlabel("Share of deaths observed")
        else:
            ax.set_xlabel(f"Time ({result['transform']})")
        if hr_scale:
            low, high = ax.get_ylim()
            ticks = [t for t in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000)
                     if low <= np.log(t) <= high]
            ticks = ticks[::2] if len(ticks) > 7 else ticks
            ax.set_yticks(np.log(ticks), [f"{t:g}" for t in ticks])
            ax.set_ylabel("Hazard ratio at that time")
        else:
            ax.set_ylabel("beta(t)")
    return axes


# --- cut-offs ------------------------------------------------------------------------

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

    present = {c: label for c, label in columns.items() if c in df and df[c].notna().any()}
    factor = widgets.Dropdown(options=[(label, c) for c, label in present.items()], description="Factor")
    slider = widgets.SelectionSlider(options=[0.0], description="Cut-off", continuous_update=False,
                                     layout=widgets.Layout(width="60%"))
    out = widgets.Output()

    def set_options(*_):
        cuts = cutoffs.candidate_cutoffs(df[factor.value])
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
            plots.plot_km(fitters, ax=ax, annotate_p=p, unit=unit, at_risk=False,
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
