"""The study's design has one home (`src/study.py`): the notebooks' parameter defaults that repeat it
(ERA_START in 01 and 07, the Table 3 cut-offs and the paper's model in 06 and 07) are equal to it, and
every module that once held a copy reads it from there."""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from src.paper import audit
from src import config, study, validate
from src.synthetic import design, ensemble, truth
from src.course import selfcheck
from src.stats import groups, survival

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# notebook parameter -> column of study.TABLE3_CUTOFFS
CUTOFF_PARAMETERS = {"AGE_CUTOFF": "age", "PLATELET_CUTOFF": "platelets", "ALBUMIN_CUTOFF": "albumin",
                     "BILIRUBIN_CUTOFF": "total_bilirubin", "PROTHROMBIN_CUTOFF": "prothrombin_activity",
                     "ALT_CUTOFF": "alt", "AST_CUTOFF": "ast", "AFP_CUTOFF": "afp", "DCP_CUTOFF": "dcp"}


def parameters(stem: str) -> dict:
    """The defaults of a notebook's cell tagged `parameters` (literal assignments, parsed, not run)."""
    path = next(NOTEBOOKS.glob(f"{stem}_*.ipynb"))
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: one cell tagged parameters"
    out = {}
    for node in ast.parse("".join(cells[0]["source"])).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


@pytest.mark.parametrize("stem", ["01", "07"])
def test_era_start_defaults_are_the_studys(stem):
    assert parameters(stem)["ERA_START"] == study.ERA_START


@pytest.mark.parametrize("stem", ["06", "07"])
def test_table3_cutoff_defaults_are_the_studys(stem):
    found = parameters(stem)
    assert {column: found[name] for name, column in CUTOFF_PARAMETERS.items()} == study.TABLE3_CUTOFFS


def test_table2_tumour_cutoff_defaults_are_those_of_the_printed_ids():
    # notebook 05 splits the tumour count and size at its defaults; the ids of published_results.csv name the
    # levels by the paper's cut-offs ("lt4" / "ge4", "lt50" / "ge50"; src/study.py TABLE2_ROWS)
    found = parameters("05")
    for key, name in (("tumor_count", "TUMOR_COUNT_CUTOFF"), ("tumor_size", "TUMOR_SIZE_CUTOFF_MM")):
        assert study.TABLE2_ROWS[key][2] == (f"lt{found[name]}", f"ge{found[name]}")


def test_the_papers_model_is_the_default_of_06_and_07():
    assert parameters("06")["PAPER_MODEL"] == list(study.PAPER_MODEL)
    assert parameters("07")["ADJUST_FOR"] == [k for k in study.PAPER_MODEL if k != "sorafenib"]


def test_the_parameter_reader_sees_a_changed_default(tmp_path, monkeypatch):
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                     "source": ["ERA_START = '2010-01-01'  # moved\n", "X = [1, 2]\n"]}]}
    (tmp_path / "99_x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "NOTEBOOKS", tmp_path)  # where `parameters` reads it
    assert parameters("99") == {"ERA_START": "2010-01-01", "X": [1, 2]}


def test_each_fact_is_read_from_its_one_home():
    # the Table 3 cut-offs under the generator's keys and the analysis' columns
    assert design.CUTOFFS == {k: study.TABLE3_CUTOFFS[c] for k, c in study.TABLE3_CUTOFF_COLUMNS.items()}
    assert ensemble.CUTOFFS is study.TABLE3_CUTOFFS and selfcheck.TABLE3_CUTOFFS is study.TABLE3_CUTOFFS
    assert ensemble.ERA_START == study.ERA_START == str(design.ERA_START.date())
    # Table 2: one source, two shapes
    assert groups.TABLE2_CATEGORICAL is study.TABLE2_CATEGORICAL
    assert audit.TABLE2_CATEGORICAL is study.TABLE2_LEVEL_IDS
    assert list(groups.TABLE2_CATEGORICAL) == list(audit.TABLE2_CATEGORICAL)
    # the protocol and the time unit
    assert validate.MIN_SESSION_INTERVAL_DAYS == study.MIN_SESSION_INTERVAL_DAYS == 28
    assert audit.FIRST_ASSESSMENT_WEEKS * 7 == validate.RESPONSE_ASSESSMENT_DAYS == study.RESPONSE_ASSESSMENT_DAYS
    # paths
    from src import helpers, privacy, runner

    assert helpers.ROOT == privacy.ROOT == runner.ROOT == config.ROOT == ROOT


def test_the_two_sorafenib_dates_mean_two_things():
    # the validator warns only before the month the paper names; the generators start after the day
    assert validate.SORAFENIB_APPROVAL == study.SORAFENIB_APPROVAL_MONTH == "2009-05-01"
    assert str(design.SORAFENIB_APPROVAL.date()) == truth.TRUTH["sorafenib_approval"] \
        == study.SORAFENIB_APPROVED_ON == "2009-05-20"
    assert study.SORAFENIB_APPROVAL_MONTH[:7] == study.SORAFENIB_APPROVED_ON[:7]  # the same month, "May 2009"
    assert study.SORAFENIB_APPROVAL_MONTH < study.SORAFENIB_APPROVED_ON  # no generated start is ever warned about


def test_one_p_value_format():
    from src.present import tables

    for p in (0.04, 0.0004, 0.001, 0.0009999, 0.5, 1.0, 0.0445):
        journal = tables.format_p(p)
        assert survival.format_p(p) == (f"p < {journal[1:]}" if journal.startswith("<") else f"p = {journal}")
    assert survival.format_p(float("nan")) == survival.format_p(None) == "p = n/a"
    assert tables.format_p(float("nan")) == tables.format_p(None) == ""
