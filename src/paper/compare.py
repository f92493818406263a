"""Comparison with the paper: its printed numbers beside the ones computed here, in one place.

- Published numbers: `read_published`, `only_published`; each id in words: `describe` (read from the id's
  tokens with the vocabularies `PREFIXES`, `LEVELS`, `STATISTICS`, ...), `printed_in`, `in_words` (ids in a text).
- One number: `compare_value` (match at the printed precision; `formats.format_number` prints).
- A notebook's comparison table: `paper_vs_run` (writes `tables/paper_vs_run_<notebook>.csv`, returns the
  formatted table of `comparison_table`, titled with `notebook_title`), with the audit's reasons for numbers that contradict others (`inconsistent_published`, from `src.audit`).
- Table 2's printed p-values: `printed_categorical_tests`, `match_printed_p`.
- The scorecard: `read_paper_vs_run`, `build_scorecard`, `summarize_scorecard`, `write_scorecard`,
  `make_scorecard` (used by notebook 08 and by the runner); in words: `agreement_sentence`, `scorecard_by_part`,
  `granularity_table`.
- The audit in words (notebook 09): `findings_table`, `audit_summary_table`, `table2_tests_table`, `cox_table`
  and `directions_table` (the sorafenib HR as sorafenib vs other salvage, `inverse_footnotes`), `reading_table`,
  `audit_found`.

Place in the import order (tests/test_imports.py): above `helpers`, `survival`, `audit` and `tables`,
which it imports; below the runner and the notebooks, which import it.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from src.paper import audit
from src import privacy
from src.present import tables
from src.config import NOTEBOOKS_DIR, PUBLISHED_RESULTS, PUBLISHED_RESULTS_NAME, read_published_results  # noqa: F401
from src.formats import format_number, round_half_up
from src.privacy import published_results_path  # noqa: F401 (re-exported)
from src.stats.groups import CATEGORICAL_TESTS, categorical_p

PAPER_VS_RUN_PREFIX = "paper_vs_run_"
SCORECARD_COLUMNS = ["id", "source", "published", "reproduced", "status", "note"]
SCORECARD_STATUSES = ["match", "differs", "not reproducible", "not computed"]

Log = Callable[[str], None]


class ComparisonError(ValueError):
    """A paper_vs_run file that cannot be read (a missing column)."""


# --- published ids in words --------------------------------------------------------
# An id of published_results.csv is read token by token: its prefix says where the number is printed and what
# kind it is (PREFIXES), the tokens after it name a variable, a level, a group and a statistic (the vocabularies
# below). An id the vocabulary cannot read still reads in words (`_fallback`).

PREFIXES = {  # prefix -> where the paper prints it (the part of the scorecard)
    "flow": "Patient flow (Figure 1)", "t1": "Table 1", "m": "Methods", "r": "Response and toxicity (Results)",
    "os": "Overall survival (Results)", "t2": "Table 2", "spp": "Survival post-progression (Results)",
    "os38": "Survival post-progression (Results)", "t3": "Table 3"}
VARIABLES = audit.VARIABLES  # variable token(s) -> (words, unit)
LEVEL_AFTER = {"tnm", "bclc", "cp", "ps", "tumor_count", "tumor_size", "afp", "dcp"}  # "TNM stage II", not "TNM stage, II"
LEVELS = {"male": "male", "female": "female", "hbv": "hepatitis B", "hcv": "hepatitis C", "alcohol": "alcohol",
          "other": "other", "ii": "II", "iii": "III", "iva": "IVA", "ivb": "IVB", "a": "A", "b": "B", "c": "C",
          "0": "0", "1_2": "1-2", "resection": "resection", "rfa_pei": "RFA or PEI", "tace": "TACE",
          "tace_rfa": "TACE and RFA", "none": "none", "yes": "yes", "no": "no", "unilateral": "unilateral",
          "bilateral": "bilateral", "lt4": "<4", "ge4": "≥4", "lt50": "<50 mm", "ge50": "≥50 mm", "gt500": ">500"}
STATISTICS = {"median": "median", "mean": "mean", "min": "minimum", "max": "maximum", "p": "p", "n": "n",
              "pct": "%", "total": "total", "hr": "HR", "ci_low": "lower 95% confidence limit",
              "ci_high": "upper 95% confidence limit"}
GROUPS = {"sor": "sorafenib group", "oth": "other-salvage group", "all": "all patients",
          "dc": "disease-control group", "pd": "progressive-disease group"}
SALVAGE = {"sorafenib": "sorafenib", "other": "other salvage options", "haic": "continued HAIC",
           "uft": "tegafur-uracil", "bsc": "best supportive care"}
ERAS = {"2005_2008": "in 2005-2008", "from_2009": "from 2009", "before_2009": "before 2009"}
FLOW_BOXES = {"total": "Patients in the cohort", "disease_control": "Patients with disease control",
              "cp_excluded": "Patients excluded for a Child-Pugh score of 9 or more",
              "spp": "Patients in the survival post-progression cohort"}
RESPONSES = {"cr": "complete response", "pr": "partial response", "sd": "stable disease",
             "pd": "progressive disease", "ne": "not evaluated"}
TOXICITIES = {"nausea": "grade 3 nausea", "diarrhea": "grade 3 diarrhoea", "bilirubin": "grade 3-4 raised bilirubin",
              "ast": "grade 3-4 raised AST", "alt": "grade 3-4 raised ALT", "alp": "grade 3-4 raised ALP",
              "ggt": "grade 3-4 raised GGT", "hyperglycemia": "grade 3-4 hyperglycaemia",
              "thrombocytopenia": "grade 3-4 thrombocytopenia", "anemia": "grade 3-4 anaemia",
              "neutropenia": "grade 3-4 neutropenia"}
PLACES = re.compile(r"\b(Abstract|Methods|Results|Discussion|Table \d|Figure \d[AB]?)\b")


def _take(tokens: list[str], vocabulary: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The longest run of leading `tokens` that is a key of `vocabulary`, and the tokens left."""
    for i in range(len(tokens), 0, -1):
        key = "_".join(tokens[:i])
        if key in vocabulary:
            return key, tokens[i:]
    return None, tokens


def _take_last(tokens: list[str], vocabulary: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The longest run of trailing `tokens` that is a key of `vocabulary`, and the tokens before it."""
    for i in range(len(tokens)):
        key = "_".join(tokens[i:])
        if key in vocabulary:
            return key, tokens[:i]
    return None, tokens


def _subject(variable: str, level: str | None) -> str:
    """"tumour count ≥4", "sex, male", "AFP >500 ng/mL", "TNM stage II"."""
    words, unit = VARIABLES[variable]
    if level is None:
        return words
    lev = LEVELS[level]
    if variable in LEVEL_AFTER:
        return f"{words} {lev}" + (f" {unit}" if level.startswith("gt") and unit else "")
    return f"{words}, {lev}"


def _unit(variable: str, statistic: str | None) -> str:
    unit = VARIABLES[variable][1]
    return f" ({unit})" if unit and statistic in ("median", "mean", "min", "max") else ""


def _table_row(table: str, tokens: list[str], grouped: bool) -> str | None:
    """Table 1 and 2 ids: "<variable>[_<level>][_<statistic>][_<group>]"."""
    variable, rest = _take(tokens, VARIABLES)
    if variable is None:
        return None
    group = None
    if grouped:
        group, rest = _take_last(rest, GROUPS)
    statistic, rest2 = _take(rest, STATISTICS)
    level = None
    if statistic is None:
        level, rest2 = _take(rest, LEVELS)
        statistic = "n" if level is not None else None
    if rest2 or (level is None and statistic is None):
        return None
    parts = [_subject(variable, level)] + ([GROUPS[group]] if group else []) + [STATISTICS[statistic]]
    return f"{table}: " + ", ".join(parts) + _unit(variable, statistic)


def _read_t3(tokens: list[str]) -> str | None:
    """"uni_p_<factor>", "multi_<hr|ci_low|ci_high|p>_<factor>"."""
    kind, rest = _take(tokens, {"uni": "", "multi": ""})
    statistic, rest = _take(rest, STATISTICS)
    factor, rest = _take(rest, VARIABLES)
    if kind is None or statistic is None or factor is None or rest:
        return None
    name = VARIABLES[factor][0]
    if kind == "uni" and statistic == "p":
        return f"Table 3: univariate log-rank p, {name}"
    if statistic == "p":
        return f"Table 3: multivariable Cox p, {name}"
    if statistic == "hr":
        return f"Table 3: multivariable HR, {name}"
    return f"Table 3: multivariable HR, {name}, {STATISTICS[statistic]}" if statistic.startswith("ci") else None


def _read_m(tokens: list[str]) -> str | None:
    """"<variable>_<level>_pct": a percentage of the cohort in the Methods."""
    if tokens[-1:] != ["pct"]:
        return None
    variable, rest = _take(tokens[:-1], VARIABLES)
    level, rest = _take(rest, LEVELS)
    if variable is None or level is None or rest:
        return None
    return f"Methods: {_subject(variable, level)} (% of the cohort)"


def _read_r(tokens: list[str]) -> str | None:
    """Results on sessions, discontinuation, toxicity and response."""
    head, rest = tokens[:1], tokens[1:]
    if head == ["sessions"]:
        if rest == ["total"]:
            return "HAIC sessions, total"
        if len(rest) == 1 and rest[0] in STATISTICS:
            return f"HAIC sessions per patient, {STATISTICS[rest[0]]}"
        if len(rest) == 2 and rest[0].isdigit() and rest[1] in ("n", "pct"):
            k = int(rest[0])
            what = f"Patients with {k} HAIC session{'' if k == 1 else 's'}"
            return what + (", n" if rest[1] == "n" else " (% of the cohort)")
    if tokens == ["discontinued", "rash", "n"]:
        return "Patients who stopped HAIC because of a rash, n"
    if head == ["tox"] and rest[-1:] == ["pct"] and "_".join(rest[:-1]) in TOXICITIES:
        words = TOXICITIES["_".join(rest[:-1])]
        return f"{words[0].upper()}{words[1:]} (% of the cohort)"
    if head == ["response"] and len(rest) == 1 and rest[0] in RESPONSES:
        return f"Best response: {RESPONSES[rest[0]]}, n"
    if tokens == ["dcr", "pct"]:
        return "Disease-control rate (%)"
    return None


def _read_survival(endpoint: str, tokens: list[str]) -> str | None:
    """"median_<group>", "<k>y_pct", "logrank_p[_<group>_vs_<group>]", "over_os_median_<group>_pct"."""
    name = {"os": "overall survival", "spp": "SPP"}[endpoint]
    if tokens[:1] == ["median"] and len(tokens) == 2 and tokens[1] in GROUPS:
        group = tokens[1]
        who = {"sor": "sorafenib", "oth": "other salvage"}.get(group, GROUPS[group])
        return f"Median {name}, {who} (months)"
    if len(tokens) == 2 and re.fullmatch(r"\d+y", tokens[0]) and tokens[1] == "pct":
        return f"{tokens[0][:-1]}-year {name} (%)"
    if tokens[:2] == ["logrank", "p"]:
        rest = tokens[2:]
        if not rest:
            return f"{name[0].upper()}{name[1:]}, sorafenib vs other salvage: log-rank p"
        if len(rest) == 3 and rest[1] == "vs" and rest[0] in GROUPS and rest[2] in GROUPS:
            versus = {"dc": "disease control", "pd": "progressive disease"}
            return (f"{name[0].upper()}{name[1:]}, {versus.get(rest[0], GROUPS[rest[0]])} vs "
                    f"{versus.get(rest[2], GROUPS[rest[2]])}: log-rank p")
    if tokens == ["over", "os", "median", "sor", "pct"]:
        return "Median SPP as a share of median overall survival, sorafenib (%)"
    return None


def _read_flow(tokens: list[str], pid: str) -> str | None:
    """Figure 1's boxes and the Results' counts of the patient flow: "n_<box>" or "n_<option>[_<era>][_fig]"."""
    if tokens[:1] != ["n"]:
        return None
    rest = tokens[1:]
    figure = rest[-1:] == ["fig"]
    rest = rest[:-1] if figure else rest
    box, left = _take(rest, FLOW_BOXES)
    if box is not None and not left:
        text = FLOW_BOXES[box]
    else:
        if rest[:1] == ["other"] and len(rest) == 2 and rest[1] in SALVAGE:
            rest = rest[1:]
        option, left = _take(rest, SALVAGE)
        era, left = _take(left, ERAS)
        if option is None or left:
            return None
        text = f"Patients given {SALVAGE[option]} " + (ERAS[era] if era else "after progression")
    place = "Figure 1" if figure else _place(pid)
    return text + (f" ({place})" if place else "")


@lru_cache(maxsize=1)
def _sources() -> dict:
    """id -> source of the bundled `published_results.csv` (where each number is printed)."""
    path = PUBLISHED_RESULTS
    return dict(zip(*(lambda t: (t["id"], t["source"]))(read_published_results(path, dtype=str)))) if path.is_file() else {}


def _place(pid: str) -> str:
    """The place a number of the patient flow is printed: Figure 1 if it is one of its boxes, else the first place."""
    places = printed_in(_sources().get(pid, "")).split("; ")
    return next((p for p in ("Figure 1", "Results") if p in places), places[0])


def _fallback(pid: str) -> str:
    """Words for an id the vocabulary cannot read: its prefix's place, then each token in words."""
    prefix, _, rest = str(pid).partition("_")
    vocabulary = {**{k: v[0] for k, v in VARIABLES.items()}, **LEVELS, **STATISTICS, **GROUPS}
    tokens, words = rest.split("_") if rest else [], []
    while tokens:
        key, tokens2 = _take(tokens, vocabulary)
        words.append(vocabulary[key] if key else tokens[0])
        tokens = tokens2 if key else tokens[1:]
    if prefix in PREFIXES and words:
        return f"{PREFIXES[prefix]}: " + " ".join(words)
    text = " ".join([prefix, *words]).strip()
    return text[:1].upper() + text[1:]


def describe(pid: str) -> str:
    """A published number's id in words: "t2_tumor_count_ge4_sor" -> "Table 2: tumour count ≥4, sorafenib
    group, n"; "spp_median_sor" -> "Median SPP, sorafenib (months)". Read from the id's tokens with the
    vocabularies of this module; an id they cannot read still reads in words, without underscores."""
    prefix, _, rest = str(pid).partition("_")
    tokens = rest.split("_") if rest else []
    readers = {"t1": lambda t: _table_row("Table 1", t, grouped=False),
               "t2": lambda t: _table_row("Table 2", t, grouped=True),
               "t3": _read_t3, "m": _read_m, "r": _read_r,
               "os": lambda t: _read_survival("os", t), "spp": lambda t: _read_survival("spp", t),
               "os38": lambda t: ("Overall survival of the SPP cohort, sorafenib vs other salvage: log-rank p"
                                  if t == ["logrank", "p"] else None),
               "flow": lambda t: _read_flow(t, pid)}
    text = readers[prefix](tokens) if prefix in readers and tokens else None
    return text or _fallback(pid)


def printed_in(source: str) -> str:
    """Where the paper prints a number, from the `source` of published_results.csv: "Table 3, multivariate
    Cox, Ascites, p; Abstract" -> "Table 3; Abstract" (the places only, each once)."""
    places = list(dict.fromkeys(PLACES.findall(str(source))))
    return "; ".join(places) if places else str(source).replace("_", " ")


_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def in_words(text, ids=None) -> str:
    """`text` with every published id in it in words (`describe`): "t2_pvtt_yes_oth=5" -> "Table 2: portal
    vein tumour thrombosis, yes, other-salvage group, n = 5". `ids`: the ids to replace (default: those of the
    bundled published_results.csv); other words with underscores are left as they are."""
    known = set(_sources()) if ids is None else set(ids)
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    text = re.sub(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)=", lambda m: f"{describe(m.group(1))} = " if m.group(1) in known
                  else m.group(0), text)
    return _ID.sub(lambda m: describe(m.group(0)) if m.group(0) in known else m.group(0), text)


# --- published numbers -------------------------------------------------------------

def read_published(paths: SimpleNamespace) -> pd.DataFrame | None:
    """The paper's printed numbers (`published_results.csv`), or None for other data."""
    if paths.published is None:
        return None
    return read_published_results(paths.published)


def only_published(values: dict, paths: SimpleNamespace) -> dict:
    """Keep the entries of `values` whose ids are in `published_results.csv` (for
    families of numbers, e.g. one per category, where the data may have
    categories the paper did not print); all of them when there is no such file."""
    published = read_published(paths)
    if published is None:
        return dict(values)
    return {k: v for k, v in values.items() if k in set(published["id"])}


def compare_value(published: str, relation: str, decimals: int, reproduced) -> str:
    """'match' if `reproduced`, printed at `decimals`, equals `published` (or satisfies
    `relation` '<'), 'differs' otherwise, 'not computed' if it is missing."""
    if reproduced is None or (isinstance(reproduced, float) and np.isnan(reproduced)):
        return "not computed"
    if relation == "<":
        return "match" if float(reproduced) < float(published) else "differs"
    return "match" if round_half_up(reproduced, decimals) == Decimal(published) else "differs"


def inconsistent_published(paths: SimpleNamespace) -> dict:
    """Published ids that contradict other printed numbers -> the audit's reason (`src.audit`)."""
    return audit.unreproducible(audit.published_by_id(paths.published))


AGREEMENT = {"match": "Match", "differs": "Differs", "not reproducible": "Not reproducible",
             "not computed": "Not computed"}  # status of the CSV -> the word a reader sees
COMPARISON_FOOTNOTE = ("Match: equal at the printed precision (the value of this run rounded half up to the paper's "
                       "decimals). Not reproducible: the printed number contradicts other printed numbers, so no "
                       "cohort can match them all (notebook 09 gives the reason).")


def notebook_title(notebook: str) -> str:
    """A notebook's title in words, from its first heading ("# 04 · Overall survival (reproduces ...)" ->
    "Overall survival"); from its name when it has none ("04_overall_survival" -> "Overall survival")."""
    path = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    if path.is_file():
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            text = "".join(cell.get("source", ""))
            match = re.match(r"#\s+(?:\d+\s*·\s*)?(.+)", text) if cell.get("cell_type") == "markdown" else None
            if match:
                return re.sub(r"\s*\(.*\)\s*$", "", match.group(1).splitlines()[0]).strip()
    words = re.sub(r"^\d+_", "", str(notebook)).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _shown_value(value, statistic: str = "", relation: str = "=") -> str:
    """A printed or reproduced value as a reader sees it: "" for nothing, "<0.001" for a p below the last
    printed digit ("0.000" reads "<0.001")."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).lower() in ("", "nan"):
        return ""
    text = str(value)
    if statistic == "p_value" and re.fullmatch(r"0\.0*", text):
        return "<" + text[:-1] + "1"
    return text


def comparison_table(frame: pd.DataFrame, title: str, paths: SimpleNamespace | None = None,
                     columns: Sequence[str] = ("Published number", "Printed in", "Paper", "This run", "Agreement",
                                               "Note"), footnotes=()) -> tables.Table:
    """A paper-vs-run frame (or scorecard rows: `id`, `source`, `published`, `reproduced`, `status`, `note`)
    as a reader sees it: the number in words (`describe`), where it is printed (`printed_in`), the paper's
    and this run's values, the agreement in words, the note with every id in words. `columns` picks the
    printed columns; `.data` keeps the frame (the CSV)."""
    statistics = {}
    if paths is not None and getattr(paths, "published", None) is not None:
        published = read_published(paths)
        statistics = dict(zip(published["id"], published["statistic"]))
    ids = set(_sources()) | set(frame.get("id", []))
    shown = pd.DataFrame({
        "Published number": [describe(i) for i in frame["id"]],
        "Printed in": [printed_in(s) for s in frame.get("source", [""] * len(frame))],
        "Paper": [_shown_value(v) for v in frame.get("published", [""] * len(frame))],
        "This run": [_shown_value(v, statistics.get(i, "p_value" if str(i).endswith("_p") else ""))
                     for i, v in zip(frame["id"], frame.get("reproduced", [""] * len(frame)))],
        "Agreement": [AGREEMENT.get(str(s), str(s).capitalize()) for s in frame.get("status", [""] * len(frame))],
        "Note": [in_words(n, ids) for n in frame.get("note", [""] * len(frame))]})
    table = tables.plain(shown[list(columns)].reset_index(drop=True), title, paths,
                         footnotes=[COMPARISON_FOOTNOTE if "Agreement" in columns else "", *footnotes])
    table.data = frame
    return table


def paper_vs_run(reproduced: dict, notebook: str, paths: SimpleNamespace) -> tables.Table | None:
    """Set each reproduced number beside the published one and save the table.

    `reproduced` maps ids of `published_results.csv` to values computed in the
    notebook. Status: `match` at the printed precision, `differs`, or `not
    reproducible` when it differs and the audit shows the printed number
    contradicts others (the reason goes to `note`). Writes
    `tables/paper_vs_run_<notebook>.csv` (read by the runner for the scorecard: columns id, source,
    published, reproduced, status, note) and its Markdown and HTML in words (`comparison_table`), and
    returns the formatted table (Jupyter displays it; `.data` is the CSV's frame); returns None when the
    data folder has no published results (a researcher's own cohort).
    """
    published = read_published(paths)
    if published is None:
        return None
    unknown = set(reproduced) - set(published["id"])
    if unknown:
        raise KeyError(f"ids not in published_results.csv: {sorted(unknown)}")
    rows = published[published["id"].isin(reproduced)].copy()
    rows["reproduced"] = [format_number(reproduced[i], d) for i, d in zip(rows["id"], rows["decimals"])]
    rows["status"] = [compare_value(v, r, d, reproduced[i])
                      for i, v, r, d in zip(rows["id"], rows["value"], rows["relation"], rows["decimals"])]
    rows["published"] = np.where(rows["relation"].eq("<"), "<" + rows["value"], rows["value"])
    reasons = inconsistent_published(paths)
    rows["note"] = rows["id"].map(reasons).fillna("")
    rows.loc[rows["status"].eq("differs") & rows["note"].ne(""), "status"] = "not reproducible"
    frame = rows[["id", "source", "published", "reproduced", "status", "note"]].reset_index(drop=True)
    table = comparison_table(frame, f"Paper vs this run: {notebook_title(notebook)}", paths)
    return tables.write(table, f"{PAPER_VS_RUN_PREFIX}{notebook}", paths)


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """"1 number", "5 numbers" (never "number(s)")."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def agreement_sentence(statuses: Sequence[str], what: str = "printed number") -> str:
    """"238 of 253 printed numbers reproduced, 5 differ, 10 cannot be reproduced" (a part that is 0 is left
    out; "1 differs" / "5 differ")."""
    counts = Counter(str(s) for s in statuses)
    n = sum(counts.values())
    text = f"{counts.get('match', 0)} of {plural(n, what)} reproduced"
    parts = [(counts.get("differs", 0), "differs", "differ"),
             (counts.get("not reproducible", 0), "cannot be reproduced", "cannot be reproduced"),
             (counts.get("not computed", 0), "was not computed", "were not computed")]
    return text + "".join(f", {k} {one if k == 1 else many}" for k, one, many in parts if k)


# --- Table 2's printed p-values ---------------------------------------------------

def printed_categorical_tests(published: pd.DataFrame, prefix: str, group_tokens) -> pd.DataFrame:
    """`categorical_tests` recomputed on the counts the paper printed.

    Reads the count ids `<prefix>_<variable>_<level>_<group token>` of
    `published_results.csv` (group tokens in row order, e.g. ["sor", "oth"];
    levels in file order) and applies every categorical test to each table.
    Column `totals` shows the printed counts added up per group.
    """
    counts = published[published["statistic"].eq("count") & published["id"].str.startswith(prefix + "_")]
    rows = {}
    for pid, value in zip(counts["id"], counts["value"]):
        stem, group = pid[len(prefix) + 1:].rsplit("_", 1)
        if group in group_tokens:
            rows.setdefault(stem, {})[group] = int(float(value))
    tables = {}
    for stem, by_group in rows.items():
        variable, level = _split_stem(stem, rows)
        tables.setdefault(variable, {})[level] = [by_group.get(g, 0) for g in group_tokens]
    out = []
    for variable, levels in tables.items():
        t = np.array(list(levels.values())).T  # groups x levels
        out.append({"variable": variable, "table": " | ".join("/".join(map(str, r)) for r in t),
                    "totals": " | ".join(str(int(n)) for n in t.sum(axis=1)),
                    **{test: categorical_p(t, test) for test in CATEGORICAL_TESTS}})
    return pd.DataFrame(out)


def _split_stem(stem: str, stems) -> tuple[str, str]:
    """Split "tumor_count_lt4" into ("tumor_count", "lt4"): the variable is the
    longest prefix shared by at least two stems (every variable has two or more levels)."""
    parts = stem.split("_")
    for i in range(len(parts) - 1, 0, -1):
        variable = "_".join(parts[:i])
        if sum(s.startswith(variable + "_") for s in stems) >= 2:
            return variable, "_".join(parts[i:])
    return parts[0], "_".join(parts[1:])


def match_printed_p(tests: pd.DataFrame, published: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Beside each row of `categorical_tests`, the printed p (id `<prefix>_<variable>_p`)
    and, per test, "match" if its p printed at the paper's decimals equals it."""
    pub = published.set_index("id")
    out = tests.copy()
    ids = [f"{prefix}_{v}_p" for v in out["variable"]]
    out["printed p"] = [pub.at[i, "value"] if i in pub.index else "" for i in ids]
    for test in CATEGORICAL_TESTS:
        out[f"{test} reproduces"] = [
            compare_value(pub.at[i, "value"], pub.at[i, "relation"], int(pub.at[i, "decimals"]), p)
            if i in pub.index else "not printed" for i, p in zip(ids, out[test])]
    return out


# --- the scorecard ----------------------------------------------------------------

def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (dictionaries of strings, kept verbatim) of a CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_paper_vs_run(tables_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Read every ``paper_vs_run_<notebook>.csv`` of *tables_dir*.

    Returns ``{notebook stem: rows}`` in numeric notebook order.  Raises
    :class:`ComparisonError` if a file lacks the ``id`` or ``status`` column.
    """
    reports = {}
    for path in sorted(tables_dir.glob(f"{PAPER_VS_RUN_PREFIX}*.csv")):
        header, rows = _read_csv(path)
        missing = [column for column in ("id", "status") if column not in header]
        if missing:
            raise ComparisonError(f"{path.name} lacks column(s) {', '.join(missing)}")
        reports[path.stem[len(PAPER_VS_RUN_PREFIX):]] = rows
    return reports


def _index_reports(reports: Mapping[str, list[dict[str, str]]]) -> dict[str, dict[str, dict[str, str]]]:
    """``{id: {notebook: row}}``, keeping the first row of an id within a notebook."""
    index: dict[str, dict[str, dict[str, str]]] = {}
    for notebook, rows in reports.items():
        for row in rows:
            index.setdefault(row["id"], {}).setdefault(notebook, row)
    return index


def _scorecard_row(published: Mapping[str, str], reported: Mapping[str, dict[str, str]]) -> dict[str, str]:
    """The scorecard row of one published number, given who reported it."""
    expected = published.get("notebook") or ""
    if not reported:
        where = f" (expected from {expected})" if expected else ""
        return {
            "id": published["id"],
            "source": published.get("source") or "",
            "published": published.get("value") or "",
            "reproduced": "",
            "status": "not computed",
            "note": f"no notebook reported this number{where}",
        }
    row = reported.get(expected) or next(iter(reported.values()))
    result = {column: row.get(column) or "" for column in SCORECARD_COLUMNS}
    result["id"] = published["id"]
    result["source"] = result["source"] or published.get("source") or ""
    result["published"] = result["published"] or published.get("value") or ""
    return result


def build_scorecard(
    published_rows: Sequence[Mapping[str, str]] | None,
    reports: Mapping[str, list[dict[str, str]]],
) -> tuple[list[dict[str, str]], list[str]]:
    """Merge the notebooks' reports into one row per published number.

    Rows follow *published_rows* order; an id is taken from the notebook named
    in its ``notebook`` column when that notebook reported it, else from the
    first notebook (numeric order) that did; an id nobody reported gets status
    ``not computed``.  Without *published_rows*, every reported row is kept.
    Returns ``(rows, reported ids missing from the published list)``.
    """
    index = _index_reports(reports)
    if published_rows is None:
        rows = [_scorecard_row({"id": id_}, by_notebook) for id_, by_notebook in index.items()]
        return rows, []
    rows = [_scorecard_row(published, index.get(published["id"], {})) for published in published_rows]
    known = {published["id"] for published in published_rows}
    return rows, [id_ for id_ in index if id_ not in known]


def summarize_scorecard(rows: Sequence[Mapping[str, str]]) -> str:
    """``scorecard: 230 match, 10 differs, 13 not reproducible, 0 not computed``."""
    counts = Counter(row["status"] for row in rows)
    parts = [f"{counts.pop(status, 0)} {status}" for status in SCORECARD_STATUSES]
    parts += [f"{count} {status!r} (unknown status)" for status, count in sorted(counts.items())]
    return "scorecard: " + ", ".join(parts)


def write_scorecard(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """Write the scorecard rows as CSV with :data:`SCORECARD_COLUMNS`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SCORECARD_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def make_scorecard(build: Path, published_path: Path | None, log: Log = print) -> str | None:
    """Write ``build/scorecard.csv`` if any notebook wrote a paper_vs_run file.

    Returns the summary line (also logged), or None when there was nothing
    to score.
    """
    reports = read_paper_vs_run(build / "tables")
    if not reports:
        return None
    published = _read_csv(published_path)[1] if published_path is not None and published_path.is_file() else None
    rows, unknown = build_scorecard(published, reports)
    write_scorecard(build / "scorecard.csv", rows)
    if unknown and published_path is not None:
        log(f"warning: {len(unknown)} reported id(s) not in {published_path.name}: {', '.join(unknown)}")
    summary = summarize_scorecard(rows)
    log(summary)
    return summary


# --- the scorecard and the audit, as a reader sees them (notebooks 08 and 09) --------

def _yes_no(value) -> str:
    return "Yes" if bool(value) else "No"


def _formatted(shown: pd.DataFrame, data: pd.DataFrame, title: str, paths=None, footnotes=(),
               name: str | None = None) -> tables.Table:
    """`shown` (columns and cells already in words) as a formatted table whose `.data` is `data`; written as
    `tables/<name>.*` when a name is given (the CSV keeps `data`)."""
    table = tables.plain(shown.reset_index(drop=True), title, paths, footnotes=footnotes)
    table.data = data
    return tables.write(table, name, paths) if name else table


def scorecard_by_part(rows: pd.DataFrame, title: str = "Published numbers by part of the paper",
                      paths=None) -> tables.Table:
    """How many numbers of each part of the paper (`PREFIXES`, from the ids) match, differ or cannot be
    reproduced."""
    part = rows["id"].map(lambda i: PREFIXES.get(str(i).split("_")[0], "Other"))
    counts = pd.crosstab(part, rows["status"]).reindex(columns=SCORECARD_STATUSES, fill_value=0)
    order = list(dict.fromkeys(PREFIXES.values()))
    counts = counts.loc[sorted(counts.index, key=lambda p: order.index(p) if p in order else len(order))]
    shown = pd.DataFrame({"Part of the paper": counts.index,
                          **{AGREEMENT[s]: counts[s].astype(int).astype(str).tolist() for s in SCORECARD_STATUSES},
                          "Numbers": counts.sum(axis=1).astype(int).astype(str).tolist()})
    return _formatted(shown, counts.reset_index(), title, paths,
                      footnotes=[COMPARISON_FOOTNOTE])


def granularity_table(granularity: pd.DataFrame, title: str, paths=None, name: str | None = None) -> tables.Table:
    """`reconstruct.move_granularity`'s table with each number in words and "Yes"/"No" for matched."""
    g = granularity.reset_index(drop=True)
    shown = pd.DataFrame({
        "Published number": [describe(i) for i in g["id"]],
        "Paper": [_shown_value(v) for v in g["published"]],
        "This run": [_shown_value(v) for v in g["this run"]],
        "Matched": [_yes_no(v) for v in g["matched"]],
        "Steps that change it": [f"{int(c)} of {int(m)}" for c, m in zip(g["moves that change it"], g["moves"])],
        "Smallest change (last digits)": [f"{v:.3f}" for v in g["smallest change (last digits)"]],
        "Median change (last digits)": [f"{v:.1f}" for v in g["median change (last digits)"]],
        "Steps after which it matches": [str(int(v)) for v in g["moves after which it matches"]]})
    return _formatted(shown, granularity, title, paths, name=name,
                      footnotes=["A step is one of the smallest changes the reconstruction's local search makes; a "
                                 "change is counted in units of the number's last printed digit."])


CHECK_GROUP_WORDS = {"numbers": "Numbers", "tests": "Tests", "directions": "Directions of hazard ratios",
                     "survival": "Survival", "plausibility": "Plausibility", "claims": "Claims of the text",
                     "labels": "Labels and units"}
FINDING_COLUMNS = {  # column of a finding -> (header, how a cell reads)
    "check": ("What is checked", audit.check_label),
    "ids": ("Printed numbers involved", lambda ids: "; ".join(describe(i) if "_" in i else i
                                                               for i in str(ids).split(";") if i)),
    "printed": ("Printed", in_words),
    "implied": ("Implied by the other printed numbers", in_words),
    "consistent": ("Consistent", _yes_no),
    "reason": ("Why", in_words),
    "correction": ("Reading followed", in_words)}


def findings_table(findings: pd.DataFrame, title: str, paths=None, columns=("check", "printed", "implied",
                   "consistent", "reason"), footnotes=(), name: str | None = None) -> tables.Table:
    """Findings of `src.audit` as a reader sees them: `columns` of the findings (keys of `FINDING_COLUMNS`), each
    with its header in words, ids in words, "Yes"/"No" for consistent."""
    shown = pd.DataFrame({FINDING_COLUMNS[c][0]: pd.Series([FINDING_COLUMNS[c][1](v) for v in findings[c]], dtype=object)
                          for c in columns})
    return _formatted(shown, findings, title, paths, footnotes=footnotes, name=name)


def audit_summary_table(summary: pd.DataFrame, title: str, paths=None, name: str | None = None) -> tables.Table:
    """`audit.summary_by_check` in words: kind of check, what is checked, findings, inconsistent."""
    shown = pd.DataFrame({"What is checked": summary["what is checked"],
                          "Kind of check": summary["group"].map(lambda g: CHECK_GROUP_WORDS.get(g, str(g))),
                          "Findings": summary["findings"].astype(int).astype(str),
                          "Inconsistent": summary["inconsistent"].astype(int).astype(str)})
    return _formatted(shown, summary, title, paths, name=name)


def table2_tests_table(tests: pd.DataFrame, title: str, paths=None, name: str | None = None) -> tables.Table:
    """`audit.table2_tests` in words: the row of Table 2, which counts, the counts per group, the printed p and
    the p of each test (as journals print them)."""
    def counts(table) -> str:
        return "; ".join(f"{g} {'/'.join(map(str, row))}" for g, row in zip(("sorafenib", "other salvage"), table))

    shown = pd.DataFrame({
        "Row of Table 2": [VARIABLES[v][0][:1].upper() + VARIABLES[v][0][1:] if v in VARIABLES else str(v)
                           for v in tests["variable"]],
        "Counts": [f"{c} ({counts(t)})" for c, t in zip(tests["counts"], tests["table"])],
        "Printed p": [str(p) for p in tests["p_printed"]],
        **{f"{audit.TEST_SHORT[t][:1].upper()}{audit.TEST_SHORT[t][1:]} p": [tables.format_p(v) for v in tests[t]]
           for t in audit.TEST_NAMES}})
    return _formatted(shown, tests.round(4), title, paths, name=name,
                      footnotes=["Counts: level 1/level 2 of the row in each group, as printed or with the one "
                                 "patient a group lacks added where exactly one completion gives the printed p."])


def _hr_text(hr, low, high) -> str:
    return f"{hr:.3f} ({low:.3f}{tables.EN_DASH}{high:.3f})"


def cox_table(pub: pd.DataFrame, title: str, paths=None) -> tables.Table:
    """Table 3's multivariable Cox model as printed, in one direction (`audit.cox_in_one_direction`): the
    sorafenib HR as sorafenib vs other salvage (the paper printed the inverse, said in a footnote), the printed p
    beside the Wald p its HR and CI imply."""
    cox = audit.cox_in_one_direction(pub)
    shown = pd.DataFrame({
        "Factor (direction)": cox["factor"],
        "HR (95% CI)": [_hr_text(h, lo, hi) for h, lo, hi in zip(cox["hr"], cox["ci_low"], cox["ci_high"])],
        "Geometric mean of the limits": [f"{np.sqrt(lo * hi):.3f}" for lo, hi in zip(cox["ci_low"], cox["ci_high"])],
        "Printed p": cox["printed_p"],
        "Wald p from HR and CI": [f"{p:.3f} ({lo:.4f}{tables.EN_DASH}{hi:.4f})" for p, lo, hi in
                                  zip(cox["wald_p"], cox["wald_p_low"], cox["wald_p_high"])],
        "Printed p fits": [_yes_no(k not in set(audit.cox_p_misfits(pub)["key"])) for k in cox["key"]]})
    inverted = cox[cox["inverted"]]
    notes = ["HR: hazard ratio of the first level against the second, as printed in Table 3 (three decimals); "
             "below 1 favours the first level. Wald p: two-sided, from z = ln HR / SE with SE = (ln upper - ln "
             "lower)/(2 × 1.96); in brackets, its range over the values that print as the printed HR and limits."]
    return _formatted(shown, cox, title, paths, footnotes=notes + inverse_footnotes(pub))


def inverse_footnotes(pub: pd.DataFrame) -> list[str]:
    """One footnote per hazard ratio the project reports as the inverse of the printed one (the sorafenib HR:
    reported as sorafenib vs other salvage, printed as its inverse)."""
    cox = audit.cox_in_one_direction(pub)
    return [f"{r.factor}: HR {_hr_text(r.hr, r.ci_low, r.ci_high)}. The paper printed the inverse, "
            f"{_hr_text(float(r.printed_hr), float(r.printed_ci_low), float(r.printed_ci_high))}, labelled "
            f"'{r.printed_label}', which only agrees with its text as other salvage vs sorafenib (notebook 06); "
            "inverted here (1/HR, limits 1/upper to 1/lower), its p unchanged." for r in cox[cox["inverted"]].itertuples()]


def directions_table(pub: pd.DataFrame, title: str, paths=None) -> tables.Table:
    """Each factor of Table 3's multivariable model: the label the paper prints, what the text says does better,
    the printed HR, and the direction in which the project reports it, with the HR in that direction."""
    cox = audit.cox_in_one_direction(pub).set_index("key")
    rows = []
    for key, lab in audit.HR_LABELS.items():
        if key not in cox.index:
            continue
        r = cox.loc[key]
        rows.append({"Factor as printed": lab["label"].replace(">=", "≥").replace("<=", "≤"),
                     "What the text says": lab["text"],
                     "HR as printed (95% CI)": _hr_text(float(r["printed_hr"]), float(r["printed_ci_low"]),
                                                        float(r["printed_ci_high"])),
                     "Reported as": lab.get("shown", lab["label"]),
                     "HR as reported (95% CI)": _hr_text(r["hr"], r["ci_low"], r["ci_high"])})
    notes = ["Reported as: the direction in which the printed HR agrees with the text (notebook 06). The sorafenib HR "
             "is reported as sorafenib vs other salvage, the inverse of the printed one (1/HR, limits 1/upper to "
             "1/lower); inverting a hazard ratio leaves its p unchanged."]
    shown = pd.DataFrame(rows, columns=["Factor as printed", "What the text says", "HR as printed (95% CI)",
                                        "Reported as", "HR as reported (95% CI)"])
    return _formatted(shown, cox.reset_index(), title, paths, footnotes=notes)


def reading_table(pub: pd.DataFrame, title: str, paths=None, name: str | None = None) -> tables.Table:
    """`audit.reading_table` in words: each number the reconstruction reads differently from the print."""
    reading = audit.reading_table(pub)
    shown = pd.DataFrame({"Published number": [describe(i) for i in reading["id"]],
                          "Printed": reading["printed"],
                          "Followed": [str(v)[:1].upper() + str(v)[1:] for v in reading["followed"]],
                          "Why": [in_words(r) for r in reading["reason"]]})
    return _formatted(shown, reading, title, paths, name=name)


def audit_found(findings: pd.DataFrame, pub: pd.DataFrame) -> str:
    """What the audit found, in Markdown and in words: the count of findings, one bullet per inconsistent
    finding, and the sentence on the printed Cox p-values (`audit.cox_p_sentence`)."""
    text = audit.found_markdown(findings, words=in_words)
    cox = audit.cox_p_sentence(pub) if len(pub) else ""
    return text + (f"\n- **In short, on the Cox model**: {cox}." if cox else "")
