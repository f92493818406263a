"""The protocol's rules in the validator (issue 13, point 1): rules 8-10 of src/validate/__init__.py. They describe
this study's regimen; another institution's HAIC protocol may differ, so a deviation is a warning to
acknowledge, not an error (issue 19), and an error only under ``strict=True`` (the generators' own check).

Reference values are worked out by hand from the fixture of test_validate.py (dates below):
- P001: first HAIC 2008-01-15, progression 2009-02-01 (383 days), last follow-up 2010-03-01 (776 days), PR;
- P004: first HAIC 2006-04-01, last follow-up 2006-12-01 (244 days), no progression row, PD, 2 sessions.
Sessions are at least 28 days apart (Methods: "repeated at an interval of 4 to 6 weeks"); the response is
assessed 4 weeks after a session.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from src import validate as v
from test_validate import VALID, assert_problem, problems_of, set_cell, warnings_of, write_tables

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tables():
    return copy.deepcopy(VALID)


def test_the_fixture_passes_the_new_rules(tmp_path, tables):
    v.load_and_validate(write_tables(tmp_path, tables))


def test_sessions_need_28_days_each_until_the_last_followup(tmp_path, tables):
    # P004: 244 days of follow-up hold 1 + 244 // 28 = 9 sessions, not 10 (10 need 252 days)
    set_cell(tables, "patients", 5, "n_haic_sessions", "9")
    v.load_and_validate(write_tables(tmp_path / "nine", tables))
    set_cell(tables, "patients", 5, "n_haic_sessions", "10")
    problems = warnings_of(write_tables(tmp_path / "ten", tables))
    assert_problem(problems, "patients.csv", 5, "n_haic_sessions", "10 HAIC sessions need at least",
                   "252 days", "the last follow-up", "there are 244", "another HAIC regimen")
    assert len(problems) == 1 and problems["rule"].tolist() == [v.RULE_SESSIONS]


def test_sessions_count_until_progression_not_until_the_last_followup(tmp_path, tables):
    # P001: 383 days to progression hold 1 + 383 // 28 = 14 sessions; 15 need 392 days (776 to follow-up end)
    set_cell(tables, "patients", 2, "n_haic_sessions", "14")
    v.load_and_validate(write_tables(tmp_path / "fourteen", tables))
    set_cell(tables, "patients", 2, "n_haic_sessions", "15")
    problems = warnings_of(write_tables(tmp_path / "fifteen", tables))
    assert_problem(problems, "patients.csv", 2, "n_haic_sessions", "392 days", "to progression", "there are 383",
                   "progression_date 2009-02-01")
    assert len(problems) == 1


def test_a_response_needs_28_days_of_followup_otherwise_it_is_ne(tmp_path, tables):
    # P004 followed 2006-04-01 .. 2006-04-28: 27 days, one session; PD is impossible, NE is fine; 28 days is enough
    set_cell(tables, "patients", 5, "n_haic_sessions", "1")
    set_cell(tables, "patients", 5, "last_followup_date", "2006-04-28")
    problems = warnings_of(write_tables(tmp_path / "pd", tables))
    assert_problem(problems, "patients.csv", 5, "best_response", "PD needs a response assessment",
                   "28 days", "lasted 27 days")
    assert len(problems) == 1 and problems["rule"].tolist() == [v.RULE_RESPONSE]
    set_cell(tables, "patients", 5, "best_response", "NE")
    v.load_and_validate(write_tables(tmp_path / "ne", tables))
    set_cell(tables, "patients", 5, "best_response", "CR")
    set_cell(tables, "patients", 5, "last_followup_date", "2006-04-29")
    v.load_and_validate(write_tables(tmp_path / "day28", tables))


def test_a_pd_tumour_that_shrank_is_a_warning_to_acknowledge(tmp_path, tables):
    # P001 (baseline 45 mm, progression 50 mm) made PD; its progression size set to 44 mm, then 45 mm
    set_cell(tables, "patients", 2, "best_response", "PD")
    set_cell(tables, "progression", 2, "max_tumor_size_mm", "45")
    v.load_and_validate(write_tables(tmp_path / "equal", tables))
    set_cell(tables, "progression", 2, "max_tumor_size_mm", "44")
    folder = write_tables(tmp_path / "smaller", tables)
    with pytest.raises(v.UnacknowledgedWarnings) as info:
        v.load_and_validate(folder)
    warnings_ = info.value.problems
    assert len(warnings_) == 1
    assert_problem(warnings_, "progression.csv", 2, "max_tumor_size_mm", "44 mm at progression is smaller than 45 mm",
                   "P001", "is PD")
    v.load_and_validate(folder, accept_warnings=True)
    # a patient who responded first (PR) may progress with a smaller tumour: no warning
    set_cell(tables, "patients", 2, "best_response", "PR")
    v.load_and_validate(write_tables(tmp_path / "pr", tables))


def test_the_rules_are_skipped_without_their_optional_columns(tmp_path, tables):
    for name in ("patients", "progression"):
        header, rows = tables[name]
        for column in ("n_haic_sessions", "max_tumor_size_mm"):
            if column in header:
                k = header.index(column)
                header.pop(k)
                for row in rows:
                    row.pop(k)
    set_cell(tables, "patients", 2, "best_response", "PD")
    v.load_and_validate(write_tables(tmp_path, tables))


@pytest.mark.parametrize("folder", ["data", "data/examples/cohort250"])
def test_the_synthetic_cohorts_pass_the_protocol_rules(folder):
    tables, warnings_ = v.check_data(ROOT / folder)
    assert len(warnings_) == 0, warnings_.to_string()


def test_assign_sessions_fits_every_count_into_its_span():
    from src.synthetic.treatment import assign_sessions
    # capacities 1 + span // 28: 1, 2, 3, 8; the counts 8, 3, 2, 1 fit only one way
    out = assign_sessions([1, 2, 3, 8], [0, 30, 60, 200], preference=[3, 2, 1, 0])
    assert out.tolist() == [1, 2, 3, 8]
    # preference decides among patients who can all take a count
    assert assign_sessions([1, 2], [100, 100], preference=[0, 1]).tolist() == [1, 2]
    with pytest.raises(ValueError, match="3 HAIC sessions"):
        assign_sessions([3, 3], [60, 30], preference=[0, 0])


def test_tumour_sizes_keep_the_counts_and_never_exceed_progression():
    import numpy as np
    from src.synthetic.baseline import tumour_sizes
    rng = np.random.default_rng(1)
    small = np.array([True] * 6 + [False] * 4)
    prog = np.array([20, 30, 60, 55])  # the first four patients progressed
    out = tumour_sizes(rng, small, prog)
    assert (out < 50).sum() == 6
    assert (out[:4] <= prog).all()
    assert (out[:2] < 50).all()
