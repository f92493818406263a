"""Committed results never go stale, and they are the same on every machine.

Runs the whole pipeline into a temporary folder and compares every file of it (tables, figures,
executed notebooks, report, scorecard, the runner's stamp) byte for byte with the committed
outputs/. The run happens in another folder than outputs/, so this also shows that no output
depends on where it was made: `make run` on a fresh clone leaves `git status` clean. After a
change of code or data, `make run` and commit `outputs/`.
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


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_same_set_of_files(fresh):
    assert _files(fresh) == _files(COMMITTED)


def test_every_file_is_current(fresh):
    stale = [name for name in sorted(_files(fresh))
             if (COMMITTED / name).exists() and (COMMITTED / name).read_bytes() != (fresh / name).read_bytes()]
    assert not stale, f"committed outputs differ from a fresh run (run `make run`): {stale}"


def test_every_published_number_is_in_the_scorecard(fresh):
    import pandas as pd
    published = pd.read_csv(ROOT / "data" / "published_results.csv", dtype=str)
    scorecard = pd.read_csv(fresh / "scorecard.csv", dtype=str)
    assert list(scorecard["id"]) == list(published["id"])
    assert not scorecard["status"].eq("not computed").any()
