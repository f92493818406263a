"""Reconstruct a synthetic cohort whose analysis reproduces the paper's aggregates.

The individual records of the study are not public. This module writes
`patients.csv`, `progression.csv` and `adverse_events.csv` for 67 synthetic
patients, deterministically from a seed, so that the notebooks reproduce the
published numbers read from `data/published_results.csv` (no published value is
typed here). Where printed numbers contradict each other, it follows the
best-supported reading of `src.audit`.

How (`python -m src.synthetic.reconstruct --seed 20130101 --out data`):
1. Exact construction of every marginal: counts of Table 1, of the response
   and session distributions, of the grade 3-4 toxicities, of Figure 1 and of
   Table 2; continuous variables with the exact median, minimum and maximum
   (`values_with_summary`), and the mean age (`src/synthetic/marginals.py`, `src/synthetic/baseline.py`).
2. A seeded search over the free values of each continuous variable of Table 2
   so that Student's t-test gives the printed p (`calibrate_ttests`, `src/synthetic/factors.py`).
3. The 38 patients of the survival post-progression (SPP) analysis, in stages (`src/synthetic/spp.py`):
   a. log-rank tests and the Cox model depend on the SPP times only through
      their order, so a batched simulated annealing works in rank space
      (`calibrate_ranks`, `src/synthetic/ranks.py`): many chains, each drawing several moves per sweep
      evaluated in one vectorised batch (`ranked_statistics`, `src/synthetic/ranked_fit.py`), over the order
      of the 38, their censoring and the allocation of bilirubin, albumin,
      prothrombin activity and ascites within each group (swaps keep every
      marginal exact; Child-Pugh <= 8), against a loss that counts, for the
      Cox model and the log-rank p of its three factors, how far the computed
      value lies outside the rounding interval of the printed one; then a
      lower-temperature refinement from the best state, and an iterated
      local search (`polish_ranks`, `src/synthetic/polish.py`, restarted `POLISH_KICKS` times from a
      perturbed best state, which is replaced when fewer numbers are missed):
      every single move is evaluated exactly, combinations of up to five are
      predicted by adding their effects and the best predictions evaluated
      exactly, with a loss that counts the numbers not matched;
   b. SPP days consistent with that order, with the two group medians exactly
      on the printed ones (`_spp_days`);
   c. with the times fixed, each other factor of Table 3 on its own, by
      within-group swaps, until its log-rank p is the printed one
      (`calibrate_factors`, `src/synthetic/factors.py`);
   d. times to progression for the OS log-rank test of the 38, the SPP/OS
      median ratio and the median OS of the progressive-disease group
      (`calibrate_ttp`).
4. A second annealing over the overall-survival times of the other 29
   patients, jointly with the SPP days of the 38 (order kept, median patients
   fixed) and their times to progression, for the medians and 1/2/3-year
   survival, keeping the targets of step 3d (`calibrate_os`, `src/synthetic/overall_survival.py`; a second pass
   only if a number is still outside its rounding interval).
5. Dates: first HAIC within the enrolment period, sorafenib only after its
   approval and after progression, BSC and other options in the era given by
   the flow diagram, every timeline ordered (`assign_dates`, `src/synthetic/dates.py`); the tables put together
   in `src/synthetic/assemble.py`.
6. The protocol (validate rules 8-10): a response other than NE only after 28
   days of follow-up (a bound of step 4's annealing), session counts placed on
   patients whose time to progression or follow-up holds them 28 days apart
   (`assign_sessions`, `src/synthetic/treatment.py`), a baseline tumour no larger than at progression for
   the patients with progressive disease (`tumour_sizes`, `src/synthetic/baseline.py`).
Plausibility rules (laboratory ranges, Child-Pugh score consistent with its
components, date order, the protocol) are those of `src/validate/__init__.py`; the
written data pass them without a warning.

This module is the front door: `build_cohort` runs the steps in order with one random generator,
`write_cohort` writes the tables, `main` is the command line. The targets and the distance from them are
in `src/synthetic/targets.py`, the design's assumptions (dates, cut-offs, bounds) in
`src/synthetic/design.py`; scoring a written cohort (`move_granularity`, for the scorecard) in
`src/synthetic/scoring.py`.
"""

from __future__ import annotations

import argparse
import sys
import time as _time

import numpy as np
import pandas as pd

from src import privacy
from src.config import ROOT, write_cohort_tables
from src.synthetic.assemble import cohort_tables, role_counts
from src.synthetic.factors import calibrate_ttests
from src.synthetic.overall_survival import calibrate_os
from src.synthetic.scoring import move_granularity  # noqa: F401  (the scorecard's `reconstruct.move_granularity`)
from src.synthetic.spp import calibrate_spp
from src.synthetic.targets import load_targets

DEFAULT_SEED = 20130101


def build_cohort(seed=DEFAULT_SEED, published=None, log=None) -> dict[str, pd.DataFrame]:
    """Build the three tables of the synthetic cohort (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    T, D, skip = load_targets(published)
    log = log or (lambda msg: None)
    tt = calibrate_ttests(rng, T, D)  # step 2
    s, st, loss = calibrate_spp(rng, T, D, skip, tt, log=log)  # step 3
    log(f"SPP calibration loss {loss:.3f}")
    days, event, role, ost, oloss = calibrate_os(rng, T, D, skip, s, role_counts(T), log=log)  # step 4
    log(f"OS calibration loss {oloss:.3f}")
    return cohort_tables(rng, T, s, days, event, role)  # steps 5 and 6


def write_cohort(tables: dict, out_dir) -> None:
    """Write the tables as CSV (ISO dates, no index, '\\n' line ends) and their checksum manifest
    (`privacy.write_manifest`: how a run recognises the bundled synthetic cohort by its content)."""
    privacy.write_manifest(write_cohort_tables(tables, out_dir))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.synthetic.reconstruct", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", default=str(ROOT / "data"), help="folder to write the CSV tables into")
    parser.add_argument("--published", default=None, help="published_results.csv (default data/published_results.csv)")
    args = parser.parse_args(argv)
    t0 = _time.time()
    tables = build_cohort(args.seed, args.published, log=lambda m: print(m, flush=True))
    write_cohort(tables, args.out)
    print(f"wrote {', '.join(f'{k}.csv ({len(v)} rows)' for k, v in tables.items())} to {args.out} "
          f"in {_time.time() - t0:.0f} s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
