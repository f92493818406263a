"""What the published numbers pin down: an ensemble of reconstructed cohorts (notebook 10).

One reconstructed cohort (`src/synthetic/reconstruct.py`) is one answer among many to "which patients
give the paper's printed numbers?". Every result the paper did not print (an era effect, a
correlation between two baseline values, a hazard ratio of a factor not entered in the model)
is then chosen partly by the reconstruction's seed. This module builds K cohorts from the same
targets with K seeds and measures how much such results vary between them.

- `build_member`, `build_ensemble` (``make ensemble K=20``): K members with the visible seeds
  `member_seeds(K)` into ``data/ensemble/seed_<seed>/``, in parallel with joblib (local
  processes, or a running Dask cluster: ``DASK=tcp://host:8786``, joblib's ``dask`` backend), each
  validated (`src.validate.check_data`: errors and warnings) and scored (`match`: how many of the
  printed numbers the notebooks reproduce on it, via `src.publish`); ``data/ensemble/index.csv``
  lists them.
- `member_quantities` (`src/synthetic/quantities.py`): the unprinted results of one cohort, computed with
  the pipeline's functions; `write_quantities` stores every member's once (``data/ensemble/quantities.csv``).
- `ensemble_table`, `classify`: their distribution over the members and a class:
  *pinned* (every member gives the same value at the precision shown: `PRECISION`),
  *constrained* (not pinned, but the range max - min is at most `CONSTRAINED_WIDTH` of the
  quantity's kind: narrow enough that no conclusion a reader would draw changes; for a p-value,
  in addition every member on the same side of 0.05), *free* otherwise (the reconstruction
  decides).
- The same against a known truth: `src/synthetic/truth.py` (``make validate-reconstruction``), which builds on
  this module, and `src/synthetic/coverage.py`, which reads its table for notebook 10.
- `member_fingerprint`: what built a member (the reconstruction's code and targets); a member records it, and a
  resumed build keeps only the members today's code built.

Seeds: member i (1..K) of an ensemble has seed ``ENSEMBLE_SEED0 + i``.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import ROOT, write_cohort_tables
from src.config import TABLE_NAMES as TABLES
# the unprinted results, and the definitions they assume (notebooks 06 and 07 compare theirs with these: `marker`)
from src.synthetic.quantities import (CUTOFFS, ERA_START, LANDMARK_DAYS, MODEL,  # noqa: F401
                                      member_quantities, quantity_id)

ENSEMBLE_DIR = ROOT / "data" / "ensemble"
INDEX_NAME = "index.csv"
#: A member enters the ensemble if it passes validation without a warning and reproduces at least this
#: many printed numbers (issue 13: 236 of 253; the bundled cohort reproduces 238). Members below are
#: listed in the index (`included` = no) with their counts, and their tables are not kept.
MIN_MATCH = 236
ENSEMBLE_SEED0 = 20130200  # member i has seed ENSEMBLE_SEED0 + i (visible, fixed)

ALPHA = 0.05

#: Kinds of quantity: the precision at which "the same" is judged (decimals) and the width of a
#: range still called constrained.
PRECISION = {"hr": 2, "p": 3, "percent": 0, "r": 2, "months": 1, "days": 0}
CONSTRAINED_WIDTH = {"hr": 0.5, "p": 0.1, "percent": 10.0, "r": 0.2, "months": 2.0, "days": 7.0}
#: The ensemble's unprinted results of every member, one row per member and result (`write_quantities`):
#: computed once when the ensemble is built, read by the notebooks that mark a number's class.
QUANTITIES_NAME = "quantities.csv"


# --- one member ------------------------------------------------------------------------------

def member_seeds(k: int) -> list[int]:
    """The seeds of an ensemble of k members."""
    return [ENSEMBLE_SEED0 + i for i in range(1, k + 1)]


def write_tables(tables: dict, folder) -> Path:
    """The three tables as CSV, as `reconstruct.write_cohort` writes them (without the manifest):
    `config.write_cohort_tables`."""
    return write_cohort_tables(tables, folder)


def count_matches(reports_dir: Path) -> dict:
    """Statuses of the notebooks' paper_vs_run tables (as the scorecard counts them)."""
    statuses = []
    seen = set()
    for path in sorted(Path(reports_dir).glob("paper_vs_run_*.csv")):
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
        for i, s in zip(t["id"], t["status"]):
            if i not in seen:
                seen.add(i)
                statuses.append(s)
    s = pd.Series(statuses, dtype=object)
    return {"match": int((s == "match").sum()), "differs": int((s == "differs").sum()),
            "not_reproducible": int((s == "not reproducible").sum())}


MEMBER_ROW = "member.json"  # a member's index row, written once it is built, validated and scored


# --- what built a member: the fingerprint of its code ----------------------------------------------

#: The module whose imports, followed to the end, are the code that determines a member's tables: every
#: module of src/ that src/synthetic/reconstruct.py imports, directly or through another, at the top or inside a
#: function (`source_closure`). Today that is the reconstruction's steps (src/synthetic/: assemble, baseline,
#: dates, design, factors, marginals, overall_survival, polish, ranked_fit, ranks, scoring, spp, targets,
#: treatment), src/stats/faststats.py, src/study.py, src/config.py, src/validate/ (Child-Pugh points, and the
#: strict rules `build_member` checks), src/paper/ (how the printed numbers are read as targets) and
#: src/privacy.py; a new module the reconstruction imports joins by itself. This module (ensemble.py: building
#: in parallel, reading, classing, marks, notebook 10) is not in it: an edit of notebook 10's presentation
#: leaves the members valid. Not in it either: notebooks 01-06, which count a member's `match` (they change the
#: count, never the tables). Conservative by design: an edit of a module in it that cannot change the tables
#: (a message of the validator, say) also asks for ``make ensemble`` (minutes), where a missed change would
#: leave notebook 10 reading members today's code does not build.
MEMBER_CODE = "src.synthetic.reconstruct"
FINGERPRINT_FIELD = "code_fingerprint"  # in member.json, index.csv and the validation table


def _module_file(name: str) -> Path | None:
    """The source file of the module `name` (src.a.b -> src/a/b.py or src/a/b/__init__.py), None if none."""
    base = ROOT / Path(*name.split("."))
    return next((f for f in (base.with_suffix(".py"), base / "__init__.py") if f.is_file()), None)


def _imported_names(path: Path) -> set[str]:
    """Every module of src that the file imports (absolute imports; `from src.a import b` also names src.a.b,
    which is a module when b is one)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n == "src" or n.startswith("src.")}


def source_closure(module: str, leave_out=()) -> list[Path]:
    """The source files of `module` and of every module of src it imports, directly or through another (with
    the packages' __init__ files Python runs on the way), except the modules `leave_out` (not followed)."""
    seen, todo = set(), [module]
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            path = _module_file(name)
            if path is not None and path not in seen and name not in leave_out:
                seen.add(path)
                todo.extend(_imported_names(path))
    return sorted(seen)


def fingerprint(paths, extra: str = "") -> str:
    """sha256 (first 16 hex digits) of the files' paths (relative to the project, the name of a file outside it)
    and bytes (line ends read as LF, so that a checkout with CRLF line ends gives the same), and `extra`."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(p).resolve() for p in paths):
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        digest.update(str(name).encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    digest.update(extra.encode())
    return digest.hexdigest()[:16]


def member_code_files(targets=None) -> list[Path]:
    """What determines a member's tables besides its seed: the reconstruction's code (`MEMBER_CODE`) and the
    targets file it reads (default the bundled printed numbers)."""
    from src.config import PUBLISHED_RESULTS

    return source_closure(MEMBER_CODE) + [Path(targets or PUBLISHED_RESULTS)]


def member_fingerprint(targets=None) -> str:
    """The fingerprint (`fingerprint`) of `member_code_files`: a member whose recorded fingerprint is another
    was built by other code or targets, and is rebuilt."""
    return fingerprint(member_code_files(targets))


def stale_reason(folder, expected: str) -> str:
    """Why a finished member in `folder` cannot be kept ('' when it can): built by other code or targets."""
    import json

    recorded = json.loads((Path(folder) / MEMBER_ROW).read_text()).get(FINGERPRINT_FIELD)
    if recorded == expected:
        return ""
    return (f"{Path(folder).name}: built by other code or targets (fingerprint {recorded or 'not recorded'}, "
            f"today's {expected}): rebuilt")


def build_member(seed: int, folder, targets=None, score: bool = True, template=None, reuse: bool = True) -> dict:
    """Reconstruct one cohort from `targets` (default the bundled published numbers) with `seed`
    into `folder`; validate it and (with `score`) count the printed numbers it reproduces.
    The member's row records the fingerprint of the code and targets that built it (`member_fingerprint`).
    With `reuse`, a member already finished (its `MEMBER_ROW`) by today's code and targets is read, not
    rebuilt, so an interrupted build resumes; one finished by other code is rebuilt (`stale_reason` says so),
    and so is one whose build stopped before its row was written."""
    import json

    from src.synthetic import publish, reconstruct
    from src import validate

    folder = Path(folder)
    code = member_fingerprint(targets)
    if reuse and (folder / MEMBER_ROW).is_file():
        why = stale_reason(folder, code)
        if not why:
            return json.loads((folder / MEMBER_ROW).read_text())
        print(why, flush=True)
        for name in [MEMBER_ROW] + [f"{t}.csv" for t in TABLES]:  # an earlier code's member is not kept
            (folder / name).unlink(missing_ok=True)
    t0, cpu0 = time.time(), time.process_time()
    row = {"seed": seed, "folder": folder.name, FINGERPRINT_FIELD: code}
    try:
        tables = reconstruct.build_cohort(seed, targets)
    except (ValueError, RuntimeError) as exc:  # an infeasible draw: the member is reported, not written
        return {**row, "seconds": round(time.time() - t0, 1), "calibration_cpu": time.process_time() - cpu0,
                "valid": f"not built: {exc}"}
    write_tables(tables, folder)
    row["seconds"] = round(time.time() - t0, 1)
    row["calibration_cpu"] = time.process_time() - cpu0
    try:
        _, warns = validate.check_data(folder)
        row["valid"] = "yes" if len(warns) == 0 else f"{len(warns)} warnings"
    except validate.DataValidationError as exc:
        row["valid"] = f"{len(exc.problems)} errors"
    if score:
        children = _children_cpu()
        with tempfile.TemporaryDirectory(prefix="haic-member-") as tmp:
            reports = publish.run_notebooks(folder, Path(tmp), template or targets or publish.TEMPLATE)
            row.update(count_matches(reports))
        row["scoring_cpu"] = _children_cpu() - children
        (folder / MEMBER_ROW).write_text(json.dumps({k: row[k] for k in row if k not in TIMINGS}) + "\n")
    return row


TIMINGS = ("seconds", "calibration_cpu", "scoring_cpu")  # of this build only: never in the member's row or index


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (the scoring run's processes)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_summary(rows: pd.DataFrame, wall: float, cores: int) -> str:
    """Where a build's time went: CPU seconds of calibration and scoring (sum, and per member min / median /
    max) beside the wall time, and the least wall time that CPU allows on `cores` cores."""
    parts, total = [], 0.0
    for column, what in (("calibration_cpu", "calibration"), ("scoring_cpu", "scoring (notebooks 01-06)")):
        v = rows[column].dropna() if column in rows else pd.Series(dtype=float)
        if len(v):
            total += v.sum()
            parts.append(f"{what} {v.sum():.0f} s (per member {v.min():.0f} / {v.median():.0f} / {v.max():.0f})")
    if not parts:
        return "no member built in this run (all resumed)"
    return (f"CPU: {'; '.join(parts)}; {total:.0f} s in all, at least {total / cores:.0f} s on {cores} cores; "
            f"wall {wall:.0f} s")


@contextlib.contextmanager
def _backend(dask_address=None):
    """joblib's default (local processes) or its dask backend on a running cluster."""
    import joblib

    if not dask_address:
        yield
        return
    from distributed import Client

    with Client(dask_address) as client, joblib.parallel_backend("dask"):
        yield client


def run_parallel(function, argument_list, jobs=-1, dask_address=None) -> list:
    """`function(*arguments)` for each tuple of `argument_list`, in parallel, results in order."""
    import joblib

    with _backend(dask_address):
        return joblib.Parallel(n_jobs=jobs if not dask_address else -1)(
            joblib.delayed(function)(*a) for a in argument_list)


def build_ensemble(k: int = 20, out=ENSEMBLE_DIR, targets=None, jobs=-1, dask_address=None,
                   score: bool = True) -> pd.DataFrame:
    """K members (`member_seeds(k)`) into `out`/seed_<seed>/ and their index `out`/index.csv."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = member_seeds(k)
    rows = run_parallel(build_member, [(s, out / f"seed_{s}", targets, score) for s in seeds], jobs, dask_address)
    index = pd.DataFrame(rows)
    write_index(out)
    write_quantities(out)
    return index


def write_index(out=ENSEMBLE_DIR) -> pd.DataFrame:
    """`index.csv` from the finished members' rows (`MEMBER_ROW`), in seed order."""
    import json

    rows = [json.loads(p.read_text()) for p in sorted(Path(out).glob(f"seed_*/{MEMBER_ROW}"))]
    index = pd.DataFrame(rows)
    if len(index):
        index = index.sort_values("seed").reset_index(drop=True)
        ok = index["valid"].eq("yes") & (index["match"] >= MIN_MATCH if "match" in index else True)
        index["included"] = np.where(ok, "yes", "no")
        for name in index.loc[~ok, "folder"]:  # not in the ensemble: only its index row is kept
            for table in TABLES:
                (Path(out) / name / f"{table}.csv").unlink(missing_ok=True)
    index.to_csv(Path(out) / INDEX_NAME, index=False, lineterminator="\n")
    return index


def read_members(folder=ENSEMBLE_DIR) -> dict:
    """{member folder name: tables} of an ensemble folder (empty if there is none)."""
    from src import validate

    folder = Path(folder)
    if not (folder / INDEX_NAME).is_file():
        return {}
    index = pd.read_csv(folder / INDEX_NAME)
    if "included" in index:
        index = index[index["included"] == "yes"]
    return {name: validate.load_and_validate(folder / name) for name in index["folder"]}


# --- distribution and classes ------------------------------------------------------------------

def classify(values, kind: str) -> str:
    """pinned / constrained / free (module docstring) of one quantity's values over the members."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return "not estimable"
    shown = np.round(v, PRECISION[kind])
    if shown.min() == shown.max():
        return "pinned"
    narrow = v.max() - v.min() <= CONSTRAINED_WIDTH[kind]
    if kind == "p":
        narrow = narrow and ((v < ALPHA).all() or (v >= ALPHA).all())
    return "constrained" if narrow else "free"


def ensemble_table(per_member: pd.DataFrame) -> pd.DataFrame:
    """From a long table (member, quantity, group, kind, value): one row per quantity with
    min / median / max over the members, the share with p < 0.05 (p-values) and the class."""
    rows = []
    if "id" not in per_member:
        per_member = per_member.assign(id=per_member["quantity"].map(quantity_id))
    for (id_, group, quantity, kind), d in per_member.groupby(["id", "group", "quantity", "kind"], sort=False):
        v = d["value"].to_numpy(float)
        ok = v[np.isfinite(v)]
        rows.append({"id": id_, "group": group, "quantity": quantity, "kind": kind, "members": len(ok),
                     "min": ok.min() if len(ok) else np.nan, "median": np.median(ok) if len(ok) else np.nan,
                     "max": ok.max() if len(ok) else np.nan,
                     "share_p_below_0.05": (ok < ALPHA).mean() if kind == "p" and len(ok) else np.nan,
                     "class": classify(v, kind)})
    return pd.DataFrame(rows)


def ensemble_quantities(members: dict) -> pd.DataFrame:
    """`member_quantities` of every member, in one long table with a `member` column."""
    return pd.concat([member_quantities(t).assign(member=name) for name, t in members.items()], ignore_index=True)


def write_quantities(folder=ENSEMBLE_DIR) -> pd.DataFrame:
    """`ensemble_quantities` of the folder's included members into `QUANTITIES_NAME` (values to 6 significant
    digits, so that the file's bytes do not depend on the last bit of a float)."""
    long = ensemble_quantities(read_members(folder))
    long = long[["member", "id", "quantity", "group", "kind", "value"]]
    long.to_csv(Path(folder) / QUANTITIES_NAME, index=False, float_format="%.6g", lineterminator="\n")
    return long


def read_quantities(folder) -> pd.DataFrame | None:
    """The ensemble's unprinted results per member (`write_quantities`), or None when the folder has none."""
    path = Path(folder) / QUANTITIES_NAME
    return pd.read_csv(path) if path.is_file() else None


def classes(folder) -> dict:
    """{result id: class} over the ensemble in `folder` (empty when it has no `QUANTITIES_NAME`)."""
    long = read_quantities(folder)
    if long is None:
        return {}
    return dict(zip(*ensemble_table(long)[["id", "class"]].T.to_numpy()))


# --- marks beside the numbers notebooks 01-07 quote -------------------------------------------------

NOTEBOOK = "10_what_the_numbers_pin_down.ipynb"
CLASS_MEANING = {"pinned": "every reconstruction gives the same value: the printed numbers fix it",
                 "constrained": "the reconstructions differ too little to change a conclusion",
                 "free": "the reconstruction chose it: a property of this synthetic cohort, not a finding about "
                         "the study's patients"}


def marker(paths, same_definitions: bool = True, ensemble_dir=None):
    """The function notebooks use to mark a number the paper did not print with its class over the ensemble:
    `mark("followup_median")` -> ' <sup>[free](10_what_the_numbers_pin_down.ipynb)</sup>' (Markdown), and
    `mark.legend`, a sentence that explains the marks (with the number of members).
    Marks appear only on a reconstruction of the paper (the bundled cohort, `paths.bundled`) that has an ensemble
    beside it, and only when the notebook computes the results as the ensemble defines them (`same_definitions`:
    the same cut-offs, months): elsewhere `mark(...)` is '' and `mark.legend` is '' (a user's own cohort is no
    reconstruction). An id the ensemble does not know raises KeyError (its quantities file is out of date)."""
    folder = ensemble_folder(paths.data, ensemble_dir)
    long = read_quantities(folder) if getattr(paths, "bundled", False) and same_definitions else None
    table = ensemble_table(long) if long is not None else None
    found = dict(zip(table["id"], table["class"])) if table is not None else {}

    def mark(id_: str) -> str:
        if table is None:
            return ""
        return f" <sup>[{found[id_]}]({NOTEBOOK})</sup>"

    def cls(id_: str) -> str:
        return found[id_] if table is not None else ""

    mark.cls = cls
    mark.active = table is not None
    mark.legend = "" if table is None else (
        f"*Marks* beside a number the paper did not print say what the paper's printed numbers determine of it, "
        f"over {int(table['members'].max())} cohorts reconstructed from them ([notebook 10]({NOTEBOOK})): "
        + "; ".join(f"*{c}*: {m}" for c, m in CLASS_MEANING.items()) + ".")
    return mark


# --- for notebook 10 ----------------------------------------------------------------------------------

VALIDATION_NAME = "reconstruction_validation.csv"  # in the ensemble folder (input) and outputs/tables/


def ensemble_folder(data_dir, ensemble_dir=None) -> Path:
    """Where a data folder's ensemble lives: `ensemble_dir`, else `data_dir`/ensemble."""
    return Path(ensemble_dir) if ensemble_dir else Path(data_dir) / "ensemble"


def read_index(folder) -> pd.DataFrame | None:
    """The ensemble's index (seed, folder, valid, match, ...), or None if there is none."""
    path = Path(folder) / INDEX_NAME
    return pd.read_csv(path) if path.is_file() else None


KIND_WORDS = {"hr": "hazard ratio", "p": "p-value", "percent": "percentage", "r": "correlation", "months": "months",
              "days": "days"}


def value_text(value, kind: str) -> str:
    if not np.isfinite(value):
        return "not estimable"
    return f"{value:.{PRECISION[kind]}f}"


def reader_table(table: pd.DataFrame) -> pd.DataFrame:
    """`ensemble_table` as a reader reads it: each value at the precision of its kind (p to 3 decimals, hazard
    ratios 2, months 1, ...), the share of members with p < 0.05 in percent (blank for what is not a p-value),
    headers in words; no ids."""
    return pd.DataFrame({
        "Result the paper did not print": table["quantity"], "Kind": table["kind"].map(KIND_WORDS),
        "Members": table["members"],
        "Lowest": [value_text(v, k) for v, k in zip(table["min"], table["kind"])],
        "Median": [value_text(v, k) for v, k in zip(table["median"], table["kind"])],
        "Highest": [value_text(v, k) for v, k in zip(table["max"], table["kind"])],
        "Members with p < 0.05": [f"{100 * s:.0f}%" if k == "p" and np.isfinite(s) else ""
                                  for s, k in zip(table["share_p_below_0.05"], table["kind"])],
        "Class": table["class"]})


def class_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Quantities per group of results and class (pinned / constrained / free)."""
    order = ["pinned", "constrained", "free", "not estimable"]
    out = pd.crosstab(table["group"], table["class"]).reindex(columns=order, fill_value=0)
    out = out.loc[:, (out.sum() > 0) | out.columns.isin(order[:3])]
    return out.reset_index()


def found_sentences(table: pd.DataFrame, index: pd.DataFrame | None = None) -> str:
    """What the ensemble shows, in words, from the computed table."""
    n = int(table["members"].max()) if len(table) else 0
    c = table["class"].value_counts()
    lines = [f"Over {n} reconstructed cohorts, of {len(table)} results the paper did not print: "
             f"pinned {c.get('pinned', 0)}, constrained {c.get('constrained', 0)}, free {c.get('free', 0)}."]
    if index is not None and "match" in index:
        inc = index[index["included"] == "yes"] if "included" in index else index
        lines.append(f"Every member reproduces between {inc['match'].min()} and {inc['match'].max()} of the "
                     f"printed numbers, as the bundled cohort does: the results differ between cohorts that the "
                     f"paper cannot tell apart.")
        if len(inc) < len(index):
            lines.append(f"{len(index) - len(inc)} of the {len(index)} seeds gave a cohort below {MIN_MATCH} matches "
                         f"or with a validation finding and were left out.")
    p = table[table["kind"] == "p"]
    split = p[(p["share_p_below_0.05"] > 0) & (p["share_p_below_0.05"] < 1)]
    if len(split):
        worst = split.iloc[(split["share_p_below_0.05"] - 0.5).abs().argsort()].iloc[0]
        lines.append(f"{len(split)} of {len(p)} tests are significant at 0.05 in some members and not in others; "
                     f"the most divided is \"{worst['quantity']}\" (p < 0.05 in {worst['share_p_below_0.05']:.0%} "
                     f"of the members, p from {worst['min']:.3f} to {worst['max']:.3f}).")
    free = table[table["class"] == "free"]
    if len(free):
        lines.append("Free results (decided by the reconstruction, not by the paper): "
                     + "; ".join(free["quantity"].head(8)) + ("; ..." if len(free) > 8 else "") + ".")
    return " ".join(lines)


def plot_ranges(table: pd.DataFrame, kind: str = "p", ax=None, **kwargs):
    """Each quantity of `kind` as a line from the ensemble's min to max, a dot at the median;
    a dashed line at 0.05 for p-values."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    d = table[table["kind"] == kind].reset_index(drop=True)
    colours = {"pinned": "0.2", "constrained": "tab:blue", "free": "tab:red", "not estimable": "0.7"}
    for i, r in d.iterrows():
        c = colours[r["class"]]
        ax.plot([r["min"], r["max"]], [i, i], color=c, lw=2, solid_capstyle="butt", **kwargs)
        ax.plot([r["median"]], [i], "o", color=c, ms=3)
    ax.set_yticks(range(len(d)))
    ax.set_yticklabels(d["quantity"], fontsize=7)
    ax.invert_yaxis()
    if kind == "p":
        ax.axvline(ALPHA, color="0.4", ls="--", lw=0.8)
        ax.set_xscale("log")
    for cls, c in colours.items():
        if (d["class"] == cls).any():
            ax.plot([], [], color=c, lw=2, label=cls)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return ax


# --- command line ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.synthetic.ensemble", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="K members from the bundled targets into data/ensemble/")
    b.add_argument("--k", type=int, default=20)
    b.add_argument("--out", default=str(ENSEMBLE_DIR))
    b.add_argument("--targets", default=None, help="targets file (default data/published_results.csv)")
    b.add_argument("--jobs", type=int, default=-1, help="local processes (joblib; -1 = every core)")
    b.add_argument("--dask", default=None, help="address of a running Dask scheduler (tcp://host:8786)")
    b.add_argument("--fresh", action="store_true",
                   help="rebuild every member (default: resume, keep the finished members today's code built)")
    sub.add_parser("index", help="write data/ensemble/index.csv from the finished members")
    sub.add_parser("quantities", help=f"write data/ensemble/{QUANTITIES_NAME}: the unprinted results of every member")
    args = parser.parse_args(argv)
    t0 = time.time()
    if args.command == "index":
        print(write_index().to_string(index=False))
    elif args.command == "quantities":
        print(f"{len(write_quantities())} rows in {ENSEMBLE_DIR / QUANTITIES_NAME}")
    elif args.command == "build":
        out = Path(args.out)
        for old in out.glob("seed_*") if args.fresh else []:  # an earlier build's members (the validation stays)
            shutil.rmtree(old)
        index = build_ensemble(args.k, out, args.targets, args.jobs, args.dask)
        print(index.drop(columns=[c for c in TIMINGS if c != "seconds"], errors="ignore").to_string(index=False))
        print(f"{len(index)} members in {out} in {time.time() - t0:.0f} s")
        if not args.dask:
            import joblib

            print(cpu_summary(index, time.time() - t0, joblib.effective_n_jobs(args.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
