"""Small shared helpers for the HAIC notebooks.

Every notebook calls these functions instead of repeating code: where the
files are, how the validated tables are loaded, how times are derived from
dates, how tables and figures are written, and how a number is rounded as a
paper prints it.

Sections: paths and setup; loading and derived frames; summaries; plots;
writing results; numbers as a paper prints them. Survival-analysis helpers live in
`src/survival.py`, publication tables in `src/tables.py`, figure styles in `src/figures.py`, and
the comparison with the paper's numbers in `src/paper.py`.

Imports run one way (tests/test_imports.py): this module imports only `src.privacy`,
`src.validate` (data and validation, below it) and `src.figures` (styles, beside it); statistics, tables and the comparison with the
paper sit above it and import it, never the reverse.
"""
from __future__ import annotations

import os
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import privacy

ROOT = Path(__file__).resolve().parents[1]
DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the paper's time unit (the default TIME_UNIT)


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

    from src import figures

    sns.set_theme(context="paper", style="ticks")
    figures.setup()
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_rows", 200)


# --- loading and derived frames ---------------------------------------------

VALIDATED_VARIABLE = "HAIC_VALIDATED"  # set by the runner for its kernels: the tables it validated (a pickle)


def data_fingerprint(data_dir) -> str:
    """SHA-256 over the name and bytes of every file directly in `data_dir` and of the project's data
    dictionary and synonyms (what validation reads): another byte anywhere gives another fingerprint."""
    import hashlib

    digest = hashlib.sha256()
    folder = Path(data_dir)
    files = [f for f in sorted(folder.iterdir()) if f.is_file()] if folder.is_dir() else []
    files += [ROOT / "data" / "data_dictionary.csv", ROOT / "data" / "synonyms.csv"]
    for f in files:
        digest.update(f.name.encode("utf-8") + b"\0")
        digest.update(f.read_bytes() if f.is_file() else b"(none)")
        digest.update(b"\0")
    return digest.hexdigest()


def _validated_by_runner(data_dir, accept_warnings: bool):
    """The tables the runner validated for this run (`$HAIC_VALIDATED`, a pickle in the run's private
    stage folder), or None: when the variable is unset (a notebook run by hand or by nbval), when the
    data's bytes differ from those validated (`data_fingerprint`), or when the runner accepted warnings
    that this call does not (then the full validation says why)."""
    import pickle

    cached = os.environ.get(VALIDATED_VARIABLE)
    if not cached or not Path(cached).is_file():
        return None
    with open(cached, "rb") as handle:
        record = pickle.load(handle)
    if record.get("fingerprint") != data_fingerprint(data_dir):
        return None
    if record.get("warnings") and not accept_warnings:
        return None
    return record["tables"]


def load_cohort(data_dir, accept_warnings: bool = False) -> dict[str, pd.DataFrame]:
    """Load and validate `patients`, `progression` and `adverse_events`.

    Stops with `src.validate.DataValidationError` (listing every problem with
    file, row and column) before any analysis if a table breaks the data
    dictionary, or has plausibility warnings (an ALT of 999, a follow-up long
    after every other date) and `accept_warnings` is False.

    In a run of `python -m src.runner`, which validated the data once before any notebook, the
    tables it validated are used instead when the data are byte for byte those it validated
    (`_validated_by_runner`): the same tables, without validating them again in every kernel.
    """
    tables = _validated_by_runner(data_dir, accept_warnings)
    if tables is not None:
        return tables
    from src.validate import load_and_validate

    return load_and_validate(data_dir, accept_warnings=accept_warnings)


def date_text(value, paths: SimpleNamespace) -> str:
    """A date as an output may show it: "06 January 2012", or only the year in private mode."""
    return f"{pd.Timestamp(value):%Y}" if paths.private else f"{pd.Timestamp(value):%d %B %Y}"


TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}  # days per unit


def days_per(unit: str) -> float:
    """Days in one `unit` of `TIME_UNITS` (a clear error for any other unit)."""
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r}: use one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[unit]


def time_between(start, end, unit: str = "months") -> pd.Series:
    """Time from `start` to `end` in `unit` (days / days per unit; months are 30.4375 days)."""
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.days / days_per(unit)


def years_in(years, unit: str = "months") -> list:
    """Durations given in years, expressed in `unit` (1 year = 365.25 days = 12 months)."""
    return [y * TIME_UNITS["years"] / days_per(unit) for y in years]


RESPONSE_GROUPS = {"CR": "disease control", "PR": "disease control", "SD": "disease control",
                   "PD": "progressive disease", "NE": "not evaluated"}


def overall_survival_frame(tables: dict, unit: str = "months") -> pd.DataFrame:
    """One row per patient with `os_time` (first HAIC to death or last contact, in `unit`),
    `death` (1 = event, 0 = censored) and `response_group` (disease control =
    CR+PR+SD, progressive disease, not evaluated)."""
    df = tables["patients"].copy()
    df["os_time"] = time_between(df["first_haic_date"], df["last_followup_date"], unit)
    df["response_group"] = df["best_response"].map(RESPONSE_GROUPS)
    return df


def spp_frame(tables: dict, max_child_pugh: int = 8, unit: str = "months") -> pd.DataFrame:
    """Patients who progressed and kept a Child-Pugh score <= `max_child_pugh`.

    One row per patient with the values measured at progression, `sex`,
    `spp_time` (progression to death or last contact) and `os_time` (in `unit`),
    `death`, `sorafenib` (True for sorafenib salvage) and `salvage_group`
    ("sorafenib" / "other salvage").
    """
    prog = tables["progression"]
    base = tables["patients"][["patient_id", "sex", "first_haic_date", "last_followup_date", "death"]]
    df = prog[prog["child_pugh_score"] <= max_child_pugh].merge(base, on="patient_id", how="left")
    df["spp_time"] = time_between(df["progression_date"], df["last_followup_date"], unit)
    df["os_time"] = time_between(df["first_haic_date"], df["last_followup_date"], unit)
    df["sorafenib"] = df["salvage_treatment"].eq("sorafenib")
    df["salvage_group"] = np.where(df["sorafenib"], "sorafenib", "other salvage")
    return df.reset_index(drop=True)


def child_pugh_class(score) -> pd.Series:
    """Child-Pugh class from the score: A (5-6), B (7-9), C (10-15); NaN outside 5-15."""
    return pd.cut(pd.Series(score), bins=[4, 6, 9, 15], labels=["A", "B", "C"]).astype(object)


def split_at(x, cutoff, unit: str = "", strict: bool = False) -> pd.Series:
    """Label each value `"<cutoff"` / `">=cutoff"` (Tables 1 and 3 dichotomise so),
    or `"<=cutoff"` / `">cutoff"` with `strict=True` ("AFP > 500 ng/mL")."""
    x = pd.Series(x)
    above = x > cutoff if strict else x >= cutoff
    low, high = (f"<={cutoff}{unit}", f">{cutoff}{unit}") if strict else (f"<{cutoff}{unit}", f">={cutoff}{unit}")
    return pd.Series(np.where(above, high, low), index=x.index).where(x.notna())


def treatment_era(dates, era_start, first_year: int) -> pd.Series:
    """Ordered categorical era of each date: `"<first_year>-<year before era_start>"`
    before `era_start`, `"from <year of era_start>"` on or after it (both eras kept
    as categories even when one is empty)."""
    start = pd.Timestamp(era_start)
    first = f"{first_year}-{start.year - 1}" if first_year < start.year else f"before {start.year}"
    labels = [first, f"from {start.year}"]
    dates = pd.to_datetime(pd.Series(dates))
    era = pd.Series(np.where(dates < start, labels[0], labels[1]), index=dates.index).where(dates.notna())
    return era.astype(pd.CategoricalDtype(labels, ordered=True))


# --- summaries --------------------------------------------------------------

def cross_counts(rows: pd.Series, columns: pd.Series, row_order, column_order) -> pd.DataFrame:
    """Counts of each (row, column) pair with every level of `row_order` x `column_order`
    listed (0 where none), also when there is no data at all."""
    counts = pd.DataFrame(0, index=pd.Index(list(row_order), name=rows.name),
                          columns=pd.Index(list(column_order), name=columns.name))
    for (r, c), n in pd.Series(list(zip(rows, columns)), dtype=object).value_counts().items():
        if r in counts.index and c in counts.columns:
            counts.loc[r, c] = int(n)
    return counts


def count_percent(values, order=None, denominator: int | None = None) -> pd.DataFrame:
    """Counts and percentages of each value, in `order` if given (absent values
    count 0); percent of `denominator` (default: the number of values)."""
    values = pd.Series(values)
    counts = values.value_counts(sort=order is None)
    if order is not None:
        counts = counts.reindex(list(order), fill_value=0)
    total = len(values) if denominator is None else denominator
    out = pd.DataFrame({"n": counts.astype(int), "percent": 100 * counts / total if total else np.nan})
    out.index.name = values.name
    return out


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


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval for the proportion k/n."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=alpha, method="beta")
    return float(low), float(high)


def patients_with_grade(events: pd.DataFrame, n_patients: int, min_grade: int = 3, terms=None) -> pd.DataFrame:
    """Patients with at least one event of grade >= `min_grade`, per term.

    `events` has `patient_id`, `term`, `grade`. A patient counts once per term.
    Returns a table indexed by term with `n` and `percent` (of `n_patients`);
    `terms` fixes which terms are listed (absent ones count 0), else the terms
    seen at that grade, most frequent first.
    """
    severe = events[events["grade"] >= min_grade].drop_duplicates(["patient_id", "term"])
    table = count_percent(severe["term"], order=terms, denominator=n_patients)
    table.index.name = "term"
    return table


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
    from src import figures

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
    In a notebook (IPython's inline backend) the figure is shown here, once, as an image whose alt text is its
    caption (`figures.caption`: suptitle, else the panels' titles, else their axes labels), and closed (so the cell's
    end shows it no second time); None is returned then. Elsewhere the figure is returned, still open.
    With `paths.draw` False (`FIGURES = False`) the figure is closed unsaved and not shown, and None is returned."""
    from src import figures

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
    fig.savefig(paths.figures / f"{name}.svg", metadata=figures.SVG_METADATA)
    fig.savefig(paths.figures / f"{name}.png", dpi=300, metadata=figures.PNG_METADATA)
    if figures.show_with_caption(fig, figures.caption(fig, name, synthetic=note)):
        return None
    return fig


# --- numbers as a paper prints them ------------------------------------------

def round_half_up(x: float, decimals: int) -> Decimal:
    """Round like a printed table (0.0445 -> 0.045 at 3 decimals; decimals may be negative)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(x: float, decimals: int) -> str:
    """`x` as the paper would print it with `decimals` decimals."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return f"{round_half_up(x, decimals):f}" if decimals >= 0 else f"{round_half_up(x, decimals):.0f}"
