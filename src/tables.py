"""Tables as a journal prints them: one layer for every table the notebooks write.

A `Table` holds what a reader sees (a title, a stub column of labels with levels indented under a
bold variable row, value columns whose headers carry N, footnotes naming each test and
abbreviation) and what a program reads (`data`, the machine-readable frame whose CSV keeps its
columns and keys). `write(table, name, paths)` writes

- `tables/<name>.csv`: `data`, as before (counts below MIN_CELL suppressed);
- `tables/<name>.md` and `tables/<name>.html`: the formatted table (HTML by great_tables);
- `tables/<name>.json`: the formatted table for `manuscript_docx`, which puts Tables 1-3 and the
  appraisal table into one Word file (python-docx) after every notebook has run.

Builders: `table1` (from tableone), `table2` (from `survival.compare_groups`), `table3` (from
`survival.table3`), `appraisal_table`, and `plain` for any other frame. Formatting: `format_p`
(`<0.001`), `format_hr` ("2.47 (1.11–5.50)"), `format_estimate` ("12.30 (3.91–NR)"), `n_percent`. Labels and units come from
`data/data_dictionary.csv` (`labels`). On the bundled synthetic cohort every table carries the
footnote `SYNTHETIC_NOTE`. Counts from 1 to MIN_CELL - 1 read "<MIN_CELL" in every cell and header
(`privacy.suppress_small_counts`, `privacy.count_text`).

Place in the import order: above `helpers` and `privacy`; below `paper`, the runner and the notebooks.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import privacy
from src.helpers import ROOT

DICTIONARY = ROOT / "data" / "data_dictionary.csv"
SYNTHETIC_NOTE = ("Synthetic data: a cohort reconstructed to match the paper's published aggregates, "
                  "not the record of any patient.")
MANUSCRIPT = ["table1_baseline", "table2_characteristics_at_progression", "table3_paper_model", "appraisal"]
DASH = "—"
EN_DASH = "–"
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
                 "HAIC": "hepatic arterial infusion chemotherapy", "HR": "hazard ratio",
                 "PEI": "percutaneous ethanol injection", "PVTT": "portal vein tumour thrombosis",
                 "RFA": "radiofrequency ablation", "RMST": "restricted mean survival time",
                 "SMD": "standardised mean difference", "SPP": "survival post-progression",
                 "TACE": "transarterial chemoembolisation", "TNM": "tumour, node, metastasis"}


# --- formatting -------------------------------------------------------------------

def _missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x)) or x is pd.NA or x == ""


def format_p(p, digits: int = 3) -> str:
    """A p-value as a journal prints it: "0.032", "<0.001", "" when missing."""
    if _missing(p):
        return ""
    p = float(p)
    floor = 10 ** -digits
    return f"<{floor:.{digits}f}" if p < floor else f"{p:.{digits}f}"


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
            out[column] = f"{label} ({unit})" if unit and unit not in ("yes/no",) else label
    return out


def abbreviations_in(*texts) -> str:
    """The footnote spelling out the abbreviations that occur in `texts` ("" if none)."""
    joined = " ".join(str(t) for t in texts)
    used = [f"{a}, {m}" for a, m in ABBREVIATIONS.items() if re.search(rf"(?<![A-Za-z]){a}(?![A-Za-z])", joined)]
    return "; ".join(used) + "." if used else ""


# --- the table --------------------------------------------------------------------

@dataclass
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

    def frame(self) -> pd.DataFrame:
        """The printed table as a frame (levels indented with em spaces, headers as printed)."""
        body = [{self.stub: ("**" + r["label"] + "**" if r.get("bold") and r["label"] else
                             INDENT * r.get("indent", 0) + r["label"]),
                 **{header.replace("\n", ", "): r.get(key, "") for key, header in self.columns.items()}}
                for r in self.rows]
        return pd.DataFrame(body, columns=[self.stub, *(h.replace("\n", ", ") for h in self.columns.values())])

    def markdown(self) -> str:
        notes = "\n".join(f"- {note}" for note in self.footnotes)
        return f"**{self.title}**\n\n" + self.frame().to_markdown(index=False, disable_numparse=True) + ("\n\n" + notes if notes else "") + "\n"

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
        table = table.cols_align("center", columns=list(self.columns))
        for note in self.footnotes:
            table = table.tab_source_note(note)
        return table

    def html(self, anchor: str | None = None) -> str:
        """The great_tables HTML with every CSS rule scoped to this table's id (`scoped_css`)."""
        anchor = _table_id(anchor or self.anchor or self.title)
        return scoped_css(self.gt(anchor).as_raw_html(), anchor) + "\n"

    def _repr_html_(self):
        return self.html()

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
                     "note": "" if _missing(rec.get("note")) else str(rec["note"])})
    rows = _suppress_rows(rows, ["n"], min_cell)
    columns = {"estimate": "Estimate (95% CI)", "p": "p-value", "n": "N", "note": "Note"}
    notes = ["One row per analysis of notebook 07; the estimate's scale (hazard ratio, difference in months, "
             "E-value, SMD) is given by the analysis and its note.",
             abbreviations_in("CI", *(r["label"] + " " + r["note"] for r in rows)), *footnotes]
    return Table(title, columns, rows, table, _footnotes(paths, notes), stub="Analysis")


_P_COLUMN = re.compile(r"^(p|p-value|.* p|p .*|holm|bh)$", re.IGNORECASE)


def plain(df: pd.DataFrame, title: str, paths=None, footnotes=(), index: bool = False) -> Table:
    """Any other frame as a table: headers in words, p-value columns formatted, blanks for missing values."""
    data = df.reset_index() if index else df
    shown = privacy.suppress_small_counts(data, _min_cell(paths))  # "<5" cells stay text
    keys = [f"c{i}" for i in range(len(data.columns) - 1)]
    first, rest = data.columns[0], list(data.columns[1:])
    rows = []
    for rec in shown.to_dict("records"):
        row = {"label": "" if _missing(rec[first]) else level_text(rec[first]), "indent": 0, "bold": False}
        for key, col in zip(keys, rest):
            v = rec[col]
            row[key] = (format_p(v) if _P_COLUMN.match(str(col)) and not isinstance(v, str) else
                        "" if _missing(v) else str(v))
        rows.append(row)
    columns = {key: _heading(col) for key, col in zip(keys, rest)}
    return Table(title, columns, rows, df, _footnotes(paths, [abbreviations_in(*columns.values()), *footnotes]),
                 stub=_heading(first))


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


def manuscript_docx(tables_dir: Path, target: Path, names=MANUSCRIPT) -> Path | None:
    """One Word file with the manuscript tables written so far (`tables/<name>.json`), in `names` order,
    each with its title, header row (bold), indented levels and footnotes; None when there is none.
    No author, dates fixed, zip members dated 1980: the same tables give the same bytes."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
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
    for number, spec in enumerate(specs):
        if number:
            doc.add_page_break()
        heading = doc.add_paragraph()
        heading.add_run(spec["title"]).bold = True
        keys = list(spec["columns"])
        grid = doc.add_table(rows=1, cols=1 + len(keys))
        grid.style = "Table Grid"
        header = grid.rows[0].cells
        for cell, text in zip(header, [spec["stub"], *spec["columns"].values()]):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
        for row in spec["rows"]:
            cells = grid.add_row().cells
            paragraph = cells[0].paragraphs[0]
            paragraph.paragraph_format.left_indent = Cm(0.5 * int(row.get("indent", 0)))
            run = paragraph.add_run(str(row["label"]))
            run.bold = bool(row.get("bold"))
            for cell, key in zip(cells[1:], keys):
                cell.text = str(row.get(key, ""))
        for note in spec["footnotes"]:
            p = doc.add_paragraph(note)
            for run in p.runs:
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


def title_of(name: str) -> str:
    """A title from a file name: "os_by_response_medians" -> "Os by response medians"."""
    return _heading(name.replace("_", " "))


def write_frame(df: pd.DataFrame, name: str, paths: SimpleNamespace, title: str | None = None,
                footnotes=(), index: bool = False) -> pd.DataFrame:
    """`write(plain(df, title))` for a table that is not one of the paper's: the CSV as before, Markdown
    and HTML formatted; returns the frame as it may be displayed (counts below MIN_CELL suppressed)."""
    write(plain(df, title or title_of(name), paths, footnotes=footnotes, index=index), name, paths, index=index)
    return privacy.suppress_small_counts(df, _min_cell(paths))
