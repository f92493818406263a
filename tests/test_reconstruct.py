"""The reconstruction is deterministic, exact where it promises to be, and its loss means something."""
import numpy as np
import pytest

from src import reconstruct as rc
from src.helpers import ROOT
from src.validate import load_and_validate

DATA = ROOT / "data"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebuilt")
    rc.write_cohort(rc.build_cohort(rc.DEFAULT_SEED), out)
    return out


@pytest.mark.parametrize("name", ["patients", "progression", "adverse_events"])
def test_same_seed_gives_the_committed_bytes(rebuilt, name):
    # determinism, and the committed data are what `make data` writes
    assert (rebuilt / f"{name}.csv").read_bytes() == (DATA / f"{name}.csv").read_bytes()


def test_values_with_summary_is_exact():
    rng = np.random.default_rng(0)
    v = rc.values_with_summary(rng, 19, median=1.0, lo=0.5, hi=2.8, decimals=1)
    assert (len(v), v.min(), np.median(v), v.max()) == (19, 0.5, 1.0, 2.8)
    v = rc.values_with_summary(rng, 67, 690, 6, 584820, 0, log=True, above=(500, 37))
    assert (v.min(), np.median(v), v.max(), int((v > 500).sum())) == (6, 690, 584820, 37)


def test_child_pugh_min_by_hand():
    # bilirubin 2.2 -> 2 points, albumin 3.0 -> 2, prothrombin 65% -> 2, ascites -> 2, no encephalopathy -> 1
    assert rc.child_pugh_min([2.2], [3.0], [65], ["yes"])[0] == 9
    # all normal, no ascites: 5 points
    assert rc.child_pugh_min([0.8], [4.0], [95], ["no"])[0] == 5


def test_committed_data_pass_every_validation_rule():
    tables = load_and_validate(DATA)
    assert len(tables["patients"]) > 0


def test_a_perturbed_cohort_scores_worse():
    tables = load_and_validate(DATA)
    base = rc.spp_cohort_loss(tables)
    rng = np.random.default_rng(1)
    prog = tables["progression"].copy()
    prog["salvage_treatment"] = rng.permutation(prog["salvage_treatment"].to_numpy())
    worse = rc.spp_cohort_loss({**tables, "progression": prog})
    assert worse > base


def test_distance_is_zero_inside_the_rounding_interval():
    assert rc.distance(0.0412, 0.041, 3) == 0
    assert rc.distance(0.0430, 0.041, 3) == pytest.approx((0.002 - 0.0003) / 0.001)
