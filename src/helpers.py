"""Small shared helpers for the HAIC notebooks.

Every notebook calls these functions instead of repeating code: where the
files are, how the validated tables are loaded, how times are derived from
dates, how tables and figures are written, and how a number is rounded as a
paper prints it.

Sections: paths and setup; loading and derived frames; summaries; plots;
writing results (numbers as a paper prints them: `src/formats.py`). Survival-analysis helpers live in
`src/stats/survival.py`, publication tables in `src/present/tables.py`, figure styles in `src/present/figures.py`, and
the comparison with the paper's numbers in `src/paper/compare.py`.

Imports run one way (tests/test_imports.py): this module is the notebooks' front door, on the top
floor, and no module of `src` imports it. What other modules need lives below it and is re-exported
here, so notebooks keep `helpers.X`: paths and file names in `src/config.py`, the study's design in
`src/study.py`, loading and derived frames in `src/cohort.py`, numbers as printed in `src/formats.py`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import privacy
from src.cohort import (RESPONSE_GROUPS, TIME_UNITS, _validated_by_runner, child_pugh_class,  # noqa: F401
                        clopper_pearson, count_percent, cross_counts, days_per, load_cohort,
                        overall_survival_frame, patients_with_grade, split_at, spp_frame, time_between,
                        treatment_era, years_in)
from src.config import ROOT, VALIDATED_VARIABLE, data_fingerprint  # noqa: F401 (re-exported)
from src.formats import format_number, round_half_up  # noqa: F401 (re-exported)
from src.study import DAYS_PER_MONTH  # noqa: F401 (re-exported)


# --- paths and setup --------------------------------------------------------

def resolve_paths(data_dir=None, output_dir=None, private=None, min_cell=0, draw=True) -> SimpleNamespace:
    """Return the folders a notebook reads and writes (creating the output ones) and its privacy settings.

    `data_dir=None` means the bundled synthetic cohort in `data/`;
    `output_dir=None` means `$HAIC_OUTPUT_DIR` if set (the test suite uses it so
    that nbval never touches the committed results), else `outputs/`.
    `private=None` means private mode for any data but the bundled synthetic cohort,
    recognised by its content, not its folder (`privacy.is_bundled`); `min_cell`: counts
    below it are suppressed in tables; `draw=False` (a notebook's `FIGURES`): `savefig` draws
    nothing (a batch run that needs only the tables, such as `make publish`, saves its drawing time).
    Returns a namespace with `data`, `output`, `tables`, `figures`, `published`
    (the published numbers to compare with, or None: `privacy.published_results`),
    `private`, `min_cell`, `bundled` (the data are the bundled synthetic cohort, recognised by
    content: tables and figures then say so) and `draw`.
    """
    data = Path(data_dir) if data_dir else ROOT / "data"
    output = Path(output_dir or os.environ.get("HAIC_OUTPUT_DIR") or ROOT / "outputs")
    tables, figures = output / "tables", output / "figures"
    for folder in (tables, figures):
        folder.mkdir(parents=True, exist_ok=True)
    return SimpleNamespace(data=data.resolve(), output=output.resolve(), tables=tables, figures=figures,
                           published=privacy.published_results(data), private=privacy.private_mode(private, data),
                           min_cell=int(min_cell or 0), bundled=privacy.is_bundled(data), draw=bool(draw))


def setup_plots() -> None:
    """Set one plotting style for all notebooks (explicit call, no import side effects): seaborn's
    ticks style with the journal sizes, fonts and deterministic metadata of `figures.setup`."""
    import seaborn as sns

    from src.present import figures

    sns.set_theme(context="paper", style="ticks")
    figures.setup()
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_rows", 200)


# --- loading and derived frames (in `src/cohort.py`, re-exported above) ----------

def date_text(value, paths: SimpleNamespace) -> str:
    """A date as an output may show it: "06 January 2012", or only the year in private mode."""
    return f"{pd.Timestamp(value):%Y}" if paths.private else f"{pd.Timestamp(value):%d %B %Y}"


# --- summaries --------------------------------------------------------------

def absent_columns(df: pd.DataFrame, columns, what: str) -> list:
    """The `columns` that `df` lacks (optional columns left out of a data file),
    printing a note that `what` leaves them out; returns them."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        print(f"Not in these data: {', '.join(missing)}; left out of {what}.")
    return missing


def columns_in(df: pd.DataFrame, names) -> list:
    """The `names` that are columns of `df`, in the order given."""
    return [c for c in names if c in df.columns]


def order_present(df: pd.DataFrame, order: dict) -> dict:
    """`order` ({column: levels}) restricted to the levels that occur in `df`
    (a display order for tableone that fits any cohort)."""
    return {col: [lvl for lvl in levels if lvl in set(df[col].dropna())] for col, levels in order.items()}


# --- plots ------------------------------------------------------------------

def plot_counts(counts: pd.Series, ax=None, annotate: bool = True, min_cell: int = 0, **kwargs):
    """Bar chart of counts (index on the x axis), each bar labelled with its count ("<min_cell" for
    one from 1 to `min_cell - 1`; the height of its bar still shows it)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    kwargs.setdefault("color", "#4C72B0")
    bars = ax.bar([str(i) for i in counts.index], counts.to_numpy(), **kwargs)
    if annotate:
        ax.bar_label(bars, labels=[privacy.count_text(n, min_cell) for n in counts], padding=2)
    ax.set_ylim(0, max(1, counts.max()) * 1.15)
    return ax


def plot_distribution(x, ax=None, log: bool = False, bins: int = 15, rug: bool = True, **kwargs):
    """Histogram of `x` with its observations as a rug (unless `rug=False`) and a dashed
    line at the median; `log=True` uses log-spaced bins and a log x axis (skewed markers)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    x = pd.Series(x).dropna()
    if log:
        x = x[x > 0]
        bins = np.geomspace(x.min(), x.max(), bins + 1) if x.min() < x.max() else bins
        ax.set_xscale("log")
    kwargs.setdefault("color", "#4C72B0")
    ax.hist(x, bins=bins, alpha=0.75, **kwargs)
    if rug:
        ax.plot(x, np.zeros(len(x)), "|", color="black", markersize=8, alpha=0.6)
    ax.axvline(x.median(), color="black", linestyle="--", linewidth=1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return ax


def distribution_grid(df: pd.DataFrame, columns, labels: dict | None = None, log=(), ncols: int = 4, rug: bool = True):
    """Small multiples: one `plot_distribution` panel per column (x axis labelled
    from `labels`, log scale for columns in `log`, rugs unless `rug=False`); returns the figure."""
    import matplotlib.pyplot as plt

    columns = list(columns)
    nrows = -(-len(columns) // ncols)
    from src.present import figures

    fig, axes = plt.subplots(nrows, ncols, figsize=(figures.DOUBLE, figures.DOUBLE / ncols * 0.8 * nrows),
                             squeeze=False)
    for ax, col in zip(axes.flat, columns):
        plot_distribution(df[col], ax=ax, log=col in log, rug=rug)
        ax.set_xlabel((labels or {}).get(col, col) + (" (log scale)" if col in log else ""))
        ax.set_ylabel("Patients")
    for ax in axes.flat[len(columns):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


# --- writing results --------------------------------------------------------

def write_table(df: pd.DataFrame, name: str, paths: SimpleNamespace, index: bool = False) -> pd.DataFrame:
    """Write `df` to `tables/<name>.csv`, `.md` and `.html` with counts below
    `paths.min_cell` suppressed (`privacy.suppress_small_counts`); return what was written, for display."""
    df = show(df, paths)
    df.to_csv(paths.tables / f"{name}.csv", index=index, lineterminator="\n")
    (paths.tables / f"{name}.md").write_text(df.to_markdown(index=index) + "\n")
    (paths.tables / f"{name}.html").write_text(df.to_html(index=index, na_rep="") + "\n")
    return df


def counter(paths: SimpleNamespace):
    """The function notebooks use for counts in their text: `count(12)` -> "12", `count(12, of=67)`
    -> "12 (17.9%)"; counts from 1 to `paths.min_cell - 1` read "<MIN_CELL" (`privacy.count_text`).
    `count.shown(n)` says whether n is shown, so that a sentence leaves out what would give a
    suppressed count back (its percentage, a ratio, a confidence interval)."""
    def count(n, of=None) -> str:
        return privacy.count_text(n, paths.min_cell, of)
    count.shown = lambda n: not privacy.is_small(n, paths.min_cell)  # may a figure derived from n be shown?
    return count


def show(df: pd.DataFrame, paths: SimpleNamespace) -> pd.DataFrame:
    """`df` as it may be displayed: counts below `paths.min_cell` suppressed."""
    return privacy.suppress_small_counts(df, paths.min_cell)


def savefig(fig, name: str, paths: SimpleNamespace, layout: bool = True, synthetic: bool | None = None):
    """Save a matplotlib figure as `figures/<name>.svg` (vector) and `figures/<name>.png` (300 dpi), exactly
    its size, which must be a journal's width (made with `figures.size`: 8.5 or 17.5 cm; no text under 7 pt;
    else ValueError naming what is wrong), laid out tightly (unless the figure has a layout of its own), with
    the note that the data are synthetic (`figures.SYNTHETIC_NOTE`), and no date, software or path in the files'
    metadata (same bytes from run to run); `layout=False` keeps the notebook's own `subplots_adjust`. Each Kaplan-Meier curve keeps its id (`km-...`) in the SVG.
    `synthetic`: None puts the note on the figures of the bundled cohort (`paths.bundled`), False never (a
    figure that plots only the paper's printed numbers), True always.
    In a notebook (IPython's inline backend) the figure is closed and its saved SVG file shown in its place, once,
    with its caption as alt text (`figures.caption`: suptitle, else the panels' titles, else their axes labels;
    `figures.show_saved`): each figure is rendered twice (SVG, PNG), never a third time for the screen, and the
    cell's end shows it no second time; None is returned then. Elsewhere the figure is returned, still open.
    With `paths.draw` False (`FIGURES = False`) the figure is closed unsaved and not shown, and None is returned."""
    from src.present import figures

    if not getattr(paths, "draw", True):
        import matplotlib.pyplot as plt

        plt.close(fig)
        return None

    problems = figures.size_problems(fig)
    if problems:
        raise ValueError(f"figure {name} is not at a journal's size: " + "; ".join(problems))
    note = getattr(paths, "bundled", False) if synthetic is None else bool(synthetic)
    w, h = fig.get_size_inches()
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()  # an earlier fig.tight_layout() leaves a placeholder, no layout of its own
    if layout and (engine is None or isinstance(engine, PlaceHolderLayoutEngine)) and fig.axes and any(hasattr(ax, "get_subplotspec") and ax.get_subplotspec()
                                                            for ax in fig.axes):
        with warnings.catch_warnings():  # "tight layout not applied" for an axes it cannot place
            warnings.simplefilter("ignore")
            fig.tight_layout(pad=0.3, rect=(0, (0.2 / h) if note else 0, 1, 1))
    if note and not any(t.get_text() == figures.SYNTHETIC_NOTE for t in fig.texts):
        fig.text(1 - 0.03 / w, 0.03 / h, figures.SYNTHETIC_NOTE, ha="right", va="bottom", fontsize=7, color="0.35")
    svg = paths.figures / f"{name}.svg"
    fig.savefig(svg, metadata=figures.SVG_METADATA)
    fig.savefig(paths.figures / f"{name}.png", dpi=300, metadata=figures.PNG_METADATA)
    if figures.show_saved(fig, svg, figures.caption(fig, name, synthetic=note)):
        return None
    return fig
