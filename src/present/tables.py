"""Tables as a journal prints them: one layer for every table the notebooks write.

A `Table` holds what a reader sees (a title, a stub column of labels with levels indented under a
bold variable row, value columns whose headers carry N, footnotes naming each test and
abbreviation) and what a program reads (`data`, the machine-readable frame whose CSV keeps its
columns and keys). `write(table, name, paths)` writes

- `tables/<name>.csv`: `data`, as before (counts below MIN_CELL suppressed);
- `tables/<name>.md` and `tables/<name>.html`: the formatted table (HTML by great_tables);
- `tables/<name>.json`: the formatted table for `manuscript_docx`, which puts Tables 1-3 and the
  appraisal table into one Word file (python-docx) after every notebook has run: numbered titles,
  three-line tables, the header row repeated on every page, rows kept whole.

Builders: `table1` (from tableone), `table2` (from `survival.compare_groups`), `table3` (from
`survival.table3`), `appraisal_table`, and `plain` for any other frame (headers in words from `HEADERS`,
an estimate with `ci_low`/`ci_high` as one "estimate (95% CI)" cell, numbers rounded by kind, NR and "—"
for missing values, Yes/No; `write_frame` writes it and returns the `Table`, titled from `TITLES`). Formatting: `format_p`
(`<0.001`), `format_hr` ("2.47 (1.11–5.50)"), `format_estimate` ("12.30 (3.91–NR)"), `n_percent`, `unit_text`
(the platelet unit always "×10⁴/µL"), `reader_text` (no software or notebook named). Labels and units come from
`data/data_dictionary.csv` (`labels`). On the bundled synthetic cohort every table carries the
footnote `SYNTHETIC_NOTE`. Counts from 1 to MIN_CELL - 1 read "<MIN_CELL" in every cell and header
(`privacy.suppress_small_counts`, `privacy.count_text`).

Place in the import order: above `config`, `formats` and `privacy`; below `paper`, the runner and the notebooks.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import privacy
from src.config import DEFAULT_DICTIONARY as DICTIONARY
from src.config import SYNTHETIC_NOTE_TABLE as SYNTHETIC_NOTE
from src.formats import format_p  # noqa: F401 (the journal's p, re-exported: tables.format_p)
from src.formats import is_missing as _missing
MANUSCRIPT = ["table1_baseline", "table2_characteristics_at_progression", "table3_paper_model", "appraisal"]
DASH = "—"
EN_DASH = "–"
_NUMBER_CELL = re.compile(r"^\s*([<>≤≥−–—-]?\s*\d|NR\b|—$|<\d)")  # a cell that reads as a number
INDENT = "\u2003\u2003"  # two em spaces: how a level is indented in Markdown (which drops plain spaces)

# Short labels of the data dictionary's columns (its `meaning` is a sentence); units come from the dictionary.
SHORT = {"sex": "Sex", "age": "Age", "etiology": "Etiology", "tnm_stage": "TNM stage", "bclc_stage": "BCLC stage",
         "ecog_ps": "Performance status (ECOG)", "initial_treatment": "Initial treatment",
         "child_pugh_score": "Child-Pugh score", "alt": "ALT", "ast": "AST", "total_bilirubin": "Total bilirubin",
         "prothrombin_activity": "Prothrombin activity", "albumin": "Albumin", "platelets": "Platelet count",
         "afp": "AFP", "dcp": "DCP", "ascites": "Ascites", "pvtt": "Portal vein tumour thrombosis",
         "tumor_distribution": "Tumour distribution", "tumor_count": "Number of tumours",
         "max_tumor_size_mm": "Maximum tumour size", "n_haic_sessions": "HAIC sessions",
         "best_response": "Best response (RECIST)", "salvage_treatment": "Salvage treatment"}
LEVELS = {"M": "Male", "F": "Female", "male": "Male", "female": "Female", "yes": "Yes", "no": "No",
          "alcohol": "Alcohol", "other": "Other", "none": "No prior treatment", "resection": "Resection", "rfa_pei": "RFA or PEI",
          "tace": "TACE", "tace_rfa": "TACE and RFA", "unilateral": "Unilateral", "bilateral": "Bilateral",
          "sorafenib": "Sorafenib", "no sorafenib": "No sorafenib", "other salvage": "Other salvage", "ascites": "Ascites", "no ascites": "No ascites",
          "haic": "Continued HAIC", "uft": "Tegafur-uracil", "bsc": "Best supportive care"}
ABBREVIATIONS = {"AFP": "alpha-fetoprotein", "ALT": "alanine aminotransferase", "AST": "aspartate aminotransferase",
                 "BCLC": "Barcelona Clinic Liver Cancer", "CI": "confidence interval",
                 "DCP": "des-gamma-carboxy prothrombin", "ECOG": "Eastern Cooperative Oncology Group",
                 "HAIC": "hepatic arterial infusion chemotherapy", "HBV": "hepatitis B virus",
                 "HCV": "hepatitis C virus", "HR": "hazard ratio", "NR": "not reached",
                 "PEI": "percutaneous ethanol injection", "PVTT": "portal vein tumour thrombosis",
                 "RFA": "radiofrequency ablation", "RMST": "restricted mean survival time",
                 "SMD": "standardised mean difference", "SPP": "survival post-progression",
                 "TACE": "transarterial chemoembolisation", "TNM": "tumour, node, metastasis"}


# --- formatting -------------------------------------------------------------------

def format_hr(hr, low, high, digits: int = 2) -> str:
    """"2.47 (1.11–5.50)"; "—" when the hazard ratio is missing (a factor not entered in the model)."""
    if _missing(hr):
        return DASH
    if _missing(low) or _missing(high):
        return f"{float(hr):.{digits}f}"
    return f"{float(hr):.{digits}f} ({float(low):.{digits}f}{EN_DASH}{float(high):.{digits}f})"


def format_estimate(estimate, low, high, digits: int = 2) -> str:
    """"12.30 (3.91–NR)": an estimate with its confidence limits at `digits` decimals, "to" between limits
    when one is negative ("2.04 (-0.54 to 4.61)"). Beside a limit that is there, a missing estimate or limit
    is one a Kaplan-Meier curve never reached and reads NR; nothing there reads ""."""
    if all(_missing(v) for v in (estimate, low, high)):
        return ""
    text = [("NR" if _missing(v) else f"{float(v):.{digits}f}") for v in (estimate, low, high)]
    if _missing(low) and _missing(high):
        return text[0]
    joint = " to " if any(not _missing(v) and float(v) < 0 for v in (low, high)) else EN_DASH
    return f"{text[0]} ({text[1]}{joint}{text[2]})"


def n_percent(n, total, digits: int = 1) -> str:
    """"14 (73.7%)"."""
    return f"{int(n)} ({100 * n / total:.{digits}f}%)" if total else f"{int(n)}"


def level_text(level) -> str:
    """A level as printed: readable words for codes, ≥ and ≤ for >= and <=."""
    s = str(level)
    s = LEVELS.get(s, s)
    return s.replace(">=", "≥").replace("<=", "≤")


def phrase(text) -> str:
    """A level or label inside a sentence: `level_text` with its first letter in lower case, unless its first
    word is an abbreviation ("Best supportive care" -> "best supportive care", "HAIC" stays)."""
    s = level_text(text)
    first = s.split(" ")[0]
    return s if not s or first.isupper() or (len(first) > 1 and first[1].isupper()) else s[0].lower() + s[1:]


PLATELET_UNIT = "×10⁴/µL"
_PLATELET_UNIT = re.compile(r"(?:[x×]\s?)?10(?:\^4|⁴)\s?/\s?(?:uL|\u00b5L|\u03bcL|ul|mcL)")
_PER_MICROLITRE = re.compile(r"(?<=\d)/(?:uL|\u03bcL)\b")


def unit_text(text) -> str:
    """Units spelled one way for a reader: the platelet unit "10^4/uL" (the dictionary's ASCII), "10⁴/µL",
    "x10^4/uL" all read "×10⁴/µL" (`PLATELET_UNIT`), "/uL" after a number "/µL". "10^4/L" (per litre, as
    the paper misprints it) is left as written: the audit quotes it."""
    s = str(text)
    return _PER_MICROLITRE.sub("/\u00b5L", _PLATELET_UNIT.sub(PLATELET_UNIT, s)) if "L" in s else s


# What a reader of a table is told instead of where the code runs: software in parentheses is left out,
# a notebook is named by what it does.
SOFTWARE = ("tableone", "lifelines", "scipy", "statsmodels", "pandas", "numpy", "great_tables", "python-docx")
_SOFTWARE = re.compile(r"\s*\((?:" + "|".join(re.escape(n) for n in SOFTWARE) + r")\)", re.I)
NOTEBOOK_WORDS = {"01": "the patient flow", "02": "the baseline table", "03": "the response and toxicity analysis",
                  "04": "the overall survival analysis", "05": "the analysis of survival post-progression",
                  "06": "the analysis of prognostic factors", "07": "the appraisal", "08": "the scorecard",
                  "09": "the audit of the published numbers", "10": "the ensemble of reconstructed cohorts"}


def reader_text(text) -> str:
    """A note as a reader gets it: "(tableone)" and other software names in parentheses left out,
    "notebook 07" as "the appraisal" (`NOTEBOOK_WORDS`), units spelled one way (`unit_text`)."""
    s = _SOFTWARE.sub("", str(text))
    s = re.sub(r"\b[Nn]otebook (\d{2})\b", lambda m: NOTEBOOK_WORDS.get(m.group(1), m.group(0)), s)
    return unit_text(s)


def labels(dictionary: Path | None = None) -> dict:
    """Column -> "Label (unit)" from the data dictionary (short labels of `SHORT`, units of its `unit` column)."""
    out = {}
    with open(dictionary or DICTIONARY, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            column = row["column"]
            if column in out:
                continue
            label = SHORT.get(column, column.replace("_", " ").capitalize())
            unit = (row.get("unit") or "").strip()
            out[column] = unit_text(f"{label} ({unit})") if unit and unit not in ("yes/no",) else label
    return out


def abbreviations_in(*texts) -> str:
    """The footnote spelling out the abbreviations that occur in `texts` ("" if none)."""
    joined = " ".join(str(t) for t in texts)
    used = [f"{a}, {m}" for a, m in ABBREVIATIONS.items() if re.search(rf"(?<![A-Za-z]){a}(?![A-Za-z])", joined)]
    return "; ".join(used) + "." if used else ""


# --- the table --------------------------------------------------------------------

@dataclass(repr=False)
class Table:
    """A formatted table and the machine-readable frame behind it.

    `rows`: one dict per printed row with `label`, `indent` (0 for a variable, 1 for its levels),
    `bold`, and a text per key of `columns` (key -> header). `data`: what the CSV keeps."""
    title: str
    columns: dict
    rows: list
    data: pd.DataFrame
    footnotes: list = field(default_factory=list)
    stub: str = "Characteristic"
    anchor: str = ""  # the HTML id of the table (its file name once written; else from the title)

    def __post_init__(self):
        # one spelling of every unit in what a reader sees (title, headers, labels, cells, footnotes)
        self.title, self.stub = unit_text(self.title), unit_text(self.stub)
        self.columns = {k: unit_text(h) for k, h in self.columns.items()}
        self.rows = [{k: (unit_text(v) if isinstance(v, str) else v) for k, v in r.items()} for r in self.rows]
        self.footnotes = [unit_text(n) for n in self.footnotes]

    def frame(self) -> pd.DataFrame:
        """The printed table as a frame (levels indented with em spaces, headers as printed)."""
        body = [{self.stub: ("**" + r["label"] + "**" if r.get("bold") and r["label"] else
                             INDENT * r.get("indent", 0) + r["label"]),
                 **{header.replace("\n", ", "): r.get(key, "") for key, header in self.columns.items()}}
                for r in self.rows]
        return pd.DataFrame(body, columns=[self.stub, *(h.replace("\n", ", ") for h in self.columns.values())])

    def numeric(self, key: str) -> bool:
        """Does a value column hold numbers (counts, estimates, p-values, "NR", "—")? Such a column is
        centred; a column of text ("Note") is aligned left."""
        cells = [str(r.get(key, "")).strip() for r in self.rows]
        cells = [c for c in cells if c]
        return not cells or sum(bool(_NUMBER_CELL.match(c)) for c in cells) >= len(cells) / 2

    def markdown(self) -> str:
        notes = "\n".join(f"- {note}" for note in self.footnotes)
        align = ["left", *("center" if self.numeric(k) else "left" for k in self.columns)]
        body = self.frame().to_markdown(index=False, disable_numparse=True, colalign=align)
        return f"**{self.title}**\n\n" + body + ("\n\n" + notes if notes else "") + "\n"

    def gt(self, anchor: str = "table"):
        """The table as a great_tables `GT` (displayed by Jupyter; `as_raw_html()` for a file)."""
        from great_tables import GT, html, loc, style

        body = pd.DataFrame([{"label": r["label"], **{k: r.get(k, "") for k in self.columns}} for r in self.rows],
                            columns=["label", *self.columns])
        table = GT(body, id=_table_id(anchor)).tab_header(title=self.title)
        table = table.cols_label(label=self.stub, **{k: html(_escape(h).replace("\n", "<br>"))
                                                     for k, h in self.columns.items()})
        bold = [i for i, r in enumerate(self.rows) if r.get("bold")]
        indented = [i for i, r in enumerate(self.rows) if r.get("indent")]
        if bold:
            table = table.tab_style(style.text(weight="bold"), loc.body(columns="label", rows=bold))
        if indented:
            table = table.tab_style(style.css("padding-left: 1.8em"), loc.body(columns="label", rows=indented))
        centred = [k for k in self.columns if self.numeric(k)]
        if centred:
            table = table.cols_align("center", columns=centred)
        if len(centred) < len(self.columns):
            table = table.cols_align("left", columns=[k for k in self.columns if k not in centred])
        for note in self.footnotes:
            table = table.tab_source_note(note)
        return table

    def html(self, anchor: str | None = None) -> str:
        """The great_tables HTML with every CSS rule scoped to this table's id (`scoped_css`)."""
        anchor = _table_id(anchor or self.anchor or self.title)
        return scoped_css(self.gt(anchor).as_raw_html(), anchor) + "\n"

    def _repr_html_(self):
        return self.html()

    def __repr__(self) -> str:
        """The formatted table as Markdown: what a text-only view (a console, the notebook's text/plain) shows."""
        return self.markdown()

    def to_json(self) -> str:
        # columns in their printed order (sorting the keys would put "p-value" between the groups)
        return json.dumps({"title": self.title, "stub": self.stub, "columns": self.columns, "rows": self.rows,
                           "footnotes": self.footnotes}, ensure_ascii=False, indent=1) + "\n"


def _table_id(text: str) -> str:
    """An HTML id from a name or title ("table" when nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")[:60] or "table"


_CSS_RULE = re.compile(r"(\s*)([^{}\s][^{}]*)\{([^{}]*)\}")


def scoped_css(page: str, anchor: str) -> str:
    """great_tables' HTML with every selector of its <style> block prefixed by ``#anchor``: it writes
    some rules without the prefix (``tbody, tr, td, th { border-style: none; }``, ``tr {...}``), which
    would remove the borders of every other table of the report."""
    scope = f"#{anchor}"

    def rule(match):
        selectors = match.group(2).strip()
        if selectors.startswith("@"):
            return match.group(0)
        scoped = [sel if sel == scope or sel.startswith(scope + " ") else f"{scope} {sel}"
                  for sel in (part.strip() for part in selectors.split(",")) if sel]
        return f"{match.group(1)}{', '.join(scoped)} {{{match.group(3)}}}"

    def style(match):
        return match.group(1) + _CSS_RULE.sub(rule, match.group(2)) + match.group(3)

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", style, page, flags=re.DOTALL)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _footnotes(paths: SimpleNamespace | None, notes) -> list:
    notes = [n for n in notes if n]
    if paths is not None and getattr(paths, "bundled", False):
        notes.append(SYNTHETIC_NOTE)
    return notes


def _min_cell(paths) -> int:
    return int(getattr(paths, "min_cell", 0) or 0) if paths is not None else 0


def _suppress_rows(rows: list, keys, min_cell: int) -> list:
    """Counts from 1 to MIN_CELL - 1 in the printed cells read "<MIN_CELL" (the whole cell, percentage
    included), by privacy's own rule (`privacy.suppress_small_counts`)."""
    if min_cell <= 1 or not rows:
        return rows
    mark = f"<{int(min_cell)}"
    names = {k: f"c{i}" for i, k in enumerate(keys)}  # neutral names: no column is taken for a label
    frame = pd.DataFrame([{names[k]: str(r.get(k, "")).replace("%)", ")") for k in keys} for r in rows])
    shown = privacy.suppress_small_counts(frame, min_cell)
    return [{**r, **{k: mark for k in keys if shown.at[i, names[k]] == mark}} for i, r in enumerate(rows)]


def _header(name: str, n, min_cell: int) -> str:
    return f"{name}\nN = {privacy.count_text(n, min_cell)}" if n is not None else name


def _count_cell(text: str) -> str:
    """"50 (74.6)" -> "50 (74.6%)" (the form privacy's count cells take, with its percent sign)."""
    return re.sub(r"^(\s*\d+ \(\d+(?:\.\d+)?)\)\s*$", r"\1%)", str(text))


# --- builders -----------------------------------------------------------------------

_TABLEONE_VARIABLE = re.compile(r"^(?P<label>.*?), (?P<stat>n \(%\)|mean \[min,max\]|median \[min,max\]|"
                                r"mean \(SD\)|median \[Q1,Q3\])$")


def table1(t1: pd.DataFrame, n: int, title: str, paths=None, group: str = "All patients",
           footnotes=()) -> Table:
    """Table 1 from tableone's output reset to columns (Variable, Category, value): a bold row per
    variable, its levels indented ("50 (74.6%)"), "median (range)" for continuous values, N in the header."""
    min_cell = _min_cell(paths)
    value = t1.columns[2]
    rows, stats = [], set()
    for variable, block in t1.groupby(t1.columns[0], sort=False):
        if variable == "n":
            continue
        match = _TABLEONE_VARIABLE.match(str(variable))
        label, stat = (match.group("label"), match.group("stat")) if match else (str(variable), "")
        stat_text = stat.replace(" [min,max]", " (range)").replace("[Q1,Q3]", "(IQR)")
        stats.add(stat_text)
        categories = [c for c in block[t1.columns[1]] if str(c) != ""]
        if not categories:  # continuous: one row, "70.4 (33.0–84.0)"
            cell = str(block[value].iloc[0])
            cell = re.sub(r"\s*\[\s*([^,\]]+),\s*([^\]]+)\]", rf" (\1{EN_DASH}\2)", cell)
            rows.append({"label": f"{label}, {stat_text}" if stat_text else label, "indent": 0, "bold": True, "v": cell})
            continue
        rows.append({"label": label, "indent": 0, "bold": True, "v": ""})
        for category, cell in zip(block[t1.columns[1]], block[value]):
            rows.append({"label": level_text(category), "indent": 1, "bold": False, "v": _count_cell(cell)})
    rows = _suppress_rows(rows, ["v"], min_cell)
    notes = ["Values are n (%) unless stated otherwise" + (
        "; continuous values as " + ", ".join(sorted(s for s in stats if s and s != "n (%)")) if stats - {"n (%)", ""}
        else "") + ".", abbreviations_in(*(r["label"] for r in rows)), *footnotes]
    return Table(title, {"v": _header(group, n, min_cell)}, rows, t1, _footnotes(paths, notes))


def table2(long: pd.DataFrame, groups, title: str, paths=None, group_n: dict | None = None, digits: dict | None = None,
           names: dict | None = None, csv_frame: pd.DataFrame | None = None, footnotes=()) -> Table:
    """Table 2 from `survival.compare_groups`' long table: a bold row per variable with its p-value,
    levels indented with "n (%)" per group, continuous values as "median (range)"; N in each header."""
    min_cell = _min_cell(paths)
    groups = [g for g in groups if g in long.columns]
    names = names or {}
    dictionary = labels()
    group_n = group_n or {}
    rows, tests = [], []
    for name, block in long.groupby("variable", sort=False):
        column = block["column"].iloc[0] if "column" in block else name
        label = names.get(name) or dictionary.get(column, column)
        test = block["test"].iloc[0] if "test" in block else ""
        if test and test not in tests:
            tests.append(test)
        p = format_p(block["p"].iloc[0])
        if set(block["level"]) == {"median", "min", "max"}:
            k = (digits or {}).get(name, 0)
            v = block.set_index("level")
            cells = {str(g): (f"{v.at['median', g]:.{k}f} ({v.at['min', g]:.{k}f}{EN_DASH}{v.at['max', g]:.{k}f})"
                              if not _missing(v.at['median', g]) else "") for g in groups}
            rows.append({"label": f"{label}, median (range)", "indent": 0, "bold": True, **cells, "p": p})
            continue
        totals = {g: block[g].sum() for g in groups}
        rows.append({"label": label, "indent": 0, "bold": True, **{str(g): "" for g in groups}, "p": p})
        for _, r in block.iterrows():
            rows.append({"label": level_text(r["level"]), "indent": 1, "bold": False,
                         **{str(g): n_percent(r[g], totals[g]) for g in groups}, "p": ""})
    keys = [str(g) for g in groups]
    rows = _suppress_rows(rows, keys, min_cell)
    columns = {str(g): _header(level_text(g), group_n.get(g), min_cell) for g in groups}
    columns["p"] = "p-value"
    notes = ["n (%) of the group; median (range) for continuous values.",
             "p-values: " + "; ".join(tests) + "." if tests else "",
             abbreviations_in(*(r["label"] for r in rows)), *footnotes]
    return Table(title, columns, rows, csv_frame if csv_frame is not None else long, _footnotes(paths, notes))


def table3(t3: pd.DataFrame, title: str, paths=None, event: str = "deaths", footnotes=()) -> Table:
    """Table 3 from `survival.table3` (factor, levels, n, events, univariate p, comparison, hr, ci_low,
    ci_high, multivariable p): a bold row per factor with its log-rank p and Cox p, its levels indented
    with N and events, one "HR (95% CI)" column (the compared level against the reference level,
    "1 (reference)"), "—" for factors not entered in the model."""
    min_cell = _min_cell(paths)
    rows = []
    for r in t3.itertuples(index=False):
        rec = dict(zip(t3.columns, r))
        levels = [s.strip() for s in str(rec["levels"]).split(" / ")]
        ns = [s.strip() for s in str(rec["n"]).split(" / ")]
        events = [s.strip() for s in str(rec["events"]).split(" / ")]
        entered = not _missing(rec.get("hr"))
        compared, reference = (str(rec.get("comparison") or "").split(" vs ") + [""])[:2]
        rows.append({"label": str(rec["factor"]), "indent": 0, "bold": True, "n": "", "events": "",
                     "uni_p": format_p(rec["univariate p"]), "hr": "" if entered else DASH,
                     "multi_p": format_p(rec.get("multivariable p")) if entered else DASH})
        for i, level in enumerate(levels):
            hr = ""
            if entered:
                hr = (format_hr(rec["hr"], rec["ci_low"], rec["ci_high"]) if level == compared.strip() else
                      "1 (reference)" if level == reference.strip() else "")
            rows.append({"label": level_text(level), "indent": 1, "bold": False,
                         "n": ns[i] if i < len(ns) else "", "events": events[i] if i < len(events) else "",
                         "uni_p": "", "hr": hr, "multi_p": ""})
    rows = _suppress_rows(rows, ["n", "events"], min_cell)
    columns = {"n": "N", "events": event.capitalize(), "uni_p": "Log-rank p", "hr": "HR (95% CI)",
               "multi_p": "Cox p"}
    notes = ["Log-rank p: univariate log-rank test of each factor. HR (95% CI) and Cox p: multivariable Cox "
             "proportional-hazards model (Efron ties, Wald test and interval), each HR of its level against the "
             f"level marked 1 (reference); {DASH}: factor not entered in the model.",
             abbreviations_in("HR CI", *(r["label"] for r in rows)), *footnotes]
    return Table(title, columns, rows, t3, _footnotes(paths, notes), stub="Factor")


APPRAISAL_LABELS = {
    "followup_sorafenib": "Median follow-up (reverse Kaplan-Meier), sorafenib",
    "followup_other": "Median follow-up (reverse Kaplan-Meier), other salvage",
    "td_cox_sorafenib": "Sorafenib as a time-dependent covariate (Cox)",
    "td_cox_adj_sorafenib": "Sorafenib as a time-dependent covariate, adjusted (Cox)",
    "landmark": "Landmark analysis after progression (log-rank)",
    "sorafenib_vs_bsc": "Sorafenib vs best supportive care (log-rank)",
    "sorafenib_vs_active": "Sorafenib vs active salvage options (log-rank)",
    "rmst_sorafenib": "RMST, sorafenib", "rmst_other": "RMST, other salvage",
    "rmst_diff": "RMST difference, sorafenib minus other salvage",
    "lr_sorafenib": "Sorafenib in the paper's model (likelihood-ratio test)",
    "evalue_hr": "E-value of the HR (rare outcome)", "evalue_ci": "E-value of the confidence limit (rare outcome)",
    "evalue_hr_common": "E-value of the HR (common outcome)",
    "evalue_ci_common": "E-value of the confidence limit (common outcome)",
}
APPRAISAL_FACTORS = {"age": "Age", "sex": "Sex", "ps": "Performance status (ECOG)", "plt": "Platelet count",
                     "alb": "Albumin", "tbil": "Total bilirubin", "pt": "Prothrombin activity", "alt": "ALT",
                     "ast": "AST", "afp": "AFP", "dcp": "DCP", "ascites": "Ascites", "pvtt": "PVTT",
                     "sorafenib": "Sorafenib", "distribution": "Tumour distribution",
                     "tumor_count": "Number of tumours", "tumor_size": "Maximum tumour size", "era": "Treatment era"}
# Factor and variable codes in words (cells of the columns `FACTOR_COLUMNS` of a plain table)
FACTOR_WORDS = {**SHORT, **APPRAISAL_FACTORS}
_APPRAISAL_PATTERNS = [(re.compile(r"^holm_(.+)$"), "Holm-adjusted p, {}"),
                       (re.compile(r"^bh_(.+)$"), "Benjamini-Hochberg adjusted p, {}"),
                       (re.compile(r"^smd_(.+)$"), "SMD, {}"),
                       (re.compile(r"^era_from(\d{4})$"), "Salvage started from {} only (log-rank)")]


def appraisal_label(analysis) -> str:
    """The printed label of an analysis id of notebook 07 ("holm_tbil" -> "Holm-adjusted p, Total bilirubin");
    an id it does not know reads in words ("new_check" -> "New check")."""
    key = str(analysis)
    if key in APPRAISAL_LABELS:
        return APPRAISAL_LABELS[key]
    for pattern, text in _APPRAISAL_PATTERNS:
        match = pattern.match(key)
        if match:
            part = match.group(1)
            return text.format(APPRAISAL_FACTORS.get(part, part.replace("_", " ")))
    return _heading(key)


def appraisal_table(table: pd.DataFrame, title: str, paths=None, footnotes=()) -> Table:
    """The appraisal table (analysis, estimate, ci_low, ci_high, p, n, note) as printed: one row per analysis
    labelled in words (`appraisal_label`; the CSV keeps the ids), "estimate (95% CI)" at two decimals
    (`format_estimate`: a median or limit never reached reads NR), p formatted."""
    min_cell = _min_cell(paths)
    rows = []
    for rec in table.to_dict("records"):
        cell = format_estimate(rec.get("estimate"), rec.get("ci_low"), rec.get("ci_high"))
        n = rec.get("n")
        rows.append({"label": appraisal_label(rec["analysis"]), "indent": 0, "bold": False, "estimate": cell,
                     "p": format_p(rec.get("p")), "n": "" if _missing(n) else str(int(float(n))),
                     "note": "" if _missing(rec.get("note")) else reader_text(rec["note"])})
    rows = _suppress_rows(rows, ["n"], min_cell)
    columns = {"estimate": "Estimate (95% CI)", "p": "p-value", "n": "N", "note": "Note"}
    notes = ["One row per analysis of the appraisal; the estimate's scale (hazard ratio, difference in months, "
             "E-value, SMD) is given by the analysis and its note.",
             abbreviations_in("CI", *(r["label"] + " " + r["note"] for r in rows)), *footnotes]
    return Table(title, columns, rows, table, _footnotes(paths, notes), stub="Analysis")


# --- any other frame ---------------------------------------------------------------------

# Headings of common column names (exact name, or the name in lower case). Notebook authors add to it
# (`tables.HEADERS["my_column"] = "My column (unit)"`) or pass `headers={column: text}` to `plain` /
# `write_frame`. Data-dictionary columns read as `labels()` gives them; any other name by `_heading`.
HEADERS = {
    "n": "N", "N": "N", "count": "N", "patients": "Patients", "events": "Events", "deaths": "Deaths",
    "censored": "Censored", "at_risk": "At risk", "at risk": "At risk", "percent": "%", "pct": "%",
    "median": "Median", "mean": "Mean", "sd": "SD", "min": "Minimum", "max": "Maximum", "q1": "Q1", "q3": "Q3",
    "ci_low": "95% CI, lower", "ci_high": "95% CI, upper", "low": "95% CI, lower", "high": "95% CI, upper",
    "lower": "95% CI, lower", "upper": "95% CI, upper", "ci": "95% CI",
    "p": "p-value", "p_value": "p-value", "pvalue": "p-value", "p_printed": "Printed p", "printed p": "Printed p",
    "holm": "Holm-adjusted p", "Holm": "Holm-adjusted p", "bh": "Benjamini-Hochberg adjusted p",
    "BH": "Benjamini-Hochberg adjusted p",
    "hr": "Hazard ratio", "HR": "Hazard ratio", "chisq": "Chi-square", "chi_square": "Chi-square",
    "statistic": "Test statistic", "smd": "SMD", "r": "Correlation", "rho": "Correlation",
    "fisher": "Fisher's exact test, p", "chi2": "Chi-square test, p", "chi2_yates": "Chi-square test with Yates' correction, p",
    "fisher reproduces": "Fisher's exact test", "chi2 reproduces": "Chi-square test",
    "chi2_yates reproduces": "Chi-square test with Yates' correction",
    "estimate": "Estimate", "survival": "Survival", "time": "Time", "years": "Years", "year": "Year",
    "label": "Group", "group": "Group", "variable": "Variable", "factor": "Factor", "covariate": "Covariate",
    "levels": "Levels", "level": "Level", "model": "Model", "note": "Note", "endpoint": "End point",
    "term": "Adverse event", "sessions": "HAIC sessions", "kind": "Kind of result", "class": "Class",
    "quantity": "Result", "members": "Members", "text": "As written in the text",
"covered_pct": "Truth inside the range, %",
    "median_abs_error": "Median absolute error", "error_of_median": "Error of the median",
    "true_cohorts": "True cohorts", "not_reproducible": "Not reproducible", "id": "Number (id)",
    "ids": "Numbers (ids)", "best_response": "Best response (RECIST)", "median follow-up": "Median follow-up",
}
# Columns a reader never sees (internal keys; the CSV keeps them) when the frame has other columns to show.
HIDDEN_COLUMNS = {"key", "column"}
# Columns whose cells are factor or variable codes, read in words through an explicit map (`FACTOR_WORDS`).
FACTOR_COLUMNS = {"variable", "factor", "covariate", "key"}
# A confidence interval: the pairs of limit columns merged with the estimate before them into one cell.
CI_PAIRS = [("ci_low", "ci_high"), ("ci_lower", "ci_upper"), ("low", "high"), ("lower", "upper")]
CI_LABEL = "95% CI"
# Codes in words in one column only (`plain`): the kind of a result in the ensemble tables.
COLUMN_LEVELS = {"kind": {"hr": "Hazard ratio", "p": "p-value", "months": "Months", "weeks": "Weeks", "days": "Days",
                          "years": "Years", "percent": "Percentage", "r": "Correlation", "smd": "SMD"}}
# Levels that mean one thing in one column only ("none" is Table 1's initial treatment, not any "none").
_AMBIGUOUS_LEVELS = {"none"}

_P_COLUMN = re.compile(r"^(p|p-value|p value|pvalue|.* p|p .*|holm|bh|fisher|chi2|chi2 yates|.*adjusted p)$", re.I)
_HR_COLUMN = re.compile(r"^(hr|hazard ratio|.*\bhr\b.*|.*hazard ratio.*)$", re.I)
_TWO_DECIMALS = re.compile(r"^(smd|.*\bsmd\b.*|r|rho|corr|correlation|.*correlation.*|e-?value.*|chisq|chi-square|"
                           r"chi square|statistic|.*statistic|z|or|odds ratio|rr|share.*|proportion.*)$", re.I)
_ONE_DECIMAL = re.compile(r"(median|mean|\btime\b|months?|weeks?|days?|rmst|follow-up|follow up|delay|\bmin\b|"
                          r"\bmax\b|minimum|maximum|percent|pct|%|survival|tau)", re.I)
_NR_COLUMN = re.compile(r"(median|\bci\b|upper|lower|\blow\b|\bhigh\b)", re.I)
# a row's "kind" column decides how its summary columns (min, median, max, ...) read; p-values by `format_p`
# in the columns of values, at three decimals in the columns of errors
_ROW_KIND_COLUMNS = {"min", "median", "max", "mean", "truth", "estimate", "value", "q1", "q3"}
_ROW_KIND_ERRORS = {"median_abs_error", "error_of_median", "error", "abs_error"}
_KIND_DIGITS = {"hr": 2, "r": 2, "smd": 2, "ratio": 2, "evalue": 2, "months": 1, "weeks": 1, "days": 1, "years": 1,
                "percent": 1, "pct": 1}


def _words(name) -> str:
    return str(name).replace("_", " ").strip()


def _header_text(col, series: pd.Series | None, headers: dict, dictionary: dict) -> str:
    """The heading of a column: `headers` (the caller's), `HEADERS`, the data dictionary's label, else
    `_heading` (underscores to spaces, first letter capitalised)."""
    for key in (col, str(col), str(col).lower(), _words(col).lower()):
        if key in headers:
            return headers[key]
    for key in (col, str(col), str(col).lower(), _words(col).lower()):
        if key in HEADERS:
            text = HEADERS[key]
            break
    else:
        text = dictionary.get(str(col)) or _heading(_words(col))
        match = re.match(r"^share p below ([\d.]+)$", _words(col), re.I)
        if match:
            text = f"Share with p < {match.group(1)}"
    if text == "Survival" and series is not None and _numbers(series).gt(1).any():
        text = "Survival, %"
    return text


def _numbers(series: pd.Series) -> pd.Series:
    """The numeric cells of a column (booleans and text left out)."""
    values = [v for v in series if isinstance(v, (int, float, np.integer, np.floating))
              and not isinstance(v, (bool, np.bool_)) and not _missing(v)]
    return pd.Series(values, dtype=float)


def _is_numeric(series: pd.Series) -> bool:
    return len(_numbers(series)) > 0 and not pd.api.types.is_bool_dtype(series)


def _kind(col, series: pd.Series, whole: bool = True) -> tuple:
    """How a column's numbers read: ("p",), ("int",), ("fixed", decimals) or ("auto", decimals),
    chosen by the column's name and values (`whole`: a column of whole numbers reads as integers)."""
    name = _words(col)
    values = _numbers(series)
    if values.empty:
        return ("auto", 0)
    if _P_COLUMN.match(name) and values.between(0, 1).all():
        return ("p",)
    if _HR_COLUMN.match(name):
        return ("fixed", 2)
    if _TWO_DECIMALS.match(name):
        return ("fixed", 2)
    if whole and bool(np.all(np.isclose(values, np.round(values), rtol=0, atol=1e-9))):
        return ("int",)
    if _ONE_DECIMAL.search(name):
        return ("fixed", 1)
    # anything else (a column of mixed quantities): each number with the decimals it needs, at most three
    return ("auto", 3)


def _number_text(v, kind: tuple) -> str:
    if kind[0] == "p":
        return format_p(v)
    if kind[0] == "int":
        return f"{int(round(float(v)))}"
    if kind[0] == "auto":
        text = f"{float(v):.{kind[1]}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return f"{float(v):.{kind[1]}f}"


def _cell_text(v, kind: tuple, col, levels: dict, factor: bool = False) -> str:
    """One printed cell: numbers by `kind`, "Yes"/"No" for booleans, missing as NR (a median or a confidence
    limit) or "—", codes in words only through an explicit map (`levels`, `FACTOR_WORDS`)."""
    if isinstance(v, (bool, np.bool_)):
        return "Yes" if v else "No"
    if isinstance(v, str) and v.strip() in ("True", "False"):
        return "Yes" if v.strip() == "True" else "No"
    if _missing(v) or (isinstance(v, str) and v.strip().lower() in ("nan", "none", "<na>", "nat")):
        return "NR" if _NR_COLUMN.search(_words(col)) else DASH
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _number_text(v, kind)
    if isinstance(v, (dt.datetime, dt.date, np.datetime64)):  # a date as a date, without a midnight time
        stamp = pd.Timestamp(v)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    s = str(v)
    if s in levels:
        return levels[s]
    if factor and s in FACTOR_WORDS:
        return FACTOR_WORDS[s]
    return s.replace(">=", "≥").replace("<=", "≤")


def _ci_merges(columns: list, data: pd.DataFrame) -> dict:
    """{estimate column: (low, high)} for each pair of confidence limits with a numeric column before it
    ({None-keyed} when the limits stand alone)."""
    merges = {}
    lower = {str(c).lower(): c for c in columns}
    for low_name, high_name in CI_PAIRS:
        if low_name not in lower or high_name not in lower:
            continue
        low, high = lower[low_name], lower[high_name]
        if not (_is_numeric(data[low]) or _is_numeric(data[high])) and not (data[low].isna().all()):
            continue
        i = columns.index(low)
        before = columns[i - 1] if i > 0 else None
        taken = {c for pair in merges.values() for c in pair} | set(merges)
        if before is not None and before not in taken and before not in (high,) and _is_numeric(data[before]):
            merges[before] = (low, high)
        else:
            merges[("ci", low)] = (low, high)
    return merges


def plain(df: pd.DataFrame, title: str, paths=None, footnotes=(), index: bool = False, digits: dict | None = None,
          headers: dict | None = None, levels: dict | None = None) -> Table:
    """Any other frame as a journal prints it (`data` keeps `df` for the CSV).

    - no index column (a named index is shown as the first column: it holds labels); the first shown column
      is the stub; internal key columns (`HIDDEN_COLUMNS`) are left out;
    - headers in words: `headers` (column -> text) over `HEADERS` over the data dictionary (`labels`) over
      `_heading`; an estimate followed by `ci_low`/`ci_high` (or `low`/`high`, `lower`/`upper`) reads as one
      "Estimate (95% CI)" cell (`format_estimate`);
    - numbers rounded by kind, chosen by the column's name: p-values by `format_p`; hazard ratios, SMD,
      correlations and test statistics 2 decimals; medians, times, months, RMST and percentages 1; whole
      numbers as integers; a column `kind` (hr, p, months, ...) decides its row's min/median/max;
      `digits` (column -> decimals) overrides;
    - missing cells NR in a median or confidence-limit column (never reached), else "—"; booleans Yes/No;
      codes in words only through an explicit map (`LEVELS`, `levels`; factor codes by `FACTOR_WORDS`);
    - counts from 1 to MIN_CELL - 1 read "<MIN_CELL" (`privacy.suppress_small_counts`)."""
    data = df.reset_index() if index or any(n is not None for n in df.index.names) else df
    data = data.loc[:, ~data.columns.duplicated()]
    shown = privacy.suppress_small_counts(data, _min_cell(paths))  # "<5" cells stay text
    digits, user_headers = dict(digits or {}), dict(headers or {})
    levels = {k: v for k, v in {**LEVELS, **(levels or {})}.items() if k not in _AMBIGUOUS_LEVELS or k in (levels or {})}
    dictionary = labels()
    columns = list(data.columns)
    if len(columns) > 2:
        kept = [c for c in columns if str(c).lower() not in HIDDEN_COLUMNS]
        columns = kept if len(kept) >= 2 else columns
    merges = _ci_merges(columns, data)
    limits = {c for pair in merges.values() for c in pair}
    kinds = {}
    for col in columns:
        kinds[col] = ("fixed", int(digits[col])) if col in digits else _kind(col, data[col])
    merge_digits = {}  # the decimals of an "estimate (95% CI)" cell: `digits`, else by the estimate's name, else 2
    for estimate, (low, high) in merges.items():
        if estimate in digits:
            merge_digits[estimate] = int(digits[estimate])
            continue
        k = _kind(estimate, data[estimate], whole=False) if estimate in data.columns else ("auto", 2)
        merge_digits[estimate] = k[1] if k[0] == "fixed" else 2
    display = []  # (key of the shown column: a column, or an estimate with its limits)
    for col in columns:
        if col in limits:
            if ("ci", col) in merges:
                display.append(("ci", col))
            continue
        display.append(col)
    kind_column = next((c for c in data.columns if str(c).lower() == "kind"), None)

    def text(rec, col) -> str:
        if col in merges:
            low, high = merges[col]
            d = merge_digits[col]
            if isinstance(col, tuple):  # limits without an estimate: "3.9–NR"
                lo, hi = rec[low], rec[high]
                if _missing(lo) and _missing(hi):
                    return DASH
                parts = ["NR" if _missing(v) else f"{float(v):.{d}f}" for v in (lo, hi)]
                joint = " to " if any(not _missing(v) and float(v) < 0 for v in (lo, hi)) else EN_DASH
                return joint.join(parts)
            estimate = rec[col]
            if isinstance(estimate, str):  # a suppressed or textual estimate stays as it is
                return estimate
            return format_estimate(estimate, rec[low], rec[high], d) or DASH
        kind = kinds[col]
        name = str(col).lower()
        if kind_column is not None and name in _ROW_KIND_COLUMNS | _ROW_KIND_ERRORS and col not in digits:
            row_kind = str(rec[kind_column]).lower()
            if row_kind == "p":
                value = rec[col]
                is_p = isinstance(value, (float, np.floating, int, np.integer)) and 0 <= value <= 1
                kind = ("p",) if is_p and name in _ROW_KIND_COLUMNS else ("fixed", 3)
            elif row_kind in _KIND_DIGITS:
                kind = ("fixed", _KIND_DIGITS[row_kind])
        own = {**COLUMN_LEVELS.get(name, {}), **levels}
        cell = _cell_text(rec[col], kind, col, own, factor=name in FACTOR_COLUMNS)
        return cell

    def empty(col) -> bool:  # a column with nothing in it tells a reader nothing (the CSV keeps it)
        cols = merges[col] if col in merges else (col,)
        return all(_missing(v) or (isinstance(v, str) and not v.strip()) for c in cols for v in data[c])

    display = [display[0], *(c for c in display[1:] if not empty(c))]
    first, rest = display[0], display[1:]
    keys = [f"c{i}" for i in range(len(rest))]
    rows = []
    for rec in shown.to_dict("records"):
        label = text(rec, first)
        word = re.split(r"[\s,;:()/-]", label, maxsplit=1)[0]
        if len(word) > 1 and word.isalpha() and word.islower() and "_" not in label:  # "Disease control"
            label = label[0].upper() + label[1:]
        row = {"label": "" if label == DASH else label, "indent": 0, "bold": False}
        for key, col in zip(keys, rest):
            row[key] = text(rec, col)
        rows.append(row)

    def header(col) -> str:
        if col in merges:
            if isinstance(col, tuple):
                return user_headers.get(col[1], CI_LABEL)
            if col in user_headers:
                return user_headers[col]
            return f"{_header_text(col, data[col], {}, dictionary)} ({CI_LABEL})"
        return _header_text(col, data[col], user_headers, dictionary)

    heads = {key: header(col) for key, col in zip(keys, rest)}
    stub = header(first)
    texts = [title, stub, *heads.values(), *(r["label"] for r in rows),
             *(v for r in rows for k, v in r.items() if k in heads)]
    notes = [abbreviations_in(*texts), *footnotes]
    return Table(title, heads, rows, df, _footnotes(paths, notes), stub=stub)


def _heading(name) -> str:
    s = str(name).replace("_", " ")
    return s[:1].upper() + s[1:] if s and not s[:2].isupper() else s


# --- writing ---------------------------------------------------------------------------

def write(table: Table, name: str, paths: SimpleNamespace, index: bool = False) -> Table:
    """Write `tables/<name>.csv` (the machine-readable frame, counts below MIN_CELL suppressed),
    `.md` and `.html` (the formatted table) and `.json` (for `manuscript_docx`); return the table
    (Jupyter displays it)."""
    table.anchor = name
    data = privacy.suppress_small_counts(table.data, _min_cell(paths))
    data.to_csv(paths.tables / f"{name}.csv", index=index, lineterminator="\n")
    (paths.tables / f"{name}.md").write_text(table.markdown(), encoding="utf-8")
    (paths.tables / f"{name}.html").write_text(table.html(), encoding="utf-8")
    if name in MANUSCRIPT:
        (paths.tables / f"{name}.json").write_text(table.to_json(), encoding="utf-8")
    return table


# --- Word -----------------------------------------------------------------------------

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PAGE_WIDTH_CM = 29.7 - 2 * 2.0  # landscape A4 less the margins
_TABLE_NUMBER = re.compile(r"^Table\s+(\d+)\b")
_W_ORDER = {  # the schema's order of the children of w:tblPr and w:tcPr (Word refuses a file out of order)
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
              "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
             "tcFitText", "vAlign", "hideMark"],
}
RULE = ("single", 8)  # a journal's rule: a single line of 1 pt (eighths of a point)
NO_RULE = ("nil", 0)


def numbered_title(title: str, number: int) -> str:
    """"Table 4. Appraisal ..." from a title without its number; a title that has one keeps it."""
    title = reader_text(title).strip()
    return title if _TABLE_NUMBER.match(title) else f"Table {number}. {title}"


def _w_child(parent, tag: str, order: list):
    """The child `w:<tag>` of `parent`, made and put in the schema's place when missing."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    found = parent.find(qn(f"w:{tag}"))
    if found is not None:
        return found
    element = OxmlElement(f"w:{tag}")
    later = order[order.index(tag) + 1:]
    for child in parent:
        if child.tag.rsplit("}", 1)[-1] in later:
            child.addprevious(element)
            return element
    parent.append(element)
    return element


def _set_borders(borders, edges: dict) -> None:
    """Set each edge of a w:tblBorders or w:tcBorders element: (style, size in eighths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if edge not in edges:
            continue
        old = borders.find(qn(f"w:{edge}"))
        if old is not None:
            borders.remove(old)
        element = OxmlElement(f"w:{edge}")
        style, size = edges[edge]
        element.set(qn("w:val"), style)
        if style != "nil":
            element.set(qn("w:sz"), str(size))
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
        borders.append(element)


def _three_line(grid) -> None:
    """A three-line table: a rule above and below the header row and one under the last row; no vertical
    rules and no other horizontal rule (explicit borders: no table style is relied on)."""
    tbl_pr = grid._tbl.tblPr
    _set_borders(_w_child(tbl_pr, "tblBorders", _W_ORDER["tblPr"]),
                 {"top": RULE, "left": NO_RULE, "bottom": RULE, "right": NO_RULE, "insideH": NO_RULE,
                  "insideV": NO_RULE})
    for cell in grid.rows[0].cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        _set_borders(_w_child(tc_pr, "tcBorders", _W_ORDER["tcPr"]), {"bottom": RULE})


def _row_properties(row, header: bool) -> None:
    """No row split across pages (w:cantSplit); the header row repeated on every page (w:tblHeader)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("cantSplit", *(("tblHeader",) if header else ())):
        if tr_pr.find(qn(f"w:{tag}")) is None:
            element = OxmlElement(f"w:{tag}")
            element.set(qn("w:val"), "true")
            tr_pr.append(element)


def _column_widths(spec: dict, keys: list, total_cm: float = PAGE_WIDTH_CM) -> list:
    """Widths in cm sized to the content: the stub by its longest label (wider), each value column by its
    longest header line or cell (narrower), scaled down to the page when they do not fit."""
    def longest(texts):
        return max([len(line) for t in texts for line in str(t).split("\n")] or [1])

    char_cm, pad_cm = 0.19, 0.45
    stub = longest([spec["stub"], *(str(r["label"]) + "   " * int(r.get("indent", 0)) for r in spec["rows"])])
    widths = [min(max(stub * char_cm + pad_cm, 4.0), 10.0)]
    for key, header in zip(keys, spec["columns"].values()):
        size = longest([header, *(r.get(key, "") for r in spec["rows"])])
        widths.append(min(max(size * char_cm + pad_cm, 1.6), 8.0))
    scale = min(1.0, total_cm / sum(widths))
    return [round(w * scale, 2) for w in widths]


def _numeric_column(spec: dict, key: str) -> bool:
    return Table("", spec["columns"], spec["rows"], pd.DataFrame()).numeric(key)


def manuscript_docx(tables_dir: Path, target: Path, names=MANUSCRIPT) -> Path | None:
    """One Word file with the manuscript tables written so far (`tables/<name>.json`), in `names` order,
    as journals ask for them: each numbered and titled ("Table 4. ..." when its title has no number), a
    three-line table (rules above and below the header row and under the last row, set as explicit
    borders), the header row repeated on every page, no row split across pages, the last rows kept
    together, columns as wide as their content, numbers centred, indented levels, footnotes in words
    (`reader_text`). None when there is no table. No author, dates fixed, zip members dated 1980: the
    same tables give the same bytes."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    specs = [json.loads((tables_dir / f"{n}.json").read_text(encoding="utf-8"))
             for n in names if (tables_dir / f"{n}.json").is_file()]
    if not specs:
        return None
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(2.0))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(9)
    props = doc.core_properties
    props.author = props.last_modified_by = ""
    props.title = "Manuscript tables"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    number = 0
    for position, spec in enumerate(specs):
        match = _TABLE_NUMBER.match(reader_text(spec["title"]).strip())
        number = int(match.group(1)) if match else number + 1
        heading = doc.add_paragraph()
        heading.paragraph_format.page_break_before = bool(position)
        heading.paragraph_format.keep_with_next = True
        heading.paragraph_format.space_after = Pt(6)
        heading.add_run(numbered_title(spec["title"], number)).bold = True
        keys = list(spec["columns"])
        widths = _column_widths(spec, keys)
        numeric = [False, *(_numeric_column(spec, k) for k in keys)]
        grid = doc.add_table(rows=1, cols=1 + len(keys))
        grid.alignment = WD_TABLE_ALIGNMENT.LEFT
        grid.autofit = False
        tbl_w = _w_child(grid._tbl.tblPr, "tblW", _W_ORDER["tblPr"])
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(int(round(sum(widths) / 2.54 * 1440))))
        for column, width in zip(grid.columns, widths):
            column.width = Cm(width)
        rows = [None, *spec["rows"]]
        for i, row in enumerate(rows):
            cells = grid.rows[0].cells if i == 0 else grid.add_row().cells
            header = row is None
            texts = ([spec["stub"], *spec["columns"].values()] if header else
                     [str(row["label"]), *(str(row.get(k, "")) for k in keys)])
            # keep the header with the first row, a variable with its first level, the last three rows together
            keep = header or bool(row.get("bold")) or i >= len(rows) - 3 and i < len(rows) - 1
            for j, (cell, text, width) in enumerate(zip(cells, texts, widths)):
                cell.width = Cm(width)
                paragraph = cell.paragraphs[0]
                if keep and i < len(rows) - 1:
                    paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.space_after = Pt(0)
                if j == 0 and not header and int(row.get("indent", 0)):
                    paragraph.paragraph_format.left_indent = Cm(0.4 * int(row.get("indent", 0)))
                if numeric[j]:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                if text:
                    run = paragraph.add_run(reader_text(text))
                    if header or (j == 0 and row.get("bold")):
                        run.bold = True
            _row_properties(grid.rows[i], header)
        _three_line(grid)
        for k, note in enumerate(spec["footnotes"]):
            p = doc.add_paragraph()
            p.paragraph_format.space_after = Pt(0)
            p.paragraph_format.space_before = Pt(4 if k == 0 else 0)
            run = p.add_run(reader_text(note))
            run.font.size = Pt(8)
    buffer = io.BytesIO()
    doc.save(buffer)
    target.write_bytes(_fixed_zip(buffer.getvalue()))
    return target


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every member dated 1980-01-01 (python-docx dates them now)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# Titles in words of the tables the notebooks write without one (`write_frame(df, name, paths)`); a title
# given by the notebook wins, and a name not here falls back to `title_of`.
TITLES = {
    "cohort_enrolment_per_year": "Patients enrolled per calendar year",
    "cohort_salvage_by_era": "Salvage options after progression by treatment era",
    "response_sessions": "Number of HAIC sessions per patient",
    "response_best": "Best response to HAIC (RECIST)",
    "toxicity_grade3plus": "Patients with severe adverse events by term (CTCAE)",
    "toxicity_worst_grade": "Patients by the worst grade of each adverse event (CTCAE)",
    "os_landmarks": "Overall survival at landmark times",
    "os_by_response_medians": "Median overall survival by best response",
    "table2_categorical_tests": "Table 2 (categorical factors): p-values of three tests",
    "table2_which_test_printed_counts": "Table 2: which test gives the printed p-values",
    "figure2_medians": "Figure 2: median overall survival and survival post-progression by salvage treatment",
    "table3_univariate": "Table 3 (univariate): survival post-progression by prognostic factor",
    "appraisal_followup": "Follow-up after progression by salvage treatment (reverse Kaplan-Meier)",
    "appraisal_salvage_delay": "Time from progression to the start of salvage treatment",
    "appraisal_time_varying_cox": "Sorafenib as a fixed group and as a time-varying covariate: hazard ratios",
    "appraisal_multiplicity": "Prognostic factors screened one at a time: p-values adjusted for multiplicity",
    "appraisal_smd": "Balance of the salvage groups: standardised mean differences",
    "scorecard": "Scorecard: each published number beside this run's",
    "scorecard_move_granularity": "How finely the reconstruction can move the last Cox numbers",
    "audit": "Audit of the published numbers: every check",
    "audit_summary": "Audit of the published numbers: findings by check",
    "audit_table2_tests": "Audit: Table 2's p-values under three tests",
    "audit_reading": "Audit: how printed numbers that contradict others were read",
    "ensemble_members": "Ensemble of reconstructed cohorts: the members",
    "ensemble_unprinted_results": "Results the paper did not print, across the ensemble of reconstructed cohorts",
    "ensemble_classes": "Unprinted results by class: pinned, constrained or free",
    "reconstruction_coverage": "Validation: how often ensembles of reconstructions contain a known truth",
    "reconstruction_failures": "Validation: why reconstructions of known true cohorts failed",
}


def title_of(name: str) -> str:
    """The title of a table written without one: `TITLES` in words, else from its file name
    ("new_table" -> "New table")."""
    return TITLES.get(name) or _heading(name.replace("_", " "))


def write_frame(df: pd.DataFrame, name: str, paths: SimpleNamespace, title: str | None = None,
                footnotes=(), index: bool = False, **plain_kwargs) -> Table:
    """`write(plain(df, title))` for a table that is not one of the paper's: `tables/<name>.csv` exactly as
    `df.to_csv` writes it (counts below MIN_CELL suppressed), Markdown and HTML as a reader gets them
    (`plain`; `plain_kwargs`: digits, headers, levels). Returns the `Table` (Jupyter displays it); its
    `data` is the frame as it may be shown to a program (counts below MIN_CELL suppressed)."""
    table = write(plain(df, title or title_of(name), paths, footnotes=footnotes, index=index, **plain_kwargs),
                  name, paths, index=index)
    table.data = privacy.suppress_small_counts(df, _min_cell(paths))
    return table
