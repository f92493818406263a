"""The paper's tables: Table 1 (baseline), Table 2 (at progression), Table 3 (prognostic factors) and the
appraisal table, each as a `Table` laid out as the journal prints it.

- `table1` from tableone's output: a bold row per variable, its levels indented ("50 (74.6%)"),
  "median (range)" for continuous values, N in the header;
- `table2` from `survival.compare_groups`: the same per salvage group, with each variable's p-value and
  a footnote naming the tests;
- `table3` from `survival.table3`: each factor's log-rank p, its levels with N and events, one
  "HR (95% CI)" column against the reference level, the multivariable Cox p;
- `appraisal_table`: one row per analysis of notebook 07, labelled in words (`appraisal_label`,
  `APPRAISAL_LABELS`, `APPRAISAL_FACTORS`), "estimate (95% CI)", p, N and a note.

Counts from 1 to MIN_CELL - 1 read "<MIN_CELL"; on the bundled cohort each table says the data are synthetic.
`src/present/tables.py` writes them (`tables.write`).

Place in the import order: above `src/present/journal_table.py` and `src/present/wording.py`.
"""
from __future__ import annotations

import re

import pandas as pd

from src.formats import format_p
from src.formats import is_missing as _missing
from src.present.journal_table import Table, footnotes_for, group_header, min_cell_of, suppress_rows
from src.present.wording import (DASH, EN_DASH, abbreviations_in, format_estimate, format_hr, heading, labels,
                                 level_text, n_percent, reader_text)

_TABLEONE_VARIABLE = re.compile(r"^(?P<label>.*?), (?P<stat>n \(%\)|mean \[min,max\]|median \[min,max\]|"
                                r"mean \(SD\)|median \[Q1,Q3\])$")


def _count_cell(text: str) -> str:
    """"50 (74.6)" -> "50 (74.6%)" (the form privacy's count cells take, with its percent sign)."""
    return re.sub(r"^(\s*\d+ \(\d+(?:\.\d+)?)\)\s*$", r"\1%)", str(text))


def table1(t1: pd.DataFrame, n: int, title: str, paths=None, group: str = "All patients",
           footnotes=()) -> Table:
    """Table 1 from tableone's output reset to columns (Variable, Category, value): a bold row per
    variable, its levels indented ("50 (74.6%)"), "median (range)" for continuous values, N in the header."""
    min_cell = min_cell_of(paths)
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
    rows = suppress_rows(rows, ["v"], min_cell)
    notes = ["Values are n (%) unless stated otherwise" + (
        "; continuous values as " + ", ".join(sorted(s for s in stats if s and s != "n (%)")) if stats - {"n (%)", ""}
        else "") + ".", abbreviations_in(*(r["label"] for r in rows)), *footnotes]
    return Table(title, {"v": group_header(group, n, min_cell)}, rows, t1, footnotes_for(paths, notes))


def table2(long: pd.DataFrame, groups, title: str, paths=None, group_n: dict | None = None, digits: dict | None = None,
           names: dict | None = None, csv_frame: pd.DataFrame | None = None, footnotes=()) -> Table:
    """Table 2 from `survival.compare_groups`' long table: a bold row per variable with its p-value,
    levels indented with "n (%)" per group, continuous values as "median (range)"; N in each header."""
    min_cell = min_cell_of(paths)
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
    rows = suppress_rows(rows, keys, min_cell)
    columns = {str(g): group_header(level_text(g), group_n.get(g), min_cell) for g in groups}
    columns["p"] = "p-value"
    notes = ["n (%) of the group; median (range) for continuous values.",
             "p-values: " + "; ".join(tests) + "." if tests else "",
             abbreviations_in(*(r["label"] for r in rows)), *footnotes]
    return Table(title, columns, rows, csv_frame if csv_frame is not None else long, footnotes_for(paths, notes))


def table3(t3: pd.DataFrame, title: str, paths=None, event: str = "deaths", footnotes=()) -> Table:
    """Table 3 from `survival.table3` (factor, levels, n, events, univariate p, comparison, hr, ci_low,
    ci_high, multivariable p): a bold row per factor with its log-rank p and Cox p, its levels indented
    with N and events, one "HR (95% CI)" column (the compared level against the reference level,
    "1 (reference)"), "—" for factors not entered in the model."""
    min_cell = min_cell_of(paths)
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
    rows = suppress_rows(rows, ["n", "events"], min_cell)
    columns = {"n": "N", "events": event.capitalize(), "uni_p": "Log-rank p", "hr": "HR (95% CI)",
               "multi_p": "Cox p"}
    notes = ["Log-rank p: univariate log-rank test of each factor. HR (95% CI) and Cox p: multivariable Cox "
             "proportional-hazards model (Efron ties, Wald test and interval), each HR of its level against the "
             f"level marked 1 (reference); {DASH}: factor not entered in the model.",
             abbreviations_in("HR CI", *(r["label"] for r in rows)), *footnotes]
    return Table(title, columns, rows, t3, footnotes_for(paths, notes), stub="Factor")


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
    return heading(key)


def appraisal_table(table: pd.DataFrame, title: str, paths=None, footnotes=()) -> Table:
    """The appraisal table (analysis, estimate, ci_low, ci_high, p, n, note) as printed: one row per analysis
    labelled in words (`appraisal_label`; the CSV keeps the ids), "estimate (95% CI)" at two decimals
    (`format_estimate`: a median or limit never reached reads NR), p formatted."""
    min_cell = min_cell_of(paths)
    rows = []
    for rec in table.to_dict("records"):
        cell = format_estimate(rec.get("estimate"), rec.get("ci_low"), rec.get("ci_high"))
        n = rec.get("n")
        rows.append({"label": appraisal_label(rec["analysis"]), "indent": 0, "bold": False, "estimate": cell,
                     "p": format_p(rec.get("p")), "n": "" if _missing(n) else str(int(float(n))),
                     "note": "" if _missing(rec.get("note")) else reader_text(rec["note"])})
    rows = suppress_rows(rows, ["n"], min_cell)
    columns = {"estimate": "Estimate (95% CI)", "p": "p-value", "n": "N", "note": "Note"}
    notes = ["One row per analysis of the appraisal; the estimate's scale (hazard ratio, difference in months, "
             "E-value, SMD) is given by the analysis and its note.",
             abbreviations_in("CI", *(r["label"] + " " + r["note"] for r in rows)), *footnotes]
    return Table(title, columns, rows, table, footnotes_for(paths, notes), stub="Analysis")

