"""Committed results never go stale: outputs/ is what the current code and data produce.

Runs the whole pipeline into a temporary folder and compares every table
(CSV) and the scorecard byte for byte with the committed ones. After a change
of code or data, `make run` and commit `outputs/`.
"""
from pathlib import Path

import pytest

from src.helpers import ROOT
from src.runner import run_pipeline

COMMITTED = ROOT / "outputs"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("fresh") / "outputs"
    run_pipeline(ROOT / "data", out, log=lambda *a, **k: None)
    return out


def _csvs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.glob("tables/*.csv")} | (
        {"scorecard.csv"} if (folder / "scorecard.csv").exists() else set())


def test_same_set_of_tables(fresh):
    assert _csvs(fresh) == _csvs(COMMITTED)


def test_tables_and_scorecard_are_current(fresh):
    stale = [name for name in sorted(_csvs(fresh))
             if (COMMITTED / name).exists() and (COMMITTED / name).read_bytes() != (fresh / name).read_bytes()]
    assert not stale, f"committed outputs differ from a fresh run (run `make run`): {stale}"


def test_every_published_number_is_in_the_scorecard(fresh):
    import pandas as pd
    published = pd.read_csv(ROOT / "data" / "published_results.csv", dtype=str)
    scorecard = pd.read_csv(fresh / "scorecard.csv", dtype=str)
    assert list(scorecard["id"]) == list(published["id"])
    assert not scorecard["status"].eq("not computed").any()
