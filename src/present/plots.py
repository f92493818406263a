"""Plots of survival: Kaplan-Meier curves with their numbers at risk, follow-up lines, forest plots of hazard
ratios, cumulative incidence curves. The numbers come from `src/stats/` (`survival`, `competing`); the styles,
sizes and curve ids from `figures`.

- `plot_km` (the survminer way: curves, bands, censor marks, medians, log-rank p, numbers at risk) and
  `km_title` (a title above its legend);
- `plot_followup`: one line per patient, a picture of censoring;
- `plot_forest` (hazard ratios of a `survival.cox_table` with their intervals) and `forest_figure` (several
  models, one panel each, on one scale);
- `plot_cif`: curves of a `competing.cumulative_incidence` result.

Plotting functions take `ax=None` (fall back to `plt.gca()`), pass `**kwargs` on, and return `ax` (lifelines'
way). matplotlib is imported inside the functions that draw.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src import privacy
from src.present import figures
from src.stats import survival


# --- Kaplan-Meier ----------------------------------------------------------------

def plot_km(fitters, ax=None, at_risk=True, annotate_p=None, ci=True, mark_medians=True,
            xlabel="Months", ylabel="Survival probability", tick_step=None, min_cell=0, unit="months", **kwargs):
    """Kaplan-Meier curves the survminer way: each group in its shared style (`figures.style_of`: colour and
    line style), CI bands drawn as thin outlines in the curve's style (no fill, so they do not merge), censor
    marks, "n = N" in the legend, medians marked by dotted lines and given in the legend, the log-rank p
    (`annotate_p`) in the corner, and a numbers-at-risk table under the axis, centred under each tick and keyed
    to the curve colours (counts from 1 to `min_cell - 1` read "<min_cell"). `unit` follows each median in the
    legend.

    `fitters`: fitted `KaplanMeierFitter`s (a list, or a dict label -> fitter). `tick_step`: distance
    between x ticks (the at-risk table follows them). `at_risk=False` leaves the table out. Other `kwargs` go
    to `ax.step` (e.g. `linewidth`). Returns `ax`; the table is `ax.at_risk_axes`.
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    fitters = list(fitters.values()) if isinstance(fitters, dict) else list(fitters)
    styles = [figures.style_of(k._label, i) for i, k in enumerate(fitters)]
    panel = ax.figure.axes.index(ax) if ax in ax.figure.axes else 0
    linewidth = kwargs.pop("linewidth", 1.3)
    for kmf, style in zip(fitters, styles):
        label = _km_label(kmf, min_cell, unit)
        _km_curve(ax, kmf, style, figures.km_gid(panel, kmf._label), label, ci, mark_medians, linewidth, kwargs)
    _km_axes(ax, fitters, xlabel, ylabel, tick_step, annotate_p)
    if at_risk and fitters:
        ax.at_risk_axes = _at_risk_table(ax, fitters, styles, min_cell)
    return ax


def _km_label(kmf, min_cell, unit) -> str:
    """The legend entry of a curve: "sorafenib (n = 19; median 5.5 months)"."""
    median = kmf.median_survival_time_
    med = f"{median:.1f}" if np.isfinite(median) else "NR"
    n = privacy.count_text(len(kmf.durations), min_cell)
    return f"{kmf._label} (n = {n}; median {med}{' ' + unit if unit and med != 'NR' else ''})"


def _km_curve(ax, kmf, style, gid, label, ci, mark_medians, linewidth, kwargs) -> None:
    """One group's curve (its id in the SVG is `gid`: tests check its style there), its confidence limits as
    thin steps, its censor marks and the dotted lines to its median."""
    sf = kmf.survival_function_
    t, s = sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)
    ax.step(t, s, where="post", color=style["color"], linestyle=style["linestyle"], label=label,
            linewidth=linewidth, gid=gid, **kwargs)
    if ci:
        ci_frame = kmf.confidence_interval_survival_function_
        lo, hi = ci_frame.iloc[:, 0].to_numpy(dtype=float), ci_frame.iloc[:, 1].to_numpy(dtype=float)
        ct = ci_frame.index.to_numpy(dtype=float)
        for side, bound in (("low", lo), ("high", hi)):
            ax.step(ct, bound, where="post", color=style["color"], linestyle=style["linestyle"],
                    linewidth=0.6, alpha=0.55, gid=f"{gid}-ci-{side}")
    censored = np.asarray(kmf.durations, dtype=float)[np.asarray(kmf.event_observed) == 0]
    if len(censored):
        ax.plot(censored, kmf.survival_function_at_times(censored).to_numpy(), "|", color=style["color"],
                ms=5, mew=0.9)
    median = kmf.median_survival_time_
    if mark_medians and np.isfinite(median):
        ax.plot([0, median, median], [0.5, 0.5, 0], ls=":", lw=0.7, color=style["color"])


def _km_axes(ax, fitters, xlabel, ylabel, tick_step, annotate_p) -> None:
    """Limits, ticks, labels, the log-rank p in the corner and the legend above the axes (its number of rows
    in `ax.km_legend_rows`, for `km_title`)."""
    from matplotlib.ticker import MultipleLocator

    xmax = max(float(np.max(k.durations)) for k in fitters) if fitters else 1.0
    ax.set_xlim(0, xmax * 1.02)
    ax.set_ylim(0, 1.02)
    if tick_step:
        ax.xaxis.set_major_locator(MultipleLocator(tick_step))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if annotate_p is not None:
        ax.text(0.98, 0.98, f"log-rank {survival.format_p(annotate_p)}", transform=ax.transAxes, ha="right",
                va="top")
    legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, handlelength=2.2,
                       borderaxespad=0.2)
    ax.km_legend_rows = len(legend.get_texts())


def _at_risk_table(ax, fitters, styles, min_cell):
    """The numbers-at-risk table under `ax`: one row per curve, keyed by a short stretch of the curve (colour
    and line style, as survminer does), a count centred under each x tick. Returns the table's axes."""
    from matplotlib import transforms

    ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1] + 1e-9]
    # the table hangs a fixed distance below the axes (in points, not a share of the axes' height, so
    # that a tight layout finds it where it drew it): room for the tick labels and the axis label
    row_pt, below_pt = 1.45 * figures.FONT_PT, 3.4 * figures.FONT_PT + 14
    points = transforms.Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans
    below_axes = points + transforms.ScaledTranslation(0, 0, ax.transAxes)
    where = transforms.blended_transform_factory(ax.transAxes, below_axes)
    height = row_pt * len(fitters)
    table = ax.inset_axes([0, -(below_pt + height), 1, height], transform=where, sharex=ax)
    table.set_ylim(len(fitters) - 0.5, -0.5)
    table.set_axis_off()
    table.text(0, 1.0, "Number at risk", transform=table.transAxes, ha="left", va="bottom", fontweight="bold")
    left_of_axes = points + transforms.ScaledTranslation(0, 0, table.transAxes)  # x in points from its left
    key = transforms.blended_transform_factory(left_of_axes, table.transData)
    for row, (kmf, style) in enumerate(zip(fitters, styles)):
        table.plot([-30, -12], [row, row], transform=key, color=style["color"], linestyle=style["linestyle"],
                   linewidth=1.3, clip_on=False)
        for tick, n in zip(ticks, survival.numbers_at_risk(kmf, ticks)):
            table.text(tick, row, privacy.count_text(n, min_cell), ha="center", va="center", color=style["color"])
    return table


def km_title(ax, text: str, **kwargs):
    """Set the title of a `plot_km` axes above its legend (which sits above the axes); returns the title."""
    rows = getattr(ax, "km_legend_rows", 0)
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    pad = 4 + rows * size * 1.5 + (0.9 * size if rows else 0)
    return ax.set_title(text, pad=pad, **kwargs)


def plot_followup(durations, event_observed, ax=None, **kwargs):
    """One horizontal line per patient from time 0 to death (x) or censoring (o),
    sorted by time: a picture of what censoring means. `kwargs` go to `ax.hlines`.
    Returns `ax`."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    d = pd.DataFrame({"t": np.asarray(durations, dtype=float), "e": np.asarray(event_observed).astype(int)})
    d = d.sort_values("t").reset_index(drop=True)
    ax.hlines(d.index, 0, d["t"], color=kwargs.pop("color", "0.6"), lw=kwargs.pop("lw", 1), **kwargs)
    ax.plot(d.loc[d.e == 1, "t"], d.index[d.e == 1], "x", color="C3", ms=5, label="death (event)")
    ax.plot(d.loc[d.e == 0, "t"], d.index[d.e == 0], "o", mfc="white", color="C0", ms=4,
            label="alive at last contact (censored)")
    ax.set_ylabel("Patients (sorted by follow-up)")
    ax.set_yticks([])
    ax.legend(loc="lower right", frameon=False)
    return ax


# --- hazard ratios ------------------------------------------------------------------

def plot_forest(table, ax=None, annotate=True, min_cell=0, **kwargs):
    """Forest plot of hazard ratios from `cox_table` (or `table3`): one row per factor in the table's
    order, all in one orientation (the compared level against the reference level, as the `comparison`
    column says), a log x axis with a line at HR = 1, and, with `annotate`, columns "HR (95% CI)", "p"
    and "Events" (`events`, "a / b", when the table has them; counts from 1 to `min_cell - 1` read
    "<min_cell"). Rows without an estimate are left out. `kwargs` go to `ax.errorbar`. Returns `ax`."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, NullLocator

    ax = ax or plt.gca()
    t = table.dropna(subset=["hr"]).iloc[::-1]
    if t.empty:
        ax.text(0.5, 0.5, "no estimable hazard ratio", transform=ax.transAxes, ha="center", va="center")
        ax.set_axis_off()
        return ax
    y = np.arange(len(t))
    hr, low, high = (t[c].to_numpy(dtype=float) for c in ("hr", "ci_low", "ci_high"))
    style = {"fmt": "s", "color": "black", "ecolor": "black", "capsize": 2, "ms": 4, "lw": 0.9, **kwargs}
    ax.errorbar(hr, y, xerr=[hr - low, high - hr], **style)
    ax.axvline(1, color="grey", lw=0.7, ls="--")
    ax.set_xscale("log")
    _forest_x(ax, min(low.min(), 0.5) / 1.3, max(high.max(), 2) * 1.3)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, [f"{f}\n{c}" for f, c in zip(t["factor"], t["comparison"])])
    ax.set_ylim(-0.7, len(t) - 0.3)
    ax.set_xlabel("Hazard ratio (95% CI, log scale)")
    if annotate:
        _forest_columns(ax, t, hr, low, high, min_cell)
    return ax


def _forest_columns(ax, t, hr, low, high, min_cell) -> None:
    """The columns "HR (95% CI)", "p" and (when the table has them) "Events" right of a forest plot, a fixed
    number of points right of the axes, whatever its width."""
    p_col = "multivariable p" if "multivariable p" in t else "p"
    columns = [("HR (95% CI)", 7, [f"{h:.2f} ({a:.2f}–{b:.2f})" for h, a, b in zip(hr, low, high)]),
               ("p", 84, [_p_text(p) for p in t[p_col]] if p_col in t else [""] * len(t))]
    if "events" in t:
        columns.append(("Events", 122, [" / ".join(privacy.count_text(int(x), min_cell)
                                                    for x in str(e).split(" / ") if x.strip().isdigit())
                                         for e in t["events"]]))
    for header, x, texts in columns:
        ax.annotate(header, (1, len(t) - 0.4), xycoords=("axes fraction", "data"), xytext=(x, 0),
                    textcoords="offset points", va="bottom", fontweight="bold", annotation_clip=False)
        for yi, text in enumerate(texts):
            ax.annotate(text, (1, yi), xycoords=("axes fraction", "data"), xytext=(x, 0),
                        textcoords="offset points", va="center", annotation_clip=False)


def forest_figure(models: dict, min_cell: int = 0):
    """A double-column figure with one `plot_forest` panel per model of `models` ({title: `cox_table`}), stacked,
    each as high as its rows, with room on the right for the HR, p and events columns. Returns the figure
    (laid out: save it with `helpers.savefig(..., layout=False)`)."""
    import matplotlib.pyplot as plt

    rows = [max(len(t.dropna(subset=["hr"])), 1) for t in models.values()]
    panels = [0.42 * r + 0.2 for r in rows]  # inches of axes per panel
    gap, top, bottom = 0.95, 0.3, 0.65  # inches: between panels (x label, next title), above, below
    height = sum(panels) + gap * (len(rows) - 1) + top + bottom
    width = figures.size("double")[0]
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, round(height, 4)), squeeze=False,
                             gridspec_kw={"height_ratios": panels})
    fig.subplots_adjust(left=0.3, right=0.66, top=1 - top / height, bottom=bottom / height,
                        hspace=gap / (sum(panels) / len(panels)))
    for ax, (title, table) in zip(axes[:, 0], models.items()):
        plot_forest(table, ax=ax, min_cell=min_cell)
        ax.set_title(title, loc="left")
    drawn = [ax for ax in axes[:, 0] if ax.axison]  # a panel without an estimate has no axis
    if len(drawn) > 1:  # one hazard-ratio scale for every panel, so that the models compare by eye
        limits = np.array([ax.get_xlim() for ax in drawn])
        for ax in drawn:
            _forest_x(ax, limits[:, 0].min(), limits[:, 1].max())
    return fig


FOREST_TICKS = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]


def _forest_x(ax, lo, hi) -> None:
    """A forest plot's hazard-ratio axis from `lo` to `hi`, ticked at the round values between."""
    from matplotlib.ticker import FixedLocator

    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([v for v in FOREST_TICKS if lo <= v <= hi]))


def _p_text(p) -> str:
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


# --- cumulative incidence -------------------------------------------------------------

def plot_cif(curves: pd.DataFrame, ax=None, ci: bool = True, styles: dict | None = None, labels: dict | None = None,
             until: float | None = None, **kwargs):
    """Step curves of a `competing.cumulative_incidence` result (at its event times), one per event, with their
    confidence limits as thin lines, drawn on to `until` (the end of follow-up) when given. `styles` maps an
    event to matplotlib line properties, `labels` to its legend label; `**kwargs` go to every curve. Returns `ax`."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    for event, c in curves.groupby("event", sort=False):
        if until is not None and until > c["time"].max():
            c = pd.concat([c, c.tail(1).assign(time=until)], ignore_index=True)
        style = {**(styles or {}).get(event, {}), **kwargs}
        line, = ax.step(c["time"], c["cif"], where="post", label=(labels or {}).get(event, event), **style)
        if ci:
            for limit in ("lower", "upper"):
                ax.step(c["time"], c[limit], where="post", color=line.get_color(), lw=0.6,
                        linestyle=line.get_linestyle())
    ax.set_ylim(0, 1)
    return ax
