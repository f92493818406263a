"""The paper: its printed numbers (`data/published_results.csv`, the only file that holds them) read once, set
beside this run's, and audited against each other (floor 5).

- `published`: the printed numbers as the audit reads them, and the small readers every check shares.
- `compare`: paper vs this run for every id, the scorecard, each id described in words.
- `audit`: the audit's front (`run_audit`, its findings and plots); its checks live in `audit_counts`
  (counts, percentages, ranges), `audit_pvalues` (Table 2's tests, Table 3's Cox model), `audit_survival`
  (medians against landmarks) and `audit_text` (the words around the numbers).
"""
