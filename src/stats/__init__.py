"""Statistics: numbers from frames, never a drawing (floor 3; no module here imports matplotlib or
`src.present`; tests/test_imports.py checks).

- `survival`: Kaplan-Meier, log-rank, Cox proportional hazards (Efron ties), follow-up, the paper's Table 3.
- `groups`: two groups compared as Table 2 does (Fisher, chi-square, Mann-Whitney), and the ids of its rows.
- `appraisal`: the analyses a reviewer asks of the sorafenib comparison (notebook 07): time-varying Cox,
  landmark, RMST, SMDs, E-values, multiplicity.
- `zph`: R's `cox.zph` test of proportional hazards.
- `competing`: Aalen-Johansen cumulative incidence with R's confidence intervals.
- `cutoffs`: log-rank p against the cut-off, and the cost of choosing it (simulation).
- `faststats`: small NumPy versions of the statistics the reconstruction evaluates thousands of times.
"""
